/*
 * Necks that turn a ViT's same-resolution features into a pyramid:
 * InterpolateToPyramidal, MaxpoolToPyramidal, LearnedInterpolateToPyramidal,
 * and AddBottleneckLayer (an extra, half-width last feature for decoders
 * that want one more level).
 */
#include "models/necks/necks.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph/exec.h"
#include "models/layers.h"
#include "models/necks/neck_util.h"
#include "ops/elementwise.h"
#include "ops/resize.h"

#define BN_EPS 1e-5f

static terracl_status need_image(const struct tc_tensor *x, size_t i, terracl_error *err)
{
    if (x->ndim == 4)
        return TERRACL_OK;
    char s[128];
    return tc_fail(err, TERRACL_ERR_SHAPE, "feature %zu %s: expected [B, C, H, W]", i,
                   tc_shape_str(x->ndim, x->dims, s, sizeof s));
}

/* Creates the module and stores config + channels; destroys it on failure. */
static terracl_status finish(const char *type, const struct tc_module_vtable *vt, void *impl,
                             terracl_value *cfg, const int64_t *ch, size_t n,
                             terracl_module **out, terracl_error *err)
{
    terracl_module *m = NULL;
    terracl_status st = tc_module_create(type, vt, impl, &m, err);
    if (st != TERRACL_OK) {
        terracl_value_free(cfg);
        return st;
    }
    if ((st = tc_neck_finish(m, cfg, ch, n, err))) {
        terracl_module_destroy(m);
        return st;
    }
    *out = m;
    return TERRACL_OK;
}

/* ---- InterpolateToPyramidal --------------------------------------------- */

struct interp_pyramid {
    double scale;
    int bilinear;
};

static terracl_status interp_forward(terracl_module *m, struct tc_exec *ex,
                                     const struct tc_feats *in, struct tc_feats *out,
                                     terracl_error *err)
{
    const struct interp_pyramid *p = m->impl;
    for (size_t i = 0; i < in->n; i++) {
        const struct tc_tensor *x = &in->t[i];
        terracl_status st = need_image(x, i, err);
        if (st != TERRACL_OK)
            return st;
        /* F.interpolate(scale_factor=s): out = floor(in * s), computed in double. */
        double s = pow(p->scale, (double)(in->n - i));
        double oh = floor((double)x->dims[2] * s), ow = floor((double)x->dims[3] * s);
        if (!(oh >= 1 && ow >= 1 && oh * ow < 4294967296.0))
            return tc_fail(err, TERRACL_ERR_SHAPE,
                           "feature %zu: scaling %lldx%lld by %g gives no valid size", i,
                           (long long)x->dims[2], (long long)x->dims[3], s);
        int64_t od[4] = {x->dims[0], x->dims[1], (int64_t)oh, (int64_t)ow};
        if ((st = tc_tensor_alloc(ex->rt, 4, od, &out->t[i], err)))
            return st;
        out->n = i + 1;
        st = p->bilinear ? tc_op_resize_bilinear(ex->rt, x, 0, &out->t[i], err)
                         : tc_op_resize_nearest(ex->rt, x, s, s, &out->t[i], err);
        if (st != TERRACL_OK)
            return st;
    }
    return TERRACL_OK;
}

static const struct tc_module_vtable k_interp_vt = {interp_forward, free};

terracl_status tc_neck_interpolate_to_pyramidal(const terracl_value *first,
                                                const terracl_value *args, void *user,
                                                terracl_module **out, terracl_error *err)
{
    (void)user;
    *out = NULL;
    int64_t ch[TC_MAX_FEATS];
    size_t n = 0;
    double scale = 2;
    const char *mode = "nearest";
    terracl_status st = tc_neck_channels(first, "InterpolateToPyramidal", ch, &n, err);
    if (st == TERRACL_OK)
        st = terracl_args_float(args, "scale_factor", 2.0, &scale, err);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "mode", "nearest", &mode, err);
    /* Level i is scaled by scale_factor^i: a bound keeps those sizes finite. */
    if (st == TERRACL_OK && !(scale > 0 && scale <= 64))
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "InterpolateToPyramidal: scale_factor must be in (0, 64], got %g", scale);
    if (st == TERRACL_OK && strcmp(mode, "nearest") != 0 && strcmp(mode, "bilinear") != 0)
        st = tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                     "InterpolateToPyramidal: mode '%s' is not supported (nearest, bilinear)", mode);
    if (st != TERRACL_OK)
        return st;
    struct interp_pyramid *p = malloc(sizeof *p);
    if (p == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    p->scale = scale;
    p->bilinear = strcmp(mode, "bilinear") == 0;
    terracl_value *cfg = terracl_value_new_map();
    /* Keep an int scale an int, as TerraTorch's default is. */
    terracl_value *sv = scale == floor(scale) && scale < 1e9 ? terracl_value_new_int((int64_t)scale)
                                                              : terracl_value_new_float(scale);
    tc_value_set_chained(cfg, "scale_factor", sv, &st, err);
    tc_value_set_chained(cfg, "mode", terracl_value_new_string(mode), &st, err);
    if (st != TERRACL_OK) {
        terracl_value_free(cfg);
        free(p);
        return st;
    }
    return finish("InterpolateToPyramidal", &k_interp_vt, p, cfg, ch, n, out, err);
}

/* ---- MaxpoolToPyramidal ------------------------------------------------- */

struct maxpool_pyramid {
    int64_t kernel;
};

static terracl_status maxpool_forward(terracl_module *m, struct tc_exec *ex,
                                      const struct tc_feats *in, struct tc_feats *out,
                                      terracl_error *err)
{
    const struct maxpool_pyramid *p = m->impl;
    int64_t k = 1;
    for (size_t i = 0; i < in->n; i++) {
        const struct tc_tensor *x = &in->t[i];
        terracl_status st;
        if (i == 0) { /* TerraTorch clones the first feature */
            if ((st = tc_neck_copy(ex->rt, x, &out->t[0], err)))
                return st;
            out->n = 1;
            continue;
        }
        if ((st = need_image(x, i, err)))
            return st;
        k *= p->kernel;
        if (k > x->dims[2] || k > x->dims[3])
            return tc_fail(err, TERRACL_ERR_SHAPE,
                           "feature %zu: a %lldx%lld input is smaller than the pooling window %lld",
                           i, (long long)x->dims[2], (long long)x->dims[3], (long long)k);
        int64_t od[4] = {x->dims[0], x->dims[1], x->dims[2] / k, x->dims[3] / k};
        if ((st = tc_tensor_alloc(ex->rt, 4, od, &out->t[i], err)))
            return st;
        out->n = i + 1;
        if ((st = tc_op_max_pool2d(ex->rt, x, k, k, &out->t[i], err)))
            return st;
    }
    return TERRACL_OK;
}

static const struct tc_module_vtable k_maxpool_vt = {maxpool_forward, free};

terracl_status tc_neck_maxpool_to_pyramidal(const terracl_value *first, const terracl_value *args,
                                            void *user, terracl_module **out, terracl_error *err)
{
    (void)user;
    *out = NULL;
    int64_t ch[TC_MAX_FEATS], kernel = 2;
    size_t n = 0;
    terracl_status st = tc_neck_channels(first, "MaxpoolToPyramidal", ch, &n, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "kernel_size", 2, &kernel, err);
    if (st == TERRACL_OK && (kernel < 1 || kernel > 65536))
        st = tc_fail(err, TERRACL_ERR_CONFIG, "MaxpoolToPyramidal: kernel_size %lld is invalid",
                     (long long)kernel);
    if (st != TERRACL_OK)
        return st;
    struct maxpool_pyramid *p = malloc(sizeof *p);
    if (p == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    p->kernel = kernel;
    terracl_value *cfg = terracl_value_new_map();
    tc_value_set_chained(cfg, "kernel_size", terracl_value_new_int(kernel), &st, err);
    if (st != TERRACL_OK) {
        terracl_value_free(cfg);
        free(p);
        return st;
    }
    return finish("MaxpoolToPyramidal", &k_maxpool_vt, p, cfg, ch, n, out, err);
}

/* ---- LearnedInterpolateToPyramidal -------------------------------------- */

struct learned_pyramid {
    struct tc_conv_transpose2d up1a, up1b, up2;
    struct tc_batchnorm2d bn1;
};

/* fpn1: ConvT -> BN (folded into the ConvT at bind time) -> GELU -> ConvT
 * (x4). */
static terracl_status fpn1(terracl_module *m, terracl_runtime *rt, const struct learned_pyramid *p,
                           const struct tc_tensor *x, struct tc_tensor *y, terracl_error *err)
{
    struct tc_tensor mid;
    terracl_status st = tc_layer_conv_transpose2d_bn_run(m, rt, &p->up1a, &p->bn1, x, &mid, err);
    if (st != TERRACL_OK)
        return st;
    if ((st = tc_op_gelu(rt, &mid, &mid, err)) == TERRACL_OK)
        st = tc_layer_conv_transpose2d_run(m, rt, &p->up1b, &mid, y, err);
    tc_tensor_free(&mid);
    return st;
}

static terracl_status learned_forward(terracl_module *m, struct tc_exec *ex,
                                      const struct tc_feats *in, struct tc_feats *out,
                                      terracl_error *err)
{
    const struct learned_pyramid *p = m->impl;
    terracl_runtime *rt = ex->rt;
    if (in->n != 4)
        return tc_fail(err, TERRACL_ERR_SHAPE, "expected exactly 4 features, got %zu", in->n);
    for (size_t i = 0; i < 4; i++) {
        terracl_status st = need_image(&in->t[i], i, err);
        if (st != TERRACL_OK)
            return st;
    }
    const struct tc_tensor *x3 = &in->t[3];
    if (x3->dims[2] < 2 || x3->dims[3] < 2)
        return tc_fail(err, TERRACL_ERR_SHAPE, "feature 3 is %lldx%lld, too small for MaxPool2d(2)",
                       (long long)x3->dims[2], (long long)x3->dims[3]);
    terracl_status st = fpn1(m, rt, p, &in->t[0], &out->t[0], err);
    if (st != TERRACL_OK)
        return tc_fail_context(err, st, "fpn1");
    out->n = 1;
    if ((st = tc_layer_conv_transpose2d_run(m, rt, &p->up2, &in->t[1], &out->t[1], err)))
        return tc_fail_context(err, st, "fpn2");
    out->n = 2;
    if ((st = tc_neck_copy(rt, &in->t[2], &out->t[2], err)))
        return st;
    out->n = 3;
    int64_t od[4] = {x3->dims[0], x3->dims[1], x3->dims[2] / 2, x3->dims[3] / 2};
    if ((st = tc_tensor_alloc(rt, 4, od, &out->t[3], err)))
        return st;
    out->n = 4;
    return tc_op_max_pool2d(rt, x3, 2, 2, &out->t[3], err);
}

static const struct tc_module_vtable k_learned_vt = {learned_forward, free};

terracl_status tc_neck_learned_interpolate_to_pyramidal(const terracl_value *first,
                                                        const terracl_value *args, void *user,
                                                        terracl_module **out, terracl_error *err)
{
    (void)user;
    (void)args;
    *out = NULL;
    int64_t ch[TC_MAX_FEATS];
    size_t n = 0;
    terracl_status st = tc_neck_channels(first, "LearnedInterpolateToPyramidal", ch, &n, err);
    if (st != TERRACL_OK)
        return st;
    if (n != 4)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "LearnedInterpolateToPyramidal: this neck handles exactly 4 input "
                       "embeddings, got %zu",
                       n);
    if (ch[0] < 4 || ch[1] < 2)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "LearnedInterpolateToPyramidal: channels %lld and %lld are too few to "
                       "divide by 4 and 2",
                       (long long)ch[0], (long long)ch[1]);
    struct learned_pyramid *p = calloc(1, sizeof *p);
    if (p == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    terracl_module *m = NULL;
    if ((st = tc_module_create("LearnedInterpolateToPyramidal", &k_learned_vt, p, &m, err)))
        return st;
    int64_t c0 = ch[0], c1 = ch[1];
    int64_t outc[4] = {c0 / 4, c1 / 2, ch[2], ch[3]};
    if ((st = tc_layer_conv_transpose2d(m, "fpn1.0", c0, c0 / 2, 2, 2, 0, 0, 1, &p->up1a, err)) ||
        (st = tc_layer_batchnorm2d(m, "fpn1.1", c0 / 2, BN_EPS, &p->bn1, err)) ||
        (st = tc_layer_fold_batchnorm_transpose(m, &p->up1a, &p->bn1, err)) ||
        (st = tc_layer_conv_transpose2d(m, "fpn1.3", c0 / 2, c0 / 4, 2, 2, 0, 0, 1, &p->up1b,
                                        err)) ||
        (st = tc_layer_conv_transpose2d(m, "fpn2.0", c1, c1 / 2, 2, 2, 0, 0, 1, &p->up2, err)) ||
        (st = tc_neck_finish(m, terracl_value_new_map(), outc, 4, err))) {
        terracl_module_destroy(m);
        return st;
    }
    *out = m;
    return TERRACL_OK;
}

/* ---- AddBottleneckLayer ------------------------------------------------- */

struct bottleneck {
    struct tc_conv2d conv;
};

static terracl_status bottleneck_forward(terracl_module *m, struct tc_exec *ex,
                                         const struct tc_feats *in, struct tc_feats *out,
                                         terracl_error *err)
{
    const struct bottleneck *p = m->impl;
    if (in->n == 0 || in->n >= TC_MAX_FEATS)
        return tc_fail(err, TERRACL_ERR_SHAPE, "expected 1..%d features, got %zu",
                       TC_MAX_FEATS - 1, in->n);
    terracl_status st;
    for (size_t i = 0; i < in->n; i++) {
        if ((st = tc_neck_copy(ex->rt, &in->t[i], &out->t[i], err)))
            return st;
        out->n = i + 1;
    }
    if ((st = tc_layer_conv2d_run(m, ex->rt, &p->conv, &in->t[in->n - 1], &out->t[in->n], err)))
        return tc_fail_context(err, st, "bottleneck");
    out->n = in->n + 1;
    return TERRACL_OK;
}

static const struct tc_module_vtable k_bottleneck_vt = {bottleneck_forward, free};

terracl_status tc_neck_add_bottleneck_layer(const terracl_value *first, const terracl_value *args,
                                            void *user, terracl_module **out, terracl_error *err)
{
    (void)user;
    (void)args;
    *out = NULL;
    int64_t ch[TC_MAX_FEATS];
    size_t n = 0;
    terracl_status st = tc_neck_channels(first, "AddBottleneckLayer", ch, &n, err);
    if (st != TERRACL_OK)
        return st;
    int64_t c = ch[n - 1];
    if (n + 1 > TC_MAX_FEATS || c < 2)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "AddBottleneckLayer: cannot halve %lld channels into an extra feature",
                       (long long)c);
    struct bottleneck *p = calloc(1, sizeof *p);
    if (p == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    terracl_module *m = NULL;
    if ((st = tc_module_create("AddBottleneckLayer", &k_bottleneck_vt, p, &m, err)))
        return st;
    ch[n] = c / 2;
    if ((st = tc_layer_conv2d(m, "bottleneck", c, c / 2, 1, 1, 0, 1, 1, &p->conv, err)) ||
        (st = tc_neck_finish(m, terracl_value_new_map(), ch, n + 1, err))) {
        terracl_module_destroy(m);
        return st;
    }
    *out = m;
    return TERRACL_OK;
}

/* Reusable PyTorch layers: parameter declarations under a state_dict prefix, and forward. */
#include "models/layers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/checked.h"
#include "ops/conv_winograd.h"
#include "ops/linear.h"
#include "ops/conv_pair.h"

/* "<prefix>.<leaf>", or just the leaf when the prefix is empty. */
static terracl_status full_name(const char *prefix, const char *leaf, char *buf, size_t cap,
                                terracl_error *err)
{
    int n = prefix && prefix[0] ? snprintf(buf, cap, "%s.%s", prefix, leaf)
                                : snprintf(buf, cap, "%s", leaf);
    if (n < 0 || (size_t)n >= cap)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "parameter name %s.%s is too long",
                       prefix ? prefix : "", leaf);
    return TERRACL_OK;
}

static terracl_status add(terracl_module *m, const char *prefix, const char *leaf, int buffer,
                          int ndim, const int64_t *dims, size_t *index, terracl_error *err)
{
    char name[256];
    terracl_status st = full_name(prefix, leaf, name, sizeof name, err);
    if (st != TERRACL_OK)
        return st;
    return buffer ? tc_module_add_buffer(m, name, ndim, dims, index, err)
                  : tc_module_add_param(m, name, ndim, dims, index, err);
}

static int positive(int64_t a, int64_t b, int64_t c) { return a > 0 && b > 0 && c > 0; }

static struct tc_tensor *value(terracl_module *m, size_t index)
{
    return &tc_module_param(m, index)->value;
}

static terracl_status alloc4(terracl_runtime *rt, int64_t b, int64_t c, int64_t h, int64_t w,
                             struct tc_tensor *y, terracl_error *err)
{
    int64_t dims[4] = {b, c, h, w};
    return tc_tensor_alloc(rt, 4, dims, y, err);
}

static terracl_status check_input(const struct tc_tensor *x, int64_t channels, const char *what,
                                  terracl_error *err)
{
    if (x->ndim != 4 || x->dims[1] != channels) {
        char s[128];
        return tc_fail(err, TERRACL_ERR_SHAPE, "%s expects [B, %lld, H, W], got %s", what,
                       (long long)channels, tc_shape_str(x->ndim, x->dims, s, sizeof s));
    }
    return TERRACL_OK;
}

/* ---- Conv2d ------------------------------------------------------------ */

void tc_layer_conv2d_set_geometry(terracl_module *m, struct tc_conv2d *c,
                                  struct tc_conv_geom geom)
{
    c->geom = geom;
    /* What the binder may store for the weight follows from the geometry:
     * the packed layout, and the Winograd form that replaces it. */
    struct tc_param *p = tc_module_param(m, c->w);
    p->gemm_weight = TC_PLAIN;
    p->derive = NULL;
    p->derived_numel = 0;
    p->derived_replaces = 0;
    if (tc_conv2d_weight_packable(c->out, c->in, c->kh, c->kw, &geom))
        tc_module_mark_conv_weight(m, c->w);
    if (tc_conv2d_winograd_eligible(c->out, c->in, c->kh, c->kw, &geom)) {
        p->derive = tc_conv2d_winograd_derive;
        p->derived_numel = tc_conv2d_winograd_numel(c->out, c->in);
        p->derived_replaces = 1;
    }
}

terracl_status tc_layer_conv2d(terracl_module *m, const char *prefix, int64_t in, int64_t out,
                               int64_t k, int64_t stride, int64_t pad, int64_t dilation, int bias,
                               struct tc_conv2d *c, terracl_error *err)
{
    if (!positive(in, out, k) || stride < 1 || dilation < 1 || pad < 0)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "%s: Conv2d(%lld, %lld, kernel %lld, stride %lld, padding %lld, dilation "
                       "%lld) is invalid",
                       prefix, (long long)in, (long long)out, (long long)k, (long long)stride,
                       (long long)pad, (long long)dilation);
    c->in = in;
    c->out = out;
    c->kh = c->kw = k;
    c->geom = (struct tc_conv_geom){stride, stride, pad, pad, dilation, dilation};
    c->has_bias = bias;
    int64_t wd[4] = {out, in, k, k};
    terracl_status st = add(m, prefix, "weight", 0, 4, wd, &c->w, err);
    if (st == TERRACL_OK)
        tc_layer_conv2d_set_geometry(m, c, c->geom);
    if (st == TERRACL_OK && bias)
        st = add(m, prefix, "bias", 0, 1, &out, &c->b, err);
    return st;
}

/* Checks x against c and gives the layer's output dims on it, [B, out, Ho, Wo]. */
static terracl_status conv2d_output_dims(const struct tc_conv2d *c, const struct tc_tensor *x,
                                         int64_t dims[4], terracl_error *err)
{
    terracl_status st = check_input(x, c->in, "Conv2d", err);
    if (st != TERRACL_OK)
        return st;
    const struct tc_conv_geom *g = &c->geom;
    int64_t ho = (x->dims[2] + 2 * g->pad_h - g->dil_h * (c->kh - 1) - 1) / g->stride_h + 1;
    int64_t wo = (x->dims[3] + 2 * g->pad_w - g->dil_w * (c->kw - 1) - 1) / g->stride_w + 1;
    if (x->dims[2] + 2 * g->pad_h < g->dil_h * (c->kh - 1) + 1 ||
        x->dims[3] + 2 * g->pad_w < g->dil_w * (c->kw - 1) + 1) {
        char s[128];
        return tc_fail(err, TERRACL_ERR_SHAPE, "Conv2d: input %s is smaller than its %lldx%lld kernel",
                       tc_shape_str(x->ndim, x->dims, s, sizeof s), (long long)c->kh,
                       (long long)c->kw);
    }
    dims[0] = x->dims[0];
    dims[1] = c->out;
    dims[2] = ho;
    dims[3] = wo;
    return TERRACL_OK;
}

/* The same, and allocates y with that shape. */
static terracl_status conv2d_output(terracl_runtime *rt, const struct tc_conv2d *c,
                                    const struct tc_tensor *x, struct tc_tensor *y,
                                    terracl_error *err)
{
    int64_t dims[4];
    terracl_status st = conv2d_output_dims(c, x, dims, err);
    return st ? st : tc_tensor_alloc(rt, 4, dims, y, err);
}

terracl_status tc_layer_conv2d_run(terracl_module *m, terracl_runtime *rt,
                                   const struct tc_conv2d *c, const struct tc_tensor *x,
                                   struct tc_tensor *y, terracl_error *err)
{
    terracl_status st = conv2d_output(rt, c, x, y, err);
    if (st != TERRACL_OK)
        return st;
    st = tc_op_conv2d(rt, x, value(m, c->w), c->has_bias ? value(m, c->b) : NULL, &c->geom, y,
                      err);
    if (st != TERRACL_OK)
        tc_tensor_free(y);
    return st;
}

/* ---- Conv2d + BatchNorm2d, folded -------------------------------------- */

/* What the fold hook needs: parameter indices and sizes (a copy, owned by
 * the module's hook list). */
struct bn_fold {
    size_t w, b, gamma, beta, mean, var;
    int has_bias;
    /* The weight has `numel` elements; element i feeds output channel
     * (i / inner) % out: Conv2d [out, in kh kw] has inner = in kh kw,
     * ConvTranspose2d [in, out, k, k] has inner = k k. */
    int64_t out, numel, inner;
    float eps;
};

static terracl_status fold_hook(terracl_module *m, terracl_runtime *rt, const void *user,
                                terracl_error *err)
{
    const struct bn_fold *f = user;
    size_t out = (size_t)f->out, numel = (size_t)f->numel, inner = (size_t)f->inner;
    float *w = malloc(numel * sizeof *w);
    double *scale = malloc(out * sizeof *scale);
    float *v = malloc(5 * out * sizeof *v);
    terracl_status st = TERRACL_OK;
    if (w == NULL || v == NULL || scale == NULL) {
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory folding a BatchNorm");
        goto done;
    }
    float *gamma = v, *beta = v + out, *mean = v + 2 * out, *var = v + 3 * out,
          *bias = v + 4 * out;
    if ((st = tc_tensor_download(rt, value(m, f->w), w, err)) ||
        (st = tc_tensor_download(rt, value(m, f->gamma), gamma, err)) ||
        (st = tc_tensor_download(rt, value(m, f->beta), beta, err)) ||
        (st = tc_tensor_download(rt, value(m, f->mean), mean, err)) ||
        (st = tc_tensor_download(rt, value(m, f->var), var, err)) ||
        (f->has_bias && (st = tc_tensor_download(rt, value(m, f->b), bias, err))))
        goto done;
    /* In double, rounded once: the folded convolution then differs from
     * conv-then-normalise only by the order of float rounding. */
    for (size_t co = 0; co < out; co++) {
        scale[co] = (double)gamma[co] / sqrt((double)var[co] + (double)f->eps);
        double b = f->has_bias ? bias[co] : 0.0;
        beta[co] = (float)((double)beta[co] + (b - (double)mean[co]) * scale[co]);
    }
    for (size_t i = 0; i < numel; i++)
        w[i] = (float)((double)w[i] * scale[(i / inner) % out]);
    if ((st = tc_tensor_upload(rt, value(m, f->w), w, err)) == TERRACL_OK)
        st = tc_tensor_upload(rt, value(m, f->beta), beta, err);
done:
    free(w);
    free(v);
    free(scale);
    return st;
}

terracl_status tc_layer_fold_batchnorm(terracl_module *m, const struct tc_conv2d *c,
                                       const struct tc_batchnorm2d *bn, terracl_error *err)
{
    if (bn->channels != c->out)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "BatchNorm2d(%lld) cannot follow a Conv2d with %lld output channels",
                       (long long)bn->channels, (long long)c->out);
    struct bn_fold f = {c->w,    c->has_bias ? c->b : 0,
                        bn->w,   bn->b,
                        bn->mean, bn->var,
                        c->has_bias, c->out,
                        c->out * c->in * c->kh * c->kw, c->in * c->kh * c->kw,
                        bn->eps};
    return tc_module_add_bind_hook(m, fold_hook, &f, sizeof f, err);
}

terracl_status tc_layer_fold_batchnorm_transpose(terracl_module *m,
                                                 const struct tc_conv_transpose2d *c,
                                                 const struct tc_batchnorm2d *bn,
                                                 terracl_error *err)
{
    if (bn->channels != c->out)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "BatchNorm2d(%lld) cannot follow a ConvTranspose2d with %lld output "
                       "channels",
                       (long long)bn->channels, (long long)c->out);
    struct bn_fold f = {c->w,    c->has_bias ? c->b : 0,
                        bn->w,   bn->b,
                        bn->mean, bn->var,
                        c->has_bias, c->out,
                        c->in * c->out * c->k * c->k, c->k * c->k,
                        bn->eps};
    return tc_module_add_bind_hook(m, fold_hook, &f, sizeof f, err);
}

terracl_status tc_layer_conv_transpose2d_bn_run(terracl_module *m, terracl_runtime *rt,
                                                const struct tc_conv_transpose2d *c,
                                                const struct tc_batchnorm2d *bn,
                                                const struct tc_tensor *x, struct tc_tensor *y,
                                                terracl_error *err)
{
    /* The same as the plain layer with the BatchNorm's bias (the folded
     * shift) as the bias. */
    struct tc_conv_transpose2d folded = *c;
    folded.has_bias = 1;
    folded.b = bn->b;
    return tc_layer_conv_transpose2d_run(m, rt, &folded, x, y, err);
}

terracl_status tc_layer_conv2d_bn_run(terracl_module *m, terracl_runtime *rt,
                                      const struct tc_conv2d *c, const struct tc_batchnorm2d *bn,
                                      int relu, const struct tc_tensor *x, struct tc_tensor *y,
                                      terracl_error *err)
{
    terracl_status st = conv2d_output(rt, c, x, y, err);
    if (st != TERRACL_OK)
        return st;
    /* The BatchNorm's bias holds the folded shift (fold_hook). */
    st = tc_op_conv2d_act(rt, x, value(m, c->w), value(m, bn->b), &c->geom, relu, y, err);
    if (st != TERRACL_OK)
        tc_tensor_free(y);
    return st;
}

terracl_status tc_layer_conv2d_bn_run_into(terracl_module *m, terracl_runtime *rt,
                                           const struct tc_conv2d *c,
                                           const struct tc_batchnorm2d *bn, int relu,
                                           const struct tc_tensor *x, struct tc_tensor *y,
                                           terracl_error *err)
{
    return tc_op_conv2d_act(rt, x, value(m, c->w), value(m, bn->b), &c->geom, relu, y, err);
}

terracl_status tc_layer_conv2d_bn_accumulate(terracl_module *m, terracl_runtime *rt,
                                             const struct tc_conv2d *c,
                                             const struct tc_batchnorm2d *bn, int relu,
                                             const struct tc_tensor *x, struct tc_tensor *y,
                                             terracl_error *err)
{
    return tc_op_conv2d_accumulate(rt, x, value(m, c->w), value(m, bn->b), &c->geom, relu, y,
                                   err);
}

terracl_status tc_layer_conv2d_bn_relu_pair(terracl_module *m, terracl_runtime *rt,
                                            const struct tc_conv2d *c1,
                                            const struct tc_batchnorm2d *bn1,
                                            const struct tc_conv2d *c2,
                                            const struct tc_batchnorm2d *bn2,
                                            const struct tc_tensor *up, const struct tc_tensor *x,
                                            struct tc_tensor *y, terracl_error *err)
{
    struct tc_tensor joined = *x;
    if (up != NULL) {
        if (up->ndim != 4 || x->ndim != 4) {
            char s1[128], s2[128];
            return tc_fail(err, TERRACL_ERR_SHAPE, "Conv2d: cannot join %s with skip %s",
                           tc_shape_str(up->ndim, up->dims, s1, sizeof s1),
                           tc_shape_str(x->ndim, x->dims, s2, sizeof s2));
        }
        joined.dims[1] = up->dims[1] + x->dims[1];
    }
    /* The output's size: the second layer's on the first one's. */
    struct tc_tensor mid = joined;
    terracl_status st = conv2d_output_dims(c1, &joined, mid.dims, err);
    if (st == TERRACL_OK)
        st = conv2d_output(rt, c2, &mid, y, err);
    if (st != TERRACL_OK)
        return st;
    /* The BatchNorms' biases hold the folded shifts (fold_hook). */
    st = tc_op_conv2d_pair(rt, up, x, value(m, c1->w), value(m, bn1->b), &c1->geom,
                           value(m, c2->w), value(m, bn2->b), &c2->geom, 1, y, err);
    if (st != TERRACL_OK)
        tc_tensor_free(y);
    return st;
}

/* ---- ConvTranspose2d --------------------------------------------------- */

terracl_status tc_layer_conv_transpose2d(terracl_module *m, const char *prefix, int64_t in,
                                         int64_t out, int64_t k, int64_t stride, int64_t pad,
                                         int64_t output_padding, int bias,
                                         struct tc_conv_transpose2d *c, terracl_error *err)
{
    if (!positive(in, out, k) || stride < 1 || pad < 0 || output_padding < 0 ||
        output_padding >= stride)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "%s: ConvTranspose2d(%lld, %lld, kernel %lld, stride %lld, padding %lld, "
                       "output_padding %lld) is invalid",
                       prefix, (long long)in, (long long)out, (long long)k, (long long)stride,
                       (long long)pad, (long long)output_padding);
    c->in = in;
    c->out = out;
    c->k = k;
    c->stride = stride;
    c->pad = pad;
    c->output_padding = output_padding;
    c->has_bias = bias;
    int64_t wd[4] = {in, out, k, k};
    terracl_status st = add(m, prefix, "weight", 0, 4, wd, &c->w, err);
    /* Kernel = stride, no padding: one GEMM whose weight streams from
     * packed panels where the device packs (the direct CPU kernel). */
    if (st == TERRACL_OK && tc_conv_transpose2d_weight_packable(in, out, k, stride, pad,
                                                                output_padding))
        tc_module_mark_conv_transpose_weight(m, c->w);
    if (st == TERRACL_OK && bias)
        st = add(m, prefix, "bias", 0, 1, &out, &c->b, err);
    return st;
}

terracl_status tc_layer_conv_transpose2d_run(terracl_module *m, terracl_runtime *rt,
                                             const struct tc_conv_transpose2d *c,
                                             const struct tc_tensor *x, struct tc_tensor *y,
                                             terracl_error *err)
{
    terracl_status st = check_input(x, c->in, "ConvTranspose2d", err);
    if (st != TERRACL_OK)
        return st;
    int64_t ho = (x->dims[2] - 1) * c->stride - 2 * c->pad + c->k + c->output_padding;
    int64_t wo = (x->dims[3] - 1) * c->stride - 2 * c->pad + c->k + c->output_padding;
    if (ho < 1 || wo < 1) {
        char s[128];
        return tc_fail(err, TERRACL_ERR_SHAPE, "ConvTranspose2d: input %s leaves no output",
                       tc_shape_str(x->ndim, x->dims, s, sizeof s));
    }
    if ((st = alloc4(rt, x->dims[0], c->out, ho, wo, y, err)))
        return st;
    st = tc_op_conv_transpose2d(rt, x, value(m, c->w), c->has_bias ? value(m, c->b) : NULL,
                                c->stride, c->pad, c->output_padding, y, err);
    if (st != TERRACL_OK)
        tc_tensor_free(y);
    return st;
}

/* ---- BatchNorm2d ------------------------------------------------------- */

terracl_status tc_layer_batchnorm2d(terracl_module *m, const char *prefix, int64_t channels,
                                    float eps, struct tc_batchnorm2d *bn, terracl_error *err)
{
    if (channels < 1 || !(eps >= 0.0f))
        return tc_fail(err, TERRACL_ERR_CONFIG, "%s: BatchNorm2d(%lld, eps=%g) is invalid", prefix,
                       (long long)channels, (double)eps);
    bn->channels = channels;
    bn->eps = eps;
    terracl_status st;
    if ((st = add(m, prefix, "weight", 0, 1, &channels, &bn->w, err)) ||
        (st = add(m, prefix, "bias", 0, 1, &channels, &bn->b, err)) ||
        (st = add(m, prefix, "running_mean", 1, 1, &channels, &bn->mean, err)) ||
        (st = add(m, prefix, "running_var", 1, 1, &channels, &bn->var, err)))
        return st;
    return TERRACL_OK;
}

terracl_status tc_layer_batchnorm2d_run(terracl_module *m, terracl_runtime *rt,
                                        const struct tc_batchnorm2d *bn, struct tc_tensor *x,
                                        terracl_error *err)
{
    if (x->ndim < 2 || x->dims[1] != bn->channels) {
        char s[128];
        return tc_fail(err, TERRACL_ERR_SHAPE, "BatchNorm2d(%lld) got input %s",
                       (long long)bn->channels, tc_shape_str(x->ndim, x->dims, s, sizeof s));
    }
    return tc_op_batchnorm(rt, x, value(m, bn->mean), value(m, bn->var), value(m, bn->w),
                           value(m, bn->b), bn->eps, x, err);
}

/* ---- ConvModule -------------------------------------------------------- */

terracl_status tc_layer_conv_module(terracl_module *m, const char *prefix, int64_t in,
                                    int64_t out, int64_t k, int64_t pad, int64_t dilation,
                                    struct tc_conv_module *c, terracl_error *err)
{
    char conv[256], norm[256];
    terracl_status st;
    if ((st = full_name(prefix, "conv", conv, sizeof conv, err)) ||
        (st = full_name(prefix, "norm", norm, sizeof norm, err)) ||
        (st = tc_layer_conv2d(m, conv, in, out, k, 1, pad, dilation, 0, &c->conv, err)) ||
        (st = tc_layer_batchnorm2d(m, norm, out, 1e-5f, &c->norm, err)) ||
        (st = tc_layer_fold_batchnorm(m, &c->conv, &c->norm, err)))
        return st;
    return TERRACL_OK;
}

terracl_status tc_layer_conv_module_run(terracl_module *m, terracl_runtime *rt,
                                        const struct tc_conv_module *c, const struct tc_tensor *x,
                                        struct tc_tensor *y, terracl_error *err)
{
    return tc_layer_conv2d_bn_run(m, rt, &c->conv, &c->norm, 1, x, y, err);
}

terracl_status tc_layer_conv_module_run_into(terracl_module *m, terracl_runtime *rt,
                                             const struct tc_conv_module *c,
                                             const struct tc_tensor *x, struct tc_tensor *y,
                                             terracl_error *err)
{
    return tc_layer_conv2d_bn_run_into(m, rt, &c->conv, &c->norm, 1, x, y, err);
}

/* What the layer-scale fold hook needs (a copy owned by the hook list). */
struct scale_fold {
    size_t w, b, gamma;
    int has_bias;
    int64_t out, in;
};

static terracl_status scale_fold_hook(terracl_module *m, terracl_runtime *rt, const void *user,
                                      terracl_error *err)
{
    const struct scale_fold *f = user;
    size_t out = (size_t)f->out, in = (size_t)f->in, numel = 0;
    if (tc_mul_overflow(out, in, &numel) || tc_tensor_numel(value(m, f->w)) != numel ||
        tc_tensor_numel(value(m, f->gamma)) != out ||
        (f->has_bias && tc_tensor_numel(value(m, f->b)) != out))
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "a layer scale of %zu channels does not fit a Linear(%zu, %zu)",
                       tc_tensor_numel(value(m, f->gamma)), in, out);
    float *w = malloc(numel * sizeof *w), *v = malloc(2 * out * sizeof *v);
    terracl_status st = TERRACL_OK;
    if (w == NULL || v == NULL) {
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory folding a layer scale");
        goto done;
    }
    float *gamma = v, *bias = v + out;
    if ((st = tc_tensor_download(rt, value(m, f->w), w, err)) ||
        (st = tc_tensor_download(rt, value(m, f->gamma), gamma, err)) ||
        (f->has_bias && (st = tc_tensor_download(rt, value(m, f->b), bias, err))))
        goto done;
    for (size_t o = 0; o < out; o++) {
        for (size_t i = 0; i < in; i++)
            w[o * in + i] *= gamma[o];
        bias[o] *= gamma[o];
    }
    if ((st = tc_tensor_upload(rt, value(m, f->w), w, err)) == TERRACL_OK && f->has_bias)
        st = tc_tensor_upload(rt, value(m, f->b), bias, err);
done:
    free(w);
    free(v);
    return st;
}

terracl_status tc_layer_fold_layer_scale(terracl_module *m, const struct tc_linear *l,
                                         size_t gamma, terracl_error *err)
{
    struct scale_fold f = {l->w, l->has_bias ? l->b : 0, gamma, l->has_bias, l->out, l->in};
    return tc_module_add_bind_hook(m, scale_fold_hook, &f, sizeof f, err);
}

/* ---- Linear ------------------------------------------------------------ */

terracl_status tc_layer_linear(terracl_module *m, const char *prefix, int64_t in, int64_t out,
                               int bias, struct tc_linear *l, terracl_error *err)
{
    if (in < 1 || out < 1)
        return tc_fail(err, TERRACL_ERR_CONFIG, "%s: Linear(%lld, %lld) is invalid", prefix,
                       (long long)in, (long long)out);
    l->in = in;
    l->out = out;
    l->has_bias = bias;
    int64_t wd[2] = {out, in};
    terracl_status st = add(m, prefix, "weight", 0, 2, wd, &l->w, err);
    if (st == TERRACL_OK)
        tc_module_mark_gemm_weight(m, l->w);
    if (st == TERRACL_OK && bias)
        st = add(m, prefix, "bias", 0, 1, &out, &l->b, err);
    return st;
}

terracl_status tc_layer_linear_run(terracl_module *m, terracl_runtime *rt,
                                   const struct tc_linear *l, const struct tc_tensor *x,
                                   struct tc_tensor *y, terracl_error *err)
{
    if (x->ndim < 1 || x->dims[x->ndim - 1] != l->in) {
        char s[128];
        return tc_fail(err, TERRACL_ERR_SHAPE, "Linear(%lld, %lld) got input %s", (long long)l->in,
                       (long long)l->out, tc_shape_str(x->ndim, x->dims, s, sizeof s));
    }
    int64_t dims[TC_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++)
        dims[i] = x->dims[i];
    dims[x->ndim - 1] = l->out;
    terracl_status st = tc_tensor_alloc(rt, x->ndim, dims, y, err);
    if (st != TERRACL_OK)
        return st;
    st = tc_op_linear(rt, x, value(m, l->w), l->has_bias ? value(m, l->b) : NULL, y, err);
    if (st != TERRACL_OK)
        tc_tensor_free(y);
    return st;
}

/* smp decoder building blocks: plain/separable convolutions and Conv-BN-ReLU. */
#include "models/decoders/smp_blocks.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "models/decoders/common.h"
#include "ops/conv.h"
#include "ops/dwconv.h"
#include "ops/elementwise.h"

terracl_status smp_name(char *buf, size_t cap, const char *prefix, const char *name,
                        terracl_error *err)
{
    int n = snprintf(buf, cap, "%s%s", prefix, name);
    if (n < 0 || (size_t)n >= cap)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "parameter name %s%s is too long", prefix,
                       name);
    return TERRACL_OK;
}

terracl_status smp_conv_declare(terracl_module *m, const char *name, int64_t in, int64_t out,
                                int64_t k, int64_t pad, int64_t dilation, int bias,
                                int separable, struct smp_conv *c, terracl_error *err)
{
    c->separable = separable;
    if (!separable)
        return tc_layer_conv2d(m, name, in, out, k, 1, pad, dilation, bias, &c->conv, err);
    char sub[256];
    terracl_status st = smp_name(sub, sizeof sub, name, ".0.weight", err);
    if (st != TERRACL_OK)
        return st;
    if (in < 1 || k < 1 || pad < 0 || dilation < 1)
        return tc_fail(err, TERRACL_ERR_CONFIG, "%s: invalid separable convolution", name);
    int64_t dims[4] = {in, 1, k, k};
    c->dw_geom = (struct tc_conv_geom){1, 1, pad, pad, dilation, dilation};
    if ((st = tc_module_add_param(m, sub, 4, dims, &c->dw, err)))
        return st;
    if ((st = smp_name(sub, sizeof sub, name, ".1", err)))
        return st;
    return tc_layer_conv2d(m, sub, in, out, 1, 1, 0, 1, bias, &c->conv, err);
}

/* The convolution, or with bn the convolution with that BatchNorm folded
 * into it (and ReLU when relu) in its epilogue: a separable one folds into
 * its pointwise half, which the BatchNorm follows. */
/* into: y was allocated by the caller (with bn only). */
static terracl_status conv_maybe_bn_run(terracl_module *m, terracl_runtime *rt,
                                        const struct smp_conv *c, const struct tc_batchnorm2d *bn,
                                        int relu, int into, const struct tc_tensor *x,
                                        struct tc_tensor *y, terracl_error *err)
{
    const struct tc_tensor *src = x;
    struct tc_tensor mid = {0};
    terracl_status st = TERRACL_OK;
    if (c->separable) {
        const struct tc_tensor *w = tc_dec_param(m, c->dw);
        const struct tc_conv_geom *g = &c->dw_geom;
        char s[128];
        if (x->ndim != 4 || x->dims[1] != w->dims[0])
            return tc_fail(err, TERRACL_ERR_SHAPE,
                           "separable conv: input %s, expected %lld channels",
                           tc_shape_str(x->ndim, x->dims, s, sizeof s), (long long)w->dims[0]);
        int64_t span = g->dil_h * (w->dims[2] - 1) + 1;
        if (x->dims[2] + 2 * g->pad_h < span || x->dims[3] + 2 * g->pad_w < span)
            return tc_fail(err, TERRACL_ERR_SHAPE,
                           "separable conv: input %s is smaller than its kernel",
                           tc_shape_str(x->ndim, x->dims, s, sizeof s));
        int64_t ho = x->dims[2] + 2 * g->pad_h - span + 1,
                wo = x->dims[3] + 2 * g->pad_w - span + 1;
        st = tc_dec_alloc(rt, x->dims[0], x->dims[1], ho, wo, &mid, err);
        if (st == TERRACL_OK)
            st = tc_op_dwconv2d(rt, x, w, NULL, g, 0, &mid, err);
        src = &mid;
    }
    if (st == TERRACL_OK && into)
        st = tc_layer_conv2d_bn_run_into(m, rt, &c->conv, bn, relu, src, y, err);
    else if (st == TERRACL_OK)
        st = bn != NULL ? tc_layer_conv2d_bn_run(m, rt, &c->conv, bn, relu, src, y, err)
                        : tc_layer_conv2d_run(m, rt, &c->conv, src, y, err);
    tc_tensor_free(&mid);
    return st;
}

terracl_status smp_conv_run(terracl_module *m, terracl_runtime *rt, const struct smp_conv *c,
                            const struct tc_tensor *x, struct tc_tensor *y, terracl_error *err)
{
    return conv_maybe_bn_run(m, rt, c, NULL, 0, 0, x, y, err);
}

terracl_status smp_cbr_declare(terracl_module *m, const char *conv_name, const char *bn_name,
                               int64_t in, int64_t out, int64_t k, int64_t pad,
                               int64_t dilation, int separable, struct smp_cbr *c,
                               terracl_error *err)
{
    terracl_status st =
        smp_conv_declare(m, conv_name, in, out, k, pad, dilation, 0, separable, &c->conv, err);
    if (st == TERRACL_OK)
        st = tc_layer_batchnorm2d(m, bn_name, out, 1e-5f, &c->bn, err);
    if (st == TERRACL_OK)
        st = tc_layer_fold_batchnorm(m, &c->conv.conv, &c->bn, err);
    return st;
}

terracl_status smp_cbr_run(terracl_module *m, terracl_runtime *rt, const struct smp_cbr *c,
                           const struct tc_tensor *x, struct tc_tensor *y, terracl_error *err)
{
    return conv_maybe_bn_run(m, rt, &c->conv, &c->bn, 1, 0, x, y, err);
}

terracl_status smp_cbr_run_into(terracl_module *m, terracl_runtime *rt, const struct smp_cbr *c,
                                const struct tc_tensor *x, struct tc_tensor *y,
                                terracl_error *err)
{
    return conv_maybe_bn_run(m, rt, &c->conv, &c->bn, 1, 1, x, y, err);
}

void smp_accept_head_args(const terracl_value *args, int has_upsampling)
{
    if (args == NULL)
        return;
    (void)terracl_value_map_get(args, "activation");
    if (has_upsampling)
        (void)terracl_value_map_get(args, "upsampling");
    for (size_t i = 0; i < terracl_value_map_size(args); i++) {
        const char *key = terracl_value_map_key(args, i);
        if (strncmp(key, "aux_", 4) == 0)
            (void)terracl_value_map_get(args, key);
    }
}

terracl_status smp_conv_relu_declare(terracl_module *m, const char *name, int64_t in, int64_t out,
                                     int64_t k, int64_t pad, int batchnorm,
                                     struct smp_conv_relu *c, terracl_error *err)
{
    char sub[256];
    c->batchnorm = batchnorm;
    terracl_status st = smp_name(sub, sizeof sub, name, ".0", err);
    if (st == TERRACL_OK)
        st = tc_layer_conv2d(m, sub, in, out, k, 1, pad, 1, !batchnorm, &c->conv, err);
    if (st == TERRACL_OK && batchnorm && (st = smp_name(sub, sizeof sub, name, ".1", err)) == TERRACL_OK)
        st = tc_layer_batchnorm2d(m, sub, out, 1e-5f, &c->bn, err);
    if (st == TERRACL_OK && batchnorm)
        st = tc_layer_fold_batchnorm(m, &c->conv, &c->bn, err);
    return st;
}

terracl_status smp_conv_relu_run(terracl_module *m, terracl_runtime *rt,
                                 const struct smp_conv_relu *c, const struct tc_tensor *x,
                                 struct tc_tensor *y, terracl_error *err)
{
    if (c->batchnorm)
        return tc_layer_conv2d_bn_run(m, rt, &c->conv, &c->bn, 1, x, y, err);
    terracl_status st = tc_layer_conv2d_run(m, rt, &c->conv, x, y, err);
    if (st == TERRACL_OK && (st = tc_op_relu(rt, y, y, err)))
        tc_tensor_free(y);
    return st;
}

terracl_status smp_read_use_norm(const terracl_value *args, const char *key, const char *old_key,
                                 int *batchnorm, terracl_error *err)
{
    *batchnorm = 1;
    if (old_key != NULL && terracl_value_map_peek(args, old_key) != NULL)
        key = old_key;
    const terracl_value *v = args ? terracl_value_map_get(args, key) : NULL;
    if (v == NULL)
        return TERRACL_OK;
    if (terracl_value_type_of(v) == TERRACL_VALUE_BOOL) {
        *batchnorm = terracl_value_bool(v);
        return TERRACL_OK;
    }
    if (terracl_value_type_of(v) == TERRACL_VALUE_STRING) {
        const char *s = terracl_value_string(v);
        if (strcasecmp(s, "batchnorm") == 0 || strcasecmp(s, "identity") == 0) {
            *batchnorm = strcasecmp(s, "batchnorm") == 0;
            return TERRACL_OK;
        }
        if (strcasecmp(s, "layernorm") == 0 || strcasecmp(s, "instancenorm") == 0 ||
            strcasecmp(s, "inplace") == 0)
            return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                           "%s='%s' is not supported (batchnorm or identity)", key, s);
        return tc_fail(err, TERRACL_ERR_CONFIG, "%s: unrecognized normalization type '%s'", key, s);
    }
    return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                   "%s: only true/false, 'batchnorm' or 'identity' are supported", key);
}

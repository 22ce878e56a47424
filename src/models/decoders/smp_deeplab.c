/*
 * smp's DeepLabV3 and DeepLabV3Plus decoders.
 *
 * ASPP on the last feature: five branches, each ending in BatchNorm + ReLU:
 * a 1x1 conv (convs.0), three 3x3 convs with dilation = padding = each
 * atrous rate (convs.1..3; separable: depthwise then pointwise), and image
 * pooling (convs.4: global average, 1x1 conv, bilinear back to the input
 * size); concatenated and projected by a 1x1 conv + BN + ReLU (project.0/1).
 * Convolutions have no bias; dropouts are eval-mode identities.
 *
 * DeepLabV3:     ASPP -> 3x3 conv "conv" -> BN "bn" -> ReLU.
 * DeepLabV3Plus: ASPP (aspp.0) -> separable 3x3 (aspp.1) -> BN (aspp.2) ->
 *   ReLU -> bilinear (align_corners) upsampling by 4 (output stride 16 and
 *   depth > 3) or 2, concatenated with 1x1 conv -> BN -> ReLU of feature 2
 *   (block1, 48 channels) -> separable 3x3 (block2.0) -> BN -> ReLU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/decoders/common.h"
#include "models/decoders/smp.h"
#include "models/decoders/smp_blocks.h"
#include "ops/conv.h"
#include "ops/layout.h"
#include "ops/resize.h"

#define HIGHRES_CHANNELS 48 /* smp's block1 width (from the DeepLabV3+ paper) */

struct aspp {
    int64_t out;
    struct smp_cbr branch[4]; /* 1x1 and the three atrous ones */
    struct smp_cbr pool, project;
};

struct deeplab {
    struct tc_dec_channels ch;
    const char *prefix;
    int plus;
    int64_t channels, rates[3], output_stride, scale;
    int separable;
    struct aspp aspp;
    struct smp_cbr tail;           /* V3: conv/bn; V3+: aspp.1/aspp.2 (separable) */
    struct smp_cbr block1, block2; /* V3+ only */
};

static terracl_status aspp_declare(terracl_module *m, const char *base, int64_t in, int64_t out,
                                   const int64_t rates[3], int separable, struct aspp *a,
                                   terracl_error *err)
{
    char cn[320], bn[320];
    terracl_status st = TERRACL_OK;
    a->out = out;
    for (int i = 0; i < 4 && st == TERRACL_OK; i++) {
        snprintf(cn, sizeof cn, "%sconvs.%d.0", base, i);
        snprintf(bn, sizeof bn, "%sconvs.%d.1", base, i);
        int64_t d = i == 0 ? 1 : rates[i - 1];
        st = smp_cbr_declare(m, cn, bn, in, out, i == 0 ? 1 : 3, i == 0 ? 0 : d, d,
                             i > 0 && separable, &a->branch[i], err);
    }
    snprintf(cn, sizeof cn, "%sconvs.4.1", base);
    snprintf(bn, sizeof bn, "%sconvs.4.2", base);
    if (st == TERRACL_OK)
        st = smp_cbr_declare(m, cn, bn, in, out, 1, 0, 1, 0, &a->pool, err);
    snprintf(cn, sizeof cn, "%sproject.0", base);
    snprintf(bn, sizeof bn, "%sproject.1", base);
    if (st == TERRACL_OK)
        st = smp_cbr_declare(m, cn, bn, 5 * out, out, 1, 0, 1, 0, &a->project, err);
    return st;
}

/* The five branches, concatenated into cat: for one batch item each made
 * straight into its slice, otherwise made apart and copied together. */
static terracl_status aspp_run(terracl_module *m, terracl_runtime *rt, const struct aspp *a,
                               const struct tc_tensor *x, struct tc_tensor *y, terracl_error *err)
{
    int64_t B = x->dims[0], H = x->dims[2], W = x->dims[3];
    const int sliced = B == 1;
    struct tc_tensor parts[5], pooled = {0}, pconv = {0}, cat = {0};
    memset(parts, 0, sizeof parts);
    terracl_status st = tc_dec_alloc(rt, B, 5 * a->out, H, W, &cat, err);
    for (int i = 0; i < 4 && st == TERRACL_OK; i++) {
        if (sliced) {
            struct tc_tensor slice = tc_dec_channel_slice(&cat, i * a->out, a->out);
            st = smp_cbr_run_into(m, rt, &a->branch[i], x, &slice, err);
        } else {
            st = smp_cbr_run(m, rt, &a->branch[i], x, &parts[i], err);
        }
    }
    if (st == TERRACL_OK)
        st = tc_dec_alloc(rt, B, x->dims[1], 1, 1, &pooled, err);
    if (st == TERRACL_OK)
        st = tc_op_adaptive_avg_pool2d(rt, x, &pooled, err);
    if (st == TERRACL_OK)
        st = smp_cbr_run(m, rt, &a->pool, &pooled, &pconv, err);
    if (st == TERRACL_OK && sliced)
        parts[4] = tc_dec_channel_slice(&cat, 4 * a->out, a->out);
    else if (st == TERRACL_OK)
        st = tc_dec_alloc(rt, B, a->out, H, W, &parts[4], err);
    if (st == TERRACL_OK)
        st = tc_op_resize_bilinear(rt, &pconv, 0, &parts[4], err);
    if (st == TERRACL_OK && !sliced)
        st = tc_op_concat(rt, parts, 5, 1, &cat, err);
    for (int i = 0; i < 5; i++)
        tc_tensor_free(&parts[i]);
    tc_tensor_free(&pooled);
    tc_tensor_free(&pconv);
    if (st == TERRACL_OK)
        st = smp_cbr_run(m, rt, &a->project, &cat, y, err);
    tc_tensor_free(&cat);
    return st;
}

static terracl_status deeplab_forward(terracl_module *m, struct tc_exec *ex,
                                      const struct tc_feats *in, struct tc_feats *out,
                                      terracl_error *err)
{
    struct deeplab *p = m->impl;
    terracl_runtime *rt = ex->rt;
    terracl_status st = tc_dec_check_inputs(&p->ch, in, err);
    if (st != TERRACL_OK)
        return st;
    struct tc_tensor a = {0}, t = {0}, up = {0}, hi = {0}, cat = {0}, y = {0};
    st = aspp_run(m, rt, &p->aspp, &in->t[p->ch.n - 1], &a, err);
    if (st == TERRACL_OK)
        st = smp_cbr_run(m, rt, &p->tail, &a, &t, err);
    tc_tensor_free(&a);
    if (st == TERRACL_OK && p->plus) {
        const struct tc_tensor *f2 = &in->t[2];
        int64_t H = t.dims[2] * p->scale, W = t.dims[3] * p->scale;
        if (f2->dims[2] != H || f2->dims[3] != W)
            st = tc_fail(err, TERRACL_ERR_SHAPE,
                         "the ASPP output upsampled %lldx is %lldx%lld, feature 2 is %lldx%lld "
                         "(smp's DeepLabV3Plus concatenates the two)",
                         (long long)p->scale, (long long)H, (long long)W, (long long)f2->dims[2],
                         (long long)f2->dims[3]);
        /* [upsampled ASPP output, block1(feature 2)], for one batch item
         * made in place in the concatenation. */
        const int sliced = t.dims[0] == 1;
        if (st == TERRACL_OK)
            st = tc_dec_alloc(rt, t.dims[0], p->channels + HIGHRES_CHANNELS, H, W, &cat, err);
        if (st == TERRACL_OK && sliced) {
            up = tc_dec_channel_slice(&cat, 0, p->channels);
            hi = tc_dec_channel_slice(&cat, p->channels, HIGHRES_CHANNELS);
        } else if (st == TERRACL_OK) {
            st = tc_dec_alloc(rt, t.dims[0], t.dims[1], H, W, &up, err);
        }
        if (st == TERRACL_OK)
            st = tc_op_resize_bilinear(rt, &t, 1, &up, err);
        if (st == TERRACL_OK)
            st = sliced ? smp_cbr_run_into(m, rt, &p->block1, f2, &hi, err)
                        : smp_cbr_run(m, rt, &p->block1, f2, &hi, err);
        if (st == TERRACL_OK && !sliced) {
            struct tc_tensor parts[2] = {up, hi};
            st = tc_op_concat(rt, parts, 2, 1, &cat, err);
        }
        tc_tensor_free(&up);
        tc_tensor_free(&hi);
        if (st == TERRACL_OK)
            st = smp_cbr_run(m, rt, &p->block2, &cat, &y, err);
        tc_tensor_free(&cat);
        tc_tensor_free(&t);
    } else if (st == TERRACL_OK) {
        y = t;
    }
    if (st != TERRACL_OK) {
        tc_tensor_free(&t);
        return st;
    }
    tc_dec_output(out, &y);
    return TERRACL_OK;
}

static const struct tc_module_vtable k_deeplab_vt = {deeplab_forward, free};

static terracl_status declare(terracl_module *m, struct deeplab *p, terracl_error *err)
{
    char base[128], cn[256], bn[256];
    int64_t top = p->ch.c[p->ch.n - 1], C = p->channels;
    terracl_status st = smp_name(base, sizeof base, p->prefix, p->plus ? "aspp.0." : "aspp.", err);
    if (st == TERRACL_OK)
        st = aspp_declare(m, base, top, C, p->rates, p->separable, &p->aspp, err);
    if (st != TERRACL_OK)
        return st;
    if (!p->plus) {
        if ((st = smp_name(cn, sizeof cn, p->prefix, "conv", err)) ||
            (st = smp_name(bn, sizeof bn, p->prefix, "bn", err)))
            return st;
        return smp_cbr_declare(m, cn, bn, C, C, 3, 1, 1, 0, &p->tail, err);
    }
    if ((st = smp_name(cn, sizeof cn, p->prefix, "aspp.1", err)) ||
        (st = smp_name(bn, sizeof bn, p->prefix, "aspp.2", err)) ||
        (st = smp_cbr_declare(m, cn, bn, C, C, 3, 1, 1, 1, &p->tail, err)) ||
        (st = smp_name(cn, sizeof cn, p->prefix, "block1.0", err)) ||
        (st = smp_name(bn, sizeof bn, p->prefix, "block1.1", err)) ||
        (st = smp_cbr_declare(m, cn, bn, p->ch.c[2], HIGHRES_CHANNELS, 1, 0, 1, 0, &p->block1,
                              err)) ||
        (st = smp_name(cn, sizeof cn, p->prefix, "block2.0", err)) ||
        (st = smp_name(bn, sizeof bn, p->prefix, "block2.1", err)))
        return st;
    return smp_cbr_declare(m, cn, bn, C + HIGHRES_CHANNELS, C, 3, 1, 1, 1, &p->block2, err);
}

static terracl_status read_args(struct deeplab *p, const terracl_value *first,
                                const terracl_value *args, terracl_error *err)
{
    size_t nr = 0;
    int present = 0;
    double dropout = 0.5;
    terracl_status st = tc_dec_read_channels(first, &p->ch, err);
    if (st == TERRACL_OK && p->plus && p->ch.n < 4)
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "Encoder depth for DeepLabV3Plus decoder cannot be less than 3, got %zu "
                     "(%zu feature maps)",
                     p->ch.n - 1, p->ch.n);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "decoder_channels", 256, &p->channels, err);
    if (st == TERRACL_OK)
        st = terracl_args_int_list(args, "decoder_atrous_rates", p->rates, 3, &nr, &present, err);
    if (st == TERRACL_OK && !present) {
        p->rates[0] = 12;
        p->rates[1] = 24;
        p->rates[2] = 36;
        nr = 3;
    }
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "decoder_aspp_separable", p->plus, &p->separable, err);
    if (st == TERRACL_OK)
        st = terracl_args_float(args, "decoder_aspp_dropout", 0.5, &dropout, err); /* eval: identity */
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "encoder_output_stride", p->plus ? 16 : 8, &p->output_stride,
                              err);
    if (st != TERRACL_OK)
        return st;
    smp_accept_head_args(args, 1);
    if (nr != 3)
        return tc_fail(err, TERRACL_ERR_CONFIG, "decoder_atrous_rates needs exactly 3 rates");
    for (int i = 0; i < 3; i++)
        if (p->rates[i] < 1 || p->rates[i] > 4096)
            return tc_fail(err, TERRACL_ERR_CONFIG, "decoder_atrous_rates must be positive");
    if (p->channels < 1 || p->channels > (1 << 20))
        return tc_fail(err, TERRACL_ERR_CONFIG, "decoder_channels must be positive");
    if (p->output_stride != 8 && p->output_stride != 16)
        return tc_fail(err, TERRACL_ERR_CONFIG, "%s support output stride 8 or 16, got %lld.",
                       p->plus ? "DeeplabV3Plus" : "DeeplabV3", (long long)p->output_stride);
    p->scale = p->output_stride == 16 && p->ch.n - 1 > 3 ? 4 : 2;
    return TERRACL_OK;
}

static terracl_status build(int plus, const terracl_value *first, const terracl_value *args,
                            const char *prefix, terracl_module **out, terracl_error *err)
{
    const char *what = plus ? "smp DeepLabV3Plus" : "smp DeepLabV3";
    *out = NULL;
    struct deeplab *p = calloc(1, sizeof *p);
    terracl_module *m = NULL;
    if (p != NULL)
        p->plus = plus;
    terracl_status st = p ? read_args(p, first, args, err)
                          : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st != TERRACL_OK) {
        free(p);
        return tc_fail_context(err, st, "%s", what);
    }
    p->prefix = prefix;
    st = tc_module_create(plus ? "DeepLabV3PlusDecoder" : "DeepLabV3Decoder", &k_deeplab_vt, p,
                          &m, err);
    if (st == TERRACL_OK)
        st = declare(m, p, err);
    if (st == TERRACL_OK) {
        terracl_value *cfg = terracl_value_new_map();
        tc_value_set_chained(cfg, "embed_dim", tc_value_int_list(p->ch.c, p->ch.n), &st, err);
        tc_value_set_chained(cfg, "decoder_channels", terracl_value_new_int(p->channels), &st, err);
        tc_value_set_chained(cfg, "decoder_atrous_rates", tc_value_int_list(p->rates, 3), &st, err);
        tc_value_set_chained(cfg, "decoder_aspp_separable", terracl_value_new_bool(p->separable),
                             &st, err);
        tc_value_set_chained(cfg, "encoder_output_stride", terracl_value_new_int(p->output_stride),
                             &st, err);
        if (st == TERRACL_OK)
            st = tc_dec_finish(m, cfg, p->channels, err);
        else
            terracl_value_free(cfg);
    }
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "%s", what);
    }
    *out = m;
    return TERRACL_OK;
}

terracl_status tc_smp_deeplabv3_decoder_at(const terracl_value *first, const terracl_value *args,
                                           const char *prefix, terracl_module **out,
                                           terracl_error *err)
{
    return build(0, first, args, prefix, out, err);
}

terracl_status tc_smp_deeplabv3plus_decoder_at(const terracl_value *first,
                                               const terracl_value *args, const char *prefix,
                                               terracl_module **out, terracl_error *err)
{
    return build(1, first, args, prefix, out, err);
}

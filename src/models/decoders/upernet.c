/*
 * TerraTorch's UperNetDecoder (adapted from MMSegmentation's UPerHead):
 *   PPM on the last input: per pool scale s, adaptive average pooling to
 *   s x s, a 1x1 ConvModule, bilinear resize back; concat [x, ppm...] and a
 *   3x3 ConvModule ("bottleneck") give the top lateral.
 *   Lateral 1x1 ConvModules on the other inputs, a top-down pass adding the
 *   bilinearly resized coarser lateral, 3x3 ConvModules ("fpn_convs") on all
 *   but the top, everything resized to input 0's size, concatenated and
 *   fused by a 3x3 ConvModule ("fpn_bottleneck").
 * With scale_modules (TerraTorch 1.1 only; 1.2 removed it in favour of the
 * LearnedInterpolateToPyramidal neck, and terracl keeps it so that models
 * trained with 1.1, such as TerraTorch's Chesapeake example, still run),
 * four inputs first go through fpn1 (ConvT, BN, GELU, ConvT: 4x), fpn2
 * (ConvT: 2x), identity and 2x2 max pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/decoders/common.h"
#include "models/decoders/decoders.h"
#include "models/layers.h"
#include "ops/elementwise.h"
#include "ops/layout.h"
#include "ops/resize.h"

#define UPER_MAX_SCALES 16

struct upernet {
    struct tc_dec_channels ch;  /* as given */
    struct tc_dec_channels eff; /* after the scale modules */
    int64_t channels;
    int64_t scales[UPER_MAX_SCALES];
    size_t n_scales;
    int align_corners, scale_modules;
    struct tc_conv_module psp[UPER_MAX_SCALES], bottleneck, fpn_bottleneck;
    struct tc_conv_module lateral[TC_DEC_MAX_INPUTS], fpn[TC_DEC_MAX_INPUTS];
    struct tc_conv_transpose2d fpn1_a, fpn1_b, fpn2;
    struct tc_batchnorm2d fpn1_bn;
};

/* The deprecated scale modules: ins -> xs (all owned). */
static terracl_status scale_inputs(terracl_module *m, terracl_runtime *rt, const struct tc_feats *in,
                                   struct tc_tensor xs[4], terracl_error *err)
{
    struct upernet *p = m->impl;
    struct tc_tensor t = {0};
    terracl_status st = tc_layer_conv_transpose2d_run(m, rt, &p->fpn1_a, &in->t[0], &t, err);
    if (st == TERRACL_OK)
        st = tc_layer_batchnorm2d_run(m, rt, &p->fpn1_bn, &t, err);
    if (st == TERRACL_OK)
        st = tc_op_gelu(rt, &t, &t, err);
    if (st == TERRACL_OK)
        st = tc_layer_conv_transpose2d_run(m, rt, &p->fpn1_b, &t, &xs[0], err);
    tc_tensor_free(&t);
    if (st == TERRACL_OK)
        st = tc_layer_conv_transpose2d_run(m, rt, &p->fpn2, &in->t[1], &xs[1], err);
    const struct tc_tensor *x2 = &in->t[2], *x3 = &in->t[3];
    if (st == TERRACL_OK)
        st = tc_dec_clone(rt, x2, &xs[2], err);
    if (st == TERRACL_OK && (x3->dims[2] < 2 || x3->dims[3] < 2))
        st = tc_fail(err, TERRACL_ERR_SHAPE, "input 3 is smaller than the 2x2 max pool");
    if (st == TERRACL_OK)
        st = tc_dec_alloc(rt, x3->dims[0], x3->dims[1], x3->dims[2] / 2, x3->dims[3] / 2, &xs[3],
                          err);
    if (st == TERRACL_OK)
        st = tc_op_max_pool2d(rt, x3, 2, 2, &xs[3], err);
    return st;
}

static terracl_status resize_to(terracl_runtime *rt, const struct tc_tensor *x, int64_t h,
                                int64_t w, int align_corners, struct tc_tensor *y,
                                terracl_error *err)
{
    terracl_status st = tc_dec_alloc(rt, x->dims[0], x->dims[1], h, w, y, err);
    if (st == TERRACL_OK)
        st = tc_op_resize_bilinear(rt, x, align_corners, y, err);
    return st;
}

/* PSP module + bottleneck on x (the last input) -> y. */
static terracl_status psp_forward(terracl_module *m, terracl_runtime *rt, const struct tc_tensor *x,
                                  struct tc_tensor *y, terracl_error *err)
{
    struct upernet *p = m->impl;
    int64_t B = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    struct tc_tensor parts[UPER_MAX_SCALES + 1], cat = {0};
    memset(parts, 0, sizeof parts);
    parts[0] = *x;
    parts[0].owns_buf = 0;
    terracl_status st = TERRACL_OK;
    for (size_t j = 0; j < p->n_scales && st == TERRACL_OK; j++) {
        struct tc_tensor pooled = {0}, conv = {0};
        st = tc_dec_alloc(rt, B, C, p->scales[j], p->scales[j], &pooled, err);
        if (st == TERRACL_OK)
            st = tc_op_adaptive_avg_pool2d(rt, x, &pooled, err);
        if (st == TERRACL_OK)
            st = tc_layer_conv_module_run(m, rt, &p->psp[j], &pooled, &conv, err);
        if (st == TERRACL_OK)
            st = resize_to(rt, &conv, H, W, p->align_corners, &parts[j + 1], err);
        tc_tensor_free(&pooled);
        tc_tensor_free(&conv);
    }
    if (st == TERRACL_OK)
        st = tc_dec_alloc(rt, B, C + (int64_t)p->n_scales * p->channels, H, W, &cat, err);
    if (st == TERRACL_OK)
        st = tc_op_concat(rt, parts, p->n_scales + 1, 1, &cat, err);
    for (size_t j = 1; j <= p->n_scales; j++)
        tc_tensor_free(&parts[j]);
    if (st == TERRACL_OK)
        st = tc_layer_conv_module_run(m, rt, &p->bottleneck, &cat, y, err);
    tc_tensor_free(&cat);
    return st;
}

/* The fuse bottleneck's input: the fpn convolutions of lat[0 .. L-2] and
 * lat[L-1] itself, resized to lat[0]'s size and concatenated along the
 * channels. For one batch item each part is made straight into its slice
 * of cat (a contiguous run of channels); otherwise the parts land in outs
 * and are copied together. */
static terracl_status fuse_input(terracl_module *m, terracl_runtime *rt, const struct upernet *p,
                                 struct tc_tensor *lat, struct tc_tensor *outs,
                                 struct tc_tensor *cat, terracl_error *err)
{
    const size_t L = p->eff.n;
    const int64_t B = lat[0].dims[0], C = p->channels, H0 = lat[0].dims[2], W0 = lat[0].dims[3];
    const int sliced = B == 1;
    terracl_status st = tc_dec_alloc(rt, B, (int64_t)L * C, H0, W0, cat, err);
    for (size_t i = 0; i < L && st == TERRACL_OK; i++) {
        struct tc_tensor slice = tc_dec_channel_slice(cat, (int64_t)i * C, C), conv = {0};
        struct tc_tensor *dst = sliced ? &slice : &outs[i];
        const int same_size = lat[i].dims[2] == H0 && lat[i].dims[3] == W0;
        if (i + 1 < L && same_size) {
            /* The fpn convolution keeps the size: its output is the part. */
            if (sliced)
                st = tc_layer_conv_module_run_into(m, rt, &p->fpn[i], &lat[i], dst, err);
            else
                st = tc_layer_conv_module_run(m, rt, &p->fpn[i], &lat[i], dst, err);
            continue;
        }
        const struct tc_tensor *src = &lat[i];
        if (i + 1 < L) {
            st = tc_layer_conv_module_run(m, rt, &p->fpn[i], &lat[i], &conv, err);
            src = &conv;
        }
        if (st == TERRACL_OK) {
            if (same_size && sliced) {
                st = tc_dec_copy(rt, src, dst, err);
            } else if (same_size) {
                *dst = *src; /* lat[L-1], read by the concatenation below */
                dst->owns_buf = 0;
            } else if (sliced) {
                st = tc_op_resize_bilinear(rt, src, p->align_corners, dst, err);
            } else {
                st = resize_to(rt, src, H0, W0, p->align_corners, dst, err);
            }
        }
        tc_tensor_free(&conv);
    }
    if (st == TERRACL_OK && !sliced)
        st = tc_op_concat(rt, outs, L, 1, cat, err);
    return st;
}

static terracl_status upernet_forward(terracl_module *m, struct tc_exec *ex,
                                      const struct tc_feats *in, struct tc_feats *out,
                                      terracl_error *err)
{
    struct upernet *p = m->impl;
    terracl_runtime *rt = ex->rt;
    struct tc_dec_channels want = p->ch;
    if (p->scale_modules)
        want.n = 4; /* the first four channel counts describe the inputs */
    terracl_status st = tc_dec_check_inputs(&want, in, err);
    if (st != TERRACL_OK)
        return st;
    size_t L = p->eff.n;
    struct tc_tensor scaled[4], lat[TC_DEC_MAX_INPUTS], outs[TC_DEC_MAX_INPUTS], cat = {0};
    memset(scaled, 0, sizeof scaled);
    memset(lat, 0, sizeof lat);
    memset(outs, 0, sizeof outs);
    const struct tc_tensor *xs[TC_DEC_MAX_INPUTS];
    if (p->scale_modules) {
        st = scale_inputs(m, rt, in, scaled, err);
        for (size_t i = 0; i < 4; i++)
            xs[i] = &scaled[i];
    } else {
        for (size_t i = 0; i < L; i++)
            xs[i] = &in->t[i];
    }
    for (size_t i = 0; i + 1 < L && st == TERRACL_OK; i++)
        st = tc_layer_conv_module_run(m, rt, &p->lateral[i], xs[i], &lat[i], err);
    if (st == TERRACL_OK)
        st = psp_forward(m, rt, xs[L - 1], &lat[L - 1], err);
    for (size_t i = 0; i < 4; i++)
        tc_tensor_free(&scaled[i]);

    /* Top-down: each level gets the (already updated) coarser one added. */
    for (size_t i = L - 1; i > 0 && st == TERRACL_OK; i--) {
        struct tc_tensor up = {0};
        st = resize_to(rt, &lat[i], lat[i - 1].dims[2], lat[i - 1].dims[3], p->align_corners, &up,
                       err);
        if (st == TERRACL_OK)
            st = tc_op_add(rt, &lat[i - 1], &up, &lat[i - 1], err);
        tc_tensor_free(&up);
    }
    if (st == TERRACL_OK)
        st = fuse_input(m, rt, p, lat, outs, &cat, err);
    for (size_t i = 0; i < L; i++) {
        tc_tensor_free(&lat[i]);
        tc_tensor_free(&outs[i]);
    }
    struct tc_tensor y = {0};
    if (st == TERRACL_OK)
        st = tc_layer_conv_module_run(m, rt, &p->fpn_bottleneck, &cat, &y, err);
    tc_tensor_free(&cat);
    if (st != TERRACL_OK)
        return st;
    tc_dec_output(out, &y);
    return TERRACL_OK;
}

static const struct tc_module_vtable k_upernet_vt = {upernet_forward, free};

static terracl_status declare(terracl_module *m, struct upernet *p, terracl_error *err)
{
    terracl_status st = TERRACL_OK;
    char name[64];
    const int64_t *e = p->ch.c;
    if (p->scale_modules) {
        if ((st = tc_layer_conv_transpose2d(m, "fpn1.0", e[0], e[0] / 2, 2, 2, 0, 0, 1, &p->fpn1_a,
                                            err)) ||
            (st = tc_layer_batchnorm2d(m, "fpn1.1", e[0] / 2, 1e-5f, &p->fpn1_bn, err)) ||
            (st = tc_layer_conv_transpose2d(m, "fpn1.3", e[0] / 2, e[0] / 4, 2, 2, 0, 0, 1,
                                            &p->fpn1_b, err)) ||
            (st = tc_layer_conv_transpose2d(m, "fpn2.0", e[1], e[1] / 2, 2, 2, 0, 0, 1, &p->fpn2,
                                            err)))
            return st;
    }
    size_t L = p->eff.n;
    int64_t top = p->eff.c[L - 1];
    for (size_t j = 0; j < p->n_scales && st == TERRACL_OK; j++) {
        snprintf(name, sizeof name, "psp_modules.%zu.1", j);
        st = tc_layer_conv_module(m, name, top, p->channels, 1, 0, 1, &p->psp[j], err);
    }
    if (st == TERRACL_OK)
        st = tc_layer_conv_module(m, "bottleneck", top + (int64_t)p->n_scales * p->channels,
                                  p->channels, 3, 1, 1, &p->bottleneck, err);
    for (size_t i = 0; i + 1 < L && st == TERRACL_OK; i++) {
        snprintf(name, sizeof name, "lateral_convs.%zu", i);
        st = tc_layer_conv_module(m, name, p->eff.c[i], p->channels, 1, 0, 1, &p->lateral[i], err);
        snprintf(name, sizeof name, "fpn_convs.%zu", i);
        if (st == TERRACL_OK)
            st = tc_layer_conv_module(m, name, p->channels, p->channels, 3, 1, 1, &p->fpn[i], err);
    }
    if (st == TERRACL_OK)
        st = tc_layer_conv_module(m, "fpn_bottleneck", (int64_t)L * p->channels, p->channels, 3, 1,
                                  1, &p->fpn_bottleneck, err);
    return st;
}

static terracl_status read_args(struct upernet *p, const terracl_value *first,
                                const terracl_value *args, terracl_error *err)
{
    int present = 0;
    terracl_status st = tc_dec_read_channels(first, &p->ch, err);
    if (st == TERRACL_OK)
        st = terracl_args_int_list(args, "pool_scales", p->scales, UPER_MAX_SCALES, &p->n_scales,
                                   &present, err);
    if (st == TERRACL_OK && !present) {
        static const int64_t def[4] = {1, 2, 3, 6};
        memcpy(p->scales, def, sizeof def);
        p->n_scales = 4;
    }
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "channels", 256, &p->channels, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "align_corners", 1, &p->align_corners, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "scale_modules", 0, &p->scale_modules, err);
    if (st != TERRACL_OK)
        return st;
    for (size_t j = 0; j < p->n_scales; j++)
        if (p->scales[j] < 1 || p->scales[j] > 4096)
            return tc_fail(err, TERRACL_ERR_CONFIG, "pool_scales entry %lld must be positive",
                           (long long)p->scales[j]);
    if (p->channels < 1 || p->channels > (1 << 20))
        return tc_fail(err, TERRACL_ERR_CONFIG, "channels must be a positive count (got %lld)",
                       (long long)p->channels);
    p->eff = p->ch;
    if (p->scale_modules) {
        /* TerraTorch 1.1 reads only the first four entries: a Prithvi
         * backbone with out_indices still reports one channel count per
         * block, and the four selected features arrive as the inputs. */
        if (p->ch.n < 4)
            return tc_fail(err, TERRACL_ERR_CONFIG,
                           "scale_modules needs 4 inputs, the channel list has %zu", p->ch.n);
        p->eff.n = 4;
        if (p->ch.c[0] < 4 || p->ch.c[1] < 2)
            return tc_fail(err, TERRACL_ERR_CONFIG,
                           "scale_modules divides the first two channel counts by 4 and 2 (got "
                           "%lld and %lld)",
                           (long long)p->ch.c[0], (long long)p->ch.c[1]);
        p->eff.c[0] = p->ch.c[0] / 4;
        p->eff.c[1] = p->ch.c[1] / 2;
    }
    return TERRACL_OK;
}

terracl_status tc_upernet_decoder(const terracl_value *first, const terracl_value *args,
                                  void *user, terracl_module **out, terracl_error *err)
{
    (void)user;
    *out = NULL;
    struct upernet *p = calloc(1, sizeof *p);
    terracl_module *m = NULL;
    terracl_status st = p ? read_args(p, first, args, err)
                          : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st != TERRACL_OK) {
        free(p);
        return tc_fail_context(err, st, "UperNetDecoder");
    }
    st = tc_module_create("UperNetDecoder", &k_upernet_vt, p, &m, err);
    if (st == TERRACL_OK)
        st = declare(m, p, err);
    if (st == TERRACL_OK) {
        terracl_value *cfg = terracl_value_new_map();
        tc_value_set_chained(cfg, "embed_dim", tc_value_int_list(p->ch.c, p->ch.n), &st, err);
        tc_value_set_chained(cfg, "pool_scales", tc_value_int_list(p->scales, p->n_scales), &st, err);
        tc_value_set_chained(cfg, "channels", terracl_value_new_int(p->channels), &st, err);
        tc_value_set_chained(cfg, "align_corners", terracl_value_new_bool(p->align_corners), &st, err);
        tc_value_set_chained(cfg, "scale_modules", terracl_value_new_bool(p->scale_modules), &st, err);
        if (st == TERRACL_OK)
            st = tc_dec_finish(m, cfg, p->channels, err);
        else
            terracl_value_free(cfg);
    }
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "UperNetDecoder");
    }
    *out = m;
    return TERRACL_OK;
}

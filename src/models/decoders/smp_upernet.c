/*
 * smp's UPerNet decoder (UPerNetDecoder), on the features from the third
 * on (m = n - 2 of them, finest first):
 *   each gets a LayerNorm over its channels (eps 1e-6, "feature_norms.i");
 *   PSP on the coarsest: per pool size s in (1, 2, 3, 6) adaptive average
 *   pooling, 1x1 Conv2dReLU to decoder_channels, bilinear back
 *   (align_corners=False); [x, pools...] fused by a 3x3 Conv2dReLU that
 *   always has BatchNorm ("psp.out_conv");
 *   top-down: each finer feature through a 1x1 Conv2dReLU
 *   ("fpn_lateral_blocks.i.conv_norm_relu") plus the coarser state resized
 *   to it, then a 3x3 Conv2dReLU ("fpn_conv_blocks.i");
 *   everything resized to the finest, concatenated finest first and fused
 *   by a 3x3 Conv2dReLU ("fusion_block").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/decoders/common.h"
#include "models/decoders/smp.h"
#include "models/decoders/smp_blocks.h"
#include "ops/elementwise.h"
#include "ops/layout.h"
#include "ops/norm.h"
#include "ops/resize.h"

static const int64_t k_pool[4] = {1, 2, 3, 6};

struct upernet {
    struct tc_dec_channels ch;
    const char *prefix;
    int64_t channels;
    int batchnorm;
    size_t m; /* features used: n - 2 */
    size_t norm_w[TC_DEC_MAX_INPUTS], norm_b[TC_DEC_MAX_INPUTS];
    struct smp_conv_relu psp[4], psp_out, lateral[TC_DEC_MAX_INPUTS], fpn[TC_DEC_MAX_INPUTS],
        fusion;
};

static terracl_status resize_to(terracl_runtime *rt, const struct tc_tensor *x, int64_t h,
                                int64_t w, struct tc_tensor *y, terracl_error *err)
{
    terracl_status st = tc_dec_alloc(rt, x->dims[0], x->dims[1], h, w, y, err);
    if (st == TERRACL_OK)
        st = tc_op_resize_bilinear(rt, x, 0, y, err);
    return st;
}

static terracl_status psp_run(terracl_module *m, terracl_runtime *rt, const struct upernet *p,
                              const struct tc_tensor *x, struct tc_tensor *y, terracl_error *err)
{
    int64_t B = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    struct tc_tensor parts[5], cat = {0};
    memset(parts, 0, sizeof parts);
    parts[0] = *x;
    parts[0].owns_buf = 0;
    terracl_status st = TERRACL_OK;
    for (int j = 0; j < 4 && st == TERRACL_OK; j++) {
        struct tc_tensor pooled = {0}, conv = {0};
        st = tc_dec_alloc(rt, B, C, k_pool[j], k_pool[j], &pooled, err);
        if (st == TERRACL_OK)
            st = tc_op_adaptive_avg_pool2d(rt, x, &pooled, err);
        if (st == TERRACL_OK)
            st = smp_conv_relu_run(m, rt, &p->psp[j], &pooled, &conv, err);
        if (st == TERRACL_OK)
            st = resize_to(rt, &conv, H, W, &parts[j + 1], err);
        tc_tensor_free(&pooled);
        tc_tensor_free(&conv);
    }
    if (st == TERRACL_OK)
        st = tc_dec_alloc(rt, B, C + 4 * p->channels, H, W, &cat, err);
    if (st == TERRACL_OK)
        st = tc_op_concat(rt, parts, 5, 1, &cat, err);
    for (int j = 1; j < 5; j++)
        tc_tensor_free(&parts[j]);
    if (st == TERRACL_OK)
        st = smp_conv_relu_run(m, rt, &p->psp_out, &cat, y, err);
    tc_tensor_free(&cat);
    return st;
}

static terracl_status upernet_forward(terracl_module *m, struct tc_exec *ex,
                                      const struct tc_feats *in, struct tc_feats *out,
                                      terracl_error *err)
{
    struct upernet *p = m->impl;
    terracl_runtime *rt = ex->rt;
    terracl_status st = tc_dec_check_inputs(&p->ch, in, err);
    if (st != TERRACL_OK)
        return st;
    size_t M = p->m;
    struct tc_tensor normed[TC_DEC_MAX_INPUTS], fpn[TC_DEC_MAX_INPUTS], cat = {0}, y = {0};
    memset(normed, 0, sizeof normed);
    memset(fpn, 0, sizeof fpn);
    for (size_t i = 0; i < M && st == TERRACL_OK; i++) {
        const struct tc_tensor *f = &in->t[i + 2];
        st = tc_tensor_alloc(rt, 4, f->dims, &normed[i], err);
        if (st == TERRACL_OK)
            st = tc_op_layernorm_channels(rt, f, tc_dec_param(m, p->norm_w[i]),
                                          tc_dec_param(m, p->norm_b[i]), 1e-6f, &normed[i], err);
    }
    /* fpn[0] = PSP of the coarsest; fpn[k] = level k finer (laterals, coarse to fine). */
    if (st == TERRACL_OK)
        st = psp_run(m, rt, p, &normed[M - 1], &fpn[0], err);
    for (size_t k = 1; k < M && st == TERRACL_OK; k++) {
        const struct tc_tensor *lat_in = &normed[M - 1 - k];
        struct tc_tensor lat = {0}, up = {0};
        st = smp_conv_relu_run(m, rt, &p->lateral[k - 1], lat_in, &lat, err);
        if (st == TERRACL_OK)
            st = resize_to(rt, &fpn[k - 1], lat.dims[2], lat.dims[3], &up, err);
        if (st == TERRACL_OK)
            st = tc_op_add(rt, &lat, &up, &lat, err);
        tc_tensor_free(&up);
        fpn[k] = lat;
    }
    /* The 3x3 convs run after the whole top-down pass (which used the raw sums). */
    for (size_t k = 1; k < M && st == TERRACL_OK; k++) {
        struct tc_tensor c = {0};
        st = smp_conv_relu_run(m, rt, &p->fpn[k - 1], &fpn[k], &c, err);
        tc_tensor_free(&fpn[k]);
        fpn[k] = c;
    }
    for (size_t i = 0; i < M; i++)
        tc_tensor_free(&normed[i]);
    struct tc_tensor parts[TC_DEC_MAX_INPUTS];
    memset(parts, 0, sizeof parts);
    int64_t H = fpn[M - 1].dims[2], W = fpn[M - 1].dims[3];
    for (size_t k = 0; k < M && st == TERRACL_OK; k++)
        st = resize_to(rt, &fpn[M - 1 - k], H, W, &parts[k], err); /* finest first */
    if (st == TERRACL_OK)
        st = tc_dec_alloc(rt, fpn[0].dims[0], (int64_t)M * p->channels, H, W, &cat, err);
    if (st == TERRACL_OK)
        st = tc_op_concat(rt, parts, M, 1, &cat, err);
    for (size_t k = 0; k < M; k++) {
        tc_tensor_free(&parts[k]);
        tc_tensor_free(&fpn[k]);
    }
    if (st == TERRACL_OK)
        st = smp_conv_relu_run(m, rt, &p->fusion, &cat, &y, err);
    tc_tensor_free(&cat);
    if (st != TERRACL_OK)
        return st;
    tc_dec_output(out, &y);
    return TERRACL_OK;
}

static const struct tc_module_vtable k_upernet_vt = {upernet_forward, free};

static terracl_status declare(terracl_module *m, struct upernet *p, terracl_error *err)
{
    char name[256], sub[96];
    size_t M = p->m;
    int64_t C = p->channels, top = p->ch.c[p->ch.n - 1];
    terracl_status st = TERRACL_OK;
    for (size_t i = 0; i < M && st == TERRACL_OK; i++) {
        int64_t c = p->ch.c[i + 2];
        snprintf(sub, sizeof sub, "feature_norms.%zu.weight", i);
        if ((st = smp_name(name, sizeof name, p->prefix, sub, err)) ||
            (st = tc_module_add_param(m, name, 1, &c, &p->norm_w[i], err)))
            break;
        snprintf(sub, sizeof sub, "feature_norms.%zu.bias", i);
        if ((st = smp_name(name, sizeof name, p->prefix, sub, err)) ||
            (st = tc_module_add_param(m, name, 1, &c, &p->norm_b[i], err)))
            break;
    }
    for (int j = 0; j < 4 && st == TERRACL_OK; j++) {
        snprintf(sub, sizeof sub, "psp.blocks.%d.1", j);
        if ((st = smp_name(name, sizeof name, p->prefix, sub, err)) == TERRACL_OK)
            st = smp_conv_relu_declare(m, name, top, C, 1, 0, p->batchnorm, &p->psp[j], err);
    }
    if (st == TERRACL_OK && (st = smp_name(name, sizeof name, p->prefix, "psp.out_conv", err)) ==
                                TERRACL_OK)
        st = smp_conv_relu_declare(m, name, top + 4 * C, C, 3, 1, 1, &p->psp_out, err);
    for (size_t k = 1; k < M && st == TERRACL_OK; k++) {
        int64_t lc = p->ch.c[2 + M - 1 - k];
        snprintf(sub, sizeof sub, "fpn_lateral_blocks.%zu.conv_norm_relu", k - 1);
        if ((st = smp_name(name, sizeof name, p->prefix, sub, err)) == TERRACL_OK)
            st = smp_conv_relu_declare(m, name, lc, C, 1, 0, p->batchnorm, &p->lateral[k - 1], err);
        snprintf(sub, sizeof sub, "fpn_conv_blocks.%zu", k - 1);
        if (st == TERRACL_OK && (st = smp_name(name, sizeof name, p->prefix, sub, err)) == TERRACL_OK)
            st = smp_conv_relu_declare(m, name, C, C, 3, 1, p->batchnorm, &p->fpn[k - 1], err);
    }
    if (st == TERRACL_OK && (st = smp_name(name, sizeof name, p->prefix, "fusion_block", err)) ==
                                TERRACL_OK)
        st = smp_conv_relu_declare(m, name, (int64_t)M * C, C, 3, 1, p->batchnorm, &p->fusion, err);
    return st;
}

terracl_status tc_smp_upernet_decoder_at(const terracl_value *first, const terracl_value *args,
                                         const char *prefix, terracl_module **out,
                                         terracl_error *err)
{
    *out = NULL;
    struct upernet *p = calloc(1, sizeof *p);
    terracl_module *m = NULL;
    terracl_status st = p ? tc_dec_read_channels(first, &p->ch, err)
                          : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK && p->ch.n < 4)
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "Encoder depth for UPerNet decoder cannot be less than 3, got %zu (%zu feature "
                     "maps)",
                     p->ch.n - 1, p->ch.n);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "decoder_channels", 256, &p->channels, err);
    if (st == TERRACL_OK)
        st = smp_read_use_norm(args, "decoder_use_norm", NULL, &p->batchnorm, err);
    if (st == TERRACL_OK && (p->channels < 1 || p->channels > (1 << 20)))
        st = tc_fail(err, TERRACL_ERR_CONFIG, "decoder_channels must be positive");
    if (st != TERRACL_OK) {
        free(p);
        return tc_fail_context(err, st, "smp UPerNet");
    }
    smp_accept_head_args(args, 1);
    p->prefix = prefix;
    p->m = p->ch.n - 2;
    st = tc_module_create("UPerNetDecoder", &k_upernet_vt, p, &m, err);
    if (st == TERRACL_OK)
        st = declare(m, p, err);
    if (st == TERRACL_OK) {
        terracl_value *cfg = terracl_value_new_map();
        tc_value_set_chained(cfg, "embed_dim", tc_value_int_list(p->ch.c, p->ch.n), &st, err);
        tc_value_set_chained(cfg, "decoder_channels", terracl_value_new_int(p->channels), &st, err);
        tc_value_set_chained(cfg, "decoder_use_norm",
                             terracl_value_new_string(p->batchnorm ? "batchnorm" : "identity"),
                             &st, err);
        if (st == TERRACL_OK)
            st = tc_dec_finish(m, cfg, p->channels, err);
        else
            terracl_value_free(cfg);
    }
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "smp UPerNet");
    }
    *out = m;
    return TERRACL_OK;
}

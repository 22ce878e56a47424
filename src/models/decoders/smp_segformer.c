/*
 * smp's Segformer decoder (SegformerDecoder): every feature but the first,
 * coarsest first, through a per-pixel Linear to segmentation_channels
 * ("mlp_stage.i.linear", weight [S, C]: a 1x1 convolution), bilinearly
 * resized (align_corners=False) to a quarter of the first feature's size
 * (floor), concatenated and fused by a 1x1 Conv2dReLU with BatchNorm
 * ("fuse_stage").
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

struct segformer {
    struct tc_dec_channels ch;
    const char *prefix;
    int64_t seg;
    size_t w[TC_DEC_MAX_INPUTS], b[TC_DEC_MAX_INPUTS]; /* mlp_stage.i.linear */
    struct smp_conv_relu fuse;
};

static terracl_status segformer_forward(terracl_module *m, struct tc_exec *ex,
                                        const struct tc_feats *in, struct tc_feats *out,
                                        terracl_error *err)
{
    struct segformer *p = m->impl;
    terracl_runtime *rt = ex->rt;
    terracl_status st = tc_dec_check_inputs(&p->ch, in, err);
    if (st != TERRACL_OK)
        return st;
    size_t n = p->ch.n, k = n - 1;
    int64_t B = in->t[0].dims[0], H = in->t[0].dims[2] / 4, W = in->t[0].dims[3] / 4;
    if (H < 1 || W < 1)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "smp's Segformer works at a quarter of the first feature's size; %lldx%lld "
                       "is too small",
                       (long long)in->t[0].dims[2], (long long)in->t[0].dims[3]);
    struct tc_tensor parts[TC_DEC_MAX_INPUTS], cat = {0}, y = {0};
    memset(parts, 0, sizeof parts);
    for (size_t i = 0; i < k && st == TERRACL_OK; i++) {
        const struct tc_tensor *f = &in->t[n - 1 - i];
        struct tc_tensor w = *tc_dec_param(m, p->w[i]), lin = {0};
        w.ndim = 4;
        w.dims[2] = w.dims[3] = 1; /* the Linear as a 1x1 convolution */
        static const struct tc_conv_geom one = {1, 1, 0, 0, 1, 1};
        st = tc_dec_alloc(rt, B, p->seg, f->dims[2], f->dims[3], &lin, err);
        if (st == TERRACL_OK)
            st = tc_op_conv2d(rt, f, &w, tc_dec_param(m, p->b[i]), &one, &lin, err);
        if (st == TERRACL_OK)
            st = tc_dec_alloc(rt, B, p->seg, H, W, &parts[i], err);
        if (st == TERRACL_OK)
            st = tc_op_resize_bilinear(rt, &lin, 0, &parts[i], err);
        tc_tensor_free(&lin);
    }
    if (st == TERRACL_OK)
        st = tc_dec_alloc(rt, B, (int64_t)k * p->seg, H, W, &cat, err);
    if (st == TERRACL_OK)
        st = tc_op_concat(rt, parts, k, 1, &cat, err);
    for (size_t i = 0; i < k; i++)
        tc_tensor_free(&parts[i]);
    if (st == TERRACL_OK)
        st = smp_conv_relu_run(m, rt, &p->fuse, &cat, &y, err);
    tc_tensor_free(&cat);
    if (st != TERRACL_OK)
        return st;
    tc_dec_output(out, &y);
    return TERRACL_OK;
}

static const struct tc_module_vtable k_segformer_vt = {segformer_forward, free};

static terracl_status declare(terracl_module *m, struct segformer *p, terracl_error *err)
{
    size_t n = p->ch.n, k = n - 1;
    char name[256], sub[64];
    terracl_status st = TERRACL_OK;
    for (size_t i = 0; i < k && st == TERRACL_OK; i++) {
        int64_t wd[2] = {p->seg, p->ch.c[n - 1 - i]};
        snprintf(sub, sizeof sub, "mlp_stage.%zu.linear.weight", i);
        if ((st = smp_name(name, sizeof name, p->prefix, sub, err)) ||
            (st = tc_module_add_param(m, name, 2, wd, &p->w[i], err)))
            break;
        snprintf(sub, sizeof sub, "mlp_stage.%zu.linear.bias", i);
        if ((st = smp_name(name, sizeof name, p->prefix, sub, err)) ||
            (st = tc_module_add_param(m, name, 1, &p->seg, &p->b[i], err)))
            break;
    }
    if (st == TERRACL_OK && (st = smp_name(name, sizeof name, p->prefix, "fuse_stage", err)) ==
                                TERRACL_OK)
        st = smp_conv_relu_declare(m, name, (int64_t)k * p->seg, p->seg, 1, 0, 1, &p->fuse, err);
    return st;
}

terracl_status tc_smp_segformer_decoder_at(const terracl_value *first, const terracl_value *args,
                                           const char *prefix, terracl_module **out,
                                           terracl_error *err)
{
    *out = NULL;
    struct segformer *p = calloc(1, sizeof *p);
    terracl_module *m = NULL;
    terracl_status st = p ? tc_dec_read_channels(first, &p->ch, err)
                          : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK && p->ch.n < 4)
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "Encoder depth for Segformer decoder cannot be less than 3, got %zu (%zu "
                     "feature maps)",
                     p->ch.n - 1, p->ch.n);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "decoder_segmentation_channels", 256, &p->seg, err);
    if (st == TERRACL_OK && (p->seg < 1 || p->seg > (1 << 20)))
        st = tc_fail(err, TERRACL_ERR_CONFIG, "decoder_segmentation_channels must be positive");
    if (st != TERRACL_OK) {
        free(p);
        return tc_fail_context(err, st, "smp Segformer");
    }
    smp_accept_head_args(args, 1);
    p->prefix = prefix;
    st = tc_module_create("SegformerDecoder", &k_segformer_vt, p, &m, err);
    if (st == TERRACL_OK)
        st = declare(m, p, err);
    if (st == TERRACL_OK) {
        terracl_value *cfg = terracl_value_new_map();
        tc_value_set_chained(cfg, "embed_dim", tc_value_int_list(p->ch.c, p->ch.n), &st, err);
        tc_value_set_chained(cfg, "decoder_segmentation_channels", terracl_value_new_int(p->seg),
                             &st, err);
        if (st == TERRACL_OK)
            st = tc_dec_finish(m, cfg, p->seg, err);
        else
            terracl_value_free(cfg);
    }
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "smp Segformer");
    }
    *out = m;
    return TERRACL_OK;
}

/*
 * smp's PSPNet decoder (PSPDecoder) on the last feature x (C channels):
 * for each pool size s in (1, 2, 3, 6), adaptive average pooling to s x s,
 * Conv2dReLU 1x1 to C/4 channels (without BatchNorm for s = 1, which
 * BatchNorm cannot take: that conv has a bias) and a bilinear
 * (align_corners) resize back; concatenated before x (2C channels) and
 * fused by a 1x1 Conv2dReLU to psp_out_channels. Dropout: eval identity.
 * Keys psp.blocks.{j}.pool.1.{0,1}, conv.{0,1}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/decoders/common.h"
#include "models/decoders/smp.h"
#include "models/decoders/smp_blocks.h"
#include "ops/layout.h"
#include "ops/resize.h"

static const int64_t k_sizes[4] = {1, 2, 3, 6};

struct psp {
    struct tc_dec_channels ch;
    const char *prefix;
    int64_t out;
    int batchnorm;
    struct smp_conv_relu blocks[4], conv;
};

static terracl_status psp_forward(terracl_module *m, struct tc_exec *ex, const struct tc_feats *in,
                                  struct tc_feats *out, terracl_error *err)
{
    struct psp *p = m->impl;
    terracl_runtime *rt = ex->rt;
    terracl_status st = tc_dec_check_inputs(&p->ch, in, err);
    if (st != TERRACL_OK)
        return st;
    const struct tc_tensor *x = &in->t[p->ch.n - 1];
    int64_t B = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    struct tc_tensor parts[5], cat = {0}, y = {0};
    memset(parts, 0, sizeof parts);
    for (int j = 0; j < 4 && st == TERRACL_OK; j++) {
        struct tc_tensor pooled = {0}, conv = {0};
        st = tc_dec_alloc(rt, B, C, k_sizes[j], k_sizes[j], &pooled, err);
        if (st == TERRACL_OK)
            st = tc_op_adaptive_avg_pool2d(rt, x, &pooled, err);
        if (st == TERRACL_OK)
            st = smp_conv_relu_run(m, rt, &p->blocks[j], &pooled, &conv, err);
        if (st == TERRACL_OK)
            st = tc_dec_alloc(rt, B, conv.dims[1], H, W, &parts[j], err);
        if (st == TERRACL_OK)
            st = tc_op_resize_bilinear(rt, &conv, 1, &parts[j], err);
        tc_tensor_free(&pooled);
        tc_tensor_free(&conv);
    }
    parts[4] = *x;
    parts[4].owns_buf = 0;
    if (st == TERRACL_OK)
        st = tc_dec_alloc(rt, B, 4 * (C / 4) + C, H, W, &cat, err);
    if (st == TERRACL_OK)
        st = tc_op_concat(rt, parts, 5, 1, &cat, err);
    for (int j = 0; j < 4; j++)
        tc_tensor_free(&parts[j]);
    if (st == TERRACL_OK)
        st = smp_conv_relu_run(m, rt, &p->conv, &cat, &y, err);
    tc_tensor_free(&cat);
    if (st != TERRACL_OK)
        return st;
    tc_dec_output(out, &y);
    return TERRACL_OK;
}

static const struct tc_module_vtable k_psp_vt = {psp_forward, free};

static terracl_status declare(terracl_module *m, struct psp *p, terracl_error *err)
{
    int64_t C = p->ch.c[p->ch.n - 1];
    char name[256], sub[64];
    terracl_status st = TERRACL_OK;
    for (int j = 0; j < 4 && st == TERRACL_OK; j++) {
        snprintf(sub, sizeof sub, "psp.blocks.%d.pool.1", j);
        st = smp_name(name, sizeof name, p->prefix, sub, err);
        if (st == TERRACL_OK)
            st = smp_conv_relu_declare(m, name, C, C / 4, 1, 0, k_sizes[j] == 1 ? 0 : p->batchnorm,
                                       &p->blocks[j], err);
    }
    if (st == TERRACL_OK)
        st = smp_name(name, sizeof name, p->prefix, "conv", err);
    if (st == TERRACL_OK)
        st = smp_conv_relu_declare(m, name, 2 * C, p->out, 1, 0, p->batchnorm, &p->conv, err);
    return st;
}

terracl_status tc_smp_pspnet_decoder_at(const terracl_value *first, const terracl_value *args,
                                        const char *prefix, terracl_module **out,
                                        terracl_error *err)
{
    *out = NULL;
    struct psp *p = calloc(1, sizeof *p);
    terracl_module *m = NULL;
    double dropout = 0.2;
    terracl_status st = p ? tc_dec_read_channels(first, &p->ch, err)
                          : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "psp_out_channels", 512, &p->out, err);
    if (st == TERRACL_OK)
        st = terracl_args_float(args, "psp_dropout", 0.2, &dropout, err); /* eval: identity */
    if (st == TERRACL_OK)
        st = smp_read_use_norm(args, "decoder_use_norm", "psp_use_batchnorm", &p->batchnorm, err);
    if (st == TERRACL_OK && (p->out < 1 || p->out > (1 << 20)))
        st = tc_fail(err, TERRACL_ERR_CONFIG, "psp_out_channels must be positive");
    if (st == TERRACL_OK && p->ch.c[p->ch.n - 1] % 4 != 0)
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "the last feature has %lld channels: smp's PSP module needs a multiple of 4 "
                     "(its four branches of C/4 and C make 2C)",
                     (long long)p->ch.c[p->ch.n - 1]);
    if (st != TERRACL_OK) {
        free(p);
        return tc_fail_context(err, st, "smp PSPNet");
    }
    smp_accept_head_args(args, 1);
    p->prefix = prefix;
    st = tc_module_create("PSPDecoder", &k_psp_vt, p, &m, err);
    if (st == TERRACL_OK)
        st = declare(m, p, err);
    if (st == TERRACL_OK) {
        terracl_value *cfg = terracl_value_new_map();
        tc_value_set_chained(cfg, "embed_dim", tc_value_int_list(p->ch.c, p->ch.n), &st, err);
        tc_value_set_chained(cfg, "psp_out_channels", terracl_value_new_int(p->out), &st, err);
        tc_value_set_chained(cfg, "decoder_use_norm",
                             terracl_value_new_string(p->batchnorm ? "batchnorm" : "identity"),
                             &st, err);
        if (st == TERRACL_OK)
            st = tc_dec_finish(m, cfg, p->out, err);
        else
            terracl_value_free(cfg);
    }
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "smp PSPNet");
    }
    *out = m;
    return TERRACL_OK;
}

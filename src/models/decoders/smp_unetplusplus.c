/*
 * smp's UnetPlusPlus decoder (UnetPlusPlusDecoder): nested U-Net blocks.
 * With the features F[0] (coarsest, the last input) .. F[n-2] (the second
 * input; the first is dropped) and D = n - 2, block x_d_l upsamples its
 * input 2x (nearest or bilinear), concatenates its skip maps after it and
 * applies two 3x3 Conv2dReLU (conv1, conv2):
 *   l = 0:  x_d_d = block(F[d], skip F[d+1]) for d < D;
 *   l > 0:  x_d_L (L = d + l) = block(x_d_{L-1}, skip [x_{d+1}_L .. x_L_L,
 *           F[L+1]]);
 *   last:   x_0_D = block(x_0_{D-1}) without a skip.
 * Widths: x_0_l outputs decoder_channels[l]; x_d_l (d > 0) outputs F[l+1]'s
 * channels. The 2x steps need each feature exactly twice the next one's
 * size (the concatenation fails in PyTorch otherwise). Attention (scse) is
 * not supported here. Keys blocks.x_{d}_{l}.conv{1,2}.{0,1}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/decoders/common.h"
#include "models/decoders/smp.h"
#include "models/decoders/smp_blocks.h"
#include "ops/layout.h"
#include "ops/resize.h"

#define UPP_MAX 8 /* smp's encoders go to depth 5: D <= 4 */

struct upp_block {
    struct smp_conv_relu c1, c2;
    int declared;
};

struct upp {
    struct tc_dec_channels ch;
    const char *prefix;
    int64_t dec[UPP_MAX];
    size_t D;
    int batchnorm, bilinear;
    struct upp_block blocks[UPP_MAX][UPP_MAX]; /* [d][l] */
};

/* F[k]: the features after dropping the first and reversing. */
static const struct tc_tensor *feat(const struct upp *p, const struct tc_feats *in, size_t k)
{
    return &in->t[p->ch.n - 1 - k];
}

static int64_t feat_ch(const struct upp *p, size_t k) { return p->ch.c[p->ch.n - 1 - k]; }

static terracl_status block_run(terracl_module *m, terracl_runtime *rt, const struct upp *p,
                                const struct upp_block *b, const struct tc_tensor *x,
                                const struct tc_tensor *skips, size_t nskip, struct tc_tensor *y,
                                terracl_error *err)
{
    int64_t B = x->dims[0], H = 2 * x->dims[2], W = 2 * x->dims[3], C = x->dims[1];
    struct tc_tensor up = {0}, cat = {0}, mid = {0};
    terracl_status st = tc_dec_alloc(rt, B, C, H, W, &up, err);
    if (st == TERRACL_OK)
        st = p->bilinear ? tc_op_resize_bilinear(rt, x, 0, &up, err)
                         : tc_op_resize_nearest(rt, x, 2.0, 2.0, &up, err);
    const struct tc_tensor *src = &up;
    if (st == TERRACL_OK && nskip > 0) {
        struct tc_tensor parts[UPP_MAX + 1];
        int64_t total = C;
        parts[0] = up;
        parts[0].owns_buf = 0;
        for (size_t i = 0; i < nskip && st == TERRACL_OK; i++) {
            parts[i + 1] = skips[i];
            parts[i + 1].owns_buf = 0;
            total += skips[i].dims[1];
            if (skips[i].dims[2] != H || skips[i].dims[3] != W)
                st = tc_fail(err, TERRACL_ERR_SHAPE,
                             "a map upsampled 2x to %lldx%lld meets a %lldx%lld skip (smp's "
                             "UnetPlusPlus needs each feature twice the next one's size)",
                             (long long)H, (long long)W, (long long)skips[i].dims[2],
                             (long long)skips[i].dims[3]);
        }
        if (st == TERRACL_OK)
            st = tc_dec_alloc(rt, B, total, H, W, &cat, err);
        if (st == TERRACL_OK)
            st = tc_op_concat(rt, parts, nskip + 1, 1, &cat, err);
        src = &cat;
    }
    if (st == TERRACL_OK)
        st = smp_conv_relu_run(m, rt, &b->c1, src, &mid, err);
    if (st == TERRACL_OK)
        st = smp_conv_relu_run(m, rt, &b->c2, &mid, y, err);
    tc_tensor_free(&up);
    tc_tensor_free(&cat);
    tc_tensor_free(&mid);
    return st;
}

static terracl_status upp_forward(terracl_module *m, struct tc_exec *ex, const struct tc_feats *in,
                                  struct tc_feats *out, terracl_error *err)
{
    struct upp *p = m->impl;
    terracl_runtime *rt = ex->rt;
    terracl_status st = tc_dec_check_inputs(&p->ch, in, err);
    if (st != TERRACL_OK)
        return st;
    size_t D = p->D;
    struct tc_tensor x[UPP_MAX][UPP_MAX];
    memset(x, 0, sizeof x);
    for (size_t l = 0; l < D && st == TERRACL_OK; l++) {
        for (size_t d = 0; d + l < D && st == TERRACL_OK; d++) {
            size_t L = d + l;
            struct tc_tensor skips[UPP_MAX + 1];
            size_t ns = 0;
            for (size_t idx = d + 1; idx <= L; idx++)
                skips[ns++] = x[idx][L];
            skips[ns++] = *feat(p, in, L + 1);
            const struct tc_tensor *src = l == 0 ? feat(p, in, d) : &x[d][L - 1];
            st = block_run(m, rt, p, &p->blocks[d][L], src, skips, ns, &x[d][L], err);
        }
    }
    struct tc_tensor y = {0};
    if (st == TERRACL_OK)
        st = block_run(m, rt, p, &p->blocks[0][D], D > 0 ? &x[0][D - 1] : feat(p, in, 0), NULL, 0,
                       &y, err);
    for (size_t d = 0; d < UPP_MAX; d++)
        for (size_t l = 0; l < UPP_MAX; l++)
            tc_tensor_free(&x[d][l]);
    if (st != TERRACL_OK)
        return st;
    tc_dec_output(out, &y);
    return TERRACL_OK;
}

static const struct tc_module_vtable k_upp_vt = {upp_forward, free};

static terracl_status declare_block(terracl_module *m, struct upp *p, size_t d, size_t l,
                                    int64_t in, int64_t skip, int64_t outc, terracl_error *err)
{
    char name[256], sub[64];
    struct upp_block *b = &p->blocks[d][l];
    snprintf(sub, sizeof sub, "blocks.x_%zu_%zu.conv1", d, l);
    terracl_status st = smp_name(name, sizeof name, p->prefix, sub, err);
    if (st == TERRACL_OK)
        st = smp_conv_relu_declare(m, name, in + skip, outc, 3, 1, p->batchnorm, &b->c1, err);
    snprintf(sub, sizeof sub, "blocks.x_%zu_%zu.conv2", d, l);
    if (st == TERRACL_OK && (st = smp_name(name, sizeof name, p->prefix, sub, err)) == TERRACL_OK)
        st = smp_conv_relu_declare(m, name, outc, outc, 3, 1, p->batchnorm, &b->c2, err);
    b->declared = 1;
    return st;
}

static terracl_status declare(terracl_module *m, struct upp *p, terracl_error *err)
{
    size_t D = p->D;
    int64_t in_ch[UPP_MAX], skip_ch[UPP_MAX];
    in_ch[0] = feat_ch(p, 0);
    for (size_t i = 1; i <= D; i++)
        in_ch[i] = p->dec[i - 1];
    for (size_t i = 0; i < D; i++)
        skip_ch[i] = feat_ch(p, i + 1);
    skip_ch[D] = 0;
    terracl_status st = TERRACL_OK;
    for (size_t l = 0; l < D && st == TERRACL_OK; l++)
        for (size_t d = 0; d <= l && st == TERRACL_OK; d++) {
            if (d == 0)
                st = declare_block(m, p, 0, l, in_ch[l], skip_ch[l] * (int64_t)(l + 1), p->dec[l],
                                   err);
            else
                st = declare_block(m, p, d, l, skip_ch[l - 1], skip_ch[l] * (int64_t)(l + 1 - d),
                                   skip_ch[l], err);
        }
    if (st == TERRACL_OK)
        st = declare_block(m, p, 0, D, in_ch[D], 0, p->dec[D], err);
    return st;
}

terracl_status tc_smp_unetplusplus_decoder_at(const terracl_value *first,
                                              const terracl_value *args, const char *prefix,
                                              terracl_module **out, terracl_error *err)
{
    *out = NULL;
    struct upp *p = calloc(1, sizeof *p);
    terracl_module *m = NULL;
    size_t nch = 0;
    int present = 0;
    const char *attention = NULL, *interp = NULL;
    terracl_status st = p ? tc_dec_read_channels(first, &p->ch, err)
                          : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK && (p->ch.n < 3 || p->ch.n > UPP_MAX))
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "smp's UnetPlusPlus takes 3 to %d feature maps (got %zu)", UPP_MAX, p->ch.n);
    if (st == TERRACL_OK)
        st = terracl_args_int_list(args, "decoder_channels", p->dec, UPP_MAX, &nch, &present, err);
    if (st == TERRACL_OK && !present) {
        static const int64_t def[5] = {256, 128, 64, 32, 16};
        memcpy(p->dec, def, sizeof def);
        nch = 5;
    }
    if (st == TERRACL_OK && nch != p->ch.n - 1)
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "Model depth is %zu, but you provide `decoder_channels` for %zu blocks",
                     p->ch.n - 1, nch);
    for (size_t i = 0; st == TERRACL_OK && i < nch; i++)
        if (p->dec[i] < 1 || p->dec[i] > (1 << 20))
            st = tc_fail(err, TERRACL_ERR_CONFIG, "decoder_channels[%zu] must be positive", i);
    if (st == TERRACL_OK)
        st = smp_read_use_norm(args, "decoder_use_norm", "decoder_use_batchnorm", &p->batchnorm,
                               err);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "decoder_attention_type", NULL, &attention, err);
    if (st == TERRACL_OK && attention != NULL)
        st = tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                     "decoder_attention_type='%s' is not supported for UnetPlusPlus", attention);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "decoder_interpolation", "nearest", &interp, err);
    if (st == TERRACL_OK && strcmp(interp, "nearest") != 0 && strcmp(interp, "bilinear") != 0)
        st = tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                     "decoder_interpolation='%s' is not supported (nearest or bilinear)", interp);
    if (st != TERRACL_OK) {
        free(p);
        return tc_fail_context(err, st, "smp UnetPlusPlus");
    }
    smp_accept_head_args(args, 0);
    p->bilinear = strcmp(interp, "bilinear") == 0;
    p->prefix = prefix;
    p->D = p->ch.n - 2;
    st = tc_module_create("UnetPlusPlusDecoder", &k_upp_vt, p, &m, err);
    if (st == TERRACL_OK)
        st = declare(m, p, err);
    if (st == TERRACL_OK) {
        terracl_value *cfg = terracl_value_new_map();
        tc_value_set_chained(cfg, "embed_dim", tc_value_int_list(p->ch.c, p->ch.n), &st, err);
        tc_value_set_chained(cfg, "decoder_channels", tc_value_int_list(p->dec, p->D + 1), &st, err);
        tc_value_set_chained(cfg, "decoder_use_norm",
                             terracl_value_new_string(p->batchnorm ? "batchnorm" : "identity"),
                             &st, err);
        tc_value_set_chained(cfg, "decoder_interpolation",
                             terracl_value_new_string(p->bilinear ? "bilinear" : "nearest"), &st,
                             err);
        if (st == TERRACL_OK)
            st = tc_dec_finish(m, cfg, p->dec[p->D], err);
        else
            terracl_value_free(cfg);
    }
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "smp UnetPlusPlus");
    }
    *out = m;
    return TERRACL_OK;
}

/*
 * smp's MAnet decoder (MAnetDecoder). With F[0] (the last input) .. F[n-2]
 * (the second; the first is dropped):
 *   center = PAB on F[0] (N = H W positions): top/center 1x1 convs to
 *   pab_channels, bottom 3x3 conv; S = center^T top (N x N per sample),
 *   softmax over all N^2 entries of a sample, S bottom^T (N x C) read back
 *   as [C, H, W] (smp reshapes without transposing), added to the input,
 *   then a 3x3 conv "out_conv" (all four convs with bias);
 *   blocks i < n-2 (MFAB, skip F[i+1]): two Conv2dReLU (3x3 to C, 1x1 to
 *   the skip's width, "hl_conv"), 2x upsampling, scaled by SE_hl(x) +
 *   SE_ll(skip) (each: global average, 1x1 conv, ReLU, 1x1 conv, sigmoid;
 *   width max(1, C/16)), concatenated with the skip, two 3x3 Conv2dReLU;
 *   the last block: 2x upsampling and two 3x3 Conv2dReLU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/decoders/common.h"
#include "models/decoders/smp.h"
#include "models/decoders/smp_blocks.h"
#include "ops/conv.h"
#include "ops/elementwise.h"
#include "ops/layout.h"
#include "ops/matmul.h"
#include "ops/resize.h"
#include "ops/softmax.h"

struct se {
    struct tc_conv2d c1, c2;
};

struct manet_block {
    int mfab;
    struct smp_conv_relu hl1, hl2, conv1, conv2;
    struct se se_hl, se_ll;
};

struct manet {
    struct tc_dec_channels ch;
    const char *prefix;
    int64_t dec[TC_DEC_MAX_INPUTS], pab;
    size_t nblocks;
    int batchnorm, bilinear;
    struct tc_conv2d top, center, bottom, out_conv;
    struct manet_block blocks[TC_DEC_MAX_INPUTS];
};

static terracl_status pab_run(terracl_module *m, terracl_runtime *rt, const struct manet *p,
                              const struct tc_tensor *x, struct tc_tensor *y, terracl_error *err)
{
    int64_t B = x->dims[0], C = x->dims[1], N = x->dims[2] * x->dims[3];
    struct tc_tensor top = {0}, cen = {0}, bot = {0}, s = {0}, o = {0};
    terracl_status st;
    if ((st = tc_layer_conv2d_run(m, rt, &p->top, x, &top, err)) ||
        (st = tc_layer_conv2d_run(m, rt, &p->center, x, &cen, err)) ||
        (st = tc_layer_conv2d_run(m, rt, &p->bottom, x, &bot, err)))
        goto out;
    {
        int64_t sd[3] = {B, N, N}, od[3] = {B, N, C};
        struct tc_tensor t3 = top, c3 = cen, b3 = bot;
        t3.ndim = c3.ndim = b3.ndim = 3;
        t3.dims[1] = c3.dims[1] = p->pab;
        t3.dims[2] = c3.dims[2] = b3.dims[2] = N;
        b3.dims[1] = C;
        if ((st = tc_tensor_alloc(rt, 3, sd, &s, err)) ||
            (st = tc_op_matmul_batched(rt, 1, 0, &c3, &t3, &s, err)))
            goto out;
        struct tc_tensor flat = s;
        flat.ndim = 2;
        flat.dims[1] = N * N;
        if ((st = tc_op_softmax(rt, &flat, 1.0f, &flat, err)) ||
            (st = tc_tensor_alloc(rt, 3, od, &o, err)) ||
            (st = tc_op_matmul_batched(rt, 0, 1, &s, &b3, &o, err)))
            goto out;
    }
    /* [B, N, C] read as [B, C, H, W], added to x. */
    o.ndim = 4;
    o.dims[1] = C;
    o.dims[2] = x->dims[2];
    o.dims[3] = x->dims[3];
    if ((st = tc_op_add(rt, &o, x, &o, err)))
        goto out;
    st = tc_layer_conv2d_run(m, rt, &p->out_conv, &o, y, err);
out:
    tc_tensor_free(&top);
    tc_tensor_free(&cen);
    tc_tensor_free(&bot);
    tc_tensor_free(&s);
    tc_tensor_free(&o);
    return st;
}

/* sigmoid(conv(relu(conv(avg(x))))): [B, C, 1, 1]. */
static terracl_status se_run(terracl_module *m, terracl_runtime *rt, const struct se *e,
                             const struct tc_tensor *x, struct tc_tensor *y, terracl_error *err)
{
    struct tc_tensor pooled = {0}, h = {0};
    terracl_status st = tc_dec_alloc(rt, x->dims[0], x->dims[1], 1, 1, &pooled, err);
    if (st == TERRACL_OK)
        st = tc_op_adaptive_avg_pool2d(rt, x, &pooled, err);
    if (st == TERRACL_OK)
        st = tc_layer_conv2d_run(m, rt, &e->c1, &pooled, &h, err);
    if (st == TERRACL_OK)
        st = tc_op_relu(rt, &h, &h, err);
    if (st == TERRACL_OK)
        st = tc_layer_conv2d_run(m, rt, &e->c2, &h, y, err);
    if (st == TERRACL_OK)
        st = tc_op_activation(rt, y, TC_ACT_SIGMOID, y, err);
    tc_tensor_free(&pooled);
    tc_tensor_free(&h);
    return st;
}

static terracl_status up2(terracl_runtime *rt, const struct manet *p, const struct tc_tensor *x,
                          struct tc_tensor *y, terracl_error *err)
{
    terracl_status st = tc_dec_alloc(rt, x->dims[0], x->dims[1], 2 * x->dims[2], 2 * x->dims[3], y,
                                     err);
    if (st == TERRACL_OK)
        st = p->bilinear ? tc_op_resize_bilinear(rt, x, 0, y, err)
                         : tc_op_resize_nearest(rt, x, 2.0, 2.0, y, err);
    return st;
}

static terracl_status block_run(terracl_module *m, terracl_runtime *rt, const struct manet *p,
                                const struct manet_block *b, const struct tc_tensor *x,
                                const struct tc_tensor *skip, struct tc_tensor *y,
                                terracl_error *err)
{
    struct tc_tensor h1 = {0}, h2 = {0}, up = {0}, ahl = {0}, all = {0}, gate = {0}, cat = {0},
                     mid = {0};
    terracl_status st = TERRACL_OK;
    const struct tc_tensor *src = x;
    if (b->mfab) {
        if ((st = smp_conv_relu_run(m, rt, &b->hl1, x, &h1, err)) ||
            (st = smp_conv_relu_run(m, rt, &b->hl2, &h1, &h2, err)))
            goto out;
        src = &h2;
    }
    if ((st = up2(rt, p, src, &up, err)))
        goto out;
    src = &up;
    if (b->mfab) {
        int64_t H = up.dims[2], W = up.dims[3];
        if (skip->dims[2] != H || skip->dims[3] != W) {
            st = tc_fail(err, TERRACL_ERR_SHAPE,
                         "a map upsampled 2x to %lldx%lld meets a %lldx%lld skip (smp's MAnet "
                         "needs each feature twice the next one's size)",
                         (long long)H, (long long)W, (long long)skip->dims[2],
                         (long long)skip->dims[3]);
            goto out;
        }
        if ((st = se_run(m, rt, &b->se_hl, &up, &ahl, err)) ||
            (st = se_run(m, rt, &b->se_ll, skip, &all, err)) ||
            (st = tc_op_add(rt, &ahl, &all, &ahl, err)) ||
            /* [B, C, 1, 1] spread over H x W (a constant nearest resize). */
            (st = tc_dec_alloc(rt, up.dims[0], up.dims[1], H, W, &gate, err)) ||
            (st = tc_op_resize_nearest(rt, &ahl, 0.0, 0.0, &gate, err)) ||
            (st = tc_op_mul(rt, &up, &gate, &up, err)))
            goto out;
        struct tc_tensor parts[2] = {up, *skip};
        parts[0].owns_buf = parts[1].owns_buf = 0;
        if ((st = tc_dec_alloc(rt, up.dims[0], up.dims[1] + skip->dims[1], H, W, &cat, err)) ||
            (st = tc_op_concat(rt, parts, 2, 1, &cat, err)))
            goto out;
        src = &cat;
    }
    if ((st = smp_conv_relu_run(m, rt, &b->conv1, src, &mid, err)))
        goto out;
    st = smp_conv_relu_run(m, rt, &b->conv2, &mid, y, err);
out:
    tc_tensor_free(&h1);
    tc_tensor_free(&h2);
    tc_tensor_free(&up);
    tc_tensor_free(&ahl);
    tc_tensor_free(&all);
    tc_tensor_free(&gate);
    tc_tensor_free(&cat);
    tc_tensor_free(&mid);
    return st;
}

static terracl_status manet_forward(terracl_module *m, struct tc_exec *ex,
                                    const struct tc_feats *in, struct tc_feats *out,
                                    terracl_error *err)
{
    struct manet *p = m->impl;
    terracl_runtime *rt = ex->rt;
    terracl_status st = tc_dec_check_inputs(&p->ch, in, err);
    if (st != TERRACL_OK)
        return st;
    size_t n = p->ch.n;
    struct tc_tensor x = {0};
    st = pab_run(m, rt, p, &in->t[n - 1], &x, err);
    for (size_t i = 0; i < p->nblocks && st == TERRACL_OK; i++) {
        const struct tc_tensor *skip = i + 2 < n ? &in->t[n - 2 - i] : NULL;
        struct tc_tensor y = {0};
        st = block_run(m, rt, p, &p->blocks[i], &x, skip, &y, err);
        tc_tensor_free(&x);
        x = y;
    }
    if (st != TERRACL_OK) {
        tc_tensor_free(&x);
        return st;
    }
    tc_dec_output(out, &x);
    return TERRACL_OK;
}

static const struct tc_module_vtable k_manet_vt = {manet_forward, free};

static terracl_status conv(terracl_module *m, const struct manet *p, const char *sub, int64_t in,
                           int64_t out, int64_t k, struct tc_conv2d *c, terracl_error *err)
{
    char name[256];
    terracl_status st = smp_name(name, sizeof name, p->prefix, sub, err);
    return st ? st : tc_layer_conv2d(m, name, in, out, k, 1, k / 2, 1, 1, c, err);
}

static terracl_status conv_relu(terracl_module *m, const struct manet *p, const char *sub,
                                int64_t in, int64_t out, int64_t k, struct smp_conv_relu *c,
                                terracl_error *err)
{
    char name[256];
    terracl_status st = smp_name(name, sizeof name, p->prefix, sub, err);
    return st ? st : smp_conv_relu_declare(m, name, in, out, k, k / 2, p->batchnorm, c, err);
}

static terracl_status declare(terracl_module *m, struct manet *p, terracl_error *err)
{
    size_t n = p->ch.n;
    int64_t head = p->ch.c[n - 1];
    terracl_status st;
    if ((st = conv(m, p, "center.top_conv", head, p->pab, 1, &p->top, err)) ||
        (st = conv(m, p, "center.center_conv", head, p->pab, 1, &p->center, err)) ||
        (st = conv(m, p, "center.bottom_conv", head, head, 3, &p->bottom, err)) ||
        (st = conv(m, p, "center.out_conv", head, head, 3, &p->out_conv, err)))
        return st;
    for (size_t i = 0; i < p->nblocks && st == TERRACL_OK; i++) {
        struct manet_block *b = &p->blocks[i];
        int64_t in = i == 0 ? head : p->dec[i - 1];
        int64_t skip = i + 2 < n ? p->ch.c[n - 2 - i] : 0, outc = p->dec[i];
        char sub[96];
        b->mfab = skip > 0;
        if (b->mfab) {
            int64_t red = skip / 16 > 1 ? skip / 16 : 1;
            snprintf(sub, sizeof sub, "blocks.%zu.hl_conv.0", i);
            if ((st = conv_relu(m, p, sub, in, in, 3, &b->hl1, err)))
                break;
            snprintf(sub, sizeof sub, "blocks.%zu.hl_conv.1", i);
            if ((st = conv_relu(m, p, sub, in, skip, 1, &b->hl2, err)))
                break;
            snprintf(sub, sizeof sub, "blocks.%zu.SE_ll.1", i);
            if ((st = conv(m, p, sub, skip, red, 1, &b->se_ll.c1, err)))
                break;
            snprintf(sub, sizeof sub, "blocks.%zu.SE_ll.3", i);
            if ((st = conv(m, p, sub, red, skip, 1, &b->se_ll.c2, err)))
                break;
            snprintf(sub, sizeof sub, "blocks.%zu.SE_hl.1", i);
            if ((st = conv(m, p, sub, skip, red, 1, &b->se_hl.c1, err)))
                break;
            snprintf(sub, sizeof sub, "blocks.%zu.SE_hl.3", i);
            if ((st = conv(m, p, sub, red, skip, 1, &b->se_hl.c2, err)))
                break;
        }
        snprintf(sub, sizeof sub, "blocks.%zu.conv1", i);
        if ((st = conv_relu(m, p, sub, b->mfab ? 2 * skip : in, outc, 3, &b->conv1, err)))
            break;
        snprintf(sub, sizeof sub, "blocks.%zu.conv2", i);
        st = conv_relu(m, p, sub, outc, outc, 3, &b->conv2, err);
    }
    return st;
}

terracl_status tc_smp_manet_decoder_at(const terracl_value *first, const terracl_value *args,
                                       const char *prefix, terracl_module **out,
                                       terracl_error *err)
{
    *out = NULL;
    struct manet *p = calloc(1, sizeof *p);
    terracl_module *m = NULL;
    size_t nch = 0;
    int present = 0;
    const char *interp = NULL;
    terracl_status st = p ? tc_dec_read_channels(first, &p->ch, err)
                          : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK && p->ch.n < 2)
        st = tc_fail(err, TERRACL_ERR_CONFIG, "smp's MAnet needs at least 2 feature maps");
    if (st == TERRACL_OK)
        st = terracl_args_int_list(args, "decoder_channels", p->dec, TC_DEC_MAX_INPUTS, &nch,
                                   &present, err);
    if (st == TERRACL_OK && !present) {
        static const int64_t def[5] = {256, 128, 64, 32, 16};
        memcpy(p->dec, def, sizeof def);
        nch = 5;
    }
    if (st == TERRACL_OK && nch != p->ch.n - 1)
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "Model depth is %zu, but you provide `decoder_channels` for %zu blocks.",
                     p->ch.n - 1, nch);
    for (size_t i = 0; st == TERRACL_OK && i < nch; i++)
        if (p->dec[i] < 1 || p->dec[i] > (1 << 20))
            st = tc_fail(err, TERRACL_ERR_CONFIG, "decoder_channels[%zu] must be positive", i);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "decoder_pab_channels", 64, &p->pab, err);
    if (st == TERRACL_OK && (p->pab < 1 || p->pab > (1 << 20)))
        st = tc_fail(err, TERRACL_ERR_CONFIG, "decoder_pab_channels must be positive");
    if (st == TERRACL_OK)
        st = smp_read_use_norm(args, "decoder_use_norm", "decoder_use_batchnorm", &p->batchnorm,
                               err);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "decoder_interpolation", "nearest", &interp, err);
    if (st == TERRACL_OK && strcmp(interp, "nearest") != 0 && strcmp(interp, "bilinear") != 0)
        st = tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                     "decoder_interpolation='%s' is not supported (nearest or bilinear)", interp);
    if (st != TERRACL_OK) {
        free(p);
        return tc_fail_context(err, st, "smp MAnet");
    }
    smp_accept_head_args(args, 0);
    p->bilinear = strcmp(interp, "bilinear") == 0;
    p->prefix = prefix;
    p->nblocks = p->ch.n - 1;
    st = tc_module_create("MAnetDecoder", &k_manet_vt, p, &m, err);
    if (st == TERRACL_OK)
        st = declare(m, p, err);
    if (st == TERRACL_OK) {
        terracl_value *cfg = terracl_value_new_map();
        tc_value_set_chained(cfg, "embed_dim", tc_value_int_list(p->ch.c, p->ch.n), &st, err);
        tc_value_set_chained(cfg, "decoder_channels", tc_value_int_list(p->dec, p->nblocks), &st,
                             err);
        tc_value_set_chained(cfg, "decoder_pab_channels", terracl_value_new_int(p->pab), &st, err);
        tc_value_set_chained(cfg, "decoder_use_norm",
                             terracl_value_new_string(p->batchnorm ? "batchnorm" : "identity"),
                             &st, err);
        tc_value_set_chained(cfg, "decoder_interpolation",
                             terracl_value_new_string(p->bilinear ? "bilinear" : "nearest"), &st,
                             err);
        if (st == TERRACL_OK)
            st = tc_dec_finish(m, cfg, p->dec[p->nblocks - 1], err);
        else
            terracl_value_free(cfg);
    }
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "smp MAnet");
    }
    *out = m;
    return TERRACL_OK;
}

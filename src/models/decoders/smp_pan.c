/*
 * smp's PAN decoder (PANDecoder), on the features from the third on, f[0]
 * (finest) .. f[m-1]. ConvBnRelu = Conv2d (with bias) -> BatchNorm ->
 * optional ReLU; "up" = bilinear with align_corners.
 *   FPA on f[m-1] (H x W): branch1 = global average -> 1x1 ConvBnRelu ->
 *   up to H x W; mid = 1x1 ConvBnRelu; x1 = maxpool2 -> 7x7 CBR to 1
 *   channel; x2 = maxpool2 -> 5x5 CBR; x3 = maxpool2 -> two 3x3 CBR, up to
 *   H/4 x W/4; ((conv2(x2) + x3) up to H/2 x W/2 + conv1(x1)) up to H x W,
 *   times mid, plus branch1.
 *   GAU(x, y) for gau3 (depth 5 only), gau2 (depth >= 4), gau1, on f[2],
 *   f[1], f[0]: y resized to x (decoder_interpolation: bilinear with
 *   align_corners, or nearest) + 3x3 CBR(x) * sigmoid(1x1 CBR without
 *   ReLU (global average of y)).
 * Keys fpa.{branch1.1, mid.0, down1.1, down2.1, down3.1, down3.2, conv2,
 * conv1}.{conv,bn}, gau{k}.conv1.1.{conv,bn}, gau{k}.conv2.{conv,bn}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/decoders/common.h"
#include "models/decoders/smp.h"
#include "models/decoders/smp_blocks.h"
#include "ops/conv.h"
#include "ops/elementwise.h"
#include "ops/resize.h"

struct cbr {
    struct tc_conv2d conv;
    struct tc_batchnorm2d bn;
    int relu;
};

struct gau {
    struct cbr gate, conv;
    int present;
};

struct pan {
    struct tc_dec_channels ch;
    const char *prefix;
    int64_t channels;
    int bilinear;
    struct cbr branch1, mid, down1, down2, down3a, down3b, conv2, conv1;
    struct gau gau[3]; /* gau1, gau2, gau3 */
};

static terracl_status cbr_declare(terracl_module *m, const char *prefix, const char *name,
                                  int64_t in, int64_t out, int64_t k, int relu, struct cbr *c,
                                  terracl_error *err)
{
    char base[256], sub[288];
    c->relu = relu;
    terracl_status st = smp_name(base, sizeof base, prefix, name, err);
    if (st == TERRACL_OK && (st = smp_name(sub, sizeof sub, base, ".conv", err)) == TERRACL_OK)
        st = tc_layer_conv2d(m, sub, in, out, k, 1, k / 2, 1, 1, &c->conv, err);
    if (st == TERRACL_OK && (st = smp_name(sub, sizeof sub, base, ".bn", err)) == TERRACL_OK)
        st = tc_layer_batchnorm2d(m, sub, out, 1e-5f, &c->bn, err);
    if (st == TERRACL_OK)
        st = tc_layer_fold_batchnorm(m, &c->conv, &c->bn, err);
    return st;
}

/* conv -> BatchNorm (folded into the conv at bind time) -> optional ReLU,
 * bias and ReLU in the convolution's epilogue. */
static terracl_status cbr_run(terracl_module *m, terracl_runtime *rt, const struct cbr *c,
                              const struct tc_tensor *x, struct tc_tensor *y, terracl_error *err)
{
    return tc_layer_conv2d_bn_run(m, rt, &c->conv, &c->bn, c->relu, x, y, err);
}

/* y = x resized to h x w (bilinear align_corners, or nearest). */
static terracl_status resize(terracl_runtime *rt, const struct tc_tensor *x, int64_t h, int64_t w,
                             int bilinear, struct tc_tensor *y, terracl_error *err)
{
    terracl_status st = tc_dec_alloc(rt, x->dims[0], x->dims[1], h, w, y, err);
    if (st == TERRACL_OK)
        st = bilinear ? tc_op_resize_bilinear(rt, x, 1, y, err)
                      : tc_op_resize_nearest(rt, x, 0.0, 0.0, y, err);
    if (st != TERRACL_OK)
        tc_tensor_free(y);
    return st;
}

static terracl_status maxpool2(terracl_runtime *rt, const struct tc_tensor *x, struct tc_tensor *y,
                               terracl_error *err)
{
    if (x->dims[2] < 2 || x->dims[3] < 2)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "smp's PAN pools its last feature three times by 2: %lldx%lld is too small",
                       (long long)x->dims[2], (long long)x->dims[3]);
    terracl_status st = tc_dec_alloc(rt, x->dims[0], x->dims[1], x->dims[2] / 2, x->dims[3] / 2, y,
                                     err);
    if (st == TERRACL_OK)
        st = tc_op_max_pool2d(rt, x, 2, 2, y, err);
    if (st != TERRACL_OK)
        tc_tensor_free(y);
    return st;
}

/* Global average then a CBR: [B, C, 1, 1]. */
static terracl_status pooled_cbr(terracl_module *m, terracl_runtime *rt, const struct cbr *c,
                                 const struct tc_tensor *x, struct tc_tensor *y,
                                 terracl_error *err)
{
    struct tc_tensor p = {0};
    terracl_status st = tc_dec_alloc(rt, x->dims[0], x->dims[1], 1, 1, &p, err);
    if (st == TERRACL_OK)
        st = tc_op_adaptive_avg_pool2d(rt, x, &p, err);
    if (st == TERRACL_OK)
        st = cbr_run(m, rt, c, &p, y, err);
    tc_tensor_free(&p);
    return st;
}

static terracl_status fpa_run(terracl_module *m, terracl_runtime *rt, const struct pan *p,
                              const struct tc_tensor *x, struct tc_tensor *out, terracl_error *err)
{
    int64_t H = x->dims[2], W = x->dims[3];
    struct tc_tensor b1 = {0}, b1u = {0}, mid = {0}, p1 = {0}, x1 = {0}, p2 = {0}, x2 = {0},
                     p3 = {0}, t3 = {0}, x3 = {0}, x3u = {0}, c2 = {0}, s = {0}, c1 = {0}, su = {0},
                     r = {0};
    terracl_status st;
    if ((st = pooled_cbr(m, rt, &p->branch1, x, &b1, err)) ||
        (st = resize(rt, &b1, H, W, 1, &b1u, err)) ||
        (st = cbr_run(m, rt, &p->mid, x, &mid, err)) || (st = maxpool2(rt, x, &p1, err)) ||
        (st = cbr_run(m, rt, &p->down1, &p1, &x1, err)) || (st = maxpool2(rt, &x1, &p2, err)) ||
        (st = cbr_run(m, rt, &p->down2, &p2, &x2, err)) || (st = maxpool2(rt, &x2, &p3, err)) ||
        (st = cbr_run(m, rt, &p->down3a, &p3, &t3, err)) ||
        (st = cbr_run(m, rt, &p->down3b, &t3, &x3, err)) ||
        (st = resize(rt, &x3, H / 4, W / 4, 1, &x3u, err)) ||
        (st = cbr_run(m, rt, &p->conv2, &x2, &c2, err)) ||
        (st = tc_op_add(rt, &c2, &x3u, &c2, err)) ||
        (st = resize(rt, &c2, H / 2, W / 2, 1, &s, err)) ||
        (st = cbr_run(m, rt, &p->conv1, &x1, &c1, err)) || (st = tc_op_add(rt, &s, &c1, &s, err)) ||
        (st = resize(rt, &s, H, W, 1, &su, err)) ||
        /* su has one channel: spread it over mid's channels before the product. */
        (st = tc_dec_alloc(rt, mid.dims[0], mid.dims[1], H, W, &r, err)))
        goto out;
    for (int64_t b = 0; b < mid.dims[0] && st == TERRACL_OK; b++) {
        struct tc_tensor one = su, dst = r;
        int64_t plane = H * W;
        one.dims[0] = 1;
        one.offset = su.offset + (size_t)(b * plane);
        one.owns_buf = 0;
        dst.dims[0] = 1;
        dst.offset = r.offset + (size_t)(b * mid.dims[1] * plane);
        dst.owns_buf = 0;
        struct tc_tensor msrc = mid;
        msrc.dims[0] = 1;
        msrc.offset = mid.offset + (size_t)(b * mid.dims[1] * plane);
        msrc.owns_buf = 0;
        st = tc_op_mul(rt, &msrc, &one, &dst, err);
    }
    if (st == TERRACL_OK)
        st = tc_op_add(rt, &r, &b1u, &r, err);
out:
    tc_tensor_free(&b1);
    tc_tensor_free(&b1u);
    tc_tensor_free(&mid);
    tc_tensor_free(&p1);
    tc_tensor_free(&x1);
    tc_tensor_free(&p2);
    tc_tensor_free(&x2);
    tc_tensor_free(&p3);
    tc_tensor_free(&t3);
    tc_tensor_free(&x3);
    tc_tensor_free(&x3u);
    tc_tensor_free(&c2);
    tc_tensor_free(&s);
    tc_tensor_free(&c1);
    tc_tensor_free(&su);
    if (st != TERRACL_OK) {
        tc_tensor_free(&r);
        return st;
    }
    *out = r;
    return TERRACL_OK;
}

/* out = resize(y to x) + CBR3x3(x) * sigmoid(CBR1x1(avg(y))). */
static terracl_status gau_run(terracl_module *m, terracl_runtime *rt, const struct pan *p,
                              const struct gau *g, const struct tc_tensor *x,
                              const struct tc_tensor *y, struct tc_tensor *out, terracl_error *err)
{
    int64_t H = x->dims[2], W = x->dims[3];
    struct tc_tensor yu = {0}, xc = {0}, gate = {0}, gate_up = {0};
    terracl_status st;
    if ((st = resize(rt, y, H, W, p->bilinear, &yu, err)) ||
        (st = cbr_run(m, rt, &g->conv, x, &xc, err)) ||
        (st = pooled_cbr(m, rt, &g->gate, y, &gate, err)) ||
        (st = tc_op_activation(rt, &gate, TC_ACT_SIGMOID, &gate, err)) ||
        /* [B, C, 1, 1] spread over H x W (a constant nearest resize). */
        (st = resize(rt, &gate, H, W, 0, &gate_up, err)) ||
        (st = tc_op_mul(rt, &xc, &gate_up, &xc, err)) || (st = tc_op_add(rt, &yu, &xc, &yu, err)))
        tc_tensor_free(&yu);
    tc_tensor_free(&xc);
    tc_tensor_free(&gate);
    tc_tensor_free(&gate_up);
    if (st == TERRACL_OK)
        *out = yu;
    return st;
}

static terracl_status pan_forward(terracl_module *m, struct tc_exec *ex, const struct tc_feats *in,
                                  struct tc_feats *out, terracl_error *err)
{
    struct pan *p = m->impl;
    terracl_runtime *rt = ex->rt;
    terracl_status st = tc_dec_check_inputs(&p->ch, in, err);
    if (st != TERRACL_OK)
        return st;
    const struct tc_tensor *f = &in->t[2];
    size_t mcount = p->ch.n - 2;
    struct tc_tensor cur = {0};
    st = fpa_run(m, rt, p, &f[mcount - 1], &cur, err);
    for (int k = 2; k >= 0 && st == TERRACL_OK; k--) {
        if (!p->gau[k].present)
            continue;
        struct tc_tensor next = {0};
        st = gau_run(m, rt, p, &p->gau[k], &f[k], &cur, &next, err);
        tc_tensor_free(&cur);
        cur = next;
    }
    if (st != TERRACL_OK) {
        tc_tensor_free(&cur);
        return st;
    }
    tc_dec_output(out, &cur);
    return TERRACL_OK;
}

static const struct tc_module_vtable k_pan_vt = {pan_forward, free};

static terracl_status declare(terracl_module *m, struct pan *p, terracl_error *err)
{
    const int64_t *e = p->ch.c + 2; /* encoder_channels[2:] */
    int64_t top = p->ch.c[p->ch.n - 1], C = p->channels;
    size_t depth = p->ch.n - 1;
    const char *pre = p->prefix;
    terracl_status st;
    if ((st = cbr_declare(m, pre, "fpa.branch1.1", top, C, 1, 1, &p->branch1, err)) ||
        (st = cbr_declare(m, pre, "fpa.mid.0", top, C, 1, 1, &p->mid, err)) ||
        (st = cbr_declare(m, pre, "fpa.down1.1", top, 1, 7, 1, &p->down1, err)) ||
        (st = cbr_declare(m, pre, "fpa.down2.1", 1, 1, 5, 1, &p->down2, err)) ||
        (st = cbr_declare(m, pre, "fpa.down3.1", 1, 1, 3, 1, &p->down3a, err)) ||
        (st = cbr_declare(m, pre, "fpa.down3.2", 1, 1, 3, 1, &p->down3b, err)) ||
        (st = cbr_declare(m, pre, "fpa.conv2", 1, 1, 5, 1, &p->conv2, err)) ||
        (st = cbr_declare(m, pre, "fpa.conv1", 1, 1, 7, 1, &p->conv1, err)))
        return st;
    /* smp: gau3 only at depth 5, gau2 from depth 4, gau1 always. */
    p->gau[2].present = depth == 5;
    p->gau[1].present = depth >= 4;
    p->gau[0].present = 1;
    for (int k = 0; k < 3 && st == TERRACL_OK; k++) {
        if (!p->gau[k].present)
            continue;
        char name[64];
        snprintf(name, sizeof name, "gau%d.conv1.1", k + 1);
        st = cbr_declare(m, pre, name, C, C, 1, 0, &p->gau[k].gate, err);
        snprintf(name, sizeof name, "gau%d.conv2", k + 1);
        if (st == TERRACL_OK)
            st = cbr_declare(m, pre, name, e[k], C, 3, 1, &p->gau[k].conv, err);
    }
    return st;
}

terracl_status tc_smp_pan_decoder_at(const terracl_value *first, const terracl_value *args,
                                     const char *prefix, terracl_module **out,
                                     terracl_error *err)
{
    *out = NULL;
    struct pan *p = calloc(1, sizeof *p);
    terracl_module *m = NULL;
    const char *interp = NULL;
    int64_t os = 16;
    terracl_status st = p ? tc_dec_read_channels(first, &p->ch, err)
                          : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK && p->ch.n < 4)
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "Encoder depth for PAN decoder cannot be less than 3, got %zu (%zu feature "
                     "maps)",
                     p->ch.n - 1, p->ch.n);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "decoder_channels", 32, &p->channels, err);
    if (st == TERRACL_OK) {
        /* upscale_mode: smp's deprecated name, which wins when given. */
        const char *key = terracl_value_map_peek(args, "upscale_mode") ? "upscale_mode"
                                                                       : "decoder_interpolation";
        st = terracl_args_string(args, key, "bilinear", &interp, err);
    }
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "encoder_output_stride", 16, &os, err);
    if (st == TERRACL_OK && os != 16 && os != 32)
        st = tc_fail(err, TERRACL_ERR_CONFIG, "PAN support output stride 16 or 32, got %lld",
                     (long long)os);
    if (st == TERRACL_OK && strcmp(interp, "bilinear") != 0 && strcmp(interp, "nearest") != 0)
        st = tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                     "decoder_interpolation='%s' is not supported (bilinear or nearest)", interp);
    if (st == TERRACL_OK && (p->channels < 1 || p->channels > (1 << 20)))
        st = tc_fail(err, TERRACL_ERR_CONFIG, "decoder_channels must be positive");
    if (st != TERRACL_OK) {
        free(p);
        return tc_fail_context(err, st, "smp PAN");
    }
    smp_accept_head_args(args, 1);
    p->bilinear = strcmp(interp, "bilinear") == 0;
    p->prefix = prefix;
    st = tc_module_create("PANDecoder", &k_pan_vt, p, &m, err);
    if (st == TERRACL_OK)
        st = declare(m, p, err);
    if (st == TERRACL_OK) {
        terracl_value *cfg = terracl_value_new_map();
        tc_value_set_chained(cfg, "embed_dim", tc_value_int_list(p->ch.c, p->ch.n), &st, err);
        tc_value_set_chained(cfg, "decoder_channels", terracl_value_new_int(p->channels), &st, err);
        tc_value_set_chained(cfg, "decoder_interpolation",
                             terracl_value_new_string(p->bilinear ? "bilinear" : "nearest"), &st,
                             err);
        if (st == TERRACL_OK)
            st = tc_dec_finish(m, cfg, p->channels, err);
        else
            terracl_value_free(cfg);
    }
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "smp PAN");
    }
    *out = m;
    return TERRACL_OK;
}

/*
 * smp's FPN decoder (FPNDecoder). On the last four features c2..c5:
 *   p5 = 1x1 conv (bias) of c5; p4, p3, p2: the coarser level upsampled 2x
 *   (nearest, or bilinear), plus a 1x1 conv (bias) "skip_conv" of c4, c3, c2;
 *   seg_blocks[k] turn p5, p4, p3, p2 into segmentation_channels maps with
 *   3, 2, 1, 0 stages of Conv3x3 (no bias) -> GroupNorm(32) -> ReLU, each but
 *   the zero-stage one followed by a 2x bilinear upsample (align_corners);
 *   the four are summed ("add") or concatenated in that order ("cat").
 * The 2x steps need each feature exactly twice the next one's size, as in
 * PyTorch (where a mismatch fails the addition). Dropout is eval-mode identity.
 * Keys: p5, p{4,3,2}.skip_conv, seg_blocks.{k}.block.{j}.block.{0,1}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/decoders/common.h"
#include "models/decoders/smp.h"
#include "models/decoders/smp_blocks.h"
#include "ops/elementwise.h"
#include "ops/groupnorm.h"
#include "ops/layout.h"
#include "ops/resize.h"

#define FPN_GROUPS 32

struct gn_stage {
    struct tc_conv2d conv;
    size_t gn_w, gn_b;
    int upsample;
};

struct fpn {
    struct tc_dec_channels ch;
    const char *prefix;
    int64_t pyramid, seg;
    int cat, bilinear;
    struct tc_conv2d p5, skip[3]; /* p4, p3, p2 */
    struct gn_stage stages[4][3];
    int nstages[4];
};

static terracl_status gn_stage_run(terracl_module *m, terracl_runtime *rt,
                                   const struct gn_stage *s, const struct tc_tensor *x,
                                   struct tc_tensor *y, terracl_error *err)
{
    struct tc_tensor c = {0};
    terracl_status st = tc_layer_conv2d_run(m, rt, &s->conv, x, &c, err);
    if (st == TERRACL_OK)
        st = tc_op_groupnorm(rt, &c, FPN_GROUPS, tc_dec_param(m, s->gn_w), tc_dec_param(m, s->gn_b),
                             1e-5f, 1, &c, err);
    if (st == TERRACL_OK && s->upsample) {
        st = tc_dec_alloc(rt, c.dims[0], c.dims[1], 2 * c.dims[2], 2 * c.dims[3], y, err);
        if (st == TERRACL_OK)
            st = tc_op_resize_bilinear(rt, &c, 1, y, err);
        tc_tensor_free(&c);
        return st;
    }
    if (st != TERRACL_OK) {
        tc_tensor_free(&c);
        return st;
    }
    *y = c;
    return TERRACL_OK;
}

/* p = upsample2x(coarse) + skip_conv(c). */
static terracl_status fpn_block(terracl_module *m, terracl_runtime *rt, const struct fpn *p,
                                const struct tc_conv2d *skip_conv, const struct tc_tensor *coarse,
                                const struct tc_tensor *c, struct tc_tensor *y, terracl_error *err)
{
    struct tc_tensor up = {0};
    int64_t H = 2 * coarse->dims[2], W = 2 * coarse->dims[3];
    if (c->dims[2] != H || c->dims[3] != W)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "a %lldx%lld feature upsampled 2x (%lldx%lld) does not match the next "
                       "feature's %lldx%lld (smp's FPN needs each feature twice the next one's "
                       "size)",
                       (long long)coarse->dims[2], (long long)coarse->dims[3], (long long)H,
                       (long long)W, (long long)c->dims[2], (long long)c->dims[3]);
    terracl_status st = tc_dec_alloc(rt, coarse->dims[0], coarse->dims[1], H, W, &up, err);
    if (st == TERRACL_OK)
        st = p->bilinear ? tc_op_resize_bilinear(rt, coarse, 0, &up, err)
                         : tc_op_resize_nearest(rt, coarse, 2.0, 2.0, &up, err);
    if (st == TERRACL_OK)
        st = tc_layer_conv2d_run(m, rt, skip_conv, c, y, err);
    if (st == TERRACL_OK)
        st = tc_op_add(rt, y, &up, y, err);
    tc_tensor_free(&up);
    return st;
}

static terracl_status fpn_forward(terracl_module *m, struct tc_exec *ex, const struct tc_feats *in,
                                  struct tc_feats *out, terracl_error *err)
{
    struct fpn *p = m->impl;
    terracl_runtime *rt = ex->rt;
    terracl_status st = tc_dec_check_inputs(&p->ch, in, err);
    if (st != TERRACL_OK)
        return st;
    size_t n = p->ch.n;
    struct tc_tensor pyr[4], segs[4], y = {0}; /* p5, p4, p3, p2 */
    memset(pyr, 0, sizeof pyr);
    memset(segs, 0, sizeof segs);
    st = tc_layer_conv2d_run(m, rt, &p->p5, &in->t[n - 1], &pyr[0], err);
    for (int k = 1; k < 4 && st == TERRACL_OK; k++)
        st = fpn_block(m, rt, p, &p->skip[k - 1], &pyr[k - 1], &in->t[n - 1 - k], &pyr[k], err);
    for (int k = 0; k < 4 && st == TERRACL_OK; k++) {
        struct tc_tensor cur = pyr[k];
        cur.owns_buf = 0;
        for (int j = 0; j < p->nstages[k] && st == TERRACL_OK; j++) {
            struct tc_tensor next = {0};
            st = gn_stage_run(m, rt, &p->stages[k][j], &cur, &next, err);
            if (j > 0)
                tc_tensor_free(&cur);
            cur = next;
        }
        segs[k] = cur;
    }
    for (int k = 1; k < 4 && st == TERRACL_OK; k++)
        if (segs[k].dims[2] != segs[0].dims[2] || segs[k].dims[3] != segs[0].dims[3])
            st = tc_fail(err, TERRACL_ERR_SHAPE, "the FPN levels do not meet at one size");
    if (st == TERRACL_OK && p->cat) {
        st = tc_dec_alloc(rt, segs[0].dims[0], 4 * p->seg, segs[0].dims[2], segs[0].dims[3], &y,
                          err);
        if (st == TERRACL_OK)
            st = tc_op_concat(rt, segs, 4, 1, &y, err);
    } else if (st == TERRACL_OK) {
        st = tc_dec_clone(rt, &segs[0], &y, err);
        for (int k = 1; k < 4 && st == TERRACL_OK; k++)
            st = tc_op_add(rt, &y, &segs[k], &y, err);
    }
    for (int k = 0; k < 4; k++) {
        tc_tensor_free(&pyr[k]);
        tc_tensor_free(&segs[k]);
    }
    if (st != TERRACL_OK) {
        tc_tensor_free(&y);
        return st;
    }
    tc_dec_output(out, &y);
    return TERRACL_OK;
}

static const struct tc_module_vtable k_fpn_vt = {fpn_forward, free};

static terracl_status declare(terracl_module *m, struct fpn *p, terracl_error *err)
{
    char name[256], sub[128];
    size_t n = p->ch.n;
    terracl_status st = smp_name(name, sizeof name, p->prefix, "p5", err);
    if (st == TERRACL_OK)
        st = tc_layer_conv2d(m, name, p->ch.c[n - 1], p->pyramid, 1, 1, 0, 1, 1, &p->p5, err);
    for (int k = 1; k < 4 && st == TERRACL_OK; k++) {
        snprintf(sub, sizeof sub, "p%d.skip_conv", 5 - k);
        st = smp_name(name, sizeof name, p->prefix, sub, err);
        if (st == TERRACL_OK)
            st = tc_layer_conv2d(m, name, p->ch.c[n - 1 - k], p->pyramid, 1, 1, 0, 1, 1,
                                 &p->skip[k - 1], err);
    }
    for (int k = 0; k < 4 && st == TERRACL_OK; k++) {
        int ups = 3 - k;
        p->nstages[k] = ups > 0 ? ups : 1;
        for (int j = 0; j < p->nstages[k] && st == TERRACL_OK; j++) {
            struct gn_stage *s = &p->stages[k][j];
            s->upsample = ups > 0;
            snprintf(sub, sizeof sub, "seg_blocks.%d.block.%d.block.0", k, j);
            st = smp_name(name, sizeof name, p->prefix, sub, err);
            if (st == TERRACL_OK)
                st = tc_layer_conv2d(m, name, j == 0 ? p->pyramid : p->seg, p->seg, 3, 1, 1, 1, 0,
                                     &s->conv, err);
            snprintf(sub, sizeof sub, "seg_blocks.%d.block.%d.block.1.weight", k, j);
            if (st == TERRACL_OK)
                st = smp_name(name, sizeof name, p->prefix, sub, err);
            if (st == TERRACL_OK)
                st = tc_module_add_param(m, name, 1, &p->seg, &s->gn_w, err);
            snprintf(sub, sizeof sub, "seg_blocks.%d.block.%d.block.1.bias", k, j);
            if (st == TERRACL_OK)
                st = smp_name(name, sizeof name, p->prefix, sub, err);
            if (st == TERRACL_OK)
                st = tc_module_add_param(m, name, 1, &p->seg, &s->gn_b, err);
        }
    }
    return st;
}

static terracl_status read_args(struct fpn *p, const terracl_value *first,
                                const terracl_value *args, terracl_error *err)
{
    const char *merge = NULL, *interp = NULL;
    double dropout = 0.2;
    terracl_status st = tc_dec_read_channels(first, &p->ch, err);
    if (st == TERRACL_OK && p->ch.n < 4)
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "Encoder depth for FPN decoder cannot be less than 3, got %zu (%zu feature "
                     "maps)",
                     p->ch.n - 1, p->ch.n);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "decoder_pyramid_channels", 256, &p->pyramid, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "decoder_segmentation_channels", 128, &p->seg, err);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "decoder_merge_policy", "add", &merge, err);
    if (st == TERRACL_OK)
        st = terracl_args_float(args, "decoder_dropout", 0.2, &dropout, err); /* eval: identity */
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "decoder_interpolation", "nearest", &interp, err);
    if (st != TERRACL_OK)
        return st;
    smp_accept_head_args(args, 1);
    if (strcmp(merge, "add") != 0 && strcmp(merge, "cat") != 0)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "`merge_policy` must be one of: ['add', 'cat'], got %s", merge);
    p->cat = strcmp(merge, "cat") == 0;
    if (strcmp(interp, "nearest") != 0 && strcmp(interp, "bilinear") != 0)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "decoder_interpolation='%s' is not supported (nearest or bilinear)", interp);
    p->bilinear = strcmp(interp, "bilinear") == 0;
    if (p->pyramid < 1 || p->pyramid > (1 << 20) || p->seg < 1 || p->seg > (1 << 20))
        return tc_fail(err, TERRACL_ERR_CONFIG, "the FPN channel counts must be positive");
    if (p->seg % FPN_GROUPS != 0)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "decoder_segmentation_channels=%lld: GroupNorm(32) needs a multiple of 32",
                       (long long)p->seg);
    return TERRACL_OK;
}

terracl_status tc_smp_fpn_decoder_at(const terracl_value *first, const terracl_value *args,
                                     const char *prefix, terracl_module **out,
                                     terracl_error *err)
{
    *out = NULL;
    struct fpn *p = calloc(1, sizeof *p);
    terracl_module *m = NULL;
    terracl_status st = p ? read_args(p, first, args, err)
                          : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st != TERRACL_OK) {
        free(p);
        return tc_fail_context(err, st, "smp FPN");
    }
    p->prefix = prefix;
    st = tc_module_create("FPNDecoder", &k_fpn_vt, p, &m, err);
    if (st == TERRACL_OK)
        st = declare(m, p, err);
    if (st == TERRACL_OK) {
        terracl_value *cfg = terracl_value_new_map();
        tc_value_set_chained(cfg, "embed_dim", tc_value_int_list(p->ch.c, p->ch.n), &st, err);
        tc_value_set_chained(cfg, "decoder_pyramid_channels", terracl_value_new_int(p->pyramid), &st, err);
        tc_value_set_chained(cfg, "decoder_segmentation_channels", terracl_value_new_int(p->seg), &st, err);
        tc_value_set_chained(cfg, "decoder_merge_policy",
                             terracl_value_new_string(p->cat ? "cat" : "add"), &st, err);
        tc_value_set_chained(cfg, "decoder_interpolation",
                             terracl_value_new_string(p->bilinear ? "bilinear" : "nearest"), &st, err);
        if (st == TERRACL_OK)
            st = tc_dec_finish(m, cfg, p->cat ? 4 * p->seg : p->seg, err);
        else
            terracl_value_free(cfg);
    }
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "smp FPN");
    }
    *out = m;
    return TERRACL_OK;
}

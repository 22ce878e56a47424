/*
 * TerraTorch's ASPP decoders (aspp_head.py), registered in its own decoder
 * source:
 *   ASPPModule(dilations, in_channels, channels, conv_cfg, norm_cfg, act_cfg):
 *     one ConvModule per dilation (1x1 for dilation 1, else 3x3 with
 *     padding = dilation), keys model_sequence.{i}.conv/norm; its forward
 *     takes one feature map and returns one map per branch.
 *   ASPPHead(dilations, in_channels, channels, ..., align_corners,
 *     input_transform, in_index): input selection (inputs[in_index], or
 *     "resize_concat": the in_index maps resized bilinearly to the first's
 *     size and concatenated), then image pooling (global average, 1x1
 *     ConvModule "image_pool.1", bilinear back), the ASPPModule branches
 *     "aspp_modules", all concatenated (pooling first) and fused by a 3x3
 *     ConvModule "bottleneck".
 *   ASPPSegmentationHead(channel_list, dilations, ..., num_classes): ASPPHead,
 *     dropout (eval: identity), 1x1 conv "conv_seg" (bias).
 *   ASPPRegressionHead(channel_list, ..., out_channels): the same with
 *     "conv_reg".
 * As in TerraTorch, ASPPModule and ASPPHead take `dilations` first, so a
 * registry build puts the channel list there; only ASPPRegressionHead has an
 * out_channels attribute (the others report none, so a factory cannot put a
 * head on them, as TerraTorch's cannot either).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/decoders/common.h"
#include "models/decoders/decoders.h"
#include "models/layers.h"
#include "ops/layout.h"
#include "ops/resize.h"

enum aspp_kind { ASPP_MODULE, ASPP_HEAD, ASPP_SEGMENTATION, ASPP_REGRESSION };

static const char *const k_type[] = {"ASPPModule", "ASPPHead", "ASPPSegmentationHead",
                                     "ASPPRegressionHead"};

struct aspp {
    enum aspp_kind kind;
    struct tc_dec_channels ch; /* the inputs (the registry's channel list) */
    int64_t dil[TC_DEC_MAX_INPUTS];
    size_t ndil;
    int64_t in_channels, channels, out;
    int align_corners, concat;
    size_t index[TC_DEC_MAX_INPUTS];
    size_t nindex;
    struct tc_conv_module pool, branch[TC_DEC_MAX_INPUTS], bottleneck;
    struct tc_conv2d final;
};

static terracl_status resize_to(terracl_runtime *rt, const struct tc_tensor *x, int64_t h,
                                int64_t w, int align_corners, struct tc_tensor *y,
                                terracl_error *err)
{
    terracl_status st = tc_dec_alloc(rt, x->dims[0], x->dims[1], h, w, y, err);
    if (st == TERRACL_OK)
        st = tc_op_resize_bilinear(rt, x, align_corners, y, err);
    return st;
}

/* The ASPP branches on x into parts[first..]. */
static terracl_status branches(terracl_module *m, terracl_runtime *rt, const struct aspp *p,
                               const struct tc_tensor *x, struct tc_tensor *parts,
                               terracl_error *err)
{
    terracl_status st = TERRACL_OK;
    for (size_t i = 0; i < p->ndil && st == TERRACL_OK; i++)
        st = tc_layer_conv_module_run(m, rt, &p->branch[i], x, &parts[i], err);
    return st;
}

/* _transform_inputs: y is a borrowed view or a new concatenation. */
static terracl_status select_input(terracl_runtime *rt, const struct aspp *p,
                                   const struct tc_feats *in, struct tc_tensor *y,
                                   terracl_error *err)
{
    if (!p->concat) {
        *y = in->t[p->index[0]];
        y->owns_buf = 0;
        return TERRACL_OK;
    }
    const struct tc_tensor *f0 = &in->t[p->index[0]];
    struct tc_tensor parts[TC_DEC_MAX_INPUTS];
    memset(parts, 0, sizeof parts);
    int64_t C = 0;
    terracl_status st = TERRACL_OK;
    for (size_t i = 0; i < p->nindex && st == TERRACL_OK; i++) {
        st = resize_to(rt, &in->t[p->index[i]], f0->dims[2], f0->dims[3], p->align_corners,
                       &parts[i], err);
        C += in->t[p->index[i]].dims[1];
    }
    if (st == TERRACL_OK)
        st = tc_dec_alloc(rt, f0->dims[0], C, f0->dims[2], f0->dims[3], y, err);
    if (st == TERRACL_OK)
        st = tc_op_concat(rt, parts, p->nindex, 1, y, err);
    for (size_t i = 0; i < p->nindex; i++)
        tc_tensor_free(&parts[i]);
    return st;
}

static terracl_status aspp_forward(terracl_module *m, struct tc_exec *ex, const struct tc_feats *in,
                                   struct tc_feats *out, terracl_error *err)
{
    struct aspp *p = m->impl;
    terracl_runtime *rt = ex->rt;
    terracl_status st;
    if (p->kind == ASPP_MODULE) {
        if (in->n != 1)
            return tc_fail(err, TERRACL_ERR_SHAPE,
                           "ASPPModule takes one feature map, got %zu feature maps", in->n);
        if (p->ndil > TC_MAX_FEATS)
            return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "too many dilations");
        st = branches(m, rt, p, &in->t[0], out->t, err);
        out->n = p->ndil;
        if (st != TERRACL_OK)
            tc_feats_free(out);
        return st;
    }
    if ((st = tc_dec_check_inputs(&p->ch, in, err)))
        return st;
    struct tc_tensor x = {0}, pooled = {0}, pconv = {0}, cat = {0}, feats = {0}, y = {0};
    struct tc_tensor parts[TC_DEC_MAX_INPUTS + 1];
    memset(parts, 0, sizeof parts);
    if ((st = select_input(rt, p, in, &x, err)))
        return st;
    if (x.dims[1] != p->in_channels)
        st = tc_fail(err, TERRACL_ERR_SHAPE,
                     "the selected input has %lld channels, in_channels is %lld",
                     (long long)x.dims[1], (long long)p->in_channels);
    int64_t B = x.dims[0], H = x.dims[2], W = x.dims[3];
    if (st == TERRACL_OK)
        st = tc_dec_alloc(rt, B, p->in_channels, 1, 1, &pooled, err);
    if (st == TERRACL_OK)
        st = tc_op_adaptive_avg_pool2d(rt, &x, &pooled, err);
    if (st == TERRACL_OK)
        st = tc_layer_conv_module_run(m, rt, &p->pool, &pooled, &pconv, err);
    if (st == TERRACL_OK)
        st = resize_to(rt, &pconv, H, W, p->align_corners, &parts[0], err);
    if (st == TERRACL_OK)
        st = branches(m, rt, p, &x, &parts[1], err);
    if (st == TERRACL_OK)
        st = tc_dec_alloc(rt, B, (int64_t)(p->ndil + 1) * p->channels, H, W, &cat, err);
    if (st == TERRACL_OK)
        st = tc_op_concat(rt, parts, p->ndil + 1, 1, &cat, err);
    for (size_t i = 0; i <= p->ndil; i++)
        tc_tensor_free(&parts[i]);
    tc_tensor_free(&pooled);
    tc_tensor_free(&pconv);
    tc_tensor_free(&x);
    if (st == TERRACL_OK)
        st = tc_layer_conv_module_run(m, rt, &p->bottleneck, &cat, &feats, err);
    tc_tensor_free(&cat);
    if (st == TERRACL_OK && p->kind != ASPP_HEAD) {
        st = tc_layer_conv2d_run(m, rt, &p->final, &feats, &y, err);
        tc_tensor_free(&feats);
    } else if (st == TERRACL_OK) {
        y = feats;
    }
    if (st != TERRACL_OK)
        return st;
    tc_dec_output(out, &y);
    return TERRACL_OK;
}

static const struct tc_module_vtable k_aspp_vt = {aspp_forward, free};

static terracl_status declare(terracl_module *m, struct aspp *p, terracl_error *err)
{
    const char *base = p->kind == ASPP_MODULE ? "" : "aspp_modules.";
    char name[96];
    terracl_status st = TERRACL_OK;
    for (size_t i = 0; i < p->ndil && st == TERRACL_OK; i++) {
        int64_t d = p->dil[i];
        snprintf(name, sizeof name, "%smodel_sequence.%zu", base, i);
        st = tc_layer_conv_module(m, name, p->in_channels, p->channels, d == 1 ? 1 : 3,
                                  d == 1 ? 0 : d, d, &p->branch[i], err);
    }
    if (p->kind == ASPP_MODULE || st != TERRACL_OK)
        return st;
    if ((st = tc_layer_conv_module(m, "image_pool.1", p->in_channels, p->channels, 1, 0, 1,
                                   &p->pool, err)) ||
        (st = tc_layer_conv_module(m, "bottleneck", (int64_t)(p->ndil + 1) * p->channels,
                                   p->channels, 3, 1, 1, &p->bottleneck, err)))
        return st;
    if (p->kind == ASPP_SEGMENTATION)
        return tc_layer_conv2d(m, "conv_seg", p->channels, p->out, 1, 1, 0, 1, 1, &p->final, err);
    if (p->kind == ASPP_REGRESSION)
        return tc_layer_conv2d(m, "conv_reg", p->channels, p->out, 1, 1, 0, 1, 1, &p->final, err);
    return TERRACL_OK;
}

static terracl_status read_index(struct aspp *p, const terracl_value *args, terracl_error *err)
{
    const terracl_value *v = terracl_value_map_peek(args, "in_index");
    int64_t idx[TC_DEC_MAX_INPUTS];
    terracl_status st;
    if (v != NULL && terracl_value_type_of(v) == TERRACL_VALUE_LIST) {
        if ((st = terracl_args_int_list(args, "in_index", idx, TC_DEC_MAX_INPUTS, &p->nindex,
                                        NULL, err)))
            return st;
    } else {
        if ((st = terracl_args_int(args, "in_index", -1, &idx[0], err)))
            return st;
        p->nindex = 1;
    }
    if (p->concat != (v != NULL && terracl_value_type_of(v) == TERRACL_VALUE_LIST) ||
        p->nindex == 0)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       p->concat ? "input_transform='resize_concat' needs in_index as a list"
                                 : "in_index must be one index (a list needs "
                                   "input_transform='resize_concat')");
    for (size_t i = 0; i < p->nindex; i++)
        if ((st = tc_dec_index("in_index", idx[i], p->ch.n, &p->index[i], err)))
            return st;
    return TERRACL_OK;
}

static terracl_status read_args(struct aspp *p, const terracl_value *first,
                                const terracl_value *args, terracl_error *err)
{
    struct tc_dec_channels list;
    terracl_status st = tc_dec_read_channels(first, &list, err);
    if (st != TERRACL_OK)
        return st;
    int present = 0;
    if (p->kind == ASPP_MODULE || p->kind == ASPP_HEAD) {
        /* The positional list lands in `dilations`; the inputs are unknown
         * until run (the head then selects by in_index). */
        if (terracl_value_map_peek(args, "dilations"))
            return tc_fail(err, TERRACL_ERR_CONFIG,
                           "got multiple values for argument 'dilations' (the channel list "
                           "is passed as dilations)");
        memcpy(p->dil, list.c, sizeof(int64_t) * list.n);
        p->ndil = list.n;
        p->ch = list;
    } else {
        p->ch = list;
        st = terracl_args_int_list(args, "dilations", p->dil, TC_DEC_MAX_INPUTS, &p->ndil,
                                   &present, err);
        if (st == TERRACL_OK && !present) {
            static const int64_t def[4] = {1, 6, 12, 18};
            memcpy(p->dil, def, sizeof def);
            p->ndil = 4;
        }
    }
    const char *transform = NULL;
    double dropout = 0.3;
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "in_channels", 0, &p->in_channels, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "channels", 0, &p->channels, err);
    if (st != TERRACL_OK)
        return st;
    if (p->in_channels < 1 || p->channels < 1 || p->in_channels > (1 << 20) ||
        p->channels > (1 << 20))
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "in_channels and channels must be given as positive counts");
    for (size_t i = 0; i < p->ndil; i++)
        if (p->dil[i] < 1 || p->dil[i] > 4096)
            return tc_fail(err, TERRACL_ERR_CONFIG, "dilation %lld must be positive",
                           (long long)p->dil[i]);
    if (p->kind == ASPP_MODULE) {
        /* Required by the signature; ConvModule ignores them. */
        static const char *const cfgs[3] = {"conv_cfg", "norm_cfg", "act_cfg"};
        for (int i = 0; i < 3; i++)
            if (terracl_value_map_get(args, cfgs[i]) == NULL)
                return tc_fail(err, TERRACL_ERR_CONFIG, "missing required argument '%s'", cfgs[i]);
        return TERRACL_OK;
    }
    if ((st = terracl_args_bool(args, "align_corners", 0, &p->align_corners, err)) ||
        (st = terracl_args_float(args, "head_dropout_ratio", 0.3, &dropout, err)) ||
        (st = terracl_args_string(args, "input_transform", NULL, &transform, err)))
        return st;
    if (transform != NULL && strcmp(transform, "resize_concat") != 0)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "input_transform='%s' is not supported (None or resize_concat; "
                       "TerraTorch's multiple_select hands a list to a 2-D pool)",
                       transform);
    p->concat = transform != NULL;
    if ((st = read_index(p, args, err)))
        return st;
    if (p->kind == ASPP_HEAD) {
        (void)terracl_value_map_get(args, "out_dim"); /* stored, never used */
        return TERRACL_OK;
    }
    if (!(dropout > 0.0))
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "head_dropout_ratio=%g: TerraTorch's %s then has no dropout layer and "
                       "fails in forward",
                       dropout, k_type[p->kind]);
    st = p->kind == ASPP_SEGMENTATION ? terracl_args_int(args, "num_classes", 2, &p->out, err)
                                      : terracl_args_int(args, "out_channels", 1, &p->out, err);
    if (st == TERRACL_OK && (p->out < 1 || p->out > (1 << 20)))
        st = tc_fail(err, TERRACL_ERR_CONFIG, "%s must be positive",
                     p->kind == ASPP_SEGMENTATION ? "num_classes" : "out_channels");
    return st;
}

static terracl_status build(enum aspp_kind kind, const terracl_value *first,
                            const terracl_value *args, terracl_module **out, terracl_error *err)
{
    *out = NULL;
    struct aspp *p = calloc(1, sizeof *p);
    terracl_module *m = NULL;
    if (p != NULL)
        p->kind = kind;
    terracl_status st = p ? read_args(p, first, args, err)
                          : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st != TERRACL_OK) {
        free(p);
        return tc_fail_context(err, st, "%s", k_type[kind]);
    }
    st = tc_module_create(k_type[kind], &k_aspp_vt, p, &m, err);
    if (st == TERRACL_OK)
        st = declare(m, p, err);
    if (st == TERRACL_OK) {
        terracl_value *cfg = terracl_value_new_map();
        tc_value_set_chained(cfg, "embed_dim", tc_value_int_list(p->ch.c, p->ch.n), &st, err);
        tc_value_set_chained(cfg, "dilations", tc_value_int_list(p->dil, p->ndil), &st, err);
        tc_value_set_chained(cfg, "in_channels", terracl_value_new_int(p->in_channels), &st, err);
        tc_value_set_chained(cfg, "channels", terracl_value_new_int(p->channels), &st, err);
        if (kind != ASPP_MODULE) {
            int64_t idx[TC_DEC_MAX_INPUTS];
            for (size_t i = 0; i < p->nindex; i++)
                idx[i] = (int64_t)p->index[i];
            tc_value_set_chained(cfg, "align_corners", terracl_value_new_bool(p->align_corners),
                                 &st, err);
            tc_value_set_chained(cfg, "input_transform",
                                 p->concat ? terracl_value_new_string("resize_concat")
                                           : terracl_value_new_null(), &st, err);
            tc_value_set_chained(cfg, "in_index",
                                 p->concat ? tc_value_int_list(idx, p->nindex)
                                           : terracl_value_new_int(idx[0]), &st, err);
        }
        if (kind == ASPP_SEGMENTATION)
            tc_value_set_chained(cfg, "num_classes", terracl_value_new_int(p->out), &st, err);
        if (kind == ASPP_REGRESSION)
            tc_value_set_chained(cfg, "out_channels", terracl_value_new_int(p->out), &st, err);
        if (st != TERRACL_OK)
            terracl_value_free(cfg);
        else if (kind == ASPP_REGRESSION)
            st = tc_dec_finish(m, cfg, p->out, err);
        else if (cfg == NULL)
            st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory recording the config");
        else
            tc_module_set_config(m, cfg);
    }
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "%s", k_type[kind]);
    }
    *out = m;
    return TERRACL_OK;
}

terracl_status tc_aspp_module(const terracl_value *first, const terracl_value *args, void *user,
                              terracl_module **out, terracl_error *err)
{
    (void)user;
    return build(ASPP_MODULE, first, args, out, err);
}

terracl_status tc_aspp_head(const terracl_value *first, const terracl_value *args, void *user,
                            terracl_module **out, terracl_error *err)
{
    (void)user;
    return build(ASPP_HEAD, first, args, out, err);
}

terracl_status tc_aspp_segmentation_head(const terracl_value *first, const terracl_value *args,
                                         void *user, terracl_module **out, terracl_error *err)
{
    (void)user;
    return build(ASPP_SEGMENTATION, first, args, out, err);
}

terracl_status tc_aspp_regression_head(const terracl_value *first, const terracl_value *args,
                                       void *user, terracl_module **out, terracl_error *err)
{
    (void)user;
    return build(ASPP_REGRESSION, first, args, out, err);
}

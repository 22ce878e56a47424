/*
 * RegressionHead: [learned x2 upscales] [3x3 Conv2d (no bias) + BatchNorm +
 * ReLU blocks] Dropout2d 1x1 Conv2d to num_outputs channels (1 by default;
 * TerraTorch 1.2 added the argument), then final_act.
 *
 * head.N indices follow the Sequential TerraTorch builds: the upscale stack
 * (when present) is entry 0, the conv blocks (when present) the next entry,
 * then the Dropout2d and the final conv.
 */
#include "models/heads/heads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/exec.h"
#include "models/heads/head_util.h"
#include "models/layers.h"
#include "ops/conv.h"
#include "ops/elementwise.h"

#define BN_EPS 1e-5f
#define MAX_UPSCALE 8

/* PixelShuffleUpscale: conv (C -> 4C, 3x3) -> PixelShuffle(2) -> bn -> ReLU. */
struct upscale {
    struct tc_conv2d conv;
    struct tc_batchnorm2d bn;
};

struct conv_bn {
    struct tc_conv2d conv;
    struct tc_batchnorm2d bn;
};

struct reg_head {
    struct upscale up[MAX_UPSCALE];
    size_t nup;
    struct conv_bn pre[TC_HEAD_MAX_LAYERS];
    size_t npre;
    struct tc_conv2d final;
    enum tc_activation act;
};

static terracl_status upscale_run(terracl_module *m, terracl_runtime *rt, const struct upscale *u,
                                  const struct tc_tensor *x, struct tc_tensor *y,
                                  terracl_error *err)
{
    struct tc_tensor c4;
    terracl_status st = tc_layer_conv2d_run(m, rt, &u->conv, x, &c4, err);
    if (st != TERRACL_OK)
        return st;
    int64_t d[4] = {c4.dims[0], c4.dims[1] / 4, c4.dims[2] * 2, c4.dims[3] * 2};
    if ((st = tc_tensor_alloc(rt, 4, d, y, err)) == TERRACL_OK) {
        if ((st = tc_op_pixel_shuffle(rt, &c4, 2, y, err)) ||
            (st = tc_layer_batchnorm2d_run(m, rt, &u->bn, y, err)) ||
            (st = tc_op_relu(rt, y, y, err)))
            tc_tensor_free(y);
    }
    tc_tensor_free(&c4);
    return st;
}

static terracl_status conv_bn_run(terracl_module *m, terracl_runtime *rt, const struct conv_bn *b,
                                  const struct tc_tensor *x, struct tc_tensor *y,
                                  terracl_error *err)
{
    /* The BatchNorm is folded into the conv at bind time; bias and ReLU run
     * in the conv's epilogue. */
    return tc_layer_conv2d_bn_run(m, rt, &b->conv, &b->bn, 1, x, y, err);
}

static terracl_status reg_forward(terracl_module *m, struct tc_exec *ex, const struct tc_feats *in,
                                  struct tc_feats *out, terracl_error *err)
{
    const struct reg_head *h = m->impl;
    terracl_runtime *rt = ex->rt;
    terracl_status st = tc_head_single_input(in, err);
    if (st != TERRACL_OK)
        return st;
    struct tc_tensor cur = in->t[0], next;
    cur.owns_buf = 0; /* borrowed until replaced by our own */
    for (size_t j = 0; j < h->nup + h->npre; j++) {
        st = j < h->nup ? upscale_run(m, rt, &h->up[j], &cur, &next, err)
                        : conv_bn_run(m, rt, &h->pre[j - h->nup], &cur, &next, err);
        tc_tensor_free(&cur);
        if (st != TERRACL_OK)
            return tc_fail_context(err, st, "%s block %zu", j < h->nup ? "upscale" : "conv",
                                   j < h->nup ? j : j - h->nup);
        cur = next;
    }
    st = tc_layer_conv2d_run(m, rt, &h->final, &cur, &out->t[0], err);
    tc_tensor_free(&cur);
    if (st != TERRACL_OK)
        return tc_fail_context(err, st, "final conv");
    out->n = 1;
    if (h->act != TC_ACT_IDENTITY)
        st = tc_op_activation(rt, &out->t[0], h->act, &out->t[0], err);
    return st;
}

static const struct tc_module_vtable k_reg_vt = {reg_forward, free};

/* final_act: None, or a torch.nn activation class ("torch.nn.ReLU"). */
static terracl_status parse_act(const char *s, enum tc_activation *act, terracl_error *err)
{
    *act = TC_ACT_IDENTITY;
    if (s == NULL || s[0] == '\0')
        return TERRACL_OK;
    const char *cls = strrchr(s, '.');
    cls = cls ? cls + 1 : s;
    int torch_nn = cls == s || strncmp(s, "torch.nn.", 9) == 0 || strncmp(s, "nn.", 3) == 0;
    if (!torch_nn || !tc_activation_from_name(cls, act))
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "RegressionHead: final_act '%s' is not supported (use a torch.nn "
                       "activation such as torch.nn.ReLU, Sigmoid, Tanh, GELU or Softplus)",
                       s);
    return TERRACL_OK;
}

terracl_status tc_regression_head(int64_t in_channels, const terracl_value *args,
                                  terracl_module **out, terracl_error *err)
{
    *out = NULL;
    int64_t nup = 0, outputs = 1, chans[TC_HEAD_MAX_LAYERS];
    size_t nch = 0;
    int has_list = 0, batch_norm = 1;
    double dropout = 0;
    const char *act_name = NULL;
    enum tc_activation act = TC_ACT_IDENTITY;
    terracl_status st = terracl_args_string(args, "final_act", NULL, &act_name, err);
    if (st == TERRACL_OK)
        st = parse_act(act_name, &act, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "learned_upscale_layers", 0, &nup, err);
    if (st == TERRACL_OK)
        st = terracl_args_int_list(args, "channel_list", chans, TC_HEAD_MAX_LAYERS, &nch,
                                   &has_list, err);
    if (st == TERRACL_OK) /* TerraTorch ignores it: the blocks always have BatchNorm */
        st = terracl_args_bool(args, "batch_norm", 1, &batch_norm, err);
    if (st == TERRACL_OK)
        st = terracl_args_float(args, "dropout", 0, &dropout, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "num_outputs", 1, &outputs, err);
    if (st == TERRACL_OK && (outputs < 1 || outputs > TC_HEAD_MAX_OUTPUTS))
        st = tc_fail(err, TERRACL_ERR_CONFIG, "RegressionHead: num_outputs %lld is not in 1..%d",
                     (long long)outputs, TC_HEAD_MAX_OUTPUTS);
    if (st == TERRACL_OK && (nup < 0 || nup > MAX_UPSCALE || in_channels < 1))
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "RegressionHead: learned_upscale_layers %lld (0..%d) or in_channels %lld "
                     "is invalid",
                     (long long)nup, MAX_UPSCALE, (long long)in_channels);
    if (st == TERRACL_OK)
        st = tc_head_check_widths("RegressionHead", in_channels, -1, "channel_list", chans, nch,
                                  err);
    if (st != TERRACL_OK)
        return tc_fail_context(err, st, "RegressionHead");
    struct reg_head *h = calloc(1, sizeof *h);
    if (h == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    h->nup = (size_t)nup;
    h->npre = nch;
    h->act = act;
    terracl_module *m = NULL;
    if ((st = tc_module_create("RegressionHead", &k_reg_vt, h, &m, err)))
        return st;
    char name[64];
    size_t entry = 0; /* the next index in the head Sequential */
    for (size_t j = 0; st == TERRACL_OK && j < h->nup; j++) {
        snprintf(name, sizeof name, "head.0.%zu.conv", j);
        st = tc_layer_conv2d(m, name, in_channels, 4 * in_channels, 3, 1, 1, 1, 1, &h->up[j].conv,
                             err);
        snprintf(name, sizeof name, "head.0.%zu.bn", j);
        if (st == TERRACL_OK)
            st = tc_layer_batchnorm2d(m, name, in_channels, BN_EPS, &h->up[j].bn, err);
    }
    entry += h->nup > 0;
    int64_t prev = in_channels;
    for (size_t j = 0; st == TERRACL_OK && j < nch; j++) {
        snprintf(name, sizeof name, "head.%zu.%zu.0", entry, j);
        st = tc_layer_conv2d(m, name, prev, chans[j], 3, 1, 1, 1, 0, &h->pre[j].conv, err);
        snprintf(name, sizeof name, "head.%zu.%zu.1", entry, j);
        if (st == TERRACL_OK)
            st = tc_layer_batchnorm2d(m, name, chans[j], BN_EPS, &h->pre[j].bn, err);
        if (st == TERRACL_OK)
            st = tc_layer_fold_batchnorm(m, &h->pre[j].conv, &h->pre[j].bn, err);
        prev = chans[j];
    }
    entry += has_list;
    snprintf(name, sizeof name, "head.%zu", entry + 1); /* after the Dropout2d */
    if (st == TERRACL_OK)
        st = tc_layer_conv2d(m, name, prev, outputs, 1, 1, 0, 1, 1, &h->final, err);
    terracl_value *cfg = terracl_value_new_map();
    tc_value_set_chained(cfg, "in_channels", terracl_value_new_int(in_channels), &st, err);
    tc_value_set_chained(cfg, "num_outputs", terracl_value_new_int(outputs), &st, err);
    tc_value_set_chained(cfg, "final_act", act_name ? terracl_value_new_string(act_name)
                                               : terracl_value_new_null(), &st, err);
    tc_value_set_chained(cfg, "learned_upscale_layers", terracl_value_new_int(nup), &st, err);
    tc_value_set_chained(cfg, "channel_list", has_list ? tc_value_int_list(chans, nch)
                                                  : terracl_value_new_null(), &st, err);
    tc_value_set_chained(cfg, "batch_norm", terracl_value_new_bool(batch_norm), &st, err);
    tc_value_set_chained(cfg, "dropout", terracl_value_new_float(dropout), &st, err);
    if (st == TERRACL_OK)
        st = tc_head_finish(m, cfg, outputs, err);
    else
        terracl_value_free(cfg);
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "RegressionHead");
    }
    *out = m;
    return TERRACL_OK;
}

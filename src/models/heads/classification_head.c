/*
 * ClassificationHead: optional Linear + ReLU blocks ("head.0.j.0"),
 * dropout (identity, "head.1"), Linear to the class logits ("head.2").
 *
 * The input [B, C, ...] is read as B x M positions of C features. By
 * default the head runs on every position and the logits are averaged over
 * M; with linear_after_pool the features are averaged first. The averages
 * are adaptive average pools over a [B, C, 1, M] view.
 */
#include "models/heads/heads.h"

#include <stdio.h>
#include <stdlib.h>

#include "graph/exec.h"
#include "models/heads/head_util.h"
#include "models/layers.h"
#include "ops/elementwise.h"
#include "ops/layout.h"
#include "ops/resize.h"

struct cls_head {
    struct tc_linear pre[TC_HEAD_MAX_LAYERS];
    size_t npre;
    struct tc_linear final;
    int64_t in_dim;
    int after_pool;
};

/* x viewed as [B, C, M] -> a new [B, C] tensor of the means over M. */
static terracl_status mean_last(terracl_runtime *rt, const struct tc_tensor *x, int64_t B,
                                int64_t C, int64_t M, struct tc_tensor *y, terracl_error *err)
{
    struct tc_tensor v;
    int64_t vd[4] = {B, C, 1, M}, yd[4] = {B, C, 1, 1};
    terracl_status st = tc_tensor_reshape(x, 4, vd, &v, err);
    if (st == TERRACL_OK)
        st = tc_tensor_alloc(rt, 4, yd, y, err);
    if (st != TERRACL_OK)
        return st;
    if ((st = tc_op_adaptive_avg_pool2d(rt, &v, y, err))) {
        tc_tensor_free(y);
        return st;
    }
    y->ndim = 2; /* still owns its buffer */
    return TERRACL_OK;
}

/* The Linear(+ReLU) chain on x [..., in_dim]; consumes x when it owns its buffer. */
static terracl_status run_mlp(terracl_module *m, terracl_runtime *rt, const struct cls_head *h,
                              struct tc_tensor *x, struct tc_tensor *y, terracl_error *err)
{
    terracl_status st;
    struct tc_tensor next;
    for (size_t j = 0; j < h->npre; j++) {
        st = tc_layer_linear_run(m, rt, &h->pre[j], x, &next, err);
        if (st == TERRACL_OK && (st = tc_op_relu(rt, &next, &next, err)))
            tc_tensor_free(&next);
        tc_tensor_free(x);
        if (st != TERRACL_OK)
            return tc_fail_context(err, st, "head.0.%zu", j);
        *x = next;
    }
    st = tc_layer_linear_run(m, rt, &h->final, x, y, err);
    tc_tensor_free(x);
    return st != TERRACL_OK ? tc_fail_context(err, st, "head.2") : st;
}

static terracl_status cls_forward(terracl_module *m, struct tc_exec *ex, const struct tc_feats *in,
                                  struct tc_feats *out, terracl_error *err)
{
    const struct cls_head *h = m->impl;
    terracl_runtime *rt = ex->rt;
    terracl_status st = tc_head_single_input(in, err);
    if (st != TERRACL_OK)
        return st;
    const struct tc_tensor *x = &in->t[0];
    if (x->ndim < 2 || x->dims[1] != h->in_dim) {
        char s[128];
        return tc_fail(err, TERRACL_ERR_SHAPE, "ClassificationHead(%lld) got input %s",
                       (long long)h->in_dim, tc_shape_str(x->ndim, x->dims, s, sizeof s));
    }
    int64_t B = x->dims[0], C = x->dims[1], M = 1;
    for (int d = 2; d < x->ndim; d++)
        M *= x->dims[d];
    struct tc_tensor feats = {0}, logits = {0};
    if (h->after_pool || M == 1) {
        if (M == 1) { /* nothing to average: a [B, C] view */
            int64_t d2[2] = {B, C};
            st = tc_tensor_reshape(x, 2, d2, &feats, err);
        } else {
            st = mean_last(rt, x, B, C, M, &feats, err);
        }
        if (st == TERRACL_OK)
            st = run_mlp(m, rt, h, &feats, &out->t[0], err);
        if (st == TERRACL_OK)
            out->n = 1;
        return st;
    }
    /* [B, C, M] -> [B, M, C]; the head per position; mean of [B, K, M] over M. */
    int64_t v3[3] = {B, C, M}, p3[3] = {B, M, C};
    static const int perm[3] = {0, 2, 1};
    struct tc_tensor v;
    if ((st = tc_tensor_reshape(x, 3, v3, &v, err)) ||
        (st = tc_tensor_alloc(rt, 3, p3, &feats, err)))
        return st;
    if ((st = tc_op_permute(rt, &v, perm, &feats, err))) {
        tc_tensor_free(&feats);
        return st;
    }
    if ((st = run_mlp(m, rt, h, &feats, &logits, err)))
        return st;
    int64_t K = logits.dims[2], kd[3] = {B, K, M};
    struct tc_tensor kt;
    if ((st = tc_tensor_alloc(rt, 3, kd, &kt, err)) == TERRACL_OK) {
        if ((st = tc_op_permute(rt, &logits, perm, &kt, err)) == TERRACL_OK &&
            (st = mean_last(rt, &kt, B, K, M, &out->t[0], err)) == TERRACL_OK)
            out->n = 1;
        tc_tensor_free(&kt);
    }
    tc_tensor_free(&logits);
    return st;
}

static const struct tc_module_vtable k_cls_vt = {cls_forward, free};

terracl_status tc_classification_head(int64_t in_channels, const terracl_value *args,
                                      terracl_module **out, terracl_error *err)
{
    *out = NULL;
    int64_t classes = 0, dims[TC_HEAD_MAX_LAYERS];
    size_t nd = 0;
    int has_list = 0, after_pool = 0;
    double dropout = 0;
    terracl_status st = TERRACL_OK;
    /* TerraTorch 1.2's ScalarHead serves classification (num_classes) and
     * scalar regression (num_outputs); num_outputs wins when both are set. */
    int64_t outputs = 0;
    int has_classes = terracl_value_map_peek(args, "num_classes") != NULL;
    int has_outputs = terracl_value_map_peek(args, "num_outputs") != NULL;
    if (!has_classes && !has_outputs)
        st = tc_fail(err, TERRACL_ERR_CONFIG, "ScalarHead: num_classes or num_outputs is required");
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "num_classes", 0, &classes, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "num_outputs", 0, &outputs, err);
    if (st == TERRACL_OK && has_outputs)
        classes = outputs;
    if (st == TERRACL_OK && classes > TC_HEAD_MAX_OUTPUTS)
        st = tc_fail(err, TERRACL_ERR_CONFIG, "ScalarHead: %lld outputs is more than %d",
                     (long long)classes, TC_HEAD_MAX_OUTPUTS);
    if (st == TERRACL_OK)
        st = terracl_args_int_list(args, "dim_list", dims, TC_HEAD_MAX_LAYERS, &nd, &has_list,
                                   err);
    if (st == TERRACL_OK)
        st = terracl_args_float(args, "dropout", 0, &dropout, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "linear_after_pool", 0, &after_pool, err);
    if (st == TERRACL_OK && (classes < 1 || in_channels < 1))
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "ScalarHead: num_classes/num_outputs (%lld) and in_dim (%lld) must be positive",
                     (long long)classes, (long long)in_channels);
    if (st == TERRACL_OK)
        st = tc_head_check_widths("ClassificationHead", in_channels, classes, "dim_list", dims, nd,
                                  err);
    if (st != TERRACL_OK)
        return st;
    struct cls_head *h = calloc(1, sizeof *h);
    if (h == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    h->npre = nd;
    h->in_dim = in_channels;
    h->after_pool = after_pool;
    terracl_module *m = NULL;
    if ((st = tc_module_create("ClassificationHead", &k_cls_vt, h, &m, err)))
        return st;
    int64_t prev = in_channels;
    for (size_t j = 0; st == TERRACL_OK && j < nd; j++) {
        char name[64];
        snprintf(name, sizeof name, "head.0.%zu.0", j);
        st = tc_layer_linear(m, name, prev, dims[j], 1, &h->pre[j], err);
        prev = dims[j];
    }
    if (st == TERRACL_OK)
        st = tc_layer_linear(m, "head.2", prev, classes, 1, &h->final, err);
    terracl_value *cfg = terracl_value_new_map();
    tc_value_set_chained(cfg, "in_dim", terracl_value_new_int(in_channels), &st, err);
    tc_value_set_chained(cfg, has_outputs ? "num_outputs" : "num_classes",
                         terracl_value_new_int(classes), &st, err);
    tc_value_set_chained(cfg, "dim_list", has_list ? tc_value_int_list(dims, nd)
                                              : terracl_value_new_null(), &st, err);
    tc_value_set_chained(cfg, "dropout", terracl_value_new_float(dropout), &st, err);
    tc_value_set_chained(cfg, "linear_after_pool", terracl_value_new_bool(after_pool), &st, err);
    if (st == TERRACL_OK)
        st = tc_head_finish(m, cfg, classes, err);
    else
        terracl_value_free(cfg);
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "ClassificationHead");
    }
    *out = m;
    return TERRACL_OK;
}

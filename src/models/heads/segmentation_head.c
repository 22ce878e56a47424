/*
 * SegmentationHead: optional 3x3 Conv2d + ReLU blocks ("head.0.j.0"),
 * dropout (identity at inference, "head.1"), then a 1x1 Conv2d to the class
 * logits ("head.2").
 */
#include "models/heads/heads.h"

#include <stdio.h>
#include <stdlib.h>

#include "graph/exec.h"
#include "models/heads/head_util.h"
#include "models/layers.h"
#include "ops/elementwise.h"

struct seg_head {
    struct tc_conv2d pre[TC_HEAD_MAX_LAYERS];
    size_t npre;
    struct tc_conv2d final;
};

static terracl_status seg_forward(terracl_module *m, struct tc_exec *ex, const struct tc_feats *in,
                                  struct tc_feats *out, terracl_error *err)
{
    const struct seg_head *h = m->impl;
    terracl_status st = tc_head_single_input(in, err);
    if (st != TERRACL_OK)
        return st;
    struct tc_tensor cur = in->t[0], next;
    cur.owns_buf = 0; /* borrowed until replaced by our own */
    for (size_t j = 0; j < h->npre; j++) {
        st = tc_layer_conv2d_run(m, ex->rt, &h->pre[j], &cur, &next, err);
        if (st == TERRACL_OK && (st = tc_op_relu(ex->rt, &next, &next, err)))
            tc_tensor_free(&next);
        tc_tensor_free(&cur);
        if (st != TERRACL_OK)
            return tc_fail_context(err, st, "head.0.%zu", j);
        cur = next;
    }
    st = tc_layer_conv2d_run(m, ex->rt, &h->final, &cur, &out->t[0], err);
    tc_tensor_free(&cur);
    if (st != TERRACL_OK)
        return tc_fail_context(err, st, "head.2");
    out->n = 1;
    return TERRACL_OK;
}

static const struct tc_module_vtable k_seg_vt = {seg_forward, free};

terracl_status tc_segmentation_head(int64_t in_channels, const terracl_value *args,
                                    terracl_module **out, terracl_error *err)
{
    *out = NULL;
    int64_t classes = 0, chans[TC_HEAD_MAX_LAYERS];
    size_t nch = 0;
    int has_list = 0;
    double dropout = 0;
    terracl_status st = TERRACL_OK;
    if (terracl_value_map_peek(args, "num_classes") == NULL)
        st = tc_fail(err, TERRACL_ERR_CONFIG, "SegmentationHead: num_classes is required");
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "num_classes", 0, &classes, err);
    if (st == TERRACL_OK)
        st = terracl_args_int_list(args, "channel_list", chans, TC_HEAD_MAX_LAYERS, &nch,
                                   &has_list, err);
    if (st == TERRACL_OK)
        st = terracl_args_float(args, "dropout", 0, &dropout, err);
    if (st == TERRACL_OK && (classes < 1 || in_channels < 1))
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "SegmentationHead: num_classes (%lld) and in_channels (%lld) must be positive",
                     (long long)classes, (long long)in_channels);
    if (st == TERRACL_OK)
        st = tc_head_check_widths("SegmentationHead", in_channels, classes, "channel_list", chans,
                                  nch, err);
    if (st != TERRACL_OK)
        return st;
    struct seg_head *h = calloc(1, sizeof *h);
    if (h == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    terracl_module *m = NULL;
    if ((st = tc_module_create("SegmentationHead", &k_seg_vt, h, &m, err)))
        return st;
    h->npre = nch;
    int64_t prev = in_channels;
    for (size_t j = 0; st == TERRACL_OK && j < nch; j++) {
        char name[64];
        snprintf(name, sizeof name, "head.0.%zu.0", j);
        st = tc_layer_conv2d(m, name, prev, chans[j], 3, 1, 1, 1, 1, &h->pre[j], err);
        prev = chans[j];
    }
    if (st == TERRACL_OK)
        st = tc_layer_conv2d(m, "head.2", prev, classes, 1, 1, 0, 1, 1, &h->final, err);
    terracl_value *cfg = terracl_value_new_map();
    tc_value_set_chained(cfg, "in_channels", terracl_value_new_int(in_channels), &st, err);
    tc_value_set_chained(cfg, "num_classes", terracl_value_new_int(classes), &st, err);
    tc_value_set_chained(cfg, "channel_list", has_list ? tc_value_int_list(chans, nch)
                                                  : terracl_value_new_null(), &st, err);
    tc_value_set_chained(cfg, "dropout", terracl_value_new_float(dropout), &st, err);
    if (st == TERRACL_OK)
        st = tc_head_finish(m, cfg, classes, err);
    else
        terracl_value_free(cfg);
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "SegmentationHead");
    }
    *out = m;
    return TERRACL_OK;
}

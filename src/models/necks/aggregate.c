/*
 * AggregateTokens (TerraTorch 1.2): one vector per selected feature.
 *   indices (or index, default -1): which features; with a single feature in
 *     the list, that one whatever the index.
 *   Tokens [B, N, C] are pooled over N; images [B, C, H, W] are first read as
 *     H*W tokens of C channels.
 *   drop_cls: the first token is left out; pooling: mean (default), max, min
 *     or cls (the first token).
 * Outputs are [B, C]. The channel list passes through unchanged, as
 * TerraTorch's process_channel_list leaves it (IdentityDecoder's out_index
 * then picks the entry of the last output).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "graph/exec.h"
#include "models/necks/neck_util.h"
#include "models/necks/necks.h"
#include "ops/layout.h"
#include "ops/pad.h"
#include "ops/reduce.h"

enum pooling { POOL_MEAN, POOL_MAX, POOL_MIN, POOL_CLS };

static const char *const k_pooling_names[] = {"mean", "max", "min", "cls"};

struct aggregate {
    int64_t idx[TC_MAX_FEATS];
    size_t n;
    enum pooling pool;
    int drop_cls;
};

/* x as channel-major tokens [B, C, M] (a new tensor), the first token left
 * out when drop_cls. */
static terracl_status channel_major(terracl_runtime *rt, const struct tc_tensor *x, int drop_cls,
                                    struct tc_tensor *y, terracl_error *err)
{
    char s[128];
    terracl_status st;
    if (x->ndim == 4) {
        struct tc_tensor v;
        int64_t vd[3] = {x->dims[0], x->dims[1], x->dims[2] * x->dims[3]};
        if ((st = tc_tensor_reshape(x, 3, vd, &v, err)))
            return st;
        int64_t yd[3] = {vd[0], vd[1], vd[2] - drop_cls}, start[3] = {0, 0, drop_cls};
        if (yd[2] < 1)
            return tc_fail(err, TERRACL_ERR_SHAPE, "no tokens left in %s after drop_cls",
                           tc_shape_str(x->ndim, x->dims, s, sizeof s));
        if ((st = tc_tensor_alloc(rt, 3, yd, y, err)))
            return st;
        if ((st = tc_op_crop_at(rt, &v, start, y, err)))
            tc_tensor_free(y);
        return st;
    }
    if (x->ndim != 3)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "expected tokens [B, N, C] or an image [B, C, H, W], got %s",
                       tc_shape_str(x->ndim, x->dims, s, sizeof s));
    int64_t B = x->dims[0], N = x->dims[1] - drop_cls, C = x->dims[2];
    if (N < 1)
        return tc_fail(err, TERRACL_ERR_SHAPE, "no tokens left in %s after drop_cls",
                       tc_shape_str(x->ndim, x->dims, s, sizeof s));
    struct tc_tensor kept = *x;
    kept.owns_buf = 0;
    if (drop_cls) {
        int64_t kd[3] = {B, N, C}, start[3] = {0, 1, 0};
        if ((st = tc_tensor_alloc(rt, 3, kd, &kept, err)))
            return st;
        if ((st = tc_op_crop_at(rt, x, start, &kept, err))) {
            tc_tensor_free(&kept);
            return st;
        }
    }
    static const int perm[3] = {0, 2, 1};
    int64_t yd[3] = {B, C, N};
    st = tc_tensor_alloc(rt, 3, yd, y, err);
    if (st == TERRACL_OK && (st = tc_op_permute(rt, &kept, perm, y, err)))
        tc_tensor_free(y);
    tc_tensor_free(&kept);
    return st;
}

static terracl_status aggregate_one(terracl_runtime *rt, const struct aggregate *a,
                                    const struct tc_tensor *x, struct tc_tensor *y,
                                    terracl_error *err)
{
    struct tc_tensor tokens;
    terracl_status st = channel_major(rt, x, a->drop_cls, &tokens, err);
    if (st != TERRACL_OK)
        return st;
    int64_t B = tokens.dims[0], C = tokens.dims[1], yd[2] = {B, C};
    if ((st = tc_tensor_alloc(rt, 2, yd, y, err)) == TERRACL_OK) {
        if (a->pool == POOL_CLS) {
            struct tc_tensor first = *y;
            int64_t fd[3] = {B, C, 1}, start[3] = {0, 0, 0};
            first.owns_buf = 0;
            first.ndim = 3;
            memcpy(first.dims, fd, sizeof fd);
            st = tc_op_crop_at(rt, &tokens, start, &first, err);
        } else {
            enum tc_reduce mode = a->pool == POOL_MAX   ? TC_REDUCE_MAX
                                  : a->pool == POOL_MIN ? TC_REDUCE_MIN
                                                        : TC_REDUCE_MEAN;
            st = tc_op_reduce_last(rt, &tokens, mode, y, err);
        }
        if (st != TERRACL_OK)
            tc_tensor_free(y);
    }
    tc_tensor_free(&tokens);
    return st;
}

static terracl_status aggregate_forward(terracl_module *m, struct tc_exec *ex,
                                        const struct tc_feats *in, struct tc_feats *out,
                                        terracl_error *err)
{
    const struct aggregate *a = m->impl;
    if (in->n == 0)
        return tc_fail(err, TERRACL_ERR_SHAPE, "AggregateTokens: no features");
    for (size_t i = 0; i < a->n; i++) {
        int64_t k = a->idx[i] < 0 ? a->idx[i] + (int64_t)in->n : a->idx[i];
        if (in->n == 1)
            k = 0;
        if (k < 0 || k >= (int64_t)in->n) {
            tc_feats_free(out);
            return tc_fail(err, TERRACL_ERR_SHAPE,
                           "AggregateTokens: index %lld is outside the %zu features",
                           (long long)a->idx[i], in->n);
        }
        terracl_status st = aggregate_one(ex->rt, a, &in->t[k], &out->t[i], err);
        if (st != TERRACL_OK) {
            tc_feats_free(out);
            return tc_fail_context(err, st, "AggregateTokens, feature %lld", (long long)k);
        }
        out->n = i + 1;
    }
    return TERRACL_OK;
}

static const struct tc_module_vtable k_aggregate_vt = {aggregate_forward, free};

static terracl_status read_pooling(const terracl_value *args, enum pooling *pool,
                                   terracl_error *err)
{
    const char *name = NULL;
    terracl_status st = terracl_args_string(args, "pooling", "mean", &name, err);
    if (st != TERRACL_OK)
        return tc_fail_context(err, st, "AggregateTokens: pooling (mean, max, min or cls)");
    for (size_t i = 0; i < sizeof k_pooling_names / sizeof k_pooling_names[0]; i++)
        if (strcasecmp(name, k_pooling_names[i]) == 0) {
            *pool = (enum pooling)i;
            return TERRACL_OK;
        }
    return tc_fail(err, TERRACL_ERR_CONFIG,
                   "AggregateTokens: pooling '%s' is not one of mean, max, min, cls", name);
}

terracl_status tc_neck_aggregate_tokens(const terracl_value *first, const terracl_value *args,
                                        void *user, terracl_module **out, terracl_error *err)
{
    (void)user;
    *out = NULL;
    int64_t ch[TC_MAX_FEATS];
    size_t n = 0;
    int present = 0, temporal = 0;
    struct aggregate *a = calloc(1, sizeof *a);
    terracl_status st = a ? TERRACL_OK : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK)
        st = tc_neck_channels(first, "AggregateTokens", ch, &n, err);
    if (st == TERRACL_OK)
        st = terracl_args_int_list(args, "indices", a->idx, TC_MAX_FEATS, &a->n, &present, err);
    if (st == TERRACL_OK && (!present || a->n == 0)) { /* TerraTorch: indices or index */
        st = terracl_args_int(args, "index", -1, &a->idx[0], err);
        a->n = 1;
    } else if (st == TERRACL_OK) {
        (void)terracl_value_map_get(args, "index"); /* given too: indices wins */
    }
    if (st == TERRACL_OK)
        st = read_pooling(args, &a->pool, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "drop_cls", 0, &a->drop_cls, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "temporal_inputs", 0, &temporal, err);
    if (st == TERRACL_OK && temporal)
        st = tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                     "AggregateTokens: temporal_inputs (features with a time axis) is not supported");
    if (st == TERRACL_OK && a->drop_cls && a->pool == POOL_CLS)
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "AggregateTokens: drop_cls cannot be combined with pooling 'cls'");
    for (size_t i = 0; st == TERRACL_OK && i < a->n; i++) {
        int64_t k = a->idx[i] < 0 ? a->idx[i] + (int64_t)n : a->idx[i];
        if (k < 0 || k >= (int64_t)n)
            st = tc_fail(err, TERRACL_ERR_CONFIG,
                         "AggregateTokens: index %lld is outside the channel list of %zu entries",
                         (long long)a->idx[i], n);
    }
    if (st != TERRACL_OK) {
        free(a);
        return st;
    }
    terracl_module *m = NULL;
    if ((st = tc_module_create("AggregateTokens", &k_aggregate_vt, a, &m, err)))
        return st;
    terracl_value *cfg = terracl_value_new_map();
    tc_value_set_chained(cfg, "indices", tc_value_int_list(a->idx, a->n), &st, err);
    tc_value_set_chained(cfg, "pooling", terracl_value_new_string(k_pooling_names[a->pool]), &st,
                         err);
    tc_value_set_chained(cfg, "drop_cls", terracl_value_new_bool(a->drop_cls), &st, err);
    if (st == TERRACL_OK)
        st = tc_neck_finish(m, cfg, ch, n, err);
    else
        terracl_value_free(cfg);
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return st;
    }
    *out = m;
    return TERRACL_OK;
}

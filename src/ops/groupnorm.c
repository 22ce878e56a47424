/* GroupNorm: per-row statistics, then a per-element apply; kernels in cl_kernels/groupnorm.cl. */
#include "ops/groupnorm.h"

#include <stdint.h>

#include "core/checked.h"
#include "ops/launch.h"

/* Each row's mean and 1/sqrt(var + eps) into stats [rows, 2]: one
 * work-item per row, or where the driver ends a work-item's loops early
 * (tc_runtime_loop_budget) and a row is too long for one, in chunks of
 * an eighth of the budget summed by a second kernel. */
static terracl_status group_stats(terracl_runtime *rt, const struct tc_tensor *x,
                                  struct tc_karg ox, struct tc_tensor *stats, size_t rows,
                                  size_t len, float eps, terracl_error *err)
{
    const size_t budget = tc_runtime_loop_budget(rt);
    if (2 * len <= budget) {
        struct tc_karg a[] = {TC_KBUF(x->buf), ox,         TC_KBUF(stats->buf),
                              TC_KUINT(rows),  TC_KUINT(len), TC_KFLOAT(eps)};
        return tc_launch_1d(rt, "groupnorm", "tc_groupnorm_stats", rows, a, 6, err);
    }
    const size_t chunk = budget / 8 > 0 ? budget / 8 : 1, nchunks = (len + chunk - 1) / chunk;
    terracl_status st = tc_check_loop_passes(rt, nchunks, "group_norm", err);
    size_t np = 0;
    if (st == TERRACL_OK && tc_mul_overflow(rows, nchunks, &np))
        st = tc_fail(err, TERRACL_ERR_OVERFLOW, "group_norm: too many chunks");
    struct tc_tensor part = {0};
    int64_t pdims[1] = {(int64_t)np};
    if (st == TERRACL_OK)
        st = tc_tensor_alloc(rt, 1, pdims, &part, err);
    for (int pass = 0; pass < 2 && st == TERRACL_OK; pass++) {
        struct tc_karg a[] = {TC_KBUF(x->buf),   ox,
                              TC_KBUF(part.buf), TC_KBUF(stats->buf),
                              TC_KUINT(rows),    TC_KUINT(len),
                              TC_KUINT(chunk),   TC_KUINT(nchunks),
                              TC_KINT(pass)};
        st = tc_launch_2d(rt, "groupnorm", "tc_groupnorm_partial", nchunks, rows, a, 9, err);
        struct tc_karg f[] = {TC_KBUF(part.buf), TC_KBUF(stats->buf), TC_KUINT(rows),
                              TC_KUINT(len),     TC_KUINT(nchunks),   TC_KFLOAT(eps),
                              TC_KINT(pass)};
        if (st == TERRACL_OK)
            st = tc_launch_1d(rt, "groupnorm", "tc_groupnorm_finish", rows, f, 7, err);
    }
    tc_tensor_free(&part);
    return st;
}

terracl_status tc_op_groupnorm(terracl_runtime *rt, const struct tc_tensor *x, int64_t groups,
                               const struct tc_tensor *gamma, const struct tc_tensor *beta,
                               float eps, int relu, struct tc_tensor *y, terracl_error *err)
{
    char s1[128], s2[128];
    if (x->ndim < 2 || tc_tensor_numel(x) != tc_tensor_numel(y))
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "groupnorm: input %s must be [B, C, ...] and match output %s",
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1),
                       tc_shape_str(y->ndim, y->dims, s2, sizeof s2));
    int64_t channels = x->dims[1];
    if (groups < 1 || channels % groups != 0)
        return tc_fail(err, TERRACL_ERR_SHAPE, "groupnorm: %lld channels do not split into %lld groups",
                       (long long)channels, (long long)groups);
    if (tc_tensor_numel(gamma) != (size_t)channels || tc_tensor_numel(beta) != (size_t)channels)
        return tc_fail(err, TERRACL_ERR_SHAPE, "groupnorm: weight %s / bias %s do not match %lld channels",
                       tc_shape_str(gamma->ndim, gamma->dims, s1, sizeof s1),
                       tc_shape_str(beta->ndim, beta->dims, s2, sizeof s2), (long long)channels);
    size_t n = tc_tensor_numel(x);
    if (n == 0)
        return TERRACL_OK;
    if (n > UINT32_MAX)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "groupnorm: %zu elements exceed 32-bit indexing", n);
    size_t pixels = n / ((size_t)x->dims[0] * (size_t)channels);
    size_t rows = (size_t)x->dims[0] * (size_t)groups;
    size_t len = n / rows;
    int64_t sdims[1] = {(int64_t)(2 * rows)};
    struct tc_tensor stats = {0};
    struct tc_karg ox, oy, og, ob;
    terracl_status st;
    if ((st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(y, &oy, err)) ||
        (st = tc_offset_arg(gamma, &og, err)) || (st = tc_offset_arg(beta, &ob, err)) ||
        (st = tc_tensor_alloc(rt, 1, sdims, &stats, err)))
        return st;
    st = group_stats(rt, x, ox, &stats, rows, len, eps, err);
    if (st == TERRACL_OK) {
        struct tc_karg a2[] = {TC_KBUF(x->buf),      ox, TC_KBUF(y->buf), oy,
                               TC_KBUF(stats.buf),   TC_KBUF(gamma->buf), og,
                               TC_KBUF(beta->buf),   ob, TC_KUINT(channels), TC_KUINT(pixels),
                               TC_KUINT(channels / groups), TC_KUINT(n), TC_KINT(relu)};
        st = tc_launch_1d(rt, "groupnorm", "tc_groupnorm_apply", n, a2, 14, err);
    }
    tc_tensor_free(&stats);
    return st;
}

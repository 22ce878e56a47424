/* GroupNorm: per-row statistics, then a per-element apply; kernels in cl_kernels/groupnorm.cl. */
#include "ops/groupnorm.h"

#include <stdint.h>

#include "ops/launch.h"

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
    struct tc_karg a1[] = {TC_KBUF(x->buf), ox, TC_KBUF(stats.buf), TC_KUINT(rows), TC_KUINT(len),
                           TC_KFLOAT(eps)};
    st = tc_check_loop_passes(rt, 2 * (uint64_t)len, "group_norm", err);
    if (st == TERRACL_OK)
        st = tc_launch_1d(rt, "groupnorm", "tc_groupnorm_stats", rows, a1, 6, err);
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

/* Reductions over the last dimension; kernel in cl_kernels/reduce.cl. */
#include "ops/reduce.h"

#include "ops/launch.h"

terracl_status tc_op_reduce_last(terracl_runtime *rt, const struct tc_tensor *x,
                                 enum tc_reduce mode, struct tc_tensor *y, terracl_error *err)
{
    char s[128];
    if (x->ndim < 1 || x->dims[x->ndim - 1] < 1 || x->dims[x->ndim - 1] > UINT32_MAX)
        return tc_fail(err, TERRACL_ERR_SHAPE, "reduce: cannot reduce %s over its last dimension",
                       tc_shape_str(x->ndim, x->dims, s, sizeof s));
    size_t m = (size_t)x->dims[x->ndim - 1], rows = tc_tensor_numel(x) / m;
    if (tc_tensor_numel(y) != rows || rows > UINT32_MAX)
        return tc_fail(err, TERRACL_ERR_SHAPE, "reduce: %s reduced over %zu gives %zu values, "
                       "the output holds %zu", tc_shape_str(x->ndim, x->dims, s, sizeof s), m,
                       rows, tc_tensor_numel(y));
    terracl_status st;
    struct tc_karg ox, oy;
    if ((st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(y, &oy, err)))
        return st;
    struct tc_karg args[] = {TC_KBUF(x->buf), ox,          TC_KBUF(y->buf),  oy,
                             TC_KUINT(m),     TC_KUINT(mode), TC_KUINT(rows)};
    if ((st = tc_check_loop_passes(rt, m, "reduce", err)))
        return st;
    return tc_launch_1d(rt, "reduce", "tc_reduce_rows", rows, args, 7, err);
}

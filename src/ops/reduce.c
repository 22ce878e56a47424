/* Reductions over the last dimension; kernel in cl_kernels/reduce.cl. */
#include "ops/reduce.h"

#include "core/checked.h"
#include "ops/launch.h"

/* y[r] for rows of m floats at x[x_off]: mode as tc_reduce, sums divided by
 * divisor. A row longer than the device lets one work-item loop
 * (tc_runtime_loop_budget: llvmpipe) is reduced in chunks whose results
 * are reduced again (sums undivided until the last pass). */
static terracl_status reduce_rows(terracl_runtime *rt, struct tc_buf *x, size_t x_off, size_t m,
                                  size_t rows, enum tc_reduce mode, size_t divisor,
                                  struct tc_buf *y, size_t y_off, terracl_error *err)
{
    const size_t budget = tc_runtime_loop_budget(rt);
    size_t nchunks = 1, chunk = m;
    if (m > budget) {
        nchunks = (m + budget - 1) / budget;
        chunk = (m + nchunks - 1) / nchunks;
        nchunks = (m + chunk - 1) / chunk; /* no chunk left empty (the kernel reads its first) */
    }
    size_t items;
    if (tc_mul_overflow(rows, nchunks, &items) || items > UINT32_MAX)
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "reduce: %zu rows of %zu chunks are too many",
                       rows, nchunks);
    terracl_status st;
    struct tc_tensor part = {0};
    if (nchunks > 1) {
        int64_t pd[1] = {(int64_t)items};
        if ((st = tc_tensor_alloc(rt, 1, pd, &part, err)) != TERRACL_OK)
            return st;
    }
    struct tc_buf *out = nchunks > 1 ? part.buf : y;
    struct tc_karg args[] = {TC_KBUF(x),
                             TC_KUINT(x_off),
                             TC_KBUF(out),
                             TC_KUINT(nchunks > 1 ? 0 : y_off),
                             TC_KUINT(m),
                             TC_KUINT(mode),
                             TC_KUINT(items),
                             TC_KUINT(chunk),
                             TC_KUINT(nchunks),
                             TC_KUINT(nchunks > 1 ? 1 : divisor)};
    st = tc_launch_1d(rt, "reduce", "tc_reduce_rows", items, args, 10, err);
    if (st == TERRACL_OK && nchunks > 1)
        st = reduce_rows(rt, part.buf, 0, nchunks, rows, mode, divisor, y, y_off, err);
    tc_tensor_free(&part);
    return st;
}

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
    struct tc_karg ox, oy; /* the offsets, checked to fit the kernel's 32 bits */
    if ((st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(y, &oy, err)))
        return st;
    return reduce_rows(rt, x->buf, x->offset, m, rows, mode, mode == TC_REDUCE_MEAN ? m : 1,
                       y->buf, y->offset, err);
}

/* nn.Linear as a GEMM plus a bias kernel. */
#include "ops/linear.h"

#include "ops/elementwise.h"

terracl_status tc_op_linear(terracl_runtime *rt, const struct tc_tensor *x,
                            const struct tc_tensor *w, const struct tc_tensor *b,
                            struct tc_tensor *y, terracl_error *err)
{
    char s1[128], s2[128];
    if (w->ndim != 2 || x->dims[x->ndim - 1] != w->dims[1] ||
        y->dims[y->ndim - 1] != w->dims[0])
        return tc_fail(err, TERRACL_ERR_SHAPE, "linear: input %s does not fit weight %s",
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1),
                       tc_shape_str(w->ndim, w->dims, s2, sizeof s2));
    size_t k = (size_t)w->dims[1], n = (size_t)w->dims[0];
    size_t m = tc_tensor_numel(x) / k;
    if (tc_tensor_numel(y) != m * n)
        return tc_fail(err, TERRACL_ERR_SHAPE, "linear: output %s should hold %zu x %zu",
                       tc_shape_str(y->ndim, y->dims, s1, sizeof s1), m, n);
    terracl_status st = tc_sgemm(rt, 0, 1, m, n, k, 1.0f, (struct tc_matrix){x->buf, x->offset, k},
                                 (struct tc_matrix){w->buf, w->offset, k}, 0.0f,
                                 (struct tc_matrix){y->buf, y->offset, n}, err);
    if (st != TERRACL_OK || b == NULL)
        return st;
    return tc_op_bias(rt, y, b, err);
}

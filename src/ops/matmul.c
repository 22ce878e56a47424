/* Batched matrix products on the runtime's strided-batched GEMM. */
#include "ops/matmul.h"

terracl_status tc_op_matmul_batched(terracl_runtime *rt, int trans_a, int trans_b,
                                    const struct tc_tensor *a, const struct tc_tensor *b,
                                    struct tc_tensor *c, terracl_error *err)
{
    char s1[128], s2[128], s3[128];
    if (a->ndim != 3 || b->ndim != 3 || c->ndim != 3 || a->dims[0] != b->dims[0] ||
        c->dims[0] != a->dims[0])
        return tc_fail(err, TERRACL_ERR_SHAPE, "matmul: %s, %s -> %s are not batches of matrices",
                       tc_shape_str(a->ndim, a->dims, s1, sizeof s1),
                       tc_shape_str(b->ndim, b->dims, s2, sizeof s2),
                       tc_shape_str(c->ndim, c->dims, s3, sizeof s3));
    size_t m = (size_t)(trans_a ? a->dims[2] : a->dims[1]);
    size_t k = (size_t)(trans_a ? a->dims[1] : a->dims[2]);
    size_t kb = (size_t)(trans_b ? b->dims[2] : b->dims[1]);
    size_t n = (size_t)(trans_b ? b->dims[1] : b->dims[2]);
    if (k != kb || (size_t)c->dims[1] != m || (size_t)c->dims[2] != n)
        return tc_fail(err, TERRACL_ERR_SHAPE, "matmul: %s x %s does not give %s",
                       tc_shape_str(a->ndim, a->dims, s1, sizeof s1),
                       tc_shape_str(b->ndim, b->dims, s2, sizeof s2),
                       tc_shape_str(c->ndim, c->dims, s3, sizeof s3));
    size_t batch = (size_t)a->dims[0];
    if (batch == 0 || m == 0 || n == 0)
        return TERRACL_OK;
    struct tc_matrix ma = {a->buf, a->offset, (size_t)a->dims[2]};
    struct tc_matrix mb = {b->buf, b->offset, (size_t)b->dims[2]};
    struct tc_matrix mc = {c->buf, c->offset, n};
    return tc_sgemm_strided_batched(rt, trans_a, trans_b, m, n, k, 1.0f, ma,
                                    (size_t)(a->dims[1] * a->dims[2]), mb,
                                    (size_t)(b->dims[1] * b->dims[2]), 0.0f, mc, m * n, batch, err);
}

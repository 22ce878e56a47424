/* nn.Linear as a GEMM plus a bias kernel. */
#include "ops/linear.h"

#include "ops/elementwise.h"

terracl_status tc_op_linear_ex(terracl_runtime *rt, const struct tc_tensor *x,
                               const struct tc_tensor *w, const struct tc_tensor *b, int gelu,
                               int accumulate, struct tc_tensor *y, terracl_error *err)
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
    if (b != NULL && tc_tensor_numel(b) != n)
        return tc_fail(err, TERRACL_ERR_SHAPE, "linear: bias of %zu values for %zu outputs",
                       tc_tensor_numel(b), n);
    struct tc_gemm_epilogue ep = {.bias = b ? b->buf : NULL, .bias_offset = b ? b->offset : 0,
                                  .gelu = gelu};
    if (w->gemm_packed) {
        /* Bias and GELU run inside the packed kernel; a missing bias with
         * GELU needs the element-wise pass after it. */
        terracl_status st = tc_sgemm_packed(rt, m, n, k, (struct tc_matrix){x->buf, x->offset, k},
                                            w->buf, w->offset, accumulate ? 1.0f : 0.0f,
                                            (struct tc_matrix){y->buf, y->offset, n},
                                            b ? &ep : NULL, err);
        if (st != TERRACL_OK || b != NULL || !gelu)
            return st;
        return tc_op_gelu(rt, y, y, err);
    }
    int done = 0;
    terracl_status st = tc_sgemm_ex(rt, 0, 1, m, n, k, 1.0f, (struct tc_matrix){x->buf, x->offset, k},
                                    (struct tc_matrix){w->buf, w->offset, k},
                                    accumulate ? 1.0f : 0.0f,
                                    (struct tc_matrix){y->buf, y->offset, n}, &ep, &done, err);
    if (st != TERRACL_OK || done)
        return st;
    if (gelu)
        return tc_op_bias_gelu(rt, y, b, err);
    return tc_op_bias(rt, y, b, err);
}

terracl_status tc_op_linear_silu_gate(terracl_runtime *rt, const struct tc_tensor *x,
                                      const struct tc_tensor *w, struct tc_tensor *y,
                                      terracl_error *err)
{
    char s1[128], s2[128];
    if (w->ndim != 2 || x->dims[x->ndim - 1] != w->dims[1] ||
        y->dims[y->ndim - 1] != w->dims[0] ||
        tc_tensor_numel(y) != tc_tensor_numel(x) / (size_t)w->dims[1] * (size_t)w->dims[0])
        return tc_fail(err, TERRACL_ERR_SHAPE, "linear gate: input %s does not fit weight %s",
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1),
                       tc_shape_str(w->ndim, w->dims, s2, sizeof s2));
    size_t k = (size_t)w->dims[1], n = (size_t)w->dims[0], m = tc_tensor_numel(x) / k;
    if (w->gemm_packed) { /* the gate inside the GEMM's epilogue: no pass, no buffer */
        struct tc_gemm_epilogue ep = {.silu_gate = 1};
        return tc_sgemm_packed(rt, m, n, k, (struct tc_matrix){x->buf, x->offset, k}, w->buf,
                               w->offset, 0.0f, (struct tc_matrix){y->buf, y->offset, n}, &ep,
                               err);
    }
    struct tc_tensor u = {0};
    terracl_status st = tc_tensor_alloc(rt, y->ndim, y->dims, &u, err);
    if (st == TERRACL_OK && (st = tc_op_linear(rt, x, w, NULL, &u, err)) == TERRACL_OK)
        st = tc_op_silu_mul(rt, y, &u, y, err);
    tc_tensor_free(&u);
    return st;
}

terracl_status tc_op_linear(terracl_runtime *rt, const struct tc_tensor *x,
                            const struct tc_tensor *w, const struct tc_tensor *b,
                            struct tc_tensor *y, terracl_error *err)
{
    return tc_op_linear_ex(rt, x, w, b, 0, 0, y, err);
}

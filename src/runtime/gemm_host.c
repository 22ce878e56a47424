/* terracl_sgemm_host: the public host-array GEMM, built on tc_sgemm. */
#include "core/checked.h"
#include "runtime/runtime.h"

static terracl_status matrix_bytes(size_t rows, size_t cols, size_t ld, size_t *out)
{
    /* A row-major rows x cols matrix with leading dimension ld spans
     * (rows-1)*ld + cols elements. */
    size_t elems;
    if (rows == 0 || cols == 0) {
        *out = 0;
        return TERRACL_OK;
    }
    if (tc_mul_overflow(rows - 1, ld, &elems) || tc_add_overflow(elems, cols, &elems) ||
        tc_mul_overflow(elems, sizeof(float), out))
        return TERRACL_ERR_OVERFLOW;
    return TERRACL_OK;
}

terracl_status terracl_sgemm_host(terracl_runtime *rt, int trans_a, int trans_b, size_t m,
                                  size_t n, size_t k, float alpha, const float *a, size_t lda,
                                  const float *b, size_t ldb, float beta, float *c, size_t ldc,
                                  terracl_error *err)
{
    if (rt == NULL || a == NULL || b == NULL || c == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_sgemm_host: NULL argument");
    if (m == 0 || n == 0 || k == 0)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "terracl_sgemm_host: m, n and k must be positive (got %zu, %zu, %zu)", m, n,
                       k);
    size_t a_rows = trans_a ? k : m, a_cols = trans_a ? m : k;
    size_t b_rows = trans_b ? n : k, b_cols = trans_b ? k : n;
    if (lda < a_cols || ldb < b_cols || ldc < n)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "terracl_sgemm_host: leading dimension too small (lda=%zu needs >= %zu, "
                       "ldb=%zu needs >= %zu, ldc=%zu needs >= %zu)",
                       lda, a_cols, ldb, b_cols, ldc, n);
    size_t a_bytes, b_bytes, c_bytes;
    if (matrix_bytes(a_rows, a_cols, lda, &a_bytes) || matrix_bytes(b_rows, b_cols, ldb, &b_bytes) ||
        matrix_bytes(m, n, ldc, &c_bytes))
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "terracl_sgemm_host: matrix size overflows");

    struct tc_buf *da = NULL, *db = NULL, *dc = NULL;
    terracl_status st = tc_buf_create(rt, a_bytes, &da, err);
    if (st == TERRACL_OK)
        st = tc_buf_create(rt, b_bytes, &db, err);
    if (st == TERRACL_OK)
        st = tc_buf_create(rt, c_bytes, &dc, err);
    if (st == TERRACL_OK)
        st = tc_buf_write(rt, da, 0, a, a_bytes, err);
    if (st == TERRACL_OK)
        st = tc_buf_write(rt, db, 0, b, b_bytes, err);
    if (st == TERRACL_OK)
        st = tc_buf_write(rt, dc, 0, c, c_bytes, err);
    if (st == TERRACL_OK)
        st = tc_sgemm(rt, trans_a, trans_b, m, n, k, alpha, (struct tc_matrix){da, 0, lda},
                      (struct tc_matrix){db, 0, ldb}, beta, (struct tc_matrix){dc, 0, ldc}, err);
    if (st == TERRACL_OK)
        st = tc_buf_read(rt, dc, 0, c, c_bytes, err);
    tc_buf_destroy(da);
    tc_buf_destroy(db);
    tc_buf_destroy(dc);
    return st;
}

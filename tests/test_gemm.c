/* GEMM (CLBlast, or the native CPU kernels of gemm_pocl.c) against a naive C
 * reference: every transpose, odd sizes, offsets and padded leading
 * dimensions, strided batches. TERRACL_GEMM forces one path per test. */
#include "test_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"

/* Reference row-major C = alpha op(A) op(B) + beta C in double. */
static void gemm_ref(int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *a,
                     size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t p = 0; p < k; p++) {
                double av = ta ? a[p * lda + i] : a[i * lda + p];
                double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
                s += av * bv;
            }
            c[i * ldc + j] = (float)(alpha * s + beta * c[i * ldc + j]);
        }
}

static void check_case(int ta, int tb, size_t m, size_t n, size_t k, size_t pad)
{
    size_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
    size_t arows = ta ? k : m, brows = tb ? n : k;
    float *a = malloc(arows * lda * sizeof *a), *b = malloc(brows * ldb * sizeof *b);
    float *c = malloc(m * ldc * sizeof *c), *want = malloc(m * ldc * sizeof *want);
    tc_test_fill(a, arows * lda, (uint32_t)(m + 3 * n), -1, 1);
    tc_test_fill(b, brows * ldb, (uint32_t)(k + 7), -1, 1);
    tc_test_fill(c, m * ldc, 99, -1, 1);
    memcpy(want, c, m * ldc * sizeof *c);
    gemm_ref(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, 0.5f, want, ldc);
    terracl_error err = {0};
    TC_ASSERT_OK(terracl_sgemm_host(tc_test_rt, ta, tb, m, n, k, 0.75f, a, lda, b, ldb, 0.5f, c,
                                    ldc, &err),
                 err);
    double e = tc_test_rel_l2(c, want, m * ldc);
    if (!(e < 1e-5))
        fail_msg("sgemm ta=%d tb=%d %zux%zux%zu pad %zu: rel L2 %.3g", ta, tb, m, n, k, pad, e);
    free(a);
    free(b);
    free(c);
    free(want);
}

static void test_sgemm_transposes_and_odd_sizes(void **state)
{
    (void)state;
    static const size_t shapes[][3] = {
        {1, 1, 1}, {7, 1, 7}, {1, 197, 7}, {197, 7, 1}, {197, 64, 197}, {7, 589, 64},
    };
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
                check_case(ta, tb, shapes[s][0], shapes[s][1], shapes[s][2], s % 2 ? 3 : 0);
}

static void test_sgemm_device_offsets(void **state)
{
    (void)state;
    /* A and B live at element offsets inside one buffer, C in another. */
    const size_t m = 7, n = 197, k = 64, off_a = 5, off_b = off_a + m * k + 11;
    const size_t total = off_b + k * n;
    float *buf = malloc(total * sizeof *buf), *want = calloc(m * n, sizeof *want);
    float *got = malloc(m * n * sizeof *got);
    tc_test_fill(buf, total, 31, -1, 1);
    gemm_ref(0, 0, m, n, k, 1.0f, buf + off_a, k, buf + off_b, n, 0.0f, want, n);
    terracl_error err = {0};
    struct tc_buf *d = NULL, *dc = NULL;
    TC_ASSERT_OK(tc_buf_create(tc_test_rt, total * sizeof(float), &d, &err), err);
    TC_ASSERT_OK(tc_buf_create(tc_test_rt, m * n * sizeof(float), &dc, &err), err);
    TC_ASSERT_OK(tc_buf_write(tc_test_rt, d, 0, buf, total * sizeof(float), &err), err);
    TC_ASSERT_OK(tc_sgemm(tc_test_rt, 0, 0, m, n, k, 1.0f, (struct tc_matrix){d, off_a, k},
                          (struct tc_matrix){d, off_b, n}, 0.0f, (struct tc_matrix){dc, 0, n}, &err),
                 err);
    TC_ASSERT_OK(tc_buf_read(tc_test_rt, dc, 0, got, m * n * sizeof(float), &err), err);
    assert_true(tc_test_rel_l2(got, want, m * n) < 1e-5);
    /* A GEMM reaching past its buffer is refused, not run. */
    assert_int_not_equal(tc_sgemm(tc_test_rt, 0, 0, m + 1000, n, k, 1.0f,
                                  (struct tc_matrix){d, off_a, k}, (struct tc_matrix){d, off_b, n},
                                  0.0f, (struct tc_matrix){dc, 0, n}, &err),
                         TERRACL_OK);
    tc_buf_destroy(d);
    tc_buf_destroy(dc);
    free(buf);
    free(want);
    free(got);
}

static void test_sgemm_strided_batched_heads(void **state)
{
    (void)state;
    /* Attention-style: per head h, S_h = Q_h K_h^T from a packed [N, 3*D]
     * buffer, with heads at stride head_dim inside each row. */
    const size_t N = 197, H = 3, hd = 64, D = H * hd, ld = 3 * D;
    float *qkv = malloc(N * ld * sizeof *qkv);
    float *want = calloc(H * N * N, sizeof *want), *got = malloc(H * N * N * sizeof *got);
    tc_test_fill(qkv, N * ld, 41, -1, 1);
    for (size_t h = 0; h < H; h++)
        gemm_ref(0, 1, N, N, hd, 0.125f, qkv + h * hd, ld, qkv + D + h * hd, ld, 0.0f,
                 want + h * N * N, N);
    terracl_error err = {0};
    struct tc_buf *dq = NULL, *ds = NULL;
    TC_ASSERT_OK(tc_buf_create(tc_test_rt, N * ld * sizeof(float), &dq, &err), err);
    TC_ASSERT_OK(tc_buf_create(tc_test_rt, H * N * N * sizeof(float), &ds, &err), err);
    TC_ASSERT_OK(tc_buf_write(tc_test_rt, dq, 0, qkv, N * ld * sizeof(float), &err), err);
    TC_ASSERT_OK(tc_sgemm_strided_batched(tc_test_rt, 0, 1, N, N, hd, 0.125f,
                                          (struct tc_matrix){dq, 0, ld}, hd,
                                          (struct tc_matrix){dq, D, ld}, hd, 0.0f,
                                          (struct tc_matrix){ds, 0, N}, N * N, H, &err),
                 err);
    TC_ASSERT_OK(tc_buf_read(tc_test_rt, ds, 0, got, H * N * N * sizeof(float), &err), err);
    assert_true(tc_test_rel_l2(got, want, H * N * N) < 1e-5);
    tc_buf_destroy(dq);
    tc_buf_destroy(ds);
    free(qkv);
    free(want);
    free(got);
}

/* Runs the rest of a test on one GEMM path; "" restores automatic choice. */
static void gemm_path(const char *mode)
{
    if (mode[0])
        setenv("TERRACL_GEMM", mode, 1);
    else
        unsetenv("TERRACL_GEMM");
}

static void test_native_transposes_and_odd_sizes(void **state)
{
    (void)state;
    /* Edges of every tile (3x8 and 6x4 A*B^T, 6x64 A*B), K tails below
     * and above the 16-wide vectors, single rows and columns, A*B strips
     * ending in whole 16-column vectors (96, 33, 784 = 12 x 64 + 16);
     * A*B with one to four rows takes tiles of exactly those rows; short
     * sums take strips of more column tiles (item_steps: 8 for K = 64, 13
     * for 40, the most, 16, for 24 over 2000 columns), ragged at the end. */
    static const size_t shapes[][3] = {
        {1, 1, 1},      {7, 1, 7},     {1, 197, 17},  {197, 7, 1},   {197, 33, 197},
        {589, 64, 33},  {7, 589, 64},  {197, 197, 64}, {589, 40, 770}, {24, 96, 16},
        {13, 784, 40},  {2, 130, 40},  {3, 784, 33},  {4, 97, 20},   {5, 150, 9},
        {6, 2000, 24},
    };
    gemm_path("native");
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
                check_case(ta, tb, shapes[s][0], shapes[s][1], shapes[s][2], s % 3);
    gemm_path("");
}

/* Sums longer than a driver lets one work-item loop (Mesa's llvmpipe ends
 * a work-item's loops after 65535 passes): there the native kernels take K
 * in blocks, each adding to C, alpha on every block, beta and the epilogue
 * once. On other drivers the same cases run in one launch. */
static void test_native_long_k(void **state)
{
    (void)state;
    static const size_t shapes[][3] = {{5, 40, 4099}, {17, 70, 3072}, {3, 33, 2000}};
    gemm_path("native");
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
                check_case(ta, tb, shapes[s][0], shapes[s][1], shapes[s][2], s % 2);
    gemm_path("");
}

static void test_clblast_path_still_works(void **state)
{
    (void)state;
    gemm_path("clblast");
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            check_case(ta, tb, 197, 33, 64, 1);
    gemm_path("");
}

/* C = op(A) op(B) with A and B inside one buffer at odd offsets, C inside a
 * larger padded matrix; beta = 0 must ignore NaNs already in C. */
static void native_offsets_case(int ta, int tb)
{
    const size_t m = 197, n = 45, k = 37, pad = 5;
    const size_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + 3;
    const size_t na = (ta ? k : m) * lda, nb = (tb ? n : k) * ldb;
    const size_t off_a = 3, off_b = off_a + na + 7, off_c = 9, total = off_b + nb;
    float *buf = malloc(total * sizeof *buf), *want = malloc((off_c + m * ldc) * sizeof *want);
    float *got = malloc((off_c + m * ldc) * sizeof *got);
    tc_test_fill(buf, total, 57, -1, 1);
    for (size_t i = 0; i < off_c + m * ldc; i++)
        want[i] = NAN;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            want[off_c + i * ldc + j] = 0;
    gemm_ref(ta, tb, m, n, k, 1.5f, buf + off_a, lda, buf + off_b, ldb, 0.0f, want + off_c, ldc);
    terracl_error err = {0};
    struct tc_buf *d = NULL, *dc = NULL;
    TC_ASSERT_OK(tc_buf_create(tc_test_rt, total * sizeof(float), &d, &err), err);
    TC_ASSERT_OK(tc_buf_create(tc_test_rt, (off_c + m * ldc) * sizeof(float), &dc, &err), err);
    TC_ASSERT_OK(tc_buf_write(tc_test_rt, d, 0, buf, total * sizeof(float), &err), err);
    for (size_t i = 0; i < off_c + m * ldc; i++)
        got[i] = NAN;
    TC_ASSERT_OK(tc_buf_write(tc_test_rt, dc, 0, got, (off_c + m * ldc) * sizeof(float), &err),
                 err);
    TC_ASSERT_OK(tc_sgemm(tc_test_rt, ta, tb, m, n, k, 1.5f, (struct tc_matrix){d, off_a, lda},
                          (struct tc_matrix){d, off_b, ldb}, 0.0f,
                          (struct tc_matrix){dc, off_c, ldc}, &err),
                 err);
    TC_ASSERT_OK(tc_buf_read(tc_test_rt, dc, 0, got, (off_c + m * ldc) * sizeof(float), &err),
                 err);
    double num = 0, den = 0;
    for (size_t i = 0; i < off_c + m * ldc; i++) {
        int inside = i >= off_c && (i - off_c) % ldc < n;
        if (!inside) {
            /* Padding and the elements before C are never written. */
            if (!isnan(got[i]))
                fail_msg("ta=%d tb=%d: element %zu outside C was written", ta, tb, i);
            continue;
        }
        if (!isfinite(got[i]))
            fail_msg("ta=%d tb=%d: element %zu of C is %g (beta = 0 read C?)", ta, tb, i,
                     (double)got[i]);
        num += (got[i] - want[i]) * (double)(got[i] - want[i]);
        den += want[i] * (double)want[i];
    }
    if (!(sqrt(num / den) < 1e-5))
        fail_msg("ta=%d tb=%d offsets: rel L2 %.3g", ta, tb, sqrt(num / den));
    /* Reaching past the buffer is refused, not run. */
    assert_int_equal(tc_sgemm(tc_test_rt, ta, tb, m + 1000, n, k, 1.0f,
                              (struct tc_matrix){d, off_a, lda}, (struct tc_matrix){d, off_b, ldb},
                              0.0f, (struct tc_matrix){dc, off_c, ldc}, &err),
                     TERRACL_ERR_INVALID_ARG);
    tc_buf_destroy(d);
    tc_buf_destroy(dc);
    free(buf);
    free(want);
    free(got);
}

static void test_native_offsets_and_padding(void **state)
{
    (void)state;
    gemm_path("native");
    native_offsets_case(0, 1);
    native_offsets_case(0, 0);
    native_offsets_case(1, 0);
    gemm_path("");
}

static void test_native_strided_batched_attention(void **state)
{
    (void)state;
    /* S_h = Q_h K_h^T (A*B^T) and O_h = S_h V_h (A*B), O written per head
     * into a [N, D] matrix (ld D, stride hd) as attention does. */
    const size_t N = 197, H = 3, hd = 64, D = H * hd, ld = 3 * D;
    float *qkv = malloc(N * ld * sizeof *qkv);
    float *s = calloc(H * N * N, sizeof *s), *want = calloc(N * D, sizeof *want);
    float *got = malloc(N * D * sizeof *got);
    tc_test_fill(qkv, N * ld, 43, -1, 1);
    for (size_t h = 0; h < H; h++) {
        gemm_ref(0, 1, N, N, hd, 0.125f, qkv + h * hd, ld, qkv + D + h * hd, ld, 0.0f,
                 s + h * N * N, N);
        gemm_ref(0, 0, N, hd, N, 1.0f, s + h * N * N, N, qkv + 2 * D + h * hd, ld, 0.0f,
                 want + h * hd, D);
    }
    gemm_path("native");
    terracl_error err = {0};
    struct tc_buf *dq = NULL, *ds = NULL, *dout = NULL;
    TC_ASSERT_OK(tc_buf_create(tc_test_rt, N * ld * sizeof(float), &dq, &err), err);
    TC_ASSERT_OK(tc_buf_create(tc_test_rt, H * N * N * sizeof(float), &ds, &err), err);
    TC_ASSERT_OK(tc_buf_create(tc_test_rt, N * D * sizeof(float), &dout, &err), err);
    TC_ASSERT_OK(tc_buf_write(tc_test_rt, dq, 0, qkv, N * ld * sizeof(float), &err), err);
    TC_ASSERT_OK(tc_sgemm_strided_batched(tc_test_rt, 0, 1, N, N, hd, 0.125f,
                                          (struct tc_matrix){dq, 0, ld}, hd,
                                          (struct tc_matrix){dq, D, ld}, hd, 0.0f,
                                          (struct tc_matrix){ds, 0, N}, N * N, H, &err),
                 err);
    TC_ASSERT_OK(tc_sgemm_strided_batched(tc_test_rt, 0, 0, N, hd, N, 1.0f,
                                          (struct tc_matrix){ds, 0, N}, N * N,
                                          (struct tc_matrix){dq, 2 * D, ld}, hd, 0.0f,
                                          (struct tc_matrix){dout, 0, D}, hd, H, &err),
                 err);
    TC_ASSERT_OK(tc_buf_read(tc_test_rt, dout, 0, got, N * D * sizeof(float), &err), err);
    assert_true(tc_test_rel_l2(got, want, N * D) < 1e-5);
    gemm_path("");
    tc_buf_destroy(dq);
    tc_buf_destroy(ds);
    tc_buf_destroy(dout);
    free(qkv);
    free(s);
    free(want);
    free(got);
}

static void test_override_refuses_known_bad_combination(void **state)
{
    (void)state;
    terracl_error err = {0};
    const char *names[] = {"GEMMK", "MWG", "NWG"};
    const size_t values[] = {1, 32, 64};
    assert_int_equal(tc_gemm_override(tc_test_rt, "Xgemm", 3, names, values, &err),
                     TERRACL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "GEMMK=1"));
    /* An unknown kernel family is reported by CLBlast, not ignored. */
    assert_int_not_equal(tc_gemm_override(tc_test_rt, "NoSuchKernel", 0, names, values, &err),
                         TERRACL_OK);
}

static void test_host_gemm_argument_checks(void **state)
{
    (void)state;
    terracl_error err = {0};
    float a[4] = {0}, b[4] = {0}, c[4] = {0};
    assert_int_equal(terracl_sgemm_host(tc_test_rt, 0, 0, 2, 2, 2, 1, a, 1, b, 2, 0, c, 2, &err),
                     TERRACL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "lda=1"));
    assert_int_equal(terracl_sgemm_host(tc_test_rt, 0, 0, 0, 2, 2, 1, a, 2, b, 2, 0, c, 2, &err),
                     TERRACL_ERR_INVALID_ARG);
}

int main(void)
{
    tc_test_runtime_or_skip();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgemm_transposes_and_odd_sizes),
        cmocka_unit_test(test_sgemm_device_offsets),
        cmocka_unit_test(test_sgemm_strided_batched_heads),
        cmocka_unit_test(test_native_transposes_and_odd_sizes),
        cmocka_unit_test(test_native_long_k),
        cmocka_unit_test(test_clblast_path_still_works),
        cmocka_unit_test(test_native_offsets_and_padding),
        cmocka_unit_test(test_native_strided_batched_attention),
        cmocka_unit_test(test_override_refuses_known_bad_combination),
        cmocka_unit_test(test_host_gemm_argument_checks),
    };
    int rc = cmocka_run_group_tests_name("gemm", tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

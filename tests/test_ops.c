/* Every basic op against a naive C reference on random data, at sizes that
 * are not multiples of any work-group size. */
#include "test_common.h"

#include <string.h>

#include "graph/tensor.h"
#include "ops/elementwise.h"
#include "ops/layout.h"
#include "ops/linear.h"
#include "ops/norm.h"
#include "ops/reduce.h"
#include "ops/softmax.h"
#include "runtime/gemm_params.h"

static const int64_t k_sizes[] = {1, 7, 197, 589};
#define NSIZES (sizeof k_sizes / sizeof k_sizes[0])

static void test_add_mul_broadcast(void **state)
{
    (void)state;
    for (size_t si = 0; si < NSIZES; si++) {
        int64_t rows = k_sizes[si], cols = k_sizes[(si + 1) % NSIZES];
        int64_t dims[2] = {rows, cols};
        size_t n = (size_t)(rows * cols);
        float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *want = malloc(n * sizeof *want);
        tc_test_fill(a, n, 1, -2, 2);
        tc_test_fill(b, n, 2, -2, 2);
        struct tc_tensor ta = tc_test_upload(a, 2, dims), tfull = tc_test_upload(b, 2, dims);
        struct tc_tensor trow = tc_test_upload(b, 1, &cols), out;
        terracl_error err = {0};
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 2, dims, &out, &err), err);

        TC_ASSERT_OK(tc_op_add(tc_test_rt, &ta, &tfull, &out, &err), err);
        float *got = tc_test_download(&out);
        for (size_t i = 0; i < n; i++)
            want[i] = a[i] + b[i];
        assert_true(tc_test_max_abs(got, want, n) == 0);
        free(got);

        TC_ASSERT_OK(tc_op_mul(tc_test_rt, &ta, &tfull, &out, &err), err);
        got = tc_test_download(&out);
        for (size_t i = 0; i < n; i++)
            want[i] = a[i] * b[i];
        assert_true(tc_test_max_abs(got, want, n) == 0);
        free(got);

        /* A residual's sum and ReLU; it repeats nothing. */
        TC_ASSERT_OK(tc_op_add_relu(tc_test_rt, &ta, &tfull, &out, &err), err);
        got = tc_test_download(&out);
        for (size_t i = 0; i < n; i++)
            want[i] = a[i] + b[i] > 0.0f ? a[i] + b[i] : 0.0f;
        assert_true(tc_test_max_abs(got, want, n) == 0);
        free(got);
        if (rows > 1)
            assert_int_equal(tc_op_add_relu(tc_test_rt, &ta, &trow, &out, &err), TERRACL_ERR_SHAPE);

        TC_ASSERT_OK(tc_op_mul(tc_test_rt, &ta, &trow, &out, &err), err);
        got = tc_test_download(&out);
        for (size_t i = 0; i < n; i++)
            want[i] = a[i] * b[i % (size_t)cols];
        assert_true(tc_test_max_abs(got, want, n) == 0);
        free(got);

        /* In place, with the bias row. */
        TC_ASSERT_OK(tc_op_add(tc_test_rt, &ta, &trow, &ta, &err), err);
        got = tc_test_download(&ta);
        for (size_t i = 0; i < n; i++)
            want[i] = a[i] + b[i % (size_t)cols];
        assert_true(tc_test_max_abs(got, want, n) == 0);
        free(got);

        tc_tensor_free(&ta);
        tc_tensor_free(&tfull);
        tc_tensor_free(&trow);
        tc_tensor_free(&out);
        free(a);
        free(b);
        free(want);
    }
}

static void test_add_rejects_non_repeating_shapes(void **state)
{
    (void)state;
    terracl_error err = {0};
    int64_t d7 = 7, d3 = 3;
    struct tc_tensor a, b;
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 1, &d7, &a, &err), err);
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 1, &d3, &b, &err), err);
    assert_int_equal(tc_op_add(tc_test_rt, &a, &b, &a, &err), TERRACL_ERR_SHAPE);
    assert_non_null(strstr(err.message, "[3]"));
    tc_tensor_free(&a);
    tc_tensor_free(&b);
}

static double gelu_ref(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }

static void test_unary_ops(void **state)
{
    (void)state;
    for (size_t si = 0; si < NSIZES; si++) {
        int64_t n = k_sizes[si] * 3;
        float *x = malloc((size_t)n * sizeof *x), *want = malloc((size_t)n * sizeof *want);
        tc_test_fill(x, (size_t)n, 7, -6, 6);
        struct tc_tensor tx = tc_test_upload(x, 1, &n), ty;
        terracl_error err = {0};
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 1, &n, &ty, &err), err);

        TC_ASSERT_OK(tc_op_gelu(tc_test_rt, &tx, &ty, &err), err);
        float *got = tc_test_download(&ty);
        for (int64_t i = 0; i < n; i++)
            want[i] = (float)gelu_ref(x[i]);
        assert_true(tc_test_max_abs(got, want, (size_t)n) < 1e-5);
        free(got);

        TC_ASSERT_OK(tc_op_relu(tc_test_rt, &tx, &ty, &err), err);
        got = tc_test_download(&ty);
        for (int64_t i = 0; i < n; i++)
            want[i] = x[i] > 0 ? x[i] : 0;
        assert_true(tc_test_max_abs(got, want, (size_t)n) == 0);
        free(got);

        /* The SwiGLU gate, out of place and in place (as TerraMind runs it). */
        float *g = malloc((size_t)n * sizeof *g);
        tc_test_fill(g, (size_t)n, 8, -2, 2);
        struct tc_tensor tg = tc_test_upload(g, 1, &n);
        TC_ASSERT_OK(tc_op_silu_mul(tc_test_rt, &tx, &tg, &ty, &err), err);
        got = tc_test_download(&ty);
        for (int64_t i = 0; i < n; i++)
            want[i] = (float)(x[i] / (1.0 + exp(-(double)x[i])) * g[i]);
        assert_true(tc_test_max_abs(got, want, (size_t)n) < 1e-5);
        free(got);
        TC_ASSERT_OK(tc_op_silu_mul(tc_test_rt, &ty, &tg, &ty, &err), err); /* in place */
        int64_t half = n / 2;
        struct tc_tensor short_view = tg;
        short_view.dims[0] = half;
        assert_int_equal(tc_op_silu_mul(tc_test_rt, &tx, &short_view, &ty, &err),
                         TERRACL_ERR_SHAPE);
        tc_tensor_free(&tg);
        free(g);

        TC_ASSERT_OK(tc_op_scale(tc_test_rt, &tx, 0.25f, -1.5f, &ty, &err), err);
        got = tc_test_download(&ty);
        for (int64_t i = 0; i < n; i++)
            want[i] = x[i] * 0.25f - 1.5f;
        assert_true(tc_test_max_abs(got, want, (size_t)n) < 1e-6);
        free(got);

        tc_tensor_free(&tx);
        tc_tensor_free(&ty);
        free(x);
        free(want);
    }
}

static void test_layernorm_rows(void **state)
{
    (void)state;
    for (size_t si = 0; si < NSIZES; si++) {
        int64_t rows = k_sizes[(si + 2) % NSIZES], cols = k_sizes[si];
        size_t n = (size_t)(rows * cols);
        float *x = malloc(n * sizeof *x), *want = malloc(n * sizeof *want);
        float *g = malloc((size_t)cols * sizeof *g), *b = malloc((size_t)cols * sizeof *b);
        tc_test_fill(x, n, 3, -3, 5);
        tc_test_fill(g, (size_t)cols, 4, 0.5f, 1.5f);
        tc_test_fill(b, (size_t)cols, 5, -1, 1);
        for (int64_t r = 0; r < rows; r++) {
            double mean = 0, var = 0;
            for (int64_t c = 0; c < cols; c++)
                mean += x[r * cols + c];
            mean /= (double)cols;
            for (int64_t c = 0; c < cols; c++)
                var += (x[r * cols + c] - mean) * (x[r * cols + c] - mean);
            var /= (double)cols;
            for (int64_t c = 0; c < cols; c++)
                want[r * cols + c] =
                    (float)((x[r * cols + c] - mean) / sqrt(var + 1e-5) * g[c] + b[c]);
        }
        int64_t dims[2] = {rows, cols};
        struct tc_tensor tx = tc_test_upload(x, 2, dims), tg = tc_test_upload(g, 1, &cols), tb = tc_test_upload(b, 1, &cols);
        terracl_error err = {0};
        TC_ASSERT_OK(tc_op_layernorm(tc_test_rt, &tx, &tg, &tb, 1e-5f, &tx, &err), err);
        float *got = tc_test_download(&tx);
        assert_true(tc_test_rel_l2(got, want, n) < 1e-6);
        free(got);
        tc_tensor_free(&tx);
        tc_tensor_free(&tg);
        tc_tensor_free(&tb);
        free(x);
        free(want);
        free(g);
        free(b);
    }
}

/* LayerNorm over the channels of NCHW maps: a small map (one work-item
 * per pixel), and a 32x32 one, whose channel planes lie 4 KiB apart and
 * which goes channels-last and back, into a new tensor and in place. */
static void test_layernorm_channels(void **state)
{
    (void)state;
    static const int64_t shapes[][4] = {{2, 7, 5, 3}, {2, 20, 32, 32}};
    for (size_t si = 0; si < 2; si++) {
        const int64_t *dims = shapes[si];
        const size_t C = (size_t)dims[1], pix = (size_t)(dims[2] * dims[3]);
        const size_t n = (size_t)dims[0] * C * pix;
        float *x = malloc(n * sizeof *x), *want = malloc(n * sizeof *want);
        float g[20], b[20];
        assert_true(x && want);
        tc_test_fill(x, n, 8, -2, 2);
        tc_test_fill(g, C, 9, 0.5f, 1.5f);
        tc_test_fill(b, C, 10, -1, 1);
        for (size_t nb = 0; nb < (size_t)dims[0]; nb++)
            for (size_t p = 0; p < pix; p++) {
                double mean = 0, var = 0;
                for (size_t c = 0; c < C; c++)
                    mean += x[(nb * C + c) * pix + p];
                mean /= (double)C;
                for (size_t c = 0; c < C; c++) {
                    double d = x[(nb * C + c) * pix + p] - mean;
                    var += d * d;
                }
                var /= (double)C;
                for (size_t c = 0; c < C; c++)
                    want[(nb * C + c) * pix + p] =
                        (float)((x[(nb * C + c) * pix + p] - mean) / sqrt(var + 1e-6) * g[c] + b[c]);
            }
        int64_t cd = (int64_t)C;
        struct tc_tensor tx = tc_test_upload(x, 4, dims), tg = tc_test_upload(g, 1, &cd);
        struct tc_tensor tb = tc_test_upload(b, 1, &cd), ty;
        terracl_error err = {0};
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, dims, &ty, &err), err);
        TC_ASSERT_OK(tc_op_layernorm_channels(tc_test_rt, &tx, &tg, &tb, 1e-6f, &ty, &err), err);
        float *got = tc_test_download(&ty);
        assert_true(tc_test_rel_l2(got, want, n) < 1e-6);
        free(got);
        TC_ASSERT_OK(tc_op_layernorm_channels(tc_test_rt, &tx, &tg, &tb, 1e-6f, &tx, &err), err);
        got = tc_test_download(&tx);
        assert_true(tc_test_rel_l2(got, want, n) < 1e-6);
        free(got);
        free(x);
        free(want);
        tc_tensor_free(&tx);
        tc_tensor_free(&tg);
        tc_tensor_free(&tb);
        tc_tensor_free(&ty);
    }
}

static void test_softmax_rows(void **state)
{
    (void)state;
    for (size_t si = 0; si < NSIZES; si++) {
        int64_t rows = k_sizes[(si + 1) % NSIZES], cols = k_sizes[si];
        size_t n = (size_t)(rows * cols);
        float *x = malloc(n * sizeof *x), *want = malloc(n * sizeof *want);
        tc_test_fill(x, n, 11, -20, 20);
        const float scale = 0.125f;
        for (int64_t r = 0; r < rows; r++) {
            double m = -INFINITY, s = 0;
            for (int64_t c = 0; c < cols; c++)
                m = fmax(m, x[r * cols + c] * scale);
            for (int64_t c = 0; c < cols; c++)
                s += exp(x[r * cols + c] * scale - m);
            for (int64_t c = 0; c < cols; c++)
                want[r * cols + c] = (float)(exp(x[r * cols + c] * scale - m) / s);
        }
        int64_t dims[2] = {rows, cols};
        struct tc_tensor tx = tc_test_upload(x, 2, dims);
        terracl_error err = {0};
        TC_ASSERT_OK(tc_op_softmax(tc_test_rt, &tx, scale, &tx, &err), err);
        float *got = tc_test_download(&tx);
        assert_true(tc_test_rel_l2(got, want, n) < 1e-6);
        free(got);
        tc_tensor_free(&tx);
        free(x);
        free(want);
    }
}

static void test_permute(void **state)
{
    (void)state;
    int64_t dims[5] = {2, 3, 7, 5, 4};
    size_t n = 2 * 3 * 7 * 5 * 4;
    float *x = malloc(n * sizeof *x), *want = malloc(n * sizeof *want);
    tc_test_fill(x, n, 12, -1, 1);
    struct tc_tensor tx = tc_test_upload(x, 5, dims);
    /* The last two are batched transposes of axis blocks (the tiled
     * kernel): [2][7 5][4] -> [2][4][7 5] with 4-wide tiles, and
     * [2][3 7][5 4] -> [2][5 4][3 7], whole and partial 16 x 16 tiles. */
    const int perms[][5] = {{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {0, 2, 1, 4, 3},
                            {2, 0, 4, 1, 3}, {0, 1, 4, 2, 3}, {0, 3, 4, 1, 2}};
    for (size_t pi = 0; pi < sizeof perms / sizeof perms[0]; pi++) {
        const int *perm = perms[pi];
        int64_t od[5];
        for (int i = 0; i < 5; i++)
            od[i] = dims[perm[i]];
        size_t xs[5] = {3 * 7 * 5 * 4, 7 * 5 * 4, 5 * 4, 4, 1};
        size_t o = 0;
        for (int64_t a = 0; a < od[0]; a++)
            for (int64_t b = 0; b < od[1]; b++)
                for (int64_t c = 0; c < od[2]; c++)
                    for (int64_t d = 0; d < od[3]; d++)
                        for (int64_t e = 0; e < od[4]; e++) {
                            int64_t idx[5] = {a, b, c, d, e};
                            size_t src = 0;
                            for (int i = 0; i < 5; i++)
                                src += (size_t)idx[i] * xs[perm[i]];
                            want[o++] = x[src];
                        }
        struct tc_tensor ty;
        terracl_error err = {0};
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 5, od, &ty, &err), err);
        TC_ASSERT_OK(tc_op_permute(tc_test_rt, &tx, perm, &ty, &err), err);
        float *got = tc_test_download(&ty);
        assert_true(tc_test_max_abs(got, want, n) == 0);
        free(got);
        tc_tensor_free(&ty);
    }
    /* Two 1030 x 1021 matrices (4 MiB each): blocks of 4 x 4 tiles per
     * work-item, the last blocks and tiles partial. */
    {
        int64_t d3[3] = {2, 1030, 1021}, t3[3] = {2, 1021, 1030};
        const size_t rows = 1030, cols = 1021, nb = 2 * rows * cols;
        float *a = malloc(nb * sizeof *a), *at = malloc(nb * sizeof *at);
        tc_test_fill(a, nb, 14, -1, 1);
        struct tc_tensor ma = tc_test_upload(a, 3, d3), mat;
        terracl_error err = {0};
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 3, t3, &mat, &err), err);
        const int swap_last[3] = {0, 2, 1};
        TC_ASSERT_OK(tc_op_permute(tc_test_rt, &ma, swap_last, &mat, &err), err);
        float *got = tc_test_download(&mat);
        for (size_t b = 0; b < 2; b++)
            for (size_t r = 0; r < rows; r++)
                for (size_t c = 0; c < cols; c++)
                    at[b * rows * cols + c * rows + r] = a[b * rows * cols + r * cols + c];
        assert_true(tc_test_max_abs(got, at, nb) == 0);
        free(got);
        free(a);
        free(at);
        tc_tensor_free(&ma);
        tc_tensor_free(&mat);
    }
    /* 2-D transpose of a 197 x 589 matrix. */
    int64_t d2[2] = {197, 589}, t2[2] = {589, 197};
    struct tc_tensor m2, m2t;
    float *big = malloc(197 * 589 * sizeof *big), *bigt = malloc(197 * 589 * sizeof *bigt);
    tc_test_fill(big, 197 * 589, 13, -1, 1);
    m2 = tc_test_upload(big, 2, d2);
    terracl_error err = {0};
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 2, t2, &m2t, &err), err);
    const int swap[2] = {1, 0};
    TC_ASSERT_OK(tc_op_permute(tc_test_rt, &m2, swap, &m2t, &err), err);
    float *got = tc_test_download(&m2t);
    for (int r = 0; r < 197; r++)
        for (int c = 0; c < 589; c++)
            bigt[c * 197 + r] = big[r * 589 + c];
    assert_true(tc_test_max_abs(got, bigt, 197 * 589) == 0);
    const int bad[2] = {0, 0};
    assert_int_equal(tc_op_permute(tc_test_rt, &m2, bad, &m2t, &err), TERRACL_ERR_INVALID_ARG);
    free(got);
    free(big);
    free(bigt);
    tc_tensor_free(&m2);
    tc_tensor_free(&m2t);
    tc_tensor_free(&tx);
    free(x);
    free(want);
}

static void test_concat(void **state)
{
    (void)state;
    /* Three [2, k_i, 7] tensors along axis 1, then along the last axis. */
    int64_t ks[3] = {1, 7, 197};
    float *parts[3];
    struct tc_tensor ts[3];
    for (int i = 0; i < 3; i++) {
        int64_t d[3] = {2, ks[i], 7};
        size_t n = (size_t)(2 * ks[i] * 7);
        parts[i] = malloc(n * sizeof(float));
        tc_test_fill(parts[i], n, (uint32_t)(20 + i), -1, 1);
        ts[i] = tc_test_upload(parts[i], 3, d);
    }
    int64_t od[3] = {2, 205, 7};
    struct tc_tensor ty;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 3, od, &ty, &err), err);
    TC_ASSERT_OK(tc_op_concat(tc_test_rt, ts, 3, 1, &ty, &err), err);
    float *got = tc_test_download(&ty);
    for (int b = 0; b < 2; b++) {
        int64_t row = 0;
        for (int i = 0; i < 3; i++)
            for (int64_t r = 0; r < ks[i]; r++, row++)
                for (int c = 0; c < 7; c++)
                    assert_true(got[(b * 205 + row) * 7 + c] == parts[i][(b * ks[i] + r) * 7 + c]);
    }
    free(got);
    /* Wrong total along the axis is a shape error. */
    assert_int_equal(tc_op_concat(tc_test_rt, ts, 2, 1, &ty, &err), TERRACL_ERR_SHAPE);
    tc_tensor_free(&ty);
    for (int i = 0; i < 3; i++) {
        tc_tensor_free(&ts[i]);
        free(parts[i]);
    }
}

/* y = gelu?(x W^T + b) and y += x W^T + b, with tile edges in every
 * direction (N not a multiple of 8, K not a multiple of 16, M = 7). */
static void test_linear_fused_forms(void **state)
{
    (void)state;
    const int64_t M = 7, K = 41, N = 23;
    float x[7 * 41], w[23 * 41], b[23], y0[7 * 23], want[7 * 23];
    tc_test_fill(x, (size_t)(M * K), 51, -1, 1);
    tc_test_fill(w, (size_t)(N * K), 52, -0.3f, 0.3f);
    tc_test_fill(b, (size_t)N, 53, -1, 1);
    tc_test_fill(y0, (size_t)(M * N), 54, -1, 1);
    int64_t xd[2] = {M, K}, wd[2] = {N, K}, yd[2] = {M, N};
    for (int mode = 0; mode < 3; mode++) {
        int gelu = mode == 1, acc = mode == 2;
        struct tc_tensor tx = tc_test_upload(x, 2, xd), tw = tc_test_upload(w, 2, wd);
        struct tc_tensor tb = tc_test_upload(b, 1, &N), ty = tc_test_upload(y0, 2, yd);
        terracl_error err = {0};
        TC_ASSERT_OK(tc_op_linear_ex(tc_test_rt, &tx, &tw, &tb, gelu, acc, &ty, &err), err);
        float *got = tc_test_download(&ty);
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double s = b[j] + (acc ? y0[i * N + j] : 0.0);
                for (int64_t k = 0; k < K; k++)
                    s += (double)x[i * K + k] * w[j * K + k];
                want[i * N + j] = (float)(gelu ? gelu_ref(s) : s);
            }
        if (!(tc_test_rel_l2(got, want, (size_t)(M * N)) < 1e-6))
            fail_msg("linear mode %d: relative L2 %.3g", mode, tc_test_rel_l2(got, want, (size_t)(M * N)));
        free(got);
        tc_tensor_free(&tx);
        tc_tensor_free(&tw);
        tc_tensor_free(&tb);
        tc_tensor_free(&ty);
    }
}

/* Linear weights in the packed GEMM layout (CPU devices): every fused form,
 * with and without bias, against a double-precision reference, at sizes
 * with partial row tiles, one and several 64-column panels and odd K; with
 * the panel kernel and the K-blocked one (K blocks of 64 and 128: several
 * blocks, the last one partial, or a single partial one). */
static void test_linear_packed_weights(void **state)
{
    (void)state;
    /* Short sums take strips of more panels (item_steps): 13 x 1280 x 24
     * two strips, 16 panels and a ragged 4. 49 and 16 rows take 7- and
     * 4-row tiles in the panel kernel (6 in the K-blocked one). */
    const int64_t shapes[][3] = {{1, 64, 1},     {7, 128, 17},  {197, 192, 300},
                                 {13, 1280, 24}, {49, 128, 70}, {16, 64, 33},
                                 {16, 192, 400}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const int64_t M = shapes[si][0], N = shapes[si][1], K = shapes[si][2];
        if (!tc_gemm_pack_wanted(tc_test_rt, (size_t)N, (size_t)K))
            skip(); /* not a device where terracl packs Linear weights */
        float *x = malloc(sizeof(float) * (size_t)(M * K));
        float *w = malloc(sizeof(float) * (size_t)(N * K));
        float *packed = malloc(sizeof(float) * (size_t)(N * K));
        float *b = malloc(sizeof(float) * (size_t)N);
        float *y0 = malloc(sizeof(float) * (size_t)(M * N));
        float *want = malloc(sizeof(float) * (size_t)(M * N));
        assert_true(x && w && packed && b && y0 && want);
        tc_test_fill(x, (size_t)(M * K), 61, -1, 1);
        tc_test_fill(w, (size_t)(N * K), 62, -0.3f, 0.3f);
        tc_test_fill(b, (size_t)N, 63, -1, 1);
        tc_test_fill(y0, (size_t)(M * N), 64, -1, 1);
        tc_gemm_pack_weight(w, (size_t)N, (size_t)K, packed);
        int64_t xd[2] = {M, K}, wd[2] = {N, K}, yd[2] = {M, N};
        for (int run = 0; run < 30; run++) {
            static const size_t kcs[5] = {0, 64, 128, 0, 0};
            /* L2 shares (strip_kib): at 210 KiB 16 x 400 takes one panel
             * per work-item; at 64 KiB sums of 128+ take the K-blocked
             * kernel in blocks of 128. */
            static const size_t shares[5] = {0, 0, 0, 210, 64};
            struct tc_native_params np = tc_native_default;
            np.packed_kc = kcs[run / 6];
            np.strip_kib = shares[run / 6];
            tc_native_force(tc_test_rt, &np);
            int mode = run % 6;
            int gelu = mode % 3 == 1, acc = mode % 3 == 2, bias = mode < 3;
            struct tc_tensor tx = tc_test_upload(x, 2, xd), tw = tc_test_upload(packed, 2, wd);
            struct tc_tensor tb = tc_test_upload(b, 1, &N), ty = tc_test_upload(y0, 2, yd);
            tw.gemm_packed = 1;
            terracl_error err = {0};
            TC_ASSERT_OK(tc_op_linear_ex(tc_test_rt, &tx, &tw, bias ? &tb : NULL, gelu, acc, &ty,
                                         &err),
                         err);
            float *got = tc_test_download(&ty);
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) {
                    double s = (bias ? b[j] : 0.0) + (acc ? y0[i * N + j] : 0.0);
                    for (int64_t k = 0; k < K; k++)
                        s += (double)x[i * K + k] * w[j * K + k];
                    want[i * N + j] = (float)(gelu ? gelu_ref(s) : s);
                }
            double e = tc_test_rel_l2(got, want, (size_t)(M * N));
            if (!(e < 1e-6))
                fail_msg("packed linear %lldx%lldx%lld mode %d, K blocks %zu: relative L2 %.3g",
                         (long long)M, (long long)N, (long long)K, mode, np.packed_kc, e);
            /* The packed layout is not a plain matrix: no views; reading it
             * back gives the plain weight. */
            struct tc_tensor view;
            int64_t flat = N * K;
            assert_int_equal(tc_tensor_reshape(&tw, 1, &flat, &view, &err),
                             TERRACL_ERR_INVALID_ARG);
            free(got);
            got = malloc(sizeof(float) * (size_t)(N * K));
            assert_non_null(got);
            TC_ASSERT_OK(tc_tensor_download(tc_test_rt, &tw, got, &err), err);
            assert_memory_equal(got, w, sizeof(float) * (size_t)(N * K));
            free(got);
            tc_tensor_free(&tx);
            tc_tensor_free(&tw);
            tc_tensor_free(&tb);
            tc_tensor_free(&ty);
        }
        tc_native_force(tc_test_rt, NULL);
        free(x);
        free(w);
        free(packed);
        free(b);
        free(y0);
        free(want);
    }
}

/* The SwiGLU gate y = silu(y) * (x W^T): inside the packed GEMM's
 * epilogue (also with the K-blocked kernel chosen, which the gate must
 * leave), and through the element-wise pass with a plain weight. */
static void test_linear_silu_gate(void **state)
{
    (void)state;
    const int64_t M = 13, N = 128, K = 40;
    float *x = malloc(sizeof(float) * (size_t)(M * K)), *w = malloc(sizeof(float) * (size_t)(N * K));
    float *y0 = malloc(sizeof(float) * (size_t)(M * N)), *want = malloc(sizeof(float) * (size_t)(M * N));
    assert_true(x && w && y0 && want);
    tc_test_fill(x, (size_t)(M * K), 71, -1, 1);
    tc_test_fill(w, (size_t)(N * K), 72, -0.5f, 0.5f);
    tc_test_fill(y0, (size_t)(M * N), 73, -3, 3);
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0.0, g = y0[i * N + j];
            for (int64_t k = 0; k < K; k++)
                s += (double)x[i * K + k] * w[j * K + k];
            want[i * N + j] = (float)(g / (1.0 + exp(-g)) * s);
        }
    int64_t xd[2] = {M, K}, wd[2] = {N, K}, yd[2] = {M, N};
    for (int run = 0; run < 3; run++) {
        int packed = run > 0 && tc_gemm_pack_wanted(tc_test_rt, (size_t)N, (size_t)K);
        if (run > 0 && !packed)
            continue;
        struct tc_native_params np = tc_native_default;
        np.packed_kc = run == 2 ? 16 : 0;
        tc_native_force(tc_test_rt, &np);
        terracl_error err = {0};
        struct tc_tensor tx = tc_test_upload(x, 2, xd), ty = tc_test_upload(y0, 2, yd), tw;
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 2, wd, &tw, &err), err);
        tw.gemm_packed = packed ? TC_PACKED : TC_PLAIN;
        TC_ASSERT_OK(tc_tensor_upload(tc_test_rt, &tw, w, &err), err);
        TC_ASSERT_OK(tc_op_linear_silu_gate(tc_test_rt, &tx, &tw, &ty, &err), err);
        float *got = tc_test_download(&ty);
        double e = tc_test_rel_l2(got, want, (size_t)(M * N));
        if (!(e < 1e-6))
            fail_msg("SwiGLU gate (%s): relative L2 %.3g", run ? "packed" : "plain", e);
        free(got);
        tc_tensor_free(&tx);
        tc_tensor_free(&ty);
        tc_tensor_free(&tw);
    }
    tc_native_force(tc_test_rt, NULL);
    free(x);
    free(w);
    free(y0);
    free(want);
}

/* Means, maxima and minima over rows longer than some drivers let one
 * work-item loop (Mesa's llvmpipe ends them after 65535 passes, silently):
 * there the rows are reduced in chunks and the chunks again; elsewhere in
 * one pass. Three rows of 200003 values whose sums are exact in float (a
 * quarter times 0..6), each with its maximum and minimum in a different
 * chunk; with the chunks' results not reduced again, or a chunk left out,
 * the results differ. */
static void test_loop_limit_reduce(void **state)
{
    (void)state;
    const int64_t rows = 3, m = 200003;
    float *x = malloc((size_t)(rows * m) * sizeof *x);
    assert_non_null(x);
    double sum[3] = {0};
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t i = 0; i < m; i++) {
            float v = (float)((i + r) % 7) * 0.25f;
            if (i == 1000 + 70000 * r)
                v = 9.0f + (float)r; /* the row's maximum */
            if (i == m - 1 - 60000 * r)
                v = -3.0f - (float)r; /* and its minimum */
            x[r * m + i] = v;
            sum[r] += v;
        }
    }
    int64_t xd[2] = {rows, m};
    struct tc_tensor tx = tc_test_upload(x, 2, xd), ty;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 1, &rows, &ty, &err), err);
    static const enum tc_reduce modes[3] = {TC_REDUCE_MEAN, TC_REDUCE_MAX, TC_REDUCE_MIN};
    for (int k = 0; k < 3; k++) {
        TC_ASSERT_OK(tc_op_reduce_last(tc_test_rt, &tx, modes[k], &ty, &err), err);
        float *got = tc_test_download(&ty);
        for (int64_t r = 0; r < rows; r++) {
            double want = k == 0 ? sum[r] / (double)m : k == 1 ? 9.0 + (double)r : -3.0 - (double)r;
            if (fabs(got[r] - want) > 1e-6 * fabs(want))
                fail_msg("reduce mode %d, row %lld: %.9g, want %.9g", k, (long long)r, got[r], want);
        }
        free(got);
    }
    tc_tensor_free(&tx);
    tc_tensor_free(&ty);
    free(x);
}

int main(void)
{
    tc_test_runtime_or_skip();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_mul_broadcast),
        cmocka_unit_test(test_add_rejects_non_repeating_shapes),
        cmocka_unit_test(test_unary_ops),
        cmocka_unit_test(test_layernorm_rows),
        cmocka_unit_test(test_layernorm_channels),
        cmocka_unit_test(test_softmax_rows),
        cmocka_unit_test(test_permute),
        cmocka_unit_test(test_concat),
        cmocka_unit_test(test_linear_fused_forms),
        cmocka_unit_test(test_linear_packed_weights),
        cmocka_unit_test(test_linear_silu_gate),
        cmocka_unit_test(test_loop_limit_reduce),
    };
    int rc = cmocka_run_group_tests_name("ops", tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

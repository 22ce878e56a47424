/* GroupNorm and depthwise Conv2d (the ops smp's decoders add) against naive
 * C references: odd sizes, several groups per sample, long rows far from
 * zero mean, stride/padding/dilation variants, with and without bias. */
#include "test_common.h"

#include <math.h>
#include <string.h>

#include "graph/tensor.h"
#include "ops/dwconv.h"
#include "ops/groupnorm.h"

static float *random_buf(size_t n, uint32_t seed, float lo, float hi)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    tc_test_fill(p, n, seed, lo, hi);
    return p;
}

static void expect_close(const float *got, const float *want, size_t n, double tol,
                         const char *what)
{
    double rel = tc_test_rel_l2(got, want, n);
    if (!(rel <= tol))
        fail_msg("%s: relative L2 %.3g (max abs %.3g)", what, rel, tc_test_max_abs(got, want, n));
}

static void test_groupnorm(void **state)
{
    (void)state;
    /* B, C, H, W, groups, offset added to the input (long rows far from 0). */
    static const struct {
        int64_t d[4], groups;
        float offset;
    } cases[] = {
        {{2, 64, 5, 3}, 32, 0.0f},
        {{1, 6, 7, 9}, 3, 0.0f},
        {{2, 32, 1, 1}, 32, 0.0f},
        {{1, 64, 96, 96}, 2, 100.0f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int64_t *d = cases[i].d;
        int64_t C = d[1], G = cases[i].groups;
        size_t px = (size_t)(d[2] * d[3]), n = (size_t)d[0] * (size_t)C * px;
        float *x = random_buf(n, 300 + (uint32_t)i, -2, 2);
        for (size_t j = 0; j < n; j++)
            x[j] += cases[i].offset;
        float *g = random_buf((size_t)C, 310, 0.5f, 1.5f), *b = random_buf((size_t)C, 311, -1, 1);
        float *want = malloc(n * sizeof *want), *want_relu = malloc(n * sizeof *want);
        size_t per = (size_t)(C / G) * px;
        for (size_t r = 0; r < (size_t)(d[0] * G); r++) {
            double mean = 0, var = 0;
            for (size_t j = 0; j < per; j++)
                mean += x[r * per + j];
            mean /= (double)per;
            for (size_t j = 0; j < per; j++)
                var += (x[r * per + j] - mean) * (x[r * per + j] - mean);
            var /= (double)per;
            for (size_t j = 0; j < per; j++) {
                size_t k = r * per + j, c = (k / px) % (size_t)C;
                double v = (x[k] - mean) / sqrt(var + 1e-5) * g[c] + b[c];
                want[k] = (float)v;
                want_relu[k] = v > 0 ? (float)v : 0.0f;
            }
        }
        struct tc_tensor tx = tc_test_upload(x, 4, d), tg = tc_test_upload(g, 1, &C),
                         tb = tc_test_upload(b, 1, &C), ty;
        terracl_error err = {0};
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, d, &ty, &err), err);
        TC_ASSERT_OK(tc_op_groupnorm(tc_test_rt, &tx, G, &tg, &tb, 1e-5f, 1, &ty, &err), err);
        float *got = tc_test_download(&ty);
        expect_close(got, want_relu, n, 1e-5, "groupnorm+relu");
        free(got);
        /* In place, no ReLU. */
        TC_ASSERT_OK(tc_op_groupnorm(tc_test_rt, &tx, G, &tg, &tb, 1e-5f, 0, &tx, &err), err);
        got = tc_test_download(&tx);
        expect_close(got, want, n, 1e-5, "groupnorm");
        free(got);
        /* Channels that do not split into the groups are refused. */
        assert_int_equal(tc_op_groupnorm(tc_test_rt, &tx, C + 1, &tg, &tb, 1e-5f, 0, &ty, &err),
                         TERRACL_ERR_SHAPE);
        free(x);
        free(g);
        free(b);
        free(want);
        free(want_relu);
        tc_tensor_free(&tx);
        tc_tensor_free(&tg);
        tc_tensor_free(&tb);
        tc_tensor_free(&ty);
    }
}

static void test_depthwise(void **state)
{
    (void)state;
    static const struct {
        int64_t B, C, H, W, k;
        struct tc_conv_geom g;
        int bias;
    } cases[] = {
        {2, 5, 9, 7, 3, {1, 1, 1, 1, 1, 1}, 0},
        {1, 4, 11, 13, 3, {1, 1, 12, 12, 12, 12}, 1},
        {2, 3, 10, 9, 3, {2, 2, 1, 1, 1, 1}, 1},
        {1, 2, 6, 5, 5, {1, 2, 2, 0, 2, 1}, 0},
        /* DeepLabV3+'s atrous rates on a map smaller than the dilation */
        {1, 3, 14, 14, 3, {1, 1, 24, 24, 24, 24}, 1},
        {2, 2, 14, 13, 3, {1, 1, 36, 36, 36, 36}, 0},
        /* ... along one axis only (a wide map keeps the other taps) */
        {1, 2, 14, 40, 3, {1, 1, 24, 24, 24, 24}, 1},
        /* rows of 32+ take 16 lanes: interior windows, both ends, a partial strip */
        {2, 3, 9, 40, 3, {1, 1, 1, 1, 1, 1}, 1},
        {1, 2, 7, 70, 3, {1, 1, 12, 12, 12, 12}, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t B = cases[i].B, C = cases[i].C, H = cases[i].H, W = cases[i].W, k = cases[i].k;
        const struct tc_conv_geom *g = &cases[i].g;
        int64_t Ho = (H + 2 * g->pad_h - g->dil_h * (k - 1) - 1) / g->stride_h + 1;
        int64_t Wo = (W + 2 * g->pad_w - g->dil_w * (k - 1) - 1) / g->stride_w + 1;
        int64_t xd[4] = {B, C, H, W}, wd[4] = {C, 1, k, k}, yd[4] = {B, C, Ho, Wo};
        size_t nx = (size_t)(B * C * H * W), nw = (size_t)(C * k * k), ny = (size_t)(B * C * Ho * Wo);
        float *x = random_buf(nx, 320 + (uint32_t)i, -1, 1), *w = random_buf(nw, 330, -1, 1);
        float *b = random_buf((size_t)C, 331, -1, 1), *want = malloc(ny * sizeof *want);
        for (int64_t n = 0; n < B; n++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t oy = 0; oy < Ho; oy++)
                    for (int64_t ox = 0; ox < Wo; ox++) {
                        double acc = cases[i].bias ? b[c] : 0.0;
                        for (int64_t ky = 0; ky < k; ky++)
                            for (int64_t kx = 0; kx < k; kx++) {
                                int64_t iy = oy * g->stride_h - g->pad_h + ky * g->dil_h;
                                int64_t ix = ox * g->stride_w - g->pad_w + kx * g->dil_w;
                                if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                                    acc += (double)x[((n * C + c) * H + iy) * W + ix] *
                                           w[(c * k + ky) * k + kx];
                            }
                        want[((n * C + c) * Ho + oy) * Wo + ox] = (float)acc;
                    }
        struct tc_tensor tx = tc_test_upload(x, 4, xd), tw = tc_test_upload(w, 4, wd),
                         tb = tc_test_upload(b, 1, &C), ty;
        terracl_error err = {0};
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, yd, &ty, &err), err);
        TC_ASSERT_OK(tc_op_dwconv2d(tc_test_rt, &tx, &tw, cases[i].bias ? &tb : NULL, g, 0, &ty,
                                    &err),
                     err);
        float *got = tc_test_download(&ty);
        expect_close(got, want, ny, 1e-6, "depthwise conv2d");
        free(got);
        /* A weight for other channels is refused. */
        int64_t bad[4] = {C + 1, 1, k, k};
        struct tc_tensor tbad;
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, bad, &tbad, &err), err);
        assert_int_equal(tc_op_dwconv2d(tc_test_rt, &tx, &tbad, NULL, g, 0, &ty, &err),
                         TERRACL_ERR_SHAPE);
        free(x);
        free(w);
        free(b);
        free(want);
        tc_tensor_free(&tx);
        tc_tensor_free(&tw);
        tc_tensor_free(&tb);
        tc_tensor_free(&ty);
        tc_tensor_free(&tbad);
    }
}

int main(void)
{
    tc_test_runtime_or_skip();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groupnorm),
        cmocka_unit_test(test_depthwise),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

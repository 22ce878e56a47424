/* nn.AvgPool2d(k, s, ceil_mode, count_include_pad=False) against a naive C
 * reference, on odd sizes where ceil mode leaves cut windows. */
#include "test_common.h"

#include "graph/tensor.h"
#include "ops/avgpool.h"

static void test_avg_pool(void **state)
{
    (void)state;
    static const struct {
        int64_t B, C, H, W, k, s;
        int ceil_mode;
        int64_t Ho, Wo; /* as PyTorch computes them */
    } cases[] = {
        {2, 3, 7, 5, 2, 2, 1, 4, 3}, /* timm's avg_down shortcut on odd maps */
        {1, 2, 7, 5, 2, 2, 0, 3, 2}, /* floor mode drops the last row/column */
        {1, 1, 1, 3, 2, 2, 1, 1, 2}, /* one row: a window cut to one element */
        {1, 2, 9, 8, 3, 2, 1, 4, 4}, /* ceil: a last window that would start past the input is dropped */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t B = cases[i].B, C = cases[i].C, H = cases[i].H, W = cases[i].W;
        int64_t k = cases[i].k, s = cases[i].s;
        int64_t Ho = tc_avg_pool_out_len(H, k, s, cases[i].ceil_mode);
        int64_t Wo = tc_avg_pool_out_len(W, k, s, cases[i].ceil_mode);
        assert_int_equal(Ho, cases[i].Ho);
        assert_int_equal(Wo, cases[i].Wo);
        size_t nx = (size_t)(B * C * H * W), ny = (size_t)(B * C * Ho * Wo);
        float *x = malloc(nx * sizeof *x), *want = malloc(ny * sizeof *want);
        tc_test_fill(x, nx, 3 + (uint32_t)i, -1, 1);
        for (int64_t p = 0; p < B * C; p++)
            for (int64_t oy = 0; oy < Ho; oy++)
                for (int64_t ox = 0; ox < Wo; ox++) {
                    double acc = 0;
                    int cnt = 0;
                    for (int64_t yy = oy * s; yy < oy * s + k && yy < H; yy++)
                        for (int64_t xx = ox * s; xx < ox * s + k && xx < W; xx++, cnt++)
                            acc += x[(p * H + yy) * W + xx];
                    want[(p * Ho + oy) * Wo + ox] = (float)(acc / cnt);
                }
        int64_t xd[4] = {B, C, H, W}, yd[4] = {B, C, Ho, Wo};
        struct tc_tensor tx = tc_test_upload(x, 4, xd), ty = {0};
        terracl_error err = {0};
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, yd, &ty, &err), err);
        TC_ASSERT_OK(tc_op_avg_pool2d(tc_test_rt, &tx, k, s, cases[i].ceil_mode, &ty, &err), err);
        float *got = tc_test_download(&ty);
        double rel = tc_test_rel_l2(got, want, ny);
        if (!(rel <= 1e-6))
            fail_msg("avg pool case %zu: relative L2 %.3g", i, rel);
        /* An output of the other mode's size is refused. */
        if (tc_avg_pool_out_len(H, k, s, !cases[i].ceil_mode) != Ho)
            assert_int_equal(tc_op_avg_pool2d(tc_test_rt, &tx, k, s, !cases[i].ceil_mode, &ty,
                                              &err),
                             TERRACL_ERR_SHAPE);
        free(got);
        tc_tensor_free(&tx);
        tc_tensor_free(&ty);
        free(x);
        free(want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_avg_pool)};
    tc_test_runtime_or_skip();
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

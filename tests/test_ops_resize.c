/* Resize, pooling, reflect padding and crop against naive C references
 * written from PyTorch's documented formulas, on random data with odd sizes,
 * up- and down-scaling and outputs of size 1. */
#include "test_common.h"

#include <string.h>

#include "graph/tensor.h"
#include "ops/pad.h"
#include "ops/resize.h"

struct resize_case {
    int64_t n, c, ih, iw, oh, ow;
};

static const struct resize_case k_resize[] = {
    {1, 1, 7, 5, 13, 3},  {2, 3, 5, 9, 1, 1},    {1, 2, 1, 1, 4, 3},  {1, 3, 16, 16, 64, 64},
    {2, 1, 11, 13, 4, 6}, {1, 1, 33, 17, 33, 17}, {1, 4, 6, 7, 12, 14}, {1, 1, 2, 1, 1, 5},
    /* Rows doubled but not columns, and the reverse (the CPU row kernels'
     * special cases per axis). */
    {1, 2, 5, 8, 10, 13}, {2, 2, 9, 6, 7, 12},
    /* Enough planes for whole-plane bands of the CPU bilinear kernel, and
     * rows wider than its private rows (the row kernel then). */
    {1, 70, 5, 6, 11, 13}, {1, 1, 3, 600, 5, 1100},
};
#define NRESIZE (sizeof k_resize / sizeof k_resize[0])

/* ---- references --------------------------------------------------------- */

static float bilinear_src(int64_t dst, int64_t in, int64_t out, int align)
{
    if (align) {
        float scale = out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
        return scale * (float)dst;
    }
    float scale = (float)in / (float)out;
    float s = scale * ((float)dst + 0.5f) - 0.5f;
    return s < 0 ? 0 : s;
}

static void ref_bilinear(const float *x, const struct resize_case *k, int align, float *y)
{
    for (int64_t p = 0; p < k->n * k->c; p++)
        for (int64_t oy = 0; oy < k->oh; oy++)
            for (int64_t ox = 0; ox < k->ow; ox++) {
                float sy = bilinear_src(oy, k->ih, k->oh, align);
                float sx = bilinear_src(ox, k->iw, k->ow, align);
                int64_t y0 = (int64_t)sy, x0 = (int64_t)sx;
                int64_t y1 = y0 < k->ih - 1 ? y0 + 1 : y0, x1 = x0 < k->iw - 1 ? x0 + 1 : x0;
                double ly = sy - (float)y0, lx = sx - (float)x0;
                const float *s = x + p * k->ih * k->iw;
                double v = (1 - ly) * ((1 - lx) * s[y0 * k->iw + x0] + lx * s[y0 * k->iw + x1]) +
                           ly * ((1 - lx) * s[y1 * k->iw + x0] + lx * s[y1 * k->iw + x1]);
                y[(p * k->oh + oy) * k->ow + ox] = (float)v;
            }
}

static int64_t nearest_src(int64_t dst, int64_t in, int64_t out, double sf)
{
    float scale = sf > 0 ? (float)(1.0 / sf) : (float)in / (float)out;
    int64_t s = (int64_t)floorf((float)dst * scale);
    return s < in - 1 ? s : in - 1;
}

static void ref_nearest(const float *x, const struct resize_case *k, double sfh, double sfw,
                        float *y)
{
    for (int64_t p = 0; p < k->n * k->c; p++)
        for (int64_t oy = 0; oy < k->oh; oy++)
            for (int64_t ox = 0; ox < k->ow; ox++)
                y[(p * k->oh + oy) * k->ow + ox] =
                    x[(p * k->ih + nearest_src(oy, k->ih, k->oh, sfh)) * k->iw +
                      nearest_src(ox, k->iw, k->ow, sfw)];
}

static void ref_adaptive(const float *x, const struct resize_case *k, float *y)
{
    for (int64_t p = 0; p < k->n * k->c; p++)
        for (int64_t oy = 0; oy < k->oh; oy++)
            for (int64_t ox = 0; ox < k->ow; ox++) {
                int64_t h0 = (int64_t)floor((double)(oy * k->ih) / (double)k->oh);
                int64_t h1 = (int64_t)ceil((double)((oy + 1) * k->ih) / (double)k->oh);
                int64_t w0 = (int64_t)floor((double)(ox * k->iw) / (double)k->ow);
                int64_t w1 = (int64_t)ceil((double)((ox + 1) * k->iw) / (double)k->ow);
                double sum = 0;
                for (int64_t r = h0; r < h1; r++)
                    for (int64_t c = w0; c < w1; c++)
                        sum += x[(p * k->ih + r) * k->iw + c];
                y[(p * k->oh + oy) * k->ow + ox] = (float)(sum / (double)((h1 - h0) * (w1 - w0)));
            }
}

/* ---- runners ------------------------------------------------------------ */

enum kind { BILINEAR, BILINEAR_ALIGN, NEAREST, ADAPTIVE };

static void run_case(const struct resize_case *k, enum kind kind, double sfh, double sfw,
                     uint32_t seed)
{
    size_t nin = (size_t)(k->n * k->c * k->ih * k->iw), nout = (size_t)(k->n * k->c * k->oh * k->ow);
    float *x = malloc(nin * sizeof *x), *want = malloc(nout * sizeof *want);
    tc_test_fill(x, nin, seed, -3, 3);
    int64_t id[4] = {k->n, k->c, k->ih, k->iw}, od[4] = {k->n, k->c, k->oh, k->ow};
    struct tc_tensor tx = tc_test_upload(x, 4, id), ty;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, od, &ty, &err), err);
    switch (kind) {
    case BILINEAR:
    case BILINEAR_ALIGN:
        TC_ASSERT_OK(tc_op_resize_bilinear(tc_test_rt, &tx, kind == BILINEAR_ALIGN, &ty, &err), err);
        ref_bilinear(x, k, kind == BILINEAR_ALIGN, want);
        break;
    case NEAREST:
        TC_ASSERT_OK(tc_op_resize_nearest(tc_test_rt, &tx, sfh, sfw, &ty, &err), err);
        ref_nearest(x, k, sfh, sfw, want);
        break;
    case ADAPTIVE:
        TC_ASSERT_OK(tc_op_adaptive_avg_pool2d(tc_test_rt, &tx, &ty, &err), err);
        ref_adaptive(x, k, want);
        break;
    }
    float *got = tc_test_download(&ty);
    double tol = kind == NEAREST ? 0 : 1e-5;
    double d = tc_test_max_abs(got, want, nout);
    if (d > tol)
        fail_msg("case %lldx%lld -> %lldx%lld kind %d: max abs diff %g", (long long)k->ih,
                 (long long)k->iw, (long long)k->oh, (long long)k->ow, (int)kind, d);
    free(got);
    free(x);
    free(want);
    tc_tensor_free(&tx);
    tc_tensor_free(&ty);
}

static void test_bilinear_both_align_modes(void **state)
{
    (void)state;
    for (size_t i = 0; i < NRESIZE; i++) {
        run_case(&k_resize[i], BILINEAR, 0, 0, (uint32_t)i + 1);
        run_case(&k_resize[i], BILINEAR_ALIGN, 0, 0, (uint32_t)i + 11);
    }
}

static void test_nearest_size_semantics(void **state)
{
    (void)state;
    for (size_t i = 0; i < NRESIZE; i++)
        run_case(&k_resize[i], NEAREST, 0, 0, (uint32_t)i + 21);
}

static void test_nearest_scale_factor_semantics(void **state)
{
    (void)state;
    /* 5 x 2.5 -> 12: 1/2.5 picks other rows than 5/12 would. */
    struct resize_case a = {1, 2, 5, 7, 12, 3};
    run_case(&a, NEAREST, 2.5, 0.5, 31);
    /* The pyramid factors InterpolateToPyramidal uses. */
    struct resize_case b = {2, 3, 3, 5, 48, 80};
    run_case(&b, NEAREST, 16, 16, 32);
    struct resize_case c = {1, 1, 9, 9, 6, 3};
    run_case(&c, NEAREST, 2.0 / 3.0, 1.0 / 3.0, 33);
}

static void test_adaptive_avg_pool(void **state)
{
    (void)state;
    static const struct resize_case k[] = {
        {1, 2, 7, 9, 3, 4}, {2, 3, 5, 5, 1, 1}, {1, 1, 4, 6, 4, 6}, {1, 2, 3, 3, 5, 5},
        {1, 1, 13, 11, 6, 2},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        run_case(&k[i], ADAPTIVE, 0, 0, (uint32_t)i + 41);
}

/* Cells larger than some drivers let one work-item loop over (Mesa's
 * llvmpipe ends loops after 65535 passes, silently): a global pool of
 * 300x250 pixels and cells of 250x260, summed there in bands of rows that
 * a second kernel adds up, in one pass elsewhere. A band left out moves a
 * mean by far more than the tolerance. */
static void test_loop_limit_adaptive_pool(void **state)
{
    (void)state;
    static const struct resize_case k[] = {{1, 2, 300, 250, 1, 1}, {1, 1, 500, 260, 2, 1}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        run_case(&k[i], ADAPTIVE, 0, 0, (uint32_t)i + 47);
}

static void test_max_pool(void **state)
{
    (void)state;
    static const int64_t cases[][6] = {
        /* c, h, w, kernel, stride */
        {3, 9, 7, 2, 2, 0}, {2, 16, 16, 4, 4, 0}, {1, 5, 5, 3, 1, 0}, {2, 7, 7, 7, 7, 0},
        {1, 11, 6, 3, 2, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t c = cases[i][0], h = cases[i][1], w = cases[i][2], k = cases[i][3], s = cases[i][4];
        int64_t oh = (h - k) / s + 1, ow = (w - k) / s + 1;
        int64_t id[4] = {2, c, h, w}, od[4] = {2, c, oh, ow};
        size_t nin = (size_t)(2 * c * h * w), nout = (size_t)(2 * c * oh * ow);
        float *x = malloc(nin * sizeof *x), *want = malloc(nout * sizeof *want);
        tc_test_fill(x, nin, (uint32_t)i + 51, -5, 5);
        for (int64_t p = 0; p < 2 * c; p++)
            for (int64_t r = 0; r < oh; r++)
                for (int64_t q = 0; q < ow; q++) {
                    float m = -INFINITY;
                    for (int64_t a = 0; a < k; a++)
                        for (int64_t b = 0; b < k; b++) {
                            float v = x[(p * h + r * s + a) * w + q * s + b];
                            m = v > m ? v : m;
                        }
                    want[(p * oh + r) * ow + q] = m;
                }
        struct tc_tensor tx = tc_test_upload(x, 4, id), ty;
        terracl_error err = {0};
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, od, &ty, &err), err);
        TC_ASSERT_OK(tc_op_max_pool2d(tc_test_rt, &tx, k, s, &ty, &err), err);
        float *got = tc_test_download(&ty);
        assert_true(tc_test_max_abs(got, want, nout) == 0);
        /* A wrong output size is a shape error, not a launch. */
        int64_t bad[4] = {2, c, oh + 1, ow};
        struct tc_tensor tb;
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, bad, &tb, &err), err);
        assert_int_equal(tc_op_max_pool2d(tc_test_rt, &tx, k, s, &tb, &err), TERRACL_ERR_SHAPE);
        tc_tensor_free(&tb);
        free(got);
        free(x);
        free(want);
        tc_tensor_free(&tx);
        tc_tensor_free(&ty);
    }
}

/* Padded max pooling (ResNet's 3x3 / 2 / 1 stem pool and others) against
 * a host reference that clips each window to the input, as PyTorch does;
 * a NaN inside a window wins, as in PyTorch. */
static void test_max_pool_padded(void **state)
{
    (void)state;
    static const int64_t cases[][6] = {
        /* c, h, w, kernel, stride, padding */
        {3, 9, 7, 3, 2, 1}, {2, 8, 8, 3, 2, 1}, {1, 2, 2, 3, 2, 1}, {2, 6, 5, 3, 1, 1},
        {1, 7, 10, 5, 3, 2}, {2, 4, 4, 2, 2, 0},
        /* rows of 16+ columns (the row kernel's vector part, then its tail) */
        {2, 9, 37, 3, 2, 1}, {1, 5, 32, 3, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t c = cases[i][0], h = cases[i][1], w = cases[i][2], k = cases[i][3],
                s = cases[i][4], pd = cases[i][5];
        int64_t oh = (h + 2 * pd - k) / s + 1, ow = (w + 2 * pd - k) / s + 1;
        int64_t id[4] = {2, c, h, w}, od[4] = {2, c, oh, ow};
        size_t nin = (size_t)(2 * c * h * w), nout = (size_t)(2 * c * oh * ow);
        float *x = malloc(nin * sizeof *x), *want = malloc(nout * sizeof *want);
        tc_test_fill(x, nin, (uint32_t)i + 71, -5, 5);
        x[nin / 2] = NAN;
        if (nin / 3 + 17 < nin)
            x[nin / 3 + 17] = NAN; /* in the 16-column part of wide rows */
        for (int64_t p = 0; p < 2 * c; p++)
            for (int64_t r = 0; r < oh; r++)
                for (int64_t q = 0; q < ow; q++) {
                    float m = -INFINITY;
                    for (int64_t a = r * s - pd; a < r * s - pd + k; a++)
                        for (int64_t b = q * s - pd; b < q * s - pd + k; b++) {
                            if (a < 0 || a >= h || b < 0 || b >= w)
                                continue;
                            float v = x[(p * h + a) * w + b];
                            m = (v > m || isnan(v)) ? v : m;
                        }
                    want[(p * oh + r) * ow + q] = m;
                }
        struct tc_tensor tx = tc_test_upload(x, 4, id), ty;
        terracl_error err = {0};
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, od, &ty, &err), err);
        TC_ASSERT_OK(tc_op_max_pool2d_padded(tc_test_rt, &tx, k, s, pd, &ty, &err), err);
        float *got = tc_test_download(&ty);
        for (size_t j = 0; j < nout; j++)
            if (!(got[j] == want[j] || (isnan(got[j]) && isnan(want[j]))))
                fail_msg("case %zu element %zu: %g, want %g", i, j, got[j], want[j]);
        /* Padding over half the kernel (PyTorch refuses it) and a wrong
         * output size are errors, not launches. */
        assert_int_equal(tc_op_max_pool2d_padded(tc_test_rt, &tx, k, s, k / 2 + 1, &ty, &err),
                         TERRACL_ERR_INVALID_ARG);
        int64_t bad[4] = {2, c, oh, ow + 1};
        struct tc_tensor tb;
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, bad, &tb, &err), err);
        assert_int_equal(tc_op_max_pool2d_padded(tc_test_rt, &tx, k, s, pd, &tb, &err),
                         TERRACL_ERR_SHAPE);
        tc_tensor_free(&tb);
        free(got);
        free(x);
        free(want);
        tc_tensor_free(&tx);
        tc_tensor_free(&ty);
    }
}

static void test_resize_on_views_with_offsets(void **state)
{
    (void)state;
    /* The input is the second half of a bigger buffer. */
    struct resize_case k = {1, 2, 5, 6, 9, 4};
    size_t nin = (size_t)(2 * 5 * 6), nout = (size_t)(2 * 9 * 4);
    float *buf = malloc(2 * nin * sizeof *buf), *want = malloc(nout * sizeof *want);
    tc_test_fill(buf, 2 * nin, 61, -1, 1);
    int64_t all = (int64_t)(2 * nin);
    struct tc_tensor tb = tc_test_upload(buf, 1, &all), tx = tb, ty;
    tx.owns_buf = 0;
    tx.offset = nin;
    tx.ndim = 4;
    int64_t id[4] = {1, 2, 5, 6}, od[4] = {1, 2, 9, 4};
    memcpy(tx.dims, id, sizeof id);
    terracl_error err = {0};
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, od, &ty, &err), err);
    TC_ASSERT_OK(tc_op_resize_bilinear(tc_test_rt, &tx, 0, &ty, &err), err);
    ref_bilinear(buf + nin, &k, 0, want);
    float *got = tc_test_download(&ty);
    assert_true(tc_test_max_abs(got, want, nout) < 1e-5);
    /* Mismatched channels are a shape error. */
    int64_t bd[4] = {1, 3, 9, 4};
    struct tc_tensor tbad;
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, bd, &tbad, &err), err);
    assert_int_equal(tc_op_resize_bilinear(tc_test_rt, &tx, 0, &tbad, &err), TERRACL_ERR_SHAPE);
    tc_tensor_free(&tbad);
    free(got);
    free(buf);
    free(want);
    tc_tensor_free(&tb);
    tc_tensor_free(&ty);
}

/* ---- padding and crop --------------------------------------------------- */

static int64_t reflect(int64_t i, int64_t n) { return i < n ? i : 2 * (n - 1) - i; }

static void check_pad(int ndim, const int64_t *id, const int64_t *od, uint32_t seed)
{
    int64_t xd[5] = {1, 1, 1, 1, 1}, yd[5] = {1, 1, 1, 1, 1};
    for (int i = 0; i < ndim; i++) {
        xd[5 - ndim + i] = id[i];
        yd[5 - ndim + i] = od[i];
    }
    size_t nin = 1, nout = 1;
    for (int i = 0; i < 5; i++) {
        nin *= (size_t)xd[i];
        nout *= (size_t)yd[i];
    }
    float *x = malloc(nin * sizeof *x), *want = malloc(nout * sizeof *want);
    tc_test_fill(x, nin, seed, -1, 1);
    size_t o = 0;
    for (int64_t a = 0; a < yd[0]; a++)
        for (int64_t b = 0; b < yd[1]; b++)
            for (int64_t c = 0; c < yd[2]; c++)
                for (int64_t d = 0; d < yd[3]; d++)
                    for (int64_t e = 0; e < yd[4]; e++) {
                        int64_t s = reflect(a, xd[0]);
                        s = s * xd[1] + reflect(b, xd[1]);
                        s = s * xd[2] + reflect(c, xd[2]);
                        s = s * xd[3] + reflect(d, xd[3]);
                        s = s * xd[4] + reflect(e, xd[4]);
                        want[o++] = x[s];
                    }
    struct tc_tensor tx = tc_test_upload(x, ndim, id), ty;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, ndim, od, &ty, &err), err);
    TC_ASSERT_OK(tc_op_pad_reflect(tc_test_rt, &tx, &ty, &err), err);
    float *got = tc_test_download(&ty);
    assert_true(tc_test_max_abs(got, want, nout) == 0);
    /* Cropping the padded tensor back gives the input. */
    struct tc_tensor tc;
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, ndim, id, &tc, &err), err);
    TC_ASSERT_OK(tc_op_crop(tc_test_rt, &ty, &tc, &err), err);
    float *back = tc_test_download(&tc);
    assert_true(tc_test_max_abs(back, x, nin) == 0);
    free(back);
    free(got);
    free(x);
    free(want);
    tc_tensor_free(&tx);
    tc_tensor_free(&ty);
    tc_tensor_free(&tc);
}

static void test_pad_reflect_bottom_right(void **state)
{
    (void)state;
    int64_t a[4] = {2, 3, 7, 5}, ao[4] = {2, 3, 12, 9};
    check_pad(4, a, ao, 71);
    int64_t b[4] = {1, 1, 30, 33}, bo[4] = {1, 1, 32, 64};
    check_pad(4, b, bo, 72);
    int64_t c[5] = {1, 2, 3, 6, 5}, co[5] = {1, 2, 4, 8, 5}; /* time axis too */
    check_pad(5, c, co, 73);
    int64_t d[4] = {1, 2, 4, 4}, dd[4] = {1, 2, 4, 4}; /* nothing to pad */
    check_pad(4, d, dd, 74);
}

/* Reflect padding split between both sides, and the centred crop that takes
 * it back off: TerraTorch 1.2's pad_images / center_crop pair. The reference
 * is F.pad's rule written out: index j < 0 reads -j, j >= n reads 2(n-1)-j. */
static int64_t reflect_both(int64_t j, int64_t n) { return j < 0 ? -j : j >= n ? 2 * (n - 1) - j : j; }

static void check_pad_both(int64_t b, int64_t c, int64_t h, int64_t w, int64_t top, int64_t left,
                           int64_t hp, int64_t wp, uint32_t seed)
{
    int64_t id[4] = {b, c, h, w}, od[4] = {b, c, hp, wp}, before[4] = {0, 0, top, left};
    size_t nin = (size_t)(b * c * h * w), nout = (size_t)(b * c * hp * wp);
    float *x = malloc(nin * sizeof *x), *want = malloc(nout * sizeof *want);
    tc_test_fill(x, nin, seed, -1, 1);
    size_t o = 0;
    for (int64_t p = 0; p < b * c; p++)
        for (int64_t i = 0; i < hp; i++)
            for (int64_t j = 0; j < wp; j++)
                want[o++] = x[(p * h + reflect_both(i - top, h)) * w + reflect_both(j - left, w)];
    struct tc_tensor tx = tc_test_upload(x, 4, id), ty, tc;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, od, &ty, &err), err);
    TC_ASSERT_OK(tc_op_pad_reflect_at(tc_test_rt, &tx, before, &ty, &err), err);
    float *got = tc_test_download(&ty);
    assert_true(tc_test_max_abs(got, want, nout) == 0);
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, id, &tc, &err), err);
    TC_ASSERT_OK(tc_op_crop_at(tc_test_rt, &ty, before, &tc, &err), err);
    float *back = tc_test_download(&tc);
    assert_true(tc_test_max_abs(back, x, nin) == 0);
    free(back);
    free(got);
    free(x);
    free(want);
    tc_tensor_free(&tx);
    tc_tensor_free(&ty);
    tc_tensor_free(&tc);
}

static void test_pad_reflect_both_sides_and_centre_crop(void **state)
{
    (void)state;
    check_pad_both(2, 3, 250, 230, 3, 5, 256, 240, 91); /* 250 -> 256: 3 + 3; 230 -> 240: 5 + 5 */
    check_pad_both(1, 2, 17, 9, 7, 3, 32, 16, 92);      /* odd amounts: smaller half first */
    check_pad_both(1, 1, 5, 6, 0, 0, 5, 6, 93);         /* nothing to pad */
    /* Too much on one side is refused. */
    int64_t id[4] = {1, 1, 4, 4}, od[4] = {1, 1, 10, 4}, before[4] = {0, 0, 5, 0};
    float x[16] = {0};
    struct tc_tensor tx = tc_test_upload(x, 4, id), ty;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, od, &ty, &err), err);
    assert_int_equal(tc_op_pad_reflect_at(tc_test_rt, &tx, before, &ty, &err), TERRACL_ERR_SHAPE);
    int64_t start[4] = {0, 0, 1, 0};
    assert_int_equal(tc_op_crop_at(tc_test_rt, &ty, start, &tx, &err), TERRACL_OK);
    start[2] = 7; /* 7 + 4 > 10 */
    assert_int_equal(tc_op_crop_at(tc_test_rt, &ty, start, &tx, &err), TERRACL_ERR_SHAPE);
    tc_tensor_free(&tx);
    tc_tensor_free(&ty);
}

static void test_pad_reflect_rejects_too_much(void **state)
{
    (void)state;
    int64_t id[4] = {1, 1, 3, 3}, od[4] = {1, 1, 6, 3};
    float x[9] = {0};
    struct tc_tensor tx = tc_test_upload(x, 4, id), ty;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, od, &ty, &err), err);
    assert_int_equal(tc_op_pad_reflect(tc_test_rt, &tx, &ty, &err), TERRACL_ERR_SHAPE);
    assert_int_equal(tc_op_crop(tc_test_rt, &tx, &ty, &err), TERRACL_ERR_SHAPE);
    tc_tensor_free(&tx);
    tc_tensor_free(&ty);
}

static void test_crop_window(void **state)
{
    (void)state;
    int64_t id[4] = {2, 3, 9, 11}, od[4] = {2, 2, 5, 7};
    size_t nin = 2 * 3 * 9 * 11, nout = 2 * 2 * 5 * 7;
    float *x = malloc(nin * sizeof *x), *want = malloc(nout * sizeof *want);
    tc_test_fill(x, nin, 81, -1, 1);
    size_t o = 0;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 5; c++)
                for (int d = 0; d < 7; d++)
                    want[o++] = x[((a * 3 + b) * 9 + c) * 11 + d];
    struct tc_tensor tx = tc_test_upload(x, 4, id), ty;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, od, &ty, &err), err);
    TC_ASSERT_OK(tc_op_crop(tc_test_rt, &tx, &ty, &err), err);
    float *got = tc_test_download(&ty);
    assert_true(tc_test_max_abs(got, want, nout) == 0);
    free(got);
    free(x);
    free(want);
    tc_tensor_free(&tx);
    tc_tensor_free(&ty);
}

int main(void)
{
    tc_test_runtime_or_skip();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bilinear_both_align_modes),
        cmocka_unit_test(test_nearest_size_semantics),
        cmocka_unit_test(test_nearest_scale_factor_semantics),
        cmocka_unit_test(test_adaptive_avg_pool),
        cmocka_unit_test(test_loop_limit_adaptive_pool),
        cmocka_unit_test(test_max_pool),
        cmocka_unit_test(test_max_pool_padded),
        cmocka_unit_test(test_resize_on_views_with_offsets),
        cmocka_unit_test(test_pad_reflect_bottom_right),
        cmocka_unit_test(test_pad_reflect_rejects_too_much),
        cmocka_unit_test(test_pad_reflect_both_sides_and_centre_crop),
        cmocka_unit_test(test_crop_window),
    };
    int rc = cmocka_run_group_tests_name("ops_resize", tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

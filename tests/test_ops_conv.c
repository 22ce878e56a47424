/* Conv2d, ConvTranspose2d, PixelShuffle, BatchNorm and activations against
 * naive C references, on odd sizes and stride/padding/dilation variants. */
#include "test_common.h"

#include <math.h>
#include <string.h>

#include "graph/tensor.h"
#include "ops/conv.h"
#include "ops/conv_implicit.h"
#include "ops/conv_pair.h"
#include "ops/conv_winograd.h"
#include "ops/upcat.h"
#include "models/layers.h"
#include "runtime/gemm_params.h"

static float *random_buf(size_t n, uint32_t seed, float lo, float hi)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    tc_test_fill(p, n, seed, lo, hi);
    return p;
}

/* Relative L2 within 1e-5, and no element off by more than 1e-5 of the
 * largest output magnitude (float32 sums over K = 4608 terms, summed in
 * another order by CLBlast, differ by ~1e-4 on outputs of ~20). */
static void expect_close(const float *got, const float *want, size_t n, const char *what)
{
    double rel = tc_test_rel_l2(got, want, n), mx = tc_test_max_abs(got, want, n);
    double scale = 0.0;
    for (size_t i = 0; i < n; i++)
        scale = fabs(want[i]) > scale ? fabs(want[i]) : scale;
    if (!(rel <= 1e-5 && mx <= 1e-5 * (scale > 1.0 ? scale : 1.0)))
        fail_msg("%s: relative L2 %.3g, max abs %.3g (largest output %.3g)", what, rel, mx, scale);
}

/* ---- Conv2d ------------------------------------------------------------ */

struct conv_case {
    int64_t B, Cin, H, W, Cout, kh, kw;
    struct tc_conv_geom g;
    int bias;
};

static void ref_conv2d(const struct conv_case *c, const float *x, const float *w, const float *b,
                       int64_t Ho, int64_t Wo, float *y)
{
    for (int64_t n = 0; n < c->B; n++)
        for (int64_t co = 0; co < c->Cout; co++)
            for (int64_t oy = 0; oy < Ho; oy++)
                for (int64_t ox = 0; ox < Wo; ox++) {
                    double acc = c->bias ? b[co] : 0.0;
                    for (int64_t ci = 0; ci < c->Cin; ci++)
                        for (int64_t ky = 0; ky < c->kh; ky++)
                            for (int64_t kx = 0; kx < c->kw; kx++) {
                                int64_t iy = oy * c->g.stride_h - c->g.pad_h + ky * c->g.dil_h;
                                int64_t ix = ox * c->g.stride_w - c->g.pad_w + kx * c->g.dil_w;
                                if (iy < 0 || iy >= c->H || ix < 0 || ix >= c->W)
                                    continue;
                                acc += (double)x[((n * c->Cin + ci) * c->H + iy) * c->W + ix] *
                                       w[((co * c->Cin + ci) * c->kh + ky) * c->kw + kx];
                            }
                    y[((n * c->Cout + co) * Ho + oy) * Wo + ox] = (float)acc;
                }
}

static void ref_relu(float *v, size_t n)
{
    for (size_t j = 0; j < n; j++)
        v[j] = v[j] > 0.0f ? v[j] : 0.0f;
}

/* The weight [Cout, Cin, kh, kw] as the binder leaves it: pass 0 plain,
 * 1 packed, 2 packed with its Winograd form after it. `store` owns the
 * buffer; the returned tensor is a view into it. */
static struct tc_tensor upload_weight(const float *w, const int64_t *wd, int pass,
                                      struct tc_tensor *store)
{
    terracl_error err = {0};
    size_t nw = (size_t)(wd[0] * wd[1] * wd[2] * wd[3]), at = (nw + 63) / 64 * 64;
    size_t derived = pass == 2 ? tc_conv2d_winograd_numel(wd[0], wd[1]) : 0;
    int64_t total = (int64_t)(at + derived);
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 1, &total, store, &err), err);
    struct tc_tensor t = *store;
    t.owns_buf = 0;
    t.ndim = 4;
    memcpy(t.dims, wd, 4 * sizeof *wd);
    t.gemm_packed = pass >= 1 ? TC_PACKED_TAPS : TC_PLAIN;
    TC_ASSERT_OK(tc_tensor_upload(tc_test_rt, &t, w, &err), err);
    if (pass == 1) { /* the packed layout reads back as the plain weight */
        float *back = malloc(nw * sizeof *back);
        assert_non_null(back);
        TC_ASSERT_OK(tc_tensor_download(tc_test_rt, &t, back, &err), err);
        assert_memory_equal(back, w, nw * sizeof *back);
        free(back);
    }
    if (pass == 2) {
        struct tc_param p = {0};
        p.ndim = 4;
        memcpy(p.dims, wd, 4 * sizeof *wd);
        float *form = malloc(derived * sizeof *form);
        assert_non_null(form);
        assert_int_equal(tc_conv2d_winograd_derive(&p, w, form), 0);
        TC_ASSERT_OK(tc_buf_write(tc_test_rt, t.buf, at * sizeof(float), form,
                                  derived * sizeof(float), &err),
                     err);
        free(form);
        t.has_derived = 1;
        t.derived_offset = at;
    }
    return t;
}

static void test_conv2d(void **state)
{
    (void)state;
    static const struct conv_case cases[] = {
        {1, 3, 7, 13, 5, 3, 3, {1, 1, 1, 1, 1, 1}, 1},   /* 3x3 same padding */
        {2, 1, 13, 7, 7, 3, 3, {2, 2, 0, 0, 1, 1}, 1},   /* stride 2, no padding */
        {1, 4, 13, 13, 3, 3, 3, {1, 1, 2, 2, 2, 2}, 0},  /* dilation 2 */
        {1, 6, 15, 14, 10, 3, 3, {1, 1, 3, 1, 3, 1}, 1}, /* dilations 3 and 1 */
        {2, 7, 7, 13, 5, 1, 1, {1, 1, 0, 0, 1, 1}, 1},   /* 1x1: straight GEMM */
        {2, 37, 13, 11, 19, 1, 1, {1, 1, 0, 0, 1, 1}, 1}, /* 1x1, 143 pixels: the NN GEMM */
        {1, 70, 16, 8, 33, 1, 1, {1, 1, 0, 0, 1, 1}, 0},  /* the same at 128, no bias */
        {2, 40, 12, 11, 2, 1, 1, {1, 1, 0, 0, 1, 1}, 1},  /* a 2-class 1x1 head, 132 pixels */
        {1, 24, 16, 9, 3, 1, 1, {1, 1, 0, 0, 1, 1}, 0},   /* 3 classes, no bias */
        /* The narrow kernel's vector counts (up to 4, 8 and 16 outputs),
         * maps of whole runs, a partial last run, one pixel, batch 2. */
        {2, 16, 23, 29, 2, 1, 1, {1, 1, 0, 0, 1, 1}, 1},
        {1, 33, 8, 8, 16, 1, 1, {1, 1, 0, 0, 1, 1}, 1},
        {2, 256, 7, 9, 8, 1, 1, {1, 1, 0, 0, 1, 1}, 0},
        {1, 9, 1, 1, 6, 1, 1, {1, 1, 0, 0, 1, 1}, 1},
        {1, 3, 40, 41, 11, 1, 1, {1, 1, 0, 0, 1, 1}, 1},
        {1, 5, 13, 7, 3, 1, 1, {2, 3, 1, 0, 1, 1}, 1},   /* 1x1 with stride and padding */
        {1, 2, 1, 1, 1, 5, 5, {1, 1, 2, 2, 1, 1}, 1},    /* 1x1 input, 5x5 kernel */
        {1, 3, 13, 7, 4, 3, 1, {1, 2, 1, 0, 2, 1}, 1},   /* non-square kernel and geometry */
        /* Long K on CPUs: several column bands of output pixels, the last
         * one partial; K a multiple of 16, then not (padded rows). */
        {2, 512, 20, 19, 9, 3, 3, {1, 1, 1, 1, 1, 1}, 1},
        {1, 231, 23, 21, 7, 3, 3, {1, 1, 1, 1, 1, 1}, 1},
        {1, 300, 17, 9, 5, 3, 3, {2, 1, 2, 0, 2, 1}, 0}, /* bands with stride, dilation */
        /* Strided kernels with few output channels (im2col bands): the
         * ResNet stem, its 3x3 and 1x1 downsampling, odd strides with
         * dilation, a 9x9 kernel. */
        {1, 3, 29, 31, 20, 7, 7, {2, 2, 3, 3, 1, 1}, 1},
        {2, 70, 17, 16, 11, 3, 3, {2, 2, 1, 1, 1, 1}, 1},
        {1, 40, 15, 14, 9, 1, 1, {2, 2, 0, 0, 1, 1}, 0},
        {1, 33, 19, 23, 6, 5, 3, {3, 2, 2, 1, 2, 1}, 1},
        {1, 40, 30, 31, 6, 9, 9, {5, 5, 4, 4, 1, 1}, 1},
        /* 64 or 128 output channels: on CPUs the weight may be packed
         * (run both ways below): same padding on odd sizes with batch 2,
         * fewer pixels than a tile, the stem, strided 3x3 and 1x1,
         * DeepLab's and ASPP's dilations, a non-square kernel; up to 16
         * input channels the kernel is built for the exact count (the
         * last case: 16, strided). */
        {2, 19, 13, 11, 64, 3, 3, {1, 1, 1, 1, 1, 1}, 1},
        {1, 33, 2, 2, 128, 3, 3, {1, 1, 1, 1, 1, 1}, 0},
        {1, 3, 29, 31, 64, 7, 7, {2, 2, 3, 3, 1, 1}, 1},
        {2, 21, 15, 17, 128, 3, 3, {2, 2, 1, 1, 1, 1}, 0},
        {1, 70, 15, 14, 64, 1, 1, {2, 2, 0, 0, 1, 1}, 1},
        {2, 45, 9, 10, 64, 1, 1, {1, 1, 0, 0, 1, 1}, 1},
        {1, 10, 17, 15, 64, 3, 3, {1, 1, 2, 2, 2, 2}, 1},
        {1, 6, 27, 26, 64, 3, 3, {1, 1, 12, 12, 12, 12}, 1},
        {1, 5, 13, 12, 64, 5, 3, {1, 2, 2, 1, 1, 1}, 1},
        {2, 16, 12, 11, 64, 3, 3, {2, 2, 1, 1, 1, 1}, 0},
        /* Unstrided 1x1 on small maps, tiles as runs of pixels: 7x7 (7-row
         * tiles), 5x10 (the last tile shifted back over the one before),
         * fewer pixels than a tile. */
        {2, 40, 7, 7, 64, 1, 1, {1, 1, 0, 0, 1, 1}, 1},
        {1, 33, 5, 10, 128, 1, 1, {1, 1, 0, 0, 1, 1}, 0},
        {1, 24, 1, 3, 64, 1, 1, {1, 1, 0, 0, 1, 1}, 1},
        /* Unpadded 1x1 on maps of 1024 pixels or more: the NN GEMM with the
         * packed weight as A, the last strip of columns partial. Up to 96
         * input channels in 8 x 32 tiles; past that in 6 x 64 tiles, which
         * straddle the 64-row panels. */
        {1, 19, 48, 45, 64, 1, 1, {1, 1, 0, 0, 1, 1}, 1},
        {2, 13, 41, 53, 128, 1, 1, {1, 1, 0, 0, 1, 1}, 0},
        {1, 70, 33, 32, 192, 1, 1, {1, 1, 0, 0, 1, 1}, 1},
        {1, 100, 35, 31, 192, 1, 1, {1, 1, 0, 0, 1, 1}, 1},
        /* From 576 pixels, up to 256 input channels: the same GEMM in 8 x
         * 32 tiles (the last tile of each row partial). */
        {1, 130, 24, 25, 128, 1, 1, {1, 1, 0, 0, 1, 1}, 1},
        {2, 256, 23, 26, 64, 1, 1, {1, 1, 0, 0, 1, 1}, 0},
        /* Winograd F(4x4, 3x3) (up to 256 output channels): odd sizes
         * (partial edge tiles) with batch 2, no padding with channels not
         * a multiple of 16, wider padding, one tile. */
        {2, 19, 13, 11, 128, 3, 3, {1, 1, 1, 1, 1, 1}, 1},
        {1, 40, 9, 8, 192, 3, 3, {1, 1, 0, 0, 1, 1}, 1},
        {1, 16, 5, 7, 128, 3, 3, {1, 1, 2, 2, 1, 1}, 0},
        /* Maps 16 or more pixels wide: each row of windows loaded as runs
         * of 16 columns per channel and transposed in registers; runs
         * clamped into the row at both edges, a partial group of 16
         * channels, wider padding, F(2x2) with runs of 7 tiles. */
        {1, 24, 19, 37, 128, 3, 3, {1, 1, 1, 1, 1, 1}, 1},
        {2, 16, 9, 20, 64, 3, 3, {1, 1, 2, 2, 1, 1}, 0},
        {1, 20, 11, 33, 576, 3, 3, {1, 1, 1, 1, 1, 1}, 1},
        /* 7 tiles (a 4x28 map): the batched GEMM's 7-row tiles. */
        {1, 16, 4, 28, 128, 3, 3, {1, 1, 1, 1, 1, 1}, 1},
        /* 196 tiles of 64 channels: V is 1.8 MB, written with streaming
         * stores where the driver has them. */
        {1, 64, 56, 56, 64, 3, 3, {1, 1, 1, 1, 1, 1}, 1},
        /* A 32x32 map (channel planes 4 KiB apart): the input transposed
         * channels-last first, 20 channels (a partial group of 16), batch 2. */
        {2, 20, 32, 32, 64, 3, 3, {1, 1, 1, 1, 1, 1}, 1},
        /* F(4x4) past 256 outputs (ResNet's 512 -> 512), dilated. */
        {1, 20, 9, 10, 384, 3, 3, {1, 1, 2, 2, 2, 2}, 1},
        /* Winograd F(2x2, 3x3) (more than 512 output channels): odd sizes
         * with batch 2 (whole and partial edge tiles), dilation 2. */
        {2, 24, 13, 11, 576, 3, 3, {1, 1, 1, 1, 1, 1}, 1},
        {1, 17, 10, 9, 576, 3, 3, {1, 1, 2, 2, 2, 2}, 1},
        /* Dilated Winograd (a tiling per phase): DeepLab's layer4 with
         * batch 2, unequal dilations and padding on odd sizes, dilation 4
         * with more phases than some rows have tiles, a dilation past the
         * map. */
        {2, 19, 14, 14, 128, 3, 3, {1, 1, 2, 2, 2, 2}, 1},
        {1, 16, 13, 11, 128, 3, 3, {1, 1, 3, 1, 3, 2}, 0},
        {1, 20, 9, 30, 192, 3, 3, {1, 1, 4, 4, 4, 4}, 1},
        {1, 17, 6, 7, 128, 3, 3, {1, 1, 12, 12, 12, 12}, 1},
    };
    const size_t ncases = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < 3 * ncases; i++) {
        /* Pass 1: the cases whose weight is packable, packed; pass 2: those
         * with a Winograd form too. */
        const int pass = (int)(i / ncases);
        const struct conv_case *c = &cases[i % ncases];
        if (pass >= 1 && !(tc_conv2d_weight_packable(c->Cout, c->Cin, c->kh, c->kw, &c->g) &&
                           tc_gemm_pack_wanted(tc_test_rt, (size_t)c->Cout,
                                               (size_t)(c->Cin * c->kh * c->kw))))
            continue;
        if (pass == 2 && !tc_conv2d_winograd_eligible(c->Cout, c->Cin, c->kh, c->kw, &c->g))
            continue;
        int64_t Ho = (c->H + 2 * c->g.pad_h - c->g.dil_h * (c->kh - 1) - 1) / c->g.stride_h + 1;
        int64_t Wo = (c->W + 2 * c->g.pad_w - c->g.dil_w * (c->kw - 1) - 1) / c->g.stride_w + 1;
        int64_t xd[4] = {c->B, c->Cin, c->H, c->W}, wd[4] = {c->Cout, c->Cin, c->kh, c->kw};
        int64_t yd[4] = {c->B, c->Cout, Ho, Wo};
        size_t nx = (size_t)(c->B * c->Cin * c->H * c->W);
        size_t nw = (size_t)(c->Cout * c->Cin * c->kh * c->kw), ny = (size_t)(c->B * c->Cout * Ho * Wo);
        float *x = random_buf(nx, 10 + (uint32_t)i, -1, 1), *w = random_buf(nw, 20 + (uint32_t)i, -1, 1);
        float *b = random_buf((size_t)c->Cout, 30 + (uint32_t)i, -1, 1);
        float *want = malloc(ny * sizeof *want);
        ref_conv2d(c, x, w, b, Ho, Wo, want);

        struct tc_tensor tx = tc_test_upload(x, 4, xd), tb = tc_test_upload(b, 1, &c->Cout), ty;
        struct tc_tensor wstore;
        struct tc_tensor tw = upload_weight(w, wd, pass, &wstore);
        terracl_error err = {0};
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, yd, &ty, &err), err);
        TC_ASSERT_OK(tc_op_conv2d(tc_test_rt, &tx, &tw, c->bias ? &tb : NULL, &c->g, &ty, &err), err);
        float *got = tc_test_download(&ty);
        char what[64];
        static const char *const pass_name[3] = {"", " (packed)", " (Winograd)"};
        snprintf(what, sizeof what, "conv2d case %zu%s", i % ncases, pass_name[pass]);
        expect_close(got, want, ny, what);

        /* With ReLU in the epilogue (a convolution with a folded BatchNorm). */
        ref_relu(want, ny);
        TC_ASSERT_OK(tc_op_conv2d_act(tc_test_rt, &tx, &tw, c->bias ? &tb : NULL, &c->g, 1, &ty,
                                      &err),
                     err);
        free(got);
        got = tc_test_download(&ty);
        snprintf(what, sizeof what, "conv2d + relu case %zu%s", i % ncases, pass_name[pass]);
        expect_close(got, want, ny, what);

        /* A residual block's end: y = relu(conv + bias + y), y holding a
         * residual; every path (the packed kernels add it in their
         * epilogue, the others through scratch). */
        float *res = random_buf(ny, 40 + (uint32_t)i, -2, 2);
        ref_conv2d(c, x, w, b, Ho, Wo, want);
        for (size_t j = 0; j < ny; j++) {
            float s = want[j] + res[j];
            want[j] = s > 0.0f ? s : 0.0f;
        }
        struct tc_tensor tr = tc_test_upload(res, 4, yd);
        TC_ASSERT_OK(tc_op_conv2d_accumulate(tc_test_rt, &tx, &tw, c->bias ? &tb : NULL, &c->g, 1,
                                             &tr, &err),
                     err);
        free(got);
        got = tc_test_download(&tr);
        snprintf(what, sizeof what, "conv2d + residual case %zu%s", i % ncases, pass_name[pass]);
        expect_close(got, want, ny, what);
        tc_tensor_free(&tr);
        free(res);

        /* A wrong output shape is refused with a message. */
        int64_t bad[4] = {c->B, c->Cout, Ho + 1, Wo};
        struct tc_tensor tbad;
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, bad, &tbad, &err), err);
        assert_int_equal(tc_op_conv2d(tc_test_rt, &tx, &tw, NULL, &c->g, &tbad, &err),
                         TERRACL_ERR_SHAPE);
        assert_non_null(strstr(err.message, "output should be"));
        tc_tensor_free(&tbad);

        free(got);
        free(want);
        free(x);
        free(w);
        free(b);
        tc_tensor_free(&tx);
        tc_tensor_free(&wstore);
        tc_tensor_free(&tb);
        tc_tensor_free(&ty);
    }
}

/* Every tile `terracl tune` may pick for the implicit convolution (the
 * narrow layers' kernel) computes the same convolution: odd sizes, batch
 * 2, dilation, fewer output channels than a tile (1- and 2-channel heads
 * take a narrower tile than the device's), a padded 1x1, rows of 16+
 * outputs stored as vectors; with 16 KiB blocks the input channels are
 * also summed in several launches (16 per launch), each adding to y. */
static void test_conv_implicit_tiles(void **state)
{
    (void)state;
    static const struct conv_case cases[] = {
        {2, 13, 17, 23, 5, 3, 3, {1, 1, 1, 1, 1, 1}, 1},
        {1, 32, 30, 29, 16, 3, 3, {1, 1, 2, 2, 2, 2}, 0},
        {1, 9, 41, 37, 2, 3, 3, {1, 1, 1, 1, 1, 1}, 1},
        {1, 20, 11, 13, 33, 1, 1, {1, 1, 1, 1, 1, 1}, 1},
        {1, 40, 19, 50, 1, 3, 3, {1, 1, 1, 1, 1, 1}, 1},
        {2, 48, 21, 70, 18, 3, 3, {1, 1, 1, 1, 1, 1}, 1},
    };
    terracl_error err = {0};
    for (int run = 0; run < 2 * TC_CONV_TILES; run++) {
        const int tile = run % TC_CONV_TILES;
        struct tc_native_params np = tc_native_default;
        np.conv_tile = (size_t)tile;
        if (run >= TC_CONV_TILES)
            np.conv_block_kib = 16;
        tc_native_force(tc_test_rt, &np);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            const struct conv_case *c = &cases[i];
            int64_t Ho = c->H + 2 * c->g.pad_h - c->g.dil_h * (c->kh - 1);
            int64_t Wo = c->W + 2 * c->g.pad_w - c->g.dil_w * (c->kw - 1);
            int64_t xd[4] = {c->B, c->Cin, c->H, c->W}, wd[4] = {c->Cout, c->Cin, c->kh, c->kw};
            int64_t yd[4] = {c->B, c->Cout, Ho, Wo};
            size_t nx = (size_t)(c->B * c->Cin * c->H * c->W);
            size_t nw = (size_t)(c->Cout * c->Cin * c->kh * c->kw);
            size_t ny = (size_t)(c->B * c->Cout * Ho * Wo);
            float *x = random_buf(nx, 100 + (uint32_t)i, -1, 1), *w = random_buf(nw, 110, -1, 1);
            float *b = random_buf((size_t)c->Cout, 120, -1, 1), *want = malloc(ny * sizeof *want);
            assert_non_null(want);
            ref_conv2d(c, x, w, b, Ho, Wo, want);
            struct tc_tensor tx = tc_test_upload(x, 4, xd), tw = tc_test_upload(w, 4, wd);
            struct tc_tensor tb = tc_test_upload(b, 1, &c->Cout), ty;
            TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, yd, &ty, &err), err);
            TC_ASSERT_OK(tc_op_conv2d(tc_test_rt, &tx, &tw, c->bias ? &tb : NULL, &c->g, &ty, &err),
                         err);
            float *got = tc_test_download(&ty);
            char what[64];
            snprintf(what, sizeof what, "implicit conv2d case %zu, tile %d, %zu KiB blocks", i,
                     tile, np.conv_block_kib);
            expect_close(got, want, ny, what);
            /* ReLU comes once, after the last block's sum. */
            for (size_t j = 0; j < ny; j++)
                want[j] = want[j] > 0.0f ? want[j] : 0.0f;
            TC_ASSERT_OK(tc_op_conv2d_act(tc_test_rt, &tx, &tw, c->bias ? &tb : NULL, &c->g, 1,
                                          &ty, &err),
                         err);
            free(got);
            got = tc_test_download(&ty);
            snprintf(what, sizeof what, "implicit conv2d + relu case %zu, tile %d, %zu KiB", i,
                     tile, np.conv_block_kib);
            expect_close(got, want, ny, what);
            free(got);
            free(x);
            free(w);
            free(b);
            free(want);
            tc_tensor_free(&tx);
            tc_tensor_free(&tw);
            tc_tensor_free(&tb);
            tc_tensor_free(&ty);
        }
    }
    tc_native_force(tc_test_rt, NULL);
}

/* A packed 1x1 convolution on a map of 1024 pixels or more (the NN GEMM
 * with the weight as A) summed in blocks of nn_kc input channels, each
 * launch adding to y and the last applying bias, ReLU and the residual:
 * blocks of 16 (five, the last of 6 channels), 48 (two) and none, with and
 * without bias, against the double reference. */
static void test_conv1x1_k_blocks(void **state)
{
    (void)state;
    if (!tc_gemm_pack_wanted(tc_test_rt, 128, 70))
        skip();
    static const size_t blocks[] = {16, 48, 0};
    const struct conv_case c = {2, 70, 33, 32, 128, 1, 1, {1, 1, 0, 0, 1, 1}, 1};
    int64_t xd[4] = {c.B, c.Cin, c.H, c.W}, wd[4] = {c.Cout, c.Cin, 1, 1};
    int64_t yd[4] = {c.B, c.Cout, c.H, c.W};
    size_t nx = (size_t)(c.B * c.Cin * c.H * c.W), nw = (size_t)(c.Cout * c.Cin);
    size_t ny = (size_t)(c.B * c.Cout * c.H * c.W);
    float *x = random_buf(nx, 200, -1, 1), *w = random_buf(nw, 210, -1, 1);
    float *b = random_buf((size_t)c.Cout, 220, -1, 1), *res = random_buf(ny, 230, -2, 2);
    float *want = malloc(ny * sizeof *want), *want_relu = malloc(ny * sizeof *want);
    float *want_res = malloc(ny * sizeof *want);
    assert_non_null(want);
    assert_non_null(want_relu);
    assert_non_null(want_res);
    terracl_error err = {0};
    struct tc_tensor wstore, tw = upload_weight(w, wd, 1, &wstore);
    struct tc_tensor tx = tc_test_upload(x, 4, xd), tb = tc_test_upload(b, 1, &c.Cout), ty;
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, yd, &ty, &err), err);
    for (int with_bias = 1; with_bias >= 0; with_bias--) {
        struct conv_case cb = c;
        cb.bias = with_bias;
        ref_conv2d(&cb, x, w, b, c.H, c.W, want);
        for (size_t j = 0; j < ny; j++) {
            float s = want[j] + res[j];
            want_relu[j] = want[j] > 0.0f ? want[j] : 0.0f;
            want_res[j] = s > 0.0f ? s : 0.0f;
        }
        const struct tc_tensor *bias = with_bias ? &tb : NULL;
        for (size_t k = 0; k < sizeof blocks / sizeof blocks[0]; k++) {
            struct tc_native_params np = tc_native_default;
            np.nn_kc = blocks[k];
            tc_native_force(tc_test_rt, &np);
            char what[80];
            TC_ASSERT_OK(tc_op_conv2d(tc_test_rt, &tx, &tw, bias, &c.g, &ty, &err), err);
            float *got = tc_test_download(&ty);
            snprintf(what, sizeof what, "1x1 in blocks of %zu, bias %d", blocks[k], with_bias);
            expect_close(got, want, ny, what);
            free(got);
            TC_ASSERT_OK(tc_op_conv2d_act(tc_test_rt, &tx, &tw, bias, &c.g, 1, &ty, &err), err);
            got = tc_test_download(&ty);
            snprintf(what, sizeof what, "1x1 + relu in blocks of %zu, bias %d", blocks[k],
                     with_bias);
            expect_close(got, want_relu, ny, what);
            free(got);
            struct tc_tensor tr = tc_test_upload(res, 4, yd);
            TC_ASSERT_OK(tc_op_conv2d_accumulate(tc_test_rt, &tx, &tw, bias, &c.g, 1, &tr, &err),
                         err);
            got = tc_test_download(&tr);
            snprintf(what, sizeof what, "1x1 + residual in blocks of %zu, bias %d", blocks[k],
                     with_bias);
            expect_close(got, want_res, ny, what);
            free(got);
            tc_tensor_free(&tr);
        }
    }
    tc_native_force(tc_test_rt, NULL);
    free(x);
    free(w);
    free(b);
    free(res);
    free(want);
    free(want_relu);
    free(want_res);
    tc_tensor_free(&tx);
    tc_tensor_free(&wstore);
    tc_tensor_free(&tb);
    tc_tensor_free(&ty);
}

/* A UNet block's first convolution on torch.cat([interpolate(up), skip])
 * (nearest), read in place where the Winograd form applies, joined by the
 * implicit kernel's padded copy or made otherwise, against a host join and
 * the double reference. */
/* torch.cat([interpolate(u, size (H, W), "nearest"), s], 1) for u [B, C0,
 * H0, W0] and s [B, Cs, H, W], into joined [B, C0 + Cs, H, W]. */
static void ref_join(int64_t B, int64_t C0, int64_t H0, int64_t W0, int64_t Cs, int64_t H,
                     int64_t W, const float *u, const float *s, float *joined)
{
    int64_t C = C0 + Cs;
    for (int64_t n = 0; n < B; n++)
        for (int64_t ch = 0; ch < C; ch++)
            for (int64_t y = 0; y < H; y++)
                for (int64_t x = 0; x < W; x++) {
                    float v = 0.0f;
                    if (ch < C0) {
                        /* PyTorch's nearest index: floor(dst * (float)in / out). */
                        int64_t sy = (int64_t)floorf((float)y * ((float)H0 / (float)H));
                        int64_t sx = (int64_t)floorf((float)x * ((float)W0 / (float)W));
                        sy = sy < H0 - 1 ? sy : H0 - 1;
                        sx = sx < W0 - 1 ? sx : W0 - 1;
                        v = u[((n * C0 + ch) * H0 + sy) * W0 + sx];
                    } else {
                        v = s[((n * Cs + ch - C0) * H + y) * W + x];
                    }
                    joined[((n * C + ch) * H + y) * W + x] = v;
                }
}

static void test_conv_upcat(void **state)
{
    (void)state;
    static const struct {
        int64_t B, C0, H0, W0, Cs, H, W, Cout, stride;
    } cases[] = {
        {2, 16, 5, 4, 19, 10, 8, 64, 1}, /* exact doubling, F(4x4), batch 2 */
        /* exact doubling on a map 38 wide: runs of the upsampled half
         * starting on odd and even columns, clamped at the edges */
        {1, 32, 6, 19, 20, 12, 38, 64, 1},
        {1, 32, 5, 4, 7, 11, 9, 128, 1}, /* a size nearest maps by its scale */
        {1, 32, 3, 3, 16, 6, 6, 192, 1}, /* F(2x2) */
        {2, 16, 16, 16, 20, 32, 32, 64, 1}, /* 32x32: both parts transposed first */
        {1, 10, 4, 4, 9, 8, 8, 64, 1},   /* plain weight: the implicit kernel */
        {2, 16, 4, 3, 16, 9, 7, 32, 1},  /* no Winograd form: the implicit kernel */
        /* the implicit kernel's padded copy, 42 wide: whole vectors of the
         * doubled and the skip channels, then a 10-column tail */
        {1, 12, 7, 21, 9, 14, 42, 32, 1},
        {1, 8, 4, 4, 5, 8, 8, 16, 2},    /* strided: the join is made */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t B = cases[i].B, C0 = cases[i].C0, H0 = cases[i].H0, W0 = cases[i].W0;
        int64_t Cs = cases[i].Cs, H = cases[i].H, W = cases[i].W, Cout = cases[i].Cout;
        int64_t st = cases[i].stride, Ho = (H - 1) / st + 1, Wo = (W - 1) / st + 1;
        struct conv_case c = {B, C0 + Cs, H, W, Cout, 3, 3, {st, st, 1, 1, 1, 1}, 1};
        size_t nu = (size_t)(B * C0 * H0 * W0), ns = (size_t)(B * Cs * H * W);
        size_t nj = (size_t)(B * c.Cin * H * W), nw = (size_t)(Cout * c.Cin * 9);
        size_t ny = (size_t)(B * Cout * Ho * Wo);
        float *u = random_buf(nu, 60 + (uint32_t)i, -1, 1), *s = random_buf(ns, 70, -1, 1);
        float *w = random_buf(nw, 80, -1, 1), *b = random_buf((size_t)Cout, 90, -1, 1);
        float *joined = malloc(nj * sizeof *joined), *want = malloc(ny * sizeof *want);
        assert_non_null(joined);
        assert_non_null(want);
        ref_join(B, C0, H0, W0, Cs, H, W, u, s, joined);
        ref_conv2d(&c, joined, w, b, Ho, Wo, want);
        ref_relu(want, ny);
        int64_t ud[4] = {B, C0, H0, W0}, sd[4] = {B, Cs, H, W}, wd[4] = {Cout, c.Cin, 3, 3};
        int64_t yd[4] = {B, Cout, Ho, Wo};
        int wino = tc_conv2d_weight_packable(Cout, c.Cin, 3, 3, &c.g) &&
                   tc_gemm_pack_wanted(tc_test_rt, (size_t)Cout, (size_t)(c.Cin * 9)) &&
                   tc_conv2d_winograd_eligible(Cout, c.Cin, 3, 3, &c.g);
        struct tc_tensor tu = tc_test_upload(u, 4, ud), ts = tc_test_upload(s, 4, sd);
        struct tc_tensor tb = tc_test_upload(b, 1, &Cout), ty, wstore;
        struct tc_tensor tw = upload_weight(w, wd, wino ? 2 : 0, &wstore);
        terracl_error err = {0};
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, yd, &ty, &err), err);
        TC_ASSERT_OK(tc_op_conv2d_upcat(tc_test_rt, &tu, &ts, &tw, &tb, &c.g, 1, &ty, &err), err);
        float *got = tc_test_download(&ty);
        char what[64];
        snprintf(what, sizeof what, "conv2d on an upsampled join, case %zu", i);
        expect_close(got, want, ny, what);
        /* A weight for another join is refused with a message. */
        struct tc_tensor narrow = tw;
        narrow.dims[1] = c.Cin - 1;
        assert_int_equal(tc_op_conv2d_upcat(tc_test_rt, &tu, &ts, &narrow, &tb, &c.g, 1, &ty, &err),
                         TERRACL_ERR_SHAPE);
        assert_non_null(strstr(err.message, "input channels"));
        free(got);
        free(u);
        free(s);
        free(w);
        free(b);
        free(joined);
        free(want);
        tc_tensor_free(&tu);
        tc_tensor_free(&ts);
        tc_tensor_free(&tb);
        tc_tensor_free(&ty);
        tc_tensor_free(&wstore);
    }
}

/* A UNet block's two Conv2dReLU (tc_op_conv2d_pair) against the reference
 * run twice: with and without a join, the first one's output handed over in
 * the second one's padded layout where both take the implicit kernel. */
static void test_conv_pair(void **state)
{
    (void)state;
    /* A handover map beyond the kernel's 32-bit indices is refused, named. */
    struct tc_padded_map big;
    terracl_error e0 = {0};
    assert_int_equal(tc_conv2d_implicit_padded_size(tc_test_rt, 1, 4096, 1024, 1024, 16, &big,
                                                    &e0),
                     TERRACL_ERR_UNSUPPORTED);
    assert_non_null(strstr(e0.message, "1 x 4096 x 1024 x 1024"));
    static const struct {
        int64_t B, C0, H0, W0, Cs, H, W, C1, C2;
        int handed_over; /* on CPU devices */
    } cases[] = {
        {1, 0, 0, 0, 8, 14, 14, 16, 16, 1},    /* 16 floats a padded row: the least */
        {2, 16, 6, 9, 12, 12, 18, 16, 8, 1},   /* a doubled join, batch 2 */
        {1, 0, 0, 0, 3, 29, 23, 8, 4, 1},      /* odd sizes */
        {1, 0, 0, 0, 300, 6, 100, 8, 8, 1},    /* the first sum in two channel blocks */
        {1, 0, 0, 0, 5, 7, 13, 12, 2, 0},      /* too narrow: one after the other */
        {1, 8, 4, 4, 8, 8, 8, 64, 16, 0},      /* a packed first weight */
        {2, 16, 7, 9, 0, 14, 18, 16, 8, 1},    /* upsampled alone (no skip) */
        {1, 16, 4, 4, 0, 8, 8, 64, 16, 0},     /* the same made one after the other */
        {1, 8, 15, 33, 0, 15, 33, 16, 8, 1},   /* "upsampled" to its own size */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t B = cases[i].B, C0 = cases[i].C0, H0 = cases[i].H0, W0 = cases[i].W0;
        int64_t Cs = cases[i].Cs, H = cases[i].H, W = cases[i].W;
        int64_t C1 = cases[i].C1, C2 = cases[i].C2;
        struct conv_case c1 = {B, C0 + Cs, H, W, C1, 3, 3, {1, 1, 1, 1, 1, 1}, 1};
        struct conv_case c2 = {B, C1, H, W, C2, 3, 3, {1, 1, 1, 1, 1, 1}, 1};
        size_t nu = (size_t)(B * C0 * H0 * W0), ns = (size_t)(B * Cs * H * W);
        size_t nj = (size_t)(B * c1.Cin * H * W), nm = (size_t)(B * C1 * H * W);
        size_t ny = (size_t)(B * C2 * H * W);
        float *u = random_buf(nu, 61 + (uint32_t)i, -1, 1), *s = random_buf(ns, 71, -1, 1);
        float *w1 = random_buf((size_t)(C1 * c1.Cin * 9), 81, -0.3f, 0.3f);
        float *w2 = random_buf((size_t)(C2 * C1 * 9), 82, -0.3f, 0.3f);
        float *b1 = random_buf((size_t)C1, 91, -1, 1), *b2 = random_buf((size_t)C2, 92, -1, 1);
        float *joined = malloc(nj * sizeof *joined), *mid = malloc(nm * sizeof *mid);
        float *want = malloc(ny * sizeof *want);
        assert_non_null(joined);
        assert_non_null(mid);
        assert_non_null(want);
        ref_join(B, C0, H0, W0, Cs, H, W, u, s, joined);
        ref_conv2d(&c1, joined, w1, b1, H, W, mid);
        ref_relu(mid, nm);
        ref_conv2d(&c2, mid, w2, b2, H, W, want);
        ref_relu(want, ny);

        int64_t ud[4] = {B, C0, H0, W0}, sd[4] = {B, Cs, H, W}, yd[4] = {B, C2, H, W};
        int64_t w1d[4] = {C1, c1.Cin, 3, 3}, w2d[4] = {C2, C1, 3, 3};
        int pack1 = tc_conv2d_weight_packable(C1, c1.Cin, 3, 3, &c1.g) &&
                    tc_gemm_pack_wanted(tc_test_rt, (size_t)C1, (size_t)(c1.Cin * 9));
        struct tc_tensor tu = {0}, ts = {0}, ty, ws1, ws2;
        if (C0)
            tu = tc_test_upload(u, 4, ud);
        if (Cs) {
            ts = tc_test_upload(s, 4, sd);
        } else { /* no skip: a stand-in of its size without channels */
            ts = tu;
            ts.owns_buf = 0;
            memcpy(ts.dims, sd, sizeof sd);
        }
        struct tc_tensor tb1 = tc_test_upload(b1, 1, &C1), tb2 = tc_test_upload(b2, 1, &C2);
        struct tc_tensor tw1 = upload_weight(w1, w1d, pack1, &ws1);
        struct tc_tensor tw2 = upload_weight(w2, w2d, 0, &ws2);
        struct tc_tensor tj = ts;
        tj.dims[1] = c1.Cin;
        if (tc_runtime_is_cpu(tc_test_rt))
            assert_int_equal(tc_conv2d_implicit_pair_wanted(tc_test_rt, &tj, &tw1, &c1.g, &tw2,
                                                            &c2.g),
                             cases[i].handed_over);
        terracl_error err = {0};
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, yd, &ty, &err), err);
        TC_ASSERT_OK(tc_op_conv2d_pair(tc_test_rt, C0 ? &tu : NULL, &ts, &tw1, &tb1, &c1.g, &tw2,
                                       &tb2, &c2.g, 1, &ty, &err),
                     err);
        float *got = tc_test_download(&ty);
        char what[64];
        snprintf(what, sizeof what, "two 3x3 convolutions in a row, case %zu", i);
        expect_close(got, want, ny, what);
        /* A second weight for other channels is refused with a message. */
        struct tc_tensor wrong = tw2;
        wrong.dims[1] = C1 + 1;
        assert_int_equal(tc_op_conv2d_pair(tc_test_rt, C0 ? &tu : NULL, &ts, &tw1, &tb1, &c1.g,
                                           &wrong, &tb2, &c2.g, 1, &ty, &err),
                         TERRACL_ERR_SHAPE);
        assert_non_null(strstr(err.message, "input channels"));
        if (C0) { /* an upsampled map of another batch is refused */
            struct tc_tensor other = tu;
            other.dims[0] = B + 1;
            assert_int_equal(tc_op_conv2d_pair(tc_test_rt, &other, &ts, &tw1, &tb1, &c1.g, &tw2,
                                               &tb2, &c2.g, 1, &ty, &err),
                             TERRACL_ERR_SHAPE);
            assert_non_null(strstr(err.message, "cannot join"));
        }
        free(got);
        free(u);
        free(s);
        free(w1);
        free(w2);
        free(b1);
        free(b2);
        free(joined);
        free(mid);
        free(want);
        tc_tensor_free(&tu);
        tc_tensor_free(&ts);
        tc_tensor_free(&tb1);
        tc_tensor_free(&tb2);
        tc_tensor_free(&ty);
        tc_tensor_free(&ws1);
        tc_tensor_free(&ws2);
    }
}

/* What the binder may store for a Conv2d weight follows its geometry, also
 * when a built encoder's stage is dilated afterwards (smp's DeepLab). */
static void test_conv_weight_forms(void **state)
{
    (void)state;
    static const struct tc_module_vtable no_ops = {0};
    terracl_module *m = NULL;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_module_create("Test", &no_ops, NULL, &m, &err), err);
    struct tc_conv2d c;
    TC_ASSERT_OK(tc_layer_conv2d(m, "conv", 16, 128, 3, 1, 1, 1, 0, &c, &err), err);
    const struct tc_param *p = tc_module_param(m, c.w);
    assert_int_equal(p->gemm_weight, TC_PACKED_TAPS);
    assert_non_null(p->derive);
    assert_true(p->derived_replaces);
    assert_int_equal(p->derived_numel, (size_t)36 * 128 * 16); /* F(4x4): 36 elements */
    tc_layer_conv2d_set_geometry(m, &c, (struct tc_conv_geom){1, 1, 2, 2, 2, 2});
    assert_int_equal(p->gemm_weight, TC_PACKED_TAPS); /* dilated: packed, Winograd too */
    assert_non_null(p->derive);
    tc_layer_conv2d_set_geometry(m, &c, (struct tc_conv_geom){2, 2, 1, 1, 1, 1});
    assert_int_equal(p->gemm_weight, TC_PACKED_TAPS); /* strided: packed, no Winograd */
    assert_null(p->derive);
    tc_layer_conv2d_set_geometry(m, &c, (struct tc_conv_geom){1, 1, 100, 100, 100, 100});
    assert_int_equal(p->gemm_weight, TC_PLAIN); /* beyond the packed kernel's dilations */
    /* The tile follows the layer's width: F(4x4) for the narrower layers
     * (up to 256 outputs from 1024 inputs, or 512 from 512), F(2x2) for
     * the wider ones, none below 64-multiple outputs. */
    assert_int_equal(tc_conv2d_winograd_tile(64, 384), 4);
    assert_int_equal(tc_conv2d_winograd_tile(128, 768), 4);
    assert_int_equal(tc_conv2d_winograd_tile(256, 1024), 4);
    assert_int_equal(tc_conv2d_winograd_tile(128, 1280), 2);
    assert_int_equal(tc_conv2d_winograd_tile(512, 512), 4); /* ResNet's layer4 */
    assert_int_equal(tc_conv2d_winograd_tile(512, 1024), 2);
    assert_int_equal(tc_conv2d_winograd_tile(1024, 512), 2);
    assert_int_equal(tc_conv2d_winograd_tile(576, 24), 2); /* test_conv2d's F(2x2) cases */
    assert_int_equal(tc_conv2d_winograd_tile(384, 20), 4);
    assert_int_equal(tc_conv2d_winograd_tile(256, 3072), 2);
    assert_int_equal(tc_conv2d_winograd_tile(64, 1280), 0);
    assert_int_equal(tc_conv2d_winograd_tile(32, 64), 0);
    assert_int_equal(tc_conv2d_winograd_tile(128, 8), 0);
    struct tc_conv2d narrow;
    TC_ASSERT_OK(tc_layer_conv2d(m, "narrow", 16, 96, 3, 1, 1, 1, 0, &narrow, &err), err);
    assert_int_equal(tc_module_param(m, narrow.w)->gemm_weight, TC_PLAIN);
    terracl_module_destroy(m);
}

/* A profiled runtime files a convolution's kernels under its layer as well:
 * one call per op and shape, the direct convolution's arithmetic also where
 * Winograd executes less, the layer's time the sum of its kernels'. The
 * runtime is swapped in for tc_test_rt while the tensors live. */
static void test_conv_op_profile(void **state)
{
    (void)state;
    terracl_error err = {0};
    struct terracl_runtime_params params = {0};
    params.profile = 1;
    terracl_runtime *saved = tc_test_rt, *prt = NULL;
    TC_ASSERT_OK(terracl_runtime_create(&params, &prt, &err), err);
    tc_test_rt = prt;
    const struct tc_conv_geom g = {1, 1, 1, 1, 1, 1};
    const int64_t xd[4] = {1, 32, 12, 10}, wd[4] = {128, 32, 3, 3}, yd[4] = {1, 128, 12, 10};
    float *x = random_buf(32 * 12 * 10, 71, -1, 1), *w = random_buf(128 * 32 * 9, 72, -1, 1);
    const int pass = tc_conv2d_weight_packable(128, 32, 3, 3, &g) &&
                             tc_gemm_pack_wanted(prt, 128, 32 * 9)
                         ? 2
                         : 0;
    struct tc_tensor tx = tc_test_upload(x, 4, xd), wstore, ty;
    struct tc_tensor tw = upload_weight(w, wd, pass, &wstore);
    TC_ASSERT_OK(tc_tensor_alloc(prt, 4, yd, &ty, &err), err);
    for (int i = 0; i < 3; i++)
        TC_ASSERT_OK(tc_op_conv2d(prt, &tx, &tw, NULL, &g, &ty, &err), err);

    struct terracl_profile_row ops[8], kernels[32];
    size_t nops = 0, nkernels = 0;
    TC_ASSERT_OK(terracl_runtime_profile_ops(prt, ops, 8, &nops, &err), err);
    TC_ASSERT_OK(terracl_runtime_profile(prt, kernels, 32, &nkernels, &err), err);
    assert_int_equal(nops, 1);
    assert_string_equal(ops[0].kernel, "Conv2d");
    assert_string_equal(ops[0].variant, "3x3 32->128 @12x10");
    assert_int_equal(ops[0].launches, 3);
    assert_true(ops[0].flops == 3ull * 2 * 128 * 12 * 10 * 32 * 9);
    double sum = 0.0;
    uint64_t executed = 0;
    for (size_t i = 0; i < nkernels && i < 32; i++) {
        sum += kernels[i].device_ms;
        executed += kernels[i].flops;
    }
    assert_true(nkernels >= 1 && nkernels <= 32);
    assert_true(fabs(ops[0].device_ms - sum) <= 1e-9 + 1e-9 * sum);
    if (pass == 2) /* F(4x4): a quarter of the multiplications */
        assert_true(executed > 0 && executed < ops[0].flops / 2);

    /* Strides, dilations and batches are named; a reset forgets both tables. */
    terracl_runtime_profile_reset(prt);
    const struct tc_conv_geom g2 = {2, 2, 2, 2, 2, 2};
    const int64_t yd2[4] = {1, 128, 6, 5};
    struct tc_tensor ty2, tw0 = tc_test_upload(w, 4, wd);
    TC_ASSERT_OK(tc_tensor_alloc(prt, 4, yd2, &ty2, &err), err);
    TC_ASSERT_OK(tc_op_conv2d(prt, &tx, &tw0, NULL, &g2, &ty2, &err), err);
    TC_ASSERT_OK(terracl_runtime_profile_ops(prt, ops, 8, &nops, &err), err);
    assert_int_equal(nops, 1);
    assert_string_equal(ops[0].variant, "3x3 32->128 @12x10 s2 d2");
    assert_true(ops[0].flops == 2ull * 128 * 6 * 5 * 32 * 9);

    tc_tensor_free(&ty2);
    tc_tensor_free(&tw0);
    tc_tensor_free(&ty);
    tc_tensor_free(&wstore);
    tc_tensor_free(&tx);
    free(x);
    free(w);
    tc_test_rt = saved;
    terracl_runtime_destroy(prt);
}

/* ---- ConvTranspose2d --------------------------------------------------- */

struct convt_case {
    int64_t B, Cin, H, W, Cout, k, stride, pad, output_padding;
    int bias;
};

static void ref_conv_transpose2d(const struct convt_case *c, const float *x, const float *w,
                                 const float *b, int64_t Ho, int64_t Wo, float *y)
{
    size_t ny = (size_t)(c->B * c->Cout * Ho * Wo);
    double *acc = calloc(ny, sizeof *acc);
    assert_non_null(acc);
    for (int64_t n = 0; n < c->B; n++)
        for (int64_t ci = 0; ci < c->Cin; ci++)
            for (int64_t iy = 0; iy < c->H; iy++)
                for (int64_t ix = 0; ix < c->W; ix++)
                    for (int64_t co = 0; co < c->Cout; co++)
                        for (int64_t ky = 0; ky < c->k; ky++)
                            for (int64_t kx = 0; kx < c->k; kx++) {
                                int64_t oy = iy * c->stride - c->pad + ky;
                                int64_t ox = ix * c->stride - c->pad + kx;
                                if (oy < 0 || oy >= Ho || ox < 0 || ox >= Wo)
                                    continue;
                                acc[((n * c->Cout + co) * Ho + oy) * Wo + ox] +=
                                    (double)x[((n * c->Cin + ci) * c->H + iy) * c->W + ix] *
                                    w[((ci * c->Cout + co) * c->k + ky) * c->k + kx];
                            }
    for (size_t i = 0; i < ny; i++)
        y[i] = (float)(acc[i] + (c->bias ? b[(i / (size_t)(Ho * Wo)) % (size_t)c->Cout] : 0.0));
    free(acc);
}

static void test_conv_transpose2d(void **state)
{
    (void)state;
    static const struct convt_case cases[] = {
        {2, 3, 7, 13, 5, 2, 2, 0, 0, 1},  /* the FCN/UperNet upsampling */
        {1, 4, 7, 7, 3, 3, 2, 1, 1, 1},   /* padding and output_padding */
        {1, 5, 1, 1, 7, 4, 4, 0, 0, 1},   /* LinearDecoder-like, 1x1 input */
        {1, 2, 13, 7, 3, 3, 1, 0, 0, 0},  /* stride 1, no bias */
        {2, 1, 5, 3, 2, 5, 3, 2, 2, 1},   /* stride 3 with overlaps */
        /* Kernel = stride with Cout k k a multiple of 64: the direct CPU
         * kernel (taps stored in place); pixels not a multiple of its
         * 6-pixel tiles, an odd number of 64-tap tiles, k = 4 (k = 2
         * and 4 are build constants of the kernel, k = 8 is not). */
        {2, 37, 5, 9, 16, 2, 2, 0, 0, 1},
        {1, 70, 7, 6, 48, 2, 2, 0, 0, 0},
        {1, 9, 3, 5, 4, 4, 4, 0, 0, 1},
        {1, 3, 3, 4, 2, 8, 8, 0, 0, 1},
    };
    const size_t ncases = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < 2 * ncases; i++) {
        /* Pass 1: the cases whose weight packs (TC_PACKED_KN), packed. */
        const int packed = i >= ncases;
        const struct convt_case *c = &cases[i % ncases];
        if (packed && !(tc_conv_transpose2d_weight_packable(c->Cin, c->Cout, c->k, c->stride,
                                                            c->pad, c->output_padding) &&
                        tc_gemm_pack_wanted(tc_test_rt, (size_t)(c->Cout * c->k * c->k),
                                            (size_t)c->Cin)))
            continue;
        int64_t Ho = (c->H - 1) * c->stride - 2 * c->pad + c->k + c->output_padding;
        int64_t Wo = (c->W - 1) * c->stride - 2 * c->pad + c->k + c->output_padding;
        int64_t xd[4] = {c->B, c->Cin, c->H, c->W}, wd[4] = {c->Cin, c->Cout, c->k, c->k};
        int64_t yd[4] = {c->B, c->Cout, Ho, Wo};
        size_t nx = (size_t)(c->B * c->Cin * c->H * c->W), nw = (size_t)(c->Cin * c->Cout * c->k * c->k);
        size_t ny = (size_t)(c->B * c->Cout * Ho * Wo);
        float *x = random_buf(nx, 40 + (uint32_t)i, -1, 1), *w = random_buf(nw, 50 + (uint32_t)i, -1, 1);
        float *b = random_buf((size_t)c->Cout, 60 + (uint32_t)i, -1, 1);
        float *want = malloc(ny * sizeof *want);
        ref_conv_transpose2d(c, x, w, b, Ho, Wo, want);

        struct tc_tensor tx = tc_test_upload(x, 4, xd), tw, tb = tc_test_upload(b, 1, &c->Cout), ty;
        terracl_error err = {0};
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, wd, &tw, &err), err);
        tw.gemm_packed = packed ? TC_PACKED_KN : TC_PLAIN;
        TC_ASSERT_OK(tc_tensor_upload(tc_test_rt, &tw, w, &err), err);
        if (packed) { /* the packed layout reads back as the plain weight */
            float *back = tc_test_download(&tw);
            assert_memory_equal(back, w, nw * sizeof *back);
            free(back);
        }
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, yd, &ty, &err), err);
        TC_ASSERT_OK(tc_op_conv_transpose2d(tc_test_rt, &tx, &tw, c->bias ? &tb : NULL, c->stride,
                                            c->pad, c->output_padding, &ty, &err),
                     err);
        float *got = tc_test_download(&ty);
        char what[64];
        snprintf(what, sizeof what, "conv_transpose2d case %zu%s", i % ncases,
                 packed ? " (packed)" : "");
        expect_close(got, want, ny, what);
        free(got);
        free(want);
        free(x);
        free(w);
        free(b);
        tc_tensor_free(&tx);
        tc_tensor_free(&tw);
        tc_tensor_free(&tb);
        tc_tensor_free(&ty);
    }
}

/* ---- PixelShuffle ------------------------------------------------------ */

static void test_pixel_shuffle(void **state)
{
    (void)state;
    static const int64_t cases[][5] = {{2, 3, 7, 13, 2}, {1, 1, 1, 1, 3}, {1, 2, 5, 3, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t B = cases[i][0], C = cases[i][1], H = cases[i][2], W = cases[i][3], r = cases[i][4];
        int64_t xd[4] = {B, C * r * r, H, W}, yd[4] = {B, C, H * r, W * r};
        size_t n = (size_t)(B * C * r * r * H * W);
        float *x = random_buf(n, 70 + (uint32_t)i, -1, 1), *want = malloc(n * sizeof *want);
        for (int64_t b = 0; b < B; b++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t h = 0; h < H; h++)
                    for (int64_t w = 0; w < W; w++)
                        for (int64_t a = 0; a < r; a++)
                            for (int64_t e = 0; e < r; e++)
                                want[((b * C + c) * H * r + h * r + a) * W * r + w * r + e] =
                                    x[((b * C * r * r + c * r * r + a * r + e) * H + h) * W + w];
        struct tc_tensor tx = tc_test_upload(x, 4, xd), ty;
        terracl_error err = {0};
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, yd, &ty, &err), err);
        TC_ASSERT_OK(tc_op_pixel_shuffle(tc_test_rt, &tx, r, &ty, &err), err);
        float *got = tc_test_download(&ty);
        assert_true(tc_test_max_abs(got, want, n) == 0);
        free(got);
        free(want);
        free(x);
        tc_tensor_free(&tx);
        tc_tensor_free(&ty);
    }
}

/* ---- BatchNorm and activations ----------------------------------------- */

static void test_batchnorm(void **state)
{
    (void)state;
    static const int64_t shapes[][4] = {{2, 7, 13, 1}, {1, 1, 1, 1}, {3, 5, 0, 0}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        int ndim = shapes[i][2] ? 4 : 2;
        int64_t C = shapes[i][1];
        size_t px = ndim == 4 ? (size_t)(shapes[i][2] * shapes[i][3]) : 1;
        size_t n = (size_t)shapes[i][0] * (size_t)C * px;
        float *x = random_buf(n, 80 + (uint32_t)i, -3, 3);
        float *mean = random_buf((size_t)C, 81, -1, 1), *var = random_buf((size_t)C, 82, 0.1f, 2);
        float *gamma = random_buf((size_t)C, 83, -2, 2), *beta = random_buf((size_t)C, 84, -1, 1);
        float *want = malloc(n * sizeof *want), *want_relu = malloc(n * sizeof *want);
        float eps = 1e-5f;
        for (size_t j = 0; j < n; j++) {
            size_t c = (j / px) % (size_t)C;
            double v = ((double)x[j] - mean[c]) / sqrt((double)var[c] + eps) * gamma[c] + beta[c];
            want[j] = (float)v;
            want_relu[j] = v > 0 ? (float)v : 0.0f;
        }
        struct tc_tensor tx = tc_test_upload(x, ndim, shapes[i]), tm = tc_test_upload(mean, 1, &C),
                         tv = tc_test_upload(var, 1, &C), tg = tc_test_upload(gamma, 1, &C), tb = tc_test_upload(beta, 1, &C), ty;
        terracl_error err = {0};
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, ndim, shapes[i], &ty, &err), err);
        TC_ASSERT_OK(tc_op_batchnorm_relu(tc_test_rt, &tx, &tm, &tv, &tg, &tb, eps, &ty, &err), err);
        float *got = tc_test_download(&ty);
        expect_close(got, want_relu, n, "batchnorm+relu");
        free(got);
        /* In place. */
        TC_ASSERT_OK(tc_op_batchnorm(tc_test_rt, &tx, &tm, &tv, &tg, &tb, eps, &tx, &err), err);
        got = tc_test_download(&tx);
        expect_close(got, want, n, "batchnorm");
        free(got);
        /* Statistics of the wrong length are refused. */
        assert_int_equal(tc_op_batchnorm(tc_test_rt, &tx, &tm, &tx, &tg, &tb, eps, &ty, &err),
                         C == 1 && n == 1 ? TERRACL_OK : TERRACL_ERR_SHAPE);
        free(x);
        free(mean);
        free(var);
        free(gamma);
        free(beta);
        free(want);
        free(want_relu);
        tc_tensor_free(&tx);
        tc_tensor_free(&tm);
        tc_tensor_free(&tv);
        tc_tensor_free(&tg);
        tc_tensor_free(&tb);
        tc_tensor_free(&ty);
    }
}

static double ref_act(const char *name, double v)
{
    double sp = v > 20 ? v : log1p(exp(v));
    if (!strcmp(name, "Identity")) return v;
    if (!strcmp(name, "ReLU")) return v > 0 ? v : 0;
    if (!strcmp(name, "GELU")) return 0.5 * v * (1 + erf(v / sqrt(2.0)));
    if (!strcmp(name, "Sigmoid")) return 1 / (1 + exp(-v));
    if (!strcmp(name, "Tanh")) return tanh(v);
    if (!strcmp(name, "SiLU")) return v / (1 + exp(-v));
    if (!strcmp(name, "LeakyReLU")) return v >= 0 ? v : 0.01 * v;
    if (!strcmp(name, "ELU")) return v > 0 ? v : exp(v) - 1;
    if (!strcmp(name, "Mish")) return v * tanh(sp);
    if (!strcmp(name, "Softplus")) return sp;
    if (!strcmp(name, "ReLU6")) return fmin(fmax(v, 0), 6);
    if (!strcmp(name, "Hardswish")) return v * fmin(fmax(v + 3, 0), 6) / 6;
    if (!strcmp(name, "Hardsigmoid")) return fmin(fmax(v + 3, 0), 6) / 6;
    return NAN;
}

static void test_activations(void **state)
{
    (void)state;
    static const char *const names[] = {"Identity", "ReLU", "GELU", "Sigmoid", "Tanh",
                                        "SiLU", "LeakyReLU", "ELU", "Mish", "Softplus",
                                        "ReLU6", "Hardswish", "Hardsigmoid"};
    int64_t n = 589;
    float *x = random_buf((size_t)n, 90, -8, 8), *want = malloc((size_t)n * sizeof *want);
    struct tc_tensor tx = tc_test_upload(x, 1, &n), ty;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 1, &n, &ty, &err), err);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        enum tc_activation act;
        assert_true(tc_activation_from_name(names[i], &act));
        for (int64_t j = 0; j < n; j++)
            want[j] = (float)ref_act(names[i], x[j]);
        TC_ASSERT_OK(tc_op_activation(tc_test_rt, &tx, act, &ty, &err), err);
        float *got = tc_test_download(&ty);
        expect_close(got, want, (size_t)n, names[i]);
        free(got);
    }
    enum tc_activation act;
    assert_false(tc_activation_from_name("Softmax2d", &act));
    free(x);
    free(want);
    tc_tensor_free(&tx);
    tc_tensor_free(&ty);
}

static void test_scse_gate(void **state)
{
    (void)state;
    int64_t B = 2, C = 7, H = 5, W = 3, P = H * W;
    int64_t xd[4] = {B, C, H, W}, cd[4] = {B, C, 1, 1}, sd[4] = {B, 1, H, W};
    size_t n = (size_t)(B * C * P);
    float *x = random_buf(n, 95, -2, 2), *cse = random_buf((size_t)(B * C), 96, -3, 3);
    float *sse = random_buf((size_t)(B * P), 97, -3, 3), *want = malloc(n * sizeof *want);
    for (size_t i = 0; i < n; i++) {
        size_t p = i % (size_t)P, bc = i / (size_t)P, b = bc / (size_t)C;
        double gc = 1 / (1 + exp(-(double)cse[bc])), gs = 1 / (1 + exp(-(double)sse[b * (size_t)P + p]));
        want[i] = (float)(x[i] * gc + x[i] * gs);
    }
    struct tc_tensor tx = tc_test_upload(x, 4, xd), tc = tc_test_upload(cse, 4, cd), ts = tc_test_upload(sse, 4, sd);
    terracl_error err = {0};
    TC_ASSERT_OK(tc_op_scse_gate(tc_test_rt, &tx, &tc, &ts, &tx, &err), err);
    float *got = tc_test_download(&tx);
    expect_close(got, want, n, "scse gate");
    assert_int_equal(tc_op_scse_gate(tc_test_rt, &tx, &ts, &tc, &tx, &err), TERRACL_ERR_SHAPE);
    free(got);
    free(want);
    free(x);
    free(cse);
    free(sse);
    tc_tensor_free(&tx);
    tc_tensor_free(&tc);
    tc_tensor_free(&ts);
}

int main(void)
{
    tc_test_runtime_or_skip();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d),         cmocka_unit_test(test_conv_weight_forms),
        cmocka_unit_test(test_conv_upcat),     cmocka_unit_test(test_conv_implicit_tiles),
        cmocka_unit_test(test_conv1x1_k_blocks), cmocka_unit_test(test_conv_pair),
        cmocka_unit_test(test_conv_op_profile), cmocka_unit_test(test_conv_transpose2d),
        cmocka_unit_test(test_pixel_shuffle),  cmocka_unit_test(test_batchnorm),
        cmocka_unit_test(test_activations),    cmocka_unit_test(test_scse_gate),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

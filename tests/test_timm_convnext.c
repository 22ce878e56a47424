/*
 * The timm source's ConvNeXts: the ops they add (depthwise convolution,
 * Global Response Norm, layer scale + residual) against naive C references,
 * every feature a bb_timm_convnext* fixture recorded (not only the last one
 * test_parity compares), the channel lists, and how names and arguments
 * resolve in the BACKBONE registry.
 */
#include "backbone_check.h"

#include <math.h>
#include <string.h>

#include "graph/exec.h"
#include "graph/module.h"
#include "io/tensor_file.h"
#include "io/yaml_config.h"
#include "graph/mem_estimate.h"
#include "models/backbones/convnext.h"
#include "ops/conv_packed.h"
#include "ops/dwconv.h"
#include "ops/grn.h"
#include "ops/layer_scale.h"

static float *random_buf(size_t n, uint32_t seed, float lo, float hi)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    tc_test_fill(p, n, seed, lo, hi);
    return p;
}

static void expect_close(const float *got, const float *want, size_t n, const char *what)
{
    double rel = tc_test_rel_l2(got, want, n);
    if (!(rel <= 1e-5))
        fail_msg("%s: relative L2 %.3g", what, rel);
}

/* ---- depthwise convolution ---------------------------------------------- */

struct dw_case {
    int64_t B, C, H, W, kh, kw;
    struct tc_conv_geom g;
    int bias, channels_last;
};

static void ref_dwconv(const struct dw_case *c, const float *x, const float *w, const float *b,
                       int64_t Ho, int64_t Wo, float *y)
{
    for (int64_t n = 0; n < c->B; n++)
        for (int64_t ch = 0; ch < c->C; ch++)
            for (int64_t oy = 0; oy < Ho; oy++)
                for (int64_t ox = 0; ox < Wo; ox++) {
                    double acc = c->bias ? b[ch] : 0.0;
                    for (int64_t ky = 0; ky < c->kh; ky++)
                        for (int64_t kx = 0; kx < c->kw; kx++) {
                            int64_t iy = oy * c->g.stride_h - c->g.pad_h + ky * c->g.dil_h;
                            int64_t ix = ox * c->g.stride_w - c->g.pad_w + kx * c->g.dil_w;
                            if (iy < 0 || iy >= c->H || ix < 0 || ix >= c->W)
                                continue;
                            acc += (double)x[((n * c->C + ch) * c->H + iy) * c->W + ix] *
                                   w[(ch * c->kh + ky) * c->kw + kx];
                        }
                    size_t o = c->channels_last ? (size_t)(((n * Ho + oy) * Wo + ox) * c->C + ch)
                                                : (size_t)(((n * c->C + ch) * Ho + oy) * Wo + ox);
                    y[o] = (float)acc;
                }
}

static void test_dwconv(void **state)
{
    (void)state;
    static const struct dw_case cases[] = {
        {2, 5, 13, 9, 7, 7, {1, 1, 3, 3, 1, 1}, 1, 1},  /* ConvNeXt's: 7x7 same, channels-last */
        {1, 3, 11, 7, 7, 7, {1, 1, 3, 3, 1, 1}, 1, 0},  /* the same, NCHW out */
        {2, 4, 2, 1, 7, 7, {1, 1, 3, 3, 1, 1}, 0, 1},   /* map smaller than the kernel */
        {1, 6, 13, 12, 3, 5, {2, 1, 1, 2, 1, 1}, 1, 0}, /* strided, non-square */
        {1, 2, 15, 15, 3, 3, {1, 2, 2, 2, 2, 2}, 0, 1}, /* dilated */
        {1, 3, 5, 37, 7, 7, {1, 1, 3, 3, 1, 1}, 1, 1},  /* 16-lane rows, channels-last */
        {1, 2, 6, 48, 7, 7, {1, 1, 3, 3, 1, 1}, 0, 0},  /* 16-lane rows, NCHW */
        /* Channels-last with 16-multiple channels (the channels-last
         * kernel): batch 2 on a narrow map (8-pixel blocks all at the
         * border), a wide row (blocks inside it and at both ends), a map
         * smaller than the kernel, dilation 2. */
        {2, 32, 13, 9, 7, 7, {1, 1, 3, 3, 1, 1}, 1, 1},
        {1, 16, 6, 40, 7, 7, {1, 1, 3, 3, 1, 1}, 0, 1},
        {2, 16, 2, 1, 7, 7, {1, 1, 3, 3, 1, 1}, 1, 1},
        {1, 48, 15, 15, 3, 3, {1, 1, 2, 2, 2, 2}, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct dw_case *c = &cases[i];
        int64_t Ho = (c->H + 2 * c->g.pad_h - c->g.dil_h * (c->kh - 1) - 1) / c->g.stride_h + 1;
        int64_t Wo = (c->W + 2 * c->g.pad_w - c->g.dil_w * (c->kw - 1) - 1) / c->g.stride_w + 1;
        size_t nx = (size_t)(c->B * c->C * c->H * c->W), nw = (size_t)(c->C * c->kh * c->kw);
        size_t ny = (size_t)(c->B * c->C * Ho * Wo);
        float *x = random_buf(nx, 1 + (uint32_t)i, -1, 1), *w = random_buf(nw, 50, -1, 1);
        float *b = random_buf((size_t)c->C, 60, -1, 1), *want = malloc(ny * sizeof *want);
        ref_dwconv(c, x, w, b, Ho, Wo, want);
        int64_t xd[4] = {c->B, c->C, c->H, c->W}, wd[4] = {c->C, 1, c->kh, c->kw};
        int64_t yd[4] = {c->B, c->C, Ho, Wo};
        if (c->channels_last) {
            yd[1] = Ho;
            yd[2] = Wo;
            yd[3] = c->C;
        }
        struct tc_tensor tx = tc_test_upload(x, 4, xd), tw = tc_test_upload(w, 4, wd);
        struct tc_tensor tb = tc_test_upload(b, 1, &c->C), ty = {0};
        terracl_error err = {0};
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, yd, &ty, &err), err);
        TC_ASSERT_OK(tc_op_dwconv2d(tc_test_rt, &tx, &tw, c->bias ? &tb : NULL, &c->g,
                                    c->channels_last, &ty, &err),
                     err);
        float *got = tc_test_download(&ty);
        char what[48];
        snprintf(what, sizeof what, "dwconv case %zu", i);
        expect_close(got, want, ny, what);
        if (c->channels_last && c->C % 16 == 0) {
            /* The weight as the binder leaves it on CPUs: its tap-major
             * form (tc_dwconv2d_taps_derive) after it, read in its place. */
            struct tc_param p = {0};
            p.ndim = 4;
            memcpy(p.dims, wd, sizeof wd);
            size_t at = (nw + 15) / 16 * 16;
            float *both = calloc(at + nw, sizeof *both);
            assert_non_null(both);
            memcpy(both, w, nw * sizeof *w);
            assert_int_equal(tc_dwconv2d_taps_derive(&p, w, both + at), 0);
            int64_t total = (int64_t)(at + nw);
            struct tc_tensor store = tc_test_upload(both, 1, &total), tw2 = store;
            tw2.owns_buf = 0;
            tw2.ndim = 4;
            memcpy(tw2.dims, wd, sizeof wd);
            tw2.has_derived = 1;
            tw2.derived_offset = at;
            TC_ASSERT_OK(tc_op_dwconv2d(tc_test_rt, &tx, &tw2, c->bias ? &tb : NULL, &c->g,
                                        c->channels_last, &ty, &err),
                         err);
            float *got2 = tc_test_download(&ty);
            snprintf(what, sizeof what, "dwconv case %zu, derived weight", i);
            expect_close(got2, want, ny, what);
            free(got2);
            free(both);
            tc_tensor_free(&store);
        }
        if (c->channels_last) {
            /* The input channels-last too (ConvNeXt's channels-last trunk):
             * the same sums where the device takes it, a refusal that
             * names the reason elsewhere. */
            float *xt = malloc(nx * sizeof *xt);
            assert_non_null(xt);
            for (int64_t n = 0; n < c->B; n++)
                for (int64_t ch = 0; ch < c->C; ch++)
                    for (int64_t p = 0; p < c->H * c->W; p++)
                        xt[(n * c->H * c->W + p) * c->C + ch] =
                            x[(n * c->C + ch) * c->H * c->W + p];
            int64_t xtd[4] = {c->B, c->H, c->W, c->C};
            struct tc_tensor txt = tc_test_upload(xt, 4, xtd);
            float *poison = malloc(ny * sizeof *poison); /* what the last call left goes */
            assert_non_null(poison);
            for (size_t k = 0; k < ny; k++)
                poison[k] = NAN;
            TC_ASSERT_OK(tc_tensor_upload(tc_test_rt, &ty, poison, &err), err);
            free(poison);
            terracl_status st = tc_op_dwconv2d_channels_last(
                tc_test_rt, &txt, &tw, c->bias ? &tb : NULL, &c->g, &ty, &err);
            if (tc_op_dwconv2d_channels_last_ok(tc_test_rt, &tw, &c->g)) {
                TC_ASSERT_OK(st, err);
                float *got3 = tc_test_download(&ty);
                snprintf(what, sizeof what, "dwconv case %zu, channels-last input", i);
                expect_close(got3, want, ny, what);
                free(got3);
                /* A planar input's shape is refused. */
                if (c->C != c->W)
                    assert_int_equal(tc_op_dwconv2d_channels_last(tc_test_rt, &tx, &tw, NULL,
                                                                  &c->g, &ty, &err),
                                     TERRACL_ERR_SHAPE);
            } else {
                assert_int_equal(st, TERRACL_ERR_UNSUPPORTED);
                assert_non_null(strstr(err.message, "multiple of 16"));
            }
            free(xt);
            tc_tensor_free(&txt);
        }
        /* An output of the other layout's shape is refused. */
        if (c->C != Ho || Ho != Wo) {
            struct tc_tensor wrong = ty;
            int64_t t = wrong.dims[1];
            wrong.dims[1] = wrong.dims[3];
            wrong.dims[3] = t;
            assert_int_equal(tc_op_dwconv2d(tc_test_rt, &tx, &tw, NULL, &c->g, c->channels_last,
                                            &wrong, &err),
                             TERRACL_ERR_SHAPE);
        }
        free(got);
        tc_tensor_free(&tx);
        tc_tensor_free(&tw);
        tc_tensor_free(&tb);
        tc_tensor_free(&ty);
        free(x);
        free(w);
        free(b);
        free(want);
    }
}

/* ---- GRN and layer scale -------------------------------------------------- */

static void test_grn(void **state)
{
    (void)state;
    const int64_t B = 2, H = 5, W = 3, C = 7;
    size_t n = (size_t)(B * H * W * C);
    float *x = random_buf(n, 7, -2, 2), *g = random_buf((size_t)C, 8, -1, 1);
    float *b = random_buf((size_t)C, 9, -1, 1), *want = malloc(n * sizeof *want);
    for (int64_t bi = 0; bi < B; bi++) {
        double norms[7], mean = 0;
        for (int64_t c = 0; c < C; c++) {
            double s = 0;
            for (int64_t p = 0; p < H * W; p++) {
                double v = x[(bi * H * W + p) * C + c];
                s += v * v;
            }
            norms[c] = sqrt(s);
            mean += norms[c] / (double)C;
        }
        for (int64_t p = 0; p < H * W; p++)
            for (int64_t c = 0; c < C; c++) {
                size_t i = (size_t)((bi * H * W + p) * C + c);
                double nx = norms[c] / (mean + 1e-6);
                want[i] = (float)(x[i] + b[c] + g[c] * x[i] * nx);
            }
    }
    int64_t xd[4] = {B, H, W, C};
    struct tc_tensor tx = tc_test_upload(x, 4, xd), tg = tc_test_upload(g, 1, &C);
    struct tc_tensor tb = tc_test_upload(b, 1, &C);
    terracl_error err = {0};
    TC_ASSERT_OK(tc_op_grn(tc_test_rt, &tx, &tg, &tb, 1e-6f, &tx, &err), err); /* in place */
    float *got = tc_test_download(&tx);
    expect_close(got, want, n, "grn");
    /* Weights of the wrong width are refused. */
    assert_int_equal(tc_op_grn(tc_test_rt, &tx, &tg, &tx, 1e-6f, &tx, &err), TERRACL_ERR_SHAPE);
    free(got);
    tc_tensor_free(&tx);
    tc_tensor_free(&tg);
    tc_tensor_free(&tb);
    free(x);
    free(g);
    free(b);
    free(want);
}

/* Layer scale + residual on one shape, with and without gamma. */
static void layer_scale_case(int64_t B, int64_t C, int64_t H, int64_t W)
{
    size_t n = (size_t)(B * C * H * W);
    float *t = random_buf(n, 11, -1, 1), *res = random_buf(n, 12, -1, 1);
    float *g = random_buf((size_t)C, 13, -1, 1), *want = malloc(n * sizeof *want);
    float *plain = malloc(n * sizeof *plain);
    for (int64_t bi = 0; bi < B; bi++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t p = 0; p < H * W; p++) {
                size_t o = (size_t)((bi * C + c) * H * W + p);
                float v = t[(bi * H * W + p) * C + c];
                want[o] = res[o] + g[c] * v;
                plain[o] = res[o] + v;
            }
    int64_t td[4] = {B, H, W, C}, rd[4] = {B, C, H, W};
    struct tc_tensor tt = tc_test_upload(t, 4, td), tr = tc_test_upload(res, 4, rd);
    struct tc_tensor tg = tc_test_upload(g, 1, &C), ty = {0};
    terracl_error err = {0};
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, rd, &ty, &err), err);
    TC_ASSERT_OK(tc_op_layer_scale_residual(tc_test_rt, &tt, &tg, &tr, &ty, &err), err);
    float *got = tc_test_download(&ty);
    expect_close(got, want, n, "layer scale + residual");
    free(got);
    TC_ASSERT_OK(tc_op_layer_scale_residual(tc_test_rt, &tt, NULL, &tr, &tr, &err), err);
    got = tc_test_download(&tr);
    expect_close(got, plain, n, "residual without layer scale, in place");
    free(got);
    /* An NCHW branch (not channels-last) is refused. */
    assert_int_equal(tc_op_layer_scale_residual(tc_test_rt, &tr, &tg, &ty, &ty, &err),
                     TERRACL_ERR_SHAPE);
    tc_tensor_free(&tt);
    tc_tensor_free(&tr);
    tc_tensor_free(&tg);
    tc_tensor_free(&ty);
    free(t);
    free(res);
    free(g);
    free(want);
    free(plain);
}

static void test_layer_scale_residual(void **state)
{
    (void)state;
    layer_scale_case(2, 5, 3, 4);
    /* Several channel groups and pixel tiles of the CPU kernel, both partial. */
    layer_scale_case(2, 40, 9, 15);
}

/* ---- the backbones --------------------------------------------------------- */

/* Runs the backbone of fixture `name`, compares each of its features and
 * checks what is particular to this family. */
static void check_features(const char *name)
{
    struct tc_backbone_run run;
    tc_test_backbone_features(name, "TimmConvNeXt", &run);
    terracl_error err = {0};
    terracl_model *model = run.model;
    terracl_module *bb = run.backbone;
    const struct tc_host_tensor x = run.input;
    /* The memory check counts the ConvNeXt's maps: a huge input is refused
     * before anything runs, and the estimate's largest map is the first
     * stage's MLP hidden map (4x the stage width). */
    int64_t huge[4] = {64, x.dims[1], 60000, 60000};
    assert_int_equal(terracl_model_check_input(model, 4, huge, &err), TERRACL_ERR_NO_MEMORY);
    struct tc_mem_estimate e;
    memset(&e, 0, sizeof e);
    tc_timm_convnext_estimate(bb, 4, huge, &e);
    assert_string_equal(e.largest_name, "ConvNeXt MLP hidden map");
    assert_int_equal(e.largest_dims[1], huge[2] / 4); /* stage 0, after the patch-4 stem */
    tc_test_backbone_run_free(&run);
}

static void test_convnext_features(void **state)
{
    (void)state;
    check_features("bb_timm_convnext_tiny");
}

static void test_convnextv2_features(void **state)
{
    (void)state;
    check_features("bb_timm_convnextv2_tiny");
}

static void test_convnextv2_atto_features(void **state)
{
    (void)state;
    check_features("bb_timm_convnextv2_atto");
}

/* Widths that are multiples of 16: on CPU devices the trunk runs
 * channels-last between blocks, and two of its downsamples read that layout
 * in the packed kernel (elsewhere the planar path, the same sums). */
static void test_convnext_channels_last_features(void **state)
{
    (void)state;
    check_features("bb_timm_convnext_cl");
}

/* What the channels-last entry of the packed convolution refuses, before
 * any kernel runs: shapes that do not fit, padding, weights it cannot read. */
static void test_packed_channels_last_refusals(void **state)
{
    (void)state;
    int64_t xd[4] = {1, 8, 8, 16}, wd[4] = {64, 16, 2, 2}, yd[4] = {1, 64, 4, 4};
    size_t nw = 64 * 16 * 4;
    float *w = random_buf(nw, 3, -1, 1), *x = random_buf(8 * 8 * 16, 4, -1, 1);
    struct tc_tensor tx = tc_test_upload(x, 4, xd), tw = tc_test_upload(w, 4, wd), ty = {0};
    terracl_error err = {0};
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, yd, &ty, &err), err);
    const struct tc_conv_geom down = {2, 2, 0, 0, 1, 1}, padded = {2, 2, 1, 1, 1, 1};
    /* A plain weight: not one the packed kernel reads. */
    assert_false(tc_conv2d_packed_channels_last_ok(&tw, &down));
    assert_int_equal(tc_conv2d_packed_channels_last(tc_test_rt, &tx, &tw, NULL, &down, &ty, &err),
                     TERRACL_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "packed weight"));
    struct tc_tensor tp = tw;
    tp.owns_buf = 0;
    tp.gemm_packed = TC_PACKED_TAPS;
    assert_true(tc_conv2d_packed_channels_last_ok(&tp, &down));
    assert_false(tc_conv2d_packed_channels_last_ok(&tp, &padded));
    assert_int_equal(
        tc_conv2d_packed_channels_last(tc_test_rt, &tx, &tp, NULL, &padded, &ty, &err),
        TERRACL_ERR_UNSUPPORTED);
    /* An output of the wrong size, an input of the wrong width. */
    int64_t bad_yd[4] = {1, 64, 3, 4};
    struct tc_tensor bad_y = ty;
    memcpy(bad_y.dims, bad_yd, sizeof bad_yd);
    bad_y.owns_buf = 0;
    assert_int_equal(tc_conv2d_packed_channels_last(tc_test_rt, &tx, &tp, NULL, &down, &bad_y, &err),
                     TERRACL_ERR_SHAPE);
    struct tc_tensor bad_x = tx;
    bad_x.owns_buf = 0;
    bad_x.dims[3] = 8;
    bad_x.dims[2] = 16;
    assert_int_equal(tc_conv2d_packed_channels_last(tc_test_rt, &bad_x, &tp, NULL, &down, &ty, &err),
                     TERRACL_ERR_SHAPE);
    tc_tensor_free(&tx);
    tc_tensor_free(&tw);
    tc_tensor_free(&ty);
    free(w);
    free(x);
}

static void test_names_and_channels(void **state)
{
    (void)state;
    const int64_t t[] = {96, 192, 384, 768}, b[] = {128, 256, 512, 1024};
    const int64_t h[] = {352, 704, 1408, 2816}, atto[] = {40, 80, 160, 320};
    tc_test_expect_channels("timm_convnext_tiny", NULL, t, 4);
    tc_test_expect_channels("convnext_base", NULL, b, 4); /* no prefix: found in the timm source */
    tc_test_expect_channels("timm_convnextv2_huge", NULL, h, 4);
    tc_test_expect_channels("timm_convnextv2_atto", NULL, atto, 4);
    /* The channel list follows out_indices' order, as timm's feature_info reports it. */
    const int64_t last[] = {1536}, rev[] = {384, 96};
    tc_test_expect_channels("timm_convnext_large", "{out_indices: [-1]}", last, 1);
    tc_test_expect_channels("timm_convnext_tiny", "{out_indices: [2, 0], in_chans: 13}", rev, 2);
    tc_test_expect_channels("timm_convnext_small", "{drop_path_rate: 0.1, head_norm_first: true}", t, 4);

    terracl_error err = {0};
    terracl_module *m = NULL;
    /* Unprefixed convnextv2_* is TerraTorch's own (MMEarth) model: refused,
     * not silently timm's. */
    assert_int_equal(tc_test_build_backbone("convnextv2_tiny", NULL, &m, &err), TERRACL_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "timm_convnextv2_tiny"));
    assert_int_equal(tc_test_build_backbone("timm_convnext_tiny", "{out_indices: [4]}", &m, &err),
                     TERRACL_ERR_CONFIG);
    assert_int_equal(tc_test_build_backbone("timm_convnext_tiny", "{out_indices: [1, 1]}", &m, &err),
                     TERRACL_ERR_UNSUPPORTED);
    assert_int_equal(tc_test_build_backbone("timm_convnext_tiny", "{dims: [8, 16]}", &m, &err),
                     TERRACL_ERR_CONFIG);
    assert_int_equal(tc_test_build_backbone("timm_convnext_tiny", "{pretrained: true}", &m, &err),
                     TERRACL_ERR_CONFIG);
    assert_int_equal(tc_test_build_backbone("timm_convnext_tiny", "{stem_type: overlap}", &m, &err),
                     TERRACL_ERR_UNSUPPORTED);
    assert_int_equal(tc_test_build_backbone("timm_convnext_tiny", "{output_stride: 16}", &m, &err),
                     TERRACL_ERR_UNSUPPORTED);
    assert_null(m);
}

/* Layer scale: V1 has gamma per block, V2 (and ls_init_value null) has
 * none; use_grn adds the GRN's two vectors of 4 * dim. */
static void test_parameter_layout(void **state)
{
    (void)state;
    terracl_error err = {0};
    terracl_module *v1 = NULL, *nols = NULL, *v2 = NULL;
    const char *small = "{depths: [1, 1, 1, 1], dims: [8, 8, 8, 8], out_indices: [0]}";
    TC_ASSERT_OK(tc_test_build_backbone("timm_convnext_tiny", small, &v1, &err), err);
    TC_ASSERT_OK(tc_test_build_backbone("timm_convnext_tiny",
                       "{depths: [1, 1, 1, 1], dims: [8, 8, 8, 8], out_indices: [0], "
                       "ls_init_value: null}",
                       &nols, &err),
                 err);
    TC_ASSERT_OK(tc_test_build_backbone("timm_convnextv2_tiny", small, &v2, &err), err);
    /* stem (3*8*16 + 8) + its norm (16), then one block: conv_dw (8*49 + 8),
     * norm (16), fc1 (8*32 + 32), fc2 (32*8 + 8), gamma (8). */
    const size_t stem = 3 * 8 * 16 + 8 + 16, block = 8 * 49 + 8 + 16 + 8 * 32 + 32 + 32 * 8 + 8;
    assert_int_equal(terracl_module_param_count(v1), stem + block + 8);
    assert_int_equal(terracl_module_param_count(nols), stem + block);
    assert_int_equal(terracl_module_param_count(v2), stem + block + 2 * 32);
    terracl_module_destroy(v1);
    terracl_module_destroy(nols);
    terracl_module_destroy(v2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dwconv),
        cmocka_unit_test(test_grn),
        cmocka_unit_test(test_layer_scale_residual),
        cmocka_unit_test(test_names_and_channels),
        cmocka_unit_test(test_parameter_layout),
        cmocka_unit_test(test_convnext_features),
        cmocka_unit_test(test_convnextv2_features),
        cmocka_unit_test(test_convnextv2_atto_features),
        cmocka_unit_test(test_convnext_channels_last_features),
        cmocka_unit_test(test_packed_channels_last_refusals),
    };
    tc_test_runtime_or_skip();
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

/*
 * Conv2d, ConvTranspose2d and PixelShuffle on the device.
 *
 * Conv2d is im2col + one GEMM per batch item, y_b = W cols_b, except for
 * 1x1 convolutions without stride or padding, where x_b already is the
 * column matrix (on CPUs for maps of DIRECT_MIN_PIXELS or more; smaller
 * maps take the pixel-major columns below, whose A B^T kernel is faster
 * there). On CPU devices, weights with a multiple of 64 output channels
 * are packed at bind time (tc_conv2d_weight_packable) and take Winograd
 * (conv_winograd.c: 3x3, stride 1, 128+ channels), the pixel-major packed
 * kernel (conv_packed.c: any geometry) or, 1x1 on large maps, the NN GEMM
 * with the packed weight as A. A 1x1 convolution to at most 16 channels (a
 * head's classes) takes the narrow kernel (conv_narrow.c). Otherwise
 * stride-1 1x1 and 3x3 kernels are implicit GEMMs without columns
 * (conv_implicit.c); for the rest (strided or larger kernels with few
 * output channels: stems of ResNet-d and ConvNeXt, ViT patch embeddings)
 * the columns are pixel-major and made band by band (conv2d_cpu) so that
 * the GEMM is the fast A B^T kernel.
 * ConvTranspose2d is the reverse: cols_b = W^T x_b (one GEMM; on CPUs its
 * transpose) then a gather kernel sums the taps that land on each output
 * pixel. The column scratch is allocated per call and released once
 * enqueued (OpenCL keeps it alive until the queued commands finish).
 */
#include "ops/conv.h"

#include <stdio.h>

#include "core/checked.h"
#include "ops/conv_implicit.h"
#include "ops/conv_narrow.h"
#include "ops/conv_packed.h"
#include "ops/conv_winograd.h"
#include "ops/elementwise.h"
#include "ops/launch.h"

/* Pixels from which a CPU runs an unpadded 1x1 convolution as the NN GEMM
 * on its input rather than through pixel-major columns (see below). */
#define DIRECT_MIN_PIXELS 128
/* The same with a packed weight, against the packed convolution kernel:
 * on ResNet-50's 1x1 shapes (bench_conv, best of 20, three alternating
 * rounds) the GEMM took 0.54-0.61 ms against 0.78-1.18 at 56x56 (64->256)
 * and 8.7-9.3 against 10.1-10.8 (1024->256), the kernel 0.53-0.56 against
 * 0.62-0.70 at 28x28 (512->128) and 0.49-0.55 against 0.61-0.70 at 14x14
 * (1024->256). At 32x32 (a 512 input's layer3, DeepLab's dilated layer4)
 * the kernel, whose tiles read each input channel's plane a line at a
 * time, fell to 100-150 GFLOP/s inside the model where the GEMM ran at
 * 145-194 (smp DeepLabV3+ at 512: 449 -> 361 ms, --profile, alternating);
 * at 28x28 the kernel still won there (512->128: 140-166 against 103-120). */
#define PACKED_GEMM_MIN_PIXELS 1024
/* From this many pixels a sum of at most PACKED_GEMM_SHORT_K channels
 * takes the GEMM too (in 8 x 32 tiles, gemm_pocl.c): the kernel's epilogue,
 * which turns each tile's pixel rows into channel rows, weighs more
 * against a short sum. At 28x28 and 24x24 alone (bench_conv, best of 40,
 * three rounds) 128, 192 and 256 channels to 256 or 512 took 0.91-0.97 of
 * the kernel's time; 512 channels still did better in the kernel. In the
 * models (bench_ab, both orders): ResNet-50's 1x1 128 -> 512 +residual
 * @28x28 0.93-0.94 in three runs of four (1.05 in one), ConvNeXt-T
 * UperNet's lateral 192 -> 256 @28x28 0.95-0.97. */
#define PACKED_GEMM_SHORT_MIN_PIXELS 576
#define PACKED_GEMM_SHORT_K 256

static terracl_status shape_error(const char *op, const char *what, const struct tc_tensor *x,
                                  const struct tc_tensor *w, const struct tc_tensor *y,
                                  terracl_error *err)
{
    char s1[128], s2[128], s3[128];
    return tc_fail(err, TERRACL_ERR_SHAPE, "%s: %s (input %s, weight %s, output %s)", op, what,
                   tc_shape_str(x->ndim, x->dims, s1, sizeof s1),
                   tc_shape_str(w->ndim, w->dims, s2, sizeof s2),
                   tc_shape_str(y->ndim, y->dims, s3, sizeof s3));
}

/* + bias per row of the m x n block c (bias may be NULL), then ReLU. */
static terracl_status row_bias_pass(terracl_runtime *rt, size_t m, size_t n, struct tc_matrix c,
                                    const struct tc_tensor *bias, int relu, terracl_error *err)
{
    terracl_status st;
    struct tc_karg ob = TC_KUINT(0);
    if (bias && (st = tc_offset_arg(bias, &ob, err)))
        return st;
    struct tc_karg args[] = {TC_KBUF(c.buf), TC_KUINT(c.offset), TC_KUINT(c.ld),
                             TC_KUINT(m),    TC_KUINT(n),        TC_KBUF(bias ? bias->buf : c.buf),
                             ob,             TC_KINT(bias != NULL), TC_KINT(relu != 0)};
    return tc_launch_2d(rt, "conv", "tc_row_bias", n, m, args, 9, err);
}

/*
 * c = a op(b) (+ bias per row of c, then ReLU): the GEMM of a convolution,
 * with its epilogue inside the GEMM kernel where the device's GEMM has one
 * and as a pass over the block of c otherwise.
 */
static terracl_status conv_gemm(terracl_runtime *rt, int trans_b, size_t m, size_t n, size_t k,
                                struct tc_matrix a, struct tc_matrix b, struct tc_matrix c,
                                const struct tc_tensor *bias, int relu, terracl_error *err)
{
    int done = 0;
    terracl_status st;
    if (bias != NULL) {
        struct tc_gemm_epilogue ep = {
            .bias = bias->buf, .bias_offset = bias->offset, .per_row = 1, .relu = relu != 0};
        st = tc_sgemm_ex(rt, 0, trans_b, m, n, k, 1.0f, a, b, 0.0f, c, &ep, &done, err);
    } else {
        st = tc_sgemm(rt, 0, trans_b, m, n, k, 1.0f, a, b, 0.0f, c, err);
        done = !relu;
    }
    if (st != TERRACL_OK || done)
        return st;
    return row_bias_pass(rt, m, n, c, bias, relu, err);
}

/* The 1x1 convolution without stride or padding of batch item `bi` as
 * y_b = W x_b (+ y_b with accumulate) with W packed, bias and ReLU in the
 * GEMM's epilogue. */
static terracl_status conv1x1_packed(terracl_runtime *rt, const struct tc_tensor *x,
                                     const struct tc_tensor *w, const struct tc_tensor *bias,
                                     int relu, int accumulate, struct tc_tensor *y, int64_t bi,
                                     terracl_error *err)
{
    size_t Cout = (size_t)w->dims[0], Cin = (size_t)x->dims[1];
    size_t P = (size_t)(x->dims[2] * x->dims[3]);
    struct tc_matrix c = {y->buf, y->offset + (size_t)bi * Cout * P, P};
    struct tc_gemm_epilogue ep = {.bias = bias ? bias->buf : NULL,
                                  .bias_offset = bias ? bias->offset : 0,
                                  .per_row = 1,
                                  .relu = relu != 0,
                                  .accumulate = accumulate != 0};
    terracl_status st = tc_sgemm_packed_a(rt, Cout, P, Cin, w->buf, w->offset,
                                          (struct tc_matrix){x->buf, x->offset + (size_t)bi * Cin * P, P},
                                          c, bias || accumulate ? &ep : NULL, err);
    if (st != TERRACL_OK || bias != NULL || !relu)
        return st;
    return row_bias_pass(rt, Cout, P, c, NULL, relu, err);
}

int tc_conv2d_weight_packable(int64_t out, int64_t in, int64_t kh, int64_t kw,
                              const struct tc_conv_geom *g)
{
    /* The packed kernel compiles kernel size, stride and dilation in. */
    return out > 0 && out % 64 == 0 && in > 0 && kh >= 1 && kh <= 15 && kw >= 1 && kw <= 15 &&
           g->stride_h <= 64 && g->stride_w <= 64 && g->dil_h <= 64 && g->dil_w <= 64;
}

static int fits_int(int64_t v) { return v >= 0 && v <= INT32_MAX; }

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

/* Column band of the CPU path: about this many floats (4 MiB) so that it
 * stays in the last-level cache next to the weight while the GEMM reads it
 * again for every tile of output channels. */
#define CONV_BAND_FLOATS ((size_t)1 << 20)

/*
 * Conv2d on CPU devices, band by band of output pixels: cols [band, K]
 * (K = Cin kh kw, one row per pixel, K-contiguous like the weight) and
 * then y[:, band] = W cols^T, the GEMM whose operands both run along K
 * (tc_sgemm_nt), written straight into the band's columns of y. The
 * caller has checked the shapes and the 32-bit input range.
 */
static terracl_status conv2d_cpu(terracl_runtime *rt, const struct tc_tensor *x,
                                 const struct tc_tensor *w, const struct tc_tensor *b,
                                 const struct tc_conv_geom *g, int relu, struct tc_tensor *y,
                                 terracl_error *err)
{
    int64_t B = x->dims[0], Cin = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t Cout = w->dims[0], kh = w->dims[2], kw = w->dims[3], Wo = y->dims[3];
    size_t K = (size_t)(Cin * kh * kw), P = (size_t)(y->dims[2] * Wo), in_px = (size_t)(H * W);
    size_t ld = round_up(K > 0 ? K : 1, 16); /* rows start on 64-byte boundaries */
    size_t band = CONV_BAND_FLOATS / ld;
    band = band >= 64 ? band / 64 * 64 : band >= 8 ? band / 8 * 8 : 8;
    if (band > P)
        band = P;
    terracl_status st = TERRACL_OK;
    size_t cn;
    if (tc_mul_overflow(band, ld, &cn) || (st = tc_check_u32(cn, "conv2d columns", err)) ||
        (st = tc_check_u32(P, "conv2d pixels", err)))
        return st ? st : tc_fail(err, TERRACL_ERR_OVERFLOW, "conv2d: column band too large");
    struct tc_tensor cols = {0};
    int64_t cdims[2] = {(int64_t)band, (int64_t)ld};
    if ((st = tc_tensor_alloc(rt, 2, cdims, &cols, err)))
        return st;
    for (int64_t bi = 0; bi < B && st == TERRACL_OK; bi++) {
        size_t xo = x->offset + (size_t)bi * (size_t)Cin * in_px;
        size_t yo = y->offset + (size_t)bi * (size_t)Cout * P;
        for (size_t p0 = 0; p0 < P && st == TERRACL_OK; p0 += band) {
            size_t nb = P - p0 < band ? P - p0 : band;
            struct tc_karg args[] = {TC_KBUF(x->buf),     TC_KUINT(xo),     TC_KBUF(cols.buf),
                                     TC_KUINT(ld),        TC_KUINT(Cin),    TC_KUINT(nb),
                                     TC_KUINT(p0),        TC_KUINT(H),      TC_KUINT(W),
                                     TC_KUINT(kh),        TC_KUINT(kw),     TC_KUINT(Wo),
                                     TC_KINT(g->stride_h), TC_KINT(g->stride_w),
                                     TC_KINT(g->pad_h),   TC_KINT(g->pad_w), TC_KINT(g->dil_h),
                                     TC_KINT(g->dil_w)};
            size_t out_rows = (p0 + nb - 1) / (size_t)Wo - p0 / (size_t)Wo + 1;
            st = tc_launch_2d(rt, "conv", "tc_im2col_rows", (size_t)Cin, out_rows, args, 18, err);
            if (st == TERRACL_OK)
                st = conv_gemm(rt, 1, (size_t)Cout, nb, K,
                               (struct tc_matrix){w->buf, w->offset, K},
                               (struct tc_matrix){cols.buf, 0, ld},
                               (struct tc_matrix){y->buf, yo + p0, P}, b, relu, err);
        }
    }
    tc_tensor_free(&cols);
    return st;
}

void tc_conv_profile_begin(terracl_runtime *rt, const char *op, const struct tc_tensor *x,
                           int64_t cin, int64_t cout, int64_t kh, int64_t kw,
                           const struct tc_conv_geom *g, uint64_t flops)
{
    if (!tc_profile_active(rt))
        return;
    char shape[96];
    size_t n = 0;
#define SHAPE_APPEND(...)                                                                      \
    do {                                                                                       \
        int len_ = snprintf(shape + n, sizeof shape - n, __VA_ARGS__);                         \
        n = len_ < 0 || (size_t)len_ >= sizeof shape - n ? sizeof shape - 1 : n + (size_t)len_; \
    } while (0)
    SHAPE_APPEND("%lldx%lld %lld->%lld @%lldx%lld", (long long)kh, (long long)kw, (long long)cin,
                 (long long)cout, (long long)x->dims[2], (long long)x->dims[3]);
    if (g->stride_h != 1 || g->stride_w != 1)
        SHAPE_APPEND(g->stride_h == g->stride_w ? " s%lld" : " s%lldx%lld", (long long)g->stride_h,
                     (long long)g->stride_w);
    if (g->dil_h != 1 || g->dil_w != 1)
        SHAPE_APPEND(g->dil_h == g->dil_w ? " d%lld" : " d%lldx%lld", (long long)g->dil_h,
                     (long long)g->dil_w);
    if (x->dims[0] != 1)
        SHAPE_APPEND(" x%lld", (long long)x->dims[0]);
#undef SHAPE_APPEND
    tc_profile_op_begin(rt, op, shape, flops);
}

uint64_t tc_conv2d_flops(const struct tc_tensor *w, const struct tc_tensor *y)
{
    return 2ull * (uint64_t)y->dims[0] * (uint64_t)y->dims[1] * (uint64_t)y->dims[2] *
           (uint64_t)y->dims[3] * (uint64_t)w->dims[1] * (uint64_t)w->dims[2] *
           (uint64_t)w->dims[3];
}

static void conv2d_profile_begin(terracl_runtime *rt, const char *op, const struct tc_tensor *x,
                                 const struct tc_tensor *w, const struct tc_conv_geom *g,
                                 const struct tc_tensor *y)
{
    if (x->ndim == 4 && w->ndim == 4 && y->ndim == 4)
        tc_conv_profile_begin(rt, op, x, w->dims[1], w->dims[0], w->dims[2], w->dims[3], g,
                              tc_conv2d_flops(w, y));
    else /* the checks will refuse it; the scope still pairs with its end */
        tc_profile_op_begin(rt, op, "(not 4-D)", 0);
}

terracl_status tc_op_conv2d(terracl_runtime *rt, const struct tc_tensor *x,
                            const struct tc_tensor *w, const struct tc_tensor *b,
                            const struct tc_conv_geom *g, struct tc_tensor *y, terracl_error *err)
{
    return tc_op_conv2d_act(rt, x, w, b, g, 0, y, err);
}

/* y = act(conv(x) + b), with accumulate y = act(conv(x) + b + y). The
 * packed paths (CPUs) add y in their epilogues; `*fused` tells the caller
 * whether the accumulation happened (otherwise y was not touched). */
int tc_conv2d_output_dims(const struct tc_tensor *x, const struct tc_tensor *w,
                          const struct tc_conv_geom *g, int64_t dims[4])
{
    int64_t eff_h = g->dil_h * (w->dims[2] - 1) + 1, eff_w = g->dil_w * (w->dims[3] - 1) + 1;
    int64_t Hp = x->dims[2] + 2 * g->pad_h, Wp = x->dims[3] + 2 * g->pad_w;
    if (g->stride_h < 1 || g->stride_w < 1 || Hp < eff_h || Wp < eff_w)
        return 0;
    dims[0] = x->dims[0];
    dims[1] = w->dims[0];
    dims[2] = (Hp - eff_h) / g->stride_h + 1;
    dims[3] = (Wp - eff_w) / g->stride_w + 1;
    return 1;
}

terracl_status tc_conv2d_check(const struct tc_tensor *x, const struct tc_tensor *w,
                               const struct tc_tensor *b, const struct tc_conv_geom *g,
                               const struct tc_tensor *y, terracl_error *err)
{
    const char *op = "conv2d";
    if (x->ndim != 4 || w->ndim != 4 || y->ndim != 4)
        return shape_error(op, "expected 4-D tensors", x, w, y, err);
    int64_t B = x->dims[0], Cin = x->dims[1], Cout = w->dims[0];
    if (w->dims[1] != Cin)
        return shape_error(op, "input channels differ from the weight's", x, w, y, err);
    if (g->stride_h < 1 || g->stride_w < 1 || g->dil_h < 1 || g->dil_w < 1 || g->pad_h < 0 ||
        g->pad_w < 0 || !fits_int(g->stride_h) || !fits_int(g->stride_w) || !fits_int(g->pad_h) ||
        !fits_int(g->pad_w) || !fits_int(g->dil_h) || !fits_int(g->dil_w))
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "conv2d: stride and dilation must be >= 1 and padding >= 0");
    int64_t want[4];
    if (!tc_conv2d_output_dims(x, w, g, want))
        return shape_error(op, "the kernel is larger than the padded input", x, w, y, err);
    if (y->dims[0] != B || y->dims[1] != Cout || y->dims[2] != want[2] || y->dims[3] != want[3]) {
        char s[128];
        return tc_fail(err, TERRACL_ERR_SHAPE, "conv2d: output should be %s",
                       tc_shape_str(4, want, s, sizeof s));
    }
    if (b != NULL && tc_tensor_numel(b) != (size_t)Cout)
        return shape_error(op, "the bias does not match the output channels", x, w, y, err);
    return tc_check_u32(x->offset + tc_tensor_numel(x), "conv2d input", err);
}

static terracl_status conv2d_run(terracl_runtime *rt, const struct tc_tensor *x,
                                 const struct tc_tensor *w, const struct tc_tensor *b,
                                 const struct tc_conv_geom *g, int relu, int accumulate,
                                 int *fused, struct tc_tensor *y, terracl_error *err)
{
    terracl_status st = tc_conv2d_check(x, w, b, g, y, err);
    if (st != TERRACL_OK)
        return st;
    int64_t B = x->dims[0], Cin = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t Cout = w->dims[0], kh = w->dims[2], kw = w->dims[3];
    int64_t Ho = y->dims[2], Wo = y->dims[3];
    size_t K = (size_t)(Cin * kh * kw), P = (size_t)(Ho * Wo), in_px = (size_t)(H * W);
    int direct = kh == 1 && kw == 1 && g->stride_h == 1 && g->stride_w == 1 && g->pad_h == 0 &&
                 g->pad_w == 0;
    /* A packed weight (CPUs, 64-multiple output channels) takes the packed
     * convolution kernel, or for an unpadded 1x1 convolution on a large map
     * the NN GEMM with the packed weight as A.
     * Otherwise an unpadded 1x1 convolution is a plain GEMM, never the
     * implicit kernel: on CPUs, on maps of DIRECT_MIN_PIXELS or more the NN kernel
     * on the input as it is runs at about twice the implicit kernel's
     * speed; on smaller ones (ResNet's 7x7 last stage) the A B^T kernel on
     * the transposed input (conv2d_cpu's columns) runs 2-5x faster than
     * it, whose partial vectors of columns waste most of each tile
     * (resnet50 + smp Unet at 224, --profile, alternating runs). */
    const int winograd = w->has_derived && tc_conv2d_winograd_eligible(Cout, Cin, kh, kw, g);
    if (w->gemm_packed == TC_DERIVED_ONLY && !winograd)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "conv2d: the weight holds only a Winograd form, which this geometry "
                       "cannot use");
    if (accumulate) {
        *fused = w->gemm_packed != 0;
        if (!*fused)
            return TERRACL_OK;
    }
    if (w->gemm_packed && direct &&
        (P >= PACKED_GEMM_MIN_PIXELS ||
         (P >= PACKED_GEMM_SHORT_MIN_PIXELS && K <= PACKED_GEMM_SHORT_K))) {
        for (int64_t bi = 0; bi < B && st == TERRACL_OK; bi++)
            st = conv1x1_packed(rt, x, w, b, relu, accumulate, y, bi, err);
        return st;
    }
    if (winograd)
        return tc_conv2d_winograd(rt, x, w, b, g, relu, accumulate, y, err);
    if (w->gemm_packed)
        return tc_conv2d_packed(rt, x, w, b, g, relu, accumulate, y, err);
    if (tc_conv2d_narrow_wanted(rt, w, g))
        return tc_conv2d_narrow(rt, x, w, b, relu, y, err);
    if (!direct && tc_conv2d_implicit_wanted(rt, x, w, g))
        return tc_conv2d_implicit(rt, x, w, b, g, relu, y, err);
    if ((!direct || P < DIRECT_MIN_PIXELS) && tc_runtime_is_cpu(rt))
        return conv2d_cpu(rt, x, w, b, g, relu, y, err);
    struct tc_tensor cols = {0};
    if (!direct) {
        size_t cn;
        if (tc_mul_overflow(K, P, &cn) || (st = tc_check_u32(cn, "conv2d columns", err)))
            return st ? st : tc_fail(err, TERRACL_ERR_OVERFLOW, "conv2d: column matrix too large");
        int64_t cdims[2] = {(int64_t)K, (int64_t)P};
        if ((st = tc_tensor_alloc(rt, 2, cdims, &cols, err)))
            return st;
    }
    for (int64_t bi = 0; bi < B; bi++) {
        size_t xo = x->offset + (size_t)bi * (size_t)Cin * in_px;
        struct tc_matrix bm = {x->buf, xo, P};
        if (!direct) {
            struct tc_karg args[] = {TC_KBUF(x->buf),  TC_KUINT(xo),         TC_KBUF(cols.buf),
                                     TC_KUINT(0),      TC_KUINT(H),          TC_KUINT(W),
                                     TC_KUINT(kh),     TC_KUINT(kw),         TC_KUINT(Ho),
                                     TC_KUINT(Wo),     TC_KUINT(K),          TC_KINT(g->stride_h),
                                     TC_KINT(g->stride_w), TC_KINT(g->pad_h), TC_KINT(g->pad_w),
                                     TC_KINT(g->dil_h), TC_KINT(g->dil_w)};
            st = tc_launch_2d(rt, "conv", "tc_im2col", P, K, args, 17, err);
            bm = (struct tc_matrix){cols.buf, 0, P};
        }
        if (st == TERRACL_OK)
            st = conv_gemm(rt, 0, (size_t)Cout, P, K, (struct tc_matrix){w->buf, w->offset, K}, bm,
                           (struct tc_matrix){y->buf, y->offset + (size_t)bi * (size_t)Cout * P, P},
                           b, relu, err);
        if (st != TERRACL_OK)
            break;
    }
    tc_tensor_free(&cols);
    return st;
}

terracl_status tc_op_conv2d_act(terracl_runtime *rt, const struct tc_tensor *x,
                                const struct tc_tensor *w, const struct tc_tensor *b,
                                const struct tc_conv_geom *g, int relu, struct tc_tensor *y,
                                terracl_error *err)
{
    conv2d_profile_begin(rt, "Conv2d", x, w, g, y);
    terracl_status st = conv2d_run(rt, x, w, b, g, relu, 0, NULL, y, err);
    tc_profile_op_end(rt);
    return st;
}

terracl_status tc_op_conv2d_accumulate(terracl_runtime *rt, const struct tc_tensor *x,
                                       const struct tc_tensor *w, const struct tc_tensor *b,
                                       const struct tc_conv_geom *g, int relu,
                                       struct tc_tensor *y, terracl_error *err)
{
    int fused = 0;
    conv2d_profile_begin(rt, "Conv2d +residual", x, w, g, y);
    terracl_status st = conv2d_run(rt, x, w, b, g, relu, 1, &fused, y, err);
    if (st == TERRACL_OK && !fused) {
        /* No kernel here adds y itself: convolve into scratch, then add. */
        struct tc_tensor t = {0};
        st = tc_tensor_alloc(rt, y->ndim, y->dims, &t, err);
        if (st == TERRACL_OK)
            st = conv2d_run(rt, x, w, b, g, 0, 0, NULL, &t, err);
        if (st == TERRACL_OK)
            st = relu ? tc_op_add_relu(rt, &t, y, y, err) : tc_op_add(rt, y, &t, y, err);
        tc_tensor_free(&t);
    }
    tc_profile_op_end(rt);
    return st;
}

static terracl_status conv_transpose2d_run(terracl_runtime *rt, const struct tc_tensor *x,
                                           const struct tc_tensor *w, const struct tc_tensor *b,
                                           int64_t stride, int64_t pad, int64_t output_padding,
                                           struct tc_tensor *y, terracl_error *err)
{
    const char *op = "conv_transpose2d";
    if (x->ndim != 4 || w->ndim != 4 || y->ndim != 4)
        return shape_error(op, "expected 4-D tensors", x, w, y, err);
    int64_t B = x->dims[0], Cin = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t Cout = w->dims[1], k = w->dims[2];
    if (w->dims[0] != Cin)
        return shape_error(op, "input channels differ from the weight's", x, w, y, err);
    if (w->dims[3] != k)
        return shape_error(op, "only square kernels are supported", x, w, y, err);
    if (stride < 1 || pad < 0 || output_padding < 0 || output_padding >= stride ||
        !fits_int(stride) || !fits_int(pad) || !fits_int(k))
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "conv_transpose2d: stride %lld must be >= 1, padding %lld >= 0 and "
                       "output_padding %lld below the stride",
                       (long long)stride, (long long)pad, (long long)output_padding);
    int64_t Ho = (H - 1) * stride - 2 * pad + k + output_padding;
    int64_t Wo = (W - 1) * stride - 2 * pad + k + output_padding;
    if (Ho < 1 || Wo < 1)
        return shape_error(op, "the padding leaves no output", x, w, y, err);
    if (y->dims[0] != B || y->dims[1] != Cout || y->dims[2] != Ho || y->dims[3] != Wo) {
        char s[128];
        int64_t want[4] = {B, Cout, Ho, Wo};
        return tc_fail(err, TERRACL_ERR_SHAPE, "conv_transpose2d: output should be %s",
                       tc_shape_str(4, want, s, sizeof s));
    }
    if (b != NULL && tc_tensor_numel(b) != (size_t)Cout)
        return shape_error(op, "the bias does not match the output channels", x, w, y, err);
    if (tc_conv_transpose2d_direct_wanted(rt, x, w, stride, pad, output_padding))
        return tc_conv_transpose2d_direct(rt, x, w, b, y, err);
    if (w->gemm_packed)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "conv_transpose2d: a packed weight needs kernel = stride, no padding and "
                       "sizes within the direct kernel's 32-bit range");
    size_t M = (size_t)(Cout * k * k), P = (size_t)(H * W), out_px = (size_t)(Ho * Wo);
    size_t cn;
    terracl_status st = TERRACL_OK;
    if (tc_mul_overflow(M, P, &cn))
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "conv_transpose2d: column matrix too large");
    struct tc_karg ob = TC_KUINT(0);
    if ((st = tc_check_u32(cn, "conv_transpose2d columns", err)) ||
        (st = tc_check_u32(y->offset + tc_tensor_numel(y), "conv_transpose2d output", err)) ||
        (b && (st = tc_offset_arg(b, &ob, err))))
        return st;
    const int pixel_major = tc_runtime_is_cpu(rt);
    struct tc_tensor cols = {0};
    int64_t cdims[2] = {(int64_t)M, (int64_t)P};
    if ((st = tc_tensor_alloc(rt, 2, cdims, &cols, err)))
        return st;
    for (int64_t bi = 0; bi < B && st == TERRACL_OK; bi++) {
        size_t xo = x->offset + (size_t)bi * (size_t)Cin * P;
        size_t yo = y->offset + (size_t)bi * (size_t)Cout * out_px;
        /* cols [Cout k k, H W] = W^T [Cout k k, Cin] x_b [Cin, H W]; on CPUs
         * its transpose x_b^T W, whose long side (Cout k k) runs along the
         * NN kernel's wide column tiles. */
        if (pixel_major)
            st = tc_sgemm(rt, 1, 0, P, M, (size_t)Cin, 1.0f, (struct tc_matrix){x->buf, xo, P},
                          (struct tc_matrix){w->buf, w->offset, M}, 0.0f,
                          (struct tc_matrix){cols.buf, 0, M}, err);
        else
            st = tc_sgemm(rt, 1, 0, M, P, (size_t)Cin, 1.0f,
                          (struct tc_matrix){w->buf, w->offset, M},
                          (struct tc_matrix){x->buf, xo, P}, 0.0f,
                          (struct tc_matrix){cols.buf, 0, P}, err);
        if (st != TERRACL_OK)
            break;
        struct tc_karg args[] = {TC_KBUF(cols.buf), TC_KUINT(0),     TC_KBUF(y->buf),
                                 TC_KUINT(yo),      TC_KBUF(b ? b->buf : cols.buf), ob,
                                 TC_KINT(b != NULL), TC_KUINT(H),    TC_KUINT(W),
                                 TC_KUINT(Ho),      TC_KUINT(Wo),    TC_KUINT(Cout),
                                 TC_KINT(k),        TC_KINT(stride), TC_KINT(pad),
                                 TC_KINT(pixel_major)};
        st = tc_launch_2d(rt, "conv", "tc_col2im_transpose", out_px, (size_t)Cout, args, 16, err);
    }
    tc_tensor_free(&cols);
    return st;
}

terracl_status tc_op_conv_transpose2d(terracl_runtime *rt, const struct tc_tensor *x,
                                      const struct tc_tensor *w, const struct tc_tensor *b,
                                      int64_t stride, int64_t pad, int64_t output_padding,
                                      struct tc_tensor *y, terracl_error *err)
{
    if (x->ndim == 4 && w->ndim == 4) {
        /* Every input pixel meets every tap: 2 B Cin H W Cout kh kw. */
        const struct tc_conv_geom g = {stride, stride, pad, pad, 1, 1};
        uint64_t flops = 2ull * (uint64_t)x->dims[0] * (uint64_t)x->dims[1] *
                         (uint64_t)x->dims[2] * (uint64_t)x->dims[3] * (uint64_t)w->dims[1] *
                         (uint64_t)w->dims[2] * (uint64_t)w->dims[3];
        tc_conv_profile_begin(rt, "ConvTranspose2d", x, w->dims[0], w->dims[1], w->dims[2],
                              w->dims[3], &g, flops);
    } else {
        tc_profile_op_begin(rt, "ConvTranspose2d", "(not 4-D)", 0);
    }
    terracl_status st =
        conv_transpose2d_run(rt, x, w, b, stride, pad, output_padding, y, err);
    tc_profile_op_end(rt);
    return st;
}

terracl_status tc_op_pixel_shuffle(terracl_runtime *rt, const struct tc_tensor *x, int64_t r,
                                   struct tc_tensor *y, terracl_error *err)
{
    char s1[128], s2[128];
    if (r < 1 || r > 4096)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "pixel_shuffle: factor %lld must be >= 1",
                       (long long)r);
    if (x->ndim != 4 || y->ndim != 4 || x->dims[1] % (r * r) != 0 || y->dims[0] != x->dims[0] ||
        y->dims[1] != x->dims[1] / (r * r) || y->dims[2] != x->dims[2] * r ||
        y->dims[3] != x->dims[3] * r)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "pixel_shuffle(%lld): input %s cannot become output %s", (long long)r,
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1),
                       tc_shape_str(y->ndim, y->dims, s2, sizeof s2));
    struct tc_karg ox, oy;
    terracl_status st;
    if ((st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(y, &oy, err)))
        return st;
    size_t n = tc_tensor_numel(y);
    struct tc_karg args[] = {TC_KBUF(x->buf),       ox, TC_KBUF(y->buf), oy,
                             TC_KUINT(y->dims[1]), TC_KUINT(x->dims[2]), TC_KUINT(x->dims[3]),
                             TC_KUINT(r),           TC_KUINT(n)};
    return tc_launch_1d(rt, "conv", "tc_pixel_shuffle", n, args, 9, err);
}

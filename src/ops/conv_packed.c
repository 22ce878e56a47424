/*
 * Conv2d with a packed weight on CPU devices: copy the input once
 * channels-last with its zero padding, then one pixel-major implicit-GEMM
 * kernel per batch item reads each tile's pixels' windows straight from it
 * (cl_kernels/conv_packed.cl). Strides and dilations are only addresses
 * there, so every geometry takes the same kernel.
 */
#include "ops/conv_packed.h"

#include <limits.h>
#include <stdio.h>

#include "core/checked.h"
#include "ops/launch.h"
#include "runtime/gemm_params.h"

/* Tiles: 6 pixels x one 64-channel panel, as the packed Linear kernel;
 * an unstrided, unpadded 1x1 convolution, whose tiles are runs of
 * consecutive pixels with one address, takes the Linear kernel's choice of
 * 7 or 4 where that computes 5% fewer rows (tc_packed_row_tile). On the
 * 7x7 maps of ResNet-50's layer4 at 224 (49 pixels: 7 tiles of 7 against 9
 * of 6; bench_ab, two rounds of 10 runs, alternating in one process)
 * 2048 -> 512 took 0.89-0.95 of the 6-row time and 512 -> 2048
 * 0.90-0.95; with an address per pixel, 7 rows took 1.11-1.18x. */
#define PMR 6
#define PACK_W 64
#define PPANEL 1
/* Up to this many input channels (a stem's bands) the kernel is built for
 * the exact count (CONV_CIN in cl_kernels/conv_packed.cl). */
#define SMALL_CIN 16

/* x [B, Cin, H, W], or with x_nhwc [B, H, W, Cin] (unpadded geometries
 * only: it is then the channels-last copy itself). */
static terracl_status packed_run(terracl_runtime *rt, const struct tc_tensor *x, int x_nhwc,
                                 const struct tc_tensor *w, const struct tc_tensor *b,
                                 const struct tc_conv_geom *g, int relu, int accumulate,
                                 struct tc_tensor *y, terracl_error *err)
{
    int64_t B = x->dims[0], Cin = x->dims[1], H = x->dims[2], W = x->dims[3];
    if (x_nhwc) {
        Cin = x->dims[3];
        H = x->dims[1];
        W = x->dims[2];
    }
    int64_t Cout = w->dims[0], kh = w->dims[2], kw = w->dims[3];
    int64_t Ho = y->dims[2], Wo = y->dims[3];
    int64_t Hp = H + 2 * g->pad_h, Wp = W + 2 * g->pad_w;
    if (Cout % PACK_W != 0 || !w->gemm_packed ||
        (w->gemm_packed != TC_PACKED_TAPS && !(kh == 1 && kw == 1)))
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "conv2d: a packed convolution needs a taps-major packed weight with a "
                       "multiple of 64 output channels (got %lld)", (long long)Cout);
    /* Every index of the kernel in 32 bits: the padded planes, the
     * weight, one output map. */
    if (Cin * Hp * Wp >= INT_MAX / 2 || Cout * Cin * kh * kw >= INT_MAX / 2 ||
        Cout * Ho * Wo >= INT_MAX / 2 || kh > 15 || kw > 15 || g->stride_h > 64 ||
        g->stride_w > 64 || g->dil_h > 64 || g->dil_w > 64 || g->dil_h * kh > INT_MAX / Wp)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "conv2d: sizes beyond the packed kernel's range");
    /* An unpadded 1x1 convolution reads x as it is (CONV_PLANAR): on
     * ResNet-50's 14x14 1x1 shapes (bench_conv, best of 15) the copy made
     * it 20-40% slower. Unstrided, its tiles are runs of pixels. */
    const int planar = !x_nhwc && kh == 1 && kw == 1 && g->pad_h == 0 && g->pad_w == 0;
    if (x_nhwc && (g->pad_h != 0 || g->pad_w != 0))
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "conv2d: a channels-last input takes only unpadded geometries");
    const int run = planar && g->stride_h == 1 && g->stride_w == 1;
    size_t P = (size_t)(Ho * Wo), mr = run ? tc_packed_row_tile(P) : PMR;
    size_t tiles_m = (P + mr - 1) / mr, tiles_n = (size_t)Cout / PACK_W;
    size_t strips = (tiles_n + PPANEL - 1) / PPANEL;
    struct tc_karg ow = TC_KUINT(0), ob = TC_KUINT(0);
    terracl_status st;
    if ((st = tc_offset_arg(w, &ow, err)) || (b && (st = tc_offset_arg(b, &ob, err))) ||
        (st = tc_check_u32(x->offset + tc_tensor_numel(x), "conv2d input", err)) ||
        (st = tc_check_u32(y->offset + tc_tensor_numel(y), "conv2d output", err)))
        return st;
    struct tc_tensor xp = {0};
    int64_t pd[1] = {Hp * Wp * Cin};
    const int copy = !planar && !x_nhwc;
    if (copy && (st = tc_tensor_alloc(rt, 1, pd, &xp, err)))
        return st;
    char options[200], cin_fixed[32] = "";
    if (Cin <= SMALL_CIN)
        snprintf(cin_fixed, sizeof cin_fixed, " -DCONV_CIN=%d", (int)Cin);
    snprintf(options, sizeof options,
             "-DCONV_MR=%d -DCONV_PANEL=%d -DCONV_KH=%d -DCONV_KW=%d -DCONV_SH=%d -DCONV_SW=%d "
             "-DCONV_DH=%d -DCONV_DW=%d -DCONV_PLANAR=%d -DCONV_ACCUMULATE=%d%s",
             (int)mr, PPANEL, (int)kh, (int)kw, (int)g->stride_h, (int)g->stride_w, (int)g->dil_h,
             (int)g->dil_w, planar, accumulate != 0, cin_fixed);
    struct tc_kernel *kern = NULL, *copier = NULL;
    if ((st = tc_kernel_get(rt, "conv_packed", "tc_conv2d_packed", options, &kern, err)) ==
        TERRACL_OK)
        st = tc_kernel_get(rt, "conv_packed", "tc_conv_channels_last", options, &copier, err);
    char tag[96];
    snprintf(tag, sizeof tag, "%lldx%lldx%lld k%lldx%lld s%lld", (long long)Cout, (long long)P,
             (long long)(Cin * kh * kw), (long long)kh, (long long)kw, (long long)g->stride_h);
    const size_t local[2] = {1, 1};
    for (int64_t bi = 0; bi < B && st == TERRACL_OK; bi++) {
        struct tc_karg ca[] = {TC_KBUF(x->buf), TC_KUINT(x->offset + (size_t)(bi * Cin * H * W)),
                               TC_KBUF(xp.buf), TC_KINT(Cin),
                               TC_KINT(H),      TC_KINT(W),
                               TC_KINT(Wp),     TC_KINT(g->pad_h),
                               TC_KINT(g->pad_w)};
        const size_t copy_global[2] = {(size_t)(Cin + 15) / 16, (size_t)Hp};
        if (copy &&
            (st = tc_kernel_launch_tagged(rt, copier, tag, 2, copy_global, local, ca, 9, err)))
            break;
        struct tc_karg args[] = {TC_KINT(Cout),
                                 TC_KINT(Cin),
                                 TC_KBUF(w->buf),
                                 ow,
                                 TC_KBUF(copy ? xp.buf : x->buf),
                                 TC_KUINT(copy ? 0 : x->offset + (size_t)(bi * Cin * H * W)),
                                 TC_KUINT(H * W),
                                 TC_KINT(Wp),
                                 TC_KBUF(y->buf),
                                 TC_KUINT(y->offset + (size_t)(bi * Cout) * P),
                                 TC_KINT(Ho),
                                 TC_KINT(Wo),
                                 TC_KINT(tiles_m),
                                 TC_KINT(tiles_n),
                                 TC_KBUF(b ? b->buf : w->buf),
                                 ob,
                                 TC_KINT(b != NULL),
                                 TC_KINT(relu != 0)};
        const size_t global[1] = {tiles_m * strips}, local1[1] = {1};
        tc_runtime_count_flops(rt, 2ull * (uint64_t)Cout * (uint64_t)P * (uint64_t)(Cin * kh * kw));
        st = tc_kernel_launch_tagged(rt, kern, tag, 1, global, local1, args, 18, err);
    }
    tc_tensor_free(&xp);
    return st;
}

terracl_status tc_conv2d_packed(terracl_runtime *rt, const struct tc_tensor *x,
                                const struct tc_tensor *w, const struct tc_tensor *b,
                                const struct tc_conv_geom *g, int relu, int accumulate,
                                struct tc_tensor *y, terracl_error *err)
{
    return packed_run(rt, x, 0, w, b, g, relu, accumulate, y, err);
}

int tc_conv2d_packed_channels_last_ok(const struct tc_tensor *w, const struct tc_conv_geom *g)
{
    return w->ndim == 4 && w->dims[0] % PACK_W == 0 &&
           (w->gemm_packed == TC_PACKED_TAPS ||
            (w->gemm_packed == TC_PACKED && w->dims[2] == 1 && w->dims[3] == 1)) &&
           g->pad_h == 0 && g->pad_w == 0;
}

terracl_status tc_conv2d_packed_channels_last(terracl_runtime *rt, const struct tc_tensor *x,
                                              const struct tc_tensor *w,
                                              const struct tc_tensor *b,
                                              const struct tc_conv_geom *g, struct tc_tensor *y,
                                              terracl_error *err)
{
    char s1[128], s2[128], s3[128];
    if (x->ndim != 4 || w->ndim != 4 || y->ndim != 4 || x->dims[3] != w->dims[1] ||
        y->dims[0] != x->dims[0] || y->dims[1] != w->dims[0])
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "conv2d: channels-last input %s, weight %s and output %s do not fit",
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1),
                       tc_shape_str(w->ndim, w->dims, s2, sizeof s2),
                       tc_shape_str(y->ndim, y->dims, s3, sizeof s3));
    if (!tc_conv2d_packed_channels_last_ok(w, g))
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "conv2d: a channels-last input needs an unpadded geometry and a packed "
                       "weight with a multiple of 64 output channels");
    int64_t kh = w->dims[2], kw = w->dims[3];
    if (g->stride_h < 1 || g->stride_w < 1 || g->dil_h < 1 || g->dil_w < 1 ||
        x->dims[1] < g->dil_h * (kh - 1) + 1 || x->dims[2] < g->dil_w * (kw - 1) + 1 ||
        y->dims[2] != (x->dims[1] - g->dil_h * (kh - 1) - 1) / g->stride_h + 1 ||
        y->dims[3] != (x->dims[2] - g->dil_w * (kw - 1) - 1) / g->stride_w + 1)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "conv2d: output %s does not match channels-last input %s and weight %s",
                       tc_shape_str(y->ndim, y->dims, s3, sizeof s3),
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1),
                       tc_shape_str(w->ndim, w->dims, s2, sizeof s2));
    return packed_run(rt, x, 1, w, b, g, 0, 0, y, err);
}

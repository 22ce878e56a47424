/*
 * Strided Conv2d on CPU devices without im2col: copy the input once with
 * its zero padding, split into its stride x stride phases (only those some
 * tap reads), then one implicit-GEMM kernel reads a contiguous run of one
 * phase plane per tap as a row of B and writes y with bias and ReLU
 * applied (cl_kernels/conv_phase.cl). The copy is about Cin (H + 2 ph)
 * (W + 2 pw) floats, against Cin kh kw Ho Wo for the column matrix.
 * Stride-1 convolutions take conv_implicit.c.
 */
#include "ops/conv_phase.h"

#include <limits.h>
#include <stdio.h>

#include "core/checked.h"
#include "ops/launch.h"
#include "runtime/gemm_params.h"

/* Tiles of conv_implicit.c's kernel: 4 output channels x 96 columns. */
#define CMR 4
#define CNV 6
#define CNR (16 * CNV)
#define CPANEL 1
#define CONV_OPTIONS "-DCONV_MR=4 -DCONV_NV=6 -DCONV_PANEL=1"

struct implicit_geom {
    int64_t py, px, Hq, Wq, plane, tmax;
};

static struct implicit_geom implicit_geom(const struct tc_tensor *x, const struct tc_tensor *w,
                                          const struct tc_conv_geom *g)
{
    struct implicit_geom q;
    int64_t kh = w->dims[2], kw = w->dims[3];
    int64_t eff_h = g->dil_h * (kh - 1) + 1, eff_w = g->dil_w * (kw - 1) + 1;
    int64_t Hp = x->dims[2] + 2 * g->pad_h, Wp = x->dims[3] + 2 * g->pad_w;
    q.py = g->stride_h < eff_h ? g->stride_h : eff_h;
    q.px = g->stride_w < eff_w ? g->stride_w : eff_w;
    q.Hq = (Hp + g->stride_h - 1) / g->stride_h;
    q.Wq = (Wp + g->stride_w - 1) / g->stride_w;
    q.plane = q.py * q.px * q.Hq * q.Wq;
    q.tmax = 0;
    for (int64_t ky = 0; ky < kh; ky++)
        for (int64_t kx = 0; kx < kw; kx++) {
            int64_t ry = ky * g->dil_h, rx = kx * g->dil_w;
            int64_t off = ((ry % g->stride_h) * q.px + rx % g->stride_w) * q.Hq * q.Wq +
                          ry / g->stride_h * q.Wq + rx / g->stride_w;
            if (off > q.tmax)
                q.tmax = off;
        }
    return q;
}

int tc_conv2d_phase_wanted(const terracl_runtime *rt, const struct tc_tensor *x,
                              const struct tc_tensor *w, const struct tc_conv_geom *g)
{
    int64_t kh = w->dims[2], kw = w->dims[3];
    /* Strides 2 to 4 (either way), kernels up to 7x7. */
    if (!tc_runtime_is_cpu(rt) || (g->stride_h == 1 && g->stride_w == 1) || kh < 1 || kh > 7 || kw < 1 || kw > 7 || g->stride_h > 4 ||
        g->stride_w > 4 || g->dil_h > 64 || g->dil_w > 64 || x->dims[2] > INT_MAX / 4 ||
        x->dims[3] > INT_MAX / 4 || g->pad_h > INT_MAX / 4 || g->pad_w > INT_MAX / 4)
        return 0;
    struct implicit_geom q = implicit_geom(x, w, g);
    int64_t Cin = x->dims[1], Cout = w->dims[0], lim = INT_MAX / 2;
    /* The phase-split input with a tile of slack, the weight and one output
     * plane all addressed with 32-bit ints (the sizes are below 2^31 each,
     * so the products below fit in 64 bits). */
    if (q.Hq * q.Wq >= lim / 16 || Cin >= lim || Cout >= lim)
        return 0;
    return (Cin + 1) * q.plane + 2 * CNR + q.tmax < lim && Cin * kh * kw < lim &&
           Cout * Cin * kh * kw < lim && Cout * q.Hq * q.Wq < lim;
}

terracl_status tc_conv2d_phase(terracl_runtime *rt, const struct tc_tensor *x,
                                  const struct tc_tensor *w, const struct tc_tensor *b,
                                  const struct tc_conv_geom *g, int relu, struct tc_tensor *y,
                                  terracl_error *err)
{
    int64_t B = x->dims[0], Cin = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t Cout = w->dims[0], kh = w->dims[2], kw = w->dims[3];
    int64_t Ho = y->dims[2], Wo = y->dims[3];
    const struct implicit_geom q = implicit_geom(x, w, g);
    size_t plane = (size_t)q.plane, ncols = (size_t)(Ho * q.Wq);
    size_t tiles_m = ((size_t)Cout + CMR - 1) / CMR, tiles_n = (ncols + CNR - 1) / CNR;
    size_t strips = (tiles_n + CPANEL - 1) / CPANEL;
    /* The last tile reads CNR columns past its start from the last
     * channel's furthest tap: slack after the planes, zero-filled. */
    size_t reach = (size_t)(Cin - 1) * plane + (size_t)q.tmax + tiles_n * CNR;
    size_t slack = (reach > (size_t)Cin * plane ? reach - (size_t)Cin * plane : 0) + 1;
    size_t padded = (size_t)Cin * plane + slack;
    terracl_status st;
    if (tiles_m * strips > INT_MAX)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "conv2d: too many tiles");
    struct tc_karg ow = TC_KUINT(0), ob = TC_KUINT(0);
    if ((st = tc_offset_arg(w, &ow, err)) || (b && (st = tc_offset_arg(b, &ob, err))) ||
        (st = tc_check_u32(y->offset + tc_tensor_numel(y), "conv2d output", err)))
        return st;
    /* Input channels per launch: the strip of xq one work-item reads for
     * them (CPANEL tiles of CNR columns in each phase, plus the rows the
     * taps reach) within the device's conv_block_kib (tuned, or 256 KiB),
     * so that it stays in L2 across the row tiles. */
    const size_t block_bytes = tc_runtime_native_params(rt)->conv_block_kib << 10;
    size_t reach_rows = (size_t)((kh - 1) * g->dil_h / g->stride_h * q.Wq +
                                 (kw - 1) * g->dil_w / g->stride_w);
    size_t per_channel = (size_t)(q.py * q.px) * (CPANEL * CNR + reach_rows) * sizeof(float);
    int64_t block = (int64_t)(block_bytes / per_channel);
    if (block < 16)
        block = 16;
    struct tc_tensor xq = {0};
    int64_t pd[1] = {(int64_t)padded};
    if ((st = tc_tensor_alloc(rt, 1, pd, &xq, err)))
        return st;
    char options[192];
    snprintf(options, sizeof options,
             CONV_OPTIONS " -DCONV_KH=%d -DCONV_KW=%d -DCONV_SH=%d -DCONV_SW=%d -DCONV_PY=%d "
                          "-DCONV_PX=%d",
             (int)kh, (int)kw, (int)g->stride_h, (int)g->stride_w, (int)q.py, (int)q.px);
    struct tc_kernel *kern = NULL, *pad_kern = NULL;
    st = tc_kernel_get(rt, "conv_phase", "tc_conv2d_phase", options, &kern, err);
    if (st == TERRACL_OK)
        st = tc_kernel_get(rt, "conv_phase", "tc_conv_phase_input", options, &pad_kern, err);
    for (int64_t bi = 0; bi < B && st == TERRACL_OK; bi++) {
        size_t xo = x->offset + (size_t)(bi * Cin * H * W);
        size_t yo = y->offset + (size_t)(bi * Cout * Ho * Wo);
        {
            struct tc_karg pa[] = {TC_KBUF(x->buf),    TC_KUINT(xo),       TC_KBUF(xq.buf),
                                   TC_KUINT(H),        TC_KUINT(W),        TC_KUINT(q.Hq),
                                   TC_KUINT(q.Wq),     TC_KUINT(g->pad_h), TC_KUINT(g->pad_w),
                                   TC_KUINT(Cin),      TC_KUINT(slack)};
            size_t local[1] = {tc_runtime_max_workgroup(rt) < 64 ? 1 : 64};
            size_t rows[1] = {(size_t)(Cin * q.py * q.px * q.Hq) + 1};
            rows[0] = (rows[0] + local[0] - 1) / local[0] * local[0];
            st = tc_kernel_launch(rt, pad_kern, 1, rows, local, pa, 11, err);
            if (st != TERRACL_OK)
                break;
        }
        tc_runtime_count_flops(rt, 2ull * (uint64_t)Cout * (uint64_t)(Ho * Wo) *
                                       (uint64_t)(Cin * kh * kw));
        for (int64_t c0 = 0; c0 < Cin && st == TERRACL_OK; c0 += block) {
            int64_t c1 = c0 + block < Cin ? c0 + block : Cin;
            struct tc_karg args[] = {TC_KINT(Cout),     TC_KINT(Cin),
                                     TC_KINT(c0),       TC_KINT(c1),
                                     TC_KBUF(w->buf),   ow,
                                     TC_KBUF(xq.buf),   TC_KUINT(0),
                                     TC_KUINT(plane),
                                     TC_KUINT(q.Hq * q.Wq), TC_KINT(q.Wq),
                                     TC_KINT(g->dil_h), TC_KINT(g->dil_w),
                                     TC_KBUF(y->buf),   TC_KUINT(yo),
                                     TC_KINT(Ho),       TC_KINT(Wo),
                                     TC_KINT(tiles_m),  TC_KINT(tiles_n),
                                     TC_KBUF(b ? b->buf : w->buf), ob,
                                     TC_KINT(b != NULL), TC_KINT(relu != 0),
                                     TC_KINT(c0 > 0),   TC_KINT(c1 == Cin)};
            /* Profiles name the launch by its GEMM shape, K counting only
             * this block's channels: 2 M N K flops per launch. */
            char tag[96];
            snprintf(tag, sizeof tag, "%lldx%lldx%lld k%lldx%lld s%lldx%lld", (long long)Cout,
                     (long long)(Ho * Wo), (long long)((c1 - c0) * kh * kw), (long long)kh,
                     (long long)kw, (long long)g->stride_h, (long long)g->stride_w);
            const size_t global[1] = {tiles_m * strips}, local[1] = {1};
            st = tc_kernel_launch_tagged(rt, kern, tag, 1, global, local, args, 25, err);
        }
    }
    tc_tensor_free(&xq);
    return st;
}


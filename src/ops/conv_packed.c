/*
 * Conv2d with a packed weight on CPU devices: copy the input once with its
 * zero padding (none needed without padding), then one pixel-major
 * implicit-GEMM kernel per batch item reads each tile's pixels' windows
 * straight from it (cl_kernels/conv_packed.cl). Strides and dilations are
 * only addresses there, so every geometry takes the same kernel.
 */
#include "ops/conv_packed.h"

#include <limits.h>
#include <stdio.h>

#include "core/checked.h"
#include "ops/launch.h"

/* Tiles: 6 pixels x one 64-channel panel, as the packed Linear kernel. */
#define PMR 6
#define PACK_W 64
#define PPANEL 1

terracl_status tc_conv2d_packed(terracl_runtime *rt, const struct tc_tensor *x,
                                const struct tc_tensor *w, const struct tc_tensor *b,
                                const struct tc_conv_geom *g, int relu, struct tc_tensor *y,
                                terracl_error *err)
{
    int64_t B = x->dims[0], Cin = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t Cout = w->dims[0], kh = w->dims[2], kw = w->dims[3];
    int64_t Ho = y->dims[2], Wo = y->dims[3];
    int64_t Hp = H + 2 * g->pad_h, Wp = W + 2 * g->pad_w;
    if (Cout % PACK_W != 0 || !w->gemm_packed)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "conv2d: a packed convolution needs a packed weight with a multiple of "
                       "64 output channels (got %lld)", (long long)Cout);
    /* Every index of the kernel in 32 bits: the padded planes, the
     * weight, one output map. */
    if (Cin * Hp * Wp >= INT_MAX / 2 || Cout * Cin * kh * kw >= INT_MAX / 2 ||
        Cout * Ho * Wo >= INT_MAX / 2 || kh > 15 || kw > 15 || g->stride_h > 64 ||
        g->stride_w > 64 || g->dil_h > 64 || g->dil_w > 64 || g->dil_h * kh > INT_MAX / Wp)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "conv2d: sizes beyond the packed kernel's range");
    size_t P = (size_t)(Ho * Wo), tiles_m = (P + PMR - 1) / PMR, tiles_n = (size_t)Cout / PACK_W;
    size_t strips = (tiles_n + PPANEL - 1) / PPANEL;
    struct tc_karg ow = TC_KUINT(0), ob = TC_KUINT(0);
    terracl_status st;
    if ((st = tc_offset_arg(w, &ow, err)) || (b && (st = tc_offset_arg(b, &ob, err))) ||
        (st = tc_check_u32(x->offset + tc_tensor_numel(x), "conv2d input", err)) ||
        (st = tc_check_u32(y->offset + tc_tensor_numel(y), "conv2d output", err)))
        return st;
    const int copy = g->pad_h > 0 || g->pad_w > 0;
    struct tc_tensor xp = {0};
    int64_t pd[1] = {Cin * Hp * Wp};
    if (copy && (st = tc_tensor_alloc(rt, 1, pd, &xp, err)))
        return st;
    char options[160];
    snprintf(options, sizeof options,
             "-DCONV_MR=%d -DCONV_PANEL=%d -DCONV_KH=%d -DCONV_KW=%d -DCONV_SH=%d -DCONV_SW=%d "
             "-DCONV_DH=%d -DCONV_DW=%d",
             PMR, PPANEL, (int)kh, (int)kw, (int)g->stride_h, (int)g->stride_w, (int)g->dil_h,
             (int)g->dil_w);
    struct tc_kernel *kern = NULL;
    st = tc_kernel_get(rt, "conv_packed", "tc_conv2d_packed", options, &kern, err);
    char tag[96];
    snprintf(tag, sizeof tag, "%lldx%lldx%lld k%lldx%lld s%lld", (long long)Cout, (long long)P,
             (long long)(Cin * kh * kw), (long long)kh, (long long)kw, (long long)g->stride_h);
    for (int64_t bi = 0; bi < B && st == TERRACL_OK; bi++) {
        size_t xo = x->offset + (size_t)(bi * Cin * H * W);
        size_t yo = y->offset + (size_t)(bi * Cout) * P;
        if (copy) {
            struct tc_karg pa[] = {TC_KBUF(x->buf), TC_KUINT(xo),         TC_KBUF(xp.buf),
                                   TC_KUINT(H),     TC_KUINT(W),          TC_KUINT(Hp),
                                   TC_KUINT(Wp),    TC_KUINT(g->pad_h),   TC_KUINT(g->pad_w),
                                   TC_KUINT(Cin),   TC_KUINT(0)};
            st = tc_launch_1d(rt, "conv_implicit", "tc_conv_pad_input", (size_t)(Cin * Hp) + 1,
                              pa, 11, err);
            if (st != TERRACL_OK)
                break;
        }
        struct tc_karg args[] = {TC_KINT(Cout),
                                 TC_KINT(Cin),
                                 TC_KBUF(w->buf),
                                 ow,
                                 TC_KBUF(copy ? xp.buf : x->buf),
                                 TC_KUINT(copy ? 0 : xo),
                                 TC_KUINT(Hp * Wp),
                                 TC_KINT(Wp),
                                 TC_KBUF(y->buf),
                                 TC_KUINT(yo),
                                 TC_KINT(Ho),
                                 TC_KINT(Wo),
                                 TC_KINT(tiles_m),
                                 TC_KINT(tiles_n),
                                 TC_KBUF(b ? b->buf : w->buf),
                                 ob,
                                 TC_KINT(b != NULL),
                                 TC_KINT(relu != 0)};
        const size_t global[1] = {tiles_m * strips}, local[1] = {1};
        tc_runtime_count_flops(rt, 2ull * (uint64_t)Cout * (uint64_t)P * (uint64_t)(Cin * kh * kw));
        st = tc_kernel_launch_tagged(rt, kern, tag, 1, global, local, args, 18, err);
    }
    tc_tensor_free(&xp);
    return st;
}

/*
 * Winograd F(m x m, 3x3) convolution on CPU devices, m = 2 or 4: the input
 * transform writes V [a^2][T][Cin] (a = m + 2) for the T tiles of m x m
 * output pixels, one batched packed GEMM per element makes
 * M [a^2][T][Cout] = V_e U_e^T, and the output transform folds M back into
 * y with bias and ReLU (cl_kernels/conv_winograd.cl); dilated kernels tile
 * each phase of the output on its own. Scratch: a^2 T (Cin + Cout) floats
 * per batch item (and on maps whose channel planes are 4 KiB-aligned the
 * input transposed channels-last), allocated per call like the other
 * convolution paths'.
 */
#include "ops/conv_winograd.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/checked.h"
#include "ops/launch.h"
#include "ops/layout.h"

int tc_conv2d_winograd_tile(int64_t out, int64_t in)
{
    /* F(4x4) does a quarter of the direct arithmetic (F(2x2): 4/9) and
     * writes 2.25 floats of V per input float (F(2x2): 4), but its weights
     * are 4x the plain ones (F(2x2): 16/9): it is for the narrower layers,
     * which in ResNets and UNets run on the larger maps. With F(2x2) alone
     * 64 output channels did not pay: resnet50 + smp Unet at 224,
     * --profile, 64 -> 64 at 56x56 6.1 ms against 4.9-6.2 for the packed
     * kernel. UperNet's 256-channel FPN and fuse convolutions (up to
     * 1024 -> 256 at 56x56) run F(4x4) too: ConvNeXt-T + UperNet 150 ->
     * 125 ms at 224, 820 -> 690 at 512; on 14x14 maps (ResNet-50's
     * layer3, 16 tiles a GEMM) the two were even. ResNet-50's 512 -> 512
     * (layer4; dilated 2 in DeepLab) runs F(4x4) too, its weights 38 MB
     * against 17: --profile, three runs each, alternating: smp DeepLabV3+
     * at 512, 32x32 maps, 43.5-44.8 -> 27.3-29.1 ms in all, at 224
     * (14x14) 10.8-11.0 -> 7.1-8.8; ResNet-50 UNets at 512 (16x16)
     * 6.3-7.1 -> 4.8-5.7; at 224 (7x7, 4 tiles a GEMM) 2.2-2.5 -> 2.4-2.9,
     * the one loss. Wider layers keep F(2x2): F(4x4)'s weights of 3072 ->
     * 256 would be 113 MB. */
    if (out % 64 != 0 || in < 16)
        return 0;
    if ((out <= 256 && in <= 1024) || (out <= 512 && in <= 512))
        return 4;
    return out >= 128 ? 2 : 0;
}

/* Elements of the transformed tile: (m + 2)^2. */
static int64_t wino_elems(int m)
{
    return (int64_t)(m + 2) * (m + 2);
}

int tc_conv2d_winograd_eligible(int64_t out, int64_t in, int64_t kh, int64_t kw,
                                const struct tc_conv_geom *g)
{
    int m = tc_conv2d_winograd_tile(out, in);
    return m != 0 && kh == 3 && kw == 3 && g->stride_h == 1 && g->stride_w == 1 &&
           g->dil_h >= 1 && g->dil_h <= 64 && g->dil_w >= 1 && g->dil_w <= 64 &&
           out <= INT_MAX / wino_elems(m) / in;
}

/* Tiles of m pixels along an output dimension of n pixels at dilation d:
 * the bases b < n with b mod md < d (cl_kernels/conv_winograd.cl), n / m
 * rounded up when d = 1. */
static int64_t wino_tiles(int64_t n, int64_t d, int m)
{
    int64_t rest = n % (m * d);
    return n / (m * d) * d + (rest < d ? rest : d);
}

size_t tc_conv2d_winograd_numel(int64_t out, int64_t in)
{
    return (size_t)wino_elems(tc_conv2d_winograd_tile(out, in)) * (size_t)out * (size_t)in;
}

int tc_conv2d_winograd_derive(const struct tc_param *p, const float *plain, float *out)
{
    static const double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    static const double G4[6][3] = {{1.0 / 4, 0, 0},
                                    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                    {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                    {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                    {0, 0, 1}};
    const size_t n = (size_t)p->dims[0], k = (size_t)p->dims[1];
    const int m = tc_conv2d_winograd_tile(p->dims[0], p->dims[1]), a = m + 2;
    const double(*G)[3] = m == 4 ? G4 : G2;
    float *u = malloc(n * k * sizeof *u);
    if (u == NULL || m == 0) {
        free(u);
        return -1;
    }
    for (int e = 0; e < a * a; e++) {
        const int i = e / a, j = e % a;
        for (size_t co = 0; co < n; co++)
            for (size_t ci = 0; ci < k; ci++) {
                const float *g = plain + (co * k + ci) * 9;
                double s = 0.0;
                for (int r = 0; r < 3; r++)
                    for (int c = 0; c < 3; c++)
                        s += G[i][r] * (double)g[r * 3 + c] * G[j][c];
                u[co * k + ci] = (float)s;
            }
        tc_gemm_pack_weight(u, n, k, out + (size_t)e * n * k);
    }
    free(u);
    return 0;
}

/* The convolution of the input whose channels are up resized (nearest) to
 * x's size followed by x's, or of x alone when up is NULL. */
static terracl_status wino_run(terracl_runtime *rt, const struct tc_tensor *up,
                               const struct tc_tensor *x, const struct tc_tensor *w,
                               const struct tc_tensor *b, const struct tc_conv_geom *g, int relu,
                               int accumulate, struct tc_tensor *y, terracl_error *err)
{
    int64_t B = x->dims[0], H = x->dims[2], W = x->dims[3];
    int64_t C0 = up ? up->dims[1] : x->dims[1], Cin = up ? C0 + x->dims[1] : C0;
    int64_t H0 = up ? up->dims[2] : H, W0 = up ? up->dims[3] : W;
    int64_t Cout = w->dims[0], Ho = y->dims[2], Wo = y->dims[3];
    const struct tc_tensor *first = up ? up : x;
    const int m = tc_conv2d_winograd_tile(Cout, Cin);
    const int64_t elems = wino_elems(m);
    int64_t tiles_x = wino_tiles(Wo, g->dil_w, m), tiles_y = wino_tiles(Ho, g->dil_h, m);
    int64_t T = tiles_y * tiles_x;
    if (!w->has_derived || m == 0)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "conv2d: the weight has no Winograd form");
    if (T * elems * (Cin > Cout ? Cin : Cout) >= INT_MAX / 2 || H * W * Cin >= INT_MAX / 2 ||
        H0 * W0 * C0 >= INT_MAX / 2 || Ho * Wo * Cout >= INT_MAX / 2)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "conv2d: sizes beyond the Winograd kernels' range");
    struct tc_karg ob = TC_KUINT(0);
    terracl_status st;
    if ((b && (st = tc_offset_arg(b, &ob, err))) ||
        (st = tc_check_u32(x->offset + tc_tensor_numel(x), "conv2d input", err)) ||
        (st = tc_check_u32(first->offset + tc_tensor_numel(first), "conv2d input", err)) ||
        (st = tc_check_u32(y->offset + tc_tensor_numel(y), "conv2d output", err)) ||
        (st = tc_check_u32(w->derived_offset + tc_conv2d_winograd_numel(Cout, Cin),
                           "conv2d weight", err)))
        return st;
    struct tc_tensor v = {0}, mt = {0};
    int64_t vd[3] = {elems, T, Cin}, md[3] = {elems, T, Cout};
    if ((st = tc_tensor_alloc(rt, 3, vd, &v, err)) || (st = tc_tensor_alloc(rt, 3, md, &mt, err))) {
        tc_tensor_free(&v);
        return st;
    }
    /* Channel planes 4 KiB apart (tc_channel_planes_alias): the input is
     * first transposed channels-last and each pixel's channels are one
     * vector load. --profile, alternating: ConvNeXt-T + UperNet at 512,
     * transform and transposes 56-59 -> 45 ms a run; smp DeepLabV3+ at
     * 512 18.6-20.2 -> 15.2-15.8; Prithvi 300M + UperNet at 512 57 ->
     * 45-48. On 56x56 and smaller maps the transposes cost what the
     * transform gained (smp DeepLabV3+ at 224: 1.65 -> 1.73 ms). */
    const int cl = tc_channel_planes_alias((size_t)(H * W));
    struct tc_tensor xc = {0}, upc = {0};
    int64_t xcd[4] = {1, H, W, x->dims[1]}, upd[4] = {1, H0, W0, C0};
    if (cl && ((st = tc_tensor_alloc(rt, 4, xcd, &xc, err)) ||
               (up && (st = tc_tensor_alloc(rt, 4, upd, &upc, err))))) {
        tc_tensor_free(&xc);
        tc_tensor_free(&v);
        tc_tensor_free(&mt);
        return st;
    }
    /* Undilated windows on maps 16 or more pixels wide whose sources are
     * of the input's size or half of it (exact nearest doubling) load runs
     * of each channel's rows and transpose them in registers
     * (tc_wino_input_runs) instead of gathering each pixel's channels
     * across the planes. bench_ab, alternating in one process: ResNet-50
     * UNet at 224, the transforms of 28x28 and 56x56 maps 0.84-0.91 of the
     * time; ConvNeXt-T + UperNet at 224 0.84-0.94 (its 1024-channel fuse
     * input, 3.3 -> 3.1 ms, is bound by writing V). */
    const int same = !up || (H0 == H && W0 == W), doubled = up && H == 2 * H0 && W == 2 * W0;
    const int runs = !cl && g->dil_h == 1 && g->dil_w == 1 && W >= 16 && (same || doubled);
    struct tc_kernel *kin = NULL, *kout = NULL;
    char options[48], tag[96];
    snprintf(options, sizeof options, "-DWINO_M=%d -DWINO_CL=%d", m, cl);
    if ((st = tc_kernel_get(rt, "conv_winograd", runs ? "tc_wino_input_runs" : "tc_wino_input",
                            options, &kin, err)) == TERRACL_OK)
        st = tc_kernel_get(rt, "conv_winograd", "tc_wino_output", options, &kout, err);
    snprintf(tag, sizeof tag, "%lldx%lldx%lld F%d", (long long)Cout, (long long)(Ho * Wo),
             (long long)(Cin * 9), m);
    const size_t local[2] = {1, 1};
    for (int64_t bi = 0; bi < B && st == TERRACL_OK; bi++) {
        const size_t x_item = up ? (size_t)((Cin - C0) * H * W) : (size_t)(Cin * H * W);
        const struct tc_tensor *src0 = first, *src1 = x;
        size_t off0 = first->offset + (size_t)(bi * C0 * H0 * W0);
        size_t off1 = x->offset + (size_t)bi * x_item;
        if (cl) {
            static const int to_last[4] = {0, 2, 3, 1};
            struct tc_tensor item = *x;
            item.dims[0] = 1;
            item.offset = off1;
            st = tc_op_permute(rt, &item, to_last, &xc, err);
            if (st == TERRACL_OK && up) {
                item = *up;
                item.dims[0] = 1;
                item.offset = off0;
                st = tc_op_permute(rt, &item, to_last, &upc, err);
            }
            if (st != TERRACL_OK)
                break;
            src1 = &xc;
            src0 = up ? &upc : &xc;
            off0 = off1 = 0;
        }
        struct tc_karg in_args[] = {TC_KBUF(src0->buf),
                                    TC_KUINT(off0),
                                    TC_KBUF(src1->buf),
                                    TC_KUINT(off1),
                                    TC_KBUF(v.buf),
                                    TC_KINT(Cin),
                                    TC_KINT(C0),
                                    TC_KINT(H0),
                                    TC_KINT(W0),
                                    TC_KFLOAT((float)H0 / (float)H),
                                    TC_KFLOAT((float)W0 / (float)W),
                                    TC_KINT(H),
                                    TC_KINT(W),
                                    TC_KINT(g->pad_h),
                                    TC_KINT(g->pad_w),
                                    TC_KINT(g->dil_h),
                                    TC_KINT(g->dil_w),
                                    TC_KINT(tiles_x),
                                    TC_KINT(T)};
        const size_t in_global[2] = {(size_t)(Cin + 15) / 16, (size_t)tiles_y};
        st = tc_kernel_launch_tagged(rt, kin, tag, 2, in_global, local, in_args, 19, err);
        if (st == TERRACL_OK)
            st = tc_sgemm_packed_batched(rt, (size_t)T, (size_t)Cout, (size_t)Cin,
                                         (struct tc_matrix){v.buf, 0, (size_t)Cin},
                                         (size_t)(T * Cin), w->buf, w->derived_offset,
                                         (size_t)(Cout * Cin),
                                         (struct tc_matrix){mt.buf, 0, (size_t)Cout},
                                         (size_t)(T * Cout), (size_t)elems, err);
        if (st != TERRACL_OK)
            break;
        struct tc_karg out_args[] = {TC_KBUF(mt.buf),
                                     TC_KBUF(y->buf),
                                     TC_KUINT(y->offset + (size_t)(bi * Cout * Ho * Wo)),
                                     TC_KINT(Cout),
                                     TC_KINT(Ho),
                                     TC_KINT(Wo),
                                     TC_KINT(g->dil_h),
                                     TC_KINT(g->dil_w),
                                     TC_KINT(tiles_x),
                                     TC_KINT(T),
                                     TC_KBUF(b ? b->buf : w->buf),
                                     ob,
                                     TC_KINT(b != NULL),
                                     TC_KINT(relu != 0),
                                     TC_KINT(accumulate != 0)};
        const size_t out_global[2] = {(size_t)Cout / 16, (size_t)tiles_y};
        st = tc_kernel_launch_tagged(rt, kout, tag, 2, out_global, local, out_args, 15, err);
    }
    tc_tensor_free(&xc);
    tc_tensor_free(&upc);
    tc_tensor_free(&v);
    tc_tensor_free(&mt);
    return st;
}

terracl_status tc_conv2d_winograd(terracl_runtime *rt, const struct tc_tensor *x,
                                  const struct tc_tensor *w, const struct tc_tensor *b,
                                  const struct tc_conv_geom *g, int relu, int accumulate,
                                  struct tc_tensor *y, terracl_error *err)
{
    return wino_run(rt, NULL, x, w, b, g, relu, accumulate, y, err);
}

terracl_status tc_conv2d_winograd_upcat(terracl_runtime *rt, const struct tc_tensor *up,
                                        const struct tc_tensor *skip, const struct tc_tensor *w,
                                        const struct tc_tensor *b, const struct tc_conv_geom *g,
                                        int relu, struct tc_tensor *y, terracl_error *err)
{
    if (up->dims[1] % 16 != 0)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "conv2d: the upsampled part of a joined input needs a multiple of 16 "
                       "channels (got %lld)", (long long)up->dims[1]);
    return wino_run(rt, up, skip, w, b, g, relu, 0, y, err);
}

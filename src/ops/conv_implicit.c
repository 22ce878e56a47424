/*
 * Stride-1 Conv2d on CPU devices without im2col: copy the input once with
 * its zero padding, then one implicit-GEMM kernel reads shifted runs of it
 * as the rows of B and writes y with bias and ReLU applied
 * (cl_kernels/conv_implicit.cl). The padded copy is Cin (H + 2 ph)
 * (W + 2 pw) floats, against Cin kh kw Ho Wo for the column matrix.
 */
#include "ops/conv_implicit.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "core/checked.h"
#include "ops/launch.h"
#include "runtime/gemm_params.h"

/* Convolution tiles: the device's conv_tile of tc_conv_implicit_tiles
 * (output channels x 16-pixel vectors), one tile per work-item. The shipped
 * 4 x 96 was chosen over the 6 x 64 tiles of the GEMM kernels by CPU time
 * (less sensitive than wall time on a shared machine), bench_conv, three
 * alternating rounds: conv3x3 1024->256 @56 0.87-0.92 against 1.17-1.19 s,
 * 128->64 @112 0.13-0.15 against 0.17-0.19 s, 256->256 @28 0.09-0.11
 * against 0.12-0.14 s, 3072->256 @14 0.32-0.37 against 0.35-0.42 s,
 * 2048->256 @7 the same; `terracl tune` times them all on the device. */
#define CPANEL 1
#define MAX_CNR 192 /* the widest tile's columns */
/* The padded copy's work per work-item, in floats (whole rows): with one
 * row each, 16 channels at 224x224 took 3600 work-items, whose start-up
 * cost more than their copying. */
#define PAD_ITEM_FLOATS 4096
/* Loop passes of a tile per tap (weight row and input run) at most, where
 * a driver keeps the tile loops as loops. */
#define LOOP_PASSES_PER_TAP 48
/* ConvTranspose tiles (the kernel's defaults): 6 pixels x 64 taps, two per
 * work-item. */
#define MR 6
#define NR 64 /* CONV_NV float16 vectors */
#define PANEL 2

int tc_conv2d_implicit_wanted(const terracl_runtime *rt, const struct tc_tensor *x,
                              const struct tc_tensor *w, const struct tc_conv_geom *g)
{
    if (!tc_runtime_is_cpu(rt) || g->stride_h != 1 || g->stride_w != 1)
        return 0;
    int64_t kh = w->dims[2], kw = w->dims[3];
    if (!((kh == 1 && kw == 1) || (kh == 3 && kw == 3)))
        return 0;
    int64_t Cin = x->dims[1], Hp = x->dims[2] + 2 * g->pad_h, Wp = x->dims[3] + 2 * g->pad_w;
    /* Padded input with a tile of slack, the weight and one output plane
     * all addressed with 32-bit ints. */
    int64_t padded = Cin * Hp * Wp + Hp * Wp + 2 * MAX_CNR + (kw - 1) * g->dil_w;
    return padded < INT_MAX / 2 && Cin * kh * kw < INT_MAX / 2 && w->dims[0] * Cin * kh * kw < INT_MAX / 2 &&
           g->dil_h * (kh - 1) * Wp < INT_MAX / 2 && w->dims[0] * Hp * Wp < INT_MAX / 2;
}

/* The register tile for Cout output channels: the device's, unless its rows
 * outnumber the channels (a 1- or 2-class head under 4 x 96), where the
 * tile wasting the fewest rows takes over, the device's on a tie. The
 * 2 x 128 tile runs a 16->2 head on 224x224 at 116-139 GFLOP/s against the
 * 4 x 96's 52-79 (resnet50 + smp Unet 224, --profile, alternating). */
static size_t implicit_tile(const terracl_runtime *rt, int64_t Cout)
{
    size_t tile = tc_runtime_native_params(rt)->conv_tile;
    if (Cout >= tc_conv_implicit_tiles[tile][0])
        return tile;
    int64_t best_rows = tc_conv_implicit_tiles[tile][0];
    for (size_t t = 0; t < TC_CONV_TILES; t++) {
        int64_t mr = tc_conv_implicit_tiles[t][0], rows = (Cout + mr - 1) / mr * mr;
        if (rows < best_rows) {
            best_rows = rows;
            tile = t;
        }
    }
    return tile;
}

/* The zeros the kernel's last column tile reads past the planes: the rest
 * of its tile_cols columns, and the taps' reach to the right. */
static size_t implicit_slack(size_t tiles_n, size_t tile_cols, size_t ncols, int64_t kw,
                             int64_t dil_w)
{
    return tiles_n * tile_cols - ncols + (size_t)((kw - 1) * dil_w) + 1;
}

/* The convolution of the input whose channels are up resized (nearest) to
 * x's size followed by x's, or of x alone when up is NULL. With `in`, the
 * input already lies in the padded layout there (x gives only its shape);
 * with `out`, the output is written there in the padded layout of a 3x3
 * convolution with padding 1 on it (y gives only its shape; the caller
 * made sure the sizes allow it: tc_conv2d_implicit_pair_wanted). */
static terracl_status implicit_run(terracl_runtime *rt, const struct tc_tensor *up,
                                   const struct tc_tensor *x, const struct tc_padded_map *in,
                                   const struct tc_tensor *w, const struct tc_tensor *b,
                                   const struct tc_conv_geom *g, int relu, struct tc_tensor *y,
                                   const struct tc_padded_map *out, terracl_error *err)
{
    int64_t B = x->dims[0], H = x->dims[2], W = x->dims[3];
    int64_t C0 = up ? up->dims[1] : 0, Cin = C0 + x->dims[1];
    int64_t H0 = up ? up->dims[2] : H, W0 = up ? up->dims[3] : W;
    int64_t Cout = w->dims[0], kh = w->dims[2], kw = w->dims[3];
    int64_t Ho = y->dims[2], Wo = y->dims[3];
    int64_t Hp = H + 2 * g->pad_h, Wp = W + 2 * g->pad_w;
    size_t plane = (size_t)(Hp * Wp), ncols = (size_t)(Ho * Wp);
    const size_t tile = implicit_tile(rt, Cout);
    const size_t tile_rows = (size_t)tc_conv_implicit_tiles[tile][0];
    const size_t tile_cols = 16 * (size_t)tc_conv_implicit_tiles[tile][1];
    size_t tiles_m = ((size_t)Cout + tile_rows - 1) / tile_rows, tiles_n = (ncols + tile_cols - 1) / tile_cols;
    size_t strips = (tiles_n + CPANEL - 1) / CPANEL;
    /* The last tile reads tile_cols columns past its start from the last channel's
     * last tap: slack after the planes, zero-filled. */
    size_t slack = implicit_slack(tiles_n, tile_cols, ncols, kw, g->dil_w);
    size_t padded = (size_t)Cin * plane + slack;
    terracl_status st;
    if (tiles_m * strips > INT_MAX)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "conv2d: too many tiles");
    if (in != NULL && in->slack < slack)
        return tc_fail(err, TERRACL_ERR_INTERNAL,
                       "conv2d: the padded input has %zu floats of slack, the kernel reads %zu",
                       in->slack, slack);
    struct tc_karg ow = TC_KUINT(0), ob = TC_KUINT(0);
    size_t y_end = out ? out->offset + (size_t)B * out->item : y->offset + tc_tensor_numel(y);
    if ((st = tc_offset_arg(w, &ow, err)) || (b && (st = tc_offset_arg(b, &ob, err))) ||
        (st = tc_check_u32(y_end, "conv2d output", err)))
        return st;
    /* Input channels per launch: the strip of xp one work-item reads for
     * them (CPANEL tiles of tile_cols columns, plus the rows the taps reach)
     * within the device's conv_block_kib (tuned, or 256 KiB), so that it
     * stays in L2 across the row tiles. */
    const size_t block_bytes = tc_runtime_native_params(rt)->conv_block_kib << 10;
    size_t per_channel = (CPANEL * tile_cols + (size_t)((kh - 1) * g->dil_h * Wp + (kw - 1) * g->dil_w)) *
                         sizeof(float);
    int64_t block = (int64_t)(block_bytes / per_channel);
    if (block < 16)
        block = 16;
    /* Where a driver ends a work-item's loops early (tc_runtime_loop_budget:
     * llvmpipe, 65535 passes), launches sum few enough taps to stay within
     * the budget; there the tile loops run as loops, 331-402 passes per
     * channel of a 3x3 kernel with the 4 x 96 and 8 x 48 tiles. */
    const size_t budget = tc_runtime_loop_budget(rt);
    if (budget != SIZE_MAX) {
        int64_t fits = (int64_t)(budget / (LOOP_PASSES_PER_TAP * (size_t)(kh * kw)));
        block = block < fits ? block : fits > 1 ? fits : 1;
    }
    /* A 1x1 convolution without padding reads x as it is; a joined input
     * is always made by the copy. */
    const int copy =
        in == NULL && (up != NULL || !(kh == 1 && kw == 1 && g->pad_h == 0 && g->pad_w == 0));
    if (up != NULL && ((st = tc_check_u32(up->offset + tc_tensor_numel(up), "conv2d input", err)) ||
                       H0 * W0 * C0 >= INT_MAX / 2))
        return st ? st : tc_fail(err, TERRACL_ERR_UNSUPPORTED, "conv2d: upsampled input too large");
    struct tc_tensor xp = {0};
    int64_t pd[1] = {(int64_t)padded};
    if (copy && (st = tc_tensor_alloc(rt, 1, pd, &xp, err)))
        return st;
    char options[160];
    snprintf(options, sizeof options,
             "-DCONV_MR=%d -DCONV_NV=%d -DCONV_PANEL=%d -DCONV_KH=%d -DCONV_KW=%d -DCONV_DH=%d "
             "-DCONV_DW=%d -DCONV_OUT_PADDED=%d",
             tc_conv_implicit_tiles[tile][0], tc_conv_implicit_tiles[tile][1], CPANEL, (int)kh,
             (int)kw, (int)g->dil_h, (int)g->dil_w, out != NULL);
    struct tc_kernel *kern = NULL, *pad = NULL;
    st = tc_kernel_get(rt, "conv_implicit", "tc_conv2d_implicit", options, &kern, err);
    if (st == TERRACL_OK && copy)
        st = tc_kernel_get(rt, "conv_implicit", "tc_conv_pad_input", NULL, &pad, err);
    /* Rows of the padded copy per work-item: about PAD_ITEM_FLOATS floats. */
    const size_t pad_rows = (size_t)Wp < PAD_ITEM_FLOATS ? PAD_ITEM_FLOATS / (size_t)Wp : 1;
    for (int64_t bi = 0; bi < B && st == TERRACL_OK; bi++) {
        size_t xo = x->offset + (size_t)(bi * (Cin - C0) * H * W);
        size_t uo = up ? up->offset + (size_t)(bi * C0 * H0 * W0) : 0;
        size_t yo = out ? out->offset + (size_t)bi * out->item
                        : y->offset + (size_t)(bi * Cout * Ho * Wo);
        struct tc_karg pa[] = {TC_KBUF(x->buf),      TC_KUINT(xo),         TC_KBUF(xp.buf),
                               TC_KUINT(H),          TC_KUINT(W),          TC_KUINT(Hp),
                               TC_KUINT(Wp),         TC_KUINT(g->pad_h),   TC_KUINT(g->pad_w),
                               TC_KUINT(Cin),        TC_KUINT(slack),
                               TC_KBUF(up ? up->buf : x->buf), TC_KUINT(uo),
                               TC_KUINT(C0),         TC_KUINT(H0),         TC_KUINT(W0),
                               TC_KFLOAT((float)H0 / (float)H), TC_KFLOAT((float)W0 / (float)W),
                               TC_KUINT(pad_rows)};
        if (copy) {
            /* pad_rows padded rows per work-item, each its own group (the
             * rows are copied with vectors inside the work-item). */
            const size_t items[1] = {((size_t)(Cin * Hp) + pad_rows) / pad_rows}, one[1] = {1};
            st = tc_kernel_launch(rt, pad, 1, items, one, pa, 19, err);
        }
        if (st != TERRACL_OK)
            break;
        /* What the kernel reads: the padded copy (with its slack), the
         * padded input as it lies, or the batch item's Cin planes of x. */
        const struct tc_buf *src = copy ? xp.buf : in ? in->buf : x->buf;
        size_t src_off = copy ? 0 : in ? in->offset + (size_t)bi * in->item : xo;
        size_t src_len = copy ? padded : in ? (size_t)Cin * plane + in->slack : (size_t)Cin * plane;
        char tag[96];
        snprintf(tag, sizeof tag, "%lldx%lldx%lld k%lldx%lld", (long long)Cout,
                 (long long)(Ho * Wo), (long long)(Cin * kh * kw), (long long)kh, (long long)kw);
        tc_runtime_count_flops(rt, 2ull * (uint64_t)Cout * (uint64_t)(Ho * Wo) *
                                       (uint64_t)(Cin * kh * kw));
        for (int64_t c0 = 0; c0 < Cin && st == TERRACL_OK; c0 += block) {
            int64_t c1 = c0 + block < Cin ? c0 + block : Cin;
            struct tc_karg args[] = {TC_KINT(Cout),     TC_KINT(Cin),
                                     TC_KINT(c0),       TC_KINT(c1),
                                     TC_KBUF(w->buf),   ow,
                                     TC_KBUF(src),      TC_KUINT(src_off),
                                     TC_KUINT(src_len), TC_KUINT(plane),
                                     TC_KINT(Wp),       TC_KINT(g->dil_h),
                                     TC_KINT(g->dil_w), TC_KBUF(out ? out->buf : y->buf),
                                     TC_KUINT(yo),      TC_KINT(Ho),
                                     TC_KINT(Wo),       TC_KINT(tiles_m),
                                     TC_KINT(tiles_n),  TC_KBUF(b ? b->buf : w->buf),
                                     ob,                TC_KINT(b != NULL),
                                     TC_KINT(relu != 0), TC_KINT(c0 > 0),
                                     TC_KINT(c1 == Cin), TC_KUINT(out ? out->slack : 0)};
            const size_t global[1] = {tiles_m * strips}, local[1] = {1};
            st = tc_kernel_launch_tagged(rt, kern, tag, 1, global, local, args, 26, err);
        }
    }
    tc_tensor_free(&xp);
    return st;
}

terracl_status tc_conv2d_implicit(terracl_runtime *rt, const struct tc_tensor *x,
                                  const struct tc_tensor *w, const struct tc_tensor *b,
                                  const struct tc_conv_geom *g, int relu, struct tc_tensor *y,
                                  terracl_error *err)
{
    return implicit_run(rt, NULL, x, NULL, w, b, g, relu, y, NULL, err);
}

int tc_conv2d_implicit_pair_wanted(const terracl_runtime *rt, const struct tc_tensor *x,
                                   const struct tc_tensor *w1, const struct tc_conv_geom *g1,
                                   const struct tc_tensor *w2, const struct tc_conv_geom *g2)
{
    const struct tc_tensor *ws[2] = {w1, w2};
    const struct tc_conv_geom *gs[2] = {g1, g2};
    if (x->ndim != 4 || w1->ndim != 4 || w2->ndim != 4 || w1->dims[1] != x->dims[1] ||
        w2->dims[1] != w1->dims[0])
        return 0;
    for (int i = 0; i < 2; i++) {
        const struct tc_conv_geom *g = gs[i];
        /* Plain weights: packed and Winograd ones take other kernels. */
        if (ws[i]->dims[2] != 3 || ws[i]->dims[3] != 3 || g->stride_h != 1 || g->stride_w != 1 ||
            g->pad_h != 1 || g->pad_w != 1 || g->dil_h != 1 || g->dil_w != 1 ||
            ws[i]->gemm_packed || ws[i]->has_derived)
            return 0;
    }
    /* The kernel's padding mask wraps a vector's columns at most once. */
    if (x->dims[3] + 2 < 16)
        return 0;
    struct tc_tensor mid = *x;
    mid.dims[1] = w1->dims[0];
    return tc_conv2d_implicit_wanted(rt, x, w1, g1) && tc_conv2d_implicit_wanted(rt, &mid, w2, g2);
}

terracl_status tc_conv2d_implicit_padded_size(const terracl_runtime *rt, int64_t B, int64_t C,
                                              int64_t H, int64_t W, int64_t next_cout,
                                              struct tc_padded_map *map, terracl_error *err)
{
    const size_t tile = implicit_tile(rt, next_cout);
    const size_t tile_cols = 16 * (size_t)tc_conv_implicit_tiles[tile][1];
    const size_t Wp = (size_t)W + 2, plane = ((size_t)H + 2) * Wp, ncols = (size_t)H * Wp;
    const size_t tiles_n = (ncols + tile_cols - 1) / tile_cols;
    size_t slack = implicit_slack(tiles_n, tile_cols, ncols, 3, 1), item, total;
    if (tc_mul_overflow((size_t)C, plane, &item) || tc_add_overflow(item, slack, &item) ||
        tc_mul_overflow(item, (size_t)B, &total) || total >= INT_MAX / 2)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "conv2d: a padded %lld x %lld x %lld x %lld map is beyond the kernel's "
                       "32-bit indices",
                       (long long)B, (long long)C, (long long)H, (long long)W);
    map->buf = NULL;
    map->offset = 0;
    map->item = item;
    map->slack = slack;
    return TERRACL_OK;
}

terracl_status tc_conv2d_implicit_to_padded(terracl_runtime *rt, const struct tc_tensor *up,
                                            const struct tc_tensor *x, const struct tc_tensor *w,
                                            const struct tc_tensor *b,
                                            const struct tc_conv_geom *g, int relu,
                                            const struct tc_tensor *y_shape,
                                            const struct tc_padded_map *out, terracl_error *err)
{
    struct tc_tensor shape = *y_shape;
    return implicit_run(rt, up, x, NULL, w, b, g, relu, &shape, out, err);
}

terracl_status tc_conv2d_implicit_from_padded(terracl_runtime *rt,
                                              const struct tc_tensor *x_shape,
                                              const struct tc_padded_map *in,
                                              const struct tc_tensor *w,
                                              const struct tc_tensor *b,
                                              const struct tc_conv_geom *g, int relu,
                                              struct tc_tensor *y, terracl_error *err)
{
    return implicit_run(rt, NULL, x_shape, in, w, b, g, relu, y, NULL, err);
}

terracl_status tc_conv2d_implicit_upcat(terracl_runtime *rt, const struct tc_tensor *up,
                                        const struct tc_tensor *skip, const struct tc_tensor *w,
                                        const struct tc_tensor *b, const struct tc_conv_geom *g,
                                        int relu, struct tc_tensor *y, terracl_error *err)
{
    return implicit_run(rt, up, skip, NULL, w, b, g, relu, y, NULL, err);
}

int tc_conv_transpose2d_weight_packable(int64_t in, int64_t out, int64_t k, int64_t stride,
                                        int64_t pad, int64_t output_padding)
{
    return in > 0 && out > 0 && k == stride && pad == 0 && output_padding == 0 && k > 0 &&
           k <= 64 && (out * k * k) % NR == 0 && in * out * k * k < INT_MAX / 2;
}

int tc_conv_transpose2d_direct_wanted(const terracl_runtime *rt, const struct tc_tensor *x,
                                      const struct tc_tensor *w, int64_t stride, int64_t pad,
                                      int64_t output_padding)
{
    int64_t k = w->dims[2], M = w->dims[1] * k * k;
    int64_t out = x->dims[1] > 0 ? w->dims[1] * x->dims[2] * k * x->dims[3] * k : 0;
    /* Each work-item sums the input channels of PANEL tiles in one launch:
     * not where a driver would end those loops early. */
    if ((size_t)x->dims[1] * PANEL * LOOP_PASSES_PER_TAP > tc_runtime_loop_budget(rt))
        return 0;
    return tc_runtime_is_cpu(rt) && k == stride && w->dims[3] == k && pad == 0 &&
           output_padding == 0 && M % NR == 0 && M < INT_MAX / 2 &&
           x->dims[1] * x->dims[2] * x->dims[3] < INT_MAX / 2 && out < INT_MAX / 2 &&
           x->dims[1] * M < INT_MAX / 2;
}

terracl_status tc_conv_transpose2d_direct(terracl_runtime *rt, const struct tc_tensor *x,
                                          const struct tc_tensor *w, const struct tc_tensor *b,
                                          struct tc_tensor *y, terracl_error *err)
{
    int64_t B = x->dims[0], Cin = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t Cout = w->dims[1], k = w->dims[2];
    int64_t P = H * W, M = Cout * k * k, Wo = y->dims[3];
    size_t tiles_m = ((size_t)P + MR - 1) / MR, tiles_n = (size_t)M / NR;
    size_t strips = (tiles_n + PANEL - 1) / PANEL;
    if (tiles_m * strips > INT_MAX)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "conv_transpose2d: too many tiles");
    struct tc_karg ow = TC_KUINT(0), ob = TC_KUINT(0);
    terracl_status st;
    if ((st = tc_offset_arg(w, &ow, err)) || (b && (st = tc_offset_arg(b, &ob, err))) ||
        (st = tc_check_u32(x->offset + tc_tensor_numel(x), "conv_transpose2d input", err)) ||
        (st = tc_check_u32(y->offset + tc_tensor_numel(y), "conv_transpose2d output", err)))
        return st;
    /* A packed weight (TC_PACKED_KN) streams each 64-tap tile's K rows
     * from one panel; a plain one reads rows of the [Cin, M] matrix. */
    const int packed = w->gemm_packed == TC_PACKED_KN;
    /* The common kernel sizes 2 and 4 are build constants: the kernel then
     * stores runs of k adjacent outputs as vectors, with no division per
     * tap (2x2 512 -> 256 at 28x28: 165-172 -> 183-187 GFLOP/s). */
    char options[64];
    snprintf(options, sizeof options, "-DCONV_PACKED_B=%d -DCONV_TK=%d", packed,
             k == 2 || k == 4 ? (int)k : 0);
    struct tc_kernel *kern = NULL;
    if ((st = tc_kernel_get(rt, "conv_implicit", "tc_conv_transpose2d_direct", options, &kern,
                            err)))
        return st;
    char tag[96];
    snprintf(tag, sizeof tag, "%lldx%lldx%lld k%lld", (long long)P, (long long)M, (long long)Cin,
             (long long)k);
    for (int64_t bi = 0; bi < B && st == TERRACL_OK; bi++) {
        struct tc_karg args[] = {TC_KINT(P),
                                 TC_KINT(M),
                                 TC_KINT(Cin),
                                 TC_KBUF(x->buf),
                                 TC_KUINT(x->offset + (size_t)(bi * Cin * P)),
                                 TC_KBUF(w->buf),
                                 ow,
                                 TC_KBUF(y->buf),
                                 TC_KUINT(y->offset + (size_t)(bi * M * P)),
                                 TC_KINT(W),
                                 TC_KINT(Wo),
                                 TC_KINT(k),
                                 TC_KINT(tiles_m),
                                 TC_KINT(tiles_n),
                                 TC_KBUF(b ? b->buf : w->buf),
                                 ob,
                                 TC_KINT(b != NULL)};
        const size_t global[1] = {tiles_m * strips}, local[1] = {1};
        tc_runtime_count_flops(rt, 2ull * (uint64_t)P * (uint64_t)M * (uint64_t)Cin);
        st = tc_kernel_launch_tagged(rt, kern, tag, 1, global, local, args, 17, err);
    }
    return st;
}

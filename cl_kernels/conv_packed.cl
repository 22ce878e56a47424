/*
 * Conv2d for CPU OpenCL drivers with the weight in the packed GEMM layout
 * (the one Linear weights use: panel q holds output channels q*64 ..
 * q*64+63 as K = Cin kh kw rows of 64 contiguous floats), taps-major: k =
 * (ky, kx, ci). The input is copied channels-last with its zero padding,
 * xp [Hp, Wp, Cin], so that each pixel's taps read runs of channels; an
 * unpadded 1x1 convolution (CONV_PLANAR) reads x [Cin, H, W] as it is,
 * channels a plane apart, which costs less than the copy.
 *
 * The GEMM is pixel-major: a tile is CONV_MR output pixels by the
 * CONV_PV float16 vectors of output channels of one panel. Each step
 * broadcasts the input value under each of the tile's pixels for one tap
 * (ci, ky, kx) against the panel's vectors for that tap, the same inner
 * loop as tc_sgemm_packed. The pixels are any CONV_MR consecutive output
 * pixels, addressed one by one in the (padded) input, so small maps and
 * strides waste nothing: only the last tile of a map is partial.
 * Work-items: (pixel tile, strip of CONV_PANEL panels), pixel tiles fastest
 * so that neighbours stream the same panel.
 * Epilogue: + bias[co] (has_bias), with CONV_ACCUMULATE + y's own value
 * (a residual the caller left there), then ReLU (relu); the tile's results
 * land in y [Cout, Ho, Wo] one channel row at a time.
 */
#ifndef CONV_ACCUMULATE
#define CONV_ACCUMULATE 0
#endif
#ifndef CONV_MR
#define CONV_MR 6
#endif
#ifndef CONV_PV
#define CONV_PV 4
#endif
#ifndef CONV_PANEL
#define CONV_PANEL 1
#endif
#ifndef CONV_KH
#define CONV_KH 3
#endif
#ifndef CONV_KW
#define CONV_KW 3
#endif
#ifndef CONV_SH
#define CONV_SH 1
#endif
#ifndef CONV_SW
#define CONV_SW 1
#endif
#ifndef CONV_DH
#define CONV_DH 1
#endif
#ifndef CONV_DW
#define CONV_DW 1
#endif
#ifndef CONV_PLANAR
#define CONV_PLANAR 0
#endif
#define CONV_PACK_W 64
#ifndef CONV_PF_TILES
#define CONV_PF_TILES 16
#endif

/* xp [Hp, Wp, Cin] (Hp = H + 2 ph, Wp = W + 2 pw) from x [Cin, H, W] (one
 * batch item): work-item (cg, py) writes channels 16 cg .. 16 cg + 15 of
 * padded row py. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_conv_channels_last(__global const float *restrict x, uint x_off,
                           __global float *restrict xp, int Cin, int H, int W, int Wp, int ph,
                           int pw)
{
    const int cg = (int)get_global_id(0), py = (int)get_global_id(1);
    const int c0 = 16 * cg, lanes = min(16, Cin - c0), iy = py - ph;
    const size_t plane = (size_t)H * W;
    __global const float *src =
        x + x_off + (size_t)c0 * plane + (iy >= 0 && iy < H ? (size_t)iy * W : 0);
    __global float *dst = xp + (size_t)py * Wp * Cin + c0;
    if (lanes < 16) {
        /* A few channels (a stem's bands): channel by channel along the
         * row, contiguous reads, instead of a partial gather per pixel. */
        for (int l = 0; l < lanes; l++)
            for (int px = 0; px < Wp; px++) {
                const int ix = px - pw;
                const int inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
                dst[(size_t)px * Cin + l] = inside ? src[(size_t)l * plane + ix] : 0.0f;
            }
        return;
    }
    for (int px = 0; px < Wp; px++, dst += Cin) {
        const int ix = px - pw;
        const int inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
        TC_STORE16(tc_gather_channels(src, plane, inside ? (size_t)ix : 0, inside, 16), 0, dst);
    }
}

/* A run of results r about to be stored at y: with CONV_ACCUMULATE, y held
 * the residual, and the run becomes act(r + y) (otherwise ReLU came before). */
static inline float4 conv_finish4(float4 r, __global const float *y, int relu)
{
#if CONV_ACCUMULATE
    r += vload4(0, y);
    return relu ? fmax(r, (float4)(0.0f)) : r;
#else
    (void)y;
    (void)relu;
    return r;
#endif
}
static inline float2 conv_finish2(float2 r, __global const float *y, int relu)
{
#if CONV_ACCUMULATE
    r += vload2(0, y);
    return relu ? fmax(r, (float2)(0.0f)) : r;
#else
    (void)y;
    (void)relu;
    return r;
#endif
}
static inline float conv_finish1(float r, __global const float *y, int relu)
{
#if CONV_ACCUMULATE
    r += y[0];
    return relu ? fmax(r, 0.0f) : r;
#else
    (void)y;
    (void)relu;
    return r;
#endif
}

/* CONV_CIN, where the host sets it, is Cin fixed at build time: a stem's
 * few bands then unroll into straight runs of FMAs per tap instead of a
 * loop of 3-16 turns with its pointer set-up. */
#ifdef CONV_CIN
#define CONV_CIN_LOOP CONV_CIN
#else
#define CONV_CIN_LOOP Cin
#endif

/* One step of a tile's sums: the panel's CONV_PV vectors for one tap
 * against PIXEL(i), the input value under each of its CONV_MR pixels. */
#define CONV_STEP(PIXEL)                                                                        \
    do {                                                                                        \
        float16 b[CONV_PV];                                                                     \
        if (requested < next_lines)                                                             \
            TC_PREFETCH_L2(next + (size_t)16 * requested++);                                    \
        _Pragma("unroll") for (int v = 0; v < CONV_PV; v++) b[v] = vload16(v, bp);              \
        _Pragma("unroll") for (int i = 0; i < CONV_MR; i++) {                                   \
            float16 a = (float16)(PIXEL);                                                       \
            _Pragma("unroll") for (int v = 0; v < CONV_PV; v++) acc[i][v] =                     \
                fma(a, b[v], acc[i][v]);                                                        \
        }                                                                                       \
    } while (0)

/* xp: the batch item's input channels-last with its zero padding, or
 * (CONV_PLANAR) x itself at xp_off with planes of `plane` floats. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_conv2d_packed(int Cout, int Cin, __global const float *restrict Wk, uint w_off,
                      __global const float *restrict xp, uint xp_off, uint plane, int Wp,
                      __global float *restrict y, uint y_off,
                      int Ho, int Wo, int tiles_m, int tiles_n,
                      __global const float *restrict bias, uint b_off, int has_bias, int relu)
{
    Wk += w_off;
    xp += xp_off;
    y += y_off;
    bias += b_off;
    const int g = (int)get_global_id(0);
    const int strip = g / tiles_m, tm = g - strip * tiles_m;
    const int q0 = strip * CONV_PANEL, qcount = min(CONV_PANEL, tiles_n - q0);
    const int P = Ho * Wo, K = Cin * CONV_KH * CONV_KW;
    const int p0 = tm * CONV_MR;
#if CONV_PLANAR && CONV_SH == 1 && CONV_SW == 1
    /* An unstrided 1x1 convolution's pixels are consecutive floats of each
     * plane: a tile is a run from ps, one pointer with constant offsets
     * instead of one address per pixel. The map's last tile, when partial,
     * is shifted back to end at the map's end; it stores only its own
     * pixels [p0, P) (the others belong to the tile before). */
    const int contiguous = P >= CONV_MR;
    const int ps = contiguous ? min(p0, P - CONV_MR) : p0;
#else
    const int ps = p0;
#endif

    /* Where each pixel's window starts in xp; pixels past the map repeat
     * the last one (computed, never stored). */
    int base[CONV_MR];
#pragma unroll
    for (int i = 0; i < CONV_MR; i++) {
        int p = min(p0 + i, P - 1), oy = p / Wo, ox = p - oy * Wo;
#if CONV_PLANAR
        base[i] = oy * CONV_SH * Wp + ox * CONV_SW;
#else
        base[i] = (oy * CONV_SH * Wp + ox * CONV_SW) * Cin;
#endif
    }

    /* Few pixel tiles per strip (7x7 maps: 9): this work-item's share of
     * the next strip's panels requested into L2 while it sums, one line
     * per step, as tc_sgemm_packed does for its few row tiles. bench_ab,
     * ResNet-50 UNet and smp Unet at 224: the 7x7 layers (1x1 2048 -> 512
     * and 512 -> 2048, 3x3 512 -> 512 s2) 0.91-0.94 of the time. */
    __global const float *next = Wk;
    int next_lines = 0, requested = 0;
    if (tiles_m >= 2 && tiles_m <= CONV_PF_TILES && q0 + CONV_PANEL < tiles_n) {
        const size_t block = (size_t)CONV_PANEL * K * CONV_PACK_W;
        const size_t avail = min(block, (size_t)(tiles_n - q0 - CONV_PANEL) * K * CONV_PACK_W);
        next_lines = tc_strip_share(Wk + (size_t)(q0 + CONV_PANEL) * K * CONV_PACK_W, avail,
                                    tiles_m, tm, &next);
    }

    for (int t = 0; t < qcount; t++) {
        const int q = q0 + t, c0 = q * CONV_PACK_W;
        __global const float *bp = Wk + (size_t)q * K * CONV_PACK_W;
        /* The tile's 64 output runs, one per channel row, requested now so
         * that they arrive while the sums run: rows a plane apart defeat
         * the hardware prefetcher, and the epilogue would wait on each
         * (the residual it reads with CONV_ACCUMULATE, the lines it
         * writes). In-model, one process, alternating: ResNet block ends
         * 1x1 512->2048 @14x14 +residual 7.8 -> 6.3 ms. */
        if (p0 + CONV_MR <= P)
            for (int l = 0; l < CONV_PACK_W; l++) {
                __global const float *yrow = y + (size_t)(c0 + l) * P + p0;
                TC_PREFETCH(yrow, !CONV_ACCUMULATE);
                TC_PREFETCH(yrow + CONV_MR - 1, !CONV_ACCUMULATE);
            }
        float16 acc[CONV_MR][CONV_PV];
#pragma unroll
        for (int i = 0; i < CONV_MR; i++)
#pragma unroll
            for (int v = 0; v < CONV_PV; v++)
                acc[i][v] = (float16)(0.0f);

        /* Kernel rows unrolled too, except for 5x5 and larger windows: a
         * 7x7 stem's 49 taps of fixed channels (CONV_CIN) unrolled whole
         * are some 300 steps of code, more than the core's instruction
         * caches hold. One loop turn per row: ResNet-50's 7x7 stem took
         * 0.95-0.97 of the time (bench_ab, smp Unet and DeepLabV3+ at
         * 224, 12 runs alternating in one process). */
#if CONV_KH * CONV_KW >= 25
#pragma unroll 1
#else
#pragma unroll
#endif
        for (int ky = 0; ky < CONV_KH; ky++) {
#pragma unroll
            for (int kx = 0; kx < CONV_KW; kx++) {
                const size_t tap = (size_t)(ky * CONV_DH * Wp + kx * CONV_DW) * Cin;
                __global const float *px[CONV_MR];
#pragma unroll
                for (int i = 0; i < CONV_MR; i++)
                    px[i] = xp + tap + base[i];
#if CONV_PLANAR && CONV_SH == 1 && CONV_SW == 1
                if (contiguous) {
                    __global const float *xr = xp + ps;
                    for (int ci = 0; ci < CONV_CIN_LOOP; ci++, bp += CONV_PACK_W, xr += plane)
                        CONV_STEP(xr[i]);
                    continue;
                }
#endif
                for (int ci = 0; ci < CONV_CIN_LOOP; ci++, bp += CONV_PACK_W)
#if CONV_PLANAR
                    CONV_STEP(px[i][(size_t)ci * plane]);
#else
                    CONV_STEP(px[i][ci]);
#endif
            }
        }

#pragma unroll
        for (int v = 0; v < CONV_PV; v++) {
            const int cv = c0 + 16 * v;
            float16 bv = has_bias ? vload16(0, bias + cv) : (float16)(0.0f);
            float lane[CONV_MR][16];
#pragma unroll
            for (int i = 0; i < CONV_MR; i++) {
                float16 r = acc[i][v] + bv;
#if !CONV_ACCUMULATE
                if (relu)
                    r = fmax(r, (float16)(0.0f));
#endif
                TC_STORE16_PRIVATE(r, 0, lane[i]);
            }
            if (ps == p0 && p0 + CONV_MR <= P) {
                /* A whole tile: each channel's CONV_MR pixels are one run
                 * of its row, stored (and with CONV_ACCUMULATE read) four
                 * and two at a time. */
#pragma unroll
                for (int l = 0; l < 16; l++) {
                    __global float *yrow = y + (size_t)(cv + l) * P + p0;
#pragma unroll
                    for (int i = 0; i + 4 <= CONV_MR; i += 4)
                        vstore4(conv_finish4((float4)(lane[i][l], lane[i + 1][l], lane[i + 2][l],
                                                      lane[i + 3][l]),
                                             yrow + i, relu),
                                0, yrow + i);
#pragma unroll
                    for (int i = CONV_MR / 4 * 4; i + 2 <= CONV_MR; i += 2)
                        vstore2(conv_finish2((float2)(lane[i][l], lane[i + 1][l]), yrow + i, relu),
                                0, yrow + i);
                    if (CONV_MR % 2)
                        yrow[CONV_MR - 1] = conv_finish1(lane[CONV_MR - 1][l], yrow + CONV_MR - 1, relu);
                }
                continue;
            }
            for (int l = 0; l < 16; l++) {
                __global float *yrow = y + (size_t)(cv + l) * P + ps;
#pragma unroll
                for (int i = 0; i < CONV_MR; i++)
                    if (ps + i >= p0 && ps + i < P) {
#if CONV_ACCUMULATE
                        /* y held the residual: y = act(conv + bias + y). */
                        const float s = lane[i][l] + yrow[i];
                        yrow[i] = relu ? fmax(s, 0.0f) : s;
#else
                        yrow[i] = lane[i][l];
#endif
                    }
            }
        }
    }
}

/*
 * Conv2d with stride 1 as an implicit GEMM for CPU OpenCL drivers: no
 * column matrix. The input of one batch item is copied once with its zero
 * padding around it, xp [Cin, Hp, Wp] (Hp = H + 2 ph, Wp = W + 2 pw).
 * Output pixel (oy, ox) then is column j = oy Wp + ox of a GEMM whose row
 * k = (ci, ky, kx) of B is xp shifted by ci Hp Wp + ky dh Wp + kx dw:
 * every row of B is a contiguous run of xp, and the kh kw taps of one
 * channel read overlapping runs, so B streams from L1. Columns with
 * ox >= Wo (the Wp - Wo columns of padding of each row) are computed and
 * dropped at the store.
 *
 * Tiles as tc_sgemm_nn (gemm.cl): CONV_MR output channels x 16 CONV_NV
 * columns per tile, one weight broadcast against CONV_NV float16 vectors of
 * B per step; a work-item walks CONV_PANEL tiles along the columns.
 * Epilogue: + bias[co] (has_bias), then ReLU (relu). A vector of 16
 * columns inside one output row is stored as one vector; the others (a
 * row's end, its padding columns) lane by lane.
 * A 1x1 convolution without padding needs no copy: xp is x itself, and
 * its last column tiles, which would read past x, load lane by lane.
 */
#ifndef CONV_MR
#define CONV_MR 6
#endif
#ifndef CONV_NV
#define CONV_NV 4
#endif
#ifndef CONV_PANEL
#define CONV_PANEL 2
#endif
#ifndef CONV_KH
#define CONV_KH 3
#endif
#ifndef CONV_KW
#define CONV_KW 3
#endif
#ifndef CONV_OUT_PADDED
#define CONV_OUT_PADDED 0
#endif
#define CONV_NR (16 * CONV_NV)

/* The padded copy of the input [channels, H, W] (one batch item): row
 * r < channels Hp of xp is padded row r (Wp floats, 0 in the padding); row
 * r = channels Hp stands for the `slack` floats after the last row, zeroed.
 * Channels [0, C0) are up [C0, H0, W0] resized (nearest) to H x W, the rest
 * x (a UNet decoder's torch.cat([interpolate(up), skip]) joined here); C0 =
 * 0 copies x alone. */
static inline void tc_conv_pad_row(uint r, __global const float *restrict x, uint x_off,
                                   __global float *restrict xp, uint H, uint W, uint Hp, uint Wp,
                                   uint ph, uint pw, uint channels, uint slack,
                                   __global const float *restrict up, uint up_off, uint C0,
                                   uint H0, uint W0, float sh, float sw)
{
    uint rows = channels * Hp;
    if (r > rows)
        return;
    __global float *restrict dst = xp + (size_t)r * Wp;
    if (r == rows) {
        for (uint i = 0; i < slack; i++)
            dst[i] = 0.0f;
        return;
    }
    uint ci = r / Hp, py = r - ci * Hp;
    if (py < ph || py >= ph + H) {
        uint px = 0;
        for (; px + 16 <= Wp; px += 16)
            TC_STORE16((float16)(0.0f), 0, dst + px);
        for (; px < Wp; px++)
            dst[px] = 0.0f;
        return;
    }
    for (uint px = 0; px < pw; px++)
        dst[px] = 0.0f;
    __global float *restrict row = dst + pw;
    uint px = 0;
    if (ci < C0) {
        uint sy = tc_nearest_src(py - ph, H0, H, sh);
        __global const float *restrict src = up + up_off + ((size_t)ci * H0 + sy) * W0;
        /* Doubling (UNets' scale 2): source column px / 2, 8 sources to
         * 16 outputs at a time. */
        if (W == 2 * W0)
            for (; px + 16 <= W; px += 16) {
                float8 a = vload8(0, src + px / 2);
                TC_STORE16(a.s0011223344556677, 0, row + px);
            }
        else if (W == W0) /* a join at the same size (a UNet's last block) */
            for (; px + 16 <= W; px += 16)
                TC_STORE16(vload16(0, src + px), 0, row + px);
        for (; px < W; px++)
            row[px] = src[tc_nearest_src(px, W0, W, sw)];
    } else {
        __global const float *restrict src = x + x_off + ((size_t)(ci - C0) * H + (py - ph)) * W;
        for (; px + 16 <= W; px += 16)
            TC_STORE16(vload16(0, src + px), 0, row + px);
        for (; px < W; px++)
            row[px] = src[px];
    }
    for (px = pw + W; px < Wp; px++)
        dst[px] = 0.0f;
}

/* Work-item i copies rows [i rows_per_item, (i + 1) rows_per_item): a few
 * KiB each, so that short rows (16 channels at 224x224: 3600 rows of 226
 * floats) do not cost a work-item each. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_conv_pad_input(__global const float *restrict x, uint x_off,
                       __global float *restrict xp, uint H, uint W, uint Hp, uint Wp, uint ph,
                       uint pw, uint channels, uint slack, __global const float *restrict up,
                       uint up_off, uint C0, uint H0, uint W0, float sh, float sw,
                       uint rows_per_item)
{
    const uint r0 = (uint)get_global_id(0) * rows_per_item;
    for (uint r = r0; r < r0 + rows_per_item; r++)
        tc_conv_pad_row(r, x, x_off, xp, H, W, Hp, Wp, ph, pw, channels, slack, up, up_off, C0,
                        H0, W0, sh, sw);
}

/* p[0..15], with 0 for the lanes at or past `avail` floats. */
static inline float16 tc_conv_load_guarded(__global const float *p, long avail)
{
    float t[16];
    for (int l = 0; l < 16; l++)
        t[l] = l < avail ? p[l] : 0.0f;
    return vload16(0, t);
}

/* Dilations fixed at build time where the host sets them: each tap's
 * offset in a row of xp is then a constant of the address, not one more
 * live register (with nine taps and CONV_MR weight rows those spilled). */
#ifdef CONV_DH
#define TC_CONV_DH CONV_DH
#define TC_CONV_DW CONV_DW
#else
#define TC_CONV_DH dh
#define TC_CONV_DW dw
#endif

/* The tile's sums over channels [ci0, ci1): LOADV(v) gives vector v of the
 * B row at bp. */
#define CONV_TILE_SUM(LOADV)                                                                    \
    do {                                                                                        \
        int k = ci0 * CONV_KH * CONV_KW;                                                        \
        for (int ci = ci0; ci < ci1; ci++, chan += plane) {                                     \
            _Pragma("unroll") for (int ky = 0; ky < CONV_KH; ky++) {                            \
                _Pragma("unroll") for (int kx = 0; kx < CONV_KW; kx++, k++) {                   \
                    __global const float *bp = chan + ky * TC_CONV_DH * Wp + kx * TC_CONV_DW;   \
                    float16 bv[CONV_NV];                                                        \
                    _Pragma("unroll") for (int v = 0; v < CONV_NV; v++) bv[v] = LOADV;          \
                    _Pragma("unroll") for (int i = 0; i < CONV_MR; i++) {                       \
                        float16 a = (float16)(arow[i][k]);                                      \
                        _Pragma("unroll") for (int v = 0; v < CONV_NV; v++)                     \
                            acc[i][v] = fma(a, bv[v], acc[i][v]);                               \
                    }                                                                           \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    } while (0)

/* y [Cout, Ho, Wo] (at y_off) = act(W [Cout, Cin kh kw] conv xp + bias),
 * over the input channels [ci0, ci1) per launch: the host splits the
 * channels into blocks whose strip of xp stays in L2 while every row tile
 * reads it. accumulate: add to what y holds (the blocks before);
 * last: this block ends the sum, the bias and ReLU follow.
 * Work-item: (row tile, strip of CONV_PANEL column tiles), row tiles
 * fastest so that neighbours share the strip of xp.
 * CONV_OUT_PADDED (a same-size convolution with padding 1, whose output
 * the next 3x3 convolution reads): y is written as that convolution's
 * padded copy, Cout planes of Hp x Wp floats (Hp = Ho + 2, Wp = Wo + 2)
 * with zero borders, then y_slack zeros. Column j = oy Wp + ox then lands
 * at j + Wp + 1 of its plane, and the padding columns it computes (ox >=
 * Wo) fall on the borders between rows, stored as zeros: every vector of a
 * tile is one store, and the next convolution needs no copy. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_conv2d_implicit(int Cout, int Cin, int ci0, int ci1, __global const float *restrict Wt,
                        uint w_off, __global const float *restrict xp, uint xp_off,
                        uint xp_len, uint plane, int Wp, int dh,
                        int dw, __global float *restrict y, uint y_off, int Ho, int Wo,
                        int tiles_m, int tiles_n, __global const float *restrict bias,
                        uint b_off, int has_bias, int relu, int accumulate, int last,
                        uint y_slack)
{
    Wt += w_off;
    xp += xp_off;
    y += y_off;
    bias += b_off;
    const int g = (int)get_global_id(0);
    const int strip = g / tiles_m, tm = g - strip * tiles_m;
    const int tn0 = strip * CONV_PANEL, tcount = min(CONV_PANEL, tiles_n - tn0);
    const int i0 = tm * CONV_MR, K = Cin * CONV_KH * CONV_KW;
    const int ncols = Ho * Wp;

    __global const float *arow[CONV_MR];
#pragma unroll
    for (int i = 0; i < CONV_MR; i++)
        arow[i] = Wt + (size_t)min(i0 + i, Cout - 1) * K;

    for (int t = 0; t < tcount; t++) {
        const int j0 = (tn0 + t) * CONV_NR;
        float16 acc[CONV_MR][CONV_NV];
#pragma unroll
        for (int i = 0; i < CONV_MR; i++)
#pragma unroll
            for (int v = 0; v < CONV_NV; v++)
                acc[i][v] = (float16)(0.0f);

        /* Column j -> output pixel (j / Wp, j % Wp), kept when inside Wo.
         * Per vector of 16 columns, where its first column lands and
         * whether all 16 are one run of an output row (then one vector
         * store); the others (a row's end and its padding columns, the last
         * tile's columns past the map) go lane by lane. Worked out once per
         * vector: with few input channels (a UNet's last blocks, 144-288
         * products per column) a pass over every column cost as much as a
         * tenth of the sums. */
        int vy[CONV_NV], vx[CONV_NV], whole[CONV_NV];
        {
            int oy = j0 / Wp, ox = j0 - oy * Wp;
#pragma unroll
            for (int v = 0; v < CONV_NV; v++) {
                vy[v] = oy;
                vx[v] = ox;
#if CONV_OUT_PADDED
                whole[v] = j0 + 16 * v + 15 < ncols;
#else
                whole[v] = ox + 15 < Wo && j0 + 16 * v + 15 < ncols;
#endif
                ox += 16;
                while (ox >= Wp) {
                    ox -= Wp;
                    oy++;
                }
            }
        }
        /* The lines the whole vectors will be stored to, requested for
         * writing now so that they arrive while the sums run: the tile's
         * CONV_MR output rows lie a plane apart, which the hardware
         * prefetcher does not follow, and the stores would wait on them.
         * bench_ab, resnet50 + smp Unet at 224, alternating: 3x3 16 -> 16
         * @224 0.90-0.96 of the time, 32 -> 32 @112 0.95-0.98. */
#if CONV_OUT_PADDED
        const size_t out_plane = plane;
        /* Lanes on padding columns (the host has Wp >= 16: one wrap at
         * most per vector). */
        int16 keep[CONV_NV];
#pragma unroll
        for (int v = 0; v < CONV_NV; v++) {
            int16 col = (int16)(vx[v]) + (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            col = select(col, col - Wp, col >= Wp);
            keep[v] = col < Wo;
        }
#define CONV_OUT_AT(v) (j0 + 16 * (v) + Wp + 1)
#else
        const size_t out_plane = (size_t)Ho * Wo;
#define CONV_OUT_AT(v) (vy[v] * Wo + vx[v])
#endif
#pragma unroll
        for (int i = 0; i < CONV_MR; i++) {
            __global const float *yrow = y + (size_t)min(i0 + i, Cout - 1) * out_plane;
#pragma unroll
            for (int v = 0; v < CONV_NV; v++)
                if (whole[v]) {
                    TC_PREFETCH(yrow + CONV_OUT_AT(v), 1);
                    TC_PREFETCH(yrow + CONV_OUT_AT(v) + 15, 1);
                }
        }
        __global const float *chan = xp + (size_t)ci0 * plane + j0;
        /* Whether the tile's last read stays inside xp: always with the
         * padded copy (it has slack); the last tiles of a 1x1 convolution
         * reading x itself take the guarded loads. */
        const size_t reach = (size_t)(ci1 - 1) * plane + (size_t)((CONV_KH - 1) * dh * Wp) +
                             (size_t)((CONV_KW - 1) * dw) + (size_t)j0 + CONV_NR;
        if (reach <= xp_len)
            CONV_TILE_SUM(vload16(v, bp));
        else
            CONV_TILE_SUM(tc_conv_load_guarded(bp + 16 * v, (long)xp_len - (long)(bp - xp) - 16 * v));

#pragma unroll
        for (int i = 0; i < CONV_MR; i++) {
            if (i0 + i >= Cout)
                break;
            const float b = last && has_bias ? bias[i0 + i] : 0.0f;
            const int act = last && relu;
            __global float *yrow = y + (size_t)(i0 + i) * out_plane;
#pragma unroll
            for (int v = 0; v < CONV_NV; v++) {
                float16 r = acc[i][v] + b;
                if (whole[v]) {
                    __global float *yo = yrow + CONV_OUT_AT(v);
                    if (accumulate)
                        r += vload16(0, yo);
                    if (act)
                        r = fmax(r, (float16)(0.0f));
#if CONV_OUT_PADDED
                    r = select((float16)(0.0f), r, keep[v]);
#endif
                    TC_STORE16(r, 0, yo);
                    continue;
                }
                float lane[16];
                TC_STORE16_PRIVATE(r, 0, lane);
                int oy = vy[v], ox = vx[v];
                for (int l = 0; l < 16; l++) {
#if CONV_OUT_PADDED
                    if (j0 + 16 * v + l < ncols) {
                        __global float *yo = yrow + CONV_OUT_AT(v) + l;
                        const float o = accumulate ? *yo + lane[l] : lane[l];
                        *yo = ox >= Wo ? 0.0f : act ? fmax(o, 0.0f) : o;
                    }
#else
                    if (j0 + 16 * v + l < ncols && ox < Wo) {
                        __global float *yo = yrow + oy * Wo + ox;
                        const float o = accumulate ? *yo + lane[l] : lane[l];
                        *yo = act ? fmax(o, 0.0f) : o;
                    }
#endif
                    if (++ox == Wp) {
                        ox = 0;
                        oy++;
                    }
                }
            }
#if CONV_OUT_PADDED
            /* The borders no column lands on: the first tile zeroes the
             * plane's top row and the next row's first float, the last
             * tile the rest of the bottom row and, after the last plane,
             * the slack that the next convolution's last tiles read. */
            if (last && j0 == 0)
                for (int e = 0; e < Wp + 1; e++)
                    yrow[e] = 0.0f;
            if (last && j0 + CONV_NR >= ncols) {
                for (size_t e = (size_t)ncols + Wp + 1; e < out_plane; e++)
                    yrow[e] = 0.0f;
                if (i0 + i == Cout - 1)
                    for (uint e = 0; e < y_slack; e++)
                        yrow[out_plane + e] = 0.0f;
            }
#endif
        }
    }
}
#undef CONV_OUT_AT

/*
 * ConvTranspose2d with kernel = stride and no padding (the 2x2, stride 2
 * upsampling of UNets and necks), without a column matrix: the GEMM
 * x^T [H W, Cin] W [Cin, Cout k k] whose element (p, r) is the tap r =
 * (co, ky, kx) of input pixel p = (iy, ix), stored straight at its single
 * output place y[co, iy k + ky, ix k + kx] (taps never overlap when the
 * kernel equals the stride), bias added. Tiles: CONV_MR pixels x
 * 16 CONV_NV taps, one input value broadcast against CONV_NV vectors of a
 * weight row per step; a work-item walks CONV_PANEL tiles along the taps.
 * The host sends only Cout k k that are multiples of 16 CONV_NV. With
 * CONV_PACKED_B the weight is packed (TC_PACKED_KN: panel q holds taps
 * 64 q .. 64 q + 63 as Cin rows of 64 floats, CONV_NR = 64), so a tile's
 * weight rows are one contiguous stream instead of rows M floats apart.
 */
#ifndef CONV_PACKED_B
#define CONV_PACKED_B 0
#endif
#ifndef CONV_TK
#define CONV_TK 0 /* 2 or 4: the kernel size, known at build time */
#endif
#if CONV_TK != 0 && CONV_TK != 2 && CONV_TK != 4
#error "CONV_TK must be 0, 2 or 4"
#endif
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_conv_transpose2d_direct(int P, int M, int Cin, __global const float *restrict x,
                                uint x_off, __global const float *restrict Wt, uint w_off,
                                __global float *restrict y, uint y_off, int W, int Wo, int k,
                                int tiles_m, int tiles_n, __global const float *restrict bias,
                                uint b_off, int has_bias)
{
    x += x_off;
    Wt += w_off;
    y += y_off;
    bias += b_off;
    const int g = (int)get_global_id(0);
    const int strip = g / tiles_m, tm = g - strip * tiles_m;
    const int tn0 = strip * CONV_PANEL, tcount = min(CONV_PANEL, tiles_n - tn0);
    const int i0 = tm * CONV_MR, kk = k * k;
    const size_t out_plane = (size_t)(P / W) * k * Wo;

    __global const float *arow[CONV_MR];
    size_t pix[CONV_MR]; /* output offset of each pixel's tap (0, 0) */
#pragma unroll
    for (int i = 0; i < CONV_MR; i++) {
        int p = min(i0 + i, P - 1), iy = p / W, ix = p - iy * W;
        arow[i] = x + p;
        pix[i] = (size_t)iy * k * Wo + (size_t)ix * k;
    }

    for (int t = 0; t < tcount; t++) {
        const int j0 = (tn0 + t) * CONV_NR;
        float16 acc[CONV_MR][CONV_NV];
#pragma unroll
        for (int i = 0; i < CONV_MR; i++)
#pragma unroll
            for (int v = 0; v < CONV_NV; v++)
                acc[i][v] = (float16)(0.0f);
#if CONV_TK
        /* k = CONV_TK at build time: the taps of a tile are (co, ky, kx)
         * with kx fastest, so each group of CONV_TK lanes is one run of
         * adjacent output floats; no divisions per lane, one vector store
         * per run instead of CONV_TK scalar ones. */
        const int kk_tk = CONV_TK * CONV_TK;
        size_t off[CONV_NR / CONV_TK];
        for (int c = 0; c < CONV_NR / CONV_TK; c++) {
            int r = j0 + c * CONV_TK, co = r / kk_tk, ky = (r - co * kk_tk) / CONV_TK;
            off[c] = (size_t)co * out_plane + (size_t)ky * Wo;
        }
        /* The output runs of the tile's first and last pixel, one per
         * (co, ky), requested now: rows a plane apart defeat the hardware
         * prefetcher, and the scattered stores would wait on them. */
        for (int c = 0; c < CONV_NR / CONV_TK; c++) {
            TC_PREFETCH(y + pix[0] + off[c], 1);
            TC_PREFETCH(y + pix[CONV_MR - 1] + off[c] + CONV_TK - 1, 1);
        }
#endif
#if CONV_PACKED_B
        __global const float *bp = Wt + (size_t)j0 * Cin;
        const int b_step = CONV_NR;
#else
        __global const float *bp = Wt + j0;
        const int b_step = M;
#endif
        for (int ci = 0; ci < Cin; ci++, bp += b_step) {
            float16 bv[CONV_NV];
#pragma unroll
            for (int v = 0; v < CONV_NV; v++)
                bv[v] = vload16(v, bp);
#pragma unroll
            for (int i = 0; i < CONV_MR; i++) {
                float16 a = (float16)(arow[i][(size_t)ci * P]);
#pragma unroll
                for (int v = 0; v < CONV_NV; v++)
                    acc[i][v] = fma(a, bv[v], acc[i][v]);
            }
        }
#if CONV_TK
        float bcol[CONV_NR / kk_tk];
        for (int c = 0; c < CONV_NR / kk_tk; c++)
            bcol[c] = has_bias ? bias[j0 / kk_tk + c] : 0.0f;
#pragma unroll
        for (int i = 0; i < CONV_MR; i++) {
            if (i0 + i >= P)
                break;
            __global float *base = y + pix[i];
#pragma unroll
            for (int v = 0; v < CONV_NV; v++) {
                float lane[16];
                TC_STORE16_PRIVATE(acc[i][v], 0, lane);
#pragma unroll
                for (int l = 0; l < 16; l += CONV_TK) {
                    const int c = 16 * v + l;
#if CONV_TK == 2
                    vstore2(vload2(0, lane + l) + bcol[c / kk_tk], 0, base + off[c / 2]);
#else
                    vstore4(vload4(0, lane + l) + bcol[c / kk_tk], 0, base + off[c / 4]);
#endif
                }
            }
        }
#else
        /* Tap r -> its place relative to the pixel's (0, 0) tap, and its bias. */
        size_t off[CONV_NR];
        float bcol[CONV_NR];
        for (int c = 0; c < CONV_NR; c++) {
            int r = j0 + c, co = r / kk, rem = r - co * kk, ky = rem / k, kx = rem - ky * k;
            off[c] = (size_t)co * out_plane + (size_t)ky * Wo + kx;
            bcol[c] = has_bias ? bias[co] : 0.0f;
        }
#pragma unroll
        for (int i = 0; i < CONV_MR; i++) {
            if (i0 + i >= P)
                break;
            __global float *base = y + pix[i];
#pragma unroll
            for (int v = 0; v < CONV_NV; v++) {
                float lane[16];
                TC_STORE16_PRIVATE(acc[i][v], 0, lane);
                for (int l = 0; l < 16; l++)
                    base[off[16 * v + l]] = lane[l] + bcol[16 * v + l];
            }
        }
#endif
    }
}

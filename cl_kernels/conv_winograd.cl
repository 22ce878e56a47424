/*
 * 3x3 Conv2d with stride 1 as Winograd F(m x m, 3x3) on CPU devices, m =
 * WINO_M (2 or 4, fixed at build time): each m x m block of output pixels
 * (a tile) comes from the a x a window of input around it (a = m + 2)
 * with a^2 products per channel instead of 9 m^2 (16 for 36 at m = 2,
 * 36 for 144 at m = 4).
 *
 * Dilation d spreads a tile's pixels and its window d apart: tile bases
 * are the positions b with b mod md < d (tile index t -> base
 * (t / d) md + t mod d), so the tiles of one phase (b mod d) cover it
 * without overlap, the pixels b, b + d, .. of a tile sharing the phase.
 * With d = 1 this is the plain tiling b = mt.
 *
 *   V = B^T d B   per input window d and channel (tc_wino_input)
 *   M_e = V_e U_e^T   a^2 GEMMs over the channels, one per element e of
 *                 the a x a transformed tile, with U = G g G^T the
 *                 transformed weights packed per e (tc_sgemm_packed,
 *                 batched; made on the host, conv_winograd.c)
 *   y = A^T M A + bias, ReLU  per tile and output channel (tc_wino_output)
 *
 * with, for m = 2 (interpolation points 0, 1, -1, inf),
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], A^T = [1 1 1 0; 0 1 -1 -1]
 * and for m = 4 (points 0, 1, -1, 2, -2, inf)
 *   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0;
 *          0 2 -1 -2 1 0; 0 4 0 -5 0 1],
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
 * A work-item handles 16 channels as float16 lanes.
 */
#ifndef WINO_M
#define WINO_M 2
#endif
#define WINO_A (WINO_M + 2)

/* out = B^T in for one line of the window. */
static inline void tc_wino_bt(const float16 in[WINO_A], float16 out[WINO_A])
{
#if WINO_M == 2
    out[0] = in[0] - in[2];
    out[1] = in[1] + in[2];
    out[2] = in[2] - in[1];
    out[3] = in[1] - in[3];
#else
    out[0] = 4.0f * in[0] - 5.0f * in[2] + in[4];
    out[1] = in[3] + in[4] - 4.0f * (in[1] + in[2]);
    out[2] = in[4] - in[3] + 4.0f * (in[1] - in[2]);
    out[3] = in[4] - in[2] + 2.0f * (in[3] - in[1]);
    out[4] = in[4] - in[2] + 2.0f * (in[1] - in[3]);
    out[5] = 4.0f * in[1] - 5.0f * in[3] + in[5];
#endif
}

/* out = A^T in for one line of the transformed tile. */
static inline void tc_wino_at(const float16 in[WINO_A], float16 out[WINO_M])
{
#if WINO_M == 2
    out[0] = in[0] + in[1] + in[2];
    out[1] = in[1] - in[2] - in[3];
#else
    const float16 s12 = in[1] + in[2], d12 = in[1] - in[2];
    const float16 s34 = in[3] + in[4], d34 = in[3] - in[4];
    out[0] = in[0] + s12 + s34;
    out[1] = d12 + 2.0f * d34;
    out[2] = s12 + 4.0f * s34;
    out[3] = d12 + 8.0f * d34 + in[5];
#endif
}

/* The first pixel of tile t along a dimension dilated by d. */
static inline int tc_wino_base(int t, int d)
{
    return t / d * WINO_M * d + t % d;
}

/* Where the input channels come from: a map of the input's size (Hs, Ws
 * = H, W), or (a UNet decoder's upsampled half) a smaller map that nearest
 * interpolation resizes to it. */
struct tc_wino_src {
    __global const float *restrict x;
    int Hs, Ws;
    float sh, sw; /* nearest scales, Hs / H and Ws / W */
    int cl;       /* WINO_CL: channels per pixel of x */
};

#ifndef WINO_CL
#define WINO_CL 0
#endif

/* One column of the input window: rows y0, y0 + dh, .. at column ix of
 * the `lanes` channels of s (0 outside the H x W map). */
static inline void tc_wino_column(const struct tc_wino_src *s, int H, int W, int y0, int dh,
                                  int ix, int lanes, float16 col[WINO_A])
{
    const size_t plane = (size_t)s->Hs * s->Ws;
    const int sx = ix >= 0 && ix < W ? (int)tc_nearest_src((uint)ix, s->Ws, W, s->sw) : 0;
#pragma unroll
    for (int r = 0; r < WINO_A; r++) {
        const int iy = y0 + r * dh;
        const int inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
        const int sy = inside ? (int)tc_nearest_src((uint)iy, s->Hs, H, s->sh) : 0;
#if WINO_CL
        (void)plane;
        __global const float *p = s->x + ((size_t)sy * s->Ws + sx) * s->cl;
        if (inside && lanes == 16) {
            col[r] = vload16(0, p);
        } else {
            float v[16];
            for (int l = 0; l < 16; l++)
                v[l] = inside && l < lanes ? p[l] : 0.0f;
            col[r] = vload16(0, v);
        }
#else
        col[r] = tc_gather_channels(s->x, plane, (size_t)sy * s->Ws + sx, inside, lanes);
#endif
    }
}

/* V at least this large (bytes) is written with streaming stores: it
 * cannot stay in a core's L2 until the GEMM reads it, and a^2 write
 * streams per work-item each had their lines read in first. bench_ab,
 * resnet50 + smp Unet at 224, alternating in one process: the three
 * transforms writing 5.4-10.8 MB took 0.51-0.62 of the time, those
 * writing 1.8-3.6 MB 0.52-1.04, the GEMMs reading V 0.97-1.03x; with
 * every V streamed, the GEMMs reading a 0.6 MB one lost more than its
 * transform gained (+0.26 ms against +0.01). */
#define WINO_STREAM_MIN_BYTES (3u << 19)

/* B^T d B for the window d (d[c][r]: column c, row r) of `lanes`
 * channels, stored at out + e estride for each element e = a r + c
 * (streamed: with streaming stores, out 64-byte aligned). */
static inline void tc_wino_store_tile(float16 d[WINO_A][WINO_A], int lanes,
                                      __global float *out, size_t estride, int streamed)
{
    float16 m[WINO_A][WINO_A]; /* m[c][r]: B^T along each column */
#pragma unroll
    for (int c = 0; c < WINO_A; c++)
        tc_wino_bt(d[c], m[c]);
#pragma unroll
    for (int r = 0; r < WINO_A; r++) {
        float16 row[WINO_A], v[WINO_A];
#pragma unroll
        for (int c = 0; c < WINO_A; c++)
            row[c] = m[c][r];
        tc_wino_bt(row, v);
#pragma unroll
        for (int c = 0; c < WINO_A; c++) {
            __global float *p = out + (size_t)(WINO_A * r + c) * estride;
            if (lanes == 16 && streamed) {
                TC_STREAM_STORE16(v[c], p);
            } else if (lanes == 16) {
                TC_STORE16(v[c], 0, p);
            } else {
                float s[16];
                TC_STORE16_PRIVATE(v[c], 0, s);
                for (int l = 0; l < lanes; l++)
                    p[l] = s[l];
            }
        }
    }
}

/* V [a^2][T][Cin] (element e of tile t, channel ci at e T Cin + t Cin + ci)
 * from the input [Cin, H, W] (one batch item) with zero padding (ph, pw)
 * and dilation (dh, dw). Its channels [0, C0) are x [C0, H0, W0] resized
 * (nearest) to H x W, the rest x1 [Cin - C0, H, W] (a UNet decoder's
 * torch.cat([interpolate(x), skip]) read where it lies; C0 a multiple of
 * 16 when below Cin); a plain input is x with C0 = Cin, H0 = H, W0 = W. Tile t = ty tiles_x + tx covers output rows by +
 * {0 .. m-1} dh and columns bx + {0 .. m-1} dw (by, bx its bases), its
 * window input rows by - ph + {0 .. a-1} dh. With WINO_CL the host has
 * transposed both sources channels-last (x [H0, W0, C0], x1 [H, W,
 * Cin - C0]), and a pixel's channels are one vector load instead of a
 * gather across planes. A work-item makes one row of
 * tiles for 16 channels (a work-item per tile costs more in the driver's
 * scheduling than its work), phase by phase, so that neighbouring windows
 * of a phase share two columns. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_wino_input(__global const float *restrict x, uint x_off,
                   __global const float *restrict x1, uint x1_off, __global float *restrict V,
                   int Cin, int C0, int H0, int W0, float sh, float sw, int H, int W, int ph,
                   int pw, int dh, int dw, int tiles_x, int T)
{
    const int cg = (int)get_global_id(0), ty = (int)get_global_id(1);
    const int c0 = 16 * cg, up = c0 < C0, lanes = min(16, (up ? C0 : Cin) - c0);
    const int y0 = tc_wino_base(ty, dh) - ph;
    const size_t estride = (size_t)T * Cin;
    struct tc_wino_src s;
    /* WINO_CL: x [H0, W0, C0] and x1 [H, W, Cin - C0], channels-last. */
    if (up) {
        s.x = x + x_off + (size_t)c0 * (WINO_CL ? 1 : H0 * W0);
        s.Hs = H0;
        s.Ws = W0;
        s.cl = C0;
    } else {
        s.x = x1 + x1_off + (size_t)(c0 - C0) * (WINO_CL ? 1 : H * W);
        s.Hs = H;
        s.Ws = W;
        s.cl = Cin - C0;
    }
    s.sh = sh;
    s.sw = sw;

    /* Streaming stores where V is large and every tile's run of channels
     * starts on a 64-byte line (Cin a multiple of 16, V aligned). */
    const int streamed = TC_STREAM_STORES && (Cin & 15) == 0 && ((size_t)V & 63) == 0 &&
                         (size_t)WINO_A * WINO_A * estride * sizeof(float) >= WINO_STREAM_MIN_BYTES;
    float16 d[WINO_A][WINO_A]; /* d[c][r]: column c, row r of the window */
    for (int phase = 0; phase < dw && phase < tiles_x; phase++) {
        tc_wino_column(&s, H, W, y0, dh, phase - pw, lanes, d[WINO_M]);
        tc_wino_column(&s, H, W, y0, dh, phase - pw + dw, lanes, d[WINO_M + 1]);
        for (int tx = phase; tx < tiles_x; tx += dw) {
            const int x0 = tc_wino_base(tx, dw) - pw;
#pragma unroll
            for (int r = 0; r < WINO_A; r++) {
                d[0][r] = d[WINO_M][r];
                d[1][r] = d[WINO_M + 1][r];
            }
#pragma unroll
            for (int c = 2; c < WINO_A; c++)
                tc_wino_column(&s, H, W, y0, dh, x0 + c * dw, lanes, d[c]);
            tc_wino_store_tile(d, lanes, V + (size_t)(ty * tiles_x + tx) * Cin + c0, estride,
                               streamed);
        }
    }
    if (streamed)
        TC_STREAM_FENCE();
}

/* rows[l] lane j -> rows[j] lane l (a 16 x 16 block transposed in
 * registers): each round exchanges the bit of the row index and of the
 * lane index that it names (blocks 8, 4, 2 and 1 lanes wide), two-source
 * shuffles throughout. */
static inline void tc_transpose16(float16 r[16])
{
    float16 t[16];
#pragma unroll
    for (int i = 0; i < 8; i++) {
        t[i] = (float16)(r[i].lo, r[i + 8].lo);
        t[i + 8] = (float16)(r[i].hi, r[i + 8].hi);
    }
#pragma unroll
    for (int i = 0; i < 16; i++) {
        if (i & 4)
            continue;
        r[i] = (float16)(t[i].s0123, t[i + 4].s0123, t[i].s89ab, t[i + 4].s89ab);
        r[i + 4] = (float16)(t[i].s4567, t[i + 4].s4567, t[i].scdef, t[i + 4].scdef);
    }
#pragma unroll
    for (int i = 0; i < 16; i++) {
        if (i & 2)
            continue;
        t[i] = (float16)(r[i].s01, r[i + 2].s01, r[i].s45, r[i + 2].s45, r[i].s89, r[i + 2].s89,
                         r[i].scd, r[i + 2].scd);
        t[i + 2] = (float16)(r[i].s23, r[i + 2].s23, r[i].s67, r[i + 2].s67, r[i].sab,
                             r[i + 2].sab, r[i].sef, r[i + 2].sef);
    }
#pragma unroll
    for (int i = 0; i < 16; i += 2) {
        const float16 a = t[i], b = t[i + 1];
        r[i] = (float16)(a.s0, b.s0, a.s2, b.s2, a.s4, b.s4, a.s6, b.s6, a.s8, b.s8, a.sa, b.sa,
                         a.sc, b.sc, a.se, b.se);
        r[i + 1] = (float16)(a.s1, b.s1, a.s3, b.s3, a.s5, b.s5, a.s7, b.s7, a.s9, b.s9, a.sb,
                             b.sb, a.sd, b.sd, a.sf, b.sf);
    }
}

/* Columns c .. c + 15 of the map row whose W floats start at p, all
 * inside it (0 <= c <= W - 16). doubled: the row is p's W / 2 floats
 * resized to W by nearest interpolation (column ix reads p[ix / 2]). */
static inline float16 tc_wino_run16(__global const float *restrict p, int c, int doubled)
{
    if (!doubled)
        return vload16(0, p + c);
    const float8 a = vload8(0, p + (c >> 1));
    if ((c & 1) == 0)
        return a.s0011223344556677;
    return (float16)(a.s0112, a.s2334, a.s4556, a.s677, p[(c >> 1) + 8]);
}

/* Tiles whose windows one run of 16 columns holds. */
#define WINO_RUN_TILES ((16 - WINO_A) / WINO_M + 1)

/* tc_wino_input for undilated windows on a source of the input's size or
 * half of it (nearest doubling, a UNet's upsampled half), without the
 * gather across channel planes: for each row of its windows, a work-item
 * loads runs of 16 columns from each of its 16 channels and transposes
 * them in registers to 16-channel vectors, one run for WINO_RUN_TILES
 * tiles. The gather (16 scalar loads and their assembly per vector) cost
 * more than the transform; so did transposing the whole input
 * channels-last first on maps of 56x56 and smaller. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_wino_input_runs(__global const float *restrict x, uint x_off,
                        __global const float *restrict x1, uint x1_off,
                        __global float *restrict V, int Cin, int C0, int H0, int W0,
                        float sh, float sw, int H, int W, int ph, int pw, int dh, int dw,
                        int tiles_x, int T)
{
    /* tc_wino_input's arguments, so that one list serves both; the scales
     * and dilations are implied here (nearest doubling or none, 1). */
    (void)sh;
    (void)sw;
    (void)dh;
    (void)dw;
    const int cg = (int)get_global_id(0), ty = (int)get_global_id(1);
    const int c0 = 16 * cg, up = c0 < C0, lanes = min(16, (up ? C0 : Cin) - c0);
    const int doubled = up && H0 != H;
    const int Ws = doubled ? W0 : W;
    const size_t plane = up ? (size_t)H0 * W0 : (size_t)H * W;
    __global const float *restrict src =
        up ? x + x_off + (size_t)c0 * plane : x1 + x1_off + (size_t)(c0 - C0) * plane;
    const int y0 = ty * WINO_M - ph;
    const size_t estride = (size_t)T * Cin;
    const int streamed = TC_STREAM_STORES && (Cin & 15) == 0 && ((size_t)V & 63) == 0 &&
                         (size_t)WINO_A * WINO_A * estride * sizeof(float) >= WINO_STREAM_MIN_BYTES;
    for (int tx0 = 0; tx0 < tiles_x; tx0 += WINO_RUN_TILES) {
        /* The windows' columns sx0 .. sx0 + 15 come from the run loaded at
         * sx0 clamped into the row (W >= 16), which holds every one of them
         * inside the map; those outside it are the zero padding. */
        const int sx0 = tx0 * WINO_M - pw, at = clamp(sx0, 0, W - 16), shift = sx0 - at;
        float16 cols[WINO_A][16]; /* cols[r][j]: the channels at row y0 + r, column sx0 + j */
#pragma unroll 1
        for (int r = 0; r < WINO_A; r++) {
            const int iy = y0 + r;
            float16 run[16];
            if (iy < 0 || iy >= H) {
#pragma unroll
                for (int j = 0; j < 16; j++)
                    cols[r][j] = (float16)(0.0f);
                continue;
            }
            __global const float *restrict row = src + (size_t)(doubled ? iy >> 1 : iy) * Ws;
#pragma unroll 1
            for (int l = 0; l < 16; l++)
                run[l] = l < lanes ? tc_wino_run16(row + l * plane, at, doubled) : (float16)(0.0f);
            tc_transpose16(run);
            if (shift == 0) {
#pragma unroll
                for (int j = 0; j < 16; j++)
                    cols[r][j] = run[j];
            } else {
                for (int j = 0; j < 16; j++) {
                    const int k = j + shift;
                    cols[r][j] = k >= 0 && k < 16 ? run[k] : (float16)(0.0f);
                }
            }
        }
        const int n = min(WINO_RUN_TILES, tiles_x - tx0);
#pragma unroll
        for (int j = 0; j < WINO_RUN_TILES; j++) {
            if (j >= n)
                break;
            float16 d[WINO_A][WINO_A];
#pragma unroll
            for (int c = 0; c < WINO_A; c++)
#pragma unroll
                for (int r = 0; r < WINO_A; r++)
                    d[c][r] = cols[r][j * WINO_M + c];
            tc_wino_store_tile(d, lanes, V + (size_t)(ty * tiles_x + tx0 + j) * Cin + c0,
                               estride, streamed);
        }
    }
    if (streamed)
        TC_STREAM_FENCE();
}

/* y [Cout, Ho, Wo] (one batch item, at y_off) = A^T M A + bias (+ y's own
 * value with accumulate: a residual the caller left there), ReLU (relu)
 * from M [a^2][T][Cout]; the output pixels of edge tiles past Ho or Wo are
 * dropped. Cout is a multiple of 16. A work-item makes one row of tiles
 * for 16 channels. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_wino_output(__global const float *restrict M, __global float *restrict y, uint y_off,
                    int Cout, int Ho, int Wo, int dh, int dw, int tiles_x, int T,
                    __global const float *restrict bias, uint b_off, int has_bias, int relu,
                    int accumulate)
{
    const int cg = (int)get_global_id(0), ty = (int)get_global_id(1);
    const int c0 = 16 * cg;
    const size_t estride = (size_t)T * Cout, out_plane = (size_t)Ho * Wo;
    const float16 b = has_bias ? vload16(0, bias + b_off + c0) : (float16)(0.0f);
    __global float *base = y + y_off + (size_t)c0 * out_plane;
    const int by = tc_wino_base(ty, dh);

    for (int tx = 0; tx < tiles_x; tx++) {
        __global const float *in = M + (size_t)(ty * tiles_x + tx) * Cout + c0;
        const int bx = tc_wino_base(tx, dw);
        /* A^T along each column of the tile, then along each row. */
        float16 s[WINO_M][WINO_A]; /* s[i][c] */
#pragma unroll
        for (int c = 0; c < WINO_A; c++) {
            float16 col[WINO_A], o[WINO_M];
#pragma unroll
            for (int r = 0; r < WINO_A; r++)
                col[r] = vload16(0, in + (size_t)(WINO_A * r + c) * estride);
            tc_wino_at(col, o);
#pragma unroll
            for (int i = 0; i < WINO_M; i++)
                s[i][c] = o[i];
        }
#pragma unroll
        for (int i = 0; i < WINO_M; i++) {
            const int oy = by + i * dh;
            float16 o[WINO_M];
            tc_wino_at(s[i], o);
            if (dw == 1 && oy < Ho && bx + WINO_M <= Wo) {
                /* The tile's row is one run of each channel's output row:
                 * stored (and with accumulate read) as one vector per
                 * channel instead of one float per pixel and channel. */
                float lane[WINO_M][16];
#pragma unroll
                for (int j = 0; j < WINO_M; j++)
                    TC_STORE16_PRIVATE(o[j] + b, 0, lane[j]);
                __global float *p = base + (size_t)oy * Wo + bx;
#pragma unroll
                for (int l = 0; l < 16; l++) {
#if WINO_M == 2
                    float2 v = (float2)(lane[0][l], lane[1][l]);
                    if (accumulate)
                        v += vload2(0, p + l * out_plane);
                    vstore2(relu ? fmax(v, (float2)(0.0f)) : v, 0, p + l * out_plane);
#else
                    float4 v = (float4)(lane[0][l], lane[1][l], lane[2][l], lane[3][l]);
                    if (accumulate)
                        v += vload4(0, p + l * out_plane);
                    vstore4(relu ? fmax(v, (float4)(0.0f)) : v, 0, p + l * out_plane);
#endif
                }
                continue;
            }
#pragma unroll
            for (int j = 0; j < WINO_M; j++) {
                const int ox = bx + j * dw;
                if (oy >= Ho || ox >= Wo)
                    continue;
                float lane[16];
                TC_STORE16_PRIVATE(o[j] + b, 0, lane);
                __global float *p = base + (size_t)oy * Wo + ox;
                for (int l = 0; l < 16; l++) {
                    float v = accumulate ? lane[l] + p[l * out_plane] : lane[l];
                    p[l * out_plane] = relu ? fmax(v, 0.0f) : v;
                }
            }
        }
    }
}

/*
 * Strided Conv2d as an implicit GEMM for CPU OpenCL drivers (the stride-1
 * form is conv_implicit.cl): no column matrix. The input of one batch item
 * is copied once with its zero padding around it and split into its s x s
 * phases (stride s; sh and sw may differ): plane (a, b) of
 * channel ci holds xq[ci, a, b, u, v] = xpad[ci, u s + a, v s + b]
 * (Hq = ceil(Hp / s) rows of Wq = ceil(Wp / s), Hp = H + 2 ph).
 * Output pixel (oy, ox) then is column j = oy Wq + ox of a GEMM whose row
 * k = (ci, ky, kx) of B is xq shifted by a fixed offset: the tap reads
 * padded row oy s + ky dh, that is phase (ky dh) % s, row oy + (ky dh) / s
 * of it (likewise along x). Every row of B is a contiguous run of xq, and
 * the taps of one channel read overlapping runs, so B streams from L1.
 * Columns with ox >= Wo (the Wq - Wo columns at the end of each row) are
 * computed and dropped at the store. Only the phases some tap reads are
 * copied (CONV_PY x CONV_PX of them: one for a 1x1 kernel).
 *
 * Tiles as tc_sgemm_nn (gemm.cl): CONV_MR output channels x 16 CONV_NV
 * columns per tile, one weight broadcast against CONV_NV float16 vectors of
 * B per step; a work-item walks CONV_PANEL tiles along the columns.
 * Epilogue: + bias[co] (has_bias), then ReLU (relu).
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
#ifndef CONV_SH
#define CONV_SH 1
#endif
#ifndef CONV_SW
#define CONV_SW 1
#endif
#ifndef CONV_PY
#define CONV_PY 1
#endif
#ifndef CONV_PX
#define CONV_PX 1
#endif
#define CONV_NR (16 * CONV_NV)
#define CONV_TAPS (CONV_KH * CONV_KW)
/* Kernels up to 3x3 unroll all their taps; larger ones only a row of taps
 * (a 7x7 unrolled whole takes PoCL four times as long to compile). */
#if CONV_TAPS <= 9
#define CONV_KY_UNROLL _Pragma("unroll")
#else
#define CONV_KY_UNROLL _Pragma("nounroll")
#endif

/* The padded, phase-split copy xq of x [channels, H, W] (one batch item):
 * work-item r < channels CONV_PY CONV_PX Hq writes row r of xq (Wq floats,
 * 0 in the padding); the work-item r = that count zeroes the `slack`
 * floats after the last row. */
__kernel void tc_conv_phase_input(__global const float *restrict x, uint x_off,
                                __global float *restrict xq, uint H, uint W, uint Hq, uint Wq,
                                uint ph, uint pw, uint channels, uint slack)
{
    uint r = get_global_id(0);
    uint rows = channels * (CONV_PY * CONV_PX) * Hq;
    if (r > rows)
        return;
    __global float *restrict dst = xq + (size_t)r * Wq;
    if (r == rows) {
        for (uint i = 0; i < slack; i++)
            dst[i] = 0.0f;
        return;
    }
    uint q = r / Hq, u = r - q * Hq;         /* q = (ci, a, b) */
    uint ci = q / (CONV_PY * CONV_PX), ab = q - ci * (CONV_PY * CONV_PX);
    uint a = ab / CONV_PX, b = ab - a * CONV_PX;
    uint py = u * CONV_SH + a;               /* row of the padded input */
    if (py < ph || py >= ph + H) {
        for (uint v = 0; v < Wq; v++)
            dst[v] = 0.0f;
        return;
    }
    __global const float *restrict src = x + x_off + ((size_t)ci * H + (py - ph)) * W;
    /* Column v reads padded column v s + b, x column v s + b - pw: inside x
     * for v in [v0, v1). */
    uint v0 = pw > b ? (pw - b + CONV_SW - 1) / CONV_SW : 0;
    uint v1 = pw + W > b ? (pw + W - b + CONV_SW - 1) / CONV_SW : 0;
    v0 = min(v0, Wq);
    v1 = clamp(v1, v0, Wq);
    for (uint v = 0; v < v0; v++)
        dst[v] = 0.0f;
    for (uint v = v0; v < v1; v++)
        dst[v] = src[v * CONV_SW + b - pw];
    for (uint v = v1; v < Wq; v++)
        dst[v] = 0.0f;
}

/* The tile's sums over channels [ci0, ci1): LOADV(v) gives vector v of the
 * B row at bp (tap (ky, kx) of the channel at chan). */
#define CONV_TILE_SUM(LOADV)                                                                    \
    do {                                                                                        \
        int k = ci0 * CONV_TAPS;                                                                \
        for (int ci = ci0; ci < ci1; ci++, chan += plane) {                                     \
            _Pragma("unroll") for (int ky = 0; ky < CONV_KH; ky++)                              \
            _Pragma("unroll") for (int kx = 0; kx < CONV_KW; kx++, k++) {                       \
                __global const float *bp = chan + toff[ky * CONV_KW + kx];                         \
                float16 bv[CONV_NV];                                                            \
                _Pragma("unroll") for (int v = 0; v < CONV_NV; v++) bv[v] = LOADV;              \
                _Pragma("unroll") for (int i = 0; i < CONV_MR; i++) {                           \
                    float16 a = (float16)(arow[i][k]);                                          \
                    _Pragma("unroll") for (int v = 0; v < CONV_NV; v++)                         \
                        acc[i][v] = fma(a, bv[v], acc[i][v]);                                   \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    } while (0)

/* y [Cout, Ho, Wo] (at y_off) = act(W [Cout, Cin kh kw] conv xq + bias),
 * over the input channels [ci0, ci1) per launch: the host splits the
 * channels into blocks whose strip of xq stays in L2 while every row tile
 * reads it. plane: floats per channel of xq (its phases together), qplane:
 * per phase (Hq Wq). accumulate: add to what y holds (the blocks before);
 * last: this block ends the sum, the bias and ReLU follow.
 * Work-item: (row tile, strip of CONV_PANEL column tiles), row tiles
 * fastest so that neighbours share the strip of xq. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_conv2d_phase(int Cout, int Cin, int ci0, int ci1, __global const float *restrict Wt,
                        uint w_off, __global const float *restrict xq, uint xq_off,
                        uint plane, uint qplane, int Wq, int dh,
                        int dw, __global float *restrict y, uint y_off, int Ho, int Wo,
                        int tiles_m, int tiles_n, __global const float *restrict bias,
                        uint b_off, int has_bias, int relu, int accumulate, int last)
{
    Wt += w_off;
    xq += xq_off;
    y += y_off;
    bias += b_off;
    const int g = (int)get_global_id(0);
    const int strip = g / tiles_m, tm = g - strip * tiles_m;
    const int tn0 = strip * CONV_PANEL, tcount = min(CONV_PANEL, tiles_n - tn0);
    const int i0 = tm * CONV_MR, K = Cin * CONV_TAPS;

    __global const float *arow[CONV_MR];
#pragma unroll
    for (int i = 0; i < CONV_MR; i++)
        arow[i] = Wt + (size_t)min(i0 + i, Cout - 1) * K;
    /* Offset of tap (ky, kx) in a channel of xq: its phase plane, then the
     * rows and columns it is shifted by inside that phase. */
    int toff[CONV_TAPS];
#pragma unroll
    for (int t = 0; t < CONV_TAPS; t++) {
        int ry = (t / CONV_KW) * dh, rx = (t % CONV_KW) * dw;
        toff[t] = ((ry % CONV_SH) * CONV_PX + rx % CONV_SW) * (int)qplane +
                  (ry / CONV_SH) * Wq + rx / CONV_SW;
    }

    for (int tt = 0; tt < tcount; tt++) {
        const int j0 = (tn0 + tt) * CONV_NR;
        float16 acc[CONV_MR][CONV_NV];
#pragma unroll
        for (int i = 0; i < CONV_MR; i++)
#pragma unroll
            for (int v = 0; v < CONV_NV; v++)
                acc[i][v] = (float16)(0.0f);

        __global const float *chan = xq + (size_t)ci0 * plane + j0;
        CONV_TILE_SUM(vload16(v, bp));

        /* Column j -> output pixel (j / Wq, j % Wq), kept when inside Ho x
         * Wo. */
        const int ncols = Ho * Wq;
        int dst[CONV_NR];
        for (int c = 0; c < CONV_NR; c++) {
            int j = j0 + c, oy = j / Wq, ox = j - oy * Wq;
            dst[c] = j < ncols && ox < Wo ? oy * Wo + ox : -1;
        }
        const size_t out_plane = (size_t)Ho * Wo;
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
                float lane[16];
                vstore16(r, 0, lane);
                for (int l = 0; l < 16; l++) {
                    int d = dst[16 * v + l];
                    if (d >= 0) {
                        float o = accumulate ? yrow[d] + lane[l] : lane[l];
                        yrow[d] = act ? fmax(o, 0.0f) : o;
                    }
                }
            }
        }
    }
}


/*
 * Conv2d for CPU OpenCL drivers with the weight in the packed GEMM layout
 * (the one Linear weights use: panel q holds output channels q*64 ..
 * q*64+63 as K = Cin kh kw rows of 64 contiguous floats, k = (ci, ky, kx)).
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
 * Epilogue: + bias[co] (has_bias), then ReLU (relu); the tile's results
 * land in y [Cout, Ho, Wo] one channel row at a time.
 */
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
#define CONV_PACK_W 64

/* xp: the batch item's input [Cin, Hp, Wp] with its zero padding (or x
 * itself when there is none); plane = Hp Wp. */
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

    /* Where each pixel's window starts in xp; pixels past the map repeat
     * the last one (computed, never stored). Stride and dilation are
     * compile-time so that the taps' column offsets are constants of the
     * loads' addresses. */
    int base[CONV_MR];
#pragma unroll
    for (int i = 0; i < CONV_MR; i++) {
        int p = min(p0 + i, P - 1), oy = p / Wo, ox = p - oy * Wo;
        base[i] = oy * CONV_SH * Wp + ox * CONV_SW;
    }

    for (int t = 0; t < qcount; t++) {
        const int q = q0 + t, c0 = q * CONV_PACK_W;
        __global const float *bp = Wk + (size_t)q * K * CONV_PACK_W;
        float16 acc[CONV_MR][CONV_PV];
#pragma unroll
        for (int i = 0; i < CONV_MR; i++)
#pragma unroll
            for (int v = 0; v < CONV_PV; v++)
                acc[i][v] = (float16)(0.0f);

        __global const float *px[CONV_MR];
#pragma unroll
        for (int i = 0; i < CONV_MR; i++)
            px[i] = xp + base[i];
        for (int ci = 0; ci < Cin; ci++) {
#pragma unroll
            for (int ky = 0; ky < CONV_KH; ky++) {
                const int row = ky * CONV_DH * Wp;
#pragma unroll
                for (int kx = 0; kx < CONV_KW; kx++, bp += CONV_PACK_W) {
                    float16 b[CONV_PV];
#pragma unroll
                    for (int v = 0; v < CONV_PV; v++)
                        b[v] = vload16(v, bp);
#pragma unroll
                    for (int i = 0; i < CONV_MR; i++) {
                        float16 a = (float16)(px[i][row + kx * CONV_DW]);
#pragma unroll
                        for (int v = 0; v < CONV_PV; v++)
                            acc[i][v] = fma(a, b[v], acc[i][v]);
                    }
                }
            }
#pragma unroll
            for (int i = 0; i < CONV_MR; i++)
                px[i] += plane;
        }

#pragma unroll
        for (int v = 0; v < CONV_PV; v++) {
            const int cv = c0 + 16 * v;
            float16 bv = has_bias ? vload16(0, bias + cv) : (float16)(0.0f);
            float lane[CONV_MR][16];
#pragma unroll
            for (int i = 0; i < CONV_MR; i++) {
                float16 r = acc[i][v] + bv;
                if (relu)
                    r = fmax(r, (float16)(0.0f));
                vstore16(r, 0, lane[i]);
            }
            for (int l = 0; l < 16; l++) {
                __global float *yrow = y + (size_t)(cv + l) * P + p0;
#pragma unroll
                for (int i = 0; i < CONV_MR; i++)
                    if (p0 + i < P)
                        yrow[i] = lane[i][l];
            }
        }
    }
}

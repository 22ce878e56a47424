/*
 * 3x3 Conv2d with stride 1 as Winograd F(2x2, 3x3) on CPU devices: each
 * 2x2 block of output pixels (a tile) comes from the 4x4 window of input
 * around it with 16 products per channel instead of 36.
 *
 * Dilation d spreads a tile's pixels and its window d apart: tile bases
 * are the positions b with b mod 2d < d (tile index t -> base
 * (t / d) 2d + t mod d), so the tiles of one phase (b mod d) cover it
 * without overlap, the pixels b and b + d of a tile sharing the phase.
 * With d = 1 this is the plain tiling b = 2t.
 *
 *   V = B^T d B   per input window d and channel (tc_wino_input)
 *   M_e = V_e U_e^T   16 GEMMs over the channels, one per element e of the
 *                 4x4 transformed tile, with U = G g G^T the transformed
 *                 weights packed per e (tc_sgemm_packed, batched)
 *   y = A^T M A + bias, ReLU  per tile and output channel (tc_wino_output)
 *
 * with B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], A^T = [1 1 1 0;
 * 0 1 -1 -1] and G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1] (the weights are
 * transformed on the host). A work-item handles 16 channels of one tile as
 * float16 lanes.
 */

/* The first pixel of tile t along a dimension dilated by d. */
static inline int tc_wino_base(int t, int d)
{
    return t / d * 2 * d + t % d;
}

/* One column of the input window: rows y0, y0 + dh, .., y0 + 3 dh at
 * column ix of the `lanes` channels at x (planes `plane` floats apart), 0
 * outside. */
static inline void tc_wino_column(__global const float *restrict x, size_t plane, int H, int W,
                                  int y0, int dh, int ix, int lanes, float16 col[4])
{
#pragma unroll
    for (int r = 0; r < 4; r++) {
        const int iy = y0 + r * dh;
        const int inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
        col[r] = tc_gather_channels(x, plane, inside ? (size_t)iy * W + ix : 0, inside, lanes);
    }
}

/* B^T d B for the window d (d[c][r]: column c, row r) of `lanes`
 * channels, stored at out + e estride for each element e = 4 r + c. */
static inline void tc_wino_store_tile(float16 d[4][4], int lanes, __global float *out,
                                      size_t estride)
{
    /* B^T d (along rows), then (B^T d) B (along columns). */
    float16 m[4][4]; /* m[r][c] */
#pragma unroll
    for (int c = 0; c < 4; c++) {
        m[0][c] = d[c][0] - d[c][2];
        m[1][c] = d[c][1] + d[c][2];
        m[2][c] = d[c][2] - d[c][1];
        m[3][c] = d[c][1] - d[c][3];
    }
#pragma unroll
    for (int r = 0; r < 4; r++) {
        float16 v[4];
        v[0] = m[r][0] - m[r][2];
        v[1] = m[r][1] + m[r][2];
        v[2] = m[r][2] - m[r][1];
        v[3] = m[r][1] - m[r][3];
#pragma unroll
        for (int c = 0; c < 4; c++) {
            __global float *p = out + (size_t)(4 * r + c) * estride;
            if (lanes == 16) {
                vstore16(v[c], 0, p);
            } else {
                float s[16];
                vstore16(v[c], 0, s);
                for (int l = 0; l < lanes; l++)
                    p[l] = s[l];
            }
        }
    }
}

/* V [16][T][Cin] (element e of tile t, channel ci at e T Cin + t Cin + ci)
 * from x [Cin, H, W] (one batch item) with zero padding (ph, pw) and
 * dilation (dh, dw). Tile t = ty tiles_x + tx covers output rows by,
 * by + dh and columns bx, bx + dw (by, bx its bases), its window input
 * rows by - ph + {0, 1, 2, 3} dh. A work-item makes one row of tiles for
 * 16 channels (a work-item per tile costs more in the driver's scheduling
 * than its work), phase by phase, so that neighbouring windows of a phase
 * share two columns. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_wino_input(__global const float *restrict x, uint x_off, __global float *restrict V,
                   int Cin, int H, int W, int ph, int pw, int dh, int dw, int tiles_x, int T)
{
    const int cg = (int)get_global_id(0), ty = (int)get_global_id(1);
    const int c0 = 16 * cg, lanes = min(16, Cin - c0);
    const int y0 = tc_wino_base(ty, dh) - ph;
    const size_t plane = (size_t)H * W, estride = (size_t)T * Cin;
    x += x_off + (size_t)c0 * plane;

    float16 d[4][4]; /* d[c][r]: column c, row r of the window */
    for (int phase = 0; phase < dw && phase < tiles_x; phase++) {
        tc_wino_column(x, plane, H, W, y0, dh, phase - pw, lanes, d[2]);
        tc_wino_column(x, plane, H, W, y0, dh, phase - pw + dw, lanes, d[3]);
        for (int tx = phase; tx < tiles_x; tx += dw) {
            const int x0 = tc_wino_base(tx, dw) - pw;
#pragma unroll
            for (int r = 0; r < 4; r++) {
                d[0][r] = d[2][r];
                d[1][r] = d[3][r];
            }
            tc_wino_column(x, plane, H, W, y0, dh, x0 + 2 * dw, lanes, d[2]);
            tc_wino_column(x, plane, H, W, y0, dh, x0 + 3 * dw, lanes, d[3]);
            tc_wino_store_tile(d, lanes, V + (size_t)(ty * tiles_x + tx) * Cin + c0, estride);
        }
    }
}

/* y [Cout, Ho, Wo] (one batch item, at y_off) = A^T M A + bias, ReLU
 * (relu) from M [16][T][Cout]; the output pixels of edge tiles past Ho or
 * Wo are dropped. Cout is a multiple of 16. A work-item makes one row of
 * tiles for 16 channels. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_wino_output(__global const float *restrict M, __global float *restrict y, uint y_off,
                    int Cout, int Ho, int Wo, int dh, int dw, int tiles_x, int T,
                    __global const float *restrict bias, uint b_off, int has_bias, int relu)
{
    const int cg = (int)get_global_id(0), ty = (int)get_global_id(1);
    const int c0 = 16 * cg;
    const size_t estride = (size_t)T * Cout, out_plane = (size_t)Ho * Wo;
    const float16 b = has_bias ? vload16(0, bias + b_off + c0) : (float16)(0.0f);
    __global float *base = y + y_off + (size_t)c0 * out_plane;

    for (int tx = 0; tx < tiles_x; tx++) {
        __global const float *in = M + (size_t)(ty * tiles_x + tx) * Cout + c0;
        float16 m[4][4];
#pragma unroll
        for (int e = 0; e < 16; e++)
            m[e / 4][e % 4] = vload16(0, in + (size_t)e * estride);
        /* A^T M, then (A^T M) A. */
        float16 s0[4], s1[4];
#pragma unroll
        for (int c = 0; c < 4; c++) {
            s0[c] = m[0][c] + m[1][c] + m[2][c];
            s1[c] = m[1][c] - m[2][c] - m[3][c];
        }
        float16 o[2][2];
        o[0][0] = s0[0] + s0[1] + s0[2] + b;
        o[0][1] = s0[1] - s0[2] - s0[3] + b;
        o[1][0] = s1[0] + s1[1] + s1[2] + b;
        o[1][1] = s1[1] - s1[2] - s1[3] + b;
#pragma unroll
        for (int r = 0; r < 2; r++) {
            const int oy = tc_wino_base(ty, dh) + r * dh;
#pragma unroll
            for (int c = 0; c < 2; c++) {
                const int ox = tc_wino_base(tx, dw) + c * dw;
                if (oy >= Ho || ox >= Wo)
                    continue;
                float16 v = relu ? fmax(o[r][c], (float16)(0.0f)) : o[r][c];
                float s[16];
                vstore16(v, 0, s);
                __global float *p = base + (size_t)oy * Wo + ox;
                for (int l = 0; l < 16; l++)
                    p[l * out_plane] = s[l];
            }
        }
    }
}

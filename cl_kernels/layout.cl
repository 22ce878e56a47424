/*
 * Data movement: general permutation and strided block copies (concat).
 *
 * General permutation of up to 5 dimensions. For each output element the
 * kernel splits its linear index by the output dims and gathers from the
 * input with the input strides already arranged in output order.
 */
__kernel void tc_permute(__global const float *x, uint x_off, __global float *y, uint y_off,
                         uint d0, uint d1, uint d2, uint d3, uint d4, uint s0, uint s1, uint s2,
                         uint s3, uint s4, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint r = i;
    uint i4 = r % d4; r /= d4;
    uint i3 = r % d3; r /= d3;
    uint i2 = r % d2; r /= d2;
    uint i1 = r % d1; r /= d1;
    uint i0 = r;
    (void)d0;
    y[y_off + i] = x[x_off + i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3 + i4 * s4];
}

/* Row-block copy: rows x cols from src (leading dim src_ld) to dst (dst_ld). */
__kernel void tc_copy2d(__global const float *src, uint src_off, uint src_ld, __global float *dst,
                        uint dst_off, uint dst_ld, uint rows, uint cols)
{
    uint c = get_global_id(0);
    uint r = get_global_id(1);
    if (c >= cols || r >= rows)
        return;
    dst[dst_off + r * dst_ld + c] = src[src_off + r * src_ld + c];
}

/* y [batch][C][R] = x [batch][R][C] transposed, TC_TT_BLOCK x TC_TT_BLOCK
 * tiles of 16 x 16 per work-item (work-group of one): a tile's rows are
 * read as vectors and its columns leave as vectors, where tc_permute reads
 * one float per work-item with a stride of C. Work-item (column block, row
 * block, batch). */
#ifndef TC_TT_BLOCK
#define TC_TT_BLOCK 1
#endif
static inline void tc_transpose_tile(__global const float *restrict xs, __global float *restrict ys,
                                     uint R, uint C, uint r0, uint c0);

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_transpose_tiles(__global const float *restrict x, uint x_off, __global float *restrict y,
                        uint y_off, uint R, uint C)
{
    const uint cb = 16 * TC_TT_BLOCK * (uint)get_global_id(0);
    const uint rb = 16 * TC_TT_BLOCK * (uint)get_global_id(1);
    const size_t b = get_global_id(2), plane = (size_t)R * C;
    __global const float *xs = x + x_off + b * plane;
    __global float *ys = y + y_off + b * plane;
    for (uint i = 0; i < TC_TT_BLOCK && rb + 16 * i < R; i++)
        for (uint j = 0; j < TC_TT_BLOCK && cb + 16 * j < C; j++)
            tc_transpose_tile(xs, ys, R, C, rb + 16 * i, cb + 16 * j);
}

static inline void tc_transpose_tile(__global const float *restrict xs, __global float *restrict ys,
                                     uint R, uint C, uint r0, uint c0)
{
    const uint rn = min(16u, R - r0), cn = min(16u, C - c0);
    float tile[16][16];
    for (uint r = 0; r < rn; r++) {
        __global const float *row = xs + (size_t)(r0 + r) * C + c0;
        if (cn == 16) {
            TC_STORE16_PRIVATE(vload16(0, row), 0, tile[r]);
        } else {
            for (uint c = 0; c < cn; c++)
                tile[r][c] = row[c];
        }
    }
    for (uint c = 0; c < cn; c++) {
        __global float *out = ys + (size_t)(c0 + c) * R + r0;
        if (rn == 16) {
            TC_STORE16((float16)(tile[0][c], tile[1][c], tile[2][c], tile[3][c], tile[4][c],
                               tile[5][c], tile[6][c], tile[7][c], tile[8][c], tile[9][c],
                               tile[10][c], tile[11][c], tile[12][c], tile[13][c], tile[14][c],
                               tile[15][c]),
                     0, out);
        } else {
            for (uint r = 0; r < rn; r++)
                out[r] = tile[r][c];
        }
    }
}

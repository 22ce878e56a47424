/*
 * Depthwise convolution: each channel convolved with its own kh x kw filter.
 * One work-item per output element, enumerated in NCHW order (so neighbours
 * read neighbouring input pixels); with channels_last the result is stored
 * at [b, oh, ow, c] instead of [b, c, oh, ow].
 */
__kernel void tc_dwconv2d(__global const float *x, uint x_off, __global const float *w,
                          uint w_off, __global const float *bias, uint b_off, uint has_bias,
                          __global float *y, uint y_off, uint channels, uint h, uint wd, uint ho,
                          uint wo, uint kh, uint kw, uint stride_h, uint stride_w, uint pad_h,
                          uint pad_w, uint dil_h, uint dil_w, uint channels_last, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint ox = i % wo;
    uint t = i / wo;
    uint oy = t % ho;
    t /= ho;
    uint c = t % channels;
    uint b = t / channels;
    __global const float *xp = x + x_off + ((size_t)b * channels + c) * h * wd;
    __global const float *wp = w + w_off + (size_t)c * kh * kw;
    int y0 = (int)(oy * stride_h) - (int)pad_h;
    int x0 = (int)(ox * stride_w) - (int)pad_w;
    float acc = has_bias ? bias[b_off + c] : 0.0f;
    for (uint ky = 0; ky < kh; ky++) {
        int iy = y0 + (int)(ky * dil_h);
        if (iy < 0 || iy >= (int)h)
            continue;
        __global const float *row = xp + (size_t)iy * wd;
        for (uint kx = 0; kx < kw; kx++) {
            int ix = x0 + (int)(kx * dil_w);
            if (ix >= 0 && ix < (int)wd)
                acc = fma(row[ix], wp[ky * kw + kx], acc);
        }
    }
    size_t out = channels_last ? (((size_t)b * ho + oy) * wo + ox) * channels + c : (size_t)i;
    y[y_off + out] = acc;
}

/*
 * The same for stride 1 and dilation 1 (ConvNeXt's 7x7) with the kernel
 * size fixed at build time (TC_DW_KH x TC_DW_KW): a work-item computes
 * TC_DW_STRIP neighbouring outputs of one row, reading each input row
 * segment once into registers and reusing it for every kernel column.
 * Work-items enumerate (b, c, oy, strip) with the strip fastest.
 */
#ifdef TC_DW_KW
#define TC_DW_STRIP 8
__kernel void tc_dwconv2d_strip(__global const float *x, uint x_off, __global const float *w,
                                uint w_off, __global const float *bias, uint b_off,
                                uint has_bias, __global float *y, uint y_off, uint channels,
                                uint h, uint wd, uint ho, uint wo, uint pad_h, uint pad_w,
                                uint channels_last, uint strips, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint s = i % strips;
    uint t = i / strips;
    uint oy = t % ho;
    t /= ho;
    uint c = t % channels;
    uint b = t / channels;
    uint ox0 = s * TC_DW_STRIP;
    __global const float *xp = x + x_off + ((size_t)b * channels + c) * h * wd;
    __global const float *wp = w + w_off + (size_t)c * TC_DW_KH * TC_DW_KW;
    float b0 = has_bias ? bias[b_off + c] : 0.0f;
    float acc[TC_DW_STRIP];
#pragma unroll
    for (int j = 0; j < TC_DW_STRIP; j++)
        acc[j] = b0;
    int x0 = (int)ox0 - (int)pad_w;
    int interior = x0 >= 0 && x0 + TC_DW_STRIP + TC_DW_KW - 1 <= (int)wd;
    for (int ky = 0; ky < TC_DW_KH; ky++) {
        int iy = (int)oy - (int)pad_h + ky;
        if (iy < 0 || iy >= (int)h)
            continue;
        __global const float *row = xp + (size_t)iy * wd;
        float in[TC_DW_STRIP + TC_DW_KW - 1];
        if (interior) {
#pragma unroll
            for (int j = 0; j < TC_DW_STRIP + TC_DW_KW - 1; j++)
                in[j] = row[x0 + j];
        } else {
#pragma unroll
            for (int j = 0; j < TC_DW_STRIP + TC_DW_KW - 1; j++) {
                int ix = x0 + j;
                in[j] = ix >= 0 && ix < (int)wd ? row[ix] : 0.0f;
            }
        }
#pragma unroll
        for (int kx = 0; kx < TC_DW_KW; kx++) {
            float wv = wp[ky * TC_DW_KW + kx];
#pragma unroll
            for (int j = 0; j < TC_DW_STRIP; j++)
                acc[j] = fma(in[j + kx], wv, acc[j]);
        }
    }
#pragma unroll
    for (int j = 0; j < TC_DW_STRIP; j++) {
        uint ox = ox0 + (uint)j;
        if (ox >= wo)
            break;
        size_t out = channels_last ? (((size_t)b * ho + oy) * wo + ox) * channels + c
                                   : (((size_t)b * channels + c) * ho + oy) * wo + ox;
        y[y_off + out] = acc[j];
    }
}
#endif

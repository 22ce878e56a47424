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

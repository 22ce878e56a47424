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
 * The same when only one tap of the kernel ever lands inside the map, at
 * offset (0, 0) from its output pixel: an atrous 3x3 whose dilation is at
 * least the map's size (DeepLabV3+'s rates 24 and 36 on a 14x14 map) reads
 * only zero padding through its other taps. Then y = x w[c][tap] + bias[c]:
 * one work-item per (batch, channel) plane of `pixels` floats, 16 at a time
 * (stride 1, same size, NCHW output).
 */
__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void
tc_dwconv2d_one_tap(__global const float *x, uint x_off, __global const float *w, uint w_off,
                    uint taps, uint tap, __global const float *bias, uint b_off, uint has_bias,
                    __global float *y, uint y_off, uint channels, uint pixels)
{
    const size_t plane = get_global_id(0);
    const uint c = (uint)(plane % channels);
    const float wc = w[w_off + (size_t)c * taps + tap];
    const float b0 = has_bias ? bias[b_off + c] : 0.0f;
    __global const float *xp = x + x_off + plane * pixels;
    __global float *yp = y + y_off + plane * pixels;
    uint j = 0;
    for (; j + 16 <= pixels; j += 16)
        TC_STORE16(fma(vload16(0, xp + j), (float16)(wc), (float16)(b0)), 0, yp + j);
    for (; j < pixels; j++)
        yp[j] = fma(xp[j], wc, b0);
}

/*
 * The same for stride 1 at any dilation (ConvNeXt's 7x7, smp's separable
 * 3x3 and DeepLabV3+'s atrous ones) with the kernel size fixed at build time
 * (TC_DW_KH x TC_DW_KW): each output vector of TC_DW_VEC neighbouring pixels
 * is one vector load and one vector FMA per tap. The input row a tap row
 * reads is first copied into a private, zero-bordered row of TC_DW_ROW
 * floats (pad_w zeros, the row, zeros to the end), so no tap needs a bounds
 * check per lane and the accumulator stays in registers; tap rows outside
 * the map are skipped. One work-item per work-group (PoCL then
 * runs the vector code as written instead of vectorising across
 * work-items) covers rows_per_item output rows of one (b, c) plane;
 * work-items enumerate (b, c, row block), row block fastest.
 */
#ifdef TC_DW_KW
#if TC_DW_VEC == 16
#define TC_DW_FLOATV float16
#define TC_DW_LOAD vload16
#define TC_DW_STORE_GLOBAL TC_STORE16
#define TC_DW_STORE_PRIVATE TC_STORE16_PRIVATE
#else
#define TC_DW_FLOATV float8
#define TC_DW_LOAD vload8
#define TC_DW_STORE_GLOBAL vstore8
#define TC_DW_STORE_PRIVATE vstore8
#endif
__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void
tc_dwconv2d_vec(__global const float *x, uint x_off, __global const float *w, uint w_off,
                __global const float *bias, uint b_off, uint has_bias, __global float *y,
                uint y_off, uint channels, uint h, uint wd, uint ho, uint wo, uint pad_h,
                uint pad_w, uint dil_h, uint dil_w, uint channels_last, uint rows_per_item,
                uint row_blocks)
{
    uint i = get_global_id(0);
    uint blk = i % row_blocks;
    uint c = (i / row_blocks) % channels;
    uint b = i / row_blocks / channels;
    __global const float *xp = x + x_off + ((size_t)b * channels + c) * h * wd;
    __global const float *wp = w + w_off + (size_t)c * TC_DW_KH * TC_DW_KW;
    float wk[TC_DW_KH * TC_DW_KW];
#pragma unroll
    for (int j = 0; j < TC_DW_KH * TC_DW_KW; j++)
        wk[j] = wp[j];
    const float b0 = has_bias ? bias[b_off + c] : 0.0f;
    /* One bordered copy per tap row; the borders stay zero, only
     * [pad_w, pad_w + wd) is rewritten for each output row. */
    float prow[TC_DW_KH][TC_DW_ROW];
    for (int r = 0; r < TC_DW_KH; r++)
        for (int j = 0; j < TC_DW_ROW; j++)
            prow[r][j] = 0.0f;
    /* With dil_h = 1 the tap rows of consecutive output rows overlap:
     * input row iy lives in slot iy % TC_DW_KH and is copied once, not
     * once per output row reading it (which_row: what a slot holds). */
    int which_row[TC_DW_KH];
    for (int r = 0; r < TC_DW_KH; r++)
        which_row[r] = -1;
    const int nvec = ((int)wo + TC_DW_VEC - 1) / TC_DW_VEC;
    uint oy_end = min(ho, (blk + 1) * rows_per_item);
    for (uint oy = blk * rows_per_item; oy < oy_end; oy++) {
        int valid[TC_DW_KH], slot[TC_DW_KH];
        for (int ky = 0; ky < TC_DW_KH; ky++) {
            int iy = (int)oy - (int)pad_h + ky * (int)dil_h;
            valid[ky] = iy >= 0 && iy < (int)h;
            if (!valid[ky])
                continue;
            slot[ky] = dil_h == 1 ? iy % TC_DW_KH : ky;
            if (which_row[slot[ky]] == iy)
                continue;
            which_row[slot[ky]] = iy;
            __global const float *row = xp + (size_t)iy * wd;
            float *dst = &prow[slot[ky]][pad_w];
            int j = 0;
            for (; j + TC_DW_VEC <= (int)wd; j += TC_DW_VEC)
                TC_DW_STORE_PRIVATE(TC_DW_LOAD(0, row + j), 0, dst + j);
            for (; j < (int)wd; j++)
                dst[j] = row[j];
        }
        for (int s = 0; s < nvec; s++) {
            int ox0 = s * TC_DW_VEC;
            TC_DW_FLOATV acc = (TC_DW_FLOATV)(b0);
            for (int ky = 0; ky < TC_DW_KH; ky++) {
                if (!valid[ky])
                    continue;
#pragma unroll
                for (int kx = 0; kx < TC_DW_KW; kx++)
                    acc = fma(TC_DW_LOAD(0, &prow[slot[ky]][ox0 + kx * (int)dil_w]),
                              (TC_DW_FLOATV)(wk[ky * TC_DW_KW + kx]), acc);
            }
            if (!channels_last && ox0 + TC_DW_VEC <= (int)wo) {
                TC_DW_STORE_GLOBAL(acc, 0,
                                   y + y_off + (((size_t)b * channels + c) * ho + oy) * wo + ox0);
                continue;
            }
            float out[TC_DW_VEC];
            TC_DW_STORE_PRIVATE(acc, 0, out);
            for (int j = 0; j < TC_DW_VEC && ox0 + j < (int)wo; j++) {
                uint ox = (uint)(ox0 + j);
                size_t o = channels_last ? (((size_t)b * ho + oy) * wo + ox) * channels + c
                                         : (((size_t)b * channels + c) * ho + oy) * wo + ox;
                y[y_off + o] = out[j];
            }
        }
    }
}
#endif

/*
 * Stride-1 depthwise convolution channels-last in and out (CPU devices):
 * x [B, H, W, C], the weight as [kh kw, C] (tap-major), y [B, Ho, Wo, C],
 * C a multiple of 16. Each tap is one vector multiply-add over 16
 * channels of one pixel: no lane is idle at any map size, and each output
 * pixel leaves as one vector. A work-item makes one output row for 16
 * channels, TC_DWN_PX pixels at a time, each tap's weight vector loaded
 * once for them; pixels whose taps all land inside the row skip the
 * bounds checks. Work-item (channel group, output row, batch item).
 */
#define TC_DWN_PX 8
__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void
tc_dwconv2d_nhwc(__global const float *restrict x, uint x_off, __global const float *restrict wt,
                 uint w_off, __global const float *restrict bias, uint b_off, uint has_bias,
                 __global float *restrict y, uint y_off, uint C, uint H, uint W, uint Ho, uint Wo,
                 uint kh, uint kw, uint pad_h, uint pad_w, uint dil_h, uint dil_w)
{
    const uint c0 = 16 * (uint)get_global_id(0), oy = (uint)get_global_id(1);
    const size_t b = get_global_id(2);
    __global const float *xb = x + x_off + b * H * W * C + c0;
    __global const float *wb = wt + w_off + c0;
    __global float *yrow = y + y_off + ((b * Ho + oy) * Wo) * C + c0;
    const float16 b0 = has_bias ? vload16(0, bias + b_off + c0) : (float16)(0.0f);
    /* Output pixels [lo, hi) read only inside the row through every tap. */
    const int span = (int)((kw - 1) * dil_w);
    const int lo = min((int)pad_w, (int)Wo), hi = max(lo, min((int)Wo, (int)W + (int)pad_w - span));
    for (int ox0 = 0; ox0 < (int)Wo; ox0 += TC_DWN_PX) {
        const int n = min(TC_DWN_PX, (int)Wo - ox0);
        const int interior = ox0 >= lo && ox0 + n <= hi;
        float16 acc[TC_DWN_PX];
#pragma unroll
        for (int j = 0; j < TC_DWN_PX; j++)
            acc[j] = b0;
        for (uint ky = 0; ky < kh; ky++) {
            const int iy = (int)oy - (int)pad_h + (int)(ky * dil_h);
            if (iy < 0 || iy >= (int)H)
                continue;
            __global const float *xrow = xb + (size_t)iy * W * C;
            for (uint kx = 0; kx < kw; kx++) {
                const float16 wv = vload16(0, wb + (size_t)(ky * kw + kx) * C);
                const int ix0 = ox0 - (int)pad_w + (int)(kx * dil_w);
                if (interior && n == TC_DWN_PX) {
#pragma unroll
                    for (int j = 0; j < TC_DWN_PX; j++)
                        acc[j] = fma(vload16(0, xrow + (size_t)(ix0 + j) * C), wv, acc[j]);
                } else {
                    /* Unrolled as well, so that acc stays in registers. */
#pragma unroll
                    for (int j = 0; j < TC_DWN_PX; j++) {
                        const int ix = ix0 + j;
                        if (j < n && ix >= 0 && ix < (int)W)
                            acc[j] = fma(vload16(0, xrow + (size_t)ix * C), wv, acc[j]);
                    }
                }
            }
        }
#pragma unroll
        for (int j = 0; j < TC_DWN_PX; j++)
            if (j < n)
                TC_STORE16(acc[j], 0, yrow + (size_t)(ox0 + j) * C);
    }
}

/*
 * Resizing and pooling of NCHW planes. Every kernel runs one work-item per
 * output element and treats the input as `planes` images of in_h x in_w
 * (planes = N*C). Source coordinates follow PyTorch's CPU kernels, in
 * float, so that the same pixels and weights are picked.
 */
#pragma OPENCL FP_CONTRACT OFF

/* Bilinear: align_corners -> src = scale * dst; otherwise
 * src = max(0, scale * (dst + 0.5) - 0.5). The two source indices along an
 * axis of `in` pixels and their weights for output index o. */
struct tc_bilinear_tap {
    uint i0, i1;
    float w0, w1;
};

static inline struct tc_bilinear_tap tc_bilinear_tap(uint o, uint in, float scale,
                                                     int align_corners)
{
    float s = align_corners ? scale * (float)o : scale * ((float)o + 0.5f) - 0.5f;
    s = s < 0.0f ? 0.0f : s;
    struct tc_bilinear_tap t;
    t.i0 = (uint)s;
    if (t.i0 > in - 1)
        t.i0 = in - 1;
    t.i1 = t.i0 + (t.i0 < in - 1 ? 1u : 0u);
    t.w1 = s - (float)t.i0;
    t.w0 = 1.0f - t.w1;
    return t;
}

__kernel void tc_resize_bilinear(__global const float *x, uint x_off, __global float *y, uint y_off,
                                 uint in_h, uint in_w, uint out_h, uint out_w, float scale_h,
                                 float scale_w, int align_corners, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint ox = i % out_w;
    uint oy = (i / out_w) % out_h;
    uint p = i / out_w / out_h;
    const struct tc_bilinear_tap ty = tc_bilinear_tap(oy, in_h, scale_h, align_corners);
    const struct tc_bilinear_tap tx = tc_bilinear_tap(ox, in_w, scale_w, align_corners);
    __global const float *src = x + x_off + (size_t)p * in_h * in_w;
    float top = tx.w0 * src[ty.i0 * in_w + tx.i0] + tx.w1 * src[ty.i0 * in_w + tx.i1];
    float bot = tx.w0 * src[ty.i1 * in_w + tx.i0] + tx.w1 * src[ty.i1 * in_w + tx.i1];
    y[y_off + i] = ty.w0 * top + ty.w1 * bot;
}

__kernel void tc_resize_nearest(__global const float *x, uint x_off, __global float *y, uint y_off,
                                uint in_h, uint in_w, uint out_h, uint out_w, float scale_h,
                                float scale_w, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint ox = i % out_w;
    uint oy = (i / out_w) % out_h;
    uint p = i / out_w / out_h;
    uint sy = tc_nearest_src(oy, in_h, out_h, scale_h);
    uint sx = tc_nearest_src(ox, in_w, out_w, scale_w);
    y[y_off + i] = x[x_off + (size_t)p * in_h * in_w + sy * in_w + sx];
}

/* Adaptive average pooling, cell (p, oy, ox) over input rows [h0, h1) and
 * columns [w0, w1) as PyTorch bounds them. Work-item i takes band b = i %
 * nbands of cell i / nbands: rows h0 + b band .. of it. With one band the
 * work-item writes the cell's mean to y; with several (a driver that ends
 * a work-item's loops early, large cells) it writes its band's sum to
 * part[i], and tc_adaptive_avg_pool2d_finish adds the bands up. */
static inline void tc_adaptive_cell(uint cell, uint in_h, uint in_w, uint out_h, uint out_w,
                                    ulong *h0, ulong *h1, ulong *w0, ulong *w1, uint *p)
{
    uint ox = cell % out_w;
    uint oy = (cell / out_w) % out_h;
    *p = cell / out_w / out_h;
    *h0 = (ulong)oy * in_h / out_h;
    *h1 = ((ulong)(oy + 1) * in_h + out_h - 1) / out_h;
    *w0 = (ulong)ox * in_w / out_w;
    *w1 = ((ulong)(ox + 1) * in_w + out_w - 1) / out_w;
}

__kernel void tc_adaptive_avg_pool2d(__global const float *x, uint x_off, __global float *y,
                                     uint y_off, uint in_h, uint in_w, uint out_h, uint out_w,
                                     uint items, uint band, uint nbands,
                                     __global float *part)
{
    uint i = get_global_id(0);
    if (i >= items)
        return;
    uint cell = i / nbands, b = i - cell * nbands, p;
    ulong h0, h1, w0, w1;
    tc_adaptive_cell(cell, in_h, in_w, out_h, out_w, &h0, &h1, &w0, &w1, &p);
    ulong r0 = h0 + (ulong)b * band, r1 = min(h1, r0 + band);
    __global const float *src = x + x_off + (size_t)p * in_h * in_w;
    float sum = 0.0f;
    for (ulong r = r0; r < r1; r++)
        for (ulong c = w0; c < w1; c++)
            sum += src[r * in_w + c];
    if (nbands == 1)
        y[y_off + cell] = sum / (float)((h1 - h0) * (w1 - w0));
    else
        part[i] = sum;
}

__kernel void tc_adaptive_avg_pool2d_finish(__global const float *part, __global float *y,
                                            uint y_off, uint in_h, uint in_w, uint out_h,
                                            uint out_w, uint cells, uint nbands)
{
    uint cell = get_global_id(0);
    if (cell >= cells)
        return;
    uint p;
    ulong h0, h1, w0, w1;
    tc_adaptive_cell(cell, in_h, in_w, out_h, out_w, &h0, &h1, &w0, &w1, &p);
    float sum = 0.0f;
    for (uint b = 0; b < nbands; b++)
        sum += part[(size_t)cell * nbands + b];
    y[y_off + cell] = sum / (float)((h1 - h0) * (w1 - w0));
}

/* Window k x k at stride s, no padding; NaN propagates as in PyTorch. */
__kernel void tc_max_pool2d(__global const float *x, uint x_off, __global float *y, uint y_off,
                            uint in_h, uint in_w, uint out_h, uint out_w, uint k, uint s, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint ox = i % out_w;
    uint oy = (i / out_w) % out_h;
    uint p = i / out_w / out_h;
    __global const float *src = x + x_off + (size_t)p * in_h * in_w + oy * s * in_w + ox * s;
    float m = -INFINITY;
    for (uint r = 0; r < k; r++)
        for (uint c = 0; c < k; c++) {
            float v = src[r * in_w + c];
            if (v > m || isnan(v))
                m = v;
        }
    y[y_off + i] = m;
}

/* MaxPool2d with implicit -inf padding (ResNet's 3x3 stride 2 padding 1
 * stem pool): windows are clipped to the input, as PyTorch's are. */
__kernel void tc_max_pool2d_pad(__global const float *x, uint x_off, __global float *y,
                                uint y_off, uint in_h, uint in_w, uint out_h, uint out_w, uint k,
                                uint s, uint pad, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint ox = i % out_w;
    uint oy = (i / out_w) % out_h;
    uint p = i / out_w / out_h;
    __global const float *src = x + x_off + (size_t)p * in_h * in_w;
    int y0 = (int)(oy * s) - (int)pad, x0 = (int)(ox * s) - (int)pad;
    float m = -INFINITY;
    for (int r = max(y0, 0); r < min(y0 + (int)k, (int)in_h); r++)
        for (int c = max(x0, 0); c < min(x0 + (int)k, (int)in_w); c++) {
            float v = src[(size_t)r * in_w + c];
            if (v > m || isnan(v))
                m = v;
        }
    y[y_off + i] = m;
}

/* Row-wise forms for CPU devices: one work-item per output row (row =
 * plane * out_h + oy) looping over the row, so the row's source lines and
 * weights are computed once, no division runs per element and there are
 * few work-groups (their scheduling dominates per-element launches on
 * PoCL). Same arithmetic as the kernels above. */
__kernel void tc_resize_bilinear_rows(__global const float *restrict x, uint x_off,
                                      __global float *restrict y,
                                      uint y_off, uint in_h, uint in_w, uint out_h, uint out_w,
                                      float scale_h, float scale_w, int align_corners, uint rows)
{
    uint row = get_global_id(0);
    if (row >= rows)
        return;
    uint p = row / out_h;
    uint oy = row - p * out_h;
    const struct tc_bilinear_tap ty = tc_bilinear_tap(oy, in_h, scale_h, align_corners);
    __global const float *restrict r0 = x + x_off + ((size_t)p * in_h + ty.i0) * in_w;
    __global const float *restrict r1 = x + x_off + ((size_t)p * in_h + ty.i1) * in_w;
    __global float *restrict dst = y + y_off + (size_t)row * out_w;
    for (uint ox = 0; ox < out_w; ox++) {
        const struct tc_bilinear_tap tx = tc_bilinear_tap(ox, in_w, scale_w, align_corners);
        float top = tx.w0 * r0[tx.i0] + tx.w1 * r0[tx.i1];
        float bot = tx.w0 * r1[tx.i0] + tx.w1 * r1[tx.i1];
        dst[ox] = ty.w0 * top + ty.w1 * bot;
    }
}

/* Bilinear on CPU devices, upsampling: one work-item per band of output
 * rows of one plane. The columns' source indices and weights are worked
 * out once per band, each source row is interpolated along x once into a
 * private row (an upsampling reads each source row for several output
 * rows), and every output row is then the blend of two such rows, a
 * contiguous loop the compiler vectorises. The per-element arithmetic is
 * the per-element kernel's, in the same order, so the results are the
 * same bits. The host keeps out_w within TC_RESIZE_ROW. */
#define TC_RESIZE_ROW 1024
static void resize_row_x(__global const float *restrict r, const uint *cx0, const uint *cx1,
                         const float *wx0, const float *wx1, uint out_w, float *h)
{
    for (uint ox = 0; ox < out_w; ox++)
        h[ox] = wx0[ox] * r[cx0[ox]] + wx1[ox] * r[cx1[ox]];
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_resize_bilinear_band(__global const float *restrict x, uint x_off,
                             __global float *restrict y, uint y_off, uint in_h, uint in_w,
                             uint out_h, uint out_w, float scale_h, float scale_w,
                             int align_corners, uint bands, uint band_rows)
{
    const uint item = get_global_id(0), p = item / bands, band = item - p * bands;
    const uint oy_begin = band * band_rows, oy_end = min(oy_begin + band_rows, out_h);
    uint cx0[TC_RESIZE_ROW], cx1[TC_RESIZE_ROW];
    float wx0[TC_RESIZE_ROW], wx1[TC_RESIZE_ROW];
    float hrow[2][TC_RESIZE_ROW];
    int hsrc[2] = {-1, -1};
    for (uint ox = 0; ox < out_w; ox++) {
        const struct tc_bilinear_tap tx = tc_bilinear_tap(ox, in_w, scale_w, align_corners);
        cx0[ox] = tx.i0;
        cx1[ox] = tx.i1;
        wx0[ox] = tx.w0;
        wx1[ox] = tx.w1;
    }
    __global const float *restrict plane = x + x_off + (size_t)p * in_h * in_w;
    for (uint oy = oy_begin; oy < oy_end; oy++) {
        const struct tc_bilinear_tap ty = tc_bilinear_tap(oy, in_h, scale_h, align_corners);
        const uint y0 = ty.i0, y1 = ty.i1;
        /* The slots holding source rows y0 and y1, interpolated on
         * demand; y1's never evicts y0's. */
        int s0 = hsrc[0] == (int)y0 ? 0 : hsrc[1] == (int)y0 ? 1 : -1;
        if (s0 < 0) {
            s0 = hsrc[0] == (int)y1 ? 1 : 0;
            resize_row_x(plane + (size_t)y0 * in_w, cx0, cx1, wx0, wx1, out_w, hrow[s0]);
            hsrc[s0] = (int)y0;
        }
        int s1 = hsrc[0] == (int)y1 ? 0 : hsrc[1] == (int)y1 ? 1 : -1;
        if (s1 < 0) {
            s1 = 1 - s0;
            resize_row_x(plane + (size_t)y1 * in_w, cx0, cx1, wx0, wx1, out_w, hrow[s1]);
            hsrc[s1] = (int)y1;
        }
        const float *top = hrow[s0], *bot = hrow[s1];
        __global float *restrict dst = y + y_off + ((size_t)p * out_h + oy) * out_w;
        for (uint ox = 0; ox < out_w; ox++)
            dst[ox] = ty.w0 * top[ox] + ty.w1 * bot[ox];
    }
}

__kernel void tc_resize_nearest_rows(__global const float *restrict x, uint x_off,
                                     __global float *restrict y, uint y_off, uint in_h, uint in_w, uint out_h, uint out_w,
                                     float scale_h, float scale_w, uint rows)
{
    uint row = get_global_id(0);
    if (row >= rows)
        return;
    uint p = row / out_h;
    uint oy = row - p * out_h;
    uint sy = tc_nearest_src(oy, in_h, out_h, scale_h);
    __global const float *restrict src = x + x_off + ((size_t)p * in_h + sy) * in_w;
    __global float *restrict dst = y + y_off + (size_t)row * out_w;
    if (out_w == in_w) {
        for (uint ox = 0; ox < out_w; ox++)
            dst[ox] = src[ox];
    } else if (out_w == 2 * in_w) {
        for (uint ix = 0; ix < in_w; ix++) {
            float v = src[ix];
            dst[2 * ix] = v;
            dst[2 * ix + 1] = v;
        }
    } else {
        for (uint ox = 0; ox < out_w; ox++)
            dst[ox] = src[tc_nearest_src(ox, in_w, out_w, scale_w)];
    }
}

/* Padded max pooling on CPU devices: one work-item per output row (row =
 * plane * out_h + oy). The rows of the window are reduced first, 16
 * columns at a time, into a private row bordered by pad -inf columns
 * (PyTorch's padding), then each output takes the maximum of its k
 * columns there. A NaN in a window wins, as in the per-element kernel.
 * The host keeps in_w + 2 pad within TC_POOL_ROW. */
#define TC_POOL_ROW 2048
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_max_pool2d_pad_rows(__global const float *restrict x, uint x_off,
                            __global float *restrict y, uint y_off, uint in_h, uint in_w,
                            uint out_h, uint out_w, uint k, uint s, uint pad, uint rows)
{
    uint row = get_global_id(0);
    if (row >= rows)
        return;
    uint p = row / out_h;
    uint oy = row - p * out_h;
    int r_begin = max((int)(oy * s) - (int)pad, 0);
    int r_end = min((int)(oy * s) - (int)pad + (int)k, (int)in_h);
    __global const float *src = x + x_off + (size_t)p * in_h * in_w;
    float cols[TC_POOL_ROW];
    for (uint j = 0; j < pad; j++) {
        cols[j] = -INFINITY;
        cols[pad + in_w + j] = -INFINITY;
    }
    uint ix = 0;
    for (; ix + 16 <= in_w; ix += 16) {
        float16 m = vload16(0, src + (size_t)r_begin * in_w + ix);
        for (int r = r_begin + 1; r < r_end; r++) {
            float16 v = vload16(0, src + (size_t)r * in_w + ix);
            m = select(m, v, isgreater(v, m) | isnan(v));
        }
        TC_STORE16_PRIVATE(m, 0, cols + pad + ix);
    }
    for (; ix < in_w; ix++) {
        float m = src[(size_t)r_begin * in_w + ix];
        for (int r = r_begin + 1; r < r_end; r++) {
            float v = src[(size_t)r * in_w + ix];
            m = (v > m || isnan(v)) ? v : m;
        }
        cols[pad + ix] = m;
    }
    __global float *dst = y + y_off + (size_t)row * out_w;
    for (uint ox = 0; ox < out_w; ox++) {
        const float *c = cols + ox * s;
        float m = c[0];
        for (uint j = 1; j < k; j++)
            m = (c[j] > m || isnan(c[j])) ? c[j] : m;
        dst[ox] = m;
    }
}

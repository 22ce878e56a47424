/*
 * Convolution helpers around the GEMM: im2col for Conv2d, a col2im gather
 * for ConvTranspose2d, per-channel bias, pixel shuffle, BatchNorm in eval
 * mode and simple activations. NCHW float32; offsets are in elements.
 */

/* cols [Cin*kh*kw, Ho*Wo] of one batch item: row (ci, ky, kx), column
 * (oy, ox) holds x[ci, oy*sh - ph + ky*dh, ox*sw - pw + kx*dw], or 0 in the
 * padding. Work-item (pixel, row). */
__kernel void tc_im2col(__global const float *x, uint x_off, __global float *cols, uint c_off,
                        uint H, uint W, uint kh, uint kw, uint Ho, uint Wo, uint rows, int sh,
                        int sw, int ph, int pw, int dh, int dw)
{
    uint p = get_global_id(0);
    uint r = get_global_id(1);
    uint pixels = Ho * Wo;
    if (p >= pixels || r >= rows)
        return;
    uint kx = r % kw;
    uint ky = (r / kw) % kh;
    uint ci = r / (kw * kh);
    int oy = (int)(p / Wo), ox = (int)(p % Wo);
    int iy = oy * sh - ph + (int)ky * dh;
    int ix = ox * sw - pw + (int)kx * dw;
    float v = 0.0f;
    if (iy >= 0 && iy < (int)H && ix >= 0 && ix < (int)W)
        v = x[x_off + ((size_t)ci * H + (uint)iy) * W + (uint)ix];
    cols[c_off + (size_t)r * pixels + p] = v;
}

/* ConvTranspose2d output from cols [Cout*k*k, H*W] = W^T x of one batch
 * item (pixel_major 1: cols^T [H*W, Cout*k*k] = x^T W, the CPU form): y[co, oy, ox] = bias[co] + sum over taps (ky, kx) with
 * oy + pad - ky = iy*stride (0 <= iy < H), likewise for x. Gathering keeps
 * the sum deterministic. Work-item (pixel, channel). has_bias: 0 or 1. */
__kernel void tc_col2im_transpose(__global const float *cols, uint c_off, __global float *y,
                                  uint y_off, __global const float *bias, uint b_off,
                                  int has_bias, uint H, uint W, uint Ho, uint Wo, uint channels,
                                  int k, int stride, int pad, int pixel_major)
{
    uint p = get_global_id(0);
    uint co = get_global_id(1);
    uint pixels = Ho * Wo;
    if (p >= pixels || co >= channels)
        return;
    size_t rows = (size_t)channels * (uint)k * (uint)k;
    int oy = (int)(p / Wo) + pad, ox = (int)(p % Wo) + pad;
    size_t in_pixels = (size_t)H * W;
    float acc = 0.0f;
    /* Taps ky with oy - ky divisible by stride: ky = oy % stride, + stride, ... */
    for (int ky = oy % stride; ky < k; ky += stride) {
        int iy = (oy - ky) / stride;
        if (iy < 0 || iy >= (int)H)
            continue;
        for (int kx = ox % stride; kx < k; kx += stride) {
            int ix = (ox - kx) / stride;
            if (ix < 0 || ix >= (int)W)
                continue;
            size_t row = ((size_t)co * (uint)k + (uint)ky) * (uint)k + (uint)kx;
            size_t pix = (size_t)iy * W + (uint)ix;
            acc += cols[c_off + (pixel_major ? pix * rows + row : row * in_pixels + pix)];
        }
    }
    if (has_bias)
        acc += bias[b_off + co];
    y[y_off + (size_t)co * pixels + p] = acc;
}

/* c[i, j] = act(c[i, j] + b[i]) for a rows x cols block with leading
 * dimension ld (a GEMM's output, where its kernel has no epilogue); no bias
 * when has_bias is 0; act is ReLU when relu is 1. Work-item (column, row). */
__kernel void tc_row_bias(__global float *c, uint c_off, uint ld, uint rows, uint cols,
                          __global const float *b, uint b_off, int has_bias, int relu)
{
    uint j = get_global_id(0), i = get_global_id(1);
    if (j >= cols || i >= rows)
        return;
    size_t at = c_off + (size_t)i * ld + j;
    float v = c[at] + (has_bias ? b[b_off + i] : 0.0f);
    c[at] = relu ? fmax(v, 0.0f) : v;
}

/* y[b, c, h r + i, w r + j] = x[b, c r^2 + i r + j, h, w]; one work-item per
 * output element; n = numel. */
__kernel void tc_pixel_shuffle(__global const float *x, uint x_off, __global float *y, uint y_off,
                               uint C, uint H, uint W, uint r, uint n)
{
    uint o = get_global_id(0);
    if (o >= n)
        return;
    uint Wo = W * r, Ho = H * r;
    uint ox = o % Wo;
    uint oy = (o / Wo) % Ho;
    uint bc = o / (Wo * Ho); /* b * C + c */
    uint c = bc % C, b = bc / C;
    uint ci = (c * r + oy % r) * r + ox % r;
    size_t src = (((size_t)b * C * r * r + ci) * H + oy / r) * W + ox / r;
    y[y_off + o] = x[x_off + src];
}

/* BatchNorm2d in eval mode over n elements of [B, C, pixels]; y may alias x.
 * As PyTorch: scale = gamma / sqrt(var + eps), y = x scale + (beta - mean
 * scale). relu: 1 clamps the result at zero (ConvModule's ReLU). */
__kernel void tc_batchnorm(__global const float *x, uint x_off, __global float *y, uint y_off,
                           __global const float *mean, uint m_off, __global const float *var,
                           uint v_off, __global const float *gamma, uint g_off,
                           __global const float *beta, uint b_off, uint channels, uint pixels,
                           uint n, float eps, int relu)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint c = (i / pixels) % channels;
    float scale = gamma[g_off + c] / sqrt(var[v_off + c] + eps);
    float shift = beta[b_off + c] - mean[m_off + c] * scale;
    float v = x[x_off + i] * scale + shift;
    y[y_off + i] = relu ? fmax(v, 0.0f) : v;
}

/* Activations by code (torch.nn defaults): 0 identity, 1 ReLU, 2 GELU (erf),
 * 3 sigmoid, 4 tanh, 5 SiLU, 6 LeakyReLU(param), 7 ELU(param), 8 Mish,
 * 9 Softplus, 10 ReLU6, 11 Hardswish, 12 Hardsigmoid. y may alias x. */
__kernel void tc_activation(__global const float *x, uint x_off, __global float *y, uint y_off,
                            uint n, int kind, float param)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    float v = x[x_off + i], r = v;
    /* softplus (threshold 20 as torch) only where it is used: computed for
     * every element it made ReLU through this kernel ~100x slower. */
#define TC_SOFTPLUS(v) ((v) > 20.0f ? (v) : log1p(exp(v)))
    switch (kind) {
    case 1: r = fmax(v, 0.0f); break;
    case 2: r = 0.5f * v * (1.0f + erf(v * 0.70710678118654752f)); break;
    case 3: r = 1.0f / (1.0f + exp(-v)); break;
    case 4: r = tanh(v); break;
    case 5: r = v / (1.0f + exp(-v)); break;
    case 6: r = v >= 0.0f ? v : v * param; break;
    case 7: r = v > 0.0f ? v : param * (exp(v) - 1.0f); break;
    case 8: r = v * tanh(TC_SOFTPLUS(v)); break;
    case 9: r = TC_SOFTPLUS(v); break;
    case 10: r = fmin(fmax(v, 0.0f), 6.0f); break;
    case 11: r = v * fmin(fmax(v + 3.0f, 0.0f), 6.0f) / 6.0f; break;
    case 12: r = fmin(fmax(v + 3.0f, 0.0f), 6.0f) / 6.0f; break;
    default: break;
    }
#undef TC_SOFTPLUS
    y[y_off + i] = r;
}

/* smp's SCSE gate on [B, C, pixels]: y = x sigmoid(cse[b, c]) + x sigmoid(sse[b, p])
 * with the logits cse [B, C] and sse [B, pixels]. y may alias x. */
__kernel void tc_scse_gate(__global const float *x, uint x_off, __global const float *cse,
                           uint c_off, __global const float *sse, uint s_off, __global float *y,
                           uint y_off, uint channels, uint pixels, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint p = i % pixels;
    uint bc = i / pixels;
    uint b = bc / channels;
    float gc = 1.0f / (1.0f + exp(-cse[c_off + bc]));
    float gs = 1.0f / (1.0f + exp(-sse[s_off + (size_t)b * pixels + p]));
    float v = x[x_off + i];
    y[y_off + i] = v * gc + v * gs;
}

/* Pixel-major columns for CPUs: row q of cols (ld floats apart) holds the
 * receptive field of output pixel p0 + q, ordered (ci, ky, kx) like a
 * row of the weight [Cout, Cin*kh*kw], 0 in the padding. Work-item
 * (channel, output row oy0 + j): the pixels of that output row inside the
 * band [p0, p0 + band), kh*kw contiguous taps each. */
__kernel void tc_im2col_rows(__global const float *restrict x, uint x_off,
                             __global float *restrict cols, uint ld, uint channels, uint band,
                             uint p0, uint H, uint W, uint kh, uint kw, uint Wo, int sh, int sw,
                             int ph, int pw, int dh, int dw)
{
    uint ci = get_global_id(0);
    uint oy = p0 / Wo + get_global_id(1);
    if (ci >= channels || oy * Wo >= p0 + band)
        return;
    uint row0 = oy * Wo; /* pixel index of (oy, 0) */
    uint ox_lo = p0 > row0 ? p0 - row0 : 0;
    uint ox_hi = min(Wo, p0 + band - row0);
    __global const float *restrict src = x + x_off + (size_t)ci * H * W;
    const uint taps = kh * kw;
    int iy0 = (int)oy * sh - ph;
    for (uint ox = ox_lo; ox < ox_hi; ox++) {
        __global float *restrict dst = cols + (size_t)(row0 + ox - p0) * ld + (size_t)ci * taps;
        int ix0 = (int)ox * sw - pw;
        for (uint ky = 0; ky < kh; ky++) {
            int iy = iy0 + (int)ky * dh;
            int row_ok = iy >= 0 && iy < (int)H;
            for (uint kx = 0; kx < kw; kx++) {
                int ix = ix0 + (int)kx * dw;
                float v = 0.0f;
                if (row_ok && ix >= 0 && ix < (int)W)
                    v = src[(uint)iy * W + (uint)ix];
                dst[ky * kw + kx] = v;
            }
        }
    }
}

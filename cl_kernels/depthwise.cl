/* Depthwise 2-D convolution (groups = channels, one filter per channel),
 * one output element per work-item; zero padding, PyTorch's geometry. */
__kernel void tc_conv2d_depthwise(__global const float *x, uint x_off, __global const float *w,
                                  uint w_off, __global const float *b, uint b_off, int has_bias,
                                  __global float *y, uint y_off, uint channels, uint h, uint wd,
                                  uint oh, uint ow, uint kh, uint kw, uint sh, uint sw, int ph,
                                  int pw, uint dh, uint dw, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint ox = i % ow, oy = (i / ow) % oh, plane = i / (ow * oh);
    uint c = plane % channels;
    __global const float *xp = x + x_off + (size_t)plane * h * wd;
    __global const float *wp = w + w_off + (size_t)c * kh * kw;
    float acc = has_bias ? b[b_off + c] : 0.0f;
    for (uint ky = 0; ky < kh; ky++) {
        int iy = (int)(oy * sh + ky * dh) - ph;
        if (iy < 0 || iy >= (int)h)
            continue;
        for (uint kx = 0; kx < kw; kx++) {
            int ix = (int)(ox * sw + kx * dw) - pw;
            if (ix < 0 || ix >= (int)wd)
                continue;
            acc = fma(xp[iy * wd + ix], wp[ky * kw + kx], acc);
        }
    }
    y[y_off + i] = acc;
}

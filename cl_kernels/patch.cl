/*
 * Patch extraction for convolutions whose kernel equals their stride (the
 * ViT tubelet embedding): each output row is one patch flattened in
 * (channel, kt, kh, kw) order, so a GEMM with the Conv3d weight viewed as
 * [D, C*pt*ph*pw] gives the embedding. Trailing pixels that do not fill a
 * patch are dropped, as PyTorch's strided convolution drops them.
 *
 * Input [B, C, T, H, W]; output [B * Tg*Hg*Wg, C*pt*ph*pw], tokens ordered
 * (t, h, w) within each batch item.
 */
__kernel void tc_patchify(__global const float *x, uint x_off, __global float *y, uint y_off,
                          uint C, uint T, uint H, uint W, uint pt, uint ph, uint pw, uint Tg,
                          uint Hg, uint Wg, uint total)
{
    uint i = get_global_id(0);
    if (i >= total)
        return;
    uint k = pt * ph * pw * C;
    uint col = i % k;
    uint row = i / k;
    uint kw = col % pw;
    uint r = col / pw;
    uint kh = r % ph;
    r /= ph;
    uint kt = r % pt;
    uint c = r / pt;
    uint wg = row % Wg;
    r = row / Wg;
    uint hg = r % Hg;
    r /= Hg;
    uint tg = r % Tg;
    uint b = r / Tg;
    uint t = tg * pt + kt, h = hg * ph + kh, w = wg * pw + kw;
    y[y_off + i] = x[x_off + (((b * C + c) * T + t) * H + h) * W + w];
}

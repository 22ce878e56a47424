/*
 * Patch extraction for convolutions whose kernel equals their stride (the
 * ViT tubelet embedding): each output row is one patch flattened in
 * (channel, kt, kh, kw) order, so a GEMM with the Conv3d weight viewed as
 * [D, C*pt*ph*pw] gives the embedding. Trailing pixels that do not fill a
 * patch are dropped, as PyTorch's strided convolution drops them.
 *
 * Input [B, C, T, H, W]; output [B * Tg*Hg*Wg, C*pt*ph*pw], tokens ordered
 * (t, h, w) within each batch item.
 *
 * One work-item copies one run of pw contiguous pixels: dimension 0 walks
 * the (c, kt, kh) runs of a patch, dimension 1 the tokens. Index arithmetic
 * (integer divisions, which CPUs do not vectorise) is paid once per run,
 * and a run of 16 (Prithvi's patch width) moves as one vector.
 */
__kernel void tc_patchify(__global const float *x, uint x_off, __global float *y, uint y_off,
                          uint C, uint T, uint H, uint W, uint pt, uint ph, uint pw, uint Tg,
                          uint Hg, uint Wg, uint tokens)
{
    uint run = get_global_id(0), row = get_global_id(1);
    uint runs = C * pt * ph;
    if (run >= runs || row >= tokens)
        return;
    uint kh = run % ph;
    uint r = run / ph;
    uint kt = r % pt;
    uint c = r / pt;
    uint wg = row % Wg;
    r = row / Wg;
    uint hg = r % Hg;
    r /= Hg;
    uint tg = r % Tg;
    uint b = r / Tg;
    uint t = tg * pt + kt, h = hg * ph + kh;
    __global const float *src = x + x_off + (((size_t)(b * C + c) * T + t) * H + h) * W + wg * pw;
    __global float *dst = y + y_off + (size_t)row * runs * pw + (size_t)run * pw;
    if (pw == 16) {
        TC_STORE16(vload16(0, src), 0, dst);
    } else {
        for (uint kw = 0; kw < pw; kw++)
            dst[kw] = src[kw];
    }
}

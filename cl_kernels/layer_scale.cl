/* y[b, c, p] = res[b, c, p] + gamma[c] * t[b, p, c], enumerated in NCHW order. */
__kernel void tc_layer_scale_residual(__global const float *t, uint t_off,
                                      __global const float *gamma, uint g_off, uint has_gamma,
                                      __global const float *res, uint r_off, __global float *y,
                                      uint y_off, uint channels, uint pixels, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint p = i % pixels;
    uint bc = i / pixels;
    uint c = bc % channels;
    uint b = bc / channels;
    float v = t[t_off + ((size_t)b * pixels + p) * channels + c];
    if (has_gamma)
        v *= gamma[g_off + c];
    y[y_off + i] = v + res[r_off + i];
}

/* The same on CPU devices, one work-item per tile of 16 channels x
 * LS_TILE_P pixels: the tile of t is read a pixel's 16 channels at a time
 * into a private block, then y's channel rows are written along the
 * pixels, so both sides run over contiguous memory (one work-item per
 * element, with its strided read of t, cost 3 ns an element on PoCL). */
#define LS_TILE_P 64
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_layer_scale_residual_tiles(__global const float *restrict t, uint t_off,
                                   __global const float *restrict gamma, uint g_off,
                                   uint has_gamma, __global const float *res, uint r_off,
                                   __global float *y, uint y_off, uint channels, uint pixels,
                                   uint groups, uint tiles_p)
{
    const uint item = get_global_id(0), tp = item % tiles_p, rest = item / tiles_p;
    const uint g = rest % groups, b = rest / groups;
    const uint c0 = 16 * g, p0 = tp * LS_TILE_P;
    const uint lanes = min(16u, channels - c0), count = min((uint)LS_TILE_P, pixels - p0);
    float block[16][LS_TILE_P];
    __global const float *src = t + t_off + ((size_t)b * pixels + p0) * channels + c0;
    for (uint p = 0; p < count; p++, src += channels)
        for (uint l = 0; l < lanes; l++)
            block[l][p] = src[l];
    for (uint l = 0; l < lanes; l++) {
        const float scale = has_gamma ? gamma[g_off + c0 + l] : 1.0f;
        const size_t row = ((size_t)b * channels + c0 + l) * pixels + p0;
        for (uint p = 0; p < count; p++) {
            float v = block[l][p];
            if (has_gamma)
                v *= scale;
            y[y_off + row + p] = v + res[r_off + row + p];
        }
    }
}

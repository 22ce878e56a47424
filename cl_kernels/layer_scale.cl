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

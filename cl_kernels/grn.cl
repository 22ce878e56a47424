/*
 * Global Response Normalisation over channels-last data [B, P, C] (P spatial
 * positions): the L2 norm of each channel over the positions, divided by the
 * mean of those norms over the channels, scales the input.
 */

/* g[b, c] = sqrt(sum_p x[b, p, c]^2). Summed in blocks of 256 positions so
 * large maps do not lose the small terms to one long running sum. */
__kernel void tc_grn_norms(__global const float *x, uint x_off, __global float *g, uint channels,
                           uint pixels, uint batch)
{
    uint c = get_global_id(0);
    uint b = get_global_id(1);
    if (c >= channels || b >= batch)
        return;
    __global const float *xp = x + x_off + (size_t)b * pixels * channels + c;
    float total = 0.0f;
    for (uint p0 = 0; p0 < pixels; p0 += 256) {
        uint p1 = min(pixels, p0 + 256u);
        float part = 0.0f;
        for (uint p = p0; p < p1; p++) {
            float v = xp[(size_t)p * channels];
            part = fma(v, v, part);
        }
        total += part;
    }
    g[(size_t)b * channels + c] = sqrt(total);
}

/* g[b, c] /= mean_c g[b, c] + eps, one work-item per batch item. */
__kernel void tc_grn_scales(__global float *g, uint channels, uint batch, float eps)
{
    uint b = get_global_id(0);
    if (b >= batch)
        return;
    __global float *gb = g + (size_t)b * channels;
    float s = 0.0f;
    for (uint c = 0; c < channels; c++)
        s += gb[c];
    float denom = s / (float)channels + eps;
    for (uint c = 0; c < channels; c++)
        gb[c] = gb[c] / denom;
}

/* y = x + beta[c] + gamma[c] * (x * scale[b, c]). */
__kernel void tc_grn_apply(__global const float *x, uint x_off, __global const float *scale,
                           __global const float *gamma, uint g_off, __global const float *beta,
                           uint b_off, __global float *y, uint y_off, uint channels, uint pixels,
                           uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint c = i % channels;
    uint b = i / (channels * pixels);
    float v = x[x_off + i];
    y[y_off + i] = v + (beta[b_off + c] + gamma[g_off + c] * (v * scale[(size_t)b * channels + c]));
}

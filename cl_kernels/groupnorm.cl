/*
 * GroupNorm over NCHW: a group's channels are contiguous, so each (sample,
 * group) is one row of `len` = channels/groups * pixels elements.
 */

/* One work-item per row: mean and 1/sqrt(var + eps) (biased variance, two
 * passes with compensated sums so long rows keep float32 accuracy). */
__kernel void tc_groupnorm_stats(__global const float *x, uint x_off, __global float *stats,
                                 uint rows, uint len, float eps)
{
    uint r = get_global_id(0);
    if (r >= rows)
        return;
    __global const float *p = x + x_off + (size_t)r * len;
    float s = 0.0f, c = 0.0f;
    for (uint i = 0; i < len; i++) {
        float yv = p[i] - c, t = s + yv;
        c = (t - s) - yv;
        s = t;
    }
    float mean = s / (float)len;
    s = 0.0f;
    c = 0.0f;
    for (uint i = 0; i < len; i++) {
        float d = p[i] - mean;
        float yv = d * d - c, t = s + yv;
        c = (t - s) - yv;
        s = t;
    }
    stats[2 * r] = mean;
    stats[2 * r + 1] = rsqrt(s / (float)len + eps);
}

/* y = (x - mean) rstd gamma[c] + beta[c], then ReLU when asked; y may alias x. */
__kernel void tc_groupnorm_apply(__global const float *x, uint x_off, __global float *y,
                                 uint y_off, __global const float *stats,
                                 __global const float *gamma, uint g_off,
                                 __global const float *beta, uint b_off, uint channels,
                                 uint pixels, uint per_group, uint n, int relu)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint plane = i / pixels;      /* sample * channels + channel */
    uint ch = plane % channels;
    uint row = (plane / channels) * (channels / per_group) + ch / per_group;
    float v = (x[x_off + i] - stats[2 * row]) * stats[2 * row + 1] * gamma[g_off + ch] +
              beta[b_off + ch];
    y[y_off + i] = relu ? fmax(v, 0.0f) : v;
}

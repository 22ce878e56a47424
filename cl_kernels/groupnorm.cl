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

/* The same statistics in chunks, for drivers that end a work-item's loops
 * early (Mesa's llvmpipe): work-item (j, r) sums chunk j of row r into
 * part[r nchunks + j], of x (pass 0) or of (x - mean)^2 (pass 1, the mean
 * in stats), compensated as above; tc_groupnorm_finish then sums a row's
 * chunks into its mean (pass 0) or 1/sqrt(var + eps) (pass 1). */
__kernel void tc_groupnorm_partial(__global const float *x, uint x_off, __global float *part,
                                   __global const float *stats, uint rows, uint len, uint chunk,
                                   uint nchunks, int pass)
{
    uint j = get_global_id(0), r = get_global_id(1);
    if (j >= nchunks || r >= rows)
        return;
    uint i0 = j * chunk, i1 = min(len, i0 + chunk);
    __global const float *p = x + x_off + (size_t)r * len;
    const float mean = pass ? stats[2 * r] : 0.0f;
    float s = 0.0f, c = 0.0f;
    for (uint i = i0; i < i1; i++) {
        float d = p[i] - mean;
        float yv = (pass ? d * d : d) - c, t = s + yv;
        c = (t - s) - yv;
        s = t;
    }
    part[(size_t)r * nchunks + j] = s;
}

__kernel void tc_groupnorm_finish(__global const float *part, __global float *stats, uint rows,
                                  uint len, uint nchunks, float eps, int pass)
{
    uint r = get_global_id(0);
    if (r >= rows)
        return;
    float s = 0.0f, c = 0.0f;
    for (uint j = 0; j < nchunks; j++) {
        float yv = part[(size_t)r * nchunks + j] - c, t = s + yv;
        c = (t - s) - yv;
        s = t;
    }
    if (pass)
        stats[2 * r + 1] = rsqrt(s / (float)len + eps);
    else
        stats[2 * r] = s / (float)len;
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

/*
 * Normalisation kernels. LayerNorm uses two passes (mean, then the mean of
 * squared deviations) like PyTorch, not E[x^2] - E[x]^2, which cancels badly.
 */

#ifndef TC_NORM_WG
#define TC_NORM_WG 64
#endif

/* Sum of `v` over the work-group; every work-item gets the result. */
static float group_sum(__local float *scratch, float v)
{
    uint lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = TC_NORM_WG / 2; s > 0; s >>= 1) {
        if (lid < s)
            scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float total = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

/* LayerNorm over the last dimension: one work-group per row. */
__kernel __attribute__((reqd_work_group_size(TC_NORM_WG, 1, 1)))
void tc_layernorm_rows(__global const float *x, uint x_off, __global float *y, uint y_off,
                       __global const float *gamma, uint g_off, __global const float *beta,
                       uint b_off, uint cols, float eps)
{
    __local float scratch[TC_NORM_WG];
    uint row = get_group_id(0);
    uint lid = get_local_id(0);
    __global const float *xr = x + x_off + (size_t)row * cols;
    __global float *yr = y + y_off + (size_t)row * cols;

    float s = 0.0f;
    for (uint c = lid; c < cols; c += TC_NORM_WG)
        s += xr[c];
    float mean = group_sum(scratch, s) / (float)cols;
    float q = 0.0f;
    for (uint c = lid; c < cols; c += TC_NORM_WG) {
        float d = xr[c] - mean;
        q += d * d;
    }
    float rstd = rsqrt(group_sum(scratch, q) / (float)cols + eps);
    for (uint c = lid; c < cols; c += TC_NORM_WG)
        yr[c] = (xr[c] - mean) * rstd * gamma[g_off + c] + beta[b_off + c];
}

/* LayerNorm over the channels of NCHW data: one work-item per (n, pixel). */
__kernel void tc_layernorm_channels(__global const float *x, uint x_off, __global float *y,
                                    uint y_off, __global const float *gamma, uint g_off,
                                    __global const float *beta, uint b_off, uint channels,
                                    uint pixels, uint batch, float eps)
{
    uint p = get_global_id(0);
    uint n = get_global_id(1);
    if (p >= pixels || n >= batch)
        return;
    size_t base = (size_t)n * channels * pixels + p;
    __global const float *xp = x + x_off + base;
    __global float *yp = y + y_off + base;
    float s = 0.0f;
    for (uint c = 0; c < channels; c++)
        s += xp[(size_t)c * pixels];
    float mean = s / (float)channels;
    float q = 0.0f;
    for (uint c = 0; c < channels; c++) {
        float d = xp[(size_t)c * pixels] - mean;
        q += d * d;
    }
    float rstd = rsqrt(q / (float)channels + eps);
    for (uint c = 0; c < channels; c++)
        yp[(size_t)c * pixels] = (xp[(size_t)c * pixels] - mean) * rstd * gamma[g_off + c] +
                                 beta[b_off + c];
}

/*
 * LayerNorm over the last dimension for CPU drivers: one work-item per row,
 * 16-wide vectors along the row, no barriers (PoCL pays for every barrier;
 * a CPU core has cache enough for a whole row). Same two-pass arithmetic.
 */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_layernorm_rows_cpu(__global const float *x, uint x_off, __global float *y, uint y_off,
                           __global const float *gamma, uint g_off, __global const float *beta,
                           uint b_off, uint cols, float eps)
{
    uint row = get_global_id(0);
    __global const float *xr = x + x_off + (size_t)row * cols;
    __global float *yr = y + y_off + (size_t)row * cols;
    __global const float *g = gamma + g_off, *b = beta + b_off;
    uint cv = cols & ~15u;

    float16 acc = (float16)(0.0f);
    for (uint c = 0; c < cv; c += 16)
        acc += vload16(0, xr + c);
    float s = 0.0f;
    for (uint c = cv; c < cols; c++)
        s += xr[c];
    float8 a8 = acc.lo + acc.hi;
    float4 a4 = a8.lo + a8.hi;
    float2 a2 = a4.lo + a4.hi;
    float mean = (s + a2.x + a2.y) / (float)cols;

    float16 q = (float16)(0.0f);
    for (uint c = 0; c < cv; c += 16) {
        float16 d = vload16(0, xr + c) - mean;
        q = fma(d, d, q);
    }
    float qs = 0.0f;
    for (uint c = cv; c < cols; c++) {
        float d = xr[c] - mean;
        qs += d * d;
    }
    float8 q8 = q.lo + q.hi;
    float4 q4 = q8.lo + q8.hi;
    float2 q2 = q4.lo + q4.hi;
    float rstd = rsqrt((qs + q2.x + q2.y) / (float)cols + eps);

    for (uint c = 0; c < cv; c += 16)
        TC_STORE16((vload16(0, xr + c) - mean) * rstd * vload16(0, g + c) + vload16(0, b + c), 0,
                 yr + c);
    for (uint c = cv; c < cols; c++)
        yr[c] = (xr[c] - mean) * rstd * g[c] + b[c];
}

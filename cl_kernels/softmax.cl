/* Softmax over the last dimension of (scale * x): one work-group per row. */

#ifndef TC_SOFTMAX_WG
#define TC_SOFTMAX_WG 64
#endif

__kernel __attribute__((reqd_work_group_size(TC_SOFTMAX_WG, 1, 1)))
void tc_softmax_rows(__global const float *x, uint x_off, __global float *y, uint y_off,
                     uint cols, float scale)
{
    __local float scratch[TC_SOFTMAX_WG];
    uint row = get_group_id(0);
    uint lid = get_local_id(0);
    __global const float *xr = x + x_off + (size_t)row * cols;
    __global float *yr = y + y_off + (size_t)row * cols;

    float m = -INFINITY;
    for (uint c = lid; c < cols; c += TC_SOFTMAX_WG)
        m = fmax(m, xr[c] * scale);
    scratch[lid] = m;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = TC_SOFTMAX_WG / 2; s > 0; s >>= 1) {
        if (lid < s)
            scratch[lid] = fmax(scratch[lid], scratch[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    m = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);

    float sum = 0.0f;
    for (uint c = lid; c < cols; c += TC_SOFTMAX_WG) {
        float e = exp(xr[c] * scale - m);
        yr[c] = e;
        sum += e;
    }
    scratch[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = TC_SOFTMAX_WG / 2; s > 0; s >>= 1) {
        if (lid < s)
            scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float inv = 1.0f / scratch[0];
    for (uint c = lid; c < cols; c += TC_SOFTMAX_WG)
        yr[c] *= inv;
}

/* The same for CPU drivers: one work-item per row, no barriers. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_softmax_rows_cpu(__global const float *x, uint x_off, __global float *y, uint y_off,
                         uint cols, float scale)
{
    uint row = get_global_id(0);
    __global const float *xr = x + x_off + (size_t)row * cols;
    __global float *yr = y + y_off + (size_t)row * cols;
    float m = -INFINITY;
    for (uint c = 0; c < cols; c++)
        m = fmax(m, xr[c] * scale);
    float sum = 0.0f;
    for (uint c = 0; c < cols; c++) {
        float e = exp(xr[c] * scale - m);
        yr[c] = e;
        sum += e;
    }
    float inv = 1.0f / sum;
    for (uint c = 0; c < cols; c++)
        yr[c] *= inv;
}

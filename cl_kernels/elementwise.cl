/*
 * Element-wise kernels. Offsets and counts are in elements. The second
 * operand of binary ops repeats with period `nb` (nb == n: same shape;
 * nb == cols: a bias row; nb == tokens*dim: one table for every batch item).
 */

__kernel void tc_add(__global const float *a, uint a_off, __global const float *b, uint b_off,
                     uint nb, __global float *c, uint c_off, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    c[c_off + i] = a[a_off + i] + b[b_off + i % nb];
}

__kernel void tc_mul(__global const float *a, uint a_off, __global const float *b, uint b_off,
                     uint nb, __global float *c, uint c_off, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    c[c_off + i] = a[a_off + i] * b[b_off + i % nb];
}

/* y = x * alpha + beta */
__kernel void tc_scale(__global const float *x, uint x_off, __global float *y, uint y_off,
                       float alpha, float beta, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    y[y_off + i] = x[x_off + i] * alpha + beta;
}

/* Exact GELU, as PyTorch's default: x/2 * (1 + erf(x/sqrt(2))). */
__kernel void tc_gelu(__global const float *x, uint x_off, __global float *y, uint y_off, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    float v = x[x_off + i];
    y[y_off + i] = 0.5f * v * (1.0f + erf(v * 0.70710678118654752f));
}

__kernel void tc_relu(__global const float *x, uint x_off, __global float *y, uint y_off, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    y[y_off + i] = fmax(x[x_off + i], 0.0f);
}

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

/* Exact (erf) GELU, as PyTorch's default: x/2 * (1 + erf(x/sqrt(2))). */
__kernel void tc_gelu(__global const float *x, uint x_off, __global float *y, uint y_off, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    y[y_off + i] = tc_gelu_erf(x[x_off + i]);
}

/* Same-shape addition and product (no repetition, so no index division). */
__kernel void tc_add_same(__global const float *a, uint a_off, __global const float *b,
                          uint b_off, __global float *c, uint c_off, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    c[c_off + i] = a[a_off + i] + b[b_off + i];
}

/* c = max(a + b, 0): a residual sum and its ReLU in one pass. */
__kernel void tc_add_relu_same(__global const float *a, uint a_off, __global const float *b,
                               uint b_off, __global float *c, uint c_off, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    c[c_off + i] = fmax(a[a_off + i] + b[b_off + i], 0.0f);
}

__kernel void tc_mul_same(__global const float *a, uint a_off, __global const float *b,
                          uint b_off, __global float *c, uint c_off, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    c[c_off + i] = a[a_off + i] * b[b_off + i];
}

/*
 * Row-wise fusions after a GEMM, over rows x cols (dimension 0 = column):
 *   tc_bias_rows:      x[r, c] += bias[c]
 *   tc_bias_gelu_rows: x[r, c] = gelu(x[r, c] + bias[c])
 *   tc_bias_residual:  acc[r, c] += x[r, c] + bias[c]
 */
__kernel void tc_bias_rows(__global float *x, uint x_off, __global const float *bias, uint b_off,
                           uint rows, uint cols)
{
    uint c = get_global_id(0), r = get_global_id(1);
    if (c >= cols || r >= rows)
        return;
    x[x_off + r * cols + c] += bias[b_off + c];
}

__kernel void tc_bias_gelu_rows(__global float *x, uint x_off, __global const float *bias,
                                uint b_off, uint rows, uint cols)
{
    uint c = get_global_id(0), r = get_global_id(1);
    if (c >= cols || r >= rows)
        return;
    uint i = x_off + r * cols + c;
    x[i] = tc_gelu_erf(x[i] + bias[b_off + c]);
}

__kernel void tc_bias_residual(__global float *acc, uint acc_off, __global const float *x,
                               uint x_off, __global const float *bias, uint b_off, uint rows,
                               uint cols)
{
    uint c = get_global_id(0), r = get_global_id(1);
    if (c >= cols || r >= rows)
        return;
    uint i = r * cols + c;
    acc[acc_off + i] += x[x_off + i] + bias[b_off + c];
}

/* The gate of a SwiGLU feed-forward, y = silu(a) * b on same-shaped
 * tensors, in one pass (y may alias a or b). */
__kernel void tc_silu_mul(__global const float *a, uint a_off, __global const float *b,
                          uint b_off, __global float *y, uint y_off, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    float v = a[a_off + i];
    y[y_off + i] = v / (1.0f + exp(-v)) * b[b_off + i];
}

__kernel void tc_relu(__global const float *x, uint x_off, __global float *y, uint y_off, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    y[y_off + i] = fmax(x[x_off + i], 0.0f);
}

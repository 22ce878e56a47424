/*
 * Data movement: general permutation and strided block copies (concat).
 *
 * General permutation of up to 5 dimensions. For each output element the
 * kernel splits its linear index by the output dims and gathers from the
 * input with the input strides already arranged in output order.
 */
__kernel void tc_permute(__global const float *x, uint x_off, __global float *y, uint y_off,
                         uint d0, uint d1, uint d2, uint d3, uint d4, uint s0, uint s1, uint s2,
                         uint s3, uint s4, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint r = i;
    uint i4 = r % d4; r /= d4;
    uint i3 = r % d3; r /= d3;
    uint i2 = r % d2; r /= d2;
    uint i1 = r % d1; r /= d1;
    uint i0 = r;
    (void)d0;
    y[y_off + i] = x[x_off + i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3 + i4 * s4];
}

/* Row-block copy: rows x cols from src (leading dim src_ld) to dst (dst_ld). */
__kernel void tc_copy2d(__global const float *src, uint src_off, uint src_ld, __global float *dst,
                        uint dst_off, uint dst_ld, uint rows, uint cols)
{
    uint c = get_global_id(0);
    uint r = get_global_id(1);
    if (c >= cols || r >= rows)
        return;
    dst[dst_off + r * dst_ld + c] = src[src_off + r * src_ld + c];
}

/*
 * Row reductions: y[r] = mean / max / min of x[r*m .. r*m + m) (rows of
 * length m, contiguous). One work-item per row; rows here are token
 * sequences of a few hundred to a few thousand entries, summed in order.
 */
__kernel void tc_reduce_rows(__global const float *x, uint x_off, __global float *y, uint y_off,
                             uint m, uint mode, uint rows)
{
    uint r = get_global_id(0);
    if (r >= rows)
        return;
    __global const float *p = x + x_off + (size_t)r * m;
    float acc = p[0];
    if (mode == 0) {
        for (uint j = 1; j < m; j++)
            acc += p[j];
        acc /= (float)m;
    } else if (mode == 1) {
        for (uint j = 1; j < m; j++)
            acc = fmax(acc, p[j]);
    } else {
        for (uint j = 1; j < m; j++)
            acc = fmin(acc, p[j]);
    }
    y[y_off + r] = acc;
}

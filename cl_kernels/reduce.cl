/*
 * Row reductions: y[r] = mean / max / min of x[r*m .. r*m + m) (rows of
 * length m, contiguous), summed in order. Work-item i takes chunk c = i %
 * nchunks of row r = i / nchunks, elements [c chunk, min((c + 1) chunk,
 * m)), and writes y[i]: with one chunk per row that is the row's result;
 * with several (a driver that ends a work-item's loops early) the host
 * reduces the chunks' results again. Mode 0 sums and divides by `divisor`
 * (the row length for a mean, 1 for the partial sums), 1 takes the
 * maximum, 2 the minimum.
 */
__kernel void tc_reduce_rows(__global const float *x, uint x_off, __global float *y, uint y_off,
                             uint m, uint mode, uint items, uint chunk, uint nchunks,
                             uint divisor)
{
    uint i = get_global_id(0);
    if (i >= items)
        return;
    uint r = i / nchunks, c = i - r * nchunks;
    uint j0 = c * chunk, j1 = min(m, j0 + chunk);
    __global const float *p = x + x_off + (size_t)r * m;
    float acc = p[j0];
    if (mode == 0) {
        for (uint j = j0 + 1; j < j1; j++)
            acc += p[j];
        acc /= (float)divisor;
    } else if (mode == 1) {
        for (uint j = j0 + 1; j < j1; j++)
            acc = fmax(acc, p[j]);
    } else {
        for (uint j = j0 + 1; j < j1; j++)
            acc = fmin(acc, p[j]);
    }
    y[y_off + i] = acc;
}

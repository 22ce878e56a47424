/*
 * Gather of an output window from an input of up to 5 dimensions (left-padded
 * with ones). Along each axis an output index i < n reads i; beyond the
 * input's extent it reads the reflection 2 (n - 1) - i. Crops never reach
 * the reflecting branch.
 */
static uint reflect_end(uint i, uint n)
{
    return i < n ? i : 2 * (n - 1) - i;
}

__kernel void tc_pad_reflect(__global const float *x, uint x_off, __global float *y, uint y_off,
                             uint o0, uint o1, uint o2, uint o3, uint o4, uint n0, uint n1,
                             uint n2, uint n3, uint n4, uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint r = i;
    uint i4 = r % o4; r /= o4;
    uint i3 = r % o3; r /= o3;
    uint i2 = r % o2; r /= o2;
    uint i1 = r % o1; r /= o1;
    uint i0 = r;
    (void)o0;
    uint s = reflect_end(i0, n0);
    s = s * n1 + reflect_end(i1, n1);
    s = s * n2 + reflect_end(i2, n2);
    s = s * n3 + reflect_end(i3, n3);
    s = s * n4 + reflect_end(i4, n4);
    y[y_off + i] = x[x_off + s];
}

/*
 * Gather of an output window from an input of up to 5 dimensions (left-padded
 * with ones). Along each axis, output index i reads input index j = i + s,
 * where s is the window's start: negative for padding before the data,
 * positive for a crop that skips leading elements. Indices outside [0, n)
 * read their reflection (F.pad's "reflect": -j before, 2 (n - 1) - j after);
 * crops never leave the input.
 */
static uint reflect_at(uint i, int s, uint n)
{
    int j = (int)i + s;
    if (j < 0)
        j = -j;
    else if (j >= (int)n)
        j = 2 * ((int)n - 1) - j;
    return (uint)j;
}

__kernel void tc_pad_reflect(__global const float *x, uint x_off, __global float *y, uint y_off,
                             uint o0, uint o1, uint o2, uint o3, uint o4, uint n0, uint n1,
                             uint n2, uint n3, uint n4, int s0, int s1, int s2, int s3, int s4,
                             uint n)
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
    uint s = reflect_at(i0, s0, n0);
    s = s * n1 + reflect_at(i1, s1, n1);
    s = s * n2 + reflect_at(i2, s2, n2);
    s = s * n3 + reflect_at(i3, s3, n3);
    s = s * n4 + reflect_at(i4, s4, n4);
    y[y_off + i] = x[x_off + s];
}

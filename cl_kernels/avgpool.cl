/* Average pooling without padding: each output averages the input elements
 * its window covers (a window cut by the border divides by fewer). */
__kernel void tc_avg_pool2d(__global const float *x, uint x_off, __global float *y, uint y_off,
                            uint h, uint w, uint ho, uint wo, uint kernel_size, uint stride,
                            uint n)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    uint ox = i % wo;
    uint t = i / wo;
    uint oy = t % ho;
    uint plane = t / ho;
    uint y0 = oy * stride, x0 = ox * stride;
    uint y1 = min(y0 + kernel_size, h), x1 = min(x0 + kernel_size, w);
    __global const float *xp = x + x_off + (size_t)plane * h * w;
    float s = 0.0f;
    for (uint yy = y0; yy < y1; yy++)
        for (uint xx = x0; xx < x1; xx++)
            s += xp[(size_t)yy * w + xx];
    y[y_off + i] = s / (float)((y1 - y0) * (x1 - x0));
}

/*
 * 1x1 convolution, no stride or padding, to a few output channels: the
 * class convolution of a segmentation head (256 -> 2, 16 -> 2). As a GEMM
 * its output has only NARROW_COUT rows, so the GEMM kernels' row tiles are
 * mostly empty and the layer is bound by reading x once; here each
 * work-item holds every output channel for NARROW_V float16 vectors of
 * pixels and reads each input channel's run of those pixels once.
 *
 * x [cin, P] and y [NARROW_COUT, P] are one batch item's planes (dimension 1
 * of the launch is the batch item); w [NARROW_COUT, cin] is the plain
 * weight. Epilogue: + bias[o] (has_bias), then ReLU (relu).
 */
#ifndef NARROW_COUT
#define NARROW_COUT 2
#endif
#ifndef NARROW_V
#define NARROW_V 4
#endif
#define NARROW_PX (16 * NARROW_V)
/* Input channels ahead that a work-item prefetches its run of: the runs
 * are a plane apart, which the hardware prefetcher does not follow (the
 * 256 -> 2 head at 128x128: 0.27-0.29 ms with, 0.44-0.66 without). For
 * the last channels the hint names lines past x, which a prefetch
 * instruction never faults on. */
#define NARROW_AHEAD 8

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_conv1x1_narrow(__global const float *restrict x, uint x_off, uint x_batch,
                       __global const float *restrict w, uint w_off,
                       __global const float *restrict bias, uint b_off, int has_bias, int relu,
                       __global float *restrict y, uint y_off, uint y_batch, uint cin, uint P)
{
    const uint p0 = (uint)get_global_id(0) * NARROW_PX;
    if (p0 >= P)
        return;
    const uint bi = (uint)get_global_id(1);
    const __global float *xs = x + x_off + bi * x_batch + p0;
    __global float *ys = y + y_off + bi * y_batch + p0;
    const uint avail = P - p0;
    float16 acc[NARROW_COUT][NARROW_V];
#pragma unroll
    for (int o = 0; o < NARROW_COUT; o++) {
        const float b = has_bias ? bias[b_off + o] : 0.0f;
#pragma unroll
        for (int v = 0; v < NARROW_V; v++)
            acc[o][v] = (float16)b;
    }
    const int whole = avail >= NARROW_PX;
    for (uint c = 0; c < cin; c++) {
        const __global float *xc = xs + (size_t)c * P;
        float16 xv[NARROW_V];
        if (whole) {
#pragma unroll
            for (int v = 0; v < NARROW_V; v++) {
                TC_PREFETCH(xc + (size_t)NARROW_AHEAD * P + 16 * v, 0);
                xv[v] = vload16(v, xc);
            }
        } else {
            /* The map's last, partial run: lanes past its end read nothing. */
#pragma unroll
            for (int v = 0; v < NARROW_V; v++) {
                float t[16];
                for (int l = 0; l < 16; l++)
                    t[l] = (uint)(16 * v + l) < avail ? xc[16 * v + l] : 0.0f;
                xv[v] = vload16(0, t);
            }
        }
#pragma unroll
        for (int o = 0; o < NARROW_COUT; o++) {
            const float wo = w[w_off + o * cin + c];
#pragma unroll
            for (int v = 0; v < NARROW_V; v++)
                acc[o][v] = fma((float16)wo, xv[v], acc[o][v]);
        }
    }
#pragma unroll
    for (int o = 0; o < NARROW_COUT; o++) {
        __global float *yo = ys + (size_t)o * P;
#pragma unroll
        for (int v = 0; v < NARROW_V; v++) {
            float16 r = relu ? fmax(acc[o][v], 0.0f) : acc[o][v];
            if (whole) {
                TC_STORE16(r, v, yo);
            } else {
                float t[16];
                TC_STORE16_PRIVATE(r, 0, t);
#pragma unroll
                for (int l = 0; l < 16; l++)
                    if ((uint)(16 * v + l) < avail)
                        yo[16 * v + l] = t[l];
            }
        }
    }
}

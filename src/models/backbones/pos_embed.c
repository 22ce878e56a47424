/* Position tables for the Prithvi ViTs (see pos_embed.h for the precision rules). */
#include "models/backbones/pos_embed.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 1-D sin-cos of integer position p into d values, float64. */
static void sincos_1d_f64(int64_t d, double p, float *out)
{
    int64_t half = d / 2;
    for (int64_t i = 0; i < half; i++) {
        double omega = 1.0 / pow(10000.0, (double)i / ((double)d / 2.0));
        out[i] = (float)sin(p * omega);
        out[half + i] = (float)cos(p * omega);
    }
}

void tc_pos_embed_3d(int64_t dim, int64_t t, int64_t h, int64_t w, float *out)
{
    int64_t dw = dim / 16 * 6, dh = dim / 16 * 6, dt = dim / 16 * 4;
    memset(out, 0, sizeof(float) * (size_t)dim);
    float *row = out + dim;
    for (int64_t it = 0; it < t; it++)
        for (int64_t ih = 0; ih < h; ih++)
            for (int64_t iw = 0; iw < w; iw++) {
                sincos_1d_f64(dw, (double)iw, row);
                sincos_1d_f64(dh, (double)ih, row + dw);
                sincos_1d_f64(dt, (double)it, row + dw + dh);
                row += dim;
            }
}

/* PyTorch's cubic convolution weights for fractional offset x (A = -0.75). */
static void cubic_weights(float x, float wts[4])
{
    const float A = -0.75f;
    float x1 = x + 1.0f, x2 = 1.0f - x, x3 = 2.0f - x;
    wts[0] = ((A * x1 - 5.0f * A) * x1 + 8.0f * A) * x1 - 4.0f * A;
    wts[1] = ((A + 2.0f) * x - (A + 3.0f)) * x * x + 1.0f;
    wts[2] = ((A + 2.0f) * x2 - (A + 3.0f)) * x2 * x2 + 1.0f;
    wts[3] = ((A * x3 - 5.0f * A) * x3 + 8.0f * A) * x3 - 4.0f * A;
}

static int64_t clamp_i(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

void tc_pos_embed_resize(const float *in, int64_t dim, int64_t t, int64_t h, int64_t w,
                         int64_t oh, int64_t ow, float *out)
{
    memcpy(out, in, sizeof(float) * (size_t)dim); /* CLS row unchanged */
    /* align_corners=True: src = dst * (in-1)/(out-1), in float like PyTorch. */
    float sy = oh > 1 ? (float)(h - 1) / (float)(oh - 1) : 0.0f;
    float sx = ow > 1 ? (float)(w - 1) / (float)(ow - 1) : 0.0f;
    for (int64_t it = 0; it < t; it++) {
        const float *src = in + dim + it * h * w * dim;
        float *dst = out + dim + it * oh * ow * dim;
        for (int64_t oy = 0; oy < oh; oy++) {
            float fy = sy * (float)oy;
            int64_t y0 = (int64_t)floorf(fy);
            float wy[4];
            cubic_weights(fy - (float)y0, wy);
            for (int64_t ox = 0; ox < ow; ox++) {
                float fx = sx * (float)ox;
                int64_t x0 = (int64_t)floorf(fx);
                float wx[4];
                cubic_weights(fx - (float)x0, wx);
                float *o = dst + (oy * ow + ox) * dim;
                for (int64_t c = 0; c < dim; c++) {
                    /* Along x for each of the 4 rows, then along y. */
                    float acc = 0.0f;
                    for (int k = 0; k < 4; k++) {
                        int64_t yy = clamp_i(y0 - 1 + k, 0, h - 1);
                        const float *r = src + yy * w * dim + c;
                        float v = 0.0f;
                        for (int j = 0; j < 4; j++)
                            v += r[clamp_i(x0 - 1 + j, 0, w - 1) * dim] * wx[j];
                        acc += v * wy[k];
                    }
                    o[c] = acc;
                }
            }
        }
    }
}

void tc_sincos_1d_f32(int64_t d, float pos, float *out)
{
    int64_t half = d / 2;
    for (int64_t i = 0; i < half; i++) {
        float e = (float)i / ((float)d / 2.0f);
        float omega = 1.0f / powf(10000.0f, e);
        float arg = pos * omega;
        out[i] = sinf(arg);
        out[half + i] = cosf(arg);
    }
}

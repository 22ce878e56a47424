/*
 * Host-side position and coordinate encodings of the Prithvi ViTs. They are
 * small tables, computed once per input shape, so they are computed on the
 * host with the same precision choices as TerraTorch: the 3-D sin-cos
 * table in float64 then rounded to float32, the coordinate encodings in
 * float32 (as torch computes them from float32 coordinates).
 */
#ifndef TC_MODELS_POS_EMBED_H
#define TC_MODELS_POS_EMBED_H

#include <stddef.h>
#include <stdint.h>

/* out [(1 + t*h*w) * dim]: a zero CLS row, then rows in (t, h, w) order made
 * of [w-part | h-part | t-part] with widths 6/16, 6/16, 4/16 of dim.
 * dim must be a multiple of 16. */
void tc_pos_embed_3d(int64_t dim, int64_t t, int64_t h, int64_t w, float *out);

/* Resizes the patch rows of a table for grid (t, h, w) to (t, oh, ow) with
 * PyTorch's bicubic interpolation (A = -0.75, align_corners=True), keeping
 * the CLS row. in [(1+t*h*w)*dim], out [(1+t*oh*ow)*dim]. */
void tc_pos_embed_resize(const float *in, int64_t dim, int64_t t, int64_t h, int64_t w,
                         int64_t oh, int64_t ow, float *out);

/* One row of torch's 1-D sin-cos encoding in float32: [sin(p*w_i) | cos(p*w_i)]
 * with w_i = 1 / 10000^(i / (d/2)); d even. */
void tc_sincos_1d_f32(int64_t d, float pos, float *out);

#endif /* TC_MODELS_POS_EMBED_H */

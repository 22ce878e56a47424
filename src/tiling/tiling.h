/*
 * Tiled inference as TerraTorch 1.2.13 does it (tasks/tiled_inference.py):
 * which chips a scene is cut into and in what order, the cosine blend masks
 * that weight each chip's prediction, and the weighted accumulation of
 * chip predictions into the scene's. Pure arithmetic: no I/O, no model.
 *
 * Frames: with padding, the scene is padded by `delta` on each side and
 * every coordinate below (chip windows and output regions) is in that
 * padded frame; without padding the padded frame is the scene.
 *
 * The accumulator holds a horizontal strip of the padded frame so that a
 * caller can stream a scene through it chip row by chip row.
 */
#ifndef TC_TILING_TILING_H
#define TC_TILING_TILING_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

enum tc_tile_padding {
    TC_TILE_PAD_NONE,      /* padding: false */
    TC_TILE_PAD_REFLECT,   /* "reflect" (TerraTorch's default) */
    TC_TILE_PAD_REPLICATE, /* "replicate" */
    TC_TILE_PAD_CONSTANT,  /* "constant" (zeros) */
};

/* model.init_args.tiled_inference_parameters, h_/w_ values resolved. */
struct tc_tile_params {
    int64_t h_crop, w_crop, h_stride, w_stride, delta;
    enum tc_tile_padding padding;
    int blend_overlaps;
    int average_patches;
    int64_t batch_size;
};

/* TerraTorch's defaults: crop 224, stride 192, delta 8, reflect padding,
 * blending and averaging on, 16 chips per batch. */
void tc_tile_params_default(struct tc_tile_params *p);

struct tc_tile_chip {
    int64_t row, col;          /* top-left of the h_crop x w_crop input window */
    int64_t out_row, out_col;  /* where the kept prediction lands */
    int64_t out_h, out_w;      /* its size */
    int64_t crop_row, crop_col; /* offset of the kept part inside the prediction */
    int inner;                 /* 1: inner blend mask, 0: border mask */
    int64_t order;             /* position in TerraTorch's chip order */
};

struct tc_tile_plan {
    int64_t height, width;     /* the scene */
    int64_t frame_h, frame_w;  /* the padded frame */
    int64_t pad;               /* rows/columns of padding on each side */
    int64_t crop_h, crop_w;    /* chip size (the scene itself for one pass) */
    int64_t delta;             /* after TerraTorch's reduction */
    int delta_reduced;         /* 1: delta was larger than the overlap allowed */
    int one_pass;              /* the scene fits one crop: one forward pass */
    int average;               /* average_patches */
    enum tc_tile_padding padding;
    size_t nchips;
    struct tc_tile_chip *chips; /* sorted by row, then by TerraTorch's order */
    float *inner_mask;          /* out_h x out_w of inner chips; NULL: weight 1 */
    float *border_mask;         /* the same for border chips; NULL: weight 1 */
    int64_t inner_h, inner_w, border_h, border_w;
};

/*
 * Plans a scene of height x width. A scene no larger than one crop (or
 * params NULL: no tiling) gets one chip, the whole scene, with weight 1.
 * Errors (TERRACL_ERR_CONFIG): non-positive crop, stride or batch size, a
 * stride larger than its crop, delta 0 together with padding (TerraTorch
 * returns an empty prediction), a scene smaller than a crop on one side.
 */
TC_NODISCARD terracl_status tc_tile_plan_make(const struct tc_tile_params *params, int64_t height,
                                              int64_t width, struct tc_tile_plan *out,
                                              terracl_error *err);
void tc_tile_plan_free(struct tc_tile_plan *plan);

/* get_blend_mask(h_crop, h_stride, w_crop, w_stride, delta) into
 * out[(h_crop - 2 delta) x (w_crop - 2 delta)], float32 as PyTorch does it. */
void tc_tile_blend_mask(int64_t h_crop, int64_t h_stride, int64_t w_crop, int64_t w_stride,
                        int64_t delta, float *out);

/* Source row (or column) of padded-frame index p for a scene of n rows, or
 * -1 for a constant (zero) pad. */
int64_t tc_tile_source_index(enum tc_tile_padding padding, int64_t pad, int64_t n, int64_t p);

/* A strip of rows [row0, row0 + rows) of the padded frame, all columns. */
struct tc_tile_accum {
    int64_t channels, width, rows, row0;
    int average;
    float *sum;     /* [channels][rows][width] */
    float *weight;  /* [rows][width] */
    int64_t *owner; /* !average: order of the chip that wrote last, -1 none */
};

TC_NODISCARD terracl_status tc_tile_accum_init(struct tc_tile_accum *acc, int64_t channels,
                                               int64_t width, int64_t rows, int average,
                                               terracl_error *err);
void tc_tile_accum_free(struct tc_tile_accum *acc);
/* Moves the strip down to start at row0 (>= the current row0): rows
 * already held keep their sums, new rows start empty. */
void tc_tile_accum_move(struct tc_tile_accum *acc, int64_t row0);
/* Adds one chip's prediction pred[channels][pred_h][pred_w] (the chip's
 * whole output before cropping). Its output rows must lie in the strip. */
TC_NODISCARD terracl_status tc_tile_accum_add(struct tc_tile_accum *acc,
                                              const struct tc_tile_plan *plan,
                                              const struct tc_tile_chip *chip, const float *pred,
                                              int64_t pred_h, int64_t pred_w, terracl_error *err);
/* The blended result of padded-frame row y, columns [x0, x0 + n), into
 * out[channels][n] (stride n). A pixel no chip covered is TerraTorch's
 * error "Some pixels did not receive a classification!". */
TC_NODISCARD terracl_status tc_tile_accum_row(const struct tc_tile_accum *acc, int64_t y,
                                              int64_t x0, int64_t n, float *out,
                                              terracl_error *err);

/* Rows shared by two processes that each ran part of a scene's chips
 * (split scenes): one side packs its partial sums of padded-frame rows
 * [y0, y0 + n) (rows outside its strip as empty) into buf (n times
 * tc_tile_accum_row_bytes), the other merges them into its own, as if
 * it had added those chips itself (up to float rounding). */
size_t tc_tile_accum_row_bytes(const struct tc_tile_accum *acc);
void tc_tile_accum_pack(const struct tc_tile_accum *acc, int64_t y0, int64_t n, unsigned char *buf);
void tc_tile_accum_merge(struct tc_tile_accum *acc, int64_t y0, int64_t n, const unsigned char *buf);

#endif /* TC_TILING_TILING_H */

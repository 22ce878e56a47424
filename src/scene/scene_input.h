/*
 * Scene input: which file band feeds each model channel (and frame), and
 * reading a strip of the padded frame into normalised model input planes
 * plus the nodata mask of the scene rows it covers. Uses src/io/geotiff for
 * the file; the arithmetic follows TerraTorch's generic pixel-wise dataset
 * and its Normalize: nodata -> NaN -> no_data_replace, band selection,
 * float32, * constant_scale, (x - mean) / std; padding after all of that.
 */
#ifndef TC_SCENE_SCENE_INPUT_H
#define TC_SCENE_SCENE_INPUT_H

#include <stdint.h>

#include "core/error.h"
#include "io/geotiff.h"
#include "scene/scene_config.h"
#include "tiling/tiling.h"

struct tc_scene_layout {
    int channels, frames;             /* C, T (T = 1 without a time axis) */
    int temporal;                     /* the model input is [B, C, T, H, W] */
    int file_bands;                   /* bands in the file */
    int band_of[TC_SCENE_MAX_BANDS];  /* [c * T + t] -> 0-based file band */
    float mean[TC_SCENE_MAX_BANDS];   /* [c * T + t] (0 / 1 without normalisation) */
    float std[TC_SCENE_MAX_BANDS];
};

/* Matches the config to a file with `file_bands` bands. Errors name `path`:
 * fewer bands than dataset_bands names, a band count that is not a multiple
 * of dataset_bands for a time series, means/stds of another length than the
 * model's channels. */
TC_NODISCARD terracl_status tc_scene_layout_make(const struct tc_scene_config *cfg,
                                                 const char *path, int file_bands,
                                                 struct tc_scene_layout *out, terracl_error *err);

/* A strip of padded-frame rows [row0, row0 + rows), all frame columns. */
struct tc_scene_strip {
    int64_t row0, rows, frame_w;
    float *planes;         /* [C][T][rows][frame_w], normalised */
    int64_t mask_row0, mask_rows; /* scene rows the mask covers */
    unsigned char *nodata; /* [mask_rows][scene width]: 1 where any band is nodata */
    double *raw;           /* read buffer */
    size_t cap_planes, cap_mask, cap_raw;
};

void tc_scene_strip_free(struct tc_scene_strip *s);

/* Fills `s` with padded rows [row0, row0 + rows) of the scene under
 * `plan` (its padding and frame). want_mask: also read every band for the
 * nodata mask. */
TC_NODISCARD terracl_status tc_scene_strip_load(struct tc_raster *r, const struct tc_scene_config *cfg,
                                                const struct tc_scene_layout *lay,
                                                const struct tc_tile_plan *plan, int64_t row0,
                                                int64_t rows, int want_mask,
                                                struct tc_scene_strip *s, terracl_error *err);

#endif /* TC_SCENE_SCENE_INPUT_H */

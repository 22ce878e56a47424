/*
 * Scene inference: a GeoTIFF scene in, a georeferenced prediction GeoTIFF
 * out, as `terratorch predict` produces it (TerraTorch 1.2.13).
 *
 * The predictor takes its settings from the model's config: the datamodule's
 * band names (dataset_bands / output_bands, or their predict_ forms),
 * no_data_replace, constant_scale, means and stds, expand_temporal_dimension
 * (data.init_args), and model.init_args.tiled_inference_parameters. The
 * file's nodata pixels become NaN and then no_data_replace, the bands are
 * selected, multiplied by constant_scale and normalised ((x - mean) / std),
 * in that order. With tiling parameters the scene is cut into chips exactly
 * as TerraTorch's tiled_inference does (same chips, blend masks, padding and
 * averaging); without them, or for a scene no larger than one crop, the
 * whole scene is one forward pass.
 *
 * Outputs: segmentation writes the argmax class (int16 unless out_dtype
 * says otherwise), regression the value (float32 unless ...); pixels where
 * any band of the input is nodata become -1, which is the output's nodata.
 * With `logits` the blended model output is written instead (float32, one
 * band per channel, not masked). The output has the input's size,
 * geotransform and projection, is tiled and LZW-compressed, and is written
 * to a temporary file next to it that is renamed into place when complete.
 *
 * Scenes are streamed: the input is read and the output written by windows
 * of chip rows, so host memory does not grow with the scene (except for a
 * scene without tiling, which is one forward pass over the whole scene).
 * The library sets GDAL's block cache to at most 64 MiB for this reason.
 *
 * Multimodal models (several TerraMind modalities) take one scene per
 * modality (terracl_predict_scenes), all on one grid: the same size,
 * geotransform and projection. Each modality's bands, constant_scale,
 * means and stds come from its entry of the data section's per-modality
 * maps, as GenericMultiModalDataModule reads them; no_data_replace and the
 * tiling are shared, and the modalities are tiled together (TerraTorch's
 * tiled_inference with a dict). The first scene given plays the part of
 * the first file of TerraTorch's sample: the output takes its
 * georeferencing and its nodata pixels become -1.
 *
 * Ownership: the predictor borrows the model (which must outlive it); one
 * thread uses a predictor at a time. Paths and names passed in are the
 * caller's and only read during the call.
 */
#ifndef TERRACL_PREDICT_H
#define TERRACL_PREDICT_H

#include <stddef.h>
#include <stdint.h>

#include "terracl/export.h"
#include "terracl/model.h"
#include "terracl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct terracl_predictor terracl_predictor;

struct terracl_predict_progress {
    int64_t chips_done, chips_total; /* forward-pass chips of this scene */
    int64_t rows_done, rows_total;   /* output rows written */
};

/* Called after every batch of chips and every written window. */
typedef void (*terracl_predict_progress_fn)(const struct terracl_predict_progress *progress,
                                            void *user);

/*
 * One scene shared by `parts` processes (MPI ranks, ...), each running the
 * same call with its own `part`. Every part makes the same chip plan and
 * runs a contiguous band of chip rows; the rows where two neighbouring
 * bands' blended sums meet are handed from part k to part k + 1 through
 * send_next / recv_prev (the same byte count on both sides; part k sends
 * before it receives), so the joined result equals one process's up to
 * float rounding. Part k writes its rows to terracl_predict_part_path's
 * file; terracl_predict_join_parts then makes the output from them.
 * Each part needs at least crop / stride chip rows.
 */
struct terracl_predict_split {
    int parts, part;
    terracl_status (*send_next)(const void *data, size_t bytes, void *user, terracl_error *err);
    terracl_status (*recv_prev)(void *data, size_t bytes, void *user, terracl_error *err);
    void *user;
};

struct terracl_predict_options {
    int logits;            /* write the model output instead of classes/values */
    const char *out_dtype; /* "int16", "float32", ... NULL: the task's default */
    int overwrite;         /* replace an existing output (else keep it and skip) */
    terracl_predict_progress_fn progress; /* may be NULL */
    void *progress_user;
    const struct terracl_predict_split *split; /* NULL: the whole scene */
    /* Multimodal models: run without the modalities no scene is given for,
     * as TerraTorch does with allow_missing_modalities (else each is an
     * error naming it). */
    int allow_missing_modalities;
};

/* One scene of a multimodal sample: `modality` as the config's
 * `modalities` list names it (NULL: the model's first modality, or its one
 * plain input), `path` the GeoTIFF. */
struct terracl_scene_input {
    const char *modality;
    const char *path;
};

struct terracl_predict_result {
    int64_t width, height;  /* the scene */
    int64_t rows;           /* rows this call wrote (a split scene's part: its rows) */
    int64_t chips;          /* forward-pass chips (1 for one pass) */
    int tiled;              /* 1 when the scene was cut into chips */
    int georeferenced;      /* 0: the input had no geotransform/projection */
    int skipped;            /* 1: the output existed and overwrite was off */
    int delta_reduced;      /* 1: TerraTorch's rule lowered delta (it warns) */
    double seconds;
};

/* Reads the scene settings from the model's config (a bad data section or
 * tiling block is TERRACL_ERR_CONFIG). The model must be a segmentation or
 * pixel-wise regression model. */
TERRACL_API terracl_status terracl_predictor_create(terracl_model *model, terracl_predictor **out,
                                                    terracl_error *err);
TERRACL_API void terracl_predictor_destroy(terracl_predictor *predictor); /* NULL: no-op */

/* Predicts one scene into output_path (its folder must exist). A failure
 * leaves no file behind and an existing output untouched. */
TERRACL_API terracl_status terracl_predict_scene(terracl_predictor *predictor,
                                                 const char *scene_path, const char *output_path,
                                                 const struct terracl_predict_options *options,
                                                 struct terracl_predict_result *result,
                                                 terracl_error *err);

/* Several scenes, one per modality, into one prediction. Unknown
 * modalities, one given twice, a missing one (unless
 * allow_missing_modalities) and scenes off the first scene's grid are
 * TERRACL_ERR_INVALID_ARG / TERRACL_ERR_SHAPE naming the modality and what
 * differs. terracl_predict_scene is this with one scene and no modality
 * name. A split scene (options->split) is joined with the first scene's
 * path as terracl_predict_join_parts's scene_path. */
TERRACL_API terracl_status terracl_predict_scenes(terracl_predictor *predictor,
                                                  const struct terracl_scene_input *scenes,
                                                  size_t n_scenes, const char *output_path,
                                                  const struct terracl_predict_options *options,
                                                  struct terracl_predict_result *result,
                                                  terracl_error *err);

/* The file part `part` of `parts` of output_path is written to (next to
 * it, hidden). Returns 0 when out[cap] is too small. */
TERRACL_API int terracl_predict_part_path(const char *output_path, int part, int parts, char *out,
                                          size_t cap);
/* Joins the parts' files (all finished) into output_path, atomically, and
 * removes them. scene_path gives the size and georeferencing. */
TERRACL_API terracl_status terracl_predict_join_parts(const char *scene_path,
                                                      const char *output_path, int parts,
                                                      terracl_error *err);

/* TerraTorch's tiled_inference on an in-memory input [B, C, H, W] or
 * [B, C, T, H, W] with the config's tiled_inference_parameters (defaults
 * when the config has none). The output is what tiled_inference returns:
 * [B, channels, H, W] (channels 1 for regression), or the model's own
 * output when the input fits one crop. The caller frees output->data. */
TERRACL_API terracl_status terracl_model_run_tiled(terracl_model *model,
                                                   const struct terracl_inputs *inputs,
                                                   struct terracl_tensor *output,
                                                   terracl_error *err);

#ifdef __cplusplus
}
#endif
#endif /* TERRACL_PREDICT_H */

/*
 * What a TerraTorch config says about turning a scene file into model input
 * and about tiling, read from the config's value tree:
 *
 *   data.init_args: dataset_bands / predict_dataset_bands, output_bands /
 *     predict_output_bands, constant_scale, no_data_replace, means, stds,
 *     expand_temporal_dimension (GenericNonGeo*DataModule's keys)
 *   model.init_args.tiled_inference_parameters (or the top-level key)
 *
 * A config without a `data` section takes every band of the file (or the
 * first C when the model names C input bands) without scaling or
 * normalisation.
 */
#ifndef TC_SCENE_SCENE_CONFIG_H
#define TC_SCENE_SCENE_CONFIG_H

#include <stdint.h>

#include "core/error.h"
#include "terracl/value.h"
#include "tiling/tiling.h"

#define TC_SCENE_MAX_BANDS 1024

/* One band name: a string or an integer, as dataset_bands lists them. */
struct tc_scene_band {
    int is_int;
    int64_t index;
    const char *name; /* borrowed from the tree */
};

struct tc_scene_config {
    /* dataset_bands (intervals [a, b] expanded); n_dataset 0 when absent. */
    int n_dataset;
    struct tc_scene_band dataset[TC_SCENE_MAX_BANDS];
    /* The model's channels as positions in dataset_bands (output_bands);
     * n_select 0: every band (up to model_channels when known). */
    int n_select;
    int select[TC_SCENE_MAX_BANDS];
    int model_channels; /* len(backbone_bands) or backbone_in_chans; 0 unknown */
    int temporal;       /* expand_temporal_dimension */
    double constant_scale;
    int has_replace;
    double no_data_replace;
    /* means/stds per channel ([C]) or per channel and frame ([C][T]). */
    int n_norm;        /* 0: no normalisation */
    int norm_frames;   /* 1 for [C] lists, T for [C][T] */
    double means[TC_SCENE_MAX_BANDS];
    double stds[TC_SCENE_MAX_BANDS];
    int tiled; /* tiled_inference_parameters present */
    struct tc_tile_params tile;
};

/* Reads the scene settings from a config tree (`name` labels messages).
 * Malformed keys are TERRACL_ERR_CONFIG naming the key. */
TC_NODISCARD terracl_status tc_scene_config_read(const terracl_value *root, const char *name,
                                                 struct tc_scene_config *out, terracl_error *err);

/* The same for one modality of a model with several: the per-modality
 * keys (dataset_bands, output_bands, constant_scale, means, stds and their
 * predict_ forms; backbone_bands for the channel count) are maps from
 * modality names, as GenericMultiModalDataModule takes them, and this
 * modality's entry applies (none: every band, no scaling, no
 * normalisation); no_data_replace, expand_temporal_dimension and the
 * tiling are shared. modality NULL is tc_scene_config_read. */
TC_NODISCARD terracl_status tc_scene_config_read_modality(const terracl_value *root,
                                                          const char *name, const char *modality,
                                                          struct tc_scene_config *out,
                                                          terracl_error *err);

/* Reads a tiled_inference_parameters map (NULL: defaults). */
TC_NODISCARD terracl_status tc_scene_tile_params(const terracl_value *map, const char *name,
                                                 struct tc_tile_params *out, terracl_error *err);

#endif /* TC_SCENE_SCENE_CONFIG_H */

/*
 * Scene settings from a TerraTorch config (see scene_config.h). The keys and
 * their defaults are those of GenericNonGeoSegmentationDataModule /
 * GenericNonGeoPixelwiseRegressionDataModule and of tiled_inference() in
 * TerraTorch 1.2.13.
 */
#include "scene/scene_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/yaml_config.h"

static terracl_status key_error(terracl_error *err, const char *name, const terracl_value *v,
                                const char *key, const char *what)
{
    int line = 0, col = 0;
    if (v != NULL)
        terracl_value_position(v, &line, &col);
    if (line > 0)
        return tc_fail(err, TERRACL_ERR_CONFIG, "%s:%d:%d: %s %s", name, line, col, key, what);
    return tc_fail(err, TERRACL_ERR_CONFIG, "%s: %s %s", name, key, what);
}

static int is_number(const terracl_value *v)
{
    terracl_value_type t = terracl_value_type_of(v);
    return t == TERRACL_VALUE_INT || t == TERRACL_VALUE_FLOAT;
}

static int is_null(const terracl_value *v)
{
    return v == NULL || terracl_value_type_of(v) == TERRACL_VALUE_NULL;
}

/* A band list: names, integers and inclusive [start, end] intervals (the
 * YAML form of TerraTorch's tuples), expanded. */
static terracl_status read_bands(const terracl_value *list, const char *name, const char *key,
                                 struct tc_scene_band *out, int *count, terracl_error *err)
{
    *count = 0;
    if (terracl_value_type_of(list) != TERRACL_VALUE_LIST)
        return key_error(err, name, list, key, "must be a list of band names or indices");
    for (size_t i = 0; i < terracl_value_list_size(list); i++) {
        const terracl_value *e = terracl_value_list_get(list, i);
        terracl_value_type t = terracl_value_type_of(e);
        if (t == TERRACL_VALUE_LIST) {
            const terracl_value *a = terracl_value_list_get(e, 0), *b = terracl_value_list_get(e, 1);
            if (terracl_value_list_size(e) != 2 || terracl_value_type_of(a) != TERRACL_VALUE_INT ||
                terracl_value_type_of(b) != TERRACL_VALUE_INT ||
                terracl_value_int(b) < terracl_value_int(a))
                return key_error(err, name, e, key,
                                 "intervals must be [start, end] with integers start <= end");
            for (int64_t k = terracl_value_int(a); k <= terracl_value_int(b); k++) {
                if (*count >= TC_SCENE_MAX_BANDS)
                    return key_error(err, name, list, key, "names too many bands");
                out[(*count)++] = (struct tc_scene_band){1, k, NULL};
            }
            continue;
        }
        if (*count >= TC_SCENE_MAX_BANDS)
            return key_error(err, name, list, key, "names too many bands");
        if (t == TERRACL_VALUE_INT)
            out[(*count)++] = (struct tc_scene_band){1, terracl_value_int(e), NULL};
        else if (t == TERRACL_VALUE_STRING)
            out[(*count)++] = (struct tc_scene_band){0, 0, terracl_value_string(e)};
        else
            return key_error(err, name, e, key, "entries must be band names, integers or [start, end]");
    }
    return TERRACL_OK;
}

static int same_band(const struct tc_scene_band *a, const struct tc_scene_band *b)
{
    if (a->is_int != b->is_int)
        return 0;
    return a->is_int ? a->index == b->index : strcmp(a->name, b->name) == 0;
}

/* means/stds: [C] numbers or [C][T] lists. */
static terracl_status read_stats(const terracl_value *list, const char *name, const char *key,
                                 double *out, int *n, int *frames, terracl_error *err)
{
    if (terracl_value_type_of(list) == TERRACL_VALUE_STRING)
        return key_error(err, name, list, key,
                         "from a file is not supported; list the values in the config");
    if (terracl_value_type_of(list) != TERRACL_VALUE_LIST || terracl_value_list_size(list) == 0)
        return key_error(err, name, list, key, "must be a non-empty list of numbers");
    size_t c = terracl_value_list_size(list);
    int t = 1;
    const terracl_value *first = terracl_value_list_get(list, 0);
    if (terracl_value_type_of(first) == TERRACL_VALUE_LIST)
        t = (int)terracl_value_list_size(first);
    if (t <= 0 || c * (size_t)t > TC_SCENE_MAX_BANDS)
        return key_error(err, name, list, key, "has an unusable shape");
    for (size_t i = 0; i < c; i++) {
        const terracl_value *e = terracl_value_list_get(list, i);
        if (t == 1 && terracl_value_type_of(first) != TERRACL_VALUE_LIST) {
            if (!is_number(e))
                return key_error(err, name, e, key, "entries must be numbers");
            out[i] = terracl_value_float(e);
            continue;
        }
        if (terracl_value_type_of(e) != TERRACL_VALUE_LIST ||
            terracl_value_list_size(e) != (size_t)t)
            return key_error(err, name, e, key, "rows must all have the same length");
        for (int j = 0; j < t; j++) {
            const terracl_value *x = terracl_value_list_get(e, (size_t)j);
            if (!is_number(x))
                return key_error(err, name, x, key, "entries must be numbers");
            out[i * (size_t)t + (size_t)j] = terracl_value_float(x);
        }
    }
    *n = (int)c;
    *frames = t;
    return TERRACL_OK;
}

static terracl_status tile_int(const terracl_value *map, const char *key, const char *name,
                               int64_t *out, terracl_error *err)
{
    const terracl_value *v = terracl_value_map_get(map, key);
    if (is_null(v))
        return TERRACL_OK;
    if (terracl_value_type_of(v) != TERRACL_VALUE_INT)
        return key_error(err, name, v, key, "must be an integer");
    /* `h_crop or crop`: 0 means "not given" in TerraTorch too. */
    if (terracl_value_int(v) != 0)
        *out = terracl_value_int(v);
    return TERRACL_OK;
}

static terracl_status tile_bool(const terracl_value *map, const char *key, const char *name,
                                int *out, terracl_error *err)
{
    const terracl_value *v = terracl_value_map_get(map, key);
    if (is_null(v))
        return TERRACL_OK;
    if (terracl_value_type_of(v) != TERRACL_VALUE_BOOL)
        return key_error(err, name, v, key, "must be true or false");
    *out = terracl_value_bool(v);
    return TERRACL_OK;
}

terracl_status tc_scene_tile_params(const terracl_value *map, const char *name,
                                    struct tc_tile_params *out, terracl_error *err)
{
    tc_tile_params_default(out);
    if (map == NULL)
        return TERRACL_OK;
    int64_t crop = 224, stride = 192, hc = 0, wc = 0, hs = 0, ws = 0;
    terracl_status st;
    if ((st = tile_int(map, "crop", name, &crop, err)) || (st = tile_int(map, "stride", name, &stride, err)) ||
        (st = tile_int(map, "h_crop", name, &hc, err)) || (st = tile_int(map, "w_crop", name, &wc, err)) ||
        (st = tile_int(map, "h_stride", name, &hs, err)) ||
        (st = tile_int(map, "w_stride", name, &ws, err)) ||
        (st = tile_int(map, "batch_size", name, &out->batch_size, err)) ||
        (st = tile_bool(map, "average_patches", name, &out->average_patches, err)) ||
        (st = tile_bool(map, "blend_overlaps", name, &out->blend_overlaps, err)))
        return st;
    const terracl_value *d = terracl_value_map_get(map, "delta");
    if (!is_null(d)) {
        if (terracl_value_type_of(d) != TERRACL_VALUE_INT)
            return key_error(err, name, d, "delta", "must be an integer");
        out->delta = terracl_value_int(d);
    }
    out->h_crop = hc ? hc : crop;
    out->w_crop = wc ? wc : crop;
    out->h_stride = hs ? hs : stride;
    out->w_stride = ws ? ws : stride;
    /* Accepted and without effect here, as in TerraTorch's predict path. */
    (void)terracl_value_map_get(map, "verbose");
    (void)terracl_value_map_get(map, "out_channels");
    const terracl_value *pad = terracl_value_map_get(map, "padding");
    if (!is_null(pad)) {
        if (terracl_value_type_of(pad) == TERRACL_VALUE_BOOL && !terracl_value_bool(pad)) {
            out->padding = TC_TILE_PAD_NONE;
        } else if (terracl_value_type_of(pad) == TERRACL_VALUE_STRING) {
            const char *m = terracl_value_string(pad);
            if (strcmp(m, "reflect") == 0)
                out->padding = TC_TILE_PAD_REFLECT;
            else if (strcmp(m, "replicate") == 0)
                out->padding = TC_TILE_PAD_REPLICATE;
            else if (strcmp(m, "constant") == 0)
                out->padding = TC_TILE_PAD_CONSTANT;
            else
                return key_error(err, name, pad, "padding",
                                 "must be false, reflect, replicate or constant");
        } else {
            return key_error(err, name, pad, "padding", "must be false or a padding mode name");
        }
    }
    for (size_t i = 0; i < terracl_value_map_size(map); i++) {
        const char *k = terracl_value_map_key(map, i);
        static const char *known[] = {"crop", "stride", "delta", "h_crop", "w_crop", "h_stride",
                                      "w_stride", "average_patches", "blend_overlaps",
                                      "batch_size", "verbose", "padding", "out_channels"};
        int ok = 0;
        for (size_t j = 0; j < sizeof known / sizeof known[0]; j++)
            ok |= strcmp(k, known[j]) == 0;
        if (!ok)
            return key_error(err, name, terracl_value_map_at(map, i), k,
                             "is not a tiled_inference_parameters key");
    }
    return TERRACL_OK;
}

/* data.init_args of a Lightning config, or a plain `data` map. */
static const terracl_value *data_section(const terracl_value *root)
{
    const terracl_value *data = terracl_value_map_peek(root, "data");
    if (data == NULL || terracl_value_type_of(data) != TERRACL_VALUE_MAP)
        return NULL;
    const terracl_value *init = terracl_value_map_peek(data, "init_args");
    if (init != NULL && terracl_value_type_of(init) == TERRACL_VALUE_MAP)
        return init;
    return data;
}

/* A per-modality map ({S2L2A: [...]}, as TerraMind's bands and
 * GenericMultiModalDataModule's keys are written) with one modality stands
 * for its one value; anything else is returned as is. */
static const terracl_value *single_modality(const terracl_value *v)
{
    if (v != NULL && terracl_value_type_of(v) == TERRACL_VALUE_MAP && terracl_value_map_size(v) == 1)
        return terracl_value_map_at(v, 0);
    return v;
}

/* The value `key` holds for `modality`: without a modality, the one value
 * (single_modality); with one, its entry of the per-modality map (*out NULL
 * when the map has none), and anything but a map is an error, since
 * GenericMultiModalDataModule indexes these keys by modality. */
static terracl_status modality_value(const terracl_value *v, const char *modality,
                                     const char *name, const char *key,
                                     const terracl_value **out, terracl_error *err)
{
    *out = NULL;
    if (modality == NULL) {
        *out = single_modality(v);
        return TERRACL_OK;
    }
    if (is_null(v))
        return TERRACL_OK;
    if (terracl_value_type_of(v) != TERRACL_VALUE_MAP)
        return key_error(err, name, v, key,
                         "must map each modality to its values for a model with several "
                         "modalities (as GenericMultiModalDataModule takes it)");
    *out = terracl_value_map_peek(v, modality);
    return TERRACL_OK;
}

/* The model's input channel count (of `modality`, NULL: the one input)
 * when its arguments name it. */
static int model_channels(const terracl_value *model_args, const char *modality)
{
    const terracl_value *bands = terracl_value_map_peek(model_args, "backbone_bands");
    if (modality == NULL)
        bands = single_modality(bands);
    else if (bands != NULL && terracl_value_type_of(bands) == TERRACL_VALUE_MAP)
        bands = terracl_value_map_peek(bands, modality);
    if (bands != NULL && terracl_value_type_of(bands) == TERRACL_VALUE_LIST)
        return (int)terracl_value_list_size(bands);
    if (modality != NULL)
        return 0; /* a pretrained modality: the model knows its bands */
    const terracl_value *in = terracl_value_map_peek(model_args, "backbone_in_chans");
    if (in != NULL && terracl_value_type_of(in) == TERRACL_VALUE_INT && terracl_value_int(in) > 0 &&
        terracl_value_int(in) <= TC_SCENE_MAX_BANDS)
        return (int)terracl_value_int(in);
    return 0;
}

static const terracl_value *pick(const terracl_value *data, const char *predict_key,
                                 const char *key)
{
    /* predict_dataset_bands if predict_dataset_bands else dataset_bands */
    const terracl_value *v = terracl_value_map_peek(data, predict_key);
    if (!is_null(v) && !(terracl_value_type_of(v) == TERRACL_VALUE_LIST &&
                         terracl_value_list_size(v) == 0))
        return v;
    v = terracl_value_map_peek(data, key);
    return is_null(v) ? NULL : v;
}

terracl_status tc_scene_config_read(const terracl_value *root, const char *name,
                                    struct tc_scene_config *out, terracl_error *err)
{
    return tc_scene_config_read_modality(root, name, NULL, out, err);
}

terracl_status tc_scene_config_read_modality(const terracl_value *root, const char *name,
                                             const char *modality, struct tc_scene_config *out,
                                             terracl_error *err)
{
    memset(out, 0, sizeof *out);
    out->constant_scale = 1.0;
    struct tc_model_config mc;
    terracl_status st = tc_config_model(root, name, &mc, err);
    if (st != TERRACL_OK)
        return st;
    out->model_channels = model_channels(mc.model_args, modality);
    out->tiled = mc.tiled_inference != NULL;
    if ((st = tc_scene_tile_params(mc.tiled_inference, name, &out->tile, err)))
        return st;

    const terracl_value *data = data_section(root);
    if (data == NULL)
        return TERRACL_OK;
    const terracl_value *ds, *os, *v, *means, *stds;
    v = terracl_value_map_peek(data, "concat_bands");
    if (modality != NULL && v != NULL && terracl_value_type_of(v) == TERRACL_VALUE_BOOL &&
        terracl_value_bool(v))
        return key_error(err, name, v, "concat_bands",
                         "(every modality stacked into one image) is not supported: the model "
                         "takes one scene per modality");
    if ((st = modality_value(pick(data, "predict_dataset_bands", "dataset_bands"), modality, name,
                             "dataset_bands", &ds, err)) ||
        (st = modality_value(pick(data, "predict_output_bands", "output_bands"), modality, name,
                             "output_bands", &os, err)) ||
        (st = modality_value(terracl_value_map_peek(data, "constant_scale"), modality, name,
                             "constant_scale", &v, err)) ||
        (st = modality_value(terracl_value_map_peek(data, "means"), modality, name, "means", &means,
                             err)) ||
        (st = modality_value(terracl_value_map_peek(data, "stds"), modality, name, "stds", &stds,
                             err)))
        return st;
    if (ds != NULL && (st = read_bands(ds, name, "dataset_bands", out->dataset, &out->n_dataset, err)))
        return st;
    if (os != NULL) {
        if (ds == NULL)
            return key_error(err, name, os, "output_bands", "needs dataset_bands to name the file's bands");
        struct tc_scene_band *wanted = calloc(TC_SCENE_MAX_BANDS, sizeof *wanted);
        if (wanted == NULL)
            return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        int n = 0;
        st = read_bands(os, name, "output_bands", wanted, &n, err);
        for (int i = 0; st == TERRACL_OK && i < n; i++) {
            int found = -1;
            for (int j = 0; j < out->n_dataset && found < 0; j++)
                if (same_band(&wanted[i], &out->dataset[j]))
                    found = j;
            if (found < 0) {
                char band[128];
                if (wanted[i].is_int)
                    snprintf(band, sizeof band, "%lld", (long long)wanted[i].index);
                else
                    snprintf(band, sizeof band, "%s", wanted[i].name);
                char what[256];
                snprintf(what, sizeof what,
                         "names band %s, which is not in dataset_bands (output bands must be a "
                         "subset of dataset bands)",
                         band);
                st = key_error(err, name, os, "output_bands", what);
            }
            out->select[i] = found;
        }
        free(wanted);
        if (st != TERRACL_OK)
            return st;
        out->n_select = n;
    }
    if (!is_null(v)) {
        if (!is_number(v))
            return key_error(err, name, v, "constant_scale", "must be a number");
        out->constant_scale = terracl_value_float(v);
    }
    v = terracl_value_map_peek(data, "no_data_replace");
    if (!is_null(v)) {
        if (!is_number(v))
            return key_error(err, name, v, "no_data_replace", "must be a number or null");
        out->has_replace = 1;
        out->no_data_replace = terracl_value_float(v);
    }
    v = terracl_value_map_peek(data, "expand_temporal_dimension");
    if (!is_null(v)) {
        if (terracl_value_type_of(v) != TERRACL_VALUE_BOOL)
            return key_error(err, name, v, "expand_temporal_dimension", "must be true or false");
        out->temporal = terracl_value_bool(v);
    }
    if (out->temporal && (out->n_dataset == 0 || out->n_select == 0))
        return key_error(err, name, NULL, "expand_temporal_dimension",
                         "needs dataset_bands and output_bands (as in TerraTorch)");
    /* `if means and stds`: both given and non-empty, else no normalisation. */
    if (!is_null(means) && !is_null(stds) &&
        !(terracl_value_type_of(means) == TERRACL_VALUE_LIST && terracl_value_list_size(means) == 0) &&
        !(terracl_value_type_of(stds) == TERRACL_VALUE_LIST && terracl_value_list_size(stds) == 0)) {
        int nm = 0, ns = 0, tm = 1, ts = 1;
        if ((st = read_stats(means, name, "means", out->means, &nm, &tm, err)) ||
            (st = read_stats(stds, name, "stds", out->stds, &ns, &ts, err)))
            return st;
        if (nm != ns || tm != ts)
            return key_error(err, name, stds, "stds", "must have the shape of means");
        for (int i = 0; i < nm * tm; i++)
            if (out->stds[i] == 0.0)
                return key_error(err, name, stds, "stds", "must not contain 0");
        out->n_norm = nm;
        out->norm_frames = tm;
    }
    return TERRACL_OK;
}

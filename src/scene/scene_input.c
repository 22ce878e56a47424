/*
 * Scene bands -> model input planes (see scene_input.h).
 */
#include "scene/scene_input.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"

terracl_status tc_scene_layout_make(const struct tc_scene_config *cfg, const char *path,
                                    int file_bands, struct tc_scene_layout *out, terracl_error *err)
{
    memset(out, 0, sizeof *out);
    out->file_bands = file_bands;
    int nd = cfg->n_dataset;
    if (nd > 0 && file_bands < nd)
        return tc_fail(err, TERRACL_ERR_SHAPE, "%s: has %d bands but dataset_bands names %d", path,
                       file_bands, nd);
    int C, T = 1;
    if (cfg->temporal) {
        /* rearrange "(time channels) h w -> channels time h w": bands are
         * grouped by time step, dataset_bands within each step. */
        if (file_bands % nd != 0)
            return tc_fail(err, TERRACL_ERR_SHAPE,
                           "%s: has %d bands, not a multiple of the %d dataset_bands "
                           "(expand_temporal_dimension reads time steps of %d bands)",
                           path, file_bands, nd, nd);
        T = file_bands / nd;
        C = cfg->n_select;
        if ((int64_t)C * T > TC_SCENE_MAX_BANDS)
            return tc_fail(err, TERRACL_ERR_SHAPE, "%s: too many bands", path);
        for (int c = 0; c < C; c++)
            for (int t = 0; t < T; t++)
                out->band_of[c * T + t] = t * nd + cfg->select[c];
        out->temporal = 1;
    } else if (cfg->n_select > 0) {
        C = cfg->n_select;
        for (int c = 0; c < C; c++)
            out->band_of[c] = cfg->select[c];
    } else {
        /* No output_bands: every band, or the model's first C. */
        C = file_bands;
        if (cfg->model_channels > 0) {
            if (file_bands < cfg->model_channels)
                return tc_fail(err, TERRACL_ERR_SHAPE, "%s: has %d bands but the model takes %d",
                               path, file_bands, cfg->model_channels);
            C = cfg->model_channels;
        }
        if (C > TC_SCENE_MAX_BANDS)
            return tc_fail(err, TERRACL_ERR_SHAPE, "%s: too many bands", path);
        for (int c = 0; c < C; c++)
            out->band_of[c] = c;
    }
    out->channels = C;
    out->frames = T;
    for (int i = 0; i < C * T; i++) {
        out->mean[i] = 0.0f;
        out->std[i] = 1.0f;
    }
    if (cfg->n_norm == 0)
        return TERRACL_OK;
    if (cfg->n_norm != C)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "%s: means/stds have %d values but the model gets %d bands (output_bands)",
                       path, cfg->n_norm, C);
    int F = cfg->norm_frames;
    if (F > 1 && cfg->temporal && F != T)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "%s: means/stds have %d values per band but the scene has %d time steps",
                       path, F, T);
    for (int c = 0; c < C; c++) {
        for (int t = 0; t < T; t++) {
            float m, s;
            if (F == 1) {
                m = (float)cfg->means[c];
                s = (float)cfg->stds[c];
            } else if (cfg->temporal) {
                m = (float)cfg->means[c * F + t];
                s = (float)cfg->stds[c * F + t];
            } else {
                /* [C, T] statistics on a [B, C, H, W] batch: TerraTorch
                 * averages them over T (float32). */
                float sm = 0.0f, ss = 0.0f;
                for (int f = 0; f < F; f++) {
                    sm += (float)cfg->means[c * F + f];
                    ss += (float)cfg->stds[c * F + f];
                }
                m = sm / (float)F;
                s = ss / (float)F;
            }
            out->mean[c * T + t] = m;
            out->std[c * T + t] = s;
        }
    }
    return TERRACL_OK;
}

void tc_scene_strip_free(struct tc_scene_strip *s)
{
    if (s == NULL)
        return;
    free(s->planes);
    free(s->nodata);
    free(s->raw);
    memset(s, 0, sizeof *s);
}

static terracl_status ensure(void **buf, size_t *cap, size_t count, size_t elem, terracl_error *err)
{
    size_t bytes;
    if (tc_mul_overflow(count, elem, &bytes))
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "scene window too large");
    if (bytes <= *cap)
        return TERRACL_OK;
    void *p = realloc(*buf, bytes);
    if (p == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for a %zu-byte scene window", bytes);
    *buf = p;
    *cap = bytes;
    return TERRACL_OK;
}

/* The dataset's per-pixel transform up to normalisation. */
static float pixel_value(struct tc_raster *r, int band, double v, const struct tc_scene_config *cfg)
{
    if (tc_raster_is_nodata(r, band, v))
        v = NAN;
    if (isnan(v) && cfg->has_replace) /* fillna replaces every NaN */
        v = cfg->no_data_replace;
    float f = (float)v;
    return f * (float)cfg->constant_scale;
}

terracl_status tc_scene_strip_load(struct tc_raster *r, const struct tc_scene_config *cfg,
                                   const struct tc_scene_layout *lay,
                                   const struct tc_tile_plan *plan, int64_t row0, int64_t rows,
                                   int want_mask, struct tc_scene_strip *s, terracl_error *err)
{
    const struct tc_raster_info *info = tc_raster_info(r);
    int64_t H = info->height, W = info->width, Wf = plan->frame_w, pad = plan->pad;
    int CT = lay->channels * lay->frames;
    /* Scene rows this strip needs (padding maps outside rows back inside). */
    int64_t lo = H, hi = -1;
    for (int64_t p = row0; p < row0 + rows; p++) {
        int64_t src = tc_tile_source_index(plan->padding, pad, H, p);
        if (src >= 0) {
            lo = src < lo ? src : lo;
            hi = src > hi ? src : hi;
        }
    }
    size_t plane = 0;
    terracl_status st = TERRACL_OK;
    if (tc_mul_overflow((size_t)rows, (size_t)Wf, &plane) ||
        (st = ensure((void **)&s->planes, &s->cap_planes, plane, sizeof(float) * (size_t)CT, err)) ||
        (hi >= lo && (st = ensure((void **)&s->raw, &s->cap_raw, (size_t)(hi - lo + 1) * (size_t)W,
                                  sizeof(double), err))))
        return st != TERRACL_OK ? st : tc_fail(err, TERRACL_ERR_OVERFLOW, "scene window too large");
    s->row0 = row0;
    s->rows = rows;
    s->frame_w = Wf;
    memset(s->planes, 0, plane * sizeof(float) * (size_t)CT); /* constant padding is 0 */
    s->mask_row0 = lo;
    s->mask_rows = hi >= lo ? hi - lo + 1 : 0;
    if (want_mask && s->mask_rows > 0) {
        if ((st = ensure((void **)&s->nodata, &s->cap_mask, (size_t)s->mask_rows * (size_t)W, 1, err)))
            return st;
        memset(s->nodata, 0, (size_t)s->mask_rows * (size_t)W);
    }
    if (hi < lo)
        return TERRACL_OK;
    int64_t nrows = hi - lo + 1;
    for (int b = 0; b < lay->file_bands; b++) {
        int used = 0;
        for (int i = 0; i < CT && !used; i++)
            used = lay->band_of[i] == b;
        double nd;
        int band_has_nodata = tc_raster_nodata(r, b, &nd);
        if (!used && !(want_mask && band_has_nodata))
            continue;
        if ((st = tc_raster_read(r, b, 0, lo, W, nrows, s->raw, err)))
            return st;
        if (want_mask && band_has_nodata)
            for (size_t k = 0; k < (size_t)(nrows * W); k++)
                if (tc_raster_is_nodata(r, b, s->raw[k]))
                    s->nodata[k] = 1;
        for (int i = 0; i < CT; i++) {
            if (lay->band_of[i] != b)
                continue;
            float mean = lay->mean[i], std = lay->std[i];
            int normalise = cfg->n_norm > 0;
            float *out = s->planes + (size_t)i * plane;
            for (int64_t p = 0; p < rows; p++) {
                int64_t src = tc_tile_source_index(plan->padding, pad, H, row0 + p);
                if (src < 0)
                    continue;
                const double *in = s->raw + (size_t)(src - lo) * (size_t)W;
                float *o = out + (size_t)p * (size_t)Wf;
                for (int64_t q = 0; q < Wf; q++) {
                    int64_t x = tc_tile_source_index(plan->padding, pad, W, q);
                    if (x < 0)
                        continue;
                    float v = pixel_value(r, b, in[x], cfg);
                    o[q] = normalise ? (v - mean) / std : v;
                }
            }
        }
    }
    return TERRACL_OK;
}

/*
 * terracl_model_run_tiled: TerraTorch's tiled_inference over an in-memory
 * batch (include/terracl/predict.h), for `terracl run --tiled`. It shares
 * the chip plan, blend masks and accumulator with the scene pipeline; here
 * the whole padded input and output are in memory, as in TerraTorch.
 */
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "io/yaml_config.h"
#include "models/model_internal.h"
#include "scene/scene_config.h"
#include "terracl/predict.h"
#include "tiling/tiling.h"

#define MAX_MODALITIES 8

/* Named modalities stacked along the channels, as TerraTorch's
 * tiled_inference does with a dict input (it tiles the concatenation and
 * splits every chip back into the dict). */
struct stacked_modalities {
    size_t n;
    const struct terracl_named_tensor *given; /* the caller's, for a single pass */
    int64_t chans[MAX_MODALITIES];
    float *split; /* one chip batch, modality by modality */
};

struct tiled {
    struct tc_tile_plan plan;
    struct tc_tile_accum *acc; /* one per sample */
    int64_t B, CT, H, W, channels;
    float *padded; /* [B][CT][frame_h][frame_w] */
    float *batch, *tcoords, *lcoords;
    struct stacked_modalities *mods; /* NULL: one plain image */
};

static void tiled_free(struct tiled *t)
{
    tc_tile_plan_free(&t->plan);
    if (t->acc != NULL)
        for (int64_t b = 0; b < t->B; b++)
            tc_tile_accum_free(&t->acc[b]);
    free(t->acc);
    free(t->padded);
    free(t->batch);
    free(t->tcoords);
    free(t->lcoords);
    if (t->mods != NULL)
        free(t->mods->split);
}

/* F.pad(input, (d, d, d, d), mode) of every [H, W] plane. */
static void pad_planes(struct tiled *t, const float *in)
{
    int64_t Hf = t->plan.frame_h, Wf = t->plan.frame_w;
    for (int64_t p = 0; p < t->B * t->CT; p++) {
        const float *src = in + (size_t)p * (size_t)(t->H * t->W);
        float *dst = t->padded + (size_t)p * (size_t)(Hf * Wf);
        for (int64_t y = 0; y < Hf; y++) {
            int64_t sy = tc_tile_source_index(t->plan.padding, t->plan.pad, t->H, y);
            for (int64_t x = 0; x < Wf; x++) {
                int64_t sx = tc_tile_source_index(t->plan.padding, t->plan.pad, t->W, x);
                dst[y * Wf + x] = (sy < 0 || sx < 0) ? 0.0f : src[sy * t->W + sx];
            }
        }
    }
}

static terracl_status tile_params(terracl_model *model, struct tc_tile_params *p, terracl_error *err)
{
    struct tc_model_config mc;
    const char *name = tc_model_config_name(model);
    terracl_status st = tc_config_model(tc_model_config_tree(model), name, &mc, err);
    if (st != TERRACL_OK)
        return st;
    return tc_scene_tile_params(mc.tiled_inference, name, p, err);
}

/* Runs chip/sample pairs [first, first + n) of the b-inner-most order. */
static terracl_status run_batch(terracl_model *model, struct tiled *t, const struct terracl_inputs *inputs,
                                size_t first, size_t n, terracl_error *err)
{
    const struct tc_tile_plan *pl = &t->plan;
    int64_t hc = pl->crop_h, wc = pl->crop_w, Hf = pl->frame_h, Wf = pl->frame_w;
    size_t chip = (size_t)t->CT * (size_t)(hc * wc);
    for (size_t k = 0; k < n; k++) {
        size_t idx = first + k;
        const struct tc_tile_chip *c = &pl->chips[idx / (size_t)t->B];
        int64_t b = (int64_t)(idx % (size_t)t->B);
        for (int64_t p = 0; p < t->CT; p++)
            for (int64_t y = 0; y < hc; y++)
                memcpy(t->batch + k * chip + ((size_t)p * (size_t)hc + (size_t)y) * (size_t)wc,
                       t->padded + ((size_t)(b * t->CT + p) * (size_t)Hf + (size_t)(c->row + y)) *
                                       (size_t)Wf + (size_t)c->col,
                       sizeof(float) * (size_t)wc);
    }
    struct terracl_inputs in = {0};
    struct terracl_named_tensor named[MAX_MODALITIES];
    if (t->mods != NULL) {
        /* Back from the stacked chips to one [n, C_m, hc, wc] per modality. */
        struct stacked_modalities *sm = t->mods;
        size_t off = 0, plane = (size_t)(hc * wc);
        for (size_t m = 0; m < sm->n; m++) {
            size_t cm = (size_t)sm->chans[m] * plane;
            float *dst = sm->split + off * n;
            for (size_t k = 0; k < n; k++)
                memcpy(dst + k * cm, t->batch + k * chip + off, cm * sizeof(float));
            named[m].name = sm->given[m].name;
            named[m].tensor = (struct terracl_tensor){dst, 4, {(int64_t)n, sm->chans[m], hc, wc}};
            off += cm;
        }
        in.modalities = named;
        in.n_modalities = sm->n;
    } else {
        in.image = inputs->image;
        in.image.data = t->batch;
        in.image.dims[0] = (int64_t)n;
        in.image.dims[in.image.ndim - 2] = hc;
        in.image.dims[in.image.ndim - 1] = wc;
    }
    /* TerraTorch passes the sample's coordinates unchanged to every chip
     * batch, where they broadcast; repeating them per chip is the same. */
    if (t->tcoords != NULL) {
        in.temporal_coords = inputs->temporal_coords;
        in.temporal_coords.data = t->tcoords;
        in.temporal_coords.dims[0] = (int64_t)n;
    }
    if (t->lcoords != NULL) {
        in.location_coords = inputs->location_coords;
        in.location_coords.data = t->lcoords;
        in.location_coords.dims[0] = (int64_t)n;
    }
    struct terracl_tensor o = {0};
    terracl_status st = terracl_model_run(model, &in, &o, err);
    if (st != TERRACL_OK)
        return st;
    int ok = (o.ndim == 4 || o.ndim == 3) && o.dims[0] == (int64_t)n && o.dims[o.ndim - 2] == hc &&
             o.dims[o.ndim - 1] == wc;
    int64_t channels = o.ndim == 4 ? o.dims[1] : 1;
    if (ok && t->acc == NULL) {
        t->channels = channels;
        t->acc = calloc((size_t)t->B, sizeof *t->acc);
        if (t->acc == NULL)
            st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        for (int64_t b = 0; st == TERRACL_OK && b < t->B; b++)
            st = tc_tile_accum_init(&t->acc[b], channels, Wf, Hf, pl->average, err);
    } else if (ok) {
        ok = channels == t->channels;
    }
    if (st == TERRACL_OK && !ok)
        st = tc_fail(err, TERRACL_ERR_SHAPE, "tiled inference: the model's output for a chip is not "
                                             "[B, channels, %lld, %lld] or [B, %lld, %lld]",
                     (long long)hc, (long long)wc, (long long)hc, (long long)wc);
    size_t per = (size_t)t->channels * (size_t)(hc * wc);
    for (size_t k = 0; st == TERRACL_OK && k < n; k++) {
        size_t idx = first + k;
        st = tc_tile_accum_add(&t->acc[idx % (size_t)t->B], pl, &pl->chips[idx / (size_t)t->B],
                               o.data + k * per, hc, wc, err);
    }
    free(o.data);
    return st;
}

static terracl_status repeat_rows(const struct terracl_tensor *src, size_t n, float **out,
                                  terracl_error *err)
{
    size_t row = 1;
    for (int i = 1; i < src->ndim; i++)
        row *= (size_t)src->dims[i];
    *out = malloc(row * n * sizeof(float));
    if (*out == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    for (size_t k = 0; k < n; k++)
        memcpy(*out + k * row, src->data, row * sizeof(float));
    return TERRACL_OK;
}

static terracl_status run_tiled(terracl_model *model, const struct terracl_inputs *inputs,
                                const struct terracl_inputs *original, struct stacked_modalities *mods,
                                struct terracl_tensor *output, terracl_error *err);

/* [B, sum C_m, H, W] from the named modalities, in the order given (the
 * order of TerraTorch's input dict). */
static terracl_status stack_modalities(const struct terracl_inputs *inputs, struct stacked_modalities *sm,
                                       struct terracl_tensor *out, terracl_error *err)
{
    const struct terracl_named_tensor *mt = inputs->modalities;
    if (mt == NULL || inputs->n_modalities > MAX_MODALITIES)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "tiled inference: bad named modalities");
    int64_t C = 0, B = 0, H = 0, W = 0;
    for (size_t m = 0; m < inputs->n_modalities; m++) {
        const struct terracl_tensor *x = &mt[m].tensor;
        if (x->data == NULL || x->ndim != 4 || x->dims[0] <= 0 || x->dims[1] <= 0 || x->dims[2] <= 0 ||
            x->dims[3] <= 0 || x->dims[1] > ((int64_t)1 << 20) ||
            (m > 0 && (x->dims[0] != B || x->dims[2] != H || x->dims[3] != W)))
            return tc_fail(err, TERRACL_ERR_SHAPE,
                           "tiled inference: modality %s must be [B, C, H, W] with the B, H and W of "
                           "the others",
                           mt[m].name ? mt[m].name : "(null)");
        B = x->dims[0];
        H = x->dims[2];
        W = x->dims[3];
        sm->chans[m] = x->dims[1];
        C += x->dims[1];
    }
    size_t plane, total;
    if (tc_mul_overflow((size_t)H, (size_t)W, &plane) ||
        tc_mul_overflow(plane, (size_t)(B * C), &total) || total > SIZE_MAX / sizeof(float))
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "tiled inference: input too large");
    float *data = malloc(total * sizeof(float));
    if (data == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for tiled inference");
    for (int64_t b = 0; b < B; b++) {
        size_t off = 0;
        for (size_t m = 0; m < inputs->n_modalities; m++) {
            size_t cm = (size_t)sm->chans[m] * plane;
            memcpy(data + (size_t)(b * C) * plane + off, mt[m].tensor.data + (size_t)b * cm,
                   cm * sizeof(float));
            off += cm;
        }
    }
    sm->n = inputs->n_modalities;
    sm->given = mt;
    *out = (struct terracl_tensor){data, 4, {B, C, H, W}};
    return TERRACL_OK;
}

terracl_status terracl_model_run_tiled(terracl_model *model, const struct terracl_inputs *inputs,
                                       struct terracl_tensor *output, terracl_error *err)
{
    if (model == NULL || inputs == NULL || output == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_model_run_tiled: NULL argument");
    memset(output, 0, sizeof *output);
    if (inputs->n_modalities == 0)
        return run_tiled(model, inputs, inputs, NULL, output, err);
    struct stacked_modalities sm;
    memset(&sm, 0, sizeof sm);
    struct terracl_inputs one = *inputs;
    one.modalities = NULL;
    one.n_modalities = 0;
    terracl_status st = stack_modalities(inputs, &sm, &one.image, err);
    if (st == TERRACL_OK)
        st = run_tiled(model, &one, inputs, &sm, output, err);
    free(one.image.data);
    return st;
}

static terracl_status run_tiled(terracl_model *model, const struct terracl_inputs *inputs,
                                const struct terracl_inputs *original, struct stacked_modalities *mods,
                                struct terracl_tensor *output, terracl_error *err)
{
    const struct terracl_tensor *img = &inputs->image;
    if (img->data == NULL || (img->ndim != 4 && img->ndim != 5))
        return tc_fail(err, TERRACL_ERR_SHAPE, "tiled inference: input must be [B, C, H, W] or "
                                               "[B, C, T, H, W]");
    size_t count;
    if (!tc_shape_count(img->dims, img->ndim, &count) || count == 0)
        return tc_fail(err, TERRACL_ERR_SHAPE, "tiled inference: bad input shape");
    struct tc_tile_params params;
    terracl_status st = tile_params(model, &params, err);
    if (st != TERRACL_OK)
        return st;
    struct tiled t = {0};
    t.B = img->dims[0];
    t.H = img->dims[img->ndim - 2];
    t.W = img->dims[img->ndim - 1];
    t.CT = (int64_t)(count / (size_t)(t.B * t.H * t.W));
    if ((st = tc_tile_plan_make(&params, t.H, t.W, &t.plan, err)))
        return st;
    if (t.plan.one_pass) { /* tiled_inference runs the model once */
        tiled_free(&t);
        return terracl_model_run(model, original, output, err);
    }
    t.mods = mods;
    if (t.B > 1 && (inputs->temporal_coords.data || inputs->location_coords.data)) {
        tiled_free(&t);
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "tiled inference with coordinates needs a batch of one (TerraTorch passes "
                       "them unchanged to every chip batch)");
    }
    size_t frame, chip, total;
    int64_t bs = params.batch_size;
    if (tc_mul_overflow((size_t)(t.plan.frame_h * t.plan.frame_w), (size_t)(t.B * t.CT), &frame) ||
        tc_mul_overflow((size_t)(t.plan.crop_h * t.plan.crop_w), (size_t)t.CT, &chip) ||
        tc_mul_overflow(chip, (size_t)bs, &total) || frame > SIZE_MAX / 4 || total > SIZE_MAX / 4) {
        tiled_free(&t);
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "tiled inference: input too large");
    }
    t.padded = malloc(frame * sizeof(float));
    t.batch = malloc(total * sizeof(float));
    if (mods != NULL && (mods->split = malloc(total * sizeof(float))) == NULL)
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for tiled inference");
    if (t.padded == NULL || t.batch == NULL)
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for tiled inference");
    if (st == TERRACL_OK && inputs->temporal_coords.data)
        st = repeat_rows(&inputs->temporal_coords, (size_t)bs, &t.tcoords, err);
    if (st == TERRACL_OK && inputs->location_coords.data)
        st = repeat_rows(&inputs->location_coords, (size_t)bs, &t.lcoords, err);
    if (st == TERRACL_OK)
        pad_planes(&t, img->data);
    size_t pairs = t.plan.nchips * (size_t)t.B;
    for (size_t first = 0; st == TERRACL_OK && first < pairs; first += (size_t)bs) {
        size_t n = pairs - first < (size_t)bs ? pairs - first : (size_t)bs;
        st = run_batch(model, &t, inputs, first, n, err);
    }
    if (st == TERRACL_OK) {
        size_t n = (size_t)(t.B * t.channels) * (size_t)(t.H * t.W);
        output->data = malloc(n * sizeof(float));
        float *row = malloc(sizeof(float) * (size_t)(t.channels * t.W));
        if (output->data == NULL || row == NULL)
            st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for the output");
        for (int64_t b = 0; st == TERRACL_OK && b < t.B; b++)
            for (int64_t y = 0; st == TERRACL_OK && y < t.H; y++) {
                st = tc_tile_accum_row(&t.acc[b], y + t.plan.pad, t.plan.pad, t.W, row, err);
                for (int64_t c = 0; st == TERRACL_OK && c < t.channels; c++)
                    memcpy(output->data + ((size_t)(b * t.channels + c) * (size_t)t.H + (size_t)y) *
                                              (size_t)t.W,
                           row + c * t.W, sizeof(float) * (size_t)t.W);
            }
        free(row);
        if (st == TERRACL_OK) {
            output->ndim = 4;
            output->dims[0] = t.B;
            output->dims[1] = t.channels;
            output->dims[2] = t.H;
            output->dims[3] = t.W;
        } else {
            free(output->data);
            output->data = NULL;
        }
    }
    tiled_free(&t);
    return st;
}

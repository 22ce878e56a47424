/*
 * terracl_predict_scene: a GeoTIFF scene through a model into a
 * georeferenced prediction (include/terracl/predict.h).
 *
 * The scene is processed one chip row at a time: the input strip under the
 * row's chips is read and normalised, the chips go through the model in
 * batches, their predictions are blended into a strip accumulator, and the
 * rows no later chip can touch are written out. Memory therefore depends on
 * the scene's width and the crop, not on its height. While the model works
 * on one chip row, a second thread reads the next row's strip (double
 * buffered), so file reading overlaps device work. A multimodal sample is
 * one scene per modality on one grid: each chip row reads one strip per
 * modality, and each batch gives the model one named tensor per modality.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/checked.h"
#include "io/geotiff.h"
#include "models/model_internal.h"
#include "scene/scene_config.h"
#include "scene/scene_input.h"
#include "terracl/predict.h"
#include "tiling/tiling.h"

/* Modalities one sample may have (TerraMind has a dozen). */
#define TC_PREDICT_MAX_MODALITIES 32

struct terracl_predictor {
    terracl_model *model;
    /* The scene settings: one (a plain input or one modality), or one per
     * modality of a multimodal model, in the model's order. The tiling is
     * shared; cfgs[0]'s is used. */
    struct tc_scene_config *cfgs;
    size_t n_cfgs;
    int multimodal;
    int segmentation;
};

terracl_status terracl_predictor_create(terracl_model *model, terracl_predictor **out,
                                        terracl_error *err)
{
    if (model == NULL || out == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_predictor_create: NULL argument");
    *out = NULL;
    const char *task = terracl_model_task(model);
    int seg = strcmp(task, "segmentation") == 0;
    if (!seg && strcmp(task, "regression") != 0)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "scene prediction needs a segmentation or pixel-wise regression model, not "
                       "a %s model",
                       task);
    size_t nm = terracl_model_modality_count(model);
    terracl_predictor *p = calloc(1, sizeof *p);
    if (p == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    p->model = model;
    p->segmentation = seg;
    p->multimodal = nm > 1;
    p->n_cfgs = nm > 1 ? nm : 1;
    p->cfgs = calloc(p->n_cfgs, sizeof *p->cfgs);
    terracl_status st = TERRACL_OK;
    if (p->cfgs == NULL)
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    for (size_t k = 0; st == TERRACL_OK && k < p->n_cfgs; k++)
        st = tc_scene_config_read_modality(tc_model_config_tree(model), tc_model_config_name(model),
                                           p->multimodal ? terracl_model_modality_name(model, k) : NULL,
                                           &p->cfgs[k], err);
    if (st != TERRACL_OK) {
        terracl_predictor_destroy(p);
        return st;
    }
    *out = p;
    return TERRACL_OK;
}

void terracl_predictor_destroy(terracl_predictor *p)
{
    if (p != NULL)
        free(p->cfgs);
    free(p);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One scene of the sample: a modality's file, or the one input. */
struct scene_mod {
    const char *name; /* the model's modality name; NULL for a plain input */
    const char *path;
    const struct tc_scene_config *cfg;
    struct tc_raster *in;
    struct tc_scene_layout lay;
    struct tc_scene_strip strips[2]; /* double buffered, see run_scene */
    float *batch;                    /* this modality's input of one batch */
    size_t batch_cap;
};

/* Everything one scene run holds; released by job_free. */
struct job {
    terracl_predictor *p;
    const struct terracl_predict_options *opt;
    struct terracl_predict_progress prog;
    /* mods[0] is the first scene given: the output's grid and nodata. */
    struct scene_mod *mods;
    size_t n_mods;
    struct tc_raster *in; /* mods[0].in (owned there), or join_parts's scene */
    struct tc_tile_plan plan;
    int cur; /* the strips[] slot of the chip row being run */
    struct tc_tile_accum acc;
    int acc_ready;
    int64_t channels; /* model output channels (1 for regression) */
    float *row;       /* one blended row [channels][W] */
    double *emit;     /* rows to write [bands][n][W] */
    size_t emit_cap;
    int64_t emitted;  /* padded-frame rows done */
    struct tc_raster_out *out;
    char tmp[4096];
    int tmp_made;
    const char *out_type;
    int out_bands;
    const char *out_path;
    /* The rows this process writes: all of them, or one part of a split
     * scene (terracl_predict_split). Padded-frame rows [row_begin,
     * row_end) from chips [chip_begin, chip_end); rows below hold_end also
     * get the previous part's sums, so they wait in `held` until the end. */
    const struct terracl_predict_split *split;
    size_t chip_begin, chip_end;
    int64_t row_begin, row_end, hold_end;
    int64_t out_row0, out_rows; /* scene rows of the output file */
    struct tc_tile_accum held;
    int held_ready;
};

static void job_free(struct job *j)
{
    if (j->out != NULL)
        tc_raster_abandon(j->out);
    if (j->tmp_made)
        unlink(j->tmp);
    if (j->mods == NULL)
        tc_raster_close(j->in);
    for (size_t m = 0; m < j->n_mods; m++) {
        tc_raster_close(j->mods[m].in);
        tc_scene_strip_free(&j->mods[m].strips[0]);
        tc_scene_strip_free(&j->mods[m].strips[1]);
        free(j->mods[m].batch);
    }
    free(j->mods);
    tc_tile_plan_free(&j->plan);
    tc_tile_accum_free(&j->acc);
    tc_tile_accum_free(&j->held);
    free(j->row);
    free(j->emit);
}

/* A temporary file next to the output, created now so an unwritable folder
 * fails before any model work. */
static terracl_status make_temp(struct job *j, const char *output, terracl_error *err)
{
    char copy[4096], base[4096];
    snprintf(copy, sizeof copy, "%s", output);
    snprintf(base, sizeof base, "%s", output);
    const char *dir = dirname(copy), *name = basename(base);
    int w = snprintf(j->tmp, sizeof j->tmp, "%s/.%s.XXXXXX", dir, name);
    if (w < 0 || (size_t)w >= sizeof j->tmp)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "%s: path too long", output);
    int fd = mkstemp(j->tmp);
    if (fd < 0)
        return tc_fail(err, TERRACL_ERR_IO, "%s: cannot create a file in folder %s (%s)", output, dir,
                       strerror(errno));
    /* mkstemp makes the file private; predictions are ordinary files. */
    (void)fchmod(fd, 0644);
    close(fd);
    j->tmp_made = 1;
    return TERRACL_OK;
}

static int is_integer_type(const char *t) { return strstr(t, "int") != NULL; }

/* Output rows [y0, y0 + n) of the scene from the accumulator. */
static terracl_status emit_rows(struct job *j, int64_t y0, int64_t n, terracl_error *err)
{
    int64_t W = j->plan.width, pad = j->plan.pad;
    size_t per_band = (size_t)n * (size_t)W, need;
    terracl_status st;
    if (tc_mul_overflow(per_band, (size_t)j->out_bands * sizeof(double), &need))
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "output window too large");
    if (need > j->emit_cap) {
        double *buf = realloc(j->emit, need);
        if (buf == NULL)
            return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for output rows");
        j->emit = buf;
        j->emit_cap = need;
    }
    int logits = j->opt->logits, integer = is_integer_type(j->out_type);
    for (int64_t r = 0; r < n; r++) {
        int64_t y = y0 + r; /* scene row */
        if ((st = tc_tile_accum_row(&j->acc, y + pad, pad, W, j->row, err)))
            return st;
        const unsigned char *mask = NULL;
        const struct tc_scene_strip *first = &j->mods[0].strips[j->cur];
        if (!logits && first->nodata != NULL && y >= first->mask_row0 &&
            y < first->mask_row0 + first->mask_rows)
            mask = first->nodata + (size_t)(y - first->mask_row0) * (size_t)W;
        for (int64_t x = 0; x < W; x++) {
            if (logits) {
                for (int64_t c = 0; c < j->channels; c++) {
                    double v = j->row[c * W + x];
                    j->emit[(size_t)c * per_band + (size_t)(r * W + x)] = integer ? trunc(v) : v;
                }
                continue;
            }
            double v;
            if (j->p->segmentation) {
                /* argmax over channels, first maximum wins (NaN counts as
                 * the largest, as torch.argmax). */
                int64_t best = 0;
                float bv = j->row[x];
                for (int64_t c = 1; c < j->channels && !isnan(bv); c++) {
                    float cv = j->row[c * W + x];
                    if (cv > bv || isnan(cv)) {
                        bv = cv;
                        best = c;
                    }
                }
                v = (double)best;
            } else {
                v = j->row[x];
                if (integer)
                    v = trunc(v); /* numpy's astype truncates toward zero */
            }
            if (mask != NULL && mask[x])
                v = -1.0;
            j->emit[(size_t)(r * W + x)] = v;
        }
    }
    for (int b = 0; b < j->out_bands; b++)
        if ((st = tc_raster_write_rows(j->out, b, y0 - j->out_row0, n, j->emit + (size_t)b * per_band,
                                       err)))
            return st;
    j->prog.rows_done += n;
    if (j->opt->progress)
        j->opt->progress(&j->prog, j->opt->progress_user);
    return TERRACL_OK;
}

/* Writes every padded-frame row below `limit` that is still pending. */
static terracl_status emit_until(struct job *j, int64_t limit, terracl_error *err)
{
    int64_t pad = j->plan.pad, H = j->plan.height;
    int64_t from = j->emitted > pad ? j->emitted : pad;
    int64_t to = limit < pad + H ? limit : pad + H;
    if (j->hold_end > from && to > from) {
        /* Rows the previous part also touches: kept for the end. */
        int64_t stop = to < j->hold_end ? to : j->hold_end;
        size_t bytes;
        if (tc_mul_overflow((size_t)(stop - from), tc_tile_accum_row_bytes(&j->acc), &bytes))
            return tc_fail(err, TERRACL_ERR_OVERFLOW, "split scene: rows too large");
        unsigned char *buf = malloc(bytes);
        if (buf == NULL)
            return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        tc_tile_accum_pack(&j->acc, from, stop - from, buf);
        tc_tile_accum_merge(&j->held, from, stop - from, buf);
        free(buf);
        from = stop;
    }
    if (to > from) {
        terracl_status st = emit_rows(j, from - pad, to - from, err);
        if (st != TERRACL_OK)
            return st;
    }
    if (limit > j->emitted)
        j->emitted = limit;
    return TERRACL_OK;
}

/* The first model output fixes the channel count: set up the accumulator
 * and the output file. */
static terracl_status first_output(struct job *j, const struct terracl_tensor *o, terracl_error *err)
{
    j->channels = o->ndim == 4 ? o->dims[1] : 1;
    terracl_status st;
    if ((st = tc_tile_accum_init(&j->acc, j->channels, j->plan.frame_w, j->plan.crop_h,
                                 j->plan.average, err)))
        return st;
    j->acc_ready = 1;
    tc_tile_accum_move(&j->acc, j->plan.chips[j->chip_begin].row);
    if (j->hold_end > j->row_begin) {
        if ((st = tc_tile_accum_init(&j->held, j->channels, j->plan.frame_w, j->hold_end - j->row_begin,
                                     j->plan.average, err)))
            return st;
        tc_tile_accum_move(&j->held, j->row_begin);
        j->held_ready = 1;
    }
    j->row = malloc(sizeof(float) * (size_t)(j->channels * j->plan.width));
    if (j->row == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    j->out_bands = j->opt->logits ? (int)j->channels : 1;
    if (j->opt->logits && j->channels > TC_GEOTIFF_MAX_BANDS)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "%lld output channels", (long long)j->channels);
    return tc_raster_create_rows(j->tmp, j->in, j->out_row0, j->out_rows, j->out_bands, j->out_type,
                                 !j->opt->logits, -1.0, &j->out, err);
}

/* Copies chips[0..b) of the current strip of `m` into m->batch. */
static terracl_status fill_batch(struct job *j, struct scene_mod *m, const struct tc_tile_chip *chips,
                                 size_t b, terracl_error *err)
{
    const struct tc_tile_plan *pl = &j->plan;
    const struct tc_scene_strip *strip = &m->strips[j->cur];
    int64_t C = m->lay.channels, T = m->lay.frames, hc = pl->crop_h, wc = pl->crop_w;
    int64_t chip_dims[4] = {C, T, hc, wc};
    size_t chip_elems, need;
    if (!tc_shape_count(chip_dims, 4, &chip_elems))
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "chip of %lld x %lld too large", (long long)hc,
                       (long long)wc);
    if (tc_mul_overflow(chip_elems, b * sizeof(float), &need))
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "a batch of %zu chips is too large", b);
    if (need > m->batch_cap) {
        float *nb = realloc(m->batch, need);
        if (nb == NULL)
            return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for a batch of chips");
        m->batch = nb;
        m->batch_cap = need;
    }
    size_t plane = (size_t)(strip->rows * strip->frame_w);
    for (size_t k = 0; k < b; k++) {
        const struct tc_tile_chip *c = &chips[k];
        float *dst = m->batch + k * chip_elems;
        for (int64_t ct = 0; ct < C * T; ct++)
            for (int64_t y = 0; y < hc; y++)
                memcpy(dst + ((size_t)ct * (size_t)hc + (size_t)y) * (size_t)wc,
                       strip->planes + (size_t)ct * plane +
                           (size_t)(c->row - strip->row0 + y) * (size_t)strip->frame_w +
                           (size_t)c->col,
                       sizeof(float) * (size_t)wc);
    }
    return TERRACL_OK;
}

/* The model input of one batch of b chips from m->batch. */
static struct terracl_tensor batch_tensor(const struct job *j, const struct scene_mod *m, size_t b)
{
    struct terracl_tensor t = {0};
    t.data = m->batch;
    t.ndim = m->lay.temporal ? 5 : 4;
    int64_t C = m->lay.channels, T = m->lay.frames, hc = j->plan.crop_h, wc = j->plan.crop_w;
    int64_t dims5[5] = {(int64_t)b, C, T, hc, wc}, dims4[4] = {(int64_t)b, C, hc, wc};
    memcpy(t.dims, m->lay.temporal ? dims5 : dims4, sizeof(int64_t) * (size_t)t.ndim);
    return t;
}

/* Runs chips[0..n) (all of one chip row) through the model in batches. */
static terracl_status run_chips(struct job *j, const struct tc_tile_chip *chips, size_t n,
                                int64_t batch_size, terracl_error *err)
{
    const struct tc_tile_plan *pl = &j->plan;
    int64_t hc = pl->crop_h, wc = pl->crop_w;
    terracl_status st;
    struct terracl_named_tensor named[TC_PREDICT_MAX_MODALITIES];
    for (size_t start = 0; start < n; start += (size_t)batch_size) {
        size_t b = n - start < (size_t)batch_size ? n - start : (size_t)batch_size;
        struct terracl_inputs in = {0};
        for (size_t m = 0; m < j->n_mods; m++) {
            if ((st = fill_batch(j, &j->mods[m], chips + start, b, err)))
                return st;
            named[m].name = j->mods[m].name;
            named[m].tensor = batch_tensor(j, &j->mods[m], b);
        }
        if (j->p->multimodal) {
            in.modalities = named;
            in.n_modalities = j->n_mods;
        } else {
            in.image = named[0].tensor;
        }
        struct terracl_tensor o = {0};
        if ((st = terracl_model_run(j->p->model, &in, &o, err)))
            return st;
        int ok = (o.ndim == 4 || o.ndim == 3) && o.dims[0] == (int64_t)b &&
                 o.dims[o.ndim - 2] == hc && o.dims[o.ndim - 1] == wc;
        if (ok && !j->acc_ready)
            st = first_output(j, &o, err);
        else if (ok)
            ok = (o.ndim == 4 ? o.dims[1] : 1) == j->channels;
        if (!ok)
            st = tc_fail(err, TERRACL_ERR_SHAPE,
                         "the model's output for a %lld x %lld chip is not [B, classes, %lld, %lld] "
                         "or [B, %lld, %lld]",
                         (long long)hc, (long long)wc, (long long)hc, (long long)wc, (long long)hc,
                         (long long)wc);
        size_t per_chip = (size_t)j->channels * (size_t)hc * (size_t)wc;
        for (size_t k = 0; st == TERRACL_OK && k < b; k++)
            st = tc_tile_accum_add(&j->acc, pl, &chips[start + k], o.data + k * per_chip, hc, wc, err);
        free(o.data);
        if (st != TERRACL_OK)
            return st;
        j->prog.chips_done += (int64_t)b;
        if (j->opt->progress)
            j->opt->progress(&j->prog, j->opt->progress_user);
    }
    return TERRACL_OK;
}

/* One strip load (a strip per modality into strips[slot]), run by the
 * reader thread. */
struct strip_load {
    struct job *j;
    int64_t row;
    int slot;
    terracl_status st;
    terracl_error err;
};

static terracl_status load_strip(struct strip_load *l)
{
    struct job *j = l->j;
    l->st = TERRACL_OK;
    for (size_t k = 0; k < j->n_mods && l->st == TERRACL_OK; k++) {
        struct scene_mod *m = &j->mods[k];
        /* The nodata mask comes from the first scene, as TerraTorch's
         * save_prediction takes it from the sample's first file. */
        l->st = tc_scene_strip_load(m->in, m->cfg, &m->lay, &j->plan, l->row, j->plan.crop_h,
                                    k == 0 && !j->opt->logits, &m->strips[l->slot], &l->err);
        tc_raster_drop_cache(m->in);
    }
    return l->st;
}

static void *load_strip_thread(void *arg)
{
    load_strip(arg);
    return NULL;
}

/* Split scenes: the rows this part shares with the next go there, the ones
 * it shares with the previous come from there and are written now. */
static terracl_status exchange_rows(struct job *j, int slot, terracl_error *err)
{
    const struct terracl_predict_split *sp = j->split;
    const struct tc_tile_plan *pl = &j->plan;
    size_t row_bytes = tc_tile_accum_row_bytes(&j->acc), bytes;
    terracl_status st = TERRACL_OK;
    if (sp->part + 1 < sp->parts) {
        int64_t n = pl->frame_h - j->row_end < pl->crop_h ? pl->frame_h - j->row_end : pl->crop_h;
        if (tc_mul_overflow((size_t)n, row_bytes, &bytes))
            return tc_fail(err, TERRACL_ERR_OVERFLOW, "split scene: rows too large");
        unsigned char *buf = malloc(bytes ? bytes : 1);
        if (buf == NULL)
            return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        tc_tile_accum_pack(&j->acc, j->row_end, n, buf);
        st = sp->send_next(buf, bytes, sp->user, err);
        free(buf);
        if (st != TERRACL_OK)
            return st;
    }
    if (!j->held_ready)
        return TERRACL_OK;
    int64_t n = j->hold_end - j->row_begin;
    if (tc_mul_overflow((size_t)n, row_bytes, &bytes))
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "split scene: rows too large");
    unsigned char *buf = malloc(bytes ? bytes : 1);
    if (buf == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    st = sp->recv_prev(buf, bytes, sp->user, err);
    if (st == TERRACL_OK)
        tc_tile_accum_merge(&j->held, j->row_begin, n, buf);
    free(buf);
    /* The nodata mask of those rows: the strip of the part's first chip row. */
    struct strip_load load = {j, j->row_begin, slot, TERRACL_OK, {0}};
    if (st == TERRACL_OK && (st = load_strip(&load)) != TERRACL_OK && err != NULL)
        *err = load.err;
    if (st != TERRACL_OK)
        return st;
    j->cur = slot;
    struct tc_tile_accum own = j->acc;
    j->acc = j->held;
    int64_t pad = pl->pad, H = pl->height;
    int64_t from = j->row_begin > pad ? j->row_begin : pad;
    int64_t to = j->hold_end < pad + H ? j->hold_end : pad + H;
    if (to > from)
        st = emit_rows(j, from - pad, to - from, err);
    j->acc = own;
    return st;
}

/* Index of the first chip of the next chip row after chips[i]'s. */
static size_t next_row(const struct tc_tile_plan *pl, size_t i)
{
    size_t end = i;
    while (end < pl->nchips && pl->chips[end].row == pl->chips[i].row)
        end++;
    return end;
}

static terracl_status run_scene(struct job *j, terracl_error *err)
{
    struct tc_tile_plan *pl = &j->plan;
    int64_t batch_size = j->p->cfgs[0].tiled ? j->p->cfgs[0].tile.batch_size : 1;
    terracl_status st;
    struct strip_load load = {j, pl->chips[j->chip_begin].row, 0, TERRACL_OK, {0}};
    if ((st = load_strip(&load))) {
        if (err != NULL)
            *err = load.err;
        return st;
    }
    int cur = 0;
    size_t i = j->chip_begin, last = j->chip_end;
    while (i < last) {
        size_t end = next_row(pl, i);
        j->cur = cur;
        /* Read the next chip row's strips while this one runs. */
        pthread_t reader;
        int reading = 0;
        load = (struct strip_load){j, end < last ? pl->chips[end].row : 0, 1 - cur, TERRACL_OK, {0}};
        if (end < last) {
            reading = pthread_create(&reader, NULL, load_strip_thread, &load) == 0;
            if (!reading && load_strip(&load) != TERRACL_OK) {
                if (err != NULL)
                    *err = load.err;
                return load.st;
            }
        }
        if (j->acc_ready)
            tc_tile_accum_move(&j->acc, pl->chips[i].row);
        st = run_chips(j, &pl->chips[i], end - i, batch_size, err);
        /* Rows above the next chip row are final. */
        int64_t limit = end < last ? pl->chips[end].row : j->row_end;
        if (st == TERRACL_OK)
            st = emit_until(j, limit, err);
        if (reading)
            pthread_join(reader, NULL);
        if (st != TERRACL_OK)
            return st;
        if (load.st != TERRACL_OK) {
            if (err != NULL)
                *err = load.err;
            return load.st;
        }
        cur = 1 - cur;
        i = end;
    }
    return j->split != NULL ? exchange_rows(j, cur, err) : TERRACL_OK;
}

/* Which chip rows and output rows part sp->part of a split scene takes:
 * chip rows are dealt out in contiguous bands of equal count. */
static terracl_status plan_part(struct job *j, const struct terracl_predict_split *sp,
                                terracl_error *err)
{
    const struct tc_tile_plan *pl = &j->plan;
    if (sp->parts < 1 || sp->part < 0 || sp->part >= sp->parts || sp->send_next == NULL ||
        sp->recv_prev == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "split scene: part %d of %d", sp->part, sp->parts);
    size_t rows = 0;
    for (size_t i = 0; i < pl->nchips; i = next_row(pl, i))
        rows++;
    size_t *first = malloc((rows + 1) * sizeof *first);
    if (first == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    rows = 0;
    for (size_t i = 0; i < pl->nchips; i = next_row(pl, i))
        first[rows++] = i;
    first[rows] = pl->nchips;
    size_t parts = (size_t)sp->parts;
    terracl_status st = TERRACL_OK;
    /* Each part's first chip row must end before the next part starts, so
     * that only neighbouring parts share rows. */
    for (size_t q = 1; q < parts && st == TERRACL_OK; q++) {
        size_t a = q * rows / parts, b = (q + 1) * rows / parts;
        int64_t next = q + 1 < parts ? pl->chips[first[b]].row : pl->frame_h;
        if (pl->one_pass || a == (q - 1) * rows / parts || a >= rows ||
            pl->chips[first[a]].row + pl->crop_h > next)
            st = tc_fail(err, TERRACL_ERR_INVALID_ARG,
                         "split scene: %zu chip row%s of %lld rows cannot be shared by %d parts "
                         "(each needs at least crop / stride chip rows)",
                         rows, rows == 1 ? "" : "s", (long long)pl->crop_h, sp->parts);
    }
    if (st == TERRACL_OK) {
        size_t p = (size_t)sp->part, a = p * rows / parts, b = (p + 1) * rows / parts;
        j->split = sp;
        j->chip_begin = first[a];
        j->chip_end = first[b];
        j->row_begin = p == 0 ? 0 : pl->chips[first[a]].row;
        j->row_end = p + 1 == parts ? pl->frame_h : pl->chips[first[b]].row;
        j->hold_end = p == 0 ? 0 : j->row_begin + pl->crop_h;
        int64_t lo = j->row_begin > pl->pad ? j->row_begin - pl->pad : 0;
        int64_t hi = j->row_end - pl->pad < pl->height ? j->row_end - pl->pad : pl->height;
        j->out_row0 = lo;
        j->out_rows = hi - lo;
        j->emitted = j->row_begin;
        if (j->out_rows <= 0)
            st = tc_fail(err, TERRACL_ERR_INVALID_ARG, "split scene: part %d has no rows", sp->part);
    }
    free(first);
    return st;
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The model's modality names, for messages. */
static void modality_list(const terracl_model *model, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t k = 0; k < terracl_model_modality_count(model); k++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", k ? ", " : "",
                 terracl_model_modality_name(model, k));
}

/* Matches the scenes to the model's inputs: j->mods in the caller's order,
 * each with its modality's settings. */
static terracl_status match_scenes(struct job *j, const struct terracl_scene_input *scenes, size_t n,
                                   terracl_error *err)
{
    const terracl_predictor *p = j->p;
    char names[512];
    modality_list(p->model, names, sizeof names);
    if (n > TC_PREDICT_MAX_MODALITIES || (!p->multimodal && n > 1))
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "%zu scenes for one prediction; this model takes %s", n,
                       p->multimodal ? "one per modality" : "one");
    j->mods = calloc(n, sizeof *j->mods);
    if (j->mods == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    j->n_mods = n;
    int given[TC_PREDICT_MAX_MODALITIES] = {0};
    for (size_t i = 0; i < n; i++) {
        const char *want = scenes[i].modality;
        if (scenes[i].path == NULL)
            return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_predict_scenes: NULL path");
        size_t k = 0;
        if (p->multimodal && want != NULL) {
            while (k < p->n_cfgs && strcmp(want, terracl_model_modality_name(p->model, k)) != 0)
                k++;
            if (k == p->n_cfgs)
                return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                               "%s: modality '%s' is not one of the model's modalities (%s)",
                               scenes[i].path, want, names);
        } else if (!p->multimodal && want != NULL &&
                   (terracl_model_modality_count(p->model) == 0 ||
                    strcmp(want, terracl_model_modality_name(p->model, 0)) != 0)) {
            return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                           "%s: modality '%s' given, but this model takes one input%s%s%s",
                           scenes[i].path, want, names[0] ? " (modality " : "", names,
                           names[0] ? ")" : "");
        }
        if (given[k])
            return tc_fail(err, TERRACL_ERR_INVALID_ARG, "modality %s is given twice (%s and %s)",
                           terracl_model_modality_name(p->model, k), j->mods[given[k] - 1].path,
                           scenes[i].path);
        given[k] = (int)i + 1;
        j->mods[i].name = p->multimodal ? terracl_model_modality_name(p->model, k) : NULL;
        j->mods[i].path = scenes[i].path;
        j->mods[i].cfg = &p->cfgs[k];
    }
    char absent[512] = "";
    for (size_t k = 0; p->multimodal && k < p->n_cfgs; k++)
        if (!given[k])
            snprintf(absent + strlen(absent), sizeof absent - strlen(absent), "%s%s",
                     absent[0] ? ", " : "", terracl_model_modality_name(p->model, k));
    if (absent[0] && !j->opt->allow_missing_modalities)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "no scene for modality %s (the model's modalities: %s); give one per "
                       "modality, or allow missing modalities to run without it as TerraTorch does",
                       absent, names);
    return TERRACL_OK;
}

/* Opens every scene, matches its bands to its settings and checks that it
 * lies on the first scene's grid. */
static terracl_status open_scenes(struct job *j, terracl_error *err)
{
    terracl_status st = TERRACL_OK;
    for (size_t i = 0; i < j->n_mods && st == TERRACL_OK; i++) {
        struct scene_mod *m = &j->mods[i];
        if ((st = tc_raster_open(m->path, &m->in, err)))
            break;
        st = tc_scene_layout_make(m->cfg, m->path, tc_raster_info(m->in)->bands, &m->lay, err);
        char what[512];
        if (st == TERRACL_OK && i > 0 && tc_raster_grid_differs(j->mods[0].in, m->in, what, sizeof what))
            st = tc_fail(err, TERRACL_ERR_SHAPE,
                         "modality %s: %s is not on the grid of modality %s's %s: it has %s (the "
                         "modalities of a sample share one grid)",
                         m->name, m->path, j->mods[0].name, j->mods[0].path, what);
        if (st != TERRACL_OK && m->name != NULL && strstr(err ? err->message : "", "modality") == NULL)
            tc_fail_context(err, st, "modality %s", m->name);
    }
    j->in = j->mods[0].in;
    return st;
}

terracl_status terracl_predict_scene(terracl_predictor *p, const char *scene, const char *output,
                                     const struct terracl_predict_options *options,
                                     struct terracl_predict_result *result, terracl_error *err)
{
    struct terracl_scene_input one = {NULL, scene};
    if (scene == NULL) {
        if (result != NULL)
            memset(result, 0, sizeof *result);
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_predict_scene: NULL argument");
    }
    return terracl_predict_scenes(p, &one, 1, output, options, result, err);
}

terracl_status terracl_predict_scenes(terracl_predictor *p, const struct terracl_scene_input *scenes,
                                      size_t n_scenes, const char *output,
                                      const struct terracl_predict_options *options,
                                      struct terracl_predict_result *result, terracl_error *err)
{
    struct terracl_predict_options defaults = {0};
    struct terracl_predict_result local;
    if (result == NULL)
        result = &local;
    memset(result, 0, sizeof *result);
    if (p == NULL || scenes == NULL || n_scenes == 0 || output == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_predict_scenes: NULL argument or no scene");
    if (options == NULL)
        options = &defaults;
    double t0 = now_seconds();
    for (size_t i = 0; i < n_scenes; i++)
        if (scenes[i].path != NULL && same_file(scenes[i].path, output))
            return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                           "%s: the output would overwrite the input scene", output);
    if (!options->overwrite && access(output, F_OK) == 0) {
        result->skipped = 1;
        return TERRACL_OK;
    }
    struct job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    j->p = p;
    j->opt = options;
    j->out_path = output;
    const char *type = options->out_dtype;
    if (type == NULL)
        type = (options->logits || !p->segmentation) ? "float32" : "int16";
    j->out_type = type;
    terracl_status st = TERRACL_OK;
    if (!tc_raster_out_type_known(type))
        st = tc_fail(err, TERRACL_ERR_INVALID_ARG,
                     "unknown output type '%s' (uint8, uint16, int16, uint32, int32, float32, "
                     "float64)",
                     type);
    else if (!options->logits && strncmp(type, "uint", 4) == 0)
        st = tc_fail(err, TERRACL_ERR_INVALID_ARG,
                     "output type %s cannot hold the nodata value -1; use a signed type", type);
    if (st == TERRACL_OK)
        st = match_scenes(j, scenes, n_scenes, err);
    if (st == TERRACL_OK)
        st = open_scenes(j, err);
    const char *scene = scenes[0].path;
    const struct tc_raster_info *info = st == TERRACL_OK ? tc_raster_info(j->in) : NULL;
    if (st == TERRACL_OK) {
        const struct tc_scene_config *cfg = &p->cfgs[0];
        st = tc_tile_plan_make(cfg->tiled ? &cfg->tile : NULL, info->height, info->width, &j->plan,
                               err);
        if (st != TERRACL_OK)
            tc_fail_context(err, st, "%s", scene);
    }
    char part_path[4096];
    const char *target = output;
    if (st == TERRACL_OK) {
        j->chip_end = j->plan.nchips;
        j->row_end = j->plan.frame_h;
        j->out_rows = info->height;
        if (options->split != NULL) {
            st = plan_part(j, options->split, err);
            if (st == TERRACL_OK && !terracl_predict_part_path(output, options->split->part,
                                                               options->split->parts, part_path,
                                                               sizeof part_path))
                st = tc_fail(err, TERRACL_ERR_INVALID_ARG, "%s: path too long", output);
            target = part_path;
        }
    }
    if (st == TERRACL_OK)
        st = make_temp(j, target, err);
    if (st == TERRACL_OK) {
        j->prog.chips_total = (int64_t)(j->chip_end - j->chip_begin);
        j->prog.rows_total = j->out_rows;
        st = run_scene(j, err);
        if (st != TERRACL_OK && strstr(err ? err->message : "", scene) == NULL)
            tc_fail_context(err, st, "%s", scene);
    }
    if (st == TERRACL_OK) {
        struct tc_raster_out *o = j->out;
        j->out = NULL;
        st = tc_raster_finish(o, err);
    }
    if (st == TERRACL_OK) {
        if (rename(j->tmp, target) != 0)
            st = tc_fail(err, TERRACL_ERR_IO, "%s: cannot rename the finished output into place (%s)",
                         output, strerror(errno));
        else
            j->tmp_made = 0;
    }
    if (st == TERRACL_OK) {
        result->width = info->width;
        result->height = info->height;
        result->rows = j->out_rows;
        result->chips = (int64_t)(j->chip_end - j->chip_begin);
        result->tiled = !j->plan.one_pass;
        result->georeferenced = info->georeferenced;
        result->delta_reduced = j->plan.delta_reduced;
        result->seconds = now_seconds() - t0;
    }
    job_free(j);
    free(j);
    return st;
}

int terracl_predict_part_path(const char *output, int part, int parts, char *out, size_t cap)
{
    if (output == NULL || out == NULL)
        return 0;
    char copy[4096], base[4096];
    snprintf(copy, sizeof copy, "%s", output);
    snprintf(base, sizeof base, "%s", output);
    int w = snprintf(out, cap, "%s/.%s.part-%d-of-%d.tif", dirname(copy), basename(base), part, parts);
    return w > 0 && (size_t)w < cap && strlen(output) < sizeof copy;
}

/* Copies every band of `part` into rows [y0, ...) of `out`, a window of
 * rows at a time. */
static terracl_status copy_part(struct tc_raster *part, struct tc_raster_out *out, int64_t y0,
                                terracl_error *err)
{
    const struct tc_raster_info *pi = tc_raster_info(part);
    int64_t window = 256;
    size_t need;
    if (tc_mul_overflow((size_t)window * sizeof(double), (size_t)pi->width, &need))
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "split scene: rows too wide");
    double *buf = malloc(need);
    if (buf == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    terracl_status st = TERRACL_OK;
    for (int b = 0; b < pi->bands && st == TERRACL_OK; b++)
        for (int64_t y = 0; y < pi->height && st == TERRACL_OK; y += window) {
            int64_t n = pi->height - y < window ? pi->height - y : window;
            if ((st = tc_raster_read(part, b, 0, y, pi->width, n, buf, err)) == TERRACL_OK)
                st = tc_raster_write_rows(out, b, y0 + y, n, buf, err);
        }
    tc_raster_drop_cache(part);
    free(buf);
    return st;
}

terracl_status terracl_predict_join_parts(const char *scene, const char *output, int parts,
                                          terracl_error *err)
{
    if (scene == NULL || output == NULL || parts < 1)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_predict_join_parts: bad argument");
    struct job *j = calloc(1, sizeof *j); /* for its temporary file and cleanup */
    if (j == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    struct tc_raster *part = NULL;
    char path[4096];
    terracl_status st = tc_raster_open(scene, &j->in, err);
    int64_t y = 0;
    for (int k = 0; k < parts && st == TERRACL_OK; k++) {
        if (!terracl_predict_part_path(output, k, parts, path, sizeof path))
            st = tc_fail(err, TERRACL_ERR_INVALID_ARG, "%s: path too long", output);
        if (st == TERRACL_OK)
            st = tc_raster_open(path, &part, err);
        if (st != TERRACL_OK)
            break;
        const struct tc_raster_info *pi = tc_raster_info(part), *si = tc_raster_info(j->in);
        if (pi->width != si->width || y + pi->height > si->height)
            st = tc_fail(err, TERRACL_ERR_SHAPE, "%s: does not fit %s", path, output);
        if (st == TERRACL_OK && k == 0) {
            /* The parts' type and nodata, in tc_raster_create's words. */
            char type[32];
            size_t n = 0;
            for (; pi->type_name[n] != '\0' && n + 1 < sizeof type; n++)
                type[n] = (char)tolower((unsigned char)pi->type_name[n]);
            type[n] = '\0';
            double nodata = 0;
            int has_nodata = tc_raster_nodata(part, 0, &nodata);
            if ((st = make_temp(j, output, err)) == TERRACL_OK)
                st = tc_raster_create(j->tmp, j->in, pi->bands, type, has_nodata, nodata, &j->out, err);
        }
        if (st == TERRACL_OK)
            st = copy_part(part, j->out, y, err);
        y += pi->height;
        tc_raster_close(part);
        part = NULL;
    }
    if (st == TERRACL_OK && y != tc_raster_info(j->in)->height)
        st = tc_fail(err, TERRACL_ERR_SHAPE, "%s: the parts hold %lld of %lld rows", output,
                     (long long)y, (long long)tc_raster_info(j->in)->height);
    if (st == TERRACL_OK) {
        struct tc_raster_out *o = j->out;
        j->out = NULL;
        st = tc_raster_finish(o, err);
    }
    if (st == TERRACL_OK) {
        if (rename(j->tmp, output) != 0)
            st = tc_fail(err, TERRACL_ERR_IO, "%s: cannot rename the finished output into place (%s)",
                         output, strerror(errno));
        else
            j->tmp_made = 0;
    }
    for (int k = 0; st == TERRACL_OK && k < parts; k++)
        if (terracl_predict_part_path(output, k, parts, path, sizeof path))
            unlink(path);
    job_free(j);
    free(j);
    return st;
}

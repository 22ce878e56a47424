/*
 * Chip plan, blend masks and accumulation of TerraTorch's tiled inference
 * (see tiling.h). The comments name the TerraTorch step each part mirrors.
 */
#include "tiling/tiling.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"

void tc_tile_params_default(struct tc_tile_params *p)
{
    p->h_crop = p->w_crop = 224;
    p->h_stride = p->w_stride = 192;
    p->delta = 8;
    p->padding = TC_TILE_PAD_REFLECT;
    p->blend_overlaps = 1;
    p->average_patches = 1;
    p->batch_size = 16;
}

/* Python's floor division, for (crop - stride) // 2 with stride > crop. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* The 1-D window of get_blend_mask: ones with cosine ramps of `overlap`
 * entries at both ends. Computed in float32 as PyTorch does:
 * cos(float(pi) * (k + 1) / (overlap + 1)) / 2 + 0.5. */
static void blend_window(int64_t n, int64_t overlap, float *w)
{
    for (int64_t i = 0; i < n; i++)
        w[i] = 1.0f;
    if (overlap == 0)
        return;
    for (int64_t k = 0; k < overlap && k < n; k++) {
        float t = (float)3.141592653589793 * (float)(k + 1); /* math.pi */
        t = t / (float)(overlap + 1);
        float ramp = cosf(t) / 2.0f + 0.5f;
        /* Top/left edge gets the ramp reversed, bottom/right the ramp. */
        w[overlap - 1 - k] = ramp;
        w[n - overlap + k] = ramp;
    }
}

void tc_tile_blend_mask(int64_t h_crop, int64_t h_stride, int64_t w_crop, int64_t w_stride,
                        int64_t delta, float *out)
{
    int64_t ov_w = (w_crop / 2 < w_crop - w_stride ? w_crop / 2 : w_crop - w_stride) - delta;
    int64_t ov_h = (h_crop / 2 < h_crop - h_stride ? h_crop / 2 : h_crop - h_stride) - delta;
    int64_t h = h_crop - 2 * delta, w = w_crop - 2 * delta;
    float *y = malloc(sizeof(float) * (size_t)(h + w));
    if (y == NULL) { /* callers size masks small; keep the contract total */
        for (int64_t i = 0; i < h * w; i++)
            out[i] = 1.0f;
        return;
    }
    float *x = y + h;
    blend_window(h, ov_h, y);
    blend_window(w, ov_w, x);
    for (int64_t i = 0; i < h; i++)
        for (int64_t j = 0; j < w; j++)
            out[i * w + j] = y[i] * x[j] + 1e-6f;
    free(y);
}

int64_t tc_tile_source_index(enum tc_tile_padding padding, int64_t pad, int64_t n, int64_t p)
{
    int64_t i = p - pad;
    if (i >= 0 && i < n)
        return i;
    switch (padding) {
    case TC_TILE_PAD_REFLECT: /* mirror without repeating the edge */
        if (n == 1)
            return 0;
        while (i < 0 || i >= n)
            i = i < 0 ? -i : 2 * (n - 1) - i;
        return i;
    case TC_TILE_PAD_REPLICATE:
        return i < 0 ? 0 : n - 1;
    default:
        return -1;
    }
}

void tc_tile_plan_free(struct tc_tile_plan *plan)
{
    if (plan == NULL)
        return;
    free(plan->chips);
    free(plan->inner_mask);
    free(plan->border_mask);
    memset(plan, 0, sizeof *plan);
}

static int chip_cmp(const void *a, const void *b)
{
    const struct tc_tile_chip *x = a, *y = b;
    if (x->row != y->row)
        return x->row < y->row ? -1 : 1;
    return x->order < y->order ? -1 : (x->order > y->order);
}

/* Appends a chip with window (row, col) as get_input_chips does: with
 * padding every chip keeps its centre (crop by delta); without, border
 * chips keep their whole window and inner chips their centre. */
static void add_chip(struct tc_tile_plan *p, int64_t row, int64_t col, int inner)
{
    struct tc_tile_chip *c = &p->chips[p->nchips];
    int64_t crop = (p->padding != TC_TILE_PAD_NONE || inner) ? p->delta : 0;
    c->row = row;
    c->col = col;
    c->crop_row = c->crop_col = crop;
    c->out_row = row + crop;
    c->out_col = col + crop;
    c->out_h = p->crop_h - 2 * crop;
    c->out_w = p->crop_w - 2 * crop;
    c->inner = inner;
    c->order = (int64_t)p->nchips;
    p->nchips++;
}

/* Python's len(range(0, stop, step)) for stop possibly <= 0. */
static int64_t range_len(int64_t stop, int64_t step) { return stop <= 0 ? 0 : (stop + step - 1) / step; }

static terracl_status one_pass(struct tc_tile_plan *p, int64_t height, int64_t width,
                               terracl_error *err)
{
    p->frame_h = p->crop_h = height;
    p->frame_w = p->crop_w = width;
    p->one_pass = 1;
    p->average = 1;
    p->chips = calloc(1, sizeof *p->chips);
    if (p->chips == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    add_chip(p, 0, 0, 0);
    return TERRACL_OK;
}

static terracl_status make_masks(struct tc_tile_plan *p, const struct tc_tile_params *t,
                                 terracl_error *err)
{
    int64_t d = p->delta;
    p->inner_h = p->crop_h - 2 * d;
    p->inner_w = p->crop_w - 2 * d;
    int padded = p->padding != TC_TILE_PAD_NONE;
    p->border_h = padded ? p->inner_h : p->crop_h;
    p->border_w = padded ? p->inner_w : p->crop_w;
    if (!t->blend_overlaps)
        return TERRACL_OK; /* all-ones masks: weight 1 */
    size_t ni, nb;
    if (tc_mul_overflow((size_t)p->inner_h, (size_t)p->inner_w, &ni) ||
        tc_mul_overflow((size_t)p->border_h, (size_t)p->border_w, &nb) ||
        ni > SIZE_MAX / sizeof(float) || nb > SIZE_MAX / sizeof(float))
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "tiled inference: crop too large");
    p->inner_mask = malloc(ni * sizeof(float));
    p->border_mask = malloc(nb * sizeof(float));
    if (p->inner_mask == NULL || p->border_mask == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for blend masks");
    tc_tile_blend_mask(p->crop_h, t->h_stride, p->crop_w, t->w_stride, d, p->inner_mask);
    /* With padding border chips share the inner mask; without, their mask
     * covers the whole window (delta 0). */
    tc_tile_blend_mask(p->crop_h, t->h_stride, p->crop_w, t->w_stride, padded ? d : 0,
                       p->border_mask);
    return TERRACL_OK;
}

terracl_status tc_tile_plan_make(const struct tc_tile_params *t, int64_t height, int64_t width,
                                 struct tc_tile_plan *out, terracl_error *err)
{
    memset(out, 0, sizeof *out);
    out->height = height;
    out->width = width;
    if (height <= 0 || width <= 0)
        return tc_fail(err, TERRACL_ERR_SHAPE, "empty scene (%lld x %lld)", (long long)height,
                       (long long)width);
    terracl_status st;
    if (t == NULL || (height <= t->h_crop && width <= t->w_crop)) {
        if ((st = one_pass(out, height, width, err)))
            tc_tile_plan_free(out);
        return st;
    }
    if (t->h_crop <= 0 || t->w_crop <= 0 || t->h_stride <= 0 || t->w_stride <= 0 ||
        t->batch_size <= 0 || t->delta < 0)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "tiled_inference_parameters: crops, strides and batch_size must be positive "
                       "and delta not negative (crop %lldx%lld, stride %lldx%lld, delta %lld, "
                       "batch_size %lld)",
                       (long long)t->h_crop, (long long)t->w_crop, (long long)t->h_stride,
                       (long long)t->w_stride, (long long)t->delta, (long long)t->batch_size);
    if (t->h_stride > t->h_crop || t->w_stride > t->w_crop)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "tiled_inference_parameters: a stride larger than its crop leaves pixels "
                       "without a prediction (crop %lldx%lld, stride %lldx%lld)",
                       (long long)t->h_crop, (long long)t->w_crop, (long long)t->h_stride,
                       (long long)t->w_stride);
    out->crop_h = t->h_crop;
    out->crop_w = t->w_crop;
    out->padding = t->padding;
    out->average = t->average_patches;
    /* prepare_tiled_inference_input: delta may not exceed half the overlap. */
    int64_t d = t->delta;
    int64_t dh = floor_div(t->h_crop - t->h_stride, 2), dw = floor_div(t->w_crop - t->w_stride, 2);
    if (dh < d || dw < d) {
        d = dh < dw ? dh : dw;
        out->delta_reduced = 1;
    }
    out->delta = d;
    if (t->padding != TC_TILE_PAD_NONE && d == 0)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "tiled_inference_parameters: padding with delta 0 (or an overlap below 2 "
                       "pixels) gives an empty prediction in TerraTorch; set padding: false or "
                       "make crop - stride >= 2 * delta > 0");
    out->pad = t->padding != TC_TILE_PAD_NONE ? d : 0;
    out->frame_h = height + 2 * out->pad;
    out->frame_w = width + 2 * out->pad;
    int64_t H = out->frame_h, W = out->frame_w, hc = t->h_crop, wc = t->w_crop;
    if (H < hc || W < wc)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "scene %lld x %lld is smaller than the %lld x %lld crop along one side "
                       "(TerraTorch's tiling is undefined there); use a smaller crop",
                       (long long)height, (long long)width, (long long)hc, (long long)wc);
    if (t->padding == TC_TILE_PAD_REFLECT && (out->pad >= height || out->pad >= width))
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "reflect padding by delta %lld needs a scene larger than that (%lld x %lld)",
                       (long long)out->pad, (long long)height, (long long)width);
    /* get_input_chips: right column, bottom row, the corner, then the grid;
     * ranges stop at size - crop - 1 exclusive, as TerraTorch's do. */
    int64_t nr = range_len(H - hc - 1, t->h_stride), nc = range_len(W - wc - 1, t->w_stride);
    size_t n, grid;
    if (tc_mul_overflow((size_t)nr, (size_t)nc, &grid) ||
        tc_add_overflow(grid, (size_t)(nr + nc + 1), &n) || n > SIZE_MAX / sizeof(struct tc_tile_chip))
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "tiled inference: too many chips");
    out->chips = calloc(n, sizeof *out->chips);
    if (out->chips == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for %zu chips", n);
    for (int64_t i = 0; i < nr; i++)
        add_chip(out, i * t->h_stride, W - wc, 0);
    for (int64_t i = 0; i < nc; i++)
        add_chip(out, H - hc, i * t->w_stride, 0);
    add_chip(out, H - hc, W - wc, 0);
    for (int64_t r = 0; r < nr; r++)
        for (int64_t c = 0; c < nc; c++)
            add_chip(out, r * t->h_stride, c * t->w_stride, r > 0 && c > 0);
    if ((st = make_masks(out, t, err))) {
        tc_tile_plan_free(out);
        return st;
    }
    qsort(out->chips, out->nchips, sizeof *out->chips, chip_cmp);
    return TERRACL_OK;
}

/* ------------------------------------------------------------ accumulator */

void tc_tile_accum_free(struct tc_tile_accum *acc)
{
    if (acc == NULL)
        return;
    free(acc->sum);
    free(acc->weight);
    free(acc->owner);
    memset(acc, 0, sizeof *acc);
}

static void clear_rows(struct tc_tile_accum *acc, int64_t from)
{
    size_t plane = (size_t)(acc->rows * acc->width);
    size_t first = (size_t)(from * acc->width), count = plane - first;
    for (int64_t c = 0; c < acc->channels; c++)
        memset(acc->sum + (size_t)c * plane + first, 0, count * sizeof(float));
    memset(acc->weight + first, 0, count * sizeof(float));
    if (acc->owner != NULL)
        for (size_t i = first; i < plane; i++)
            acc->owner[i] = -1;
}

terracl_status tc_tile_accum_init(struct tc_tile_accum *acc, int64_t channels, int64_t width,
                                  int64_t rows, int average, terracl_error *err)
{
    memset(acc, 0, sizeof *acc);
    size_t plane, total;
    if (channels <= 0 || width <= 0 || rows <= 0 ||
        tc_mul_overflow((size_t)rows, (size_t)width, &plane) ||
        tc_mul_overflow(plane, (size_t)channels, &total) || total > SIZE_MAX / sizeof(float))
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "tiled inference: accumulator too large");
    acc->channels = channels;
    acc->width = width;
    acc->rows = rows;
    acc->average = average;
    acc->sum = malloc(total * sizeof(float));
    acc->weight = malloc(plane * sizeof(float));
    if (!average)
        acc->owner = malloc(plane * sizeof(int64_t));
    if (acc->sum == NULL || acc->weight == NULL || (!average && acc->owner == NULL)) {
        tc_tile_accum_free(acc);
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for the tile accumulator");
    }
    clear_rows(acc, 0);
    return TERRACL_OK;
}

void tc_tile_accum_move(struct tc_tile_accum *acc, int64_t row0)
{
    int64_t shift = row0 - acc->row0;
    if (shift <= 0)
        return;
    if (shift >= acc->rows) {
        clear_rows(acc, 0);
    } else {
        size_t plane = (size_t)(acc->rows * acc->width), off = (size_t)(shift * acc->width);
        size_t keep = plane - off;
        for (int64_t c = 0; c < acc->channels; c++)
            memmove(acc->sum + (size_t)c * plane, acc->sum + (size_t)c * plane + off,
                    keep * sizeof(float));
        memmove(acc->weight, acc->weight + off, keep * sizeof(float));
        if (acc->owner != NULL)
            memmove(acc->owner, acc->owner + off, keep * sizeof(int64_t));
        clear_rows(acc, acc->rows - shift);
    }
    acc->row0 = row0;
}

terracl_status tc_tile_accum_add(struct tc_tile_accum *acc, const struct tc_tile_plan *plan,
                                 const struct tc_tile_chip *chip, const float *pred,
                                 int64_t pred_h, int64_t pred_w, terracl_error *err)
{
    if (chip->out_row < acc->row0 || chip->out_row + chip->out_h > acc->row0 + acc->rows ||
        chip->out_col < 0 || chip->out_col + chip->out_w > acc->width ||
        chip->crop_row + chip->out_h > pred_h || chip->crop_col + chip->out_w > pred_w)
        return tc_fail(err, TERRACL_ERR_INTERNAL,
                       "tiled inference: chip at %lld,%lld does not fit the accumulator",
                       (long long)chip->row, (long long)chip->col);
    const float *mask = chip->inner ? plan->inner_mask : plan->border_mask;
    size_t plane = (size_t)(acc->rows * acc->width), pplane = (size_t)(pred_h * pred_w);
    for (int64_t y = 0; y < chip->out_h; y++) {
        size_t arow = (size_t)((chip->out_row - acc->row0 + y) * acc->width + chip->out_col);
        size_t prow = (size_t)((chip->crop_row + y) * pred_w + chip->crop_col);
        const float *m = mask ? mask + (size_t)(y * chip->out_w) : NULL;
        for (int64_t x = 0; x < chip->out_w; x++) {
            float w = m ? m[x] : 1.0f;
            size_t a = arow + (size_t)x;
            if (acc->average) {
                for (int64_t c = 0; c < acc->channels; c++)
                    acc->sum[(size_t)c * plane + a] += pred[(size_t)c * pplane + prow + (size_t)x] * w;
            } else if (chip->order > acc->owner[a]) {
                /* average_patches false: the chip later in TerraTorch's
                 * order wins, whatever order chips arrive in here. */
                for (int64_t c = 0; c < acc->channels; c++)
                    acc->sum[(size_t)c * plane + a] = pred[(size_t)c * pplane + prow + (size_t)x];
                acc->owner[a] = chip->order;
            }
            acc->weight[a] += w;
        }
    }
    return TERRACL_OK;
}

terracl_status tc_tile_accum_row(const struct tc_tile_accum *acc, int64_t y, int64_t x0,
                                 int64_t n, float *out, terracl_error *err)
{
    if (y < acc->row0 || y >= acc->row0 + acc->rows || x0 < 0 || x0 + n > acc->width)
        return tc_fail(err, TERRACL_ERR_INTERNAL,
                       "tiled inference: Some pixels did not receive a classification! (row %lld)",
                       (long long)y);
    size_t plane = (size_t)(acc->rows * acc->width);
    size_t base = (size_t)((y - acc->row0) * acc->width + x0);
    for (int64_t x = 0; x < n; x++) {
        float w = acc->weight[base + (size_t)x];
        if (w == 0.0f)
            return tc_fail(err, TERRACL_ERR_CONFIG,
                           "tiled inference: Some pixels did not receive a classification! "
                           "(TerraTorch's error; pixel row %lld, column %lld of the padded scene: "
                           "the crop/stride leave a gap)",
                           (long long)y, (long long)(x0 + x));
        for (int64_t c = 0; c < acc->channels; c++) {
            float s = acc->sum[(size_t)c * plane + base + (size_t)x];
            out[(size_t)c * (size_t)n + (size_t)x] = acc->average ? s / w : s;
        }
    }
    return TERRACL_OK;
}

/* ------------------------------------------- rows shared between processes */

size_t tc_tile_accum_row_bytes(const struct tc_tile_accum *acc)
{
    size_t per_pixel = sizeof(float) * (size_t)(acc->channels + 1) + (acc->average ? 0 : sizeof(int64_t));
    return per_pixel * (size_t)acc->width;
}

void tc_tile_accum_pack(const struct tc_tile_accum *acc, int64_t y0, int64_t n, unsigned char *buf)
{
    size_t plane = (size_t)(acc->rows * acc->width), W = (size_t)acc->width;
    for (int64_t r = 0; r < n; r++) {
        int64_t y = y0 + r;
        int held = y >= acc->row0 && y < acc->row0 + acc->rows;
        size_t base = held ? (size_t)(y - acc->row0) * W : 0;
        for (int64_t c = 0; c <= acc->channels; c++) {
            /* Channels, then the weight. A row outside the strip got nothing. */
            const float *src = c < acc->channels ? acc->sum + (size_t)c * plane : acc->weight;
            if (held)
                memcpy(buf, src + base, W * sizeof(float));
            else
                memset(buf, 0, W * sizeof(float));
            buf += W * sizeof(float);
        }
        if (!acc->average) {
            for (size_t x = 0; x < W; x++) {
                int64_t o = held ? acc->owner[base + x] : -1;
                memcpy(buf + x * sizeof o, &o, sizeof o);
            }
            buf += W * sizeof(int64_t);
        }
    }
}

void tc_tile_accum_merge(struct tc_tile_accum *acc, int64_t y0, int64_t n, const unsigned char *buf)
{
    size_t plane = (size_t)(acc->rows * acc->width), W = (size_t)acc->width;
    size_t row_bytes = tc_tile_accum_row_bytes(acc);
    for (int64_t r = 0; r < n; r++, buf += row_bytes) {
        int64_t y = y0 + r;
        if (y < acc->row0 || y >= acc->row0 + acc->rows)
            continue;
        size_t base = (size_t)(y - acc->row0) * W;
        const unsigned char *weights = buf + (size_t)acc->channels * W * sizeof(float);
        const unsigned char *owners = weights + W * sizeof(float);
        for (size_t x = 0; x < W; x++) {
            float w;
            memcpy(&w, weights + x * sizeof w, sizeof w);
            acc->weight[base + x] += w;
            int take = 1;
            if (!acc->average) {
                /* As tc_tile_accum_add: the chip later in TerraTorch's order wins. */
                int64_t o;
                memcpy(&o, owners + x * sizeof o, sizeof o);
                take = o > acc->owner[base + x];
                if (take)
                    acc->owner[base + x] = o;
            }
            for (int64_t c = 0; take && c < acc->channels; c++) {
                float v;
                memcpy(&v, buf + ((size_t)c * W + x) * sizeof v, sizeof v);
                float *d = acc->sum + (size_t)c * plane + base + x;
                *d = acc->average ? *d + v : v;
            }
        }
    }
}

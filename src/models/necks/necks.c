/*
 * The reshaping necks: SelectIndices, PermuteDims and ReshapeTokensToImage.
 * They hold no parameters; every output is a fresh tensor (a copy or a
 * permutation), so the caller may free the inputs afterwards.
 */
#include "models/necks/necks.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph/exec.h"
#include "models/necks/neck_util.h"
#include "ops/layout.h"
#include "ops/pad.h"

/* ---- SelectIndices ------------------------------------------------------ */

struct select_indices {
    int64_t idx[TC_MAX_FEATS];
    size_t n;
};

static terracl_status select_forward(terracl_module *m, struct tc_exec *ex,
                                     const struct tc_feats *in, struct tc_feats *out,
                                     terracl_error *err)
{
    const struct select_indices *s = m->impl;
    for (size_t i = 0; i < s->n; i++) {
        int64_t k = s->idx[i] < 0 ? s->idx[i] + (int64_t)in->n : s->idx[i];
        if (k < 0 || k >= (int64_t)in->n)
            return tc_fail(err, TERRACL_ERR_SHAPE, "index %lld is outside the %zu input features",
                           (long long)s->idx[i], in->n);
        terracl_status st = tc_neck_copy(ex->rt, &in->t[k], &out->t[i], err);
        if (st != TERRACL_OK)
            return st;
        out->n = i + 1;
    }
    return TERRACL_OK;
}

static const struct tc_module_vtable k_select_vt = {select_forward, free};

terracl_status tc_neck_select_indices(const terracl_value *first, const terracl_value *args,
                                      void *user, terracl_module **out, terracl_error *err)
{
    (void)user;
    *out = NULL;
    int64_t ch[TC_MAX_FEATS], sel[TC_MAX_FEATS];
    size_t n = 0;
    struct select_indices *s = calloc(1, sizeof *s);
    int present = 0;
    terracl_status st = s ? TERRACL_OK : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK)
        st = tc_neck_channels(first, "SelectIndices", ch, &n, err);
    if (st == TERRACL_OK)
        st = terracl_args_int_list(args, "indices", s->idx, TC_MAX_FEATS, &s->n, &present, err);
    if (st == TERRACL_OK && (!present || s->n == 0))
        st = tc_fail(err, TERRACL_ERR_CONFIG, "SelectIndices: indices (a list of ints) is required");
    for (size_t i = 0; st == TERRACL_OK && i < s->n; i++) {
        int64_t k = s->idx[i] < 0 ? s->idx[i] + (int64_t)n : s->idx[i];
        if (k < 0 || k >= (int64_t)n)
            st = tc_fail(err, TERRACL_ERR_CONFIG,
                         "SelectIndices: index %lld is outside the channel list of %zu entries",
                         (long long)s->idx[i], n);
        else
            sel[i] = ch[k];
    }
    if (st != TERRACL_OK) {
        free(s);
        return st;
    }
    terracl_module *m = NULL;
    if ((st = tc_module_create("SelectIndices", &k_select_vt, s, &m, err)))
        return st;
    terracl_value *cfg = terracl_value_new_map();
    tc_value_set_chained(cfg, "indices", tc_value_int_list(s->idx, s->n), &st, err);
    if (st == TERRACL_OK)
        st = tc_neck_finish(m, cfg, sel, s->n, err);
    else
        terracl_value_free(cfg);
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return st;
    }
    *out = m;
    return TERRACL_OK;
}

/* ---- PermuteDims -------------------------------------------------------- */

struct permute_dims {
    int order[TC_MAX_DIMS];
    int n;
};

static terracl_status permute_forward(terracl_module *m, struct tc_exec *ex,
                                      const struct tc_feats *in, struct tc_feats *out,
                                      terracl_error *err)
{
    const struct permute_dims *p = m->impl;
    for (size_t i = 0; i < in->n; i++) {
        const struct tc_tensor *x = &in->t[i];
        if (x->ndim != p->n) {
            char s[128];
            return tc_fail(err, TERRACL_ERR_SHAPE, "feature %zu %s has %d dimensions, new_order %d",
                           i, tc_shape_str(x->ndim, x->dims, s, sizeof s), x->ndim, p->n);
        }
        int64_t dims[TC_MAX_DIMS];
        for (int d = 0; d < p->n; d++)
            dims[d] = x->dims[p->order[d]];
        terracl_status st = tc_tensor_alloc(ex->rt, p->n, dims, &out->t[i], err);
        if (st != TERRACL_OK)
            return st;
        out->n = i + 1;
        if ((st = tc_op_permute(ex->rt, x, p->order, &out->t[i], err)))
            return st;
    }
    return TERRACL_OK;
}

static const struct tc_module_vtable k_permute_vt = {permute_forward, free};

terracl_status tc_neck_permute_dims(const terracl_value *first, const terracl_value *args,
                                    void *user, terracl_module **out, terracl_error *err)
{
    (void)user;
    *out = NULL;
    int64_t ch[TC_MAX_FEATS], order[TC_MAX_DIMS];
    size_t n = 0, k = 0;
    int present = 0, seen[TC_MAX_DIMS] = {0};
    terracl_status st = tc_neck_channels(first, "PermuteDims", ch, &n, err);
    if (st == TERRACL_OK)
        st = terracl_args_int_list(args, "new_order", order, TC_MAX_DIMS, &k, &present, err);
    if (st == TERRACL_OK && (!present || k == 0))
        st = tc_fail(err, TERRACL_ERR_CONFIG, "PermuteDims: new_order (a list of ints) is required");
    if (st != TERRACL_OK)
        return st;
    struct permute_dims *p = calloc(1, sizeof *p);
    if (p == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    p->n = (int)k;
    for (size_t i = 0; i < k; i++) {
        /* torch.permute accepts negative dimensions. */
        int64_t d = order[i] < 0 ? order[i] + (int64_t)k : order[i];
        if (d < 0 || d >= (int64_t)k || seen[d]++) {
            free(p);
            return tc_fail(err, TERRACL_ERR_CONFIG,
                           "PermuteDims: new_order is not a permutation of 0..%zu", k - 1);
        }
        p->order[i] = (int)d;
    }
    terracl_module *m = NULL;
    if ((st = tc_module_create("PermuteDims", &k_permute_vt, p, &m, err)))
        return st;
    terracl_value *cfg = terracl_value_new_map();
    tc_value_set_chained(cfg, "new_order", tc_value_int_list(order, k), &st, err);
    if (st == TERRACL_OK)
        st = tc_neck_finish(m, cfg, ch, n, err);
    else
        terracl_value_free(cfg);
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return st;
    }
    *out = m;
    return TERRACL_OK;
}

/* ---- ReshapeTokensToImage ----------------------------------------------- */

struct reshape_tokens {
    int remove_cls;
    int64_t time_dim;
    int64_t h; /* 0: inferred */
};

static int64_t isqrt_exact(int64_t n)
{
    if (n <= 0)
        return -1;
    int64_t r = (int64_t)sqrt((double)n);
    while (r * r > n)
        r--;
    while ((r + 1) * (r + 1) <= n)
        r++;
    return r * r == n ? r : -1;
}

/* The grid rows for `per_t` tokens per frame. Returns TERRACL_ERR_SHAPE with
 * *retry = 1 when the grid does not fit the image size and the CLS token
 * was assumed (TerraTorch then retries keeping token 0). */
static terracl_status grid_rows(const struct reshape_tokens *r, int remove_cls, int64_t per_t,
                                const struct tc_exec *ex, int64_t *h, int *retry,
                                terracl_error *err)
{
    *retry = 0;
    if (r->h > 0) {
        *h = r->h;
        return TERRACL_OK;
    }
    int64_t s = isqrt_exact(per_t);
    if (s > 0) {
        *h = s;
        return TERRACL_OK;
    }
    if (ex->image_h <= 0 || ex->image_w <= 0)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "%lld tokens per frame is not a square grid; set h (the grid rows) or "
                       "give the image size",
                       (long long)per_t);
    int64_t area = ex->image_h * ex->image_w;
    int64_t patch = area % per_t == 0 ? isqrt_exact(area / per_t) : -1;
    if (patch <= 0) {
        *retry = remove_cls;
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "cannot infer the token grid from %lld tokens per frame and image size "
                       "%lldx%lld",
                       (long long)per_t, (long long)ex->image_h, (long long)ex->image_w);
    }
    *h = ex->image_h / patch;
    return TERRACL_OK;
}

/* [B, (1+)N, E] -> [B, T*E, h, w]. */
static terracl_status tokens_to_image(const struct reshape_tokens *r, int remove_cls,
                                      struct tc_exec *ex, const struct tc_tensor *x,
                                      struct tc_tensor *y, int *retry, terracl_error *err)
{
    char s1[128];
    *retry = 0;
    if (x->ndim < 3 || x->dims[1] <= remove_cls)
        return tc_fail(err, TERRACL_ERR_SHAPE, "tokens %s: expected [B, %sN, E]",
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1), remove_cls ? "1+" : "");
    int64_t B = x->dims[0], E = x->dims[x->ndim - 1], inner = 1;
    for (int d = 2; d < x->ndim - 1; d++)
        inner *= x->dims[d];
    int64_t N = (x->dims[1] - remove_cls) * inner, T = r->time_dim;
    int64_t per_t = N / T, h = 0;
    if (per_t < 1)
        return tc_fail(err, TERRACL_ERR_SHAPE, "cannot arrange %lld tokens as %lld frame(s)",
                       (long long)N, (long long)T);
    terracl_status st = grid_rows(r, remove_cls, per_t, ex, &h, retry, err);
    if (st != TERRACL_OK)
        return st;
    if (N % T != 0 || h <= 0 || per_t % h != 0)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "cannot arrange %lld tokens as %lld frame(s) of %lld rows", (long long)N,
                       (long long)T, (long long)h);
    int64_t w = per_t / h;
    int64_t od[4] = {B, T * E, h, w};
    if ((st = tc_tensor_alloc(ex->rt, 4, od, y, err)))
        return st;
    /* Per item: view its tokens as [1, T, h, w, E], permute to [1, T, E, h, w]
     * (channel t*E + e, as einops' "b (t h w) e -> b (t e) h w"). */
    static const int perm[5] = {0, 1, 4, 2, 3};
    for (int64_t b = 0; b < B; b++) {
        struct tc_tensor si = *x, oi = *y;
        int64_t sd[5] = {1, T, h, w, E}, yd[5] = {1, T, E, h, w};
        si.owns_buf = oi.owns_buf = 0;
        si.ndim = oi.ndim = 5;
        memcpy(si.dims, sd, sizeof sd);
        memcpy(oi.dims, yd, sizeof yd);
        si.offset = x->offset + (size_t)((b * x->dims[1] + remove_cls) * inner * E);
        oi.offset = y->offset + (size_t)(b * N * E);
        if ((st = tc_op_permute(ex->rt, &si, perm, &oi, err))) {
            tc_tensor_free(y);
            return st;
        }
    }
    return TERRACL_OK;
}

static terracl_status reshape_forward(terracl_module *m, struct tc_exec *ex,
                                      const struct tc_feats *in, struct tc_feats *out,
                                      terracl_error *err)
{
    const struct reshape_tokens *r = m->impl;
    int remove_cls = r->remove_cls;
    for (size_t i = 0; i < in->n; i++) {
        int retry = 0;
        terracl_status st;
        if (in->t[i].ndim >= 4) {
            /* TerraTorch 1.2 passes features that are images already
             * ([B, C, H, W] and up) through unchanged. */
            if ((st = tc_tensor_alloc(ex->rt, in->t[i].ndim, in->t[i].dims, &out->t[i], err)) ||
                (st = tc_op_crop(ex->rt, &in->t[i], &out->t[i], err)))
                return tc_fail_context(err, st, "feature %zu", i);
            out->n = i + 1;
            continue;
        }
        st = tokens_to_image(r, remove_cls, ex, &in->t[i], &out->t[i], &retry, err);
        if (st != TERRACL_OK && retry) {
            /* As TerraTorch: assume there was no CLS token and start over. */
            tc_feats_free(out);
            remove_cls = 0;
            i = (size_t)-1;
            continue;
        }
        if (st != TERRACL_OK)
            return tc_fail_context(err, st, "feature %zu", i);
        out->n = i + 1;
    }
    return TERRACL_OK;
}

static const struct tc_module_vtable k_reshape_vt = {reshape_forward, free};

terracl_status tc_neck_reshape_tokens_to_image(const terracl_value *first,
                                               const terracl_value *args, void *user,
                                               terracl_module **out, terracl_error *err)
{
    (void)user;
    *out = NULL;
    int64_t ch[TC_MAX_FEATS];
    size_t n = 0;
    struct reshape_tokens r = {0};
    terracl_status st = tc_neck_channels(first, "ReshapeTokensToImage", ch, &n, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "remove_cls_token", 1, &r.remove_cls, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "effective_time_dim", 1, &r.time_dim, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "h", 0, &r.h, err);
    /* Upper bounds keep T * E and the grid products far from overflow. */
    if (st == TERRACL_OK && (r.time_dim <= 0 || r.time_dim > 4096 || r.h < 0 || r.h > 65536))
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "ReshapeTokensToImage: effective_time_dim must be in 1..4096 and h in "
                     "1..65536 or null (got %lld and %lld)",
                     (long long)r.time_dim, (long long)r.h);
    if (st != TERRACL_OK)
        return st;
    struct reshape_tokens *impl = malloc(sizeof *impl);
    if (impl == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    *impl = r;
    terracl_module *m = NULL;
    if ((st = tc_module_create("ReshapeTokensToImage", &k_reshape_vt, impl, &m, err)))
        return st;
    terracl_value *cfg = terracl_value_new_map();
    tc_value_set_chained(cfg, "remove_cls_token", terracl_value_new_bool(r.remove_cls), &st, err);
    tc_value_set_chained(cfg, "effective_time_dim", terracl_value_new_int(r.time_dim), &st, err);
    tc_value_set_chained(cfg, "h", r.h > 0 ? terracl_value_new_int(r.h) : terracl_value_new_null(), &st,
                    err);
    if (st == TERRACL_OK)
        st = tc_neck_finish(m, cfg, ch, n, err);
    else
        terracl_value_free(cfg);
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return st;
    }
    *out = m;
    return TERRACL_OK;
}

/* Weight binding: validate everything, then pack, allocate and upload. */
#include "graph/weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"

/* Parameters are packed at multiples of this many floats (256 bytes), which
 * keeps every tensor aligned for vector loads. */
#define ALIGN_ELEMS 64

struct tc_weights {
    struct tc_buf **bufs;
    size_t nbufs;
    uint64_t bytes;
};

struct planned {
    struct tc_param *param;
    struct tc_checkpoint *ck; /* NULL: fixed (param->host) or random values */
    size_t index;
    size_t numel;
    size_t ckpt_numel; /* elements stored in the checkpoint (differs when adapted) */
    int adapted;
    size_t buf, offset; /* chunk and element offset once packed */
    size_t derived;     /* floats of the derived form (0: none) */
    int replaces;       /* the derived form takes the tensor's place */
};

struct plan {
    const struct tc_weight_source *sources;
    size_t nsources;
    const terracl_module *current_root; /* innermost source root above the visit */
    size_t root_path_len;               /* length of that root's path prefix */
    struct planned *items;
    size_t n, cap;
};

static size_t param_numel(const struct tc_param *p)
{
    size_t n = 1;
    for (int i = 0; i < p->ndim; i++)
        n *= (size_t)p->dims[i];
    return n;
}

static terracl_status add_item(struct plan *pl, struct tc_param *param, struct tc_checkpoint *ck,
                               size_t index, terracl_error *err)
{
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? pl->cap * 2 : 256;
        struct planned *items = realloc(pl->items, cap * sizeof *items);
        if (items == NULL)
            return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory planning weights");
        pl->items = items;
        pl->cap = cap;
    }
    struct planned *it = &pl->items[pl->n++];
    memset(it, 0, sizeof *it);
    it->param = param;
    it->ck = ck;
    it->index = index;
    it->numel = param_numel(param);
    it->ckpt_numel = it->numel;
    return TERRACL_OK;
}

static terracl_status plan_param(void *user, const char *name, struct tc_param *param,
                                 terracl_error *err)
{
    struct plan *pl = user;
    if (!param->from_checkpoint)
        return param->host ? add_item(pl, param, NULL, 0, err) : TERRACL_OK;
    char full[1200];
    for (size_t s = 0; s < pl->nsources; s++) {
        const struct tc_weight_source *src = &pl->sources[s];
        if (src->root != NULL && src->root != pl->current_root)
            continue;
        if (src->ck == NULL) /* random weights: every tensor matches */
            return add_item(pl, param, NULL, 0, err);
        const char *rel = name;
        if (src->root != NULL)
            rel = name + (pl->root_path_len ? pl->root_path_len + 1 : 0);
        snprintf(full, sizeof full, "%s%s", src->prefix ? src->prefix : "", rel);
        if (tc_checkpoint_find(src->ck, full) < 0)
            continue;
        size_t index = 0;
        int adapt = src->adapt && param->adapt != NULL;
        terracl_status st =
            adapt ? tc_checkpoint_expect(src->ck, full, param->adapt_ndim, param->adapt_dims, &index, err)
                  : tc_checkpoint_expect(src->ck, full, param->ndim, param->dims, &index, err);
        if (st == TERRACL_OK)
            st = add_item(pl, param, src->ck, index, err);
        if (st == TERRACL_OK && adapt) {
            struct planned *it = &pl->items[pl->n - 1];
            it->adapted = 1;
            it->ckpt_numel = tc_checkpoint_entry(src->ck, index)->numel;
        }
        return st;
    }
    /* Name the tensor as the first applicable source spells it. */
    const struct tc_weight_source *first = NULL;
    for (size_t s = 0; s < pl->nsources && first == NULL; s++)
        if (pl->sources[s].root == NULL || pl->sources[s].root == pl->current_root)
            first = &pl->sources[s];
    char dims[128];
    tc_dims_str(param->ndim, param->dims, dims, sizeof dims);
    if (first == NULL || first->ck == NULL)
        return tc_fail(err, TERRACL_ERR_NOT_FOUND, "no checkpoint given for tensor %s %s", name, dims);
    const char *rel =
        first->root != NULL ? name + (pl->root_path_len ? pl->root_path_len + 1 : 0) : name;
    return tc_fail(err, TERRACL_ERR_NOT_FOUND, "%s: missing tensor %s%s (expected shape %s)",
                   tc_checkpoint_path(first->ck), first->prefix ? first->prefix : "", rel, dims);
}

/* Visits the tree; a source bound to a subtree names tensors relative to
 * that subtree's root, the others by the full path. */
static terracl_status plan_tree(struct plan *pl, terracl_module *m, const char *path,
                                terracl_error *err)
{
    const terracl_module *saved_root = pl->current_root;
    size_t saved_len = pl->root_path_len;
    for (size_t s = 0; s < pl->nsources; s++)
        if (pl->sources[s].root == m) {
            pl->current_root = m;
            pl->root_path_len = strlen(path);
        }
    terracl_status st = TERRACL_OK;
    char name[1200];
    for (size_t i = 0; st == TERRACL_OK && i < m->nparams; i++) {
        snprintf(name, sizeof name, "%s%s%s", path, *path ? "." : "", m->params[i].name);
        st = plan_param(pl, name, &m->params[i], err);
    }
    for (size_t i = 0; st == TERRACL_OK && i < m->nchildren; i++) {
        snprintf(name, sizeof name, "%s%s%s", path, *path ? "." : "", m->children[i].name);
        st = plan_tree(pl, m->children[i].module, name, err);
    }
    pl->current_root = saved_root;
    pl->root_path_len = saved_len;
    return st;
}

/* Plausible random values for benchmarks: small weights, unit norm scales
 * and variances, zero biases and means (no NaNs, no denormals). */
static void fill_random(const struct tc_param *p, float *dst, size_t n, uint32_t seed)
{
    const char *name = p->name;
    size_t len = strlen(name);
    int is_var = strstr(name, "running_var") != NULL;
    int is_norm_weight = strstr(name, "norm") != NULL && len >= 6 && strcmp(name + len - 6, "weight") == 0;
    int is_vector = p->ndim <= 1;
    uint32_t s = seed * 2654435761u + 97u;
    for (size_t i = 0; i < n; i++) {
        if (is_var || is_norm_weight) {
            dst[i] = 1.0f;
        } else if (is_vector) {
            dst[i] = 0.0f;
        } else {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            dst[i] = 0.04f * ((float)(s >> 8) / (float)(1u << 24) - 0.5f);
        }
    }
}

void tc_weights_free(struct tc_weights *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->nbufs; i++)
        tc_buf_destroy(w->bufs[i]);
    free(w->bufs);
    free(w);
}

uint64_t tc_weights_bytes(const struct tc_weights *w) { return w ? w->bytes : 0; }

/* Whether a parameter goes to the device in the GEMM module's packed
 * Linear-weight layout (CPUs, where the packed kernel is faster). */
static int packs(const terracl_runtime *rt, const struct planned *it)
{
    const struct tc_param *p = it->param;
    if (!p->gemm_weight || p->ndim < 2 || p->dims[0] <= 0)
        return 0;
    size_t first = (size_t)p->dims[0];
    if (p->gemm_weight == TC_PACKED_KN) /* [K, N ...] */
        return tc_gemm_pack_wanted(rt, it->numel / first, first);
    return tc_gemm_pack_wanted(rt, first, it->numel / first);
}

/* The derived forms (tc_param.derive) of the planned parameters that have
 * one, from their final values: after their own data in the buffer, or in
 * its place when the form replaces it. */
static terracl_status derive_forms(terracl_runtime *rt, const struct plan *pl, terracl_error *err)
{
    terracl_status st = TERRACL_OK;
    for (size_t i = 0; i < pl->n && st == TERRACL_OK; i++) {
        const struct planned *it = &pl->items[i];
        if (it->derived == 0)
            continue;
        struct tc_param *p = it->param;
        float *plain = malloc(it->numel * sizeof *plain);
        float *form = malloc(it->derived * sizeof *form);
        if (plain == NULL || form == NULL)
            st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory deriving %s", p->name);
        if (st == TERRACL_OK)
            st = tc_tensor_download(rt, &p->value, plain, err);
        if (st == TERRACL_OK && p->derive(p, plain, form) != 0)
            st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory deriving %s", p->name);
        if (st == TERRACL_OK) {
            size_t at = it->replaces ? it->offset
                                     : it->offset + (it->numel + ALIGN_ELEMS - 1) / ALIGN_ELEMS *
                                                        ALIGN_ELEMS;
            st = tc_buf_write(rt, p->value.buf, at * sizeof(float), form,
                              it->derived * sizeof(float), err);
            p->value.has_derived = st == TERRACL_OK;
            p->value.derived_offset = at;
            if (it->replaces)
                p->value.gemm_packed = TC_DERIVED_ONLY;
        }
        free(plain);
        free(form);
    }
    return st;
}

/* Packs items into chunks no larger than the device's largest allocation. */
static terracl_status pack(struct plan *pl, size_t max_elems, size_t **chunk_sizes, size_t *nchunks,
                           terracl_error *err)
{
    size_t cap = 4, n = 1;
    size_t *sizes = calloc(cap, sizeof *sizes);
    if (sizes == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < pl->n; i++) {
        struct planned *it = &pl->items[i];
        size_t need = (it->numel + ALIGN_ELEMS - 1) / ALIGN_ELEMS * ALIGN_ELEMS;
        size_t derived = (it->derived + ALIGN_ELEMS - 1) / ALIGN_ELEMS * ALIGN_ELEMS;
        if (it->replaces)
            need = need > derived ? need : derived;
        else
            need += derived;
        if (need > max_elems) {
            free(sizes);
            return tc_fail(err, TERRACL_ERR_NO_MEMORY,
                           "tensor %s (%zu floats) exceeds the device's largest allocation",
                           it->param->name, it->numel);
        }
        if (sizes[n - 1] + need > max_elems) {
            if (n == cap) {
                size_t *ns = realloc(sizes, 2 * cap * sizeof *ns);
                if (ns == NULL) {
                    free(sizes);
                    return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
                }
                sizes = ns;
                cap *= 2;
            }
            sizes[n++] = 0;
        }
        it->buf = n - 1;
        it->offset = sizes[n - 1];
        sizes[n - 1] += need;
    }
    *chunk_sizes = sizes;
    *nchunks = n;
    return TERRACL_OK;
}

terracl_status tc_weights_bind(terracl_runtime *rt, terracl_module *m,
                               const struct tc_weight_source *sources, size_t count,
                               struct tc_weights **out, terracl_error *err)
{
    *out = NULL;
    struct plan pl = {sources, count, NULL, 0, NULL, 0, 0};
    terracl_status st = plan_tree(&pl, m, "", err);
    size_t *sizes = NULL, nchunks = 0, largest = 0;
    struct tc_weights *w = NULL;
    float *staging = NULL;
    if (st != TERRACL_OK)
        goto out;

    for (size_t i = 0; i < pl.n; i++) {
        const struct tc_param *p = pl.items[i].param;
        /* A GEMM weight's form is for where it packs; another weight's
         * (a depthwise kernel's tap-major copy) for CPU devices, where
         * terracl's own kernels read it. */
        const int derives = p->derive != NULL && (p->gemm_weight ? packs(rt, &pl.items[i])
                                                                 : tc_runtime_is_cpu(rt));
        pl.items[i].derived = derives ? p->derived_numel : 0;
        pl.items[i].replaces = pl.items[i].derived > 0 && p->derived_replaces;
    }
    uint64_t max_alloc = terracl_runtime_device(rt)->max_alloc_bytes;
    size_t max_elems = (size_t)(max_alloc / sizeof(float)) / ALIGN_ELEMS * ALIGN_ELEMS;
    if ((st = pack(&pl, max_elems, &sizes, &nchunks, err)))
        goto out;

    w = calloc(1, sizeof *w);
    if (w == NULL || (w->bufs = calloc(nchunks, sizeof *w->bufs)) == NULL) {
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        goto out;
    }
    for (size_t c = 0; c < nchunks; c++) {
        if (sizes[c] == 0)
            continue;
        if ((st = tc_buf_create(rt, sizes[c] * sizeof(float), &w->bufs[c], err))) {
            tc_fail_context(err, st, "allocating %.1f MiB of weights on the device",
                            (double)sizes[c] * sizeof(float) / (1 << 20));
            goto out;
        }
        w->nbufs = c + 1;
        w->bytes += sizes[c] * sizeof(float);
    }
    size_t largest_adapted = 0;
    for (size_t i = 0; i < pl.n; i++) {
        if (pl.items[i].numel > largest)
            largest = pl.items[i].numel;
        if (pl.items[i].adapted && pl.items[i].ckpt_numel > largest_adapted)
            largest_adapted = pl.items[i].ckpt_numel;
    }
    /* One staging area for the tensor as uploaded, one for an adapted
     * tensor's checkpoint form or a Linear weight's packed form. */
    size_t second = largest_adapted;
    for (size_t i = 0; i < pl.n; i++)
        if (packs(rt, &pl.items[i]) && pl.items[i].numel > second)
            second = pl.items[i].numel;
    staging = malloc((largest + second + 1) * sizeof *staging);
    if (staging == NULL) {
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for a %zu-float staging buffer", largest);
        goto out;
    }
    for (size_t i = 0; i < pl.n; i++) {
        struct planned *it = &pl.items[i];
        const float *src = it->param->host;
        if (it->ck == NULL && src == NULL) {
            fill_random(it->param, staging, it->numel, (uint32_t)i);
            src = staging;
        } else if (it->adapted) {
            float *raw = staging + largest;
            if ((st = tc_checkpoint_read_f32(it->ck, it->index, raw, it->ckpt_numel, err)) ||
                (st = it->param->adapt(it->param, raw, staging, it->param->adapt_user, err)))
                goto out;
            src = staging;
        } else if (it->ck != NULL) {
            if ((st = tc_checkpoint_read_f32(it->ck, it->index, staging, it->numel, err)))
                goto out;
            src = staging;
        }
        struct tc_tensor *t = &it->param->value;
        memset(t, 0, sizeof *t);
        t->buf = w->bufs[it->buf];
        t->offset = it->offset;
        t->ndim = it->param->ndim > 0 ? it->param->ndim : 1;
        for (int d = 0; d < it->param->ndim; d++)
            t->dims[d] = it->param->dims[d];
        if (it->param->ndim == 0)
            t->dims[0] = 1;
        if (packs(rt, it)) {
            float *packed = staging + largest;
            t->gemm_packed = it->param->gemm_weight;
            if ((st = tc_tensor_pack_host(t, src, packed, err)))
                goto out;
            src = packed;
        }
        if ((st = tc_buf_write(rt, t->buf, it->offset * sizeof(float), src, it->numel * sizeof(float), err)))
            goto out;
    }
    /* Parameters rewritten from others (a BatchNorm folded into its
     * convolution) once everything is uploaded. */
    if ((st = tc_module_run_bind_hooks(m, rt, err)) || (st = derive_forms(rt, &pl, err)))
        goto out;
    *out = w;
    w = NULL;

out:
    if (w != NULL) {
        /* Do not leave parameters pointing at freed buffers. */
        for (size_t i = 0; i < pl.n; i++)
            memset(&pl.items[i].param->value, 0, sizeof pl.items[i].param->value);
        tc_weights_free(w);
    }
    free(staging);
    free(sizes);
    free(pl.items);
    return st;
}

const char *tc_weights_find_prefix(struct tc_checkpoint *ck, const char *suffix, char *buf,
                                   size_t cap)
{
    size_t sl = strlen(suffix);
    size_t n = tc_checkpoint_count(ck);
    for (size_t i = 0; i < n; i++) {
        const char *name = tc_checkpoint_entry(ck, i)->name;
        size_t len = strlen(name);
        if (len >= sl && strcmp(name + len - sl, suffix) == 0 &&
            (len == sl || name[len - sl - 1] == '.')) {
            snprintf(buf, cap, "%.*s", (int)(len - sl), name);
            return buf;
        }
    }
    return NULL;
}

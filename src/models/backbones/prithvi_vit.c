/*
 * Prithvi-EO ViT encoders: construction from TerraTorch's arguments and the
 * forward pass on the device.
 *
 * Forward, as TerraTorch's PrithviViT.forward_features:
 *   patches = tubelets of x            [B*N, C*pt*ph*pw]
 *   tokens  = patches W^T + b          [B*N, D]     (the Conv3d as a GEMM)
 *   tokens += pos_embed[1:]            (bicubic-resized when the grid differs)
 *   tokens += temporal / location encodings (when enabled and given)
 *   x = [cls | tokens]                 [B, 1+N, D]
 *   per block: x += proj(attn(LN1 x)); x += fc2(gelu(fc1(LN2 x)))
 *   outputs: x after each block in out_indices; the last block's after LN.
 */
#include "models/backbones/prithvi_vit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "graph/exec.h"
#include "graph/mem_estimate.h"
#include "io/yaml_config.h"
#include "models/backbones/pos_embed.h"
#include "models/backbones/vit_attention.h"
#include "ops/elementwise.h"
#include "ops/layout.h"
#include "ops/linear.h"
#include "ops/norm.h"
#include "ops/patch.h"

#define MAX_DEPTH 64
#define MAX_BANDS 64
/* Bounds on what a config may ask for, far above every published Prithvi
 * model, so that no product of them can overflow before it is checked. */
#define MAX_IMG_SIZE 65536
#define MAX_FRAMES 4096
#define MAX_TOKENS ((int64_t)1 << 24)
#define MAX_HIDDEN ((int64_t)1 << 20)
#define LN_EPS 1e-5f

struct variant {
    const char *name;
    int64_t embed_dim, depth, heads, patch;
    int coords; /* 1: time + location, learned scales (the _tl models) */
    int has_weights_online;
};

static const struct variant k_variants[] = {
    {"prithvi_eo_tiny", 256, 4, 4, 16, 0, 0},
    {"prithvi_eo_v1_100", 768, 12, 12, 16, 0, 1},
    {"prithvi_eo_v2_tiny_tl", 192, 12, 3, 16, 1, 1},
    {"prithvi_eo_v2_100_tl", 768, 12, 12, 16, 1, 1},
    {"prithvi_eo_v2_300", 1024, 24, 16, 16, 0, 1},
    {"prithvi_eo_v2_300_tl", 1024, 24, 16, 16, 1, 1},
    {"prithvi_eo_v2_600", 1280, 32, 16, 14, 0, 1},
    {"prithvi_eo_v2_600_tl", 1280, 32, 16, 14, 1, 1},
};

struct block_params {
    size_t norm1_w, norm1_b, qkv_w, qkv_b, proj_w, proj_b;
    size_t norm2_w, norm2_b, fc1_w, fc1_b, fc2_w, fc2_b;
};

struct prithvi {
    int64_t img_h, img_w, frames, in_chans, dim, depth, heads, hidden;
    int64_t patch[3], grid[3];
    int time_enc, loc_enc, scale_learn;
    int64_t out_indices[MAX_DEPTH];
    size_t n_out;
    char *ckpt_path;
    /* Loading the patch embedding from ckpt_path: model band i takes the
     * checkpoint's column band_column[i] (-1: not a pretrained band). */
    int remap_bands;
    int64_t pretrained_count;
    int64_t band_column[MAX_BANDS];
    char band_missing[64];
    size_t p_cls, p_pos, p_patch_w, p_patch_b, p_norm_w, p_norm_b;
    size_t p_time_scale, p_loc_scale; /* (size_t)-1 when absent */
    struct block_params blocks[MAX_DEPTH];
};

static void prithvi_free(void *impl)
{
    struct prithvi *p = impl;
    if (p)
        free(p->ckpt_path);
    free(p);
}

static terracl_status prithvi_forward(terracl_module *m, struct tc_exec *ex,
                                      const struct tc_feats *in, struct tc_feats *out,
                                      terracl_error *err);

static const struct tc_module_vtable k_prithvi_vt = {prithvi_forward, prithvi_free};

/* TerraTorch's default pretrained band order. */
static const char *const k_pretrained_bands[] = {"BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1",
                                                 "SWIR_2"};

static int same_band(const struct tc_band *a, const struct tc_band *b)
{
    return a->is_name == b->is_name &&
           (a->is_name ? strcmp(a->name, b->name) == 0 : a->index == b->index);
}

/* As TerraTorch's select_patch_embed_weights: when the model's bands differ
 * from the pretrained ones, each model band takes the pretrained column of
 * the same band. */
static terracl_status plan_band_columns(struct prithvi *p, const terracl_value *args,
                                        terracl_error *err)
{
    const terracl_value *bands = terracl_value_map_get(args, "bands");
    const terracl_value *pre = terracl_value_map_get(args, "pretrained_bands");
    struct tc_band model[MAX_BANDS], pretrained[MAX_BANDS];
    size_t nm = 0, np = 0;
    terracl_status st;
    if (bands == NULL || terracl_value_type_of(bands) == TERRACL_VALUE_NULL)
        return TERRACL_OK; /* the model uses the pretrained bands */
    if ((st = tc_config_bands(bands, "bands", model, MAX_BANDS, &nm, err)))
        return st;
    if (pre != NULL && terracl_value_type_of(pre) != TERRACL_VALUE_NULL) {
        if ((st = tc_config_bands(pre, "pretrained_bands", pretrained, MAX_BANDS, &np, err)))
            return st;
    } else {
        for (size_t i = 0; i < sizeof k_pretrained_bands / sizeof k_pretrained_bands[0]; i++)
            pretrained[np++] = (struct tc_band){1, k_pretrained_bands[i], 0};
    }
    int identity = nm == np;
    for (size_t i = 0; i < nm; i++) {
        p->band_column[i] = -1;
        for (size_t j = 0; j < np && p->band_column[i] < 0; j++)
            if (same_band(&model[i], &pretrained[j]))
                p->band_column[i] = (int64_t)j;
        identity = identity && p->band_column[i] == (int64_t)i;
        if (p->band_column[i] < 0 && p->band_missing[0] == '\0') {
            if (model[i].is_name)
                snprintf(p->band_missing, sizeof p->band_missing, "%s", model[i].name);
            else
                snprintf(p->band_missing, sizeof p->band_missing, "%lld", (long long)model[i].index);
        }
    }
    p->remap_bands = !identity;
    p->pretrained_count = (int64_t)np;
    return TERRACL_OK;
}

/* The adapter of patch_embed.proj.weight: [D, Cp, ...] -> [D, C, ...]. */
static terracl_status adapt_patch_weight(const struct tc_param *param, const float *ckpt,
                                         float *out, void *user, terracl_error *err)
{
    const struct prithvi *p = user;
    if (p->band_missing[0] != '\0')
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "band %s of the model is not among the pretrained bands, so its "
                       "patch-embedding weights are not in the checkpoint (TerraTorch would "
                       "initialise them randomly): load a fine-tuned checkpoint of the whole "
                       "model, or use pretrained bands only",
                       p->band_missing);
    int64_t D = param->dims[0], C = param->dims[1];
    int64_t per = param->dims[2] * param->dims[3] * param->dims[4];
    for (int64_t d = 0; d < D; d++)
        for (int64_t c = 0; c < C; c++)
            memcpy(out + (d * C + c) * per, ckpt + (d * p->pretrained_count + p->band_column[c]) * per,
                   (size_t)per * sizeof *out);
    return TERRACL_OK;
}

int tc_prithvi_is(const terracl_module *m) { return m && m->vt == &k_prithvi_vt; }
int64_t tc_prithvi_embed_dim(const terracl_module *m) { return ((struct prithvi *)m->impl)->dim; }
int64_t tc_prithvi_effective_time(const terracl_module *m)
{
    const struct prithvi *p = m->impl;
    return p->frames / p->patch[0];
}
int64_t tc_prithvi_patch_size(const terracl_module *m, int axis)
{
    return ((struct prithvi *)m->impl)->patch[axis];
}
const char *tc_prithvi_ckpt_path(const terracl_module *m)
{
    return ((struct prithvi *)m->impl)->ckpt_path;
}

void tc_prithvi_estimate(const terracl_module *m, int ndim, const int64_t *dims,
                         uint64_t (*attn_scratch)(const void *ctx, uint64_t len, uint64_t dim,
                                                  uint64_t heads),
                         const void *ctx, int final_only, struct tc_mem_estimate *e)
{
    const struct prithvi *p = m->impl;
    if (ndim != 4 && ndim != 5)
        return;
    int64_t B = dims[0], C = dims[1], T = ndim == 5 ? dims[2] : 1, H = dims[ndim - 2],
            W = dims[ndim - 1];
    int64_t tg = T / p->patch[0], hg = H / p->patch[1], wg = W / p->patch[2];
    if (B < 1 || C < 1 || tg < 1 || hg < 1 || wg < 1)
        return;
    /* Dimensions are at most 2^31 each (checked by the caller); the products
     * below are formed in saturating uint64 arithmetic. */
    uint64_t N = tc_mem_sat_mul(tc_mem_sat_mul((uint64_t)tg, (uint64_t)hg), (uint64_t)wg);
    uint64_t L = tc_mem_sat_add(N, 1), D = (uint64_t)p->dim;
    uint64_t K = (uint64_t)(C * p->patch[0] * p->patch[1] * p->patch[2]);
    int64_t Li = L > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)L;
    int64_t BN = (int64_t)tc_mem_sat_mul((uint64_t)B, N > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : N);
    if (BN < 0)
        BN = INT64_MAX;
    int64_t patches[2] = {BN, (int64_t)K}, tokens[2] = {BN, (int64_t)D};
    int64_t x[3] = {B, Li, (int64_t)D}, qkv[3] = {B, Li, 3 * (int64_t)D},
            hidden[3] = {B, Li, p->hidden};
    uint64_t sc = attn_scratch(ctx, L, D, (uint64_t)p->heads);
    int64_t scores[1] = {sc > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)sc};
    tc_mem_add_device(e, "patches", 2, patches, 1);
    tc_mem_add_device(e, "tokens", 2, tokens, 1);
    tc_mem_add_device(e, "block activations x", 3, x, 2); /* x and its LayerNorm */
    tc_mem_add_device(e, "qkv", 3, qkv, 1);
    tc_mem_add_device(e, "attention scratch", 1, scores, 1);
    tc_mem_add_device(e, "attention output", 3, x, 1);
    tc_mem_add_device(e, "MLP hidden", 3, hidden, 1);
    tc_mem_add_device(e, "block outputs", 3, x, final_only ? 1 : (uint64_t)p->n_out);
    /* Host: the position table at the construction grid and resized to the
     * input's, and the per-item coordinate table when used. */
    int64_t pos[2] = {Li, (int64_t)D};
    tc_mem_add_host(e, 2, pos, 2);
}

/* ---- construction ------------------------------------------------------ */

/* img_size / patch_size may be an int or a list. */
static terracl_status int_or_pair(const terracl_value *args, const char *key, int64_t def,
                                  int64_t *a, int64_t *b, terracl_error *err)
{
    int64_t v[3];
    size_t n = 0;
    int present = 0;
    terracl_status st = terracl_args_int_list(args, key, v, 3, &n, &present, err);
    if (st != TERRACL_OK)
        return st;
    if (!present || n == 0) {
        *a = *b = def;
    } else if (n == 1) {
        *a = *b = v[0];
    } else if (n == 2) {
        *a = v[0];
        *b = v[1];
    } else {
        return tc_fail(err, TERRACL_ERR_CONFIG, "%s: expected an int or [h, w], got %zu values", key,
                       n);
    }
    return TERRACL_OK;
}

static terracl_status read_patch(const terracl_value *args, int64_t def, int64_t patch[3],
                                 terracl_error *err)
{
    int64_t v[3];
    size_t n = 0;
    int present = 0;
    terracl_status st = terracl_args_int_list(args, "patch_size", v, 3, &n, &present, err);
    if (st != TERRACL_OK)
        return st;
    if (!present || n == 0) {
        patch[0] = 1;
        patch[1] = patch[2] = def;
    } else if (n == 1) { /* an int p means (1, p, p) */
        patch[0] = 1;
        patch[1] = patch[2] = v[0];
    } else if (n == 3) {
        memcpy(patch, v, sizeof v);
    } else {
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "patch_size: expected an int or [t, h, w], got %zu values", n);
    }
    return TERRACL_OK;
}

static terracl_status read_coords(const terracl_value *args, int def, int *time_enc, int *loc_enc,
                                  terracl_error *err)
{
    const terracl_value *v = terracl_value_map_get(args, "coords_encoding");
    *time_enc = *loc_enc = def;
    if (v == NULL || terracl_value_type_of(v) == TERRACL_VALUE_NULL)
        return TERRACL_OK;
    if (terracl_value_type_of(v) != TERRACL_VALUE_LIST)
        return tc_fail(err, TERRACL_ERR_TYPE,
                       "coords_encoding: expected a list such as [time, location], got %s",
                       terracl_value_type_name(terracl_value_type_of(v)));
    *time_enc = *loc_enc = 0;
    for (size_t i = 0; i < terracl_value_list_size(v); i++) {
        const terracl_value *e = terracl_value_list_get(v, i);
        const char *s = terracl_value_type_of(e) == TERRACL_VALUE_STRING ? terracl_value_string(e) : "";
        if (strcmp(s, "time") == 0)
            *time_enc = 1;
        else if (strcmp(s, "location") == 0)
            *loc_enc = 1;
        else
            return tc_fail(err, TERRACL_ERR_CONFIG,
                           "coords_encoding: unknown entry '%s' (expected time or location)", s);
    }
    return TERRACL_OK;
}

static terracl_status add_vec(terracl_module *m, const char *name, int64_t n, size_t *idx,
                              terracl_error *err)
{
    return tc_module_add_param(m, name, 1, &n, idx, err);
}

/* A Linear weight [rows, cols]: only ever tc_op_linear's operand. */
static terracl_status add_mat(terracl_module *m, const char *name, int64_t rows, int64_t cols,
                              size_t *idx, terracl_error *err)
{
    int64_t d[2] = {rows, cols};
    terracl_status st = tc_module_add_param(m, name, 2, d, idx, err);
    if (st == TERRACL_OK)
        tc_module_mark_gemm_weight(m, *idx);
    return st;
}

static terracl_status declare_params(terracl_module *m, struct prithvi *p, terracl_error *err)
{
    terracl_status st;
    int64_t D = p->dim;
    int64_t cls_dims[3] = {1, 1, D};
    if ((st = tc_module_add_param(m, "cls_token", 3, cls_dims, &p->p_cls, err)))
        return st;

    size_t n = (size_t)(p->grid[0] * p->grid[1] * p->grid[2]), count;
    if (tc_mul_overflow(n + 1, (size_t)D, &count) || count > ((size_t)1 << 31))
        return tc_fail(err, TERRACL_ERR_CONFIG, "position table for %zu tokens x %lld is too large",
                       n, (long long)D);
    float *pos = malloc(count * sizeof *pos);
    if (pos == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for the position table");
    tc_pos_embed_3d(D, p->grid[0], p->grid[1], p->grid[2], pos);
    int64_t pos_dims[3] = {1, (int64_t)n + 1, D};
    if ((st = tc_module_add_fixed(m, "pos_embed", 3, pos_dims, pos, &p->p_pos, err)))
        return st;

    int64_t pw_dims[5] = {D, p->in_chans, p->patch[0], p->patch[1], p->patch[2]};
    if ((st = tc_module_add_param(m, "patch_embed.proj.weight", 5, pw_dims, &p->p_patch_w, err)) ||
        (st = add_vec(m, "patch_embed.proj.bias", D, &p->p_patch_b, err)))
        return st;
    /* Only ever the Linear weight of the patch GEMM, through its flattening. */
    tc_module_mark_gemm_weight(m, p->p_patch_w);
    if (p->remap_bands) {
        struct tc_param *pw = tc_module_param(m, p->p_patch_w);
        pw->adapt_ndim = 5;
        memcpy(pw->adapt_dims, pw_dims, sizeof pw_dims);
        pw->adapt_dims[1] = p->pretrained_count;
        pw->adapt = adapt_patch_weight;
        pw->adapt_user = p;
    }

    p->p_time_scale = p->p_loc_scale = (size_t)-1;
    int64_t one = 1;
    if (p->time_enc) {
        if (p->scale_learn)
            st = tc_module_add_param(m, "temporal_embed_enc.scale", 1, &one, &p->p_time_scale, err);
        else {
            float *s = malloc(sizeof *s);
            if (s)
                *s = 1.0f;
            st = s ? tc_module_add_fixed(m, "temporal_embed_enc.scale", 1, &one, s, &p->p_time_scale, err)
                   : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        }
        if (st)
            return st;
    }
    if (p->loc_enc) {
        if (p->scale_learn)
            st = tc_module_add_param(m, "location_embed_enc.scale", 1, &one, &p->p_loc_scale, err);
        else {
            float *s = malloc(sizeof *s);
            if (s)
                *s = 1.0f;
            st = s ? tc_module_add_fixed(m, "location_embed_enc.scale", 1, &one, s, &p->p_loc_scale, err)
                   : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        }
        if (st)
            return st;
    }

    for (int64_t i = 0; i < p->depth; i++) {
        struct block_params *b = &p->blocks[i];
        char name[96];
#define NAME(s) (snprintf(name, sizeof name, "blocks.%lld.%s", (long long)i, s), name)
        if ((st = add_vec(m, NAME("norm1.weight"), D, &b->norm1_w, err)) ||
            (st = add_vec(m, NAME("norm1.bias"), D, &b->norm1_b, err)) ||
            (st = add_mat(m, NAME("attn.qkv.weight"), 3 * D, D, &b->qkv_w, err)) ||
            (st = add_vec(m, NAME("attn.qkv.bias"), 3 * D, &b->qkv_b, err)) ||
            (st = add_mat(m, NAME("attn.proj.weight"), D, D, &b->proj_w, err)) ||
            (st = add_vec(m, NAME("attn.proj.bias"), D, &b->proj_b, err)) ||
            (st = add_vec(m, NAME("norm2.weight"), D, &b->norm2_w, err)) ||
            (st = add_vec(m, NAME("norm2.bias"), D, &b->norm2_b, err)) ||
            (st = add_mat(m, NAME("mlp.fc1.weight"), p->hidden, D, &b->fc1_w, err)) ||
            (st = add_vec(m, NAME("mlp.fc1.bias"), p->hidden, &b->fc1_b, err)) ||
            (st = add_mat(m, NAME("mlp.fc2.weight"), D, p->hidden, &b->fc2_w, err)) ||
            (st = add_vec(m, NAME("mlp.fc2.bias"), D, &b->fc2_b, err)))
            return st;
#undef NAME
    }
    if ((st = add_vec(m, "norm.weight", D, &p->p_norm_w, err)) ||
        (st = add_vec(m, "norm.bias", D, &p->p_norm_b, err)))
        return st;
    return TERRACL_OK;
}

/* The resolved configuration, as `terracl info` prints it. */
static terracl_status record_config(terracl_module *m, const struct prithvi *p, int pretrained,
                                    terracl_error *err)
{
    terracl_value *cfg = terracl_value_new_map();
    if (cfg == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    terracl_status st = TERRACL_OK;
#define SET(key, val)                                                                              \
    do {                                                                                           \
        if (st == TERRACL_OK)                                                                      \
            st = terracl_value_map_set(cfg, key, val, err);                                        \
    } while (0)
    terracl_value *img = terracl_value_new_list();
    if (img) {
        terracl_value_list_append(img, terracl_value_new_int(p->img_h), NULL);
        terracl_value_list_append(img, terracl_value_new_int(p->img_w), NULL);
    }
    SET("img_size", img);
    SET("num_frames", terracl_value_new_int(p->frames));
    SET("in_chans", terracl_value_new_int(p->in_chans));
    terracl_value *patch = terracl_value_new_list();
    for (int i = 0; patch && i < 3; i++)
        terracl_value_list_append(patch, terracl_value_new_int(p->patch[i]), NULL);
    SET("patch_size", patch);
    SET("embed_dim", terracl_value_new_int(p->dim));
    SET("depth", terracl_value_new_int(p->depth));
    SET("num_heads", terracl_value_new_int(p->heads));
    SET("mlp_ratio", terracl_value_new_float((double)p->hidden / (double)p->dim));
    terracl_value *coords = terracl_value_new_list();
    if (coords && p->time_enc)
        terracl_value_list_append(coords, terracl_value_new_string("time"), NULL);
    if (coords && p->loc_enc)
        terracl_value_list_append(coords, terracl_value_new_string("location"), NULL);
    SET("coords_encoding", coords);
    SET("coords_scale_learn", terracl_value_new_bool(p->scale_learn));
    terracl_value *outs = terracl_value_new_list();
    for (size_t i = 0; outs && i < p->n_out; i++)
        terracl_value_list_append(outs, terracl_value_new_int(p->out_indices[i]), NULL);
    SET("out_indices", outs);
    SET("pretrained", terracl_value_new_bool(pretrained));
    SET("ckpt_path", p->ckpt_path ? terracl_value_new_string(p->ckpt_path) : terracl_value_new_null());
#undef SET
    if (st != TERRACL_OK) {
        terracl_value_free(cfg);
        return st;
    }
    tc_module_set_config(m, cfg);
    return TERRACL_OK;
}

static terracl_status build_variant(const struct variant *v, const terracl_value *args,
                                    terracl_module **out, terracl_error *err)
{
    *out = NULL;
    terracl_value *empty = NULL;
    if (args == NULL) {
        empty = terracl_value_new_map();
        if (empty == NULL)
            return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        args = empty;
    }
    struct prithvi *p = calloc(1, sizeof *p);
    terracl_module *m = NULL;
    terracl_status st = p ? TERRACL_OK : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    int64_t in_chans = 6;
    double mlp_ratio = 4.0;
    int pretrained = 0, vpt = 0, adapter = 0, encoder_only = 1;
    const char *ckpt = NULL;

    if (st == TERRACL_OK)
        st = int_or_pair(args, "img_size", 224, &p->img_h, &p->img_w, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "num_frames", 1, &p->frames, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "embed_dim", v->embed_dim, &p->dim, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "depth", v->depth, &p->depth, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "num_heads", v->heads, &p->heads, err);
    if (st == TERRACL_OK)
        st = terracl_args_float(args, "mlp_ratio", 4.0, &mlp_ratio, err);
    if (st == TERRACL_OK)
        st = read_patch(args, v->patch, p->patch, err);
    if (st == TERRACL_OK)
        st = read_coords(args, v->coords, &p->time_enc, &p->loc_enc, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "coords_scale_learn", v->coords, &p->scale_learn, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "pretrained", 0, &pretrained, err);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "ckpt_path", NULL, &ckpt, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "vpt", 0, &vpt, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "vit_adapter", 0, &adapter, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "encoder_only", 1, &encoder_only, err);
    if (st != TERRACL_OK)
        goto fail;

    /* Input channels: the number of bands (TerraTorch overwrites in_chans
     * with it); in_chans alone is honoured when no bands are given. */
    const terracl_value *bands = terracl_value_map_get(args, "bands");
    if (bands != NULL && terracl_value_type_of(bands) == TERRACL_VALUE_LIST) {
        in_chans = (int64_t)terracl_value_list_size(bands);
    } else if (bands != NULL && terracl_value_type_of(bands) != TERRACL_VALUE_NULL) {
        st = tc_fail(err, TERRACL_ERR_TYPE, "bands: expected a list of band names or indices");
        goto fail;
    } else if ((st = terracl_args_int(args, "in_chans", 6, &in_chans, err))) {
        goto fail;
    }
    p->in_chans = in_chans;

    if (vpt || adapter || !encoder_only) {
        st = tc_fail(err, TERRACL_ERR_UNSUPPORTED, "%s: %s is not supported (terracl runs the plain encoder)",
                     v->name, vpt ? "vpt" : adapter ? "vit_adapter" : "encoder_only=false");
        goto fail;
    }
    if (p->img_h <= 0 || p->img_w <= 0 || p->frames <= 0 || p->dim <= 0 || p->depth <= 0 ||
        p->heads <= 0 || p->in_chans <= 0 || p->patch[0] <= 0 || p->patch[1] <= 0 ||
        p->patch[2] <= 0 || mlp_ratio <= 0) {
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "%s: img_size, num_frames, embed_dim, depth, num_heads, in_chans, patch_size "
                     "and mlp_ratio must be positive",
                     v->name);
        goto fail;
    }
    if (p->dim % p->heads != 0 || p->dim % 16 != 0) {
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "%s: embed_dim %lld must be a multiple of num_heads (%lld) and of 16 (the "
                     "3-D position table)",
                     v->name, (long long)p->dim, (long long)p->heads);
        goto fail;
    }
    if (p->depth > MAX_DEPTH || p->dim > 65536 || p->in_chans > 4096) {
        st = tc_fail(err, TERRACL_ERR_CONFIG, "%s: depth %lld / embed_dim %lld / in_chans %lld too large",
                     v->name, (long long)p->depth, (long long)p->dim, (long long)p->in_chans);
        goto fail;
    }
    if (p->img_h > MAX_IMG_SIZE || p->img_w > MAX_IMG_SIZE || p->frames > MAX_FRAMES ||
        p->patch[0] > MAX_FRAMES || p->patch[1] > MAX_IMG_SIZE || p->patch[2] > MAX_IMG_SIZE) {
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "%s: img_size [%lld, %lld] / num_frames %lld / patch_size [%lld, %lld, %lld] "
                     "out of range (img_size and spatial patch sizes at most %d, num_frames and "
                     "the tubelet size at most %d)",
                     v->name, (long long)p->img_h, (long long)p->img_w, (long long)p->frames,
                     (long long)p->patch[0], (long long)p->patch[1], (long long)p->patch[2],
                     MAX_IMG_SIZE, MAX_FRAMES);
        goto fail;
    }
    if (!isfinite(mlp_ratio) || mlp_ratio * (double)p->dim > (double)MAX_HIDDEN ||
        mlp_ratio * (double)p->dim < 1.0) {
        st = tc_fail(err, TERRACL_ERR_CONFIG, "%s: mlp_ratio %g gives an MLP width outside 1..%lld",
                     v->name, mlp_ratio, (long long)MAX_HIDDEN);
        goto fail;
    }
    if (p->time_enc && p->patch[0] != 1) {
        st = tc_fail(err, TERRACL_ERR_CONFIG, "%s: the temporal encoding needs a tubelet size of 1",
                     v->name);
        goto fail;
    }
    p->hidden = (int64_t)((double)p->dim * mlp_ratio);
    p->grid[0] = p->frames / p->patch[0];
    p->grid[1] = p->img_h / p->patch[1];
    p->grid[2] = p->img_w / p->patch[2];
    if (p->grid[0] < 1 || p->grid[1] < 1 || p->grid[2] < 1) {
        st = tc_fail(err, TERRACL_ERR_CONFIG, "%s: patch size is bigger than the input size", v->name);
        goto fail;
    }
    size_t tokens;
    if (!tc_shape_count(p->grid, 3, &tokens) || tokens > (size_t)MAX_TOKENS) {
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "%s: a token grid of %lld x %lld x %lld is more than %lld tokens", v->name,
                     (long long)p->grid[0], (long long)p->grid[1], (long long)p->grid[2],
                     (long long)MAX_TOKENS);
        goto fail;
    }

    /* out_indices: default every block; negative indices count from the end. */
    int64_t idx[MAX_DEPTH];
    size_t n_idx = 0;
    int present = 0;
    if ((st = terracl_args_int_list(args, "out_indices", idx, MAX_DEPTH, &n_idx, &present, err)))
        goto fail;
    if (!present) {
        for (int64_t i = 0; i < p->depth; i++)
            p->out_indices[i] = i;
        p->n_out = (size_t)p->depth;
    } else {
        for (size_t i = 0; i < n_idx; i++) {
            int64_t k = idx[i] < 0 ? idx[i] + p->depth : idx[i];
            if (k < 0 || k >= p->depth) {
                st = tc_fail(err, TERRACL_ERR_CONFIG, "%s: out_indices entry %lld outside 0..%lld",
                             v->name, (long long)idx[i], (long long)(p->depth - 1));
                goto fail;
            }
            p->out_indices[i] = k;
        }
        p->n_out = n_idx;
    }

    if (pretrained && ckpt == NULL) {
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "%s: pretrained=True needs ckpt_path: terracl never downloads weights. "
                     "Download %s's published .pt file, convert it with `python3 "
                     "tools/convert_checkpoint.py IN.pt OUT.h5`, and pass ckpt_path=OUT.h5",
                     v->name, v->name);
        goto fail;
    }
    if (pretrained && ckpt != NULL) {
        if (p->in_chans > MAX_BANDS) {
            st = tc_fail(err, TERRACL_ERR_CONFIG, "%s: at most %d bands", v->name, MAX_BANDS);
            goto fail;
        }
        if ((st = plan_band_columns(p, args, err)))
            goto fail;
        p->ckpt_path = strdup(ckpt);
        if (p->ckpt_path == NULL) {
            st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
            goto fail;
        }
    }
    /* TerraTorch ignores ckpt_path when pretrained is false; so do we. */

    st = tc_module_create("PrithviViT", &k_prithvi_vt, p, &m, err);
    p = NULL; /* owned by m (or freed) from here */
    if (st == TERRACL_OK)
        st = declare_params(m, m->impl, err);
    if (st == TERRACL_OK)
        st = record_config(m, m->impl, pretrained, err);
    if (st == TERRACL_OK) {
        const struct prithvi *pp = m->impl;
        int64_t ch[MAX_DEPTH];
        /* TerraTorch reports depth entries of D*Teff whatever out_indices is. */
        for (int64_t i = 0; i < pp->depth; i++)
            ch[i] = pp->dim * pp->grid[0];
        st = tc_module_set_out_channels(m, ch, (size_t)pp->depth, err);
    }
    if (st != TERRACL_OK)
        goto fail;
    terracl_value_free(empty);
    *out = m;
    return TERRACL_OK;

fail:
    if (p)
        prithvi_free(p);
    terracl_module_destroy(m);
    terracl_value_free(empty);
    return tc_fail_context(err, st, "%s", v->name);
}

#define PRITHVI_CTOR(fn, index)                                                                    \
    terracl_status fn(const terracl_value *first, const terracl_value *args, void *user,          \
                      terracl_module **out, terracl_error *err)                                    \
    {                                                                                              \
        (void)first;                                                                               \
        (void)user;                                                                                \
        return build_variant(&k_variants[index], args, out, err);                                  \
    }
PRITHVI_CTOR(tc_prithvi_eo_tiny, 0)
PRITHVI_CTOR(tc_prithvi_eo_v1_100, 1)
PRITHVI_CTOR(tc_prithvi_eo_v2_tiny_tl, 2)
PRITHVI_CTOR(tc_prithvi_eo_v2_100_tl, 3)
PRITHVI_CTOR(tc_prithvi_eo_v2_300, 4)
PRITHVI_CTOR(tc_prithvi_eo_v2_300_tl, 5)
PRITHVI_CTOR(tc_prithvi_eo_v2_600, 6)
PRITHVI_CTOR(tc_prithvi_eo_v2_600_tl, 7)

/* ---- forward ----------------------------------------------------------- */

static struct tc_tensor *param(terracl_module *m, size_t i) { return &m->params[i].value; }

/* Position rows for the input's token grid, on the host: the construction
 * table, recomputed for another frame count, and bicubic-resized for
 * another spatial grid (TerraTorch's _interpolate_pos_encoding). */
static terracl_status pos_table(const struct prithvi *p, const float *built, int64_t tg,
                                int64_t hg, int64_t wg, float **out, terracl_error *err)
{
    size_t D = (size_t)p->dim;
    size_t base_rows = (size_t)(tg * p->grid[1] * p->grid[2]) + 1;
    size_t rows = (size_t)(tg * hg * wg) + 1;
    float *base = malloc(base_rows * D * sizeof *base);
    float *res = malloc(rows * D * sizeof *res);
    if (base == NULL || res == NULL) {
        free(base);
        free(res);
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for the position table");
    }
    if (tg == p->grid[0])
        memcpy(base, built, base_rows * D * sizeof *base);
    else
        tc_pos_embed_3d(p->dim, tg, p->grid[1], p->grid[2], base);
    if (hg == p->grid[1] && wg == p->grid[2])
        memcpy(res, base, rows * D * sizeof *res);
    else
        tc_pos_embed_resize(base, p->dim, tg, p->grid[1], p->grid[2], hg, wg, res);
    free(base);
    *out = res;
    return TERRACL_OK;
}

static terracl_status read_scalar(terracl_runtime *rt, const struct tc_tensor *t, float *v,
                                  terracl_error *err)
{
    return tc_buf_read(rt, t->buf, t->offset * sizeof(float), v, sizeof *v, err);
}

/* The coordinate encodings for every patch token, [B, N, D] on the host, or
 * NULL when none applies. */
static terracl_status coord_table(terracl_module *m, struct tc_exec *ex, int64_t B, int64_t tg,
                                  int64_t per_frame, float **out, terracl_error *err)
{
    struct prithvi *p = m->impl;
    int use_time = p->time_enc && ex->temporal_coords != NULL;
    int use_loc = p->loc_enc && ex->location_coords != NULL;
    *out = NULL;
    if (!use_time && !use_loc)
        return TERRACL_OK;
    if (ex->batch != B)
        return tc_fail(err, TERRACL_ERR_SHAPE, "coordinates are given for batch %lld, input has %lld",
                       (long long)ex->batch, (long long)B);
    int64_t D = p->dim, N = tg * per_frame;
    /* TerraTorch repeats each frame's encoding N / num_frames times. */
    int64_t tokens_per_frame = N / p->frames;
    if (use_time && ex->temporal_frames * tokens_per_frame != N)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "temporal_coords has %lld frames; the model (num_frames %lld) needs %lld",
                       (long long)ex->temporal_frames, (long long)p->frames,
                       (long long)(N / (tokens_per_frame ? tokens_per_frame : 1)));
    float *tab = calloc((size_t)(B * N * D), sizeof *tab);
    float *row = malloc((size_t)D * sizeof *row);
    if (tab == NULL || row == NULL) {
        free(tab);
        free(row);
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for coordinate encodings");
    }
    float tscale = 1.0f, lscale = 1.0f;
    terracl_status st = TERRACL_OK;
    if (use_time)
        st = read_scalar(ex->rt, param(m, p->p_time_scale), &tscale, err);
    if (st == TERRACL_OK && use_loc)
        st = read_scalar(ex->rt, param(m, p->p_loc_scale), &lscale, err);
    int64_t half = D / 2;
    for (int64_t b = 0; st == TERRACL_OK && b < B; b++) {
        if (use_time) {
            for (int64_t t = 0; t < ex->temporal_frames; t++) {
                const float *c = ex->temporal_coords + (b * ex->temporal_frames + t) * 2;
                tc_sincos_1d_f32(half, c[0], row);
                tc_sincos_1d_f32(D - half, c[1], row + half);
                for (int64_t n = t * tokens_per_frame; n < (t + 1) * tokens_per_frame; n++)
                    for (int64_t d = 0; d < D; d++)
                        tab[(b * N + n) * D + d] = tscale * row[d];
            }
        }
        if (use_loc) {
            const float *c = ex->location_coords + b * 2;
            tc_sincos_1d_f32(half, c[0], row);
            tc_sincos_1d_f32(D - half, c[1], row + half);
            for (int64_t n = 0; n < N; n++)
                for (int64_t d = 0; d < D; d++)
                    tab[(b * N + n) * D + d] += lscale * row[d];
        }
    }
    free(row);
    if (st != TERRACL_OK) {
        free(tab);
        return st;
    }
    *out = tab;
    return TERRACL_OK;
}

static terracl_status upload_new(terracl_runtime *rt, const float *host, int ndim,
                                 const int64_t *dims, struct tc_tensor *t, terracl_error *err)
{
    terracl_status st = tc_tensor_alloc(rt, ndim, dims, t, err);
    if (st == TERRACL_OK)
        st = tc_tensor_upload(rt, t, host, err);
    return st;
}

/* Scratch tensors of one forward pass. */
struct vit_scratch {
    struct tc_tensor x, h, qkv, attn, hidden, scores, tmp;
};

static void scratch_free(struct vit_scratch *s)
{
    tc_tensor_free(&s->x);
    tc_tensor_free(&s->h);
    tc_tensor_free(&s->qkv);
    tc_tensor_free(&s->attn);
    tc_tensor_free(&s->hidden);
    tc_tensor_free(&s->scores);
    tc_tensor_free(&s->tmp);
}

static terracl_status run_block(terracl_module *m, terracl_runtime *rt, const struct block_params *bp,
                                struct vit_scratch *s, terracl_error *err)
{
    struct prithvi *p = m->impl;
    const struct tc_vit_attention_weights aw = {param(m, bp->norm1_w), param(m, bp->norm1_b),
                                                 param(m, bp->qkv_w), param(m, bp->qkv_b),
                                                 param(m, bp->proj_w), param(m, bp->proj_b)};
    terracl_status st;
    /* The residual adds, biases and GELU ride inside the GEMMs (or follow
     * them as one element-wise pass where the GEMM cannot take them). */
    if ((st = tc_vit_attention_residual(rt, &aw, p->heads, LN_EPS, &s->x, &s->h, &s->qkv,
                                        &s->scores, &s->attn, err)) ||
        (st = tc_op_layernorm(rt, &s->x, param(m, bp->norm2_w), param(m, bp->norm2_b), LN_EPS, &s->h, err)) ||
        (st = tc_op_linear_ex(rt, &s->h, param(m, bp->fc1_w), param(m, bp->fc1_b), 1, 0, &s->hidden, err)) ||
        (st = tc_op_linear_ex(rt, &s->hidden, param(m, bp->fc2_w), param(m, bp->fc2_b), 0, 1, &s->x, err)))
        return st;
    return TERRACL_OK;
}

static terracl_status prithvi_forward(terracl_module *m, struct tc_exec *ex,
                                      const struct tc_feats *in, struct tc_feats *out,
                                      terracl_error *err)
{
    struct prithvi *p = m->impl;
    terracl_runtime *rt = ex->rt;
    char s1[128];
    if (in->n < 1)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "PrithviViT needs an input tensor");
    struct tc_tensor x5 = in->t[0];
    x5.owns_buf = 0;
    if (x5.ndim == 4 && p->frames == 1) { /* [B, C, H, W] gets T = 1 */
        int64_t d[5] = {x5.dims[0], x5.dims[1], 1, x5.dims[2], x5.dims[3]};
        x5.ndim = 5;
        memcpy(x5.dims, d, sizeof d);
    }
    if (x5.ndim != 5)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "input %s: expected [B, C, T, H, W]%s", tc_shape_str(in->t[0].ndim, in->t[0].dims, s1, sizeof s1),
                       p->frames == 1 ? " or [B, C, H, W]" : "");
    int64_t B = x5.dims[0], C = x5.dims[1], T = x5.dims[2], H = x5.dims[3], W = x5.dims[4];
    if (C != p->in_chans)
        return tc_fail(err, TERRACL_ERR_SHAPE, "input %s has %lld channels; the model expects %lld",
                       tc_shape_str(x5.ndim, x5.dims, s1, sizeof s1), (long long)C,
                       (long long)p->in_chans);
    int64_t tg = T / p->patch[0], hg = H / p->patch[1], wg = W / p->patch[2];
    if (tg < 1 || hg < 1 || wg < 1)
        return tc_fail(err, TERRACL_ERR_SHAPE, "input %s is smaller than one %lldx%lldx%lld patch",
                       tc_shape_str(x5.ndim, x5.dims, s1, sizeof s1), (long long)p->patch[0],
                       (long long)p->patch[1], (long long)p->patch[2]);
    int64_t N = tg * hg * wg, L = N + 1, D = p->dim, K = C * p->patch[0] * p->patch[1] * p->patch[2];
    if (p->time_enc && ex->temporal_coords != NULL && T != p->frames)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "input has %lld frames but the model was built for num_frames=%lld",
                       (long long)T, (long long)p->frames);

    struct vit_scratch s;
    memset(&s, 0, sizeof s);
    float *pos = NULL, *coords = NULL;
    terracl_status st;
    int64_t patches_dims[2] = {B * N, K}, tok_dims[2] = {B * N, D};
    int64_t x_dims[3] = {B, L, D}, qkv_dims[3] = {B, L, 3 * D}, hid_dims[3] = {B, L, p->hidden};
    int64_t sc_dims[1] = {
        (int64_t)tc_attention_scratch(rt, (size_t)L, (size_t)D, (size_t)p->heads)};
    struct tc_tensor patches = {0}, tokens = {0}, posd = {0}, coordd = {0};

    if ((st = tc_tensor_alloc(rt, 2, patches_dims, &patches, err)) ||
        (st = tc_op_patchify(rt, &x5, p->patch[0], p->patch[1], p->patch[2], &patches, err)) ||
        (st = tc_tensor_alloc(rt, 2, tok_dims, &tokens, err)))
        goto out;
    /* The Conv3d weight [D, C, pt, ph, pw] as the Linear weight [D, K]: a view
     * made by hand, because a weight packed for the GEMM (see declare_params)
     * refuses general reshapes but is packed exactly as this flattening. */
    struct tc_tensor wflat = *param(m, p->p_patch_w);
    wflat.owns_buf = 0;
    wflat.ndim = 2;
    wflat.dims[0] = D;
    wflat.dims[1] = K;
    if (tc_tensor_numel(&wflat) != tc_tensor_numel(param(m, p->p_patch_w))) {
        st = tc_fail(err, TERRACL_ERR_SHAPE, "patch embedding weight does not hold %lld x %lld",
                     (long long)D, (long long)K);
        goto out;
    }
    if ((st = tc_op_linear(rt, &patches, &wflat, param(m, p->p_patch_b), &tokens, err)))
        goto out;
    tc_tensor_free(&patches);

    /* Position rows 1..N (row 0, the CLS row, is zero in every table). */
    if ((st = pos_table(p, m->params[p->p_pos].host, tg, hg, wg, &pos, err)))
        goto out;
    int64_t pos_dims[2] = {N, D};
    if ((st = upload_new(rt, pos + D, 2, pos_dims, &posd, err)) ||
        (st = tc_op_add(rt, &tokens, &posd, &tokens, err)))
        goto out;
    if ((st = coord_table(m, ex, B, tg, hg * wg, &coords, err)))
        goto out;
    if (coords != NULL) {
        int64_t cd[3] = {B, N, D};
        if ((st = upload_new(rt, coords, 3, cd, &coordd, err)) ||
            (st = tc_op_add(rt, &tokens, &coordd, &tokens, err)))
            goto out;
    }

    /* x = [cls | tokens] per batch item (a zero leading dimension repeats
     * the CLS row). */
    const struct tc_tensor *cls = param(m, p->p_cls);
    if ((st = tc_tensor_alloc(rt, 3, x_dims, &s.x, err)) ||
        (st = tc_op_copy2d(rt, cls->buf, cls->offset, 0, s.x.buf, 0, (size_t)(L * D), (size_t)B,
                           (size_t)D, err)) ||
        (st = tc_op_copy2d(rt, tokens.buf, 0, (size_t)(N * D), s.x.buf, (size_t)D,
                           (size_t)(L * D), (size_t)B, (size_t)(N * D), err)))
        goto out;
    tc_tensor_free(&tokens);

    if ((st = tc_tensor_alloc(rt, 3, x_dims, &s.h, err)) ||
        (st = tc_tensor_alloc(rt, 3, qkv_dims, &s.qkv, err)) ||
        (st = tc_tensor_alloc(rt, 3, x_dims, &s.attn, err)) ||
        (st = tc_tensor_alloc(rt, 3, hid_dims, &s.hidden, err)) ||
        (st = tc_tensor_alloc(rt, 1, sc_dims, &s.scores, err)))
        goto out;

    for (int64_t i = 0; i < p->depth; i++) {
        if ((st = run_block(m, rt, &p->blocks[i], &s, err))) {
            tc_fail_context(err, st, "block %lld", (long long)i);
            goto out;
        }
        int is_last = i == p->depth - 1;
        /* With final_feature_only, only the last requested output is kept
         * (a backbone run on its own hands out nothing else). */
        size_t first_k = ex->final_feature_only ? p->n_out - 1 : 0;
        for (size_t k = first_k; k < p->n_out; k++) {
            if (p->out_indices[k] != i)
                continue;
            struct tc_tensor *o = &out->t[k - first_k];
            if ((st = tc_tensor_alloc(rt, 3, x_dims, o, err)))
                goto out;
            if (is_last)
                st = tc_op_layernorm(rt, &s.x, param(m, p->p_norm_w), param(m, p->p_norm_b), LN_EPS, o, err);
            else
                st = tc_buf_copy(rt, s.x.buf, 0, o->buf, 0, tc_tensor_numel(&s.x) * sizeof(float), err);
            if (st)
                goto out;
        }
    }
    out->n = ex->final_feature_only ? 1 : p->n_out;

out:
    if (st != TERRACL_OK) {
        /* Outputs allocated so far are released by the caller's
         * tc_feats_free through tc_module_forward. */
        out->n = ex->final_feature_only ? 1 : p->n_out;
    }
    tc_tensor_free(&patches);
    tc_tensor_free(&tokens);
    tc_tensor_free(&posd);
    tc_tensor_free(&coordd);
    scratch_free(&s);
    free(pos);
    free(coords);
    return st;
}

terracl_status tc_prithvi_tokens_to_image(terracl_runtime *rt, const struct tc_tensor *tokens,
                                          int64_t effective_time, int64_t h_given,
                                          struct tc_tensor *out, terracl_error *err)
{
    char s1[128];
    if (tokens->ndim != 3 || effective_time <= 0)
        return tc_fail(err, TERRACL_ERR_SHAPE, "tokens %s: expected [B, 1+N, D]",
                       tc_shape_str(tokens->ndim, tokens->dims, s1, sizeof s1));
    int64_t B = tokens->dims[0], N = tokens->dims[1] - 1, D = tokens->dims[2];
    int64_t per_t = N / effective_time;
    int64_t h = h_given > 0 ? h_given : (int64_t)floor(sqrt((double)per_t));
    if (N <= 0 || N % effective_time != 0 || h <= 0 || per_t % h != 0)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "cannot arrange %lld tokens as %lld frame(s) of h=%lld rows", (long long)N,
                       (long long)effective_time, (long long)h);
    int64_t w = per_t / h;
    /* [B, 1+N, D] -> view rows 1.. as [B, T, h, w, D] -> permute to [B, T, D, h, w]. */
    struct tc_tensor src = *tokens;
    src.owns_buf = 0;
    src.ndim = 5;
    int64_t sd[5] = {B, effective_time, h, w, D};
    memcpy(src.dims, sd, sizeof sd);
    int64_t od[4] = {B, effective_time * D, h, w};
    terracl_status st = tc_tensor_alloc(rt, 4, od, out, err);
    if (st != TERRACL_OK)
        return st;
    /* Each batch item skips its CLS row, so permute per item. */
    int64_t one[5] = {1, effective_time, h, w, D};
    int64_t od5[5] = {1, effective_time, D, h, w};
    const int perm[5] = {0, 1, 4, 2, 3};
    for (int64_t b = 0; b < B; b++) {
        struct tc_tensor si = src, oi = *out;
        si.offset = tokens->offset + (size_t)(b * (N + 1) * D + D);
        memcpy(si.dims, one, sizeof one);
        oi.owns_buf = 0;
        oi.ndim = 5;
        oi.offset = out->offset + (size_t)(b * N * D);
        memcpy(oi.dims, od5, sizeof od5);
        st = tc_op_permute(rt, &si, perm, &oi, err);
        if (st != TERRACL_OK) {
            tc_tensor_free(out);
            return st;
        }
    }
    return TERRACL_OK;
}

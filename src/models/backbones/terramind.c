/*
 * TerraMind v1 encoders (TerraTorch's TerraMindViT) with raw image
 * modalities.
 *
 * Forward, as TerraMindViT.forward:
 *   per modality given: patches = [B*N, ph*pw*C]  (pixel-major, channel-minor:
 *                                      the embedding is an nn.Linear over
 *                                      rearranged patches, not a Conv2d)
 *     tokens  = patches W^T           [B*N, D]   (no bias)
 *     tokens += pos_emb (bicubic-resized, align_corners=False, when the grid
 *               differs from the one built for img_size) + mod_emb
 *   x = the modalities' tokens concatenated along the sequence [B, Mg*N, D]
 *   per block: x += proj(attn(LN1 x)); x += mlp(LN2 x)
 *     mlp: fc2(gelu(fc1 h)) (tiny, small) or fc2(silu(fc1 h) * fc3 h) (base,
 *     large: SwiGLU, no biases anywhere)
 *   outputs: x after every block, the last one after encoder_norm, each
 *   merged over the modalities (see merge_output). There is no CLS token.
 *
 * The modalities run in the model's order (the config's `modalities`
 * list), which is the order of TerraTorch's input dict when a datamodule
 * builds it from that list; only concat depends on the order.
 */
#include "models/backbones/terramind.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "graph/exec.h"
#include "graph/mem_estimate.h"
#include "models/backbones/vit_attention.h"
#include "io/yaml_config.h"
#include "ops/attention.h"
#include "ops/elementwise.h"
#include "ops/layout.h"
#include "ops/linear.h"
#include "ops/norm.h"
#include "ops/patch.h"
#include "ops/reduce.h"

#define MAX_DEPTH 64
/* Bounds on what a config may ask for, far above every published model, so
 * that no product of them overflows before it is checked. */
#define MAX_IMG_SIZE 65536
#define MAX_DIM 65536
#define MAX_CHANNELS 1024
#define LN_EPS 1e-6f

struct variant {
    const char *name;
    int64_t dim, depth, heads;
    int biases; /* qkv, proj and mlp biases; GELU MLP. 0: none, SwiGLU MLP. */
    int v01;    /* TerraMind 0.1: only S2L2A has pretrained band names */
};

static const struct variant k_variants[] = {
    {"terramind_v1_tiny", 192, 12, 3, 1, 0},
    {"terramind_v1_small", 384, 12, 6, 1, 0},
    {"terramind_v1_base", 768, 12, 12, 0, 0},
    {"terramind_v1_large", 1024, 24, 16, 0, 0},
    {"terramind_v01_base", 768, 12, 12, 0, 1},
};

/* TerraTorch's raw (untokenized) image modalities: the key of their layers,
 * and their channel count. */
struct modality {
    const char *key;
    int64_t channels;
};

static const struct modality k_modalities[] = {
    {"untok_sen2l2a@224", 12}, {"untok_sen2l1c@224", 13}, {"untok_sen2rgb@224", 3},
    {"untok_sen1grd@224", 2},  {"untok_sen1rtc@224", 2},  {"untok_dem@224", 1},
};

/* The pretrained band order of each modality above (TerraTorch's
 * PRETRAINED_BANDS): a ckpt_path's patch embedding has one column group per
 * band in this order, and `bands` picks from it by name. */
static const char *const k_pretrained_bands[][14] = {
    {"COASTAL_AEROSOL", "BLUE", "GREEN", "RED", "RED_EDGE_1", "RED_EDGE_2", "RED_EDGE_3",
     "NIR_BROAD", "NIR_NARROW", "WATER_VAPOR", "SWIR_1", "SWIR_2", NULL},
    {"COASTAL_AEROSOL", "BLUE", "GREEN", "RED", "RED_EDGE_1", "RED_EDGE_2", "RED_EDGE_3",
     "NIR_BROAD", "NIR_NARROW", "WATER_VAPOR", "CIRRUS", "SWIR_1", "SWIR_2", NULL},
    {"RED", "GREEN", "BLUE", NULL},
    {"VV", "VH", NULL},
    {"VV", "VH", NULL},
    {"DEM", NULL},
};

struct block_params {
    size_t norm1_w, norm1_b, qkv_w, qkv_b, proj_w, proj_b;
    size_t norm2_w, norm2_b, fc1_w, fc1_b, fc2_w, fc2_b, fc3_w, fc3_b;
};

/* One input modality: its layer key, the name the config gave it (which is
 * also the name of its input), and its patch embedding. */
struct tm_modality {
    char key[64];  /* untok_sen2l2a@224, or the name of a new modality */
    char name[64]; /* S2L2A, ... as written in `modalities` */
    int64_t chans, patch, grid;
    size_t p_proj, p_pos, p_mod;
    /* `bands` with a ckpt_path: the checkpoint's channel count and the
     * pretrained column of each model channel; band_missing names a band
     * the checkpoint has no weights for. */
    int remap;
    int64_t ckpt_chans;
    int band_column[MAX_CHANNELS];
    char band_missing[64];
};

enum tm_merge { MERGE_NONE, MERGE_MEAN, MERGE_MAX, MERGE_CONCAT, MERGE_DICT };

struct terramind {
    int64_t img, dim, depth, heads, hidden;
    int biases;
    enum tm_merge merge;
    size_t nmods;
    struct tm_modality mods[TC_TERRAMIND_MAX_MODALITIES];
    size_t p_norm_w, p_norm_b, p_missing;
    char *ckpt_path; /* TerraTorch's ckpt_path (loaded by the model's binder) */
    struct block_params blocks[MAX_DEPTH];
};

static void terramind_free(void *impl)
{
    struct terramind *p = impl;
    if (p != NULL)
        free(p->ckpt_path);
    free(impl);
}

static terracl_status terramind_forward(terracl_module *m, struct tc_exec *ex,
                                        const struct tc_feats *in, struct tc_feats *out,
                                        terracl_error *err);

static const struct tc_module_vtable k_terramind_vt = {terramind_forward, terramind_free};

int tc_terramind_is(const terracl_module *m) { return m && m->vt == &k_terramind_vt; }
int64_t tc_terramind_patch_size(const terracl_module *m)
{
    return ((const struct terramind *)m->impl)->mods[0].patch;
}
size_t tc_terramind_modality_count(const terracl_module *m)
{
    return ((const struct terramind *)m->impl)->nmods;
}
const char *tc_terramind_modality_name(const terracl_module *m, size_t i)
{
    const struct terramind *p = m->impl;
    return i < p->nmods ? p->mods[i].name : NULL;
}
int64_t tc_terramind_modality_channels(const terracl_module *m, size_t i)
{
    const struct terramind *p = m->impl;
    return i < p->nmods ? p->mods[i].chans : 0;
}
const char *tc_terramind_ckpt_path(const terracl_module *m)
{
    return ((const struct terramind *)m->impl)->ckpt_path;
}
int tc_terramind_merges_to_dict(const terracl_module *m)
{
    return ((const struct terramind *)m->impl)->merge == MERGE_DICT;
}

void tc_terramind_estimate(const terracl_module *m, int ndim, const int64_t *dims,
                           uint64_t (*attn_scratch)(const void *ctx, uint64_t len, uint64_t dim,
                                                    uint64_t heads),
                           const void *ctx, int final_only, struct tc_mem_estimate *e)
{
    const struct terramind *p = m->impl;
    if (ndim != 4)
        return;
    int64_t P = p->mods[0].patch;
    int64_t B = dims[0], C = dims[1], hg = dims[2] / P, wg = dims[3] / P;
    if (B < 1 || C < 1 || hg < 1 || wg < 1)
        return;
    /* Dimensions are at most 2^31 each (checked by the caller); products
     * saturate. Every modality of the model is counted: the sequence the
     * blocks see is one grid of tokens per modality given. */
    uint64_t N = tc_mem_sat_mul((uint64_t)hg, (uint64_t)wg), D = (uint64_t)p->dim;
    uint64_t L = tc_mem_sat_mul(N, (uint64_t)p->nmods);
    int64_t Li = L > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)L;
    int64_t Ni = N > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)N;
    uint64_t bn = tc_mem_sat_mul((uint64_t)B, N);
    int64_t BN = bn > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)bn;
    int64_t K = C * P * P;
    int64_t patches[2] = {BN, K}, x[3] = {B, Li, (int64_t)D}, qkv[3] = {B, Li, 3 * (int64_t)D},
            hidden[3] = {B, Li, p->hidden};
    uint64_t sc = attn_scratch(ctx, L, D, (uint64_t)p->heads);
    int64_t scores[1] = {sc > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)sc};
    tc_mem_add_device(e, "channel-last input", 4, dims, 1);
    tc_mem_add_device(e, "patches", 2, patches, 1);
    tc_mem_add_device(e, "block activations x", 3, x, 2); /* x and its LayerNorm */
    tc_mem_add_device(e, "qkv", 3, qkv, 1);
    tc_mem_add_device(e, "attention scratch", 1, scores, 1);
    tc_mem_add_device(e, "attention output", 3, x, 1);
    tc_mem_add_device(e, "MLP hidden", 3, hidden, 1);
    tc_mem_add_device(e, "block outputs", 3, x, final_only ? 1 : (uint64_t)p->depth);
    /* Host: the position table at the construction grid and resized. */
    int64_t pos[2] = {p->mods[0].grid * p->mods[0].grid + Ni, (int64_t)D};
    tc_mem_add_host(e, 2, pos, 1);
}

/* TerraTorch's naming conventions for the pretrained modalities (S2L2A,
 * sen2l2a, untok_sen2l2a@224, S1 -> S1GRD, RGB, DEM, ...). Returns the
 * entry or NULL. */
static const struct modality *find_modality(const char *name)
{
    char low[64];
    size_t n = strlen(name);
    if (n >= sizeof low)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] - 'A' + 'a' : name[i]);
    for (size_t i = 0; i < sizeof k_modalities / sizeof k_modalities[0]; i++)
        if (strcmp(name, k_modalities[i].key) == 0)
            return &k_modalities[i];
    /* The substring tests run in TerraTorch's order on the lower-cased name
     * with s2 -> sen2 and s1 -> sen1. */
    struct {
        const char *a, *b;
        size_t idx;
    } const rules[] = {{"sen2l2a", "s2l2a", 0}, {"sen2l1c", "s2l1c", 1}, {"sen1rtc", "s1rtc", 4},
                       {"sen1", "s1", 3},       {"rgb", "rgb", 2},       {"dem", "dem", 5}};
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++)
        if (strstr(low, rules[r].a) || strstr(low, rules[r].b))
            return &k_modalities[rules[r].idx];
    return NULL;
}

/* The tokenized and sequence modalities TerraTorch knows by name: they need
 * TerraMind's tokenizers, which terracl does not run. */
static int is_tokenized_name(const char *name)
{
    char low[64];
    size_t n = strlen(name);
    if (n >= sizeof low)
        return 0;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] - 'A' + 'a' : name[i]);
    return strncmp(low, "tok_", 4) == 0 || strstr(low, "lulc") || strstr(low, "ndvi") ||
           strstr(low, "caption") || strstr(low, "coord") || strstr(low, "location");
}

static terracl_status add_new_modality(struct terramind *p, const char *model, const char *name,
                                       int64_t chans, int64_t patch, terracl_error *err)
{
    if (p->nmods >= TC_TERRAMIND_MAX_MODALITIES)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "%s: more than %d modalities", model,
                       TC_TERRAMIND_MAX_MODALITIES);
    if (strlen(name) == 0 || strlen(name) >= sizeof p->mods[0].name || strchr(name, '.'))
        return tc_fail(err, TERRACL_ERR_CONFIG, "%s: modality name '%s' is empty, too long or has a dot",
                       model, name);
    if (chans <= 0 || chans > MAX_CHANNELS)
        return tc_fail(err, TERRACL_ERR_CONFIG, "%s: modality '%s': channel count %lld is not in 1..%d",
                       model, name, (long long)chans, MAX_CHANNELS);
    struct tm_modality *md = &p->mods[p->nmods++];
    snprintf(md->key, sizeof md->key, "%s", name);
    snprintf(md->name, sizeof md->name, "%s", name);
    md->chans = chans;
    md->patch = patch;
    return TERRACL_OK;
}

/* One entry of `modalities`: a pretrained modality's name, or {name:
 * channels} for new modalities (TerraTorch then learns a new patch
 * embedding with the given patch_size). */
static terracl_status read_modality_entry(struct terramind *p, const char *model,
                                          const terracl_value *v, int64_t patch, terracl_error *err)
{
    if (terracl_value_type_of(v) == TERRACL_VALUE_MAP) {
        for (size_t i = 0; i < terracl_value_map_size(v); i++) {
            const terracl_value *c = terracl_value_map_at(v, i);
            if (terracl_value_type_of(c) != TERRACL_VALUE_INT)
                return tc_fail(err, TERRACL_ERR_TYPE,
                               "%s: modalities: new modality '%s' needs a channel count",
                               model, terracl_value_map_key(v, i));
            terracl_status st = add_new_modality(p, model, terracl_value_map_key(v, i),
                                                 terracl_value_int(c), patch, err);
            if (st != TERRACL_OK)
                return st;
        }
        return TERRACL_OK;
    }
    if (terracl_value_type_of(v) != TERRACL_VALUE_STRING)
        return tc_fail(err, TERRACL_ERR_TYPE,
                       "%s: modalities: expected names of pretrained modalities (S2L2A, S2L1C, RGB, "
                       "S1GRD, S1RTC, DEM) or {name: channels} maps",
                       model);
    const char *name = terracl_value_string(v);
    const struct modality *mod = is_tokenized_name(name) ? NULL : find_modality(name);
    if (mod == NULL)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "%s: modality '%s' is not one of the raw image modalities terracl runs "
                       "(S2L2A, S2L1C, RGB, S1GRD, S1RTC, DEM); tokenized ones (LULC, NDVI, the "
                       "tok_* keys, captions, coordinates) need TerraMind's tokenizers, which "
                       "terracl does not run",
                       model, name);
    if (p->nmods >= TC_TERRAMIND_MAX_MODALITIES)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "%s: more than %d modalities", model,
                       TC_TERRAMIND_MAX_MODALITIES);
    if (strlen(name) >= sizeof p->mods[0].name)
        return tc_fail(err, TERRACL_ERR_CONFIG, "%s: modality name '%s' is too long", model, name);
    struct tm_modality *md = &p->mods[p->nmods++];
    snprintf(md->key, sizeof md->key, "%s", mod->key);
    snprintf(md->name, sizeof md->name, "%s", name);
    md->chans = mod->channels;
    md->patch = 16; /* the pretrained modalities fix their own patch size */
    return TERRACL_OK;
}

static terracl_status read_modalities(struct terramind *p, const char *model, int v01,
                                      const terracl_value *args, terracl_error *err)
{
    int64_t patch = 16, chans = 3;
    terracl_status st = terracl_args_int(args, "patch_size", 16, &patch, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "in_chans", 3, &chans, err);
    if (st != TERRACL_OK)
        return st;
    if (patch <= 0 || patch > 1024)
        return tc_fail(err, TERRACL_ERR_CONFIG, "%s: patch_size must be in 1..1024", model);
    const terracl_value *mods = terracl_value_map_get(args, "modalities");
    if (mods == NULL || terracl_value_type_of(mods) == TERRACL_VALUE_NULL ||
        (terracl_value_type_of(mods) == TERRACL_VALUE_LIST && terracl_value_list_size(mods) == 0))
        /* TerraTorch's default: a new modality 'image' of in_chans channels
         * with the given patch size (no pretrained weights exist for it). */
        st = add_new_modality(p, model, "image", chans, patch, err);
    else if (terracl_value_type_of(mods) == TERRACL_VALUE_MAP)
        st = read_modality_entry(p, model, mods, patch, err);
    else if (terracl_value_type_of(mods) != TERRACL_VALUE_LIST)
        st = tc_fail(err, TERRACL_ERR_TYPE, "%s: modalities: expected a list of modality names",
                     model);
    else
        for (size_t i = 0; st == TERRACL_OK && i < terracl_value_list_size(mods); i++)
            st = read_modality_entry(p, model, terracl_value_list_get(mods, i), patch, err);
    if (st != TERRACL_OK)
        return st;
    /* Two names for one layer would share its weights in TerraTorch; a
     * config that does this is almost certainly a mistake. */
    for (size_t i = 0; i < p->nmods; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->mods[i].key, p->mods[j].key) == 0 ||
                strcmp(p->mods[i].name, p->mods[j].name) == 0)
                return tc_fail(err, TERRACL_ERR_CONFIG,
                               "%s: modalities '%s' and '%s' are the same modality (%s)", model,
                               p->mods[j].name, p->mods[i].name, p->mods[i].key);
    /* The blocks see one grid of tokens per modality, and the merges stack
     * them: every modality must cut the image into the same patches. */
    for (size_t i = 1; i < p->nmods; i++)
        if (p->mods[i].patch != p->mods[0].patch)
            return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                           "%s: modality '%s' has patch size %lld, '%s' %lld; terracl needs one "
                           "patch size for all modalities",
                           model, p->mods[i].name, (long long)p->mods[i].patch, p->mods[0].name,
                           (long long)p->mods[0].patch);

    /* bands: {modality: [band, ...]} sets that modality's channel count
     * (TerraTorch selects the pretrained columns; new modalities keep
     * theirs). */
    const terracl_value *bands = terracl_value_map_get(args, "bands");
    if (bands == NULL || terracl_value_type_of(bands) == TERRACL_VALUE_NULL)
        return TERRACL_OK;
    if (terracl_value_type_of(bands) != TERRACL_VALUE_MAP)
        return tc_fail(err, TERRACL_ERR_TYPE, "%s: bands: expected a map {modality: [bands]}", model);
    for (size_t i = 0; i < terracl_value_map_size(bands); i++) {
        const char *k = terracl_value_map_key(bands, i);
        const terracl_value *list = terracl_value_map_at(bands, i);
        struct tm_modality *md = NULL;
        for (size_t j = 0; j < p->nmods; j++)
            if (strcmp(p->mods[j].name, k) == 0)
                md = &p->mods[j];
        if (md == NULL)
            return tc_fail(err, TERRACL_ERR_CONFIG, "%s: bands: modality '%s' is not in modalities",
                           model, k);
        if (terracl_value_type_of(list) != TERRACL_VALUE_LIST || terracl_value_list_size(list) == 0)
            return tc_fail(err, TERRACL_ERR_TYPE, "%s: bands.%s: expected a non-empty list", model, k);
        if (terracl_value_list_size(list) > MAX_CHANNELS)
            return tc_fail(err, TERRACL_ERR_CONFIG, "%s: bands.%s: more than %d bands", model, k,
                           MAX_CHANNELS);
        const struct modality *pre = find_modality(md->key);
        if (pre == NULL || strcmp(pre->key, md->key) != 0)
            continue; /* a new modality: TerraTorch keeps its channels */
        size_t kind = (size_t)(pre - k_modalities);
        if (v01 && kind != 0)
            continue; /* TerraMind 0.1 names pretrained bands for S2L2A only */
        md->chans = (int64_t)terracl_value_list_size(list);
        md->remap = 1;
        md->ckpt_chans = pre->channels;
        for (int64_t c = 0; c < md->chans; c++) {
            const terracl_value *b = terracl_value_list_get(list, (size_t)c);
            const char *bn = terracl_value_type_of(b) == TERRACL_VALUE_STRING ? terracl_value_string(b) : NULL;
            md->band_column[c] = -1;
            for (int bi = 0; bn != NULL && k_pretrained_bands[kind][bi] != NULL; bi++)
                if (strcmp(k_pretrained_bands[kind][bi], bn) == 0)
                    md->band_column[c] = bi;
            if (md->band_column[c] < 0 && md->band_missing[0] == '\0')
                snprintf(md->band_missing, sizeof md->band_missing, "%s",
                         bn ? bn : "(not a band name)");
        }
    }
    return TERRACL_OK;
}

static terracl_status add_vec(terracl_module *m, const char *name, int64_t n, size_t *idx,
                              terracl_error *err)
{
    return tc_module_add_param(m, name, 1, &n, idx, err);
}

static terracl_status add_mat(terracl_module *m, const char *name, int64_t rows, int64_t cols,
                              size_t *idx, terracl_error *err)
{
    int64_t d[2] = {rows, cols};
    terracl_status st = tc_module_add_param(m, name, 2, d, idx, err);
    if (st == TERRACL_OK)
        tc_module_mark_gemm_weight(m, *idx);
    return st;
}

/* TerraMind's LayerNorm without bias keeps a zero `bias` buffer, which is in
 * its state dicts but not among its parameters. */
static terracl_status add_norm(terracl_module *m, const char *prefix, int64_t D, size_t *w,
                               size_t *b, terracl_error *err)
{
    char name[160];
    snprintf(name, sizeof name, "%s.weight", prefix);
    terracl_status st = add_vec(m, name, D, w, err);
    snprintf(name, sizeof name, "%s.bias", prefix);
    return st ? st : tc_module_add_buffer(m, name, 1, &D, b, err);
}

/* The adapter of a patch embedding loaded from ckpt_path with `bands`:
 * [D, P*P*Cp] (pretrained bands) -> [D, P*P*C] (the chosen ones). */
static terracl_status adapt_patch_weight(const struct tc_param *param, const float *ckpt,
                                         float *out, void *user, terracl_error *err)
{
    const struct tm_modality *md = user;
    if (md->band_missing[0] != '\0')
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "band %s of modality %s is not among its pretrained bands, so its "
                       "patch-embedding weights are not in ckpt_path (TerraTorch would "
                       "initialise them randomly): load a fine-tuned checkpoint of the whole "
                       "model, or use pretrained bands only",
                       md->band_missing, md->name);
    int64_t D = param->dims[0], pix = md->patch * md->patch, C = md->chans, Cp = md->ckpt_chans;
    for (int64_t d = 0; d < D; d++)
        for (int64_t q = 0; q < pix; q++)
            for (int64_t c = 0; c < C; c++)
                out[(d * pix + q) * C + c] = ckpt[(d * pix + q) * Cp + md->band_column[c]];
    return TERRACL_OK;
}

static terracl_status declare_params(terracl_module *m, struct terramind *p, terracl_error *err)
{
    terracl_status st;
    int64_t D = p->dim, H = p->hidden;
    char name[200];
    for (size_t j = 0; j < p->nmods; j++) {
        struct tm_modality *md = &p->mods[j];
        int64_t pos_dims[3] = {1, md->grid * md->grid, D}, mod_dims[3] = {1, 1, D};
        snprintf(name, sizeof name, "encoder_embeddings.%s.pos_emb", md->key);
        if ((st = tc_module_add_buffer(m, name, 3, pos_dims, &md->p_pos, err)))
            return st;
        snprintf(name, sizeof name, "encoder_embeddings.%s.mod_emb", md->key);
        if ((st = tc_module_add_param(m, name, 3, mod_dims, &md->p_mod, err)))
            return st;
        snprintf(name, sizeof name, "encoder_embeddings.%s.proj.weight", md->key);
        if ((st = add_mat(m, name, D, md->patch * md->patch * md->chans, &md->p_proj, err)))
            return st;
    }
    for (int64_t i = 0; i < p->depth; i++) {
        struct block_params *bp = &p->blocks[i];
        char pre[64];
        const size_t none = (size_t)-1;
        bp->qkv_b = bp->proj_b = bp->fc1_b = bp->fc2_b = bp->fc3_b = bp->fc3_w = none;
#define NAME(s) (snprintf(name, sizeof name, "encoder.%lld.%s", (long long)i, s), name)
        snprintf(pre, sizeof pre, "encoder.%lld.norm1", (long long)i);
        if ((st = add_norm(m, pre, D, &bp->norm1_w, &bp->norm1_b, err)) ||
            (st = add_mat(m, NAME("attn.qkv.weight"), 3 * D, D, &bp->qkv_w, err)) ||
            (p->biases && (st = add_vec(m, NAME("attn.qkv.bias"), 3 * D, &bp->qkv_b, err))) ||
            (st = add_mat(m, NAME("attn.proj.weight"), D, D, &bp->proj_w, err)) ||
            (p->biases && (st = add_vec(m, NAME("attn.proj.bias"), D, &bp->proj_b, err))))
            return st;
        snprintf(pre, sizeof pre, "encoder.%lld.norm2", (long long)i);
        if ((st = add_norm(m, pre, D, &bp->norm2_w, &bp->norm2_b, err)) ||
            (st = add_mat(m, NAME("mlp.fc1.weight"), H, D, &bp->fc1_w, err)) ||
            (p->biases && (st = add_vec(m, NAME("mlp.fc1.bias"), H, &bp->fc1_b, err))) ||
            (st = add_mat(m, NAME("mlp.fc2.weight"), D, H, &bp->fc2_w, err)) ||
            (p->biases && (st = add_vec(m, NAME("mlp.fc2.bias"), D, &bp->fc2_b, err))) ||
            (!p->biases && (st = add_mat(m, NAME("mlp.fc3.weight"), H, D, &bp->fc3_w, err))))
            return st;
#undef NAME
    }
    return add_norm(m, "encoder_norm", D, &p->p_norm_w, &p->p_norm_b, err);
}

static terracl_status record_config(terracl_module *m, const struct terramind *p,
                                    const char *merge, int pretrained, terracl_error *err)
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
    /* modalities: [{name, key, in_chans}] in input order. */
    terracl_value *mods = terracl_value_new_list();
    for (size_t j = 0; mods != NULL && j < p->nmods; j++) {
        terracl_value *e = terracl_value_new_map();
        if (e == NULL || terracl_value_map_set(e, "name", terracl_value_new_string(p->mods[j].name), err) ||
            terracl_value_map_set(e, "key", terracl_value_new_string(p->mods[j].key), err) ||
            terracl_value_map_set(e, "in_chans", terracl_value_new_int(p->mods[j].chans), err)) {
            terracl_value_free(e);
            e = NULL;
        }
        /* append takes e over, also when it fails */
        if (e == NULL || terracl_value_list_append(mods, e, err)) {
            terracl_value_free(mods);
            mods = NULL;
        }
    }
    if (mods == NULL)
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    SET("modalities", mods);
    /* What a plain image (the first modality) has: read by tools that make
     * inputs for a model, such as the benchmark. */
    SET("in_chans", terracl_value_new_int(p->mods[0].chans));
    SET("img_size", terracl_value_new_int(p->img));
    SET("patch_size", terracl_value_new_int(p->mods[0].patch));
    SET("dim", terracl_value_new_int(p->dim));
    SET("encoder_depth", terracl_value_new_int(p->depth));
    SET("num_heads", terracl_value_new_int(p->heads));
    SET("mlp_hidden", terracl_value_new_int(p->hidden));
    SET("gated_mlp", terracl_value_new_bool(!p->biases));
    SET("merge_method", merge ? terracl_value_new_string(merge) : terracl_value_new_null());
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
    struct terramind *p = calloc(1, sizeof *p);
    terracl_module *m = NULL;
    terracl_status st = p ? TERRACL_OK : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    double mlp_ratio = 4.0;
    int pretrained = 0;
    int64_t registers = 0;
    const char *merge = "mean", *ckpt = NULL;
    const terracl_value *mv;

    if (st == TERRACL_OK)
        st = read_modalities(p, v->name, v->v01, args, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "img_size", 224, &p->img, err);
    /* dim, encoder_depth, num_heads and mlp_ratio are fixed by TerraTorch's
     * registered builders; terracl takes them as overrides so that reduced
     * models of each layout can be tested. */
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "dim", v->dim, &p->dim, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "encoder_depth", v->depth, &p->depth, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "num_heads", v->heads, &p->heads, err);
    if (st == TERRACL_OK)
        st = terracl_args_float(args, "mlp_ratio", 4.0, &mlp_ratio, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "num_register_tokens", 0, &registers, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "pretrained", 0, &pretrained, err);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "ckpt_path", NULL, &ckpt, err);
    if (st != TERRACL_OK)
        goto fail;
    mv = terracl_value_map_get(args, "merge_method");
    if (mv != NULL && terracl_value_type_of(mv) == TERRACL_VALUE_NULL) {
        merge = NULL;
    } else if (mv != NULL && terracl_value_type_of(mv) != TERRACL_VALUE_STRING) {
        st = tc_fail(err, TERRACL_ERR_TYPE, "%s: merge_method: expected a string or null", v->name);
        goto fail;
    } else if (mv != NULL) {
        merge = terracl_value_string(mv);
    }
    if (merge == NULL)
        p->merge = MERGE_NONE;
    else if (strcmp(merge, "mean") == 0)
        p->merge = MERGE_MEAN;
    else if (strcmp(merge, "max") == 0)
        p->merge = MERGE_MAX;
    else if (strcmp(merge, "concat") == 0)
        p->merge = MERGE_CONCAT;
    else if (strcmp(merge, "dict") == 0)
        p->merge = MERGE_DICT;
    else {
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "%s: merge_method '%s' is not one of mean, max, concat, dict, null", v->name,
                     merge);
        goto fail;
    }
    /* TerraTorch loads ckpt_path whether or not pretrained is set, and
     * downloads the published weights for pretrained without one. */
    if (pretrained && ckpt == NULL) {
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "%s: pretrained=True needs ckpt_path: terracl never downloads weights. "
                     "Download %s's published .pt file, convert it with `python3 "
                     "tools/convert_checkpoint.py IN.pt OUT.h5`, and pass ckpt_path=OUT.h5",
                     v->name, v->name);
        goto fail;
    }
    if (ckpt != NULL && (p->ckpt_path = strdup(ckpt)) == NULL) {
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    /* TerraTorch's registered builders pass num_register_tokens=0
     * themselves, so a config cannot set it (TerraTorch fails with "got
     * multiple values"); the v1 models have no register tokens. */
    if (registers != 0) {
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "%s: num_register_tokens is fixed at 0 by TerraTorch's %s builder (the "
                     "TerraMind v1 models have no register tokens)",
                     v->name, v->name);
        goto fail;
    }
    if (p->img <= 0 || p->img > MAX_IMG_SIZE || p->dim <= 0 || p->dim > MAX_DIM || p->depth <= 0 ||
        p->depth > MAX_DEPTH || p->heads <= 0 || !(mlp_ratio > 0) ||
        mlp_ratio > 64) {
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "%s: img_size (1..%d), dim (1..%d), encoder_depth (1..%d), num_heads and "
                     "mlp_ratio (0..64] out of range",
                     v->name, MAX_IMG_SIZE, MAX_DIM, MAX_DEPTH);
        goto fail;
    }
    if (p->dim % p->heads != 0) {
        st = tc_fail(err, TERRACL_ERR_CONFIG, "%s: dim %lld is not a multiple of num_heads %lld",
                     v->name, (long long)p->dim, (long long)p->heads);
        goto fail;
    }
    p->biases = v->biases;
    for (size_t j = 0; j < p->nmods; j++) {
        struct tm_modality *md = &p->mods[j];
        md->grid = p->img / md->patch;
        if (md->grid < 1) {
            st = tc_fail(err, TERRACL_ERR_CONFIG, "%s: img_size %lld is smaller than a patch (%lld)",
                         v->name, (long long)p->img, (long long)md->patch);
            goto fail;
        }
    }
    /* As TerraMind's Block and GatedMlp: int(dim * mlp_ratio), and for the
     * gated MLP two thirds of it. */
    p->hidden = (int64_t)((double)p->dim * mlp_ratio);
    if (!p->biases)
        p->hidden = (int64_t)(2.0 * (double)p->hidden / 3.0);
    if (p->hidden <= 0) {
        st = tc_fail(err, TERRACL_ERR_CONFIG, "%s: the MLP has no hidden units", v->name);
        goto fail;
    }

    st = tc_module_create("TerraMindViT", &k_terramind_vt, p, &m, err);
    p = NULL; /* owned by m (or freed) now */
    if (st != TERRACL_OK)
        goto fail;
    struct terramind *pp = m->impl;
    if ((st = declare_params(m, pp, err)) || (st = record_config(m, pp, merge, pretrained, err)))
        goto fail;
    for (size_t j = 0; pp->ckpt_path != NULL && j < pp->nmods; j++) {
        struct tm_modality *md = &pp->mods[j];
        struct tc_param *pw = tc_module_param(m, md->p_proj);
        if (!md->remap)
            continue;
        pw->adapt_ndim = 2;
        pw->adapt_dims[0] = pp->dim;
        pw->adapt_dims[1] = md->patch * md->patch * md->ckpt_chans;
        pw->adapt = adapt_patch_weight;
        pw->adapt_user = md;
    }
    /* TerraMindViT learns a stand-in for absent modalities when it
     * concatenates them (unused when every modality is given, but a
     * parameter of the model and in its checkpoints), and its features are
     * then one dim per modality wide. */
    pp->p_missing = (size_t)-1;
    if (pp->merge == MERGE_CONCAT && (st = add_vec(m, "missing_mod_token", pp->dim, &pp->p_missing, err)))
        goto fail;
    {
        int64_t ch[MAX_DEPTH];
        for (int64_t i = 0; i < pp->depth; i++)
            ch[i] = pp->merge == MERGE_CONCAT ? pp->dim * (int64_t)pp->nmods : pp->dim;
        if ((st = tc_module_set_out_channels(m, ch, (size_t)pp->depth, err)))
            goto fail;
    }
    terracl_value_free(empty);
    *out = m;
    return TERRACL_OK;
fail:
    terramind_free(p);
    terracl_module_destroy(m);
    terracl_value_free(empty);
    return st;
}

#define CTOR(fn, idx)                                                                              \
    terracl_status fn(const terracl_value *first, const terracl_value *args, void *user,           \
                      terracl_module **out, terracl_error *err)                                    \
    {                                                                                              \
        (void)first;                                                                               \
        (void)user;                                                                                \
        return build_variant(&k_variants[idx], args, out, err);                                    \
    }
CTOR(tc_terramind_v1_tiny, 0)
CTOR(tc_terramind_v1_small, 1)
CTOR(tc_terramind_v1_base, 2)
CTOR(tc_terramind_v1_large, 3)
CTOR(tc_terramind_v01_base, 4)
#undef CTOR

/* ------------------------------------------------------------------ forward */

static struct tc_tensor *param(terracl_module *m, size_t i) { return &m->params[i].value; }
static struct tc_tensor *opt(terracl_module *m, size_t i)
{
    return i == (size_t)-1 ? NULL : &m->params[i].value;
}

/* PyTorch's cubic convolution weights (A = -0.75) for offset t in [0, 1). */
static void cubic_weights(double t, double w[4])
{
    const double A = -0.75;
    double x;
    x = t + 1.0;
    w[0] = ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A;
    x = t;
    w[1] = ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    x = 1.0 - t;
    w[2] = ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    x = 2.0 - t;
    w[3] = ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A;
}

static int64_t clampi(int64_t v, int64_t hi) { return v < 0 ? 0 : v > hi ? hi : v; }

/* F.interpolate(mode="bicubic", align_corners=False) of a [g, g, D] table
 * (rows in PyTorch's reshape order) to [oh, ow, D]. */
static void resize_bicubic(const float *in, int64_t g, int64_t D, int64_t oh, int64_t ow, float *out)
{
    double sh = (double)g / (double)oh, sw = (double)g / (double)ow;
    for (int64_t y = 0; y < oh; y++) {
        double fy = ((double)y + 0.5) * sh - 0.5;
        int64_t iy = (int64_t)floor(fy);
        double wy[4];
        cubic_weights(fy - (double)iy, wy);
        for (int64_t x = 0; x < ow; x++) {
            double fx = ((double)x + 0.5) * sw - 0.5;
            int64_t ix = (int64_t)floor(fx);
            double wx[4];
            cubic_weights(fx - (double)ix, wx);
            float *o = out + (y * ow + x) * D;
            for (int64_t d = 0; d < D; d++) {
                double acc = 0.0;
                for (int a = 0; a < 4; a++) {
                    const float *row = in + clampi(iy - 1 + a, g - 1) * g * D;
                    double r = 0.0;
                    for (int b = 0; b < 4; b++)
                        r += wx[b] * (double)row[clampi(ix - 1 + b, g - 1) * D + d];
                    acc += wy[a] * r;
                }
                o[d] = (float)acc;
            }
        }
    }
}

/* pos_emb (+ mod_emb) of one modality for an hg x wg token grid, [N, D] on
 * the device. */
static terracl_status position_rows(terracl_module *m, terracl_runtime *rt,
                                    const struct tm_modality *md, int64_t hg, int64_t wg,
                                    struct tc_tensor *outd, terracl_error *err)
{
    struct terramind *p = m->impl;
    int64_t D = p->dim, G = md->grid * md->grid, N = hg * wg;
    size_t nbase = (size_t)(G * D), nout = (size_t)(N * D);
    float *base = malloc(nbase * sizeof *base), *res = malloc(nout * sizeof *res);
    float *mod = malloc((size_t)D * sizeof *mod);
    terracl_status st = TERRACL_OK;
    if (base == NULL || res == NULL || mod == NULL) {
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for the position table");
        goto out;
    }
    if ((st = tc_tensor_download(rt, param(m, md->p_pos), base, err)) ||
        (st = tc_tensor_download(rt, param(m, md->p_mod), mod, err)))
        goto out;
    if (hg == md->grid && wg == md->grid)
        memcpy(res, base, nout * sizeof *res);
    else
        resize_bicubic(base, md->grid, D, hg, wg, res);
    for (int64_t n = 0; n < N; n++)
        for (int64_t d = 0; d < D; d++)
            res[n * D + d] += mod[d];
    int64_t dims[2] = {N, D};
    if ((st = tc_tensor_alloc(rt, 2, dims, outd, err)) == TERRACL_OK)
        st = tc_tensor_upload(rt, outd, res, err);
out:
    free(base);
    free(res);
    free(mod);
    return st;
}

/* One modality's tokens: [B, C, H, W] -> dst [B, N, D] (allocated by the
 * caller): patches, projection, position and modality embeddings. */
static terracl_status embed_modality(terracl_module *m, terracl_runtime *rt,
                                     const struct tm_modality *md, const struct tc_tensor *x,
                                     struct tc_tensor *dst, terracl_error *err)
{
    int64_t B = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3], P = md->patch;
    int64_t hg = H / P, wg = W / P, N = hg * wg, K = P * P * C, D = ((struct terramind *)m->impl)->dim;
    struct tc_tensor nhwc = {0}, patches = {0}, posd = {0}, flat;
    int64_t nhwc_dims[4] = {B, H, W, C}, patches_dims[2] = {B * N, K}, tok_dims[2] = {B * N, D};
    const int perm[4] = {0, 2, 3, 1};
    terracl_status st;
    /* Channel-minor patches: x as [B, H, W, C], then patchify the view
     * [B, 1, 1, H, W*C] with patches of 1 x P x (P*C). */
    if ((st = tc_tensor_alloc(rt, 4, nhwc_dims, &nhwc, err)) ||
        (st = tc_op_permute(rt, x, perm, &nhwc, err)))
        goto out;
    {
        struct tc_tensor v5 = nhwc;
        v5.owns_buf = 0;
        int64_t d5[5] = {B, 1, 1, H, W * C};
        v5.ndim = 5;
        memcpy(v5.dims, d5, sizeof d5);
        if ((st = tc_tensor_alloc(rt, 2, patches_dims, &patches, err)) ||
            (st = tc_op_patchify(rt, &v5, 1, P, P * C, &patches, err)))
            goto out;
    }
    tc_tensor_free(&nhwc);
    flat = *dst;
    flat.owns_buf = 0;
    flat.ndim = 2;
    memcpy(flat.dims, tok_dims, sizeof tok_dims);
    if ((st = tc_op_linear(rt, &patches, param(m, md->p_proj), NULL, &flat, err)) ||
        (st = position_rows(m, rt, md, hg, wg, &posd, err)) ||
        (st = tc_op_add(rt, &flat, &posd, &flat, err)))
        goto out;
out:
    tc_tensor_free(&nhwc);
    tc_tensor_free(&patches);
    tc_tensor_free(&posd);
    return st;
}

struct vit_scratch {
    struct tc_tensor x, h, qkv, attn, hidden, scores;
};

static void scratch_free(struct vit_scratch *s)
{
    tc_tensor_free(&s->x);
    tc_tensor_free(&s->h);
    tc_tensor_free(&s->qkv);
    tc_tensor_free(&s->attn);
    tc_tensor_free(&s->hidden);
    tc_tensor_free(&s->scores);
}

static terracl_status run_block(terracl_module *m, terracl_runtime *rt, const struct block_params *bp,
                                struct vit_scratch *s, terracl_error *err)
{
    struct terramind *p = m->impl;
    const struct tc_vit_attention_weights aw = {param(m, bp->norm1_w), param(m, bp->norm1_b),
                                                 param(m, bp->qkv_w), opt(m, bp->qkv_b),
                                                 param(m, bp->proj_w), opt(m, bp->proj_b)};
    terracl_status st;
    if ((st = tc_vit_attention_residual(rt, &aw, p->heads, LN_EPS, &s->x, &s->h, &s->qkv,
                                        &s->scores, &s->attn, err)) ||
        (st = tc_op_layernorm(rt, &s->x, param(m, bp->norm2_w), param(m, bp->norm2_b), LN_EPS, &s->h, err)))
        return st;
    if (p->biases) /* fc2(gelu(fc1 h)) */
        st = tc_op_linear_ex(rt, &s->h, param(m, bp->fc1_w), opt(m, bp->fc1_b), 1, 0, &s->hidden, err);
    else if ((st = tc_op_linear(rt, &s->h, param(m, bp->fc1_w), NULL, &s->hidden, err)) == TERRACL_OK)
        st = tc_op_linear_silu_gate(rt, &s->h, param(m, bp->fc3_w), &s->hidden, err); /* silu(fc1 h) * fc3 h */
    if (st == TERRACL_OK)
        st = tc_op_linear_ex(rt, &s->hidden, param(m, bp->fc2_w), opt(m, bp->fc2_b), 0, 1, &s->x, err);
    return st;
}

/* What one forward pass merges: the modalities given (in the model's order),
 * their token grid, and for concat the stand-ins for the absent ones. */
struct merge_plan {
    size_t given;        /* modalities given, Mg */
    int64_t B, N, D;     /* tokens per modality N */
    struct tc_tensor missing; /* [B, N, M - Mg, D] of missing_mod_token, or empty */
};

/* One output of a block, src [B, Mg*N, D] (modality-major tokens), merged
 * as TerraMindViT does into `o` (allocated here):
 *   mean/max: over the modalities given  -> [B, N, D]
 *   concat:   the given ones side by side in the model's order, then one
 *             missing_mod_token per absent modality (TerraTorch appends
 *             them after the given ones, whichever are absent) -> [B, N, M*D]
 *   null:     the sequence unchanged -> [B, Mg*N, D]
 * (dict is handled by the caller: one slice per modality.) */
static terracl_status merge_output(const struct terramind *p, terracl_runtime *rt,
                                   const struct merge_plan *mp, const struct tc_tensor *src,
                                   struct tc_tensor *o, terracl_error *err)
{
    int64_t B = mp->B, N = mp->N, D = mp->D, Mg = (int64_t)mp->given;
    int64_t M = (int64_t)p->nmods;
    terracl_status st;
    struct tc_tensor v4, t4 = {0};
    int64_t src4[4] = {B, Mg, N, D};
    int reduce = p->merge == MERGE_MEAN || p->merge == MERGE_MAX;
    if (p->merge == MERGE_NONE || (reduce && Mg == 1) || (p->merge == MERGE_CONCAT && M == 1)) {
        if ((st = tc_tensor_alloc(rt, src->ndim, src->dims, o, err)))
            return st;
        return tc_buf_copy(rt, src->buf, src->offset * sizeof(float), o->buf, 0,
                           tc_tensor_numel(src) * sizeof(float), err);
    }
    if ((st = tc_tensor_reshape(src, 4, src4, &v4, err)))
        return st;
    if (reduce) {
        /* [B, Mg, N, D] -> [B, N, D, Mg], then mean/max over the last axis. */
        const int perm[4] = {0, 2, 3, 1};
        int64_t td[4] = {B, N, D, Mg}, od[3] = {B, N, D};
        if ((st = tc_tensor_alloc(rt, 4, td, &t4, err)) == TERRACL_OK &&
            (st = tc_op_permute(rt, &v4, perm, &t4, err)) == TERRACL_OK &&
            (st = tc_tensor_alloc(rt, 3, od, o, err)) == TERRACL_OK)
            st = tc_op_reduce_last(rt, &t4, p->merge == MERGE_MEAN ? TC_REDUCE_MEAN : TC_REDUCE_MAX,
                                   o, err);
        tc_tensor_free(&t4);
        return st;
    }
    /* concat: [B, Mg, N, D] -> [B, N, Mg, D] (+ [B, N, M - Mg, D]) = [B, N, M*D]. */
    const int perm[4] = {0, 2, 1, 3};
    int64_t td[4] = {B, N, Mg, D}, full[4] = {B, N, M, D};
    if ((st = tc_tensor_alloc(rt, 4, td, &t4, err)) || (st = tc_op_permute(rt, &v4, perm, &t4, err)))
        goto done;
    if (Mg == M) {
        *o = t4;
        memset(&t4, 0, sizeof t4);
    } else {
        struct tc_tensor parts[2] = {t4, mp->missing};
        if ((st = tc_tensor_alloc(rt, 4, full, o, err)) ||
            (st = tc_op_concat(rt, parts, 2, 2, o, err)))
            goto done;
    }
    o->ndim = 3;
    o->dims[2] = M * D;
done:
    tc_tensor_free(&t4);
    return st;
}

/* The stand-ins for absent modalities under concat: [B, N, M - Mg, D], every
 * row missing_mod_token. */
static terracl_status missing_tokens(terracl_module *m, terracl_runtime *rt, struct merge_plan *mp,
                                     terracl_error *err)
{
    struct terramind *p = m->impl;
    int64_t absent = (int64_t)(p->nmods - mp->given), D = mp->D;
    int64_t dims[4] = {mp->B, mp->N, absent, D};
    size_t rows = (size_t)(mp->B * mp->N * absent);
    float *tok = malloc((size_t)D * sizeof *tok), *host = malloc(rows * (size_t)D * sizeof *host);
    terracl_status st = TERRACL_OK;
    if (tok == NULL || host == NULL)
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for missing_mod_token rows");
    else if ((st = tc_tensor_download(rt, param(m, p->p_missing), tok, err)) == TERRACL_OK) {
        for (size_t r = 0; r < rows; r++)
            memcpy(host + r * (size_t)D, tok, (size_t)D * sizeof *tok);
        if ((st = tc_tensor_alloc(rt, 4, dims, &mp->missing, err)) == TERRACL_OK)
            st = tc_tensor_upload(rt, &mp->missing, host, err);
    }
    free(tok);
    free(host);
    return st;
}

/* The inputs by modality: in->t[j] is modality j (an empty tensor, ndim 0,
 * for one not given); a single input is the first modality, as TerraTorch
 * takes a plain tensor. */
static terracl_status gather_inputs(const struct terramind *p, const struct tc_feats *in,
                                    const struct tc_tensor **x, size_t *given, terracl_error *err)
{
    char s1[128], s2[128];
    if (in->n != 1 && in->n != p->nmods)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "TerraMindViT: %zu inputs for %zu modalities",
                       in->n, p->nmods);
    const struct tc_tensor *first = NULL;
    size_t firstj = 0;
    *given = 0;
    for (size_t j = 0; j < p->nmods; j++) {
        x[j] = j < in->n && in->t[j].ndim != 0 ? &in->t[j] : NULL;
        if (x[j] == NULL)
            continue;
        const struct tm_modality *md = &p->mods[j];
        const struct tc_tensor *t = x[j];
        tc_shape_str(t->ndim, t->dims, s1, sizeof s1);
        if (t->ndim != 4)
            return tc_fail(err, TERRACL_ERR_SHAPE, "modality %s: input %s, expected [B, C, H, W]",
                           md->name, s1);
        if (t->dims[1] != md->chans)
            return tc_fail(err, TERRACL_ERR_SHAPE,
                           "modality %s: input %s has %lld channels; the model expects %lld",
                           md->name, s1, (long long)t->dims[1], (long long)md->chans);
        /* TerraMind refuses sizes that are not whole patches (the factory pads). */
        if (t->dims[2] % md->patch != 0 || t->dims[3] % md->patch != 0)
            return tc_fail(err, TERRACL_ERR_SHAPE,
                           "modality %s: input %s: height and width must be positive multiples of "
                           "the patch size %lld",
                           md->name, s1, (long long)md->patch);
        if (first != NULL && (t->dims[0] != first->dims[0] || t->dims[2] != first->dims[2] ||
                              t->dims[3] != first->dims[3]))
            return tc_fail(err, TERRACL_ERR_SHAPE,
                           "modality %s: input %s does not match modality %s's %s in batch size, "
                           "height and width",
                           md->name, s1, p->mods[firstj].name,
                           tc_shape_str(first->ndim, first->dims, s2, sizeof s2));
        if (first == NULL) {
            first = t;
            firstj = j;
        }
        (*given)++;
    }
    if (*given == 0) {
        char names[256] = "";
        for (size_t j = 0; j < p->nmods; j++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", j ? ", " : "",
                     p->mods[j].name);
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "TerraMindViT: no input given; its modalities are %s", names);
    }
    return TERRACL_OK;
}

static terracl_status terramind_forward(terracl_module *m, struct tc_exec *ex,
                                        const struct tc_feats *in, struct tc_feats *out,
                                        terracl_error *err)
{
    struct terramind *p = m->impl;
    terracl_runtime *rt = ex->rt;
    const struct tc_tensor *xs[TC_TERRAMIND_MAX_MODALITIES];
    struct merge_plan mp;
    memset(&mp, 0, sizeof mp);
    terracl_status st = gather_inputs(p, in, xs, &mp.given, err);
    if (st != TERRACL_OK)
        return st;
    if (p->merge == MERGE_DICT && !ex->final_feature_only)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "merge_method dict gives one token sequence per modality, which necks and "
                       "decoders do not take (as in TerraTorch); use it in a backbone-only config");
    const struct tc_tensor *x0 = NULL;
    for (size_t j = 0; j < p->nmods && x0 == NULL; j++)
        x0 = xs[j];
    int64_t P = p->mods[0].patch;
    int64_t B = x0->dims[0], hg = x0->dims[2] / P, wg = x0->dims[3] / P, N = hg * wg, D = p->dim;
    int64_t Mg = (int64_t)mp.given, L = Mg * N;
    mp.B = B;
    mp.N = N;
    mp.D = D;

    struct vit_scratch s;
    memset(&s, 0, sizeof s);
    size_t n_layers = (size_t)p->depth, first = ex->final_feature_only ? n_layers - 1 : 0;
    struct tc_tensor embedded[TC_TERRAMIND_MAX_MODALITIES], normed = {0};
    memset(embedded, 0, sizeof embedded);
    int64_t x_dims[3] = {B, L, D}, mod_dims[3] = {B, N, D}, qkv_dims[3] = {B, L, 3 * D};
    int64_t hid_dims[3] = {B, L, p->hidden};
    int64_t sc_dims[1] = {(int64_t)tc_attention_scratch(rt, (size_t)L, (size_t)D, (size_t)p->heads)};

    /* The modalities' tokens, concatenated along the sequence in the
     * model's modality order. */
    if ((st = tc_tensor_alloc(rt, 3, x_dims, &s.x, err)))
        goto out;
    if (Mg == 1) {
        for (size_t j = 0; j < p->nmods; j++)
            if (xs[j] && (st = embed_modality(m, rt, &p->mods[j], xs[j], &s.x, err)))
                goto out;
    } else {
        size_t k = 0;
        for (size_t j = 0; j < p->nmods; j++) {
            if (xs[j] == NULL)
                continue;
            if ((st = tc_tensor_alloc(rt, 3, mod_dims, &embedded[k], err)) ||
                (st = embed_modality(m, rt, &p->mods[j], xs[j], &embedded[k], err))) {
                tc_fail_context(err, st, "modality %s", p->mods[j].name);
                goto out;
            }
            k++;
        }
        if ((st = tc_op_concat(rt, embedded, k, 1, &s.x, err)))
            goto out;
        for (size_t k2 = 0; k2 < k; k2++)
            tc_tensor_free(&embedded[k2]);
    }
    if (p->merge == MERGE_CONCAT && mp.given < p->nmods && (st = missing_tokens(m, rt, &mp, err)))
        goto out;

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
        if ((size_t)i < first)
            continue;
        const struct tc_tensor *src = &s.x;
        if (i == p->depth - 1) {
            if ((st = tc_tensor_alloc(rt, 3, x_dims, &normed, err)) ||
                (st = tc_op_layernorm(rt, &s.x, param(m, p->p_norm_w), param(m, p->p_norm_b), LN_EPS,
                                      &normed, err)))
                goto out;
            src = &normed;
        }
        if (p->merge == MERGE_DICT) {
            /* One [B, N, D] slice per modality given (final output only). */
            for (int64_t k = 0; k < Mg; k++) {
                struct tc_tensor *o = &out->t[out->n];
                if ((st = tc_tensor_alloc(rt, 3, mod_dims, o, err)))
                    goto out;
                out->n++;
                if ((st = tc_op_copy2d(rt, src->buf, src->offset + (size_t)(k * N * D), (size_t)(L * D),
                                       o->buf, o->offset, (size_t)(N * D), (size_t)B, (size_t)(N * D),
                                       err)))
                    goto out;
            }
            continue;
        }
        if ((st = merge_output(p, rt, &mp, src, &out->t[out->n], err)))
            goto out;
        out->n++;
    }
out:
    /* Outputs made so far are released by the caller's tc_feats_free. */
    for (size_t k = 0; k < TC_TERRAMIND_MAX_MODALITIES; k++)
        tc_tensor_free(&embedded[k]);
    tc_tensor_free(&normed);
    tc_tensor_free(&mp.missing);
    scratch_free(&s);
    return st;
}

terracl_status tc_terramind_tim(const terracl_value *first, const terracl_value *args, void *user,
                                terracl_module **out, terracl_error *err)
{
    (void)first;
    (void)args;
    (void)user;
    *out = NULL;
    return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                   "the TerraMind _tim (thinking-in-modalities) variants first generate extra "
                   "modalities as tokens with TerraMind's decoder and tokenizers, which terracl "
                   "does not run; use the same model without _tim");
}

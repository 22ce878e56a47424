/* TerraTorch's torchgeo ResNet / ViT wrappers around the whole timm models. */
#include "models/backbones/torchgeo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/backbones/resnet.h"
#include "models/backbones/timm_vit.h"

#define MAX_BANDS 64
#define RESNET_FEATS 5 /* act1, layer1..layer4 */
#define MAX_OUT_INDICES 64

/* The bands of each family's pretrained weights (torchgeo's weights.meta,
 * with TerraTorch's overrides for some ResNet-50s) as TerraTorch's look-up
 * table names them: B1/B01 COASTAL_AEROSOL ... B12 SWIR_2, whatever the
 * sensor (the Landsat ones are named as if they were Sentinel-2's). */
enum band_set { TM_TOA, ETM_TOA, ETM_SR, OLI_TIRS_TOA, OLI_SR, S2_ALL, S2_RGB, S1, SATLAS_MS,
                SATLAS_RGB, NO_BANDS };

static const char *const k_tm_toa[] = {"COASTAL_AEROSOL", "BLUE",       "GREEN",     "RED",
                                       "RED_EDGE_1",      "RED_EDGE_2", "RED_EDGE_3"};
static const char *const k_oli_tirs_toa[] = {"COASTAL_AEROSOL", "BLUE",       "GREEN",
                                             "RED",             "RED_EDGE_1", "RED_EDGE_2",
                                             "RED_EDGE_3",      "NIR_BROAD",  "WATER_VAPOR",
                                             "CIRRUS",          "SWIR_1"};
static const char *const k_s2_all[] = {"COASTAL_AEROSOL", "BLUE",       "GREEN",      "RED",
                                       "RED_EDGE_1",      "RED_EDGE_2", "RED_EDGE_3", "NIR_BROAD",
                                       "NIR_NARROW",      "WATER_VAPOR", "CIRRUS",    "SWIR_1",
                                       "SWIR_2"};
static const char *const k_rgb[] = {"RED", "GREEN", "BLUE"};
static const char *const k_s1[] = {"VV", "VH"};
static const char *const k_satlas_ms[] = {"RED",        "GREEN",     "BLUE",
                                          "RED_EDGE_1", "RED_EDGE_2", "RED_EDGE_3",
                                          "NIR_BROAD",  "SWIR_1",    "SWIR_2"};
/* torchgeo's own names where TerraTorch's table has none of them. */
static const char *const k_etm_toa[] = {"B1",        "B2",        "B3", "B4", "B5",
                                        "B6_VCID_1", "B6_VCID_2", "B7", "B8"};
static const char *const k_etm_sr[] = {"SR_B1", "SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B7"};
static const char *const k_oli_sr[] = {"SR_B1", "SR_B2", "SR_B3", "SR_B4",
                                       "SR_B5", "SR_B6", "SR_B7"};

/* `bands`: one per input channel of the weights (the example `terracl
 * info` shows); `why_not`: why TerraTorch cannot load them by band (NULL:
 * it can). */
struct band_info {
    const char *const *bands;
    size_t n;
    const char *why_not;
};

#define BANDS(a, why) {a, sizeof a / sizeof *a, why}
static const struct band_info k_band_sets[] = {
    [TM_TOA] = BANDS(k_tm_toa, NULL),
    [ETM_TOA] = BANDS(k_etm_toa,
                      "TerraTorch's band look-up table has no 'B6_VCID_1' (it fails too)"),
    [ETM_SR] = BANDS(k_etm_sr, "TerraTorch's band look-up table has no 'SR_B1' (it fails too)"),
    [OLI_TIRS_TOA] = BANDS(k_oli_tirs_toa, NULL),
    [OLI_SR] = BANDS(k_oli_sr, "TerraTorch's band look-up table has no 'SR_B1' (it fails too)"),
    [S2_ALL] = BANDS(k_s2_all, NULL),
    [S2_RGB] = BANDS(k_rgb, NULL),
    [S1] = BANDS(k_s1, NULL),
    [SATLAS_MS] = BANDS(k_satlas_ms, NULL),
    [SATLAS_RGB] = BANDS(k_rgb, NULL),
    /* fMoW's RGB weights: no band list, so TerraTorch matches no band. */
    [NO_BANDS] = BANDS(k_rgb, "they list no bands, so TerraTorch would give every conv1 "
                              "column random weights"),
};
#undef BANDS

static const struct {
    const char *name;
    enum band_set set;
} k_names[] = {
#define TC_TORCHGEO_NAME(name, arch, bands) {#name, bands},
    TC_TORCHGEO_BACKBONES(TC_TORCHGEO_NAME)
#undef TC_TORCHGEO_NAME
};

int tc_torchgeo_example_bands(const char *name, char *buf, size_t cap)
{
    if (strncmp(name, "terratorch_", 11) == 0)
        name += 11;
    for (size_t i = 0; i < sizeof k_names / sizeof *k_names; i++) {
        if (strcmp(k_names[i].name, name) != 0 || strncmp(name, "satlas_swin", 11) == 0)
            continue;
        const struct band_info *set = &k_band_sets[k_names[i].set];
        size_t used = 0;
        for (size_t b = 0; b < set->n && used < cap; b++) {
            int w = snprintf(buf + used, cap - used, "%s%s", b ? ", " : "[", set->bands[b]);
            used += w > 0 ? (size_t)w : 0;
        }
        if (used + 2 > cap)
            return 0;
        memcpy(buf + used, "]", 2);
        return 1;
    }
    return 0;
}

struct torchgeo {
    int vit;
    char *ckpt_data;
    /* Loading the band weight from ckpt_data's torchgeo layout: model band i
     * takes the checkpoint's column band_column[i] of n_pretrained. */
    int64_t n_pretrained;
    int64_t band_column[MAX_BANDS];
    char band_problem[256]; /* why it cannot (empty: it can) */
};

static void torchgeo_free(void *impl)
{
    struct torchgeo *t = impl;
    if (t != NULL)
        free(t->ckpt_data);
    free(t);
}

/* The wrapper runs the timm model inside it (its only child). */
static terracl_status torchgeo_forward(terracl_module *m, struct tc_exec *ex,
                                       const struct tc_feats *in, struct tc_feats *out,
                                       terracl_error *err)
{
    return tc_module_forward(m->children[0].module, ex, in, out, err);
}

static const struct tc_module_vtable k_torchgeo_vt = {torchgeo_forward, torchgeo_free};

int tc_torchgeo_is(const terracl_module *m) { return m != NULL && m->vt == &k_torchgeo_vt; }

const terracl_module *tc_torchgeo_inner(const terracl_module *m)
{
    return tc_torchgeo_is(m) ? m->children[0].module : m;
}

const char *tc_torchgeo_ckpt_data(const terracl_module *m)
{
    return tc_torchgeo_is(m) ? ((const struct torchgeo *)m->impl)->ckpt_data : NULL;
}

const char *tc_torchgeo_marker(const terracl_module *m)
{
    if (!tc_torchgeo_is(m))
        return NULL;
    return ((const struct torchgeo *)m->impl)->vit ? "vit_model.patch_embed.proj.weight"
                                                   : "resnet_model.conv1.weight";
}

/* As select_patch_embed_weights: each model band takes the pretrained
 * column of the same band. A band the weights lack would get random
 * weights in TerraTorch, so pretrained=True refuses it (band_problem). */
static void plan_band_columns(struct torchgeo *t, const struct band_info *set,
                              const terracl_value *bands, int64_t in_chans)
{
    size_t n = terracl_value_list_size(bands);
    t->n_pretrained = (int64_t)set->n;
    if (set->why_not != NULL) {
        snprintf(t->band_problem, sizeof t->band_problem,
                 "the pretrained weights cannot be loaded by band: %s", set->why_not);
        return;
    }
    if ((int64_t)n != in_chans) {
        snprintf(t->band_problem, sizeof t->band_problem,
                 "in_chans %lld differs from the %zu model_bands, so TerraTorch would leave "
                 "input channels with random weights",
                 (long long)in_chans, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const terracl_value *b = terracl_value_list_get(bands, i);
        const char *name =
            terracl_value_type_of(b) == TERRACL_VALUE_STRING ? terracl_value_string(b) : NULL;
        t->band_column[i] = -1;
        for (size_t j = 0; name != NULL && j < set->n && t->band_column[i] < 0; j++)
            if (strcmp(name, set->bands[j]) == 0)
                t->band_column[i] = (int64_t)j;
        if (t->band_column[i] < 0) {
            snprintf(t->band_problem, sizeof t->band_problem,
                     "model band %zu (%s) is not among the pretrained bands, so TerraTorch would "
                     "give it random weights",
                     i, name ? name : "not a band name");
            return;
        }
    }
}

/* The adapter of the band weight: [O, Cp, kh, kw] -> [O, C, kh, kw]. */
static terracl_status adapt_band_weight(const struct tc_param *param, const float *ckpt,
                                        float *out, void *user, terracl_error *err)
{
    (void)err;
    const struct torchgeo *t = user;
    int64_t O = param->dims[0], C = param->dims[1], per = param->dims[2] * param->dims[3];
    for (int64_t o = 0; o < O; o++)
        for (int64_t c = 0; c < C; c++)
            memcpy(out + (o * C + c) * per, ckpt + (o * t->n_pretrained + t->band_column[c]) * per,
                   (size_t)per * sizeof *out);
    return TERRACL_OK;
}

static terracl_status attach_adapter(terracl_module *inner, struct torchgeo *t,
                                     terracl_error *err)
{
    const char *key = t->vit ? "patch_embed.proj.weight" : "conv1.weight";
    for (size_t i = 0; i < inner->nparams; i++) {
        struct tc_param *p = &inner->params[i];
        if (strcmp(p->name, key) != 0 || p->ndim != 4)
            continue;
        p->adapt_ndim = 4;
        memcpy(p->adapt_dims, p->dims, sizeof p->adapt_dims);
        p->adapt_dims[1] = t->n_pretrained > 0 ? t->n_pretrained : p->dims[1];
        p->adapt = adapt_band_weight;
        p->adapt_user = t;
        return TERRACL_OK;
    }
    return tc_fail(err, TERRACL_ERR_INTERNAL, "no %s to load the pretrained bands into", key);
}

/* ResNetEncoderWrapper's selection: feature i when out_indices lists it,
 * the last one also for -1; in feature order. */
static terracl_status resnet_features(const terracl_value *args, int *feats, size_t *n,
                                      terracl_error *err)
{
    int64_t idx[MAX_OUT_INDICES];
    size_t count = 0;
    int present = 0;
    terracl_status st =
        terracl_args_int_list(args, "out_indices", idx, MAX_OUT_INDICES, &count, &present, err);
    if (st != TERRACL_OK)
        return st;
    if (!present) {
        idx[0] = -1;
        count = 1;
    }
    *n = 0;
    for (int f = 0; f < RESNET_FEATS; f++) {
        int take = 0;
        for (size_t i = 0; i < count; i++)
            take |= idx[i] == f || (f == RESNET_FEATS - 1 && idx[i] == -1);
        if (take)
            feats[(*n)++] = f;
    }
    if (*n == 0)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "out_indices selects no feature (TerraTorch's wrapper takes 0..4, and -1 "
                       "for the last)");
    return TERRACL_OK;
}

/* The wrapper's own arguments; the rest are timm's. */
static const char *const k_wrapper_keys[] = {"model_bands", "pretrained", "ckpt_data", "weights",
                                             "out_indices"};

static terracl_status timm_args(const terracl_value *args, size_t nbands, terracl_value **out,
                                int64_t *in_chans, terracl_error *err)
{
    terracl_value *t = terracl_value_clone(args);
    if (t == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < sizeof k_wrapper_keys / sizeof *k_wrapper_keys; i++)
        terracl_value_map_remove(t, k_wrapper_keys[i]);
    terracl_status st = TERRACL_OK;
    const terracl_value *given = terracl_value_map_peek(t, "in_chans");
    if (given == NULL || terracl_value_type_of(given) == TERRACL_VALUE_NULL)
        st = terracl_value_map_set(t, "in_chans", terracl_value_new_int((int64_t)nbands), err);
    if (st == TERRACL_OK)
        st = terracl_args_int(t, "in_chans", (int64_t)nbands, in_chans, err);
    if (st != TERRACL_OK) {
        terracl_value_free(t);
        return st;
    }
    *out = t;
    return TERRACL_OK;
}

static terracl_status read_wrapper_args(const terracl_value *args, const terracl_value **bands,
                                        int *pretrained, const char **ckpt, terracl_error *err)
{
    *bands = terracl_value_map_get(args, "model_bands");
    if (*bands == NULL || terracl_value_type_of(*bands) != TERRACL_VALUE_LIST ||
        terracl_value_list_size(*bands) == 0 || terracl_value_list_size(*bands) > MAX_BANDS)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "model_bands is required: the list of the input's bands (1 to %d), e.g. "
                       "[BLUE, GREEN, RED]",
                       MAX_BANDS);
    terracl_status st = terracl_args_bool(args, "pretrained", 0, pretrained, err);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "ckpt_data", NULL, ckpt, err);
    const terracl_value *weights = terracl_value_map_get(args, "weights");
    if (st == TERRACL_OK && weights != NULL && terracl_value_type_of(weights) != TERRACL_VALUE_NULL)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "weights: terracl loads converted weights through ckpt_data, never a "
                       "torchgeo weights enum");
    const terracl_value *path = terracl_value_map_get(args, "ckpt_path");
    if (st == TERRACL_OK && path != NULL && terracl_value_type_of(path) != TERRACL_VALUE_NULL)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "ckpt_path: TerraTorch's torchgeo backbones take their checkpoint as "
                       "ckpt_data, loaded with pretrained=True");
    if (st == TERRACL_OK && *pretrained && *ckpt == NULL)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "pretrained=True needs ckpt_data: terracl never downloads weights. "
                       "Convert torchgeo's weights once with `python3 tools/convert_checkpoint.py "
                       "IN.pth OUT.h5` and pass ckpt_data=OUT.h5");
    return st;
}

/* Marks the arguments the timm model read (in its copy `targs`) as read in
 * the caller's map, so unused ones can still be reported. */
static void mark_read(const terracl_value *args, const terracl_value *targs)
{
    const char *unused[64];
    size_t n = terracl_value_unused_keys(targs, unused, 64);
    for (size_t i = 0; i < terracl_value_map_size(targs); i++) {
        const char *key = terracl_value_map_key(targs, i);
        int read = 1;
        for (size_t j = 0; j < n && j < 64; j++)
            read = read && strcmp(unused[j], key) != 0;
        if (read)
            terracl_value_map_get(args, key);
    }
}

static terracl_status build(const char *arch, enum band_set set,
                            const terracl_value *args, terracl_module **out, terracl_error *err)
{
    *out = NULL;
    if (strcmp(arch, "swin") == 0)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "the satlas Swin Transformer backbones are not supported (terracl has no "
                       "Swin); the satlas_resnet50_* and satlas_resnet152_* names are");
    terracl_value *empty = NULL, *targs = NULL;
    if (args == NULL && (args = empty = terracl_value_new_map()) == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    int vit = strncmp(arch, "vit_", 4) == 0, pretrained = 0;
    const terracl_value *bands = NULL;
    const char *ckpt = NULL;
    int feats[RESNET_FEATS];
    size_t nfeats = 0;
    int64_t in_chans = 0;
    terracl_module *m = NULL, *inner = NULL;
    struct torchgeo *t = NULL;
    terracl_status st = read_wrapper_args(args, &bands, &pretrained, &ckpt, err);
    if (st == TERRACL_OK && !vit)
        st = resnet_features(args, feats, &nfeats, err);
    else if (st == TERRACL_OK)
        terracl_value_map_get(args, "out_indices"); /* accepted and ignored, as TerraTorch */
    if (st == TERRACL_OK)
        st = timm_args(args, terracl_value_list_size(bands), &targs, &in_chans, err);
    if (st == TERRACL_OK)
        st = vit ? tc_timm_vit_whole(arch, targs, &inner, err)
                 : tc_timm_resnet_whole(arch, targs, feats, nfeats, &inner, err);
    if (st == TERRACL_OK)
        mark_read(args, targs);
    if (st == TERRACL_OK && (t = calloc(1, sizeof *t)) == NULL)
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK) {
        t->vit = vit;
        if (pretrained && (t->ckpt_data = strdup(ckpt)) == NULL)
            st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        plan_band_columns(t, &k_band_sets[set], bands, in_chans);
        if (pretrained && t->band_problem[0] != '\0')
            st = tc_fail(err, TERRACL_ERR_CONFIG,
                         "pretrained=True: %s (give a fine-tuned checkpoint of the whole model "
                         "as the model's weights instead)",
                         t->band_problem);
    }
    if (st == TERRACL_OK && pretrained)
        st = attach_adapter(inner, t, err);
    if (st == TERRACL_OK) {
        st = tc_module_create(vit ? "TorchGeoViT" : "TorchGeoResNet", &k_torchgeo_vt, t, &m, err);
        t = NULL; /* owned by m (or freed) from here */
    }
    if (st == TERRACL_OK) {
        int64_t ch[TC_MAX_FEATS];
        size_t n = terracl_module_out_channels(inner, ch, TC_MAX_FEATS);
        terracl_value *cfg = terracl_value_clone(inner->config);
        terracl_module *child = inner;
        inner = NULL; /* add_child owns it from the call on */
        if ((st = tc_module_add_child(m, vit ? "vit_model" : "resnet_model", child, err)) ==
                TERRACL_OK &&
            (st = tc_module_set_out_channels(m, ch, n, err)) == TERRACL_OK && cfg != NULL &&
            (st = terracl_value_map_set(cfg, "model_bands", terracl_value_clone(bands), err)) ==
                TERRACL_OK)
            st = terracl_value_map_set(cfg, "pretrained", terracl_value_new_bool(pretrained), err);
        if (st == TERRACL_OK && cfg != NULL) {
            tc_module_set_config(m, cfg);
            cfg = NULL;
        }
        terracl_value_free(cfg);
    }
    torchgeo_free(t);
    terracl_module_destroy(inner);
    terracl_value_free(targs);
    terracl_value_free(empty);
    if (st != TERRACL_OK) {
        terracl_module_destroy(m); /* the registry names the backbone in the message */
        return st;
    }
    *out = m;
    return TERRACL_OK;
}

#define TC_TORCHGEO_DEFINE(name, arch, bands)                                                     \
    terracl_status tc_torchgeo_##name(const terracl_value *first, const terracl_value *args,     \
                                      void *user, terracl_module **out, terracl_error *err)       \
    {                                                                                             \
        (void)first;                                                                              \
        (void)user;                                                                               \
        return build(arch, bands, args, out, err);                                                \
    }
TC_TORCHGEO_BACKBONES(TC_TORCHGEO_DEFINE)

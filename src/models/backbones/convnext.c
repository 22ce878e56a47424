/* timm's ConvNeXt (patch stem, depthwise 7x7 + channels-last MLP blocks) as a features_only
 * extractor. On CPU devices with widths that are multiples of 16 the trunk stays channels-last
 * from the stem to the last block (forward_channels_last); elsewhere each block permutes its
 * branch to channels-last and back. */
#include "models/backbones/convnext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/exec.h"
#include "graph/mem_estimate.h"
#include "models/backbones/feature_config.h"
#include "models/layers.h"
#include "ops/conv_packed.h"
#include "ops/dwconv.h"
#include "ops/grn.h"
#include "ops/layer_scale.h"
#include "ops/layout.h"
#include "ops/linear.h"
#include "ops/norm.h"

#define STAGES 4
#define MLP_RATIO 4
#define GRN_EPS 1e-6f

struct variant {
    const char *name;
    int grn; /* V2: GRN in the MLP and no layer scale */
    int64_t depths[STAGES], dims[STAGES];
    int conv_mlp; /* the small ones: LayerNorm2d and 1x1-conv MLP (the same maths) */
};

static const struct variant k_variants[] = {
    {"convnext_tiny", 0, {3, 3, 9, 3}, {96, 192, 384, 768}, 0},
    {"convnext_small", 0, {3, 3, 27, 3}, {96, 192, 384, 768}, 0},
    {"convnext_base", 0, {3, 3, 27, 3}, {128, 256, 512, 1024}, 0},
    {"convnext_large", 0, {3, 3, 27, 3}, {192, 384, 768, 1536}, 0},
    {"convnext_xlarge", 0, {3, 3, 27, 3}, {256, 512, 1024, 2048}, 0},
    {"convnextv2_tiny", 1, {3, 3, 9, 3}, {96, 192, 384, 768}, 0},
    {"convnextv2_small", 1, {3, 3, 27, 3}, {96, 192, 384, 768}, 0},
    {"convnextv2_base", 1, {3, 3, 27, 3}, {128, 256, 512, 1024}, 0},
    {"convnextv2_large", 1, {3, 3, 27, 3}, {192, 384, 768, 1536}, 0},
    {"convnextv2_huge", 1, {3, 3, 27, 3}, {352, 704, 1408, 2816}, 0},
    {"convnext_atto", 0, {2, 2, 6, 2}, {40, 80, 160, 320}, 1},
    {"convnext_femto", 0, {2, 2, 6, 2}, {48, 96, 192, 384}, 1},
    {"convnext_pico", 0, {2, 2, 6, 2}, {64, 128, 256, 512}, 1},
    {"convnext_nano", 0, {2, 2, 8, 2}, {80, 160, 320, 640}, 1},
    {"convnextv2_atto", 1, {2, 2, 6, 2}, {40, 80, 160, 320}, 1},
    {"convnextv2_femto", 1, {2, 2, 6, 2}, {48, 96, 192, 384}, 1},
    {"convnextv2_pico", 1, {2, 2, 6, 2}, {64, 128, 256, 512}, 1},
    {"convnextv2_nano", 1, {2, 2, 8, 2}, {80, 160, 320, 640}, 1},
};

/* A LayerNorm's affine parameters (over channels or over the last dim). */
struct norm {
    size_t w, b;
};

/* conv_dw -> (permute) norm -> fc1 -> GELU [-> GRN] -> fc2 -> (permute)
 * [* gamma] + shortcut, gamma folded into fc2 when the weights are bound.
 * With conv_mlp timm stays in NCHW (LayerNorm2d, 1x1 convs, GRN over
 * channels-first data); the maths is the same, so it runs channels-last
 * too. */
struct block {
    size_t dw_w, dw_b; /* conv_dw: [C, 1, k, k] and [C] (groups = C) */
    int dw_bias;
    struct norm norm;
    struct tc_linear fc1, fc2;
    struct norm grn;
    size_t gamma;
};

struct stage {
    int has_down; /* LayerNorm2d + 2x2/2 conv, when the stage changes size or width */
    struct norm down_norm;
    struct tc_conv2d down;
    struct block *blocks;
    int64_t nblocks, dim;
};

struct convnext {
    int grn, layer_scale, conv_mlp;
    float eps;
    int64_t kernel;
    struct tc_conv2d stem;
    struct norm stem_norm;
    struct stage stages[STAGES];
    int n_stages;             /* stages built: up to the last one out_indices needs */
    int64_t out_indices[STAGES]; /* as given (the channel list's order) */
    size_t n_out;
    int keep[STAGES];         /* stages returned, in stage order */
};

static void convnext_free(void *impl)
{
    struct convnext *c = impl;
    if (c == NULL)
        return;
    for (int s = 0; s < STAGES; s++)
        free(c->stages[s].blocks);
    free(c);
}

static terracl_status add_norm(terracl_module *m, const char *prefix, int64_t ch, struct norm *n,
                               terracl_error *err)
{
    char name[256];
    snprintf(name, sizeof name, "%s.weight", prefix);
    terracl_status st = tc_module_add_param(m, name, 1, &ch, &n->w, err);
    snprintf(name, sizeof name, "%s.bias", prefix);
    if (st == TERRACL_OK)
        st = tc_module_add_param(m, name, 1, &ch, &n->b, err);
    return st;
}

/* fc1/fc2: nn.Linear [out, in], or with conv_mlp a 1x1 nn.Conv2d
 * [out, in, 1, 1], which is the same matrix: both run as the Linear. */
static terracl_status add_pointwise(terracl_module *m, const struct convnext *c,
                                    const char *prefix, int64_t in, int64_t out,
                                    struct tc_linear *l, terracl_error *err)
{
    if (!c->conv_mlp)
        return tc_layer_linear(m, prefix, in, out, 1, l, err);
    char name[192];
    int64_t wd[4] = {out, in, 1, 1};
    l->in = in;
    l->out = out;
    l->has_bias = 1;
    snprintf(name, sizeof name, "%s.weight", prefix);
    terracl_status st = tc_module_add_param(m, name, 4, wd, &l->w, err);
    if (st != TERRACL_OK)
        return st;
    tc_module_mark_gemm_weight(m, l->w);
    snprintf(name, sizeof name, "%s.bias", prefix);
    return tc_module_add_param(m, name, 1, &out, &l->b, err);
}

static terracl_status declare_block(terracl_module *m, const struct convnext *c, int s, int64_t b,
                                    int64_t dim, int conv_bias, struct block *blk,
                                    terracl_error *err)
{
    char p[128], q[160];
    snprintf(p, sizeof p, "stages_%d.blocks.%lld", s, (long long)b);
    snprintf(q, sizeof q, "%s.conv_dw", p);
    char name[192];
    int64_t wd[4] = {dim, 1, c->kernel, c->kernel};
    snprintf(name, sizeof name, "%s.weight", q);
    terracl_status st = tc_module_add_param(m, name, 4, wd, &blk->dw_w, err);
    if (st == TERRACL_OK && dim % 16 == 0) {
        /* Channels-last on CPUs (tc_op_dwconv2d): the weight tap-major,
         * made once at bind time. */
        struct tc_param *dw = tc_module_param(m, blk->dw_w);
        dw->derive = tc_dwconv2d_taps_derive;
        dw->derived_numel = (size_t)(dim * c->kernel * c->kernel);
    }
    snprintf(name, sizeof name, "%s.bias", q);
    blk->dw_bias = conv_bias;
    if (st == TERRACL_OK && conv_bias)
        st = tc_module_add_param(m, name, 1, &dim, &blk->dw_b, err);
    snprintf(q, sizeof q, "%s.norm", p);
    if (st == TERRACL_OK)
        st = add_norm(m, q, dim, &blk->norm, err);
    snprintf(q, sizeof q, "%s.mlp.fc1", p);
    if (st == TERRACL_OK)
        st = add_pointwise(m, c, q, dim, MLP_RATIO * dim, &blk->fc1, err);
    snprintf(q, sizeof q, "%s.mlp.grn", p);
    if (st == TERRACL_OK && c->grn)
        st = add_norm(m, q, MLP_RATIO * dim, &blk->grn, err);
    snprintf(q, sizeof q, "%s.mlp.fc2", p);
    if (st == TERRACL_OK)
        st = add_pointwise(m, c, q, MLP_RATIO * dim, dim, &blk->fc2, err);
    snprintf(q, sizeof q, "%s.gamma", p);
    if (st == TERRACL_OK && c->layer_scale)
        st = tc_module_add_param(m, q, 1, &dim, &blk->gamma, err);
    /* gamma * fc2(h) as fc2 with its rows scaled: the block's end is then
     * one accumulating GEMM on the channels-last trunk. */
    if (st == TERRACL_OK && c->layer_scale)
        st = tc_layer_fold_layer_scale(m, &blk->fc2, blk->gamma, err);
    return st;
}

/* A list of STAGES ints from `key`, or the defaults left in `v`. */
static terracl_status read_stage_list(const terracl_value *args, const char *key, int64_t *v,
                                      terracl_error *err)
{
    int64_t list[STAGES + 1];
    size_t n = 0;
    int present = 0;
    terracl_status st = terracl_args_int_list(args, key, list, STAGES + 1, &n, &present, err);
    if (st != TERRACL_OK || !present)
        return st;
    if (n != STAGES)
        return tc_fail(err, TERRACL_ERR_CONFIG, "%s: expected %d values", key, STAGES);
    for (int i = 0; i < STAGES; i++)
        v[i] = list[i];
    return TERRACL_OK;
}

static terracl_status record_config(terracl_module *m, const char *name, int64_t in_chans,
                                    const int64_t *depths, const int64_t *dims,
                                    terracl_error *err)
{
    const struct convnext *c = m->impl;
    terracl_value *cfg = NULL;
    terracl_status st = tc_feature_config_stages(name, in_chans, c->out_indices, c->n_out, "depths",
                                                 depths, "dims", dims, STAGES, &cfg, err);
    if (st == TERRACL_OK)
        st = terracl_value_map_set(cfg, "use_grn", terracl_value_new_bool(c->grn), err);
    if (st == TERRACL_OK)
        st = terracl_value_map_set(cfg, "layer_scale", terracl_value_new_bool(c->layer_scale),
                                   err);
    if (st != TERRACL_OK) {
        terracl_value_free(cfg);
        return st;
    }
    tc_module_set_config(m, cfg);
    return TERRACL_OK;
}

static terracl_status convnext_forward(terracl_module *m, struct tc_exec *ex,
                                       const struct tc_feats *in, struct tc_feats *out,
                                       terracl_error *err);
static const struct tc_module_vtable k_convnext_vt = {convnext_forward, convnext_free};

/* timm keyword arguments that change nothing in an eval-mode feature
 * extractor (regularisers, the classifier head), accepted as timm does. */
static terracl_status accept_no_effect(const terracl_value *args, terracl_error *err)
{
    static const char *const k_floats[] = {"drop_rate", "drop_path_rate", "head_init_scale"};
    terracl_status st = TERRACL_OK;
    for (size_t i = 0; st == TERRACL_OK && i < sizeof k_floats / sizeof *k_floats; i++) {
        double ignored = 0;
        st = terracl_args_float(args, k_floats[i], 0.0, &ignored, err);
    }
    int head_norm_first = 0;
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "head_norm_first", 0, &head_norm_first, err);
    return st;
}

static terracl_status build(const struct variant *v, const terracl_value *args,
                            terracl_module **out, terracl_error *err)
{
    *out = NULL;
    terracl_value *empty = NULL;
    if (args == NULL) {
        if ((empty = terracl_value_new_map()) == NULL)
            return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        args = empty;
    }
    terracl_module *m = NULL;
    struct convnext *c = calloc(1, sizeof *c);
    terracl_status st = c ? TERRACL_OK : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    int64_t in_chans = 3, output_stride = 32, patch = 4, kernel = 7, depths[STAGES], dims[STAGES];
    int pretrained = 0, features_only = 1, conv_mlp = v->conv_mlp, conv_bias = 1, grn = v->grn;
    double eps = 1e-6, ls = 1e-6;
    const char *stem_type = "patch", *act = "gelu";
    memcpy(depths, v->depths, sizeof depths);
    memcpy(dims, v->dims, sizeof dims);
    /* ls_init_value: null (V2's default) means no layer scale at all. */
    const terracl_value *lsv = terracl_value_map_peek(args, "ls_init_value");
    int layer_scale = lsv ? terracl_value_type_of(lsv) != TERRACL_VALUE_NULL : !v->grn;
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "in_chans", 3, &in_chans, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "output_stride", 32, &output_stride, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "patch_size", 4, &patch, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "kernel_sizes", 7, &kernel, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "pretrained", 0, &pretrained, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "features_only", 1, &features_only, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "conv_mlp", v->conv_mlp, &conv_mlp, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "conv_bias", 1, &conv_bias, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "use_grn", v->grn, &grn, err);
    if (st == TERRACL_OK)
        st = terracl_args_float(args, "norm_eps", 1e-6, &eps, err);
    if (st == TERRACL_OK)
        st = terracl_args_float(args, "ls_init_value", 1e-6, &ls, err);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "stem_type", "patch", &stem_type, err);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "act_layer", "gelu", &act, err);
    if (st == TERRACL_OK)
        st = accept_no_effect(args, err);
    if (st == TERRACL_OK)
        st = read_stage_list(args, "depths", depths, err);
    if (st == TERRACL_OK)
        st = read_stage_list(args, "dims", dims, err);
    if (st == TERRACL_OK)
        st = tc_feature_out_indices(args, STAGES, "stage", c->out_indices, &c->n_out, err);
    if (st != TERRACL_OK)
        goto fail;
    for (size_t i = 0; i < c->n_out; i++)
        c->keep[c->out_indices[i]] = 1;
    if (pretrained) {
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "pretrained=True: terracl never downloads weights; build with "
                     "pretrained=False and load a converted checkpoint");
        goto fail;
    }
    const char *unsupported = !features_only        ? "features_only=False"
                              : output_stride != 32 ? "output_stride other than 32"
                              : strcmp(stem_type, "patch") != 0 ? "a stem_type other than patch"
                              : strcmp(act, "gelu") != 0        ? "an act_layer other than gelu"
                                                                : NULL;
    if (unsupported) {
        st = tc_fail(err, TERRACL_ERR_UNSUPPORTED, "%s is not supported", unsupported);
        goto fail;
    }
    if (in_chans < 1 || in_chans > 1 << 16 || patch < 1 || patch > 64 || kernel < 1 ||
        kernel > 31 || kernel % 2 == 0 || !(eps > 0)) {
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "in_chans %lld, patch_size %lld, kernel_sizes %lld or norm_eps is invalid",
                     (long long)in_chans, (long long)patch, (long long)kernel);
        goto fail;
    }
    for (int s = 0; s < STAGES; s++)
        if (depths[s] < 1 || depths[s] > 1024 || dims[s] < 1 || dims[s] > 1 << 14) {
            st = tc_fail(err, TERRACL_ERR_CONFIG, "stage %d: %lld blocks of width %lld is invalid",
                         s, (long long)depths[s], (long long)dims[s]);
            goto fail;
        }
    c->grn = grn;
    c->layer_scale = layer_scale;
    c->conv_mlp = conv_mlp;
    c->eps = (float)eps;
    c->kernel = kernel;
    for (size_t i = 0; i < c->n_out; i++)
        if (c->out_indices[i] + 1 > c->n_stages)
            c->n_stages = (int)c->out_indices[i] + 1;

    st = tc_module_create("TimmConvNeXt", &k_convnext_vt, c, &m, err);
    c = NULL; /* owned by m from here */
    if (st != TERRACL_OK)
        goto fail;
    struct convnext *cc = m->impl;
    if ((st = tc_layer_conv2d(m, "stem_0", in_chans, dims[0], patch, patch, 0, 1, conv_bias,
                              &cc->stem, err)) ||
        (st = add_norm(m, "stem_1", dims[0], &cc->stem_norm, err)))
        goto fail;
    int64_t prev = dims[0];
    for (int s = 0; s < cc->n_stages; s++) {
        struct stage *sg = &cc->stages[s];
        char p[64];
        sg->dim = dims[s];
        /* Stage 0 keeps the stem's size and width: timm gives it no downsample. */
        sg->has_down = s > 0;
        if (sg->has_down) {
            const int64_t k = 2;
            snprintf(p, sizeof p, "stages_%d.downsample.0", s);
            if ((st = add_norm(m, p, prev, &sg->down_norm, err)))
                goto fail;
            snprintf(p, sizeof p, "stages_%d.downsample.1", s);
            if ((st = tc_layer_conv2d(m, p, prev, dims[s], k, k, 0, 1, conv_bias, &sg->down, err)))
                goto fail;
        }
        sg->blocks = calloc((size_t)depths[s], sizeof *sg->blocks);
        if (sg->blocks == NULL) {
            st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
            goto fail;
        }
        sg->nblocks = depths[s];
        for (int64_t b = 0; b < depths[s]; b++)
            if ((st = declare_block(m, cc, s, b, dims[s], conv_bias, &sg->blocks[b], err)))
                goto fail;
        prev = dims[s];
    }
    int64_t reported[STAGES];
    for (size_t i = 0; i < cc->n_out; i++)
        reported[i] = dims[cc->out_indices[i]];
    if ((st = tc_module_set_out_channels(m, reported, cc->n_out, err)) ||
        (st = record_config(m, v->name, in_chans, depths, dims, err)))
        goto fail;
    terracl_value_free(empty);
    *out = m;
    return TERRACL_OK;

fail:
    convnext_free(c);
    terracl_module_destroy(m);
    terracl_value_free(empty);
    return tc_fail_context(err, st, "timm_%s", v->name);
}

#define CONVNEXT_CTOR(fn, index)                                                                   \
    terracl_status fn(const terracl_value *first, const terracl_value *args, void *user,          \
                      terracl_module **out, terracl_error *err)                                    \
    {                                                                                              \
        (void)first;                                                                               \
        (void)user;                                                                                \
        return build(&k_variants[index], args, out, err);                                          \
    }
CONVNEXT_CTOR(tc_timm_convnext_tiny, 0)
CONVNEXT_CTOR(tc_timm_convnext_small, 1)
CONVNEXT_CTOR(tc_timm_convnext_base, 2)
CONVNEXT_CTOR(tc_timm_convnext_large, 3)
CONVNEXT_CTOR(tc_timm_convnext_xlarge, 4)
CONVNEXT_CTOR(tc_timm_convnextv2_tiny, 5)
CONVNEXT_CTOR(tc_timm_convnextv2_small, 6)
CONVNEXT_CTOR(tc_timm_convnextv2_base, 7)
CONVNEXT_CTOR(tc_timm_convnextv2_large, 8)
CONVNEXT_CTOR(tc_timm_convnextv2_huge, 9)
CONVNEXT_CTOR(tc_timm_convnext_atto, 10)
CONVNEXT_CTOR(tc_timm_convnext_femto, 11)
CONVNEXT_CTOR(tc_timm_convnext_pico, 12)
CONVNEXT_CTOR(tc_timm_convnext_nano, 13)
CONVNEXT_CTOR(tc_timm_convnextv2_atto, 14)
CONVNEXT_CTOR(tc_timm_convnextv2_femto, 15)
CONVNEXT_CTOR(tc_timm_convnextv2_pico, 16)
CONVNEXT_CTOR(tc_timm_convnextv2_nano, 17)

terracl_status tc_mmearth_convnextv2_refused(const terracl_value *first, const terracl_value *args,
                                             void *user, terracl_module **out,
                                             terracl_error *err)
{
    (void)first;
    (void)args;
    (void)user;
    *out = NULL;
    return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                   "TerraTorch's own ConvNeXt V2 (MMEarth's, a classifier without feature "
                   "outputs) is not supported; timm's ConvNeXt V2 feature extractor is "
                   "timm_convnextv2_tiny/small/base/large/huge (with the timm_ prefix)");
}

int tc_timm_convnext_is(const terracl_module *m) { return m != NULL && m->vt == &k_convnext_vt; }

void tc_timm_convnext_estimate(const terracl_module *m, int ndim, const int64_t *dims,
                               struct tc_mem_estimate *e)
{
    if (!tc_timm_convnext_is(m) || ndim != 4)
        return;
    const struct convnext *c = m->impl;
    const struct tc_conv2d *stem = &c->stem;
    int64_t h = dims[2] / stem->kh, w = dims[3] / stem->kw;
    for (int s = 0; s < c->n_stages; s++) {
        if (s > 0) {
            h /= 2;
            w /= 2;
        }
        const struct stage *sg = &c->stages[s];
        /* A block holds the running map, its channels-last branch and the
         * MLP's hidden map (4x wide). */
        int64_t d[4] = {dims[0], sg->dim, h, w}, hid[4] = {dims[0], h, w, MLP_RATIO * sg->dim};
        tc_mem_add_device(e, "ConvNeXt stage", 4, d, 3);
        tc_mem_add_device(e, "ConvNeXt MLP hidden map", 4, hid, 1);
        if (c->keep[s])
            tc_mem_add_device(e, "ConvNeXt feature", 4, d, 1);
    }
}

/* ---- forward ----------------------------------------------------------- */

static struct tc_tensor *value(terracl_module *m, size_t i) { return &m->params[i].value; }

/* A pointwise weight as the Linear's [out, in]: a 1x1 conv weight viewed
 * by hand (a weight packed for the GEMM refuses general reshapes but is
 * packed exactly as this flattening). */
static struct tc_tensor matrix(terracl_module *m, const struct tc_linear *l)
{
    struct tc_tensor t = *value(m, l->w);
    t.owns_buf = 0;
    t.ndim = 2;
    t.dims[0] = l->out;
    t.dims[1] = l->in;
    return t;
}

/* norm -> fc1 -> GELU [-> GRN] -> fc2 (gamma folded in) on a block's
 * channels-last branch t, normalised in place: fc2 writes dst, or with
 * accumulate adds its result to what dst holds. */
static terracl_status run_mlp(terracl_module *m, terracl_runtime *rt, const struct convnext *c,
                              const struct block *blk, struct tc_tensor *t, int accumulate,
                              struct tc_tensor *dst, terracl_error *err)
{
    int64_t hd[4] = {t->dims[0], t->dims[1], t->dims[2], MLP_RATIO * t->dims[3]};
    struct tc_tensor hidden = {0};
    struct tc_tensor w1 = matrix(m, &blk->fc1), w2 = matrix(m, &blk->fc2);
    terracl_status st =
        tc_op_layernorm(rt, t, value(m, blk->norm.w), value(m, blk->norm.b), c->eps, t, err);
    if (st == TERRACL_OK)
        st = tc_tensor_alloc(rt, 4, hd, &hidden, err);
    if (st == TERRACL_OK)
        st = tc_op_linear_ex(rt, t, &w1, value(m, blk->fc1.b), 1, 0, &hidden, err);
    if (st == TERRACL_OK && c->grn)
        st = tc_op_grn(rt, &hidden, value(m, blk->grn.w), value(m, blk->grn.b), GRN_EPS, &hidden,
                       err);
    if (st == TERRACL_OK)
        st = tc_op_linear_ex(rt, &hidden, &w2, value(m, blk->fc2.b), 0, accumulate, dst, err);
    tc_tensor_free(&hidden);
    return st;
}

/* stride 1, "same" padding: timm pads (k - 1) / 2 */
static struct tc_conv_geom dw_geom(const struct convnext *c)
{
    return (struct tc_conv_geom){1, 1, (c->kernel - 1) / 2, (c->kernel - 1) / 2, 1, 1};
}

/* x [B, C, H, W] (updated in place) += block(x). */
static terracl_status run_block(terracl_module *m, terracl_runtime *rt, const struct convnext *c,
                                const struct block *blk, struct tc_tensor *x, terracl_error *err)
{
    int64_t td[4] = {x->dims[0], x->dims[2], x->dims[3], x->dims[1]};
    const struct tc_conv_geom geom = dw_geom(c);
    struct tc_tensor t = {0};
    terracl_status st = tc_tensor_alloc(rt, 4, td, &t, err);
    if (st == TERRACL_OK)
        st = tc_op_dwconv2d(rt, x, value(m, blk->dw_w), blk->dw_bias ? value(m, blk->dw_b) : NULL,
                            &geom, 1, &t, err);
    if (st == TERRACL_OK)
        st = run_mlp(m, rt, c, blk, &t, 0, &t, err);
    if (st == TERRACL_OK)
        st = tc_op_layer_scale_residual(rt, &t, NULL, x, x, err); /* gamma is in fc2 */
    tc_tensor_free(&t);
    return st;
}

/* The same on a channels-last trunk, x [B, H, W, C]: no permutes, and
 * fc2 adds the branch to x in its GEMM. */
static terracl_status run_block_channels_last(terracl_module *m, terracl_runtime *rt,
                                              const struct convnext *c, const struct block *blk,
                                              struct tc_tensor *x, terracl_error *err)
{
    const struct tc_conv_geom geom = dw_geom(c);
    struct tc_tensor t = {0};
    terracl_status st = tc_tensor_alloc(rt, 4, x->dims, &t, err);
    if (st == TERRACL_OK)
        st = tc_op_dwconv2d_channels_last(rt, x, value(m, blk->dw_w),
                                          blk->dw_bias ? value(m, blk->dw_b) : NULL, &geom, &t,
                                          err);
    if (st == TERRACL_OK)
        st = run_mlp(m, rt, c, blk, &t, 1, x, err);
    tc_tensor_free(&t);
    return st;
}

/* y = conv(LayerNorm2d(x)): the downsample in front of a stage. */
static terracl_status run_downsample(terracl_module *m, terracl_runtime *rt,
                                     const struct convnext *c, const struct stage *sg,
                                     const struct tc_tensor *x, struct tc_tensor *y,
                                     terracl_error *err)
{
    struct tc_tensor n = {0};
    terracl_status st = tc_tensor_alloc(rt, 4, x->dims, &n, err);
    if (st == TERRACL_OK)
        st = tc_op_layernorm_channels(rt, x, value(m, sg->down_norm.w), value(m, sg->down_norm.b),
                                      c->eps, &n, err);
    if (st == TERRACL_OK)
        st = tc_layer_conv2d_run(m, rt, &sg->down, &n, y, err);
    tc_tensor_free(&n);
    return st;
}

/* The kept stages' maps into out, which owns them from then on; after an
 * error (st) every map is freed and out emptied. Returns st. */
static terracl_status hand_over(const struct convnext *c, struct tc_tensor feat[STAGES],
                                terracl_status st, struct tc_feats *out)
{
    for (int s = 0; st == TERRACL_OK && s < STAGES; s++)
        if (c->keep[s]) {
            out->t[out->n++] = feat[s];
            feat[s] = (struct tc_tensor){0};
        }
    for (int s = 0; s < STAGES; s++)
        tc_tensor_free(&feat[s]);
    if (st != TERRACL_OK)
        tc_feats_free(out);
    return st;
}

/* y = x.permute(perm) as a new map: channels-last {0, 2, 3, 1} and back
 * {0, 3, 1, 2}. */
static terracl_status permuted(terracl_runtime *rt, const struct tc_tensor *x, const int perm[4],
                               struct tc_tensor *y, terracl_error *err)
{
    int64_t d[4];
    for (int i = 0; i < 4; i++)
        d[i] = x->dims[perm[i]];
    terracl_status st = tc_tensor_alloc(rt, 4, d, y, err);
    if (st == TERRACL_OK && (st = tc_op_permute(rt, x, perm, y, err)))
        tc_tensor_free(y);
    return st;
}

static const int k_to_channels_last[4] = {0, 2, 3, 1}, k_to_channels_first[4] = {0, 3, 1, 2};

/* Whether the trunk can stay channels-last between blocks: every block's
 * depthwise convolution takes a channels-last input (a CPU device, widths
 * that are multiples of 16). */
static int channels_last_trunk(terracl_module *m, terracl_runtime *rt, const struct convnext *c)
{
    const struct tc_conv_geom geom = dw_geom(c);
    for (int s = 0; s < c->n_stages; s++)
        for (int64_t b = 0; b < c->stages[s].nblocks; b++)
            if (!tc_op_dwconv2d_channels_last_ok(rt, value(m, c->stages[s].blocks[b].dw_w), &geom))
                return 0;
    return 1;
}

/* The downsample on a channels-last map x: LayerNorm over the last dim,
 * then the 2x2/2 convolution reading x as it lies where its packed kernel
 * can; y comes back channels-last. */
static terracl_status run_downsample_channels_last(terracl_module *m, terracl_runtime *rt,
                                                   const struct convnext *c,
                                                   const struct stage *sg,
                                                   const struct tc_tensor *x, struct tc_tensor *y,
                                                   terracl_error *err)
{
    struct tc_tensor n = {0}, conv = {0}, planar = {0};
    const struct tc_tensor *w = value(m, sg->down.w);
    const struct tc_tensor *b = sg->down.has_bias ? value(m, sg->down.b) : NULL;
    const struct tc_conv_geom *g = &sg->down.geom;
    terracl_status st = tc_tensor_alloc(rt, 4, x->dims, &n, err);
    if (st == TERRACL_OK)
        st = tc_op_layernorm(rt, x, value(m, sg->down_norm.w), value(m, sg->down_norm.b), c->eps,
                             &n, err);
    if (st == TERRACL_OK && tc_conv2d_packed_channels_last_ok(w, g)) {
        int64_t kh = w->dims[2], kw = w->dims[3];
        int64_t d[4] = {x->dims[0], w->dims[0],
                        (x->dims[1] - g->dil_h * (kh - 1) - 1) / g->stride_h + 1,
                        (x->dims[2] - g->dil_w * (kw - 1) - 1) / g->stride_w + 1};
        if ((st = tc_tensor_alloc(rt, 4, d, &conv, err)) == TERRACL_OK)
            st = tc_conv2d_packed_channels_last(rt, &n, w, b, g, &conv, err);
    } else if (st == TERRACL_OK) {
        /* Another device's weight or geometry: through the planar layer. */
        if ((st = permuted(rt, &n, k_to_channels_first, &planar, err)) == TERRACL_OK)
            st = tc_layer_conv2d_run(m, rt, &sg->down, &planar, &conv, err);
    }
    tc_tensor_free(&planar);
    tc_tensor_free(&n);
    if (st == TERRACL_OK)
        st = permuted(rt, &conv, k_to_channels_last, y, err);
    tc_tensor_free(&conv);
    return st;
}

/* The forward pass with the trunk channels-last: one permute after the
 * stem and one per downsample, instead of two per block; the stage
 * features go back to [B, C, H, W]. */
static terracl_status forward_channels_last(terracl_module *m, terracl_runtime *rt,
                                            const struct convnext *c, const struct tc_tensor *x,
                                            struct tc_feats *out, terracl_error *err)
{
    struct tc_tensor feat[STAGES] = {{0}}, cur = {0}, stem = {0};
    terracl_status st = tc_layer_conv2d_run(m, rt, &c->stem, x, &stem, err);
    if (st == TERRACL_OK)
        st = permuted(rt, &stem, k_to_channels_last, &cur, err);
    tc_tensor_free(&stem);
    if (st == TERRACL_OK)
        st = tc_op_layernorm(rt, &cur, value(m, c->stem_norm.w), value(m, c->stem_norm.b), c->eps,
                             &cur, err);
    for (int s = 0; st == TERRACL_OK && s < c->n_stages; s++) {
        const struct stage *sg = &c->stages[s];
        if (sg->has_down) {
            struct tc_tensor y = {0};
            st = run_downsample_channels_last(m, rt, c, sg, &cur, &y, err);
            tc_tensor_free(&cur);
            cur = y;
        }
        for (int64_t b = 0; st == TERRACL_OK && b < sg->nblocks; b++)
            st = run_block_channels_last(m, rt, c, &sg->blocks[b], &cur, err);
        if (st == TERRACL_OK && c->keep[s])
            st = permuted(rt, &cur, k_to_channels_first, &feat[s], err);
    }
    tc_tensor_free(&cur);
    return hand_over(c, feat, st, out);
}

static terracl_status convnext_forward(terracl_module *m, struct tc_exec *ex,
                                       const struct tc_feats *in, struct tc_feats *out,
                                       terracl_error *err)
{
    const struct convnext *c = m->impl;
    terracl_runtime *rt = ex->rt;
    if (in->n < 1 || in->t[0].ndim != 4) {
        char s[128];
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "timm ConvNeXt expects one [B, C, H, W] input, got %s",
                       in->n ? tc_shape_str(in->t[0].ndim, in->t[0].dims, s, sizeof s) : "none");
    }
    if (channels_last_trunk(m, rt, c))
        return forward_channels_last(m, rt, c, &in->t[0], out, err);
    struct tc_tensor feat[STAGES] = {{0}}, cur = {0};
    int cur_is_feat = 0; /* cur was handed to feat[] (which frees it) */
    terracl_status st = tc_layer_conv2d_run(m, rt, &c->stem, &in->t[0], &cur, err);
    if (st == TERRACL_OK)
        st = tc_op_layernorm_channels(rt, &cur, value(m, c->stem_norm.w), value(m, c->stem_norm.b),
                                      c->eps, &cur, err);
    for (int s = 0; st == TERRACL_OK && s < c->n_stages; s++) {
        const struct stage *sg = &c->stages[s];
        if (sg->has_down) {
            /* The previous stage's output may be a returned feature: a new
             * map is made rather than overwriting it. */
            struct tc_tensor y = {0};
            st = run_downsample(m, rt, c, sg, &cur, &y, err);
            if (!cur_is_feat)
                tc_tensor_free(&cur);
            cur = y;
            cur_is_feat = 0;
        }
        for (int64_t b = 0; st == TERRACL_OK && b < sg->nblocks; b++)
            st = run_block(m, rt, c, &sg->blocks[b], &cur, err);
        if (st == TERRACL_OK && c->keep[s]) {
            feat[s] = cur;
            cur_is_feat = 1;
        }
    }
    if (!cur_is_feat)
        tc_tensor_free(&cur);
    return hand_over(c, feat, st, out);
}

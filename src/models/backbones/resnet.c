/* timm's ResNet (7x7 stem, BasicBlock / Bottleneck stages) as a features_only extractor. */
#include "models/backbones/resnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/exec.h"
#include "graph/mem_estimate.h"
#include "models/backbones/feature_config.h"
#include "models/layers.h"
#include "ops/avgpool.h"
#include "ops/conv.h"
#include "ops/elementwise.h"
#include "ops/resize.h"

#define STAGES 4
#define FEATS (STAGES + 1) /* act1 (the stem), layer1..layer4 */
#define BN_EPS 1e-5f

/* `deep`: the "d" variants' three-conv stem (stem_width 32, 64 out) and
 * average-pool shortcuts (avg_down), as timm's resnet*d. */
struct variant {
    const char *name;
    int bottleneck;
    int64_t layers[STAGES];
    int deep;
};

static const struct variant k_variants[] = {
    {"resnet18", 0, {2, 2, 2, 2}, 0},   {"resnet34", 0, {3, 4, 6, 3}, 0},
    {"resnet50", 1, {3, 4, 6, 3}, 0},   {"resnet101", 1, {3, 4, 23, 3}, 0},
    {"resnet152", 1, {3, 8, 36, 3}, 0}, {"resnet18d", 0, {2, 2, 2, 2}, 1},
    {"resnet34d", 0, {3, 4, 6, 3}, 1},  {"resnet50d", 1, {3, 4, 6, 3}, 1},
    {"resnet101d", 1, {3, 4, 23, 3}, 1}, {"resnet152d", 1, {3, 8, 36, 3}, 1},
};

/* conv -> BatchNorm, the unit every ResNet layer is made of. */
struct conv_bn {
    struct tc_conv2d conv;
    struct tc_batchnorm2d bn;
};

/* BasicBlock uses c[0..1], Bottleneck c[0..2]; `down` is the 1x1 strided
 * projection shortcut (downsample.0 / downsample.1) when shapes change, or
 * with avg_down a 2x2 average pool (ceil mode) then a 1x1 conv
 * (downsample.1 / downsample.2). */
struct block {
    struct conv_bn c[3];
    struct conv_bn down;
    int has_down;
    int64_t down_pool; /* avg_down: the pool's stride (1: no pool) */
};

struct resnet {
    int bottleneck;
    int64_t widths[STAGES]; /* the `channels` argument: planes of each stage */
    struct conv_bn stem;       /* plain: conv1/bn1; deep: conv1.6/bn1 */
    struct conv_bn deep[2];    /* deep stem: conv1.0/conv1.1, conv1.3/conv1.4 */
    int deep_stem, avg_down;
    int64_t stem_out;          /* the stem's width (act1's channels) */
    struct block *blocks[STAGES];
    int64_t nblocks[STAGES];
    int n_stages;           /* stages built: up to the last one out_indices needs, or all */
    int run_stages;         /* stages the forward runs: up to the last one returned */
    int64_t out_indices[FEATS]; /* feature ids 0..4, in the order given */
    size_t n_out;
};

static void resnet_free(void *impl)
{
    struct resnet *r = impl;
    if (r == NULL)
        return;
    for (int s = 0; s < STAGES; s++)
        free(r->blocks[s]);
    free(r);
}

static terracl_status conv_bn(terracl_module *m, const char *conv, const char *bn, int64_t in,
                              int64_t out, int64_t k, int64_t stride, struct conv_bn *u,
                              terracl_error *err)
{
    terracl_status st = tc_layer_conv2d(m, conv, in, out, k, stride, k / 2, 1, 0, &u->conv, err);
    if (st == TERRACL_OK)
        st = tc_layer_batchnorm2d(m, bn, out, BN_EPS, &u->bn, err);
    if (st == TERRACL_OK)
        st = tc_layer_fold_batchnorm(m, &u->conv, &u->bn, err);
    return st;
}

/* Declares block `b` of stage `s` (state_dict prefix "layer<s+1>.<b>"). */
static terracl_status declare_block(terracl_module *m, const struct resnet *r, int s, int64_t b,
                                    int64_t in, int64_t planes, int64_t stride, struct block *blk,
                                    terracl_error *err)
{
    char p[8][96];
    const char *leaf[8] = {"conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "downsample.0",
                           "downsample.1"};
    for (int i = 0; i < 8; i++)
        snprintf(p[i], sizeof p[i], "layer%d.%lld.%s", s + 1, (long long)b, leaf[i]);
    int64_t expansion = r->bottleneck ? 4 : 1, outc = planes * expansion;
    terracl_status st;
    if (r->bottleneck) {
        /* timm's Bottleneck strides its 3x3 conv (ResNet v1.5). */
        if ((st = conv_bn(m, p[0], p[1], in, planes, 1, 1, &blk->c[0], err)) ||
            (st = conv_bn(m, p[2], p[3], planes, planes, 3, stride, &blk->c[1], err)) ||
            (st = conv_bn(m, p[4], p[5], planes, outc, 1, 1, &blk->c[2], err)))
            return st;
    } else {
        if ((st = conv_bn(m, p[0], p[1], in, planes, 3, stride, &blk->c[0], err)) ||
            (st = conv_bn(m, p[2], p[3], planes, planes, 3, 1, &blk->c[1], err)))
            return st;
    }
    blk->has_down = stride != 1 || in != outc;
    if (!blk->has_down)
        return TERRACL_OK;
    if (r->avg_down) {
        char c[96], n[96];
        snprintf(c, sizeof c, "layer%d.%lld.downsample.1", s + 1, (long long)b);
        snprintf(n, sizeof n, "layer%d.%lld.downsample.2", s + 1, (long long)b);
        blk->down_pool = stride;
        return conv_bn(m, c, n, in, outc, 1, 1, &blk->down, err);
    }
    blk->down_pool = 1;
    return conv_bn(m, p[6], p[7], in, outc, 1, stride, &blk->down, err);
}

static terracl_status record_config(terracl_module *m, const char *name, int64_t in_chans,
                                    const int64_t *layers, const int64_t *channels,
                                    terracl_error *err)
{
    const struct resnet *r = m->impl;
    terracl_value *cfg = NULL;
    terracl_status st = tc_feature_config_stages(name, in_chans, r->out_indices, r->n_out, "layers",
                                                 layers, "channels", channels, STAGES, &cfg, err);
    if (st == TERRACL_OK)
        tc_module_set_config(m, cfg);
    return st;
}

static terracl_status resnet_forward(terracl_module *m, struct tc_exec *ex,
                                     const struct tc_feats *in, struct tc_feats *out,
                                     terracl_error *err);
static const struct tc_module_vtable k_resnet_vt = {resnet_forward, resnet_free};

/* The whole classifier (tc_timm_resnet_whole): the features to return,
 * every stage declared and the fc head counted. NULL in `build`: timm's
 * features_only extractor. */
struct whole {
    const int *feats;
    size_t n;
};

static terracl_status whole_features(const struct whole *w, struct resnet *r, terracl_error *err)
{
    if (w->n == 0 || w->n > FEATS)
        return tc_fail(err, TERRACL_ERR_CONFIG, "expected 1 to %d features", FEATS);
    for (size_t i = 0; i < w->n; i++) {
        if (w->feats[i] < 0 || w->feats[i] >= FEATS)
            return tc_fail(err, TERRACL_ERR_CONFIG, "feature %d outside 0..%d", w->feats[i],
                           FEATS - 1);
        r->out_indices[i] = w->feats[i];
    }
    r->n_out = w->n;
    return TERRACL_OK;
}

static terracl_status build(const struct variant *v, const terracl_value *args,
                            const struct whole *whole, terracl_module **out, terracl_error *err)
{
    *out = NULL;
    terracl_value *empty = NULL;
    if (args == NULL) {
        if ((empty = terracl_value_new_map()) == NULL)
            return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        args = empty;
    }
    terracl_module *m = NULL;
    struct resnet *r = calloc(1, sizeof *r);
    terracl_status st = r ? TERRACL_OK : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    int64_t in_chans = 3, output_stride = 32, layers[STAGES], channels[STAGES] = {64, 128, 256, 512};
    int64_t list[STAGES + 1];
    size_t n = 0;
    int present = 0, pretrained = 0, features_only = whole == NULL, avg_down = v->deep;
    int64_t num_classes = 0;
    int64_t stem_width = v->deep ? 32 : 64;
    const char *stem_type = v->deep ? "deep" : "";
    for (int s = 0; s < STAGES; s++)
        layers[s] = v->layers[s];
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "in_chans", 3, &in_chans, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "output_stride", 32, &output_stride, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "pretrained", 0, &pretrained, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "features_only", features_only, &features_only, err);
    if (st == TERRACL_OK && whole != NULL)
        st = terracl_args_int(args, "num_classes", 1000, &num_classes, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "avg_down", v->deep, &avg_down, err);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "stem_type", stem_type, &stem_type, err);
    /* The plain stem is 64 wide whatever stem_width says (timm uses it
     * only for deep stems). */
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "stem_width", stem_width, &stem_width, err);
    /* Training-only regularisers (identities in eval mode): accepted, as timm does. */
    static const char *const k_no_effect[] = {"drop_rate", "drop_path_rate", "drop_block_rate"};
    for (size_t i = 0; st == TERRACL_OK && i < sizeof k_no_effect / sizeof *k_no_effect; i++) {
        double ignored = 0;
        st = terracl_args_float(args, k_no_effect[i], 0.0, &ignored, err);
    }
    /* timm's ResNet keyword arguments for the stage depths and widths. */
    if (st == TERRACL_OK &&
        (st = terracl_args_int_list(args, "layers", list, STAGES + 1, &n, &present, err)) ==
            TERRACL_OK &&
        present) {
        if (n != STAGES)
            st = tc_fail(err, TERRACL_ERR_CONFIG, "layers: expected %d stage depths", STAGES);
        for (size_t i = 0; st == TERRACL_OK && i < n; i++)
            layers[i] = list[i];
    }
    if (st == TERRACL_OK &&
        (st = terracl_args_int_list(args, "channels", list, STAGES + 1, &n, &present, err)) ==
            TERRACL_OK &&
        present) {
        if (n != STAGES)
            st = tc_fail(err, TERRACL_ERR_CONFIG, "channels: expected %d stage widths", STAGES);
        for (size_t i = 0; st == TERRACL_OK && i < n; i++)
            channels[i] = list[i];
    }
    if (st == TERRACL_OK)
        st = whole ? whole_features(whole, r, err)
                   : tc_feature_out_indices(args, FEATS, "feature", r->out_indices, &r->n_out,
                                            err);
    if (st != TERRACL_OK)
        goto fail;
    if (pretrained) {
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "pretrained=True: terracl never downloads weights; build with "
                     "pretrained=False and load a converted checkpoint");
        goto fail;
    }
    if (features_only != (whole == NULL) || output_stride != 32) {
        st = tc_fail(err, TERRACL_ERR_UNSUPPORTED, "%s is not supported",
                     output_stride != 32 ? "output_stride other than 32"
                     : features_only     ? "features_only=True (TerraTorch's wrapper needs the "
                                           "whole model's forward_intermediates)"
                                         : "features_only=False");
        goto fail;
    }
    if (num_classes < 0 || num_classes > 1 << 20) {
        st = tc_fail(err, TERRACL_ERR_CONFIG, "num_classes %lld is invalid",
                     (long long)num_classes);
        goto fail;
    }
    int deep_stem = strcmp(stem_type, "deep") == 0;
    if (!deep_stem && stem_type[0] != '\0') {
        st = tc_fail(err, TERRACL_ERR_UNSUPPORTED, "stem_type '%s' is not supported", stem_type);
        goto fail;
    }
    if (in_chans < 1 || in_chans > 1 << 16 || stem_width < 1 || stem_width > 1 << 15) {
        st = tc_fail(err, TERRACL_ERR_CONFIG, "in_chans %lld is invalid", (long long)in_chans);
        goto fail;
    }
    for (int s = 0; s < STAGES; s++)
        if (layers[s] < 1 || layers[s] > 1024 || channels[s] < 1 || channels[s] > 1 << 16) {
            st = tc_fail(err, TERRACL_ERR_CONFIG, "stage %d: %lld blocks of width %lld is invalid",
                         s + 1, (long long)layers[s], (long long)channels[s]);
            goto fail;
        }
    r->bottleneck = v->bottleneck;
    r->deep_stem = deep_stem;
    r->avg_down = avg_down;
    r->stem_out = deep_stem ? 2 * stem_width : 64;
    for (int s = 0; s < STAGES; s++)
        r->widths[s] = channels[s];
    /* timm's FeatureListNet keeps the modules up to the last requested feature. */
    r->run_stages = 0;
    for (size_t i = 0; i < r->n_out; i++)
        if (r->out_indices[i] > r->run_stages)
            r->run_stages = (int)r->out_indices[i];
    r->n_stages = whole ? STAGES : r->run_stages;

    st = tc_module_create("TimmResNet", &k_resnet_vt, r, &m, err);
    r = NULL; /* owned by m from here */
    if (st != TERRACL_OK)
        goto fail;
    struct resnet *rr = m->impl;
    const int64_t stem = rr->stem_out;
    if (rr->deep_stem) {
        /* 3x3/2 -> 3x3 -> 3x3, stem_width, stem_width, then 2 * stem_width. */
        if ((st = conv_bn(m, "conv1.0", "conv1.1", in_chans, stem_width, 3, 2, &rr->deep[0],
                          err)) ||
            (st = conv_bn(m, "conv1.3", "conv1.4", stem_width, stem_width, 3, 1, &rr->deep[1],
                          err)) ||
            (st = conv_bn(m, "conv1.6", "bn1", stem_width, stem, 3, 1, &rr->stem, err)))
            goto fail;
    } else if ((st = conv_bn(m, "conv1", "bn1", in_chans, stem, 7, 2, &rr->stem, err))) {
        goto fail;
    }
    int64_t ch[FEATS] = {stem}, inplanes = stem, expansion = v->bottleneck ? 4 : 1;
    for (int s = 0; s < STAGES; s++) {
        ch[s + 1] = channels[s] * expansion;
        if (s >= rr->n_stages)
            continue;
        rr->blocks[s] = calloc((size_t)layers[s], sizeof *rr->blocks[s]);
        if (rr->blocks[s] == NULL) {
            st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
            goto fail;
        }
        rr->nblocks[s] = layers[s];
        for (int64_t b = 0; b < layers[s]; b++) {
            int64_t stride = (s > 0 && b == 0) ? 2 : 1;
            if ((st = declare_block(m, rr, s, b, inplanes, channels[s], stride, &rr->blocks[s][b],
                                    err)))
                goto fail;
            inplanes = channels[s] * expansion;
        }
    }
    /* The classifier head: a parameter of the whole model, never run. */
    int64_t fc_w[2] = {num_classes, ch[STAGES]};
    if (num_classes > 0 && ((st = tc_module_add_counted(m, "fc.weight", 2, fc_w, err)) ||
                            (st = tc_module_add_counted(m, "fc.bias", 1, fc_w, err))))
        goto fail;
    int64_t reported[FEATS];
    for (size_t i = 0; i < rr->n_out; i++)
        reported[i] = ch[rr->out_indices[i]];
    if ((st = tc_module_set_out_channels(m, reported, rr->n_out, err)) ||
        (st = record_config(m, v->name, in_chans, layers, channels, err)))
        goto fail;
    terracl_value_free(empty);
    *out = m;
    return TERRACL_OK;

fail:
    resnet_free(r);
    terracl_module_destroy(m);
    terracl_value_free(empty);
    return tc_fail_context(err, st, whole ? "%s" : "timm_%s", v->name);
}

#define RESNET_CTOR(fn, index)                                                                     \
    terracl_status fn(const terracl_value *first, const terracl_value *args, void *user,          \
                      terracl_module **out, terracl_error *err)                                    \
    {                                                                                              \
        (void)first;                                                                               \
        (void)user;                                                                                \
        return build(&k_variants[index], args, NULL, out, err);                                    \
    }
RESNET_CTOR(tc_timm_resnet18, 0)
RESNET_CTOR(tc_timm_resnet34, 1)
RESNET_CTOR(tc_timm_resnet50, 2)
RESNET_CTOR(tc_timm_resnet101, 3)
RESNET_CTOR(tc_timm_resnet152, 4)
RESNET_CTOR(tc_timm_resnet18d, 5)
RESNET_CTOR(tc_timm_resnet34d, 6)
RESNET_CTOR(tc_timm_resnet50d, 7)
RESNET_CTOR(tc_timm_resnet101d, 8)
RESNET_CTOR(tc_timm_resnet152d, 9)

terracl_status tc_timm_resnet_whole(const char *arch, const terracl_value *args, const int *feats,
                                    size_t n, terracl_module **out, terracl_error *err)
{
    *out = NULL;
    for (size_t i = 0; i < sizeof k_variants / sizeof *k_variants; i++)
        if (strcmp(k_variants[i].name, arch) == 0) {
            const struct whole w = {feats, n};
            return build(&k_variants[i], args, &w, out, err);
        }
    return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "timm ResNet '%s' is not supported", arch);
}

int tc_timm_resnet_is(const terracl_module *m) { return m != NULL && m->vt == &k_resnet_vt; }

/* smp's replace_strides_with_dilation on one convolution. */
static void dilate(terracl_module *m, struct tc_conv2d *c, int64_t rate)
{
    tc_layer_conv2d_set_geometry(
        m, c, (struct tc_conv_geom){1, 1, (c->kh / 2) * rate, (c->kw / 2) * rate, rate, rate});
}

terracl_status tc_timm_resnet_dilate_stage(terracl_module *m, int stage, int64_t rate,
                                           terracl_error *err)
{
    if (!tc_timm_resnet_is(m))
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "dilate_stage: not a ResNet");
    struct resnet *r = m->impl;
    if (stage < 1 || stage > r->n_stages || rate < 1 || rate > 1024)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "dilate_stage: stage %d / rate %lld invalid",
                       stage, (long long)rate);
    int convs = r->bottleneck ? 3 : 2;
    for (int64_t b = 0; b < r->nblocks[stage - 1]; b++) {
        struct block *blk = &r->blocks[stage - 1][b];
        for (int i = 0; i < convs; i++)
            dilate(m, &blk->c[i].conv, rate);
        if (blk->has_down)
            dilate(m, &blk->down.conv, rate);
    }
    return TERRACL_OK;
}

void tc_timm_resnet_estimate(const terracl_module *m, int ndim, const int64_t *dims,
                             struct tc_mem_estimate *e)
{
    if (!tc_timm_resnet_is(m) || ndim != 4)
        return;
    const struct resnet *r = m->impl;
    int kept[FEATS] = {0};
    for (size_t i = 0; i < r->n_out; i++)
        kept[r->out_indices[i]] = 1;
    /* Output sizes: 7x7/2 pad 3 and 3x3/2 pad 1 both give (n - 1) / 2 + 1. */
    int64_t h = (dims[2] - 1) / 2 + 1, w = (dims[3] - 1) / 2 + 1;
    int64_t stem[4] = {dims[0], r->stem_out, h, w};
    tc_mem_add_device(e, "ResNet stem", 4, stem, 1);
    h = (h - 1) / 2 + 1;
    w = (w - 1) / 2 + 1;
    for (int s = 0; s < r->run_stages; s++) {
        if (s > 0) {
            h = (h - 1) / 2 + 1;
            w = (w - 1) / 2 + 1;
        }
        /* A block holds its input, two branch maps and the shortcut; the
         * widest is the output (planes * expansion). */
        int64_t d[4] = {dims[0], r->widths[s] * (r->bottleneck ? 4 : 1), h, w};
        tc_mem_add_device(e, "ResNet block", 4, d, 4);
        if (kept[s + 1])
            tc_mem_add_device(e, "ResNet feature", 4, d, 1);
    }
}

/* ---- forward ----------------------------------------------------------- */

/* y = BN(conv(x)), then ReLU when `relu`: the BatchNorm is folded into the
 * convolution at bind time and bias and ReLU run in its epilogue. */
static terracl_status run_conv_bn(terracl_module *m, terracl_runtime *rt, const struct conv_bn *u,
                                  const struct tc_tensor *x, int relu, struct tc_tensor *y,
                                  terracl_error *err)
{
    return tc_layer_conv2d_bn_run(m, rt, &u->conv, &u->bn, relu, x, y, err);
}

/* relu(branch(x) + shortcut(x)). The branch's last convolution adds the
 * shortcut in its epilogue: into the downsampled shortcut, or, without a
 * downsample, into x itself when the caller hands x over (x_owned; x is
 * then emptied); otherwise into a copy-free sum of two maps. */
static terracl_status run_block(terracl_module *m, terracl_runtime *rt, const struct resnet *r,
                                const struct block *blk, struct tc_tensor *x, int x_owned,
                                struct tc_tensor *y, terracl_error *err)
{
    struct tc_tensor a = {0}, b = {0}, sc = {0};
    int last = r->bottleneck ? 2 : 1;
    terracl_status st = run_conv_bn(m, rt, &blk->c[0], x, 1, &a, err);
    for (int i = 1; st == TERRACL_OK && i < last; i++) {
        st = run_conv_bn(m, rt, &blk->c[i], &a, 1, &b, err);
        tc_tensor_free(&a);
        a = b;
        b = (struct tc_tensor){0};
    }
    if (st == TERRACL_OK && blk->has_down && blk->down_pool > 1) {
        /* avg_down: AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False). */
        struct tc_tensor pooled = {0};
        int64_t d[4] = {x->dims[0], x->dims[1],
                        tc_avg_pool_out_len(x->dims[2], 2, blk->down_pool, 1),
                        tc_avg_pool_out_len(x->dims[3], 2, blk->down_pool, 1)};
        st = tc_tensor_alloc(rt, 4, d, &pooled, err);
        if (st == TERRACL_OK)
            st = tc_op_avg_pool2d(rt, x, 2, blk->down_pool, 1, &pooled, err);
        if (st == TERRACL_OK)
            st = run_conv_bn(m, rt, &blk->down, &pooled, 0, &sc, err);
        tc_tensor_free(&pooled);
    } else if (st == TERRACL_OK && blk->has_down) {
        st = run_conv_bn(m, rt, &blk->down, x, 0, &sc, err);
    } else if (st == TERRACL_OK && x_owned) {
        sc = *x;
        *x = (struct tc_tensor){0};
    }
    const struct conv_bn *end = &blk->c[last];
    if (st == TERRACL_OK && sc.buf != NULL) {
        st = tc_layer_conv2d_bn_accumulate(m, rt, &end->conv, &end->bn, 1, &a, &sc, err);
    } else if (st == TERRACL_OK) {
        st = run_conv_bn(m, rt, end, &a, 0, &b, err);
        if (st == TERRACL_OK)
            st = tc_op_add_relu(rt, &b, x, &b, err);
        sc = b;
    }
    tc_tensor_free(&a);
    if (st != TERRACL_OK) {
        tc_tensor_free(&sc);
        return st;
    }
    *y = sc;
    return TERRACL_OK;
}

static terracl_status resnet_forward(terracl_module *m, struct tc_exec *ex,
                                     const struct tc_feats *in, struct tc_feats *out,
                                     terracl_error *err)
{
    const struct resnet *r = m->impl;
    terracl_runtime *rt = ex->rt;
    if (in->n < 1 || in->t[0].ndim != 4) {
        char s[128];
        return tc_fail(err, TERRACL_ERR_SHAPE, "timm ResNet expects one [B, C, H, W] input, got %s",
                       in->n ? tc_shape_str(in->t[0].ndim, in->t[0].dims, s, sizeof s) : "none");
    }
    struct tc_tensor feat[FEATS] = {{0}}, pooled = {0}, cur;
    int keep[FEATS] = {0};
    for (size_t i = 0; i < r->n_out; i++)
        keep[r->out_indices[i]] = 1;
    terracl_status st;
    if (r->deep_stem) {
        struct tc_tensor a = {0}, b = {0};
        st = run_conv_bn(m, rt, &r->deep[0], &in->t[0], 1, &a, err);
        if (st == TERRACL_OK)
            st = run_conv_bn(m, rt, &r->deep[1], &a, 1, &b, err);
        tc_tensor_free(&a);
        if (st == TERRACL_OK)
            st = run_conv_bn(m, rt, &r->stem, &b, 1, &feat[0], err);
        tc_tensor_free(&b);
    } else {
        st = run_conv_bn(m, rt, &r->stem, &in->t[0], 1, &feat[0], err);
    }
    if (st == TERRACL_OK && r->run_stages > 0) {
        const struct tc_tensor *s0 = &feat[0];
        if (s0->dims[2] < 2 || s0->dims[3] < 2)
            st = tc_fail(err, TERRACL_ERR_SHAPE, "input too small for the stem's max pool");
        else {
            int64_t d[4] = {s0->dims[0], s0->dims[1], (s0->dims[2] - 1) / 2 + 1,
                            (s0->dims[3] - 1) / 2 + 1};
            st = tc_tensor_alloc(rt, 4, d, &pooled, err);
            if (st == TERRACL_OK)
                st = tc_op_max_pool2d_padded(rt, s0, 3, 2, 1, &pooled, err);
        }
    }
    cur = pooled;
    int cur_owned = 1; /* `cur` is pooled or a block output not yet kept */
    for (int s = 0; st == TERRACL_OK && s < r->run_stages; s++) {
        for (int64_t b = 0; st == TERRACL_OK && b < r->nblocks[s]; b++) {
            struct tc_tensor y = {0};
            st = run_block(m, rt, r, &r->blocks[s][b], &cur, cur_owned, &y, err);
            if (st != TERRACL_OK)
                break;
            if (cur_owned)
                tc_tensor_free(&cur);
            cur = y;
            cur_owned = 1;
        }
        if (st == TERRACL_OK) {
            feat[s + 1] = cur;
            cur_owned = 0; /* now owned by feat[] */
        }
    }
    if (cur_owned && st != TERRACL_OK)
        tc_tensor_free(&cur);
    if (st == TERRACL_OK && r->run_stages == 0)
        tc_tensor_free(&pooled);
    /* Hand out the requested features (a feature asked for twice is copied by view). */
    for (size_t i = 0; st == TERRACL_OK && i < r->n_out; i++) {
        int k = (int)r->out_indices[i];
        if (keep[k] == 1) {
            out->t[i] = feat[k];
            feat[k] = (struct tc_tensor){0};
            keep[k] = 2;
        } else {
            st = tc_fail(err, TERRACL_ERR_UNSUPPORTED, "out_indices lists feature %d twice", k);
        }
        out->n = i + 1;
    }
    for (int k = 0; k < FEATS; k++)
        tc_tensor_free(&feat[k]);
    if (st != TERRACL_OK)
        tc_feats_free(out);
    return st;
}

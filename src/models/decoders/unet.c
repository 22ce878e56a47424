/*
 * TerraTorch's UNetDecoder: segmentation_models_pytorch 0.5.0's UnetDecoder
 * (held as `.decoder`, so keys start with "decoder.blocks.") fed with the
 * features [f0, f0, f1, ..., f_{n-1}] (input 0 repeated).
 *
 * With n inputs that is n blocks; x starts as f_{n-1} and block i
 *   resizes x (nearest, explicit size) to f_{n-2-i}'s size (f0's for the
 *   last block), concatenates f_{n-2-i} after it (no skip in the last
 *   block), then applies twice Conv2d(3x3, pad 1) -> BatchNorm -> ReLU
 *   (without BatchNorm the convolutions have a bias).
 * Keys decoder.blocks.{i}.conv{1,2}.0 (conv) and .1 (BatchNorm).
 *
 * attention_type="scse" gates the concatenation (attention1, blocks with a
 * skip) and each block's output (attention2) with
 *   x sigmoid(cSE(x)) + x sigmoid(sSE(x)),
 *   cSE = avg pool to 1x1 -> 1x1 conv C -> C/16 -> ReLU -> 1x1 conv -> C,
 *   sSE = 1x1 conv C -> 1,
 * keys decoder.blocks.{i}.attention{1,2}.attention.{cSE.1, cSE.3, sSE.0}.
 *
 * smp's own Unet (decoder smp_Unet, TerraTorch's smp source) is the same
 * decoder fed with the features as given: n inputs make n - 1 blocks (input
 * 0 only sets the last block's size), keys under "_smp_decoder." (TerraTorch's
 * SMPDecoderWrapper), optionally bilinear instead of nearest upsampling.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/decoders/common.h"
#include "models/decoders/decoders.h"
#include "models/decoders/smp.h"
#include "models/layers.h"
#include "ops/elementwise.h"
#include "ops/layout.h"
#include "ops/resize.h"
#include "ops/upcat.h"

struct unet_conv {
    struct tc_conv2d conv;
    struct tc_batchnorm2d bn;
};

struct scse {
    struct tc_conv2d c1, c2, s;
};

struct unet {
    struct tc_dec_channels ch;
    int64_t channels[TC_DEC_MAX_INPUTS];
    size_t nblocks;
    const char *prefix; /* "decoder." or "_smp_decoder." */
    int smp;            /* features as given (smp) or input 0 repeated (TerraTorch) */
    int bilinear;       /* smp's decoder_interpolation="bilinear" */
    int batchnorm, scse;
    float bn_eps;
    struct unet_conv blocks[TC_DEC_MAX_INPUTS][2];
    struct scse att[TC_DEC_MAX_INPUTS][2]; /* attention1 (with a skip), attention2 */
};

/* The SCSE gate, in place on x. */
static terracl_status scse_run(terracl_module *m, terracl_runtime *rt, const struct scse *a,
                               struct tc_tensor *x, terracl_error *err)
{
    struct tc_tensor pooled = {0}, h = {0}, g = {0}, s = {0};
    terracl_status st = tc_dec_alloc(rt, x->dims[0], x->dims[1], 1, 1, &pooled, err);
    if (st == TERRACL_OK)
        st = tc_op_adaptive_avg_pool2d(rt, x, &pooled, err);
    if (st == TERRACL_OK)
        st = tc_layer_conv2d_run(m, rt, &a->c1, &pooled, &h, err);
    if (st == TERRACL_OK)
        st = tc_op_relu(rt, &h, &h, err);
    if (st == TERRACL_OK)
        st = tc_layer_conv2d_run(m, rt, &a->c2, &h, &g, err);
    if (st == TERRACL_OK)
        st = tc_layer_conv2d_run(m, rt, &a->s, x, &s, err);
    if (st == TERRACL_OK)
        st = tc_op_scse_gate(rt, x, &g, &s, x, err);
    tc_tensor_free(&pooled);
    tc_tensor_free(&h);
    tc_tensor_free(&g);
    tc_tensor_free(&s);
    return st;
}

/* Conv2dReLU: conv -> BatchNorm (folded into the conv) -> ReLU, or conv
 * (with bias) -> ReLU; bias and ReLU run in the convolution's epilogue. */
static terracl_status conv_relu(terracl_module *m, terracl_runtime *rt, const struct unet *p,
                                const struct unet_conv *c, const struct tc_tensor *x,
                                struct tc_tensor *y, terracl_error *err)
{
    if (p->batchnorm)
        return tc_layer_conv2d_bn_run(m, rt, &c->conv, &c->bn, 1, x, y, err);
    terracl_status st = tc_layer_conv2d_run(m, rt, &c->conv, x, y, err);
    if (st == TERRACL_OK && (st = tc_op_relu(rt, y, y, err)))
        tc_tensor_free(y);
    return st;
}

/* Feature j of smp's list: TerraTorch's decoder sees [f0, f0, f1, ...]. */
static const struct tc_tensor *feature(const struct unet *p, const struct tc_feats *in, size_t j)
{
    return p->smp ? &in->t[j] : &in->t[j == 0 ? 0 : j - 1];
}

static int64_t feature_channels(const struct unet *p, size_t j)
{
    return p->smp ? p->ch.c[j] : p->ch.c[j == 0 ? 0 : j - 1];
}

static terracl_status unet_forward(terracl_module *m, struct tc_exec *ex, const struct tc_feats *in,
                                   struct tc_feats *out, terracl_error *err)
{
    struct unet *p = m->impl;
    terracl_runtime *rt = ex->rt;
    terracl_status st = tc_dec_check_inputs(&p->ch, in, err);
    if (st != TERRACL_OK)
        return st;
    size_t N = p->nblocks + 1; /* length of smp's feature list */
    int64_t B = in->t[0].dims[0];
    struct tc_tensor x = {0};
    const struct tc_tensor *cur = feature(p, in, N - 1);
    for (size_t i = 0; i < p->nblocks && st == TERRACL_OK; i++) {
        const struct tc_tensor *skip = i + 3 <= N ? feature(p, in, N - 2 - i) : NULL;
        const struct tc_tensor *target = skip ? skip : feature(p, in, 0);
        int64_t H = target->dims[2], W = target->dims[3], C = cur->dims[1];
        struct tc_tensor up = {0}, cat = {0}, mid = {0}, y = {0};
        /* The usual block (nearest, BatchNorm, no attention gate on the
         * join) convolves the join where it lies; otherwise it is made.
         * With BatchNorm and no gates the block's two convolutions run as
         * a pair, the second without its padded copy where the device
         * allows (tc_layer_conv2d_bn_relu_pair). */
        const int joined_in_place = skip && !p->bilinear && p->batchnorm && !p->scse;
        const int paired = p->batchnorm && !p->scse;
        /* Without a skip, such a pair upsamples (nearest) as it joins: a
         * join of the upsampled map with nothing. */
        const int upsampled_in_place = !skip && !p->bilinear && paired;
        struct tc_tensor nothing = *cur;
        nothing.owns_buf = 0;
        nothing.dims[1] = 0;
        nothing.dims[2] = H;
        nothing.dims[3] = W;
        if (skip && !joined_in_place) {
            st = tc_dec_alloc(rt, B, C + skip->dims[1], H, W, &cat, err);
            if (st == TERRACL_OK)
                st = tc_op_upsample_concat(rt, cur, skip, p->bilinear, &cat, err);
            if (st == TERRACL_OK && p->scse)
                st = scse_run(m, rt, &p->att[i][0], &cat, err);
        } else if (!skip && !upsampled_in_place) {
            st = tc_dec_alloc(rt, B, C, H, W, &up, err);
            if (st == TERRACL_OK)
                st = p->bilinear ? tc_op_resize_bilinear(rt, cur, 0, &up, err)
                                 : tc_op_resize_nearest(rt, cur, 0.0, 0.0, &up, err);
        }
        const struct tc_tensor *src = joined_in_place      ? skip
                                      : skip                ? &cat
                                      : upsampled_in_place ? &nothing
                                                           : &up;
        if (st == TERRACL_OK && paired) {
            const int join = joined_in_place || upsampled_in_place;
            st = tc_layer_conv2d_bn_relu_pair(m, rt, &p->blocks[i][0].conv, &p->blocks[i][0].bn,
                                              &p->blocks[i][1].conv, &p->blocks[i][1].bn,
                                              join ? cur : NULL, src, &y, err);
        } else if (st == TERRACL_OK) {
            st = conv_relu(m, rt, p, &p->blocks[i][0], src, &mid, err);
            if (st == TERRACL_OK)
                st = conv_relu(m, rt, p, &p->blocks[i][1], &mid, &y, err);
        }
        tc_tensor_free(&up);
        tc_tensor_free(&cat);
        tc_tensor_free(&mid);
        tc_tensor_free(&x);
        x = y;
        if (st == TERRACL_OK && p->scse)
            st = scse_run(m, rt, &p->att[i][1], &x, err);
        cur = &x;
    }
    if (st != TERRACL_OK) {
        tc_tensor_free(&x);
        return st;
    }
    tc_dec_output(out, &x);
    return TERRACL_OK;
}

static const struct tc_module_vtable k_unet_vt = {unet_forward, free};

static terracl_status declare(terracl_module *m, struct unet *p, terracl_error *err)
{
    size_t N = p->nblocks + 1;
    terracl_status st = TERRACL_OK;
    for (size_t i = 0; i < p->nblocks && st == TERRACL_OK; i++) {
        int64_t in = (i == 0 ? feature_channels(p, N - 1) : p->channels[i - 1]) +
                     (i + 3 <= N ? feature_channels(p, N - 2 - i) : 0);
        int64_t outc = p->channels[i];
        for (int j = 0; j < 2 && st == TERRACL_OK; j++) {
            struct unet_conv *c = &p->blocks[i][j];
            char name[64];
            snprintf(name, sizeof name, "%sblocks.%zu.conv%d.0", p->prefix, i, j + 1);
            st = tc_layer_conv2d(m, name, j == 0 ? in : outc, outc, 3, 1, 1, 1, !p->batchnorm,
                                 &c->conv, err);
            snprintf(name, sizeof name, "%sblocks.%zu.conv%d.1", p->prefix, i, j + 1);
            if (st == TERRACL_OK && p->batchnorm)
                st = tc_layer_batchnorm2d(m, name, outc, p->bn_eps, &c->bn, err);
            if (st == TERRACL_OK && p->batchnorm)
                st = tc_layer_fold_batchnorm(m, &c->conv, &c->bn, err);
        }
        /* attention1 of the last block (no skip) exists in PyTorch but never
         * runs: declared like the others, so the parameter count is
         * PyTorch's, unless too narrow to exist at all. */
        int last = i + 3 > N;
        for (int j = 0; p->scse && j < 2 && st == TERRACL_OK; j++) {
            int64_t c = j == 0 ? in : outc;
            struct scse *a = &p->att[i][j];
            char name[96];
            if (last && j == 0 && c < 16)
                continue;
            if (c < 16)
                return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                               "attention_type='scse' needs at least 16 channels in each gated "
                               "block (block %zu has %lld)",
                               i, (long long)c);
            snprintf(name, sizeof name, "%sblocks.%zu.attention%d.attention.cSE.1", p->prefix,
                     i, j + 1);
            st = tc_layer_conv2d(m, name, c, c / 16, 1, 1, 0, 1, 1, &a->c1, err);
            snprintf(name, sizeof name, "%sblocks.%zu.attention%d.attention.cSE.3", p->prefix,
                     i, j + 1);
            if (st == TERRACL_OK)
                st = tc_layer_conv2d(m, name, c / 16, c, 1, 1, 0, 1, 1, &a->c2, err);
            snprintf(name, sizeof name, "%sblocks.%zu.attention%d.attention.sSE.0", p->prefix,
                     i, j + 1);
            if (st == TERRACL_OK)
                st = tc_layer_conv2d(m, name, c, 1, 1, 1, 0, 1, 1, &a->s, err);
        }
    }
    return st;
}

static terracl_status norm_type(const char *s, int *batchnorm, terracl_error *err)
{
    char low[32];
    size_t i = 0;
    for (; s[i] && i + 1 < sizeof low; i++)
        low[i] = (char)tolower((unsigned char)s[i]);
    low[i] = '\0';
    if (strcmp(low, "batchnorm") == 0)
        *batchnorm = 1;
    else if (strcmp(low, "identity") == 0)
        *batchnorm = 0;
    else if (strcmp(low, "layernorm") == 0 || strcmp(low, "instancenorm") == 0 ||
             strcmp(low, "inplace") == 0)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "use_batchnorm='%s' is not supported (batchnorm or identity)", s);
    else
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "use_batchnorm: unknown normalization '%s' (expected batchnorm, identity, "
                       "layernorm, instancenorm or inplace)",
                       s);
    return TERRACL_OK;
}

/* smp's use_norm: True/False, a name, or {type: name, **BatchNorm2d kwargs}. */
static terracl_status read_norm(const terracl_value *args, const char *key, struct unet *p,
                                terracl_error *err)
{
    p->batchnorm = 1;
    p->bn_eps = 1e-5f;
    const terracl_value *v = args ? terracl_value_map_get(args, key) : NULL;
    switch (v ? terracl_value_type_of(v) : TERRACL_VALUE_NULL) {
    case TERRACL_VALUE_NULL:
        return TERRACL_OK;
    case TERRACL_VALUE_BOOL:
        p->batchnorm = terracl_value_bool(v);
        return TERRACL_OK;
    case TERRACL_VALUE_STRING:
        return norm_type(terracl_value_string(v), &p->batchnorm, err);
    case TERRACL_VALUE_MAP: {
        const char *type = NULL;
        double eps = 1e-5;
        terracl_status st = terracl_args_string(v, "type", NULL, &type, err);
        if (st == TERRACL_OK && type == NULL)
            st = tc_fail(err, TERRACL_ERR_CONFIG, "use_batchnorm: the dict needs a 'type' key");
        if (st == TERRACL_OK)
            st = norm_type(type, &p->batchnorm, err);
        if (st == TERRACL_OK && p->batchnorm)
            st = terracl_args_float(v, "eps", 1e-5, &eps, err);
        if (st == TERRACL_OK && p->batchnorm)
            (void)terracl_value_map_get(v, "momentum"); /* training only */
        const char *unused[1];
        if (st == TERRACL_OK && terracl_value_unused_keys(v, unused, 1) > 0)
            st = tc_fail(err, TERRACL_ERR_UNSUPPORTED, "use_batchnorm: option '%s' is not supported",
                         unused[0]);
        p->bn_eps = (float)eps;
        return st;
    }
    default:
        return tc_fail(err, TERRACL_ERR_TYPE,
                       "use_batchnorm: expected a bool, a string or a dict, got %s",
                       terracl_value_type_name(terracl_value_type_of(v)));
    }
}

static terracl_status read_args(struct unet *p, const terracl_value *first,
                                const terracl_value *args, terracl_error *err)
{
    size_t nch = 0;
    int present = 0;
    const char *attention = NULL;
    terracl_status st = tc_dec_read_channels(first, &p->ch, err);
    if (st == TERRACL_OK)
        st = terracl_args_int_list(args, "channels", p->channels, TC_DEC_MAX_INPUTS, &nch,
                                   &present, err);
    if (st == TERRACL_OK && !present)
        st = tc_fail(err, TERRACL_ERR_CONFIG, "channels (the list of decoder channels) is required");
    if (st == TERRACL_OK && nch != p->ch.n)
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "channels should have the same length as embed_dim (%zu vs %zu)", nch,
                     p->ch.n);
    for (size_t i = 0; st == TERRACL_OK && i < nch; i++)
        if (p->channels[i] < 1 || p->channels[i] > (1 << 20))
            st = tc_fail(err, TERRACL_ERR_CONFIG, "channels[%zu] must be positive", i);
    if (st == TERRACL_OK)
        st = read_norm(args, "use_batchnorm", p, err);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "attention_type", NULL, &attention, err);
    if (st == TERRACL_OK && attention != NULL && strcmp(attention, "scse") != 0)
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "attention_type='%s' is not implemented (None or scse)", attention);
    p->scse = attention != NULL;
    p->nblocks = p->ch.n;
    p->prefix = "decoder.";
    return st;
}

/* smp's Unet arguments, as its model class takes them (decoder_ prefixed). */
static terracl_status read_smp_args(struct unet *p, const terracl_value *first,
                                    const terracl_value *args, terracl_error *err)
{
    size_t nch = 0;
    int present = 0;
    const char *attention = NULL, *interp = NULL;
    terracl_status st = tc_dec_read_channels(first, &p->ch, err);
    if (st == TERRACL_OK && p->ch.n < 2)
        st = tc_fail(err, TERRACL_ERR_CONFIG, "smp's Unet needs at least 2 feature maps (got %zu)",
                     p->ch.n);
    if (st != TERRACL_OK)
        return st;
    p->smp = 1;
    p->nblocks = p->ch.n - 1; /* smp's encoder_depth */
    st = terracl_args_int_list(args, "decoder_channels", p->channels, TC_DEC_MAX_INPUTS, &nch,
                               &present, err);
    if (st == TERRACL_OK && !present) {
        static const int64_t def[5] = {256, 128, 64, 32, 16};
        memcpy(p->channels, def, sizeof def);
        nch = 5;
    }
    if (st == TERRACL_OK && nch != p->nblocks)
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "Model depth is %zu, but you provide `decoder_channels` for %zu blocks (%zu "
                     "feature maps make %zu blocks)",
                     p->nblocks, nch, p->ch.n, p->nblocks);
    for (size_t i = 0; st == TERRACL_OK && i < nch; i++)
        if (p->channels[i] < 1 || p->channels[i] > (1 << 20))
            st = tc_fail(err, TERRACL_ERR_CONFIG, "decoder_channels[%zu] must be positive", i);
    /* decoder_use_batchnorm is smp's deprecated name; it wins when given. */
    if (st == TERRACL_OK)
        st = read_norm(args, terracl_value_map_peek(args, "decoder_use_batchnorm")
                                 ? "decoder_use_batchnorm" : "decoder_use_norm", p, err);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "decoder_attention_type", NULL, &attention, err);
    if (st == TERRACL_OK && attention != NULL && strcmp(attention, "scse") != 0)
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "decoder_attention_type='%s' is not implemented (None or scse)", attention);
    p->scse = attention != NULL;
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "decoder_interpolation", "nearest", &interp, err);
    if (st == TERRACL_OK && strcmp(interp, "nearest") != 0 && strcmp(interp, "bilinear") != 0)
        st = tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                     "decoder_interpolation='%s' is not supported (nearest or bilinear)", interp);
    if (st == TERRACL_OK)
        p->bilinear = strcmp(interp, "bilinear") == 0;
    return st;
}

static terracl_status build(struct unet *p, const char *type, terracl_module **out,
                            terracl_error *err)
{
    terracl_module *m = NULL;
    terracl_status st = tc_module_create(type, &k_unet_vt, p, &m, err);
    if (st == TERRACL_OK)
        st = declare(m, p, err);
    if (st == TERRACL_OK) {
        terracl_value *cfg = terracl_value_new_map();
        const char *pre = p->smp ? "decoder_" : "";
        char key[64];
        tc_value_set_chained(cfg, "embed_dim",
                             tc_value_int_list(p->ch.c, p->ch.n), &st, err);
        snprintf(key, sizeof key, "%schannels", pre);
        tc_value_set_chained(cfg, key, tc_value_int_list(p->channels, p->nblocks), &st, err);
        tc_value_set_chained(cfg, p->smp ? "decoder_use_norm" : "use_batchnorm",
                   terracl_value_new_string(p->batchnorm ? "batchnorm" : "identity"), &st, err);
        if (p->batchnorm && p->bn_eps != 1e-5f)
            tc_value_set_chained(cfg, "batchnorm_eps", terracl_value_new_float(p->bn_eps), &st, err);
        snprintf(key, sizeof key, "%sattention_type", pre);
        tc_value_set_chained(cfg, key,
                   p->scse ? terracl_value_new_string("scse") : terracl_value_new_null(), &st, err);
        if (p->smp)
            tc_value_set_chained(cfg, "decoder_interpolation",
                                 terracl_value_new_string(p->bilinear ? "bilinear" : "nearest"),
                                 &st, err);
        if (st == TERRACL_OK)
            st = tc_dec_finish(m, cfg, p->channels[p->nblocks - 1], err);
        else
            terracl_value_free(cfg);
    }
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "%s", type);
    }
    *out = m;
    return TERRACL_OK;
}

terracl_status tc_unet_decoder(const terracl_value *first, const terracl_value *args, void *user,
                               terracl_module **out, terracl_error *err)
{
    (void)user;
    *out = NULL;
    struct unet *p = calloc(1, sizeof *p);
    terracl_status st = p ? read_args(p, first, args, err)
                          : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st != TERRACL_OK) {
        free(p);
        return tc_fail_context(err, st, "UNetDecoder");
    }
    return build(p, "UNetDecoder", out, err);
}

terracl_status tc_smp_unet_decoder_at(const terracl_value *first, const terracl_value *args,
                                      const char *prefix, terracl_module **out,
                                      terracl_error *err)
{
    *out = NULL;
    struct unet *p = calloc(1, sizeof *p);
    terracl_status st = p ? read_smp_args(p, first, args, err)
                          : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st != TERRACL_OK) {
        free(p);
        return tc_fail_context(err, st, "smp Unet");
    }
    p->prefix = prefix;
    return build(p, "UnetDecoder", out, err);
}

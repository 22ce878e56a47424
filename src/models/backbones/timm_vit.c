/*
 * timm's VisionTransformer as a features_only extractor (FeatureGetterNet
 * over forward_intermediates):
 *   tokens = patch_embed(x)                     (Conv2d p x p / p, as a GEMM)
 *   x = [cls | tokens] + pos_embed              (learned table, 1 + N rows)
 *   x = block_i(x) for the blocks kept          (pre-norm, LayerNorm eps 1e-6)
 *   feature = x[:, 1:] as [B, D, H/p, W/p]      (no final norm)
 */
#include "models/backbones/timm_vit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "graph/exec.h"
#include "graph/mem_estimate.h"
#include "models/backbones/feature_config.h"
#include "models/backbones/prithvi_vit.h"
#include "models/backbones/vit_attention.h"
#include "ops/elementwise.h"
#include "ops/layout.h"
#include "ops/linear.h"
#include "ops/norm.h"
#include "ops/patch.h"

#define LN_EPS 1e-6f
#define MAX_DEPTH 256

struct variant {
    const char *name;
    int64_t dim, depth, heads, img;
};

static const struct variant k_variants[] = {
    {"vit_tiny_patch16_224", 192, 12, 3, 224},   {"vit_small_patch16_224", 384, 12, 6, 224},
    {"vit_base_patch16_224", 768, 12, 12, 224},  {"vit_large_patch16_224", 1024, 24, 16, 224},
    {"vit_tiny_patch16_384", 192, 12, 3, 384},   {"vit_small_patch16_384", 384, 12, 6, 384},
    {"vit_base_patch16_384", 768, 12, 12, 384},  {"vit_large_patch16_384", 1024, 24, 16, 384},
};

struct block {
    size_t norm1_w, norm1_b, qkv_w, qkv_b, proj_w, proj_b;
    size_t norm2_w, norm2_b, fc1_w, fc1_b, fc2_w, fc2_b;
};

struct vit {
    char prefix[16]; /* "model." (FeatureGetterNet) or "timm_model." (TimmModelWrapper) */
    int classifier;  /* the whole classifier: final norm, CLS token, head */
    int whole;       /* every block returned; norm and head counted, never run */
    int64_t num_classes;
    size_t p_norm_w, p_norm_b, p_head_w, p_head_b;
    int64_t dim, heads, hidden, patch, in_chans, img_h, img_w, grid_h, grid_w;
    int qkv_bias;
    size_t p_cls, p_pos, p_patch_w, p_patch_b;
    struct block *blocks;
    int64_t n_blocks;      /* kept: up to the last requested one */
    unsigned char *keep;   /* per kept block: returned */
    size_t n_out;
};

static void vit_free(void *impl)
{
    struct vit *v = impl;
    if (v == NULL)
        return;
    free(v->blocks);
    free(v->keep);
    free(v);
}

static terracl_status vit_forward(terracl_module *m, struct tc_exec *ex, const struct tc_feats *in,
                                  struct tc_feats *out, terracl_error *err);
static const struct tc_module_vtable k_vit_vt = {vit_forward, vit_free};

int tc_timm_vit_is(const terracl_module *m) { return m != NULL && m->vt == &k_vit_vt; }

int64_t tc_timm_vit_patch_size(const terracl_module *m)
{
    return ((const struct vit *)m->impl)->patch;
}

/* ---- construction ------------------------------------------------------ */

/* img_size: an int or [h, w]. */
static terracl_status read_img_size(const terracl_value *args, int64_t def, int64_t *h,
                                    int64_t *w, terracl_error *err)
{
    int64_t v[3];
    size_t n = 0;
    int present = 0;
    terracl_status st = terracl_args_int_list(args, "img_size", v, 3, &n, &present, err);
    if (st != TERRACL_OK)
        return st;
    if (!present || n == 0)
        *h = *w = def;
    else if (n == 1)
        *h = *w = v[0];
    else if (n == 2) {
        *h = v[0];
        *w = v[1];
    } else
        return tc_fail(err, TERRACL_ERR_CONFIG, "img_size: expected an int or [h, w]");
    return TERRACL_OK;
}

/* timm's feature_take_indices: an int n is the last n blocks, a list names
 * blocks (negative from the end); returned in block order either way. */
static terracl_status read_out_indices(const terracl_value *args, int64_t depth, struct vit *v,
                                       terracl_error *err)
{
    int64_t idx[MAX_DEPTH];
    size_t n = 0;
    int present = 0;
    const terracl_value *raw = terracl_value_map_peek(args, "out_indices");
    int is_count = raw == NULL || terracl_value_type_of(raw) == TERRACL_VALUE_INT ||
                   terracl_value_type_of(raw) == TERRACL_VALUE_NULL;
    terracl_status st = terracl_args_int_list(args, "out_indices", idx, MAX_DEPTH, &n, &present,
                                              err);
    if (st != TERRACL_OK)
        return st;
    v->keep = calloc((size_t)depth, 1);
    if (v->keep == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (is_count) {
        int64_t count = present && n == 1 ? idx[0] : 3;
        if (count < 1 || count > depth)
            return tc_fail(err, TERRACL_ERR_CONFIG, "out_indices %lld: expected 1 to %lld blocks",
                           (long long)count, (long long)depth);
        for (int64_t i = depth - count; i < depth; i++)
            v->keep[i] = 1;
    } else {
        if (n == 0)
            return tc_fail(err, TERRACL_ERR_CONFIG, "out_indices: empty list");
        for (size_t i = 0; i < n; i++) {
            int64_t k = idx[i] < 0 ? idx[i] + depth : idx[i];
            if (k < 0 || k >= depth)
                return tc_fail(err, TERRACL_ERR_CONFIG, "out_indices entry %lld outside 0..%lld",
                               (long long)idx[i], (long long)depth - 1);
            if (v->keep[k])
                return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "out_indices lists block %lld twice",
                               (long long)k);
            v->keep[k] = 1;
        }
    }
    v->n_out = 0;
    v->n_blocks = 0;
    for (int64_t i = 0; i < depth; i++)
        if (v->keep[i]) {
            v->n_out++;
            v->n_blocks = i + 1;
        }
    if (v->n_out > TC_MAX_FEATS)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "out_indices: at most %d features",
                       TC_MAX_FEATS);
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

static terracl_status declare_block(terracl_module *m, struct vit *v, int64_t i,
                                    terracl_error *err)
{
    struct block *b = &v->blocks[i];
    int64_t D = v->dim;
    char n[12][112];
    const char *leaf[12] = {"norm1.weight",    "norm1.bias",    "attn.qkv.weight",
                            "attn.qkv.bias",   "attn.proj.weight", "attn.proj.bias",
                            "norm2.weight",    "norm2.bias",    "mlp.fc1.weight",
                            "mlp.fc1.bias",    "mlp.fc2.weight", "mlp.fc2.bias"};
    for (int k = 0; k < 12; k++)
        snprintf(n[k], sizeof n[k], "%sblocks.%lld.%s", v->prefix, (long long)i, leaf[k]);
    terracl_status st;
    if ((st = add_vec(m, n[0], D, &b->norm1_w, err)) || (st = add_vec(m, n[1], D, &b->norm1_b, err)) ||
        (st = add_mat(m, n[2], 3 * D, D, &b->qkv_w, err)) ||
        (v->qkv_bias && (st = add_vec(m, n[3], 3 * D, &b->qkv_b, err))) ||
        (st = add_mat(m, n[4], D, D, &b->proj_w, err)) ||
        (st = add_vec(m, n[5], D, &b->proj_b, err)) ||
        (st = add_vec(m, n[6], D, &b->norm2_w, err)) ||
        (st = add_vec(m, n[7], D, &b->norm2_b, err)) ||
        (st = add_mat(m, n[8], v->hidden, D, &b->fc1_w, err)) ||
        (st = add_vec(m, n[9], v->hidden, &b->fc1_b, err)) ||
        (st = add_mat(m, n[10], D, v->hidden, &b->fc2_w, err)) ||
        (st = add_vec(m, n[11], D, &b->fc2_b, err)))
        return st;
    return TERRACL_OK;
}

static terracl_status declare_params(terracl_module *m, struct vit *v, terracl_error *err)
{
    int64_t D = v->dim, L = v->grid_h * v->grid_w + 1;
    int64_t cls_dims[3] = {1, 1, D}, pos_dims[3] = {1, L, D};
    int64_t pw_dims[4] = {D, v->in_chans, v->patch, v->patch};
    terracl_status st;
    char n[4][64];
    const char *leaf[4] = {"cls_token", "pos_embed", "patch_embed.proj.weight",
                           "patch_embed.proj.bias"};
    for (int k = 0; k < 4; k++)
        snprintf(n[k], sizeof n[k], "%s%s", v->prefix, leaf[k]);
    if ((st = tc_module_add_param(m, n[0], 3, cls_dims, &v->p_cls, err)) ||
        (st = tc_module_add_param(m, n[1], 3, pos_dims, &v->p_pos, err)) ||
        (st = tc_module_add_param(m, n[2], 4, pw_dims, &v->p_patch_w, err)) ||
        (st = add_vec(m, n[3], D, &v->p_patch_b, err)))
        return st;
    /* Only ever the Linear weight of the patch GEMM, through its flattening. */
    tc_module_mark_gemm_weight(m, v->p_patch_w);
    for (int64_t i = 0; i < v->n_blocks; i++)
        if ((st = declare_block(m, v, i, err)))
            return tc_fail_context(err, st, "block %lld", (long long)i);
    if (v->whole) {
        /* forward_intermediates skips them; they count as the model's. */
        int64_t norm[1] = {D}, head[2] = {v->num_classes, D};
        if ((st = tc_module_add_counted(m, "norm.weight", 1, norm, err)) ||
            (st = tc_module_add_counted(m, "norm.bias", 1, norm, err)))
            return st;
        if (v->num_classes > 0 && ((st = tc_module_add_counted(m, "head.weight", 2, head, err)) ||
                                   (st = tc_module_add_counted(m, "head.bias", 1, head, err))))
            return st;
        return TERRACL_OK;
    }
    if (!v->classifier)
        return TERRACL_OK;
    const char *tail[4] = {"norm.weight", "norm.bias", "head.weight", "head.bias"};
    for (int k = 0; k < 4; k++)
        snprintf(n[k], sizeof n[k], "%s%s", v->prefix, tail[k]);
    if ((st = add_vec(m, n[0], D, &v->p_norm_w, err)) ||
        (st = add_vec(m, n[1], D, &v->p_norm_b, err)) ||
        (st = add_mat(m, n[2], v->num_classes, D, &v->p_head_w, err)) ||
        (st = add_vec(m, n[3], v->num_classes, &v->p_head_b, err)))
        return st;
    return TERRACL_OK;
}

static terracl_status record_config(terracl_module *m, const char *name, int64_t depth,
                                    terracl_error *err)
{
    const struct vit *v = m->impl;
    int64_t outs[MAX_DEPTH], img[2] = {v->img_h, v->img_w};
    size_t n = 0;
    for (int64_t i = 0; v->keep != NULL && i < v->n_blocks; i++)
        if (v->keep[i])
            outs[n++] = i;
    const struct {
        const char *key;
        int64_t value;
    } ints[] = {{"patch_size", v->patch}, {"embed_dim", v->dim},   {"depth", depth},
                {"num_heads", v->heads},  {"mlp_hidden", v->hidden}};
    terracl_value *cfg = tc_feature_config_new(name, v->in_chans);
    terracl_status st = cfg ? TERRACL_OK : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; st == TERRACL_OK && i < sizeof ints / sizeof *ints; i++)
        st = terracl_value_map_set(cfg, ints[i].key, terracl_value_new_int(ints[i].value), err);
    if (st == TERRACL_OK)
        st = tc_feature_config_ints(cfg, "img_size", img, 2, err);
    if (st == TERRACL_OK)
        st = tc_feature_config_ints(cfg, "out_indices", outs, n, err);
    if (st != TERRACL_OK) {
        terracl_value_free(cfg);
        return st;
    }
    tc_module_set_config(m, cfg);
    return TERRACL_OK;
}

/* num_classes < 0: the features_only extractor (`whole`: the whole model
 * returning every block, num_classes read from args); otherwise the
 * classifier. */
static terracl_status build(const struct variant *var, const terracl_value *args,
                            int64_t num_classes, int whole, terracl_module **out,
                            terracl_error *err)
{
    *out = NULL;
    terracl_value *empty = NULL;
    if (args == NULL) {
        if ((empty = terracl_value_new_map()) == NULL)
            return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        args = empty;
    }
    terracl_module *m = NULL;
    struct vit *v = calloc(1, sizeof *v);
    terracl_status st = v ? TERRACL_OK : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    int64_t depth = var->depth;
    double mlp_ratio = 4.0;
    int pretrained = 0, features_only = 1, dynamic = 0, class_token = 1;
    const char *pool = "token";
    if (st == TERRACL_OK) {
        v->qkv_bias = 1;
        v->classifier = num_classes >= 0;
        v->whole = whole;
        v->num_classes = num_classes;
        snprintf(v->prefix, sizeof v->prefix, "%s",
                 v->classifier ? "timm_model." : whole ? "" : "model.");
        st = read_img_size(args, var->img, &v->img_h, &v->img_w, err);
    }
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "patch_size", 16, &v->patch, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "in_chans", 3, &v->in_chans, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "embed_dim", var->dim, &v->dim, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "depth", var->depth, &depth, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "num_heads", var->heads, &v->heads, err);
    if (st == TERRACL_OK)
        st = terracl_args_float(args, "mlp_ratio", 4.0, &mlp_ratio, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "qkv_bias", 1, &v->qkv_bias, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "pretrained", 0, &pretrained, err);
    if (st == TERRACL_OK && whole) {
        features_only = 0;
        st = terracl_args_int(args, "num_classes", 1000, &v->num_classes, err);
    }
    if (st == TERRACL_OK && !v->classifier)
        st = terracl_args_bool(args, "features_only", features_only, &features_only, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "dynamic_img_size", 0, &dynamic, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "class_token", 1, &class_token, err);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "global_pool", "token", &pool, err);
    /* Regularisers: identities in eval mode, accepted as timm does. */
    static const char *const k_no_effect[] = {"drop_rate", "pos_drop_rate", "patch_drop_rate",
                                              "proj_drop_rate", "attn_drop_rate",
                                              "drop_path_rate"};
    for (size_t i = 0; st == TERRACL_OK && i < sizeof k_no_effect / sizeof *k_no_effect; i++) {
        double ignored = 0;
        st = terracl_args_float(args, k_no_effect[i], 0.0, &ignored, err);
    }
    const terracl_value *init_values = terracl_value_map_peek(args, "init_values");
    if (st == TERRACL_OK && init_values != NULL &&
        terracl_value_type_of(init_values) != TERRACL_VALUE_NULL)
        st = tc_fail(err, TERRACL_ERR_UNSUPPORTED, "init_values (layer scale) is not supported");
    else if (st == TERRACL_OK && init_values != NULL) {
        double ignored = 0;
        st = terracl_args_float(args, "init_values", 0.0, &ignored, err);
    }
    if (st != TERRACL_OK)
        goto fail;
    if (pretrained) {
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "pretrained=True: terracl never downloads weights; build with "
                     "pretrained=False and load a converted checkpoint");
        goto fail;
    }
    const char *unsupported = features_only == whole
                                  ? (whole ? "features_only=True (TerraTorch's wrapper needs the "
                                             "whole model's forward_intermediates)"
                                           : "features_only=False")
                              : dynamic      ? "dynamic_img_size=True"
                              : !class_token ? "class_token=False"
                              : strcmp(pool, "token") != 0 ? "a global_pool other than token"
                                                           : NULL;
    if (unsupported) {
        st = tc_fail(err, TERRACL_ERR_UNSUPPORTED, "%s is not supported", unsupported);
        goto fail;
    }
    if (v->patch < 1 || v->patch > 1024 || v->img_h < v->patch || v->img_w < v->patch ||
        v->img_h > 1 << 16 || v->img_w > 1 << 16 || v->in_chans < 1 || v->in_chans > 1 << 16 ||
        v->dim < 1 || v->dim > 1 << 16 || v->heads < 1 || v->dim % v->heads != 0 || depth < 1 ||
        depth > MAX_DEPTH || !(mlp_ratio > 0 && mlp_ratio <= 64)) {
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "img_size %lldx%lld, patch_size %lld, in_chans %lld, embed_dim %lld, "
                     "num_heads %lld, depth %lld or mlp_ratio is invalid",
                     (long long)v->img_h, (long long)v->img_w, (long long)v->patch,
                     (long long)v->in_chans, (long long)v->dim, (long long)v->heads,
                     (long long)depth);
        goto fail;
    }
    v->hidden = (int64_t)((double)v->dim * mlp_ratio); /* int(), as timm's Block */
    v->grid_h = v->img_h / v->patch;
    v->grid_w = v->img_w / v->patch;
    if (v->classifier) {
        /* Every block, then norm, the CLS token and the head. */
        if (num_classes < 1 || num_classes > 1 << 20) {
            st = tc_fail(err, TERRACL_ERR_CONFIG, "num_classes %lld is invalid",
                         (long long)num_classes);
            goto fail;
        }
        v->n_blocks = depth;
        v->n_out = 1;
    } else if (whole) {
        if (v->num_classes < 0 || v->num_classes > 1 << 20 || depth > TC_MAX_FEATS) {
            st = tc_fail(err, TERRACL_ERR_CONFIG,
                         "num_classes %lld or depth %lld (at most %d blocks returned) is invalid",
                         (long long)v->num_classes, (long long)depth, TC_MAX_FEATS);
            goto fail;
        }
        v->n_blocks = depth;
        v->n_out = (size_t)depth;
        if ((v->keep = malloc((size_t)depth)) == NULL) {
            st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
            goto fail;
        }
        memset(v->keep, 1, (size_t)depth);
    } else if ((st = read_out_indices(args, depth, v, err))) {
        goto fail;
    }
    v->blocks = calloc((size_t)v->n_blocks, sizeof *v->blocks);
    if (v->blocks == NULL) {
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    st = tc_module_create("TimmViT", &k_vit_vt, v, &m, err);
    struct vit *vv = v;
    v = NULL; /* owned by m from here */
    if (st != TERRACL_OK || (st = declare_params(m, vv, err)))
        goto fail;
    int64_t ch[TC_MAX_FEATS];
    for (size_t i = 0; i < vv->n_out; i++)
        ch[i] = vv->classifier ? vv->num_classes : vv->dim;
    if ((st = tc_module_set_out_channels(m, ch, vv->n_out, err)) ||
        (st = record_config(m, var->name, depth, err)))
        goto fail;
    terracl_value_free(empty);
    *out = m;
    return TERRACL_OK;

fail:
    vit_free(v);
    terracl_module_destroy(m);
    terracl_value_free(empty);
    return tc_fail_context(err, st, whole ? "%s" : "timm_%s", var->name);
}

#define VIT_CTOR(fn, index)                                                                        \
    terracl_status fn(const terracl_value *first, const terracl_value *args, void *user,          \
                      terracl_module **out, terracl_error *err)                                    \
    {                                                                                              \
        (void)first;                                                                               \
        (void)user;                                                                                \
        return build(&k_variants[index], args, -1, 0, out, err);                                   \
    }
VIT_CTOR(tc_timm_vit_tiny_patch16_224, 0)
VIT_CTOR(tc_timm_vit_small_patch16_224, 1)
VIT_CTOR(tc_timm_vit_base_patch16_224, 2)
VIT_CTOR(tc_timm_vit_large_patch16_224, 3)
VIT_CTOR(tc_timm_vit_tiny_patch16_384, 4)
VIT_CTOR(tc_timm_vit_small_patch16_384, 5)
VIT_CTOR(tc_timm_vit_base_patch16_384, 6)
VIT_CTOR(tc_timm_vit_large_patch16_384, 7)

terracl_status tc_timm_vit_classifier(const char *name, const terracl_value *args,
                                      int64_t num_classes, terracl_module **out,
                                      terracl_error *err)
{
    *out = NULL;
    /* "arch.tag": the tag names pretrained weights, not an architecture. */
    size_t len = strcspn(name, ".");
    for (size_t i = 0; i < sizeof k_variants / sizeof *k_variants; i++)
        if (strlen(k_variants[i].name) == len && strncmp(k_variants[i].name, name, len) == 0)
            return build(&k_variants[i], args, num_classes, 0, out, err);
    return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                   "timm model '%s' is not supported as a classifier (supported: the plain "
                   "vit_{tiny,small,base,large}_patch16_{224,384})",
                   name);
}

terracl_status tc_timm_vit_whole(const char *arch, const terracl_value *args,
                                 terracl_module **out, terracl_error *err)
{
    *out = NULL;
    for (size_t i = 0; i < sizeof k_variants / sizeof *k_variants; i++)
        if (strcmp(k_variants[i].name, arch) == 0)
            return build(&k_variants[i], args, -1, 1, out, err);
    return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "timm ViT '%s' is not supported", arch);
}

void tc_timm_vit_estimate(const terracl_module *m, int ndim, const int64_t *dims,
                          uint64_t (*attn_scratch)(const void *ctx, uint64_t len, uint64_t dim,
                                                   uint64_t heads),
                          const void *ctx, struct tc_mem_estimate *e)
{
    if (!tc_timm_vit_is(m) || ndim != 4)
        return;
    const struct vit *v = m->impl;
    /* The input must be img_size (checked by the forward): the sizes are the model's. */
    int64_t B = dims[0], N = v->grid_h * v->grid_w, L = N + 1, D = v->dim;
    int64_t BN = B > INT64_MAX / N ? INT64_MAX : B * N;
    int64_t patches[2] = {BN, v->in_chans * v->patch * v->patch}, tokens[2] = {BN, D};
    int64_t x[3] = {B, L, D}, qkv[3] = {B, L, 3 * D}, hidden[3] = {B, L, v->hidden};
    uint64_t sc = attn_scratch(ctx, (uint64_t)L, (uint64_t)D, (uint64_t)v->heads);
    int64_t scores[1] = {sc > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)sc};
    tc_mem_add_device(e, "ViT patches", 2, patches, 1);
    tc_mem_add_device(e, "ViT tokens", 2, tokens, 1);
    tc_mem_add_device(e, "ViT block activations", 3, x, 3); /* x, its LayerNorm, attention */
    tc_mem_add_device(e, "ViT qkv", 3, qkv, 1);
    tc_mem_add_device(e, "ViT attention scratch", 1, scores, 1);
    tc_mem_add_device(e, "ViT MLP hidden", 3, hidden, 1);
    tc_mem_add_device(e, "ViT features", 3, x, v->n_out);
}

/* ---- forward ----------------------------------------------------------- */

static struct tc_tensor *param(terracl_module *m, size_t i) { return &m->params[i].value; }

struct scratch {
    struct tc_tensor x, h, qkv, attn, hidden, scores;
};

static void scratch_free(struct scratch *s)
{
    tc_tensor_free(&s->x);
    tc_tensor_free(&s->h);
    tc_tensor_free(&s->qkv);
    tc_tensor_free(&s->attn);
    tc_tensor_free(&s->hidden);
    tc_tensor_free(&s->scores);
}

static terracl_status run_block(terracl_module *m, terracl_runtime *rt, const struct vit *v,
                                const struct block *b, struct scratch *s, terracl_error *err)
{
    const struct tc_vit_attention_weights aw = {
        param(m, b->norm1_w), param(m, b->norm1_b), param(m, b->qkv_w),
        v->qkv_bias ? param(m, b->qkv_b) : NULL, param(m, b->proj_w), param(m, b->proj_b)};
    terracl_status st;
    if ((st = tc_vit_attention_residual(rt, &aw, v->heads, LN_EPS, &s->x, &s->h, &s->qkv,
                                        &s->scores, &s->attn, err)) ||
        (st = tc_op_layernorm(rt, &s->x, param(m, b->norm2_w), param(m, b->norm2_b), LN_EPS,
                              &s->h, err)) ||
        (st = tc_op_linear_ex(rt, &s->h, param(m, b->fc1_w), param(m, b->fc1_b), 1, 0, &s->hidden,
                              err)) ||
        (st = tc_op_linear_ex(rt, &s->hidden, param(m, b->fc2_w), param(m, b->fc2_b), 0, 1, &s->x,
                              err)))
        return st;
    return TERRACL_OK;
}

static terracl_status vit_forward(terracl_module *m, struct tc_exec *ex, const struct tc_feats *in,
                                  struct tc_feats *out, terracl_error *err)
{
    const struct vit *v = m->impl;
    terracl_runtime *rt = ex->rt;
    char s1[128];
    if (in->n < 1 || in->t[0].ndim != 4)
        return tc_fail(err, TERRACL_ERR_SHAPE, "timm ViT expects one [B, C, H, W] input, got %s",
                       in->n ? tc_shape_str(in->t[0].ndim, in->t[0].dims, s1, sizeof s1)
                             : "none");
    const struct tc_tensor *img = &in->t[0];
    int64_t B = img->dims[0], C = img->dims[1];
    /* timm's PatchEmbed with a fixed img_size refuses any other size. */
    if (C != v->in_chans || img->dims[2] != v->img_h || img->dims[3] != v->img_w)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "input %s: the model was built for [B, %lld, %lld, %lld] (img_size; timm "
                       "accepts no other size without dynamic_img_size)",
                       tc_shape_str(img->ndim, img->dims, s1, sizeof s1), (long long)v->in_chans,
                       (long long)v->img_h, (long long)v->img_w);
    int64_t N = v->grid_h * v->grid_w, L = N + 1, D = v->dim, K = C * v->patch * v->patch;
    struct tc_tensor x5 = *img;
    x5.owns_buf = 0;
    x5.ndim = 5;
    int64_t d5[5] = {B, C, 1, img->dims[2], img->dims[3]};
    memcpy(x5.dims, d5, sizeof d5);

    struct scratch s;
    memset(&s, 0, sizeof s);
    struct tc_tensor patches = {0}, tokens = {0};
    int64_t patches_dims[2] = {B * N, K}, tok_dims[2] = {B * N, D};
    int64_t x_dims[3] = {B, L, D}, qkv_dims[3] = {B, L, 3 * D}, hid_dims[3] = {B, L, v->hidden};
    int64_t sc_dims[1] = {(int64_t)tc_attention_scratch(rt, (size_t)L, (size_t)D,
                                                        (size_t)v->heads)};
    terracl_status st;
    if ((st = tc_tensor_alloc(rt, 2, patches_dims, &patches, err)) ||
        (st = tc_op_patchify(rt, &x5, 1, v->patch, v->patch, &patches, err)) ||
        (st = tc_tensor_alloc(rt, 2, tok_dims, &tokens, err)))
        goto out;
    /* The Conv2d weight [D, C, p, p] as the Linear weight [D, C p p], a view
     * made by hand (a weight packed for the GEMM refuses general reshapes
     * but is packed exactly as this flattening). */
    struct tc_tensor wflat = *param(m, v->p_patch_w);
    wflat.owns_buf = 0;
    wflat.ndim = 2;
    wflat.dims[0] = D;
    wflat.dims[1] = K;
    if ((st = tc_op_linear(rt, &patches, &wflat, param(m, v->p_patch_b), &tokens, err)))
        goto out;
    tc_tensor_free(&patches);

    /* x = [cls | tokens] per batch item (a zero leading dimension repeats
     * the CLS row), then + pos_embed over all 1 + N rows. */
    const struct tc_tensor *cls = param(m, v->p_cls);
    if ((st = tc_tensor_alloc(rt, 3, x_dims, &s.x, err)) ||
        (st = tc_op_copy2d(rt, cls->buf, cls->offset, 0, s.x.buf, 0, (size_t)(L * D), (size_t)B,
                           (size_t)D, err)) ||
        (st = tc_op_copy2d(rt, tokens.buf, 0, (size_t)(N * D), s.x.buf, (size_t)D,
                           (size_t)(L * D), (size_t)B, (size_t)(N * D), err)) ||
        (st = tc_op_add(rt, &s.x, param(m, v->p_pos), &s.x, err)))
        goto out;
    tc_tensor_free(&tokens);

    if ((st = tc_tensor_alloc(rt, 3, x_dims, &s.h, err)) ||
        (st = tc_tensor_alloc(rt, 3, qkv_dims, &s.qkv, err)) ||
        (st = tc_tensor_alloc(rt, 3, x_dims, &s.attn, err)) ||
        (st = tc_tensor_alloc(rt, 3, hid_dims, &s.hidden, err)) ||
        (st = tc_tensor_alloc(rt, 1, sc_dims, &s.scores, err)))
        goto out;
    for (int64_t i = 0; i < v->n_blocks; i++) {
        if ((st = run_block(m, rt, v, &v->blocks[i], &s, err))) {
            tc_fail_context(err, st, "block %lld", (long long)i);
            goto out;
        }
        if (v->classifier || !v->keep[i])
            continue;
        /* forward_intermediates: the tokens without CLS, as an image. */
        if ((st = tc_prithvi_tokens_to_image(rt, &s.x, 1, v->grid_h, &out->t[out->n], err)))
            goto out;
        out->n++;
    }

    if (v->classifier) {
        /* forward_head: norm, the CLS token (global_pool 'token'), head. */
        struct tc_tensor cls_rows = {0};
        int64_t cd[2] = {B, D}, od[2] = {B, v->num_classes};
        if ((st = tc_op_layernorm(rt, &s.x, param(m, v->p_norm_w), param(m, v->p_norm_b),
                                  LN_EPS, &s.h, err)) ||
            (st = tc_tensor_alloc(rt, 2, cd, &cls_rows, err)) ||
            (st = tc_op_copy2d(rt, s.h.buf, 0, (size_t)(L * D), cls_rows.buf, 0, (size_t)D,
                               (size_t)B, (size_t)D, err)) ||
            (st = tc_tensor_alloc(rt, 2, od, &out->t[0], err))) {
            tc_tensor_free(&cls_rows);
            goto out;
        }
        out->n = 1;
        st = tc_op_linear(rt, &cls_rows, param(m, v->p_head_w), param(m, v->p_head_b), &out->t[0],
                          err);
        tc_tensor_free(&cls_rows);
    }

out:
    tc_tensor_free(&patches);
    tc_tensor_free(&tokens);
    scratch_free(&s);
    return st;
}

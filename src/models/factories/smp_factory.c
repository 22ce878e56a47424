/*
 * TerraTorch's SMPModelFactory: a segmentation_models_pytorch model (Unet,
 * FPN, DeepLabV3, DeepLabV3Plus, PSPNet, Linknet, UPerNet, UnetPlusPlus, PAN, MAnet, Segformer) on one of smp's own ResNet encoders
 * (resnet18/34/50/101/152, torchvision's layout, which timm's ResNets share
 * key for key), inside TerraTorch's SMPModelWrapper. Keys:
 * smp_model.encoder.*, smp_model.decoder.*, smp_model.segmentation_head.0.*.
 *
 * Arguments as TerraTorch reads them: task (segmentation only), model,
 * backbone, bands (required; in_channels defaults to its length),
 * num_classes (1), pretrained (imagenet weights are replaced by the
 * checkpoint's anyway, so it changes nothing here), smp_* (the smp model's
 * own arguments: encoder_depth, decoder_*, encoder_output_stride,
 * upsampling, activation); backbone_* and aux_* are read and unused, as in
 * TerraTorch, and so is anything else.
 *
 * Forward (smp's SegmentationModel + SMPModelWrapper): the features are the
 * input itself and the encoder's stem and stages up to encoder_depth (stages
 * after output_stride dilated instead of strided), the decoder, the
 * segmentation head (a k x k conv, k = 3 for Unet, UnetPlusPlus, MAnet, PSPNet and PAN, else 1, padding
 * k / 2, then a bilinear align_corners upsampling by the model's factor),
 * and a bilinear (align_corners=False) resize to the input size when it
 * differs. Except for Unet, smp refuses inputs whose sides are not
 * multiples of the encoder's output stride.
 */
#include "models/factories/factories.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/value.h"
#include "graph/exec.h"
#include "models/backbones/resnet.h"
#include "models/decoders/smp.h"
#include "models/layers.h"
#include "ops/resize.h"

enum smp_arch {
    SMP_UNET,
    SMP_FPN,
    SMP_DEEPLABV3,
    SMP_DEEPLABV3PLUS,
    SMP_PSPNET,
    SMP_LINKNET,
    SMP_UPERNET,
    SMP_UNETPLUSPLUS,
    SMP_PAN,
    SMP_MANET,
    SMP_SEGFORMER,
};

static const struct {
    const char *name;
    enum smp_arch arch;
} k_archs[] = {
    {"Unet", SMP_UNET}, {"FPN", SMP_FPN}, {"DeepLabV3", SMP_DEEPLABV3},
    {"DeepLabV3Plus", SMP_DEEPLABV3PLUS}, {"PSPNet", SMP_PSPNET}, {"Linknet", SMP_LINKNET},
    {"UPerNet", SMP_UPERNET}, {"UnetPlusPlus", SMP_UNETPLUSPLUS},
    {"PAN", SMP_PAN}, {"MAnet", SMP_MANET},
    {"Segformer", SMP_SEGFORMER},
};

/* smp's model classes that terracl does not build (yet). */
static const char *const k_other_archs[] = {"DPT"};

static const struct {
    const char *name;
    terracl_constructor ctor;
} k_encoders[] = {
    {"resnet18", tc_timm_resnet18}, {"resnet34", tc_timm_resnet34},
    {"resnet50", tc_timm_resnet50}, {"resnet101", tc_timm_resnet101},
    {"resnet152", tc_timm_resnet152},
};

struct smp_model {
    enum smp_arch arch;
    int64_t depth, output_stride; /* output_stride: 32, or the dilated 8/16 */
    int64_t upsampling;            /* segmentation head's factor (1: none) */
    int divisible;                 /* smp's requires_divisible_input_shape */
    struct tc_conv2d head;
    terracl_module *encoder, *decoder; /* borrowed children of smp_model */
};

static terracl_status inner_forward(terracl_module *m, struct tc_exec *ex,
                                    const struct tc_feats *in, struct tc_feats *out,
                                    terracl_error *err);
static terracl_status wrapper_forward(terracl_module *m, struct tc_exec *ex,
                                      const struct tc_feats *in, struct tc_feats *out,
                                      terracl_error *err);
static const struct tc_module_vtable k_inner_vt = {inner_forward, free};
static const struct tc_module_vtable k_wrapper_vt = {wrapper_forward, NULL};
static terracl_status head_forward(terracl_module *m, struct tc_exec *ex, const struct tc_feats *in,
                                   struct tc_feats *out, terracl_error *err)
{
    (void)m;
    (void)ex;
    (void)in;
    (void)out;
    return tc_fail(err, TERRACL_ERR_INTERNAL, "the segmentation head runs inside smp_model");
}
static const struct tc_module_vtable k_head_vt = {head_forward, NULL};

/* ---- forward ----------------------------------------------------------- */

static terracl_status inner_forward(terracl_module *m, struct tc_exec *ex,
                                    const struct tc_feats *in, struct tc_feats *out,
                                    terracl_error *err)
{
    struct smp_model *p = m->impl;
    terracl_runtime *rt = ex->rt;
    const struct tc_tensor *x = &in->t[0];
    if (in->n < 1 || x->ndim != 4)
        return tc_fail(err, TERRACL_ERR_SHAPE, "the model expects one input [B, C, H, W]");
    int64_t stride = p->output_stride;
    if (stride > ((int64_t)1 << p->depth))
        stride = (int64_t)1 << p->depth;
    if (p->divisible && (x->dims[2] % stride != 0 || x->dims[3] % stride != 0))
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "Wrong input shape height=%lld, width=%lld. Expected image height and "
                       "width divisible by %lld (smp's rule for this model)",
                       (long long)x->dims[2], (long long)x->dims[3], (long long)stride);
    struct tc_feats enc = {0}, feats = {0}, dec = {0};
    terracl_status st = tc_module_forward(p->encoder, ex, in, &enc, err);
    if (st != TERRACL_OK)
        return tc_fail_context(err, st, "encoder");
    /* smp's feature 0 is the input itself. */
    feats.t[0] = *x;
    feats.t[0].owns_buf = 0;
    for (size_t i = 0; i < enc.n && i + 1 < TC_MAX_FEATS; i++)
        feats.t[i + 1] = enc.t[i];
    feats.n = enc.n + 1;
    memset(&enc, 0, sizeof enc);
    st = tc_module_forward(p->decoder, ex, &feats, &dec, err);
    tc_feats_free(&feats);
    if (st != TERRACL_OK)
        return tc_fail_context(err, st, "decoder");
    terracl_module *head = NULL;
    for (size_t i = 0; i < m->nchildren; i++)
        if (strcmp(m->children[i].name, "segmentation_head") == 0)
            head = m->children[i].module;
    struct tc_tensor y = {0}, up = {0};
    st = head ? tc_layer_conv2d_run(head, rt, &p->head, &dec.t[0], &y, err)
              : tc_fail(err, TERRACL_ERR_INTERNAL, "no segmentation head");
    tc_feats_free(&dec);
    if (st == TERRACL_OK && p->upsampling > 1) {
        int64_t d[4] = {y.dims[0], y.dims[1], y.dims[2] * p->upsampling,
                        y.dims[3] * p->upsampling};
        st = tc_tensor_alloc(rt, 4, d, &up, err);
        if (st == TERRACL_OK)
            st = tc_op_resize_bilinear(rt, &y, 1, &up, err);
        tc_tensor_free(&y);
        y = up;
    }
    if (st != TERRACL_OK) {
        tc_tensor_free(&y);
        return st;
    }
    out->t[0] = y;
    out->n = 1;
    return TERRACL_OK;
}

static terracl_status wrapper_forward(terracl_module *m, struct tc_exec *ex,
                                      const struct tc_feats *in, struct tc_feats *out,
                                      terracl_error *err)
{
    if (in->n < 1 || in->t[0].ndim != 4)
        return tc_fail(err, TERRACL_ERR_SHAPE, "the model expects one input [B, C, H, W]");
    int64_t H = in->t[0].dims[2], W = in->t[0].dims[3];
    ex->image_h = H;
    ex->image_w = W;
    terracl_status st = tc_module_forward(m->children[0].module, ex, in, out, err);
    if (st != TERRACL_OK)
        return st;
    struct tc_tensor *mask = &out->t[0];
    if (mask->dims[2] == H && mask->dims[3] == W)
        return TERRACL_OK;
    struct tc_tensor r = {0};
    int64_t d[4] = {mask->dims[0], mask->dims[1], H, W};
    st = tc_tensor_alloc(ex->rt, 4, d, &r, err);
    if (st == TERRACL_OK)
        st = tc_op_resize_bilinear(ex->rt, mask, 0, &r, err);
    tc_tensor_free(mask);
    if (st != TERRACL_OK) {
        tc_tensor_free(&r);
        out->n = 0;
        return st;
    }
    *mask = r;
    return TERRACL_OK;
}

/* ---- construction ------------------------------------------------------ */

/* The list [v0, v1, ...] as a value. */
static terracl_value *int_list(const int64_t *v, size_t n) { return tc_value_int_list(v, n); }

static terracl_status build_encoder(const char *backbone, int64_t in_channels, int64_t depth,
                                    int64_t output_stride, terracl_module **enc,
                                    int64_t *channels, size_t *nch, terracl_error *err)
{
    terracl_constructor ctor = NULL;
    for (size_t i = 0; i < sizeof k_encoders / sizeof *k_encoders; i++)
        if (strcmp(backbone, k_encoders[i].name) == 0)
            ctor = k_encoders[i].ctor;
    if (ctor == NULL) {
        if (strncmp(backbone, "tu-", 3) == 0)
            return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                           "backbone %s: smp's timm-universal encoders (tu-*) are not supported",
                           backbone);
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "backbone %s is not supported (smp encoders: resnet18, resnet34, "
                       "resnet50, resnet101, resnet152)",
                       backbone);
    }
    int64_t idx[5] = {0, 1, 2, 3, 4};
    terracl_value *args = terracl_value_new_map();
    terracl_status st = args ? TERRACL_OK : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK)
        st = terracl_value_map_set(args, "in_chans", terracl_value_new_int(in_channels), err);
    if (st == TERRACL_OK)
        st = terracl_value_map_set(args, "out_indices", int_list(idx, (size_t)depth), err);
    if (st == TERRACL_OK)
        st = ctor(NULL, args, NULL, enc, err);
    terracl_value_free(args);
    if (st != TERRACL_OK)
        return tc_fail_context(err, st, "encoder %s", backbone);
    /* smp's make_dilated: stage strides above output_stride become dilations. */
    for (int stage = 3; stage <= 4 && output_stride < 32; stage++) {
        int64_t stage_stride = (int64_t)1 << (stage + 1);
        if (stage <= depth - 1 && stage_stride > output_stride)
            st = tc_timm_resnet_dilate_stage(*enc, stage, stage_stride / output_stride, err);
        if (st != TERRACL_OK)
            return st;
    }
    channels[0] = in_channels;
    *nch = 1 + terracl_module_out_channels(*enc, channels + 1, TC_MAX_FEATS - 1);
    return TERRACL_OK;
}

/* Moves smp_<key> of args into the decoder's map as <key>. */
static terracl_status smp_args(const terracl_value *args, terracl_value **out, terracl_error *err)
{
    terracl_value *map = terracl_value_new_map();
    if (map == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < terracl_value_map_size(args); i++) {
        const char *key = terracl_value_map_key(args, i);
        if (strncmp(key, "smp_", 4) != 0 || key[4] == '\0')
            continue;
        terracl_value *copy = terracl_value_clone(terracl_value_map_get(args, key));
        terracl_status st = copy ? terracl_value_map_set(map, key + 4, copy, err)
                                 : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        if (st != TERRACL_OK) {
            terracl_value_free(map);
            return st;
        }
    }
    *out = map;
    return TERRACL_OK;
}

static terracl_status reject_unused_smp(const terracl_value *map, terracl_error *err)
{
    const char *keys[1];
    if (terracl_value_unused_keys(map, keys, 1) == 0)
        return TERRACL_OK;
    return tc_fail(err, TERRACL_ERR_CONFIG,
                   "smp_%s: the smp model got an unexpected keyword argument '%s'", keys[0],
                   keys[0]);
}

terracl_status tc_smp_model_factory(const terracl_value *first, const terracl_value *args,
                                    void *user, terracl_module **out, terracl_error *err)
{
    (void)first;
    (void)user;
    *out = NULL;
    if (args == NULL)
        return tc_fail(err, TERRACL_ERR_CONFIG, "SMPModelFactory needs model arguments");
    const char *task = NULL, *backbone = NULL, *model = NULL, *activation = NULL;
    int64_t in_channels = 0, num_classes = 1, channels[TC_MAX_FEATS];
    size_t nch = 0;
    int pretrained = 1, relu = 0;
    terracl_value *sargs = NULL;
    terracl_module *wrapper = NULL, *inner = NULL, *enc = NULL, *dec = NULL, *head = NULL;
    struct smp_model *p = calloc(1, sizeof *p);
    terracl_status st = p ? TERRACL_OK : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "task", NULL, &task, err);
    if (st == TERRACL_OK && (task == NULL || strcasecmp(task, "segmentation") != 0))
        st = tc_fail(err, TERRACL_ERR_CONFIG, "SMP models can only perform segmentation, but got task %s",
                     task ? task : "(none)");
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "backbone", NULL, &backbone, err);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "model", NULL, &model, err);
    if (st == TERRACL_OK && (backbone == NULL || model == NULL))
        st = tc_fail(err, TERRACL_ERR_CONFIG, "model_args must name a model and a backbone");
    const terracl_value *bands = terracl_value_map_get(args, "bands");
    if (st == TERRACL_OK && (bands == NULL || terracl_value_type_of(bands) != TERRACL_VALUE_LIST))
        st = tc_fail(err, TERRACL_ERR_CONFIG, "bands is required: the list of the input's bands");
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "in_channels", (int64_t)terracl_value_list_size(bands),
                              &in_channels, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "num_classes", 1, &num_classes, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "pretrained", 1, &pretrained, err);
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "regression_relu", 0, &relu, err);
    if (st == TERRACL_OK) {
        const terracl_value *pf = terracl_value_map_get(args, "prepare_features_for_image_model");
        if (pf != NULL && terracl_value_type_of(pf) != TERRACL_VALUE_NULL)
            st = tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                         "prepare_features_for_image_model is not supported");
    }
    if (st == TERRACL_OK && (in_channels < 1 || in_channels > (1 << 16) || num_classes < 1 ||
                             num_classes > (1 << 20)))
        st = tc_fail(err, TERRACL_ERR_CONFIG, "in_channels and num_classes must be positive");
    if (st != TERRACL_OK)
        goto fail;
    /* What TerraTorch extracts and never uses, and what it silently drops. */
    for (size_t i = 0; i < terracl_value_map_size(args); i++)
        (void)terracl_value_map_get(args, terracl_value_map_key(args, i));

    int found = 0;
    for (size_t i = 0; i < sizeof k_archs / sizeof *k_archs; i++)
        if (strcmp(model, k_archs[i].name) == 0) {
            p->arch = k_archs[i].arch;
            found = 1;
        }
    if (!found) {
        for (size_t i = 0; i < sizeof k_other_archs / sizeof *k_other_archs; i++)
            if (strcmp(model, k_other_archs[i]) == 0)
                st = tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                             "smp model %s is not supported yet (Unet, FPN, DeepLabV3, "
                             "DeepLabV3Plus, PSPNet, Linknet, UPerNet, UnetPlusPlus, PAN, MAnet, "
                             "Segformer)",
                             model);
        if (st == TERRACL_OK)
            st = tc_fail(err, TERRACL_ERR_CONFIG, "Decoder %s is not supported in SMP.", model);
        goto fail;
    }
    if ((st = smp_args(args, &sargs, err)) ||
        (st = terracl_args_int(sargs, "encoder_depth", p->arch == SMP_PSPNET ? 3 : 5, &p->depth,
                               err)))
        goto fail;
    if (p->depth < 1 || p->depth > 5) {
        st = tc_fail(err, TERRACL_ERR_CONFIG, "ResNetEncoder depth should be in range [1, 5], got %lld",
                     (long long)p->depth);
        goto fail;
    }
    /* Output stride: the DeepLabs dilate their encoder (smp's defaults 8 and 16). */
    p->output_stride = 32;
    if (p->arch == SMP_PAN) {
        const terracl_value *v = terracl_value_map_peek(sargs, "encoder_output_stride");
        if (v != NULL && (st = terracl_args_int(sargs, "encoder_output_stride", 16,
                                                &p->output_stride, err)))
            goto fail;
        if (v == NULL)
            p->output_stride = 16;
        if (p->output_stride != 16 && p->output_stride != 32) {
            st = tc_fail(err, TERRACL_ERR_CONFIG, "PAN support output stride 16 or 32, got %lld",
                         (long long)p->output_stride);
            goto fail;
        }
    }
    if (p->arch == SMP_DEEPLABV3 || p->arch == SMP_DEEPLABV3PLUS) {
        int64_t os = 0;
        const terracl_value *v = terracl_value_map_peek(sargs, "encoder_output_stride");
        if (v != NULL && (st = terracl_args_int(sargs, "encoder_output_stride", 0, &os, err)))
            goto fail;
        p->output_stride = v != NULL ? os : p->arch == SMP_DEEPLABV3 ? 8 : 16;
        if (p->output_stride != 8 && p->output_stride != 16) {
            st = tc_fail(err, TERRACL_ERR_CONFIG, "DeepLab models support output stride 8 or 16, got %lld",
                         (long long)p->output_stride);
            goto fail;
        }
    }
    if ((st = terracl_args_string(sargs, "activation", NULL, &activation, err)))
        goto fail;
    if (activation != NULL && strcmp(activation, "identity") != 0) {
        st = tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                     "smp_activation '%s' is not supported (None or identity)", activation);
        goto fail;
    }
    /* The segmentation head's kernel and upsampling, as each smp model sets them. */
    int unet_like = p->arch == SMP_UNET || p->arch == SMP_UNETPLUSPLUS || p->arch == SMP_MANET;
    int64_t k = unet_like || p->arch == SMP_PSPNET || p->arch == SMP_PAN ? 3 : 1;
    p->upsampling = 1;
    p->divisible = p->arch != SMP_UNET;
    if (!unet_like && p->arch != SMP_LINKNET) {
        int64_t def = p->arch == SMP_DEEPLABV3
                          ? (p->depth <= 3 ? (int64_t)1 << p->depth : p->output_stride)
                          : p->arch == SMP_PSPNET ? 8 : 4;
        const terracl_value *v = terracl_value_map_peek(sargs, "upsampling");
        p->upsampling = def; /* None: the model's own choice */
        if (v != NULL && terracl_value_type_of(v) == TERRACL_VALUE_NULL)
            (void)terracl_value_map_get(sargs, "upsampling");
        else if ((st = terracl_args_int(sargs, "upsampling", def, &p->upsampling, err)))
            goto fail;
        if (p->upsampling < 1 || p->upsampling > 64) {
            st = tc_fail(err, TERRACL_ERR_CONFIG, "upsampling %lld is invalid", (long long)p->upsampling);
            goto fail;
        }
    }

    if ((st = build_encoder(backbone, in_channels, p->depth, p->output_stride, &enc, channels, &nch,
                            err)))
        goto fail;
    terracl_value *chv = int_list(channels, nch);
    if (chv == NULL) {
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    switch (p->arch) {
    case SMP_UNET:
        st = tc_smp_unet_decoder_at(chv, sargs, "", &dec, err);
        break;
    case SMP_FPN:
        st = tc_smp_fpn_decoder_at(chv, sargs, "", &dec, err);
        break;
    case SMP_DEEPLABV3:
        st = tc_smp_deeplabv3_decoder_at(chv, sargs, "", &dec, err);
        break;
    case SMP_DEEPLABV3PLUS:
        st = tc_smp_deeplabv3plus_decoder_at(chv, sargs, "", &dec, err);
        break;
    case SMP_PSPNET:
        st = tc_smp_pspnet_decoder_at(chv, sargs, "", &dec, err);
        break;
    case SMP_LINKNET:
        st = tc_smp_linknet_decoder_at(chv, sargs, "", &dec, err);
        break;
    case SMP_UPERNET:
        st = tc_smp_upernet_decoder_at(chv, sargs, "", &dec, err);
        break;
    case SMP_UNETPLUSPLUS:
        st = tc_smp_unetplusplus_decoder_at(chv, sargs, "", &dec, err);
        break;
    case SMP_PAN:
        st = tc_smp_pan_decoder_at(chv, sargs, "", &dec, err);
        break;
    case SMP_MANET:
        st = tc_smp_manet_decoder_at(chv, sargs, "", &dec, err);
        break;
    case SMP_SEGFORMER:
        st = tc_smp_segformer_decoder_at(chv, sargs, "", &dec, err);
        break;
    }
    terracl_value_free(chv);
    (void)terracl_value_map_get(sargs, "encoder_depth");
    if (st == TERRACL_OK)
        st = reject_unused_smp(sargs, err);
    if (st != TERRACL_OK)
        goto fail;
    int64_t dec_out = 0;
    if (terracl_module_out_channels(dec, &dec_out, 1) < 1) {
        st = tc_fail(err, TERRACL_ERR_INTERNAL, "smp decoder reports no output channels");
        goto fail;
    }
    if ((st = tc_module_create("SegmentationHead", &k_head_vt, NULL, &head, err)) ||
        (st = tc_layer_conv2d(head, "0", dec_out, num_classes, k, 1, k / 2, 1, 1, &p->head, err)))
        goto fail;
    p->encoder = enc;
    p->decoder = dec;
    st = tc_module_create(model, &k_inner_vt, p, &inner, err);
    p = NULL; /* owned by inner (freed with it, also on failure) */
    if (st != TERRACL_OK)
        goto fail;
    st = tc_module_add_child(inner, "encoder", enc, err);
    enc = NULL;
    if (st == TERRACL_OK)
        st = tc_module_add_child(inner, "decoder", dec, err);
    dec = NULL;
    if (st == TERRACL_OK)
        st = tc_module_add_child(inner, "segmentation_head", head, err);
    head = NULL;
    if (st == TERRACL_OK)
        st = tc_module_create("SMPModelWrapper", &k_wrapper_vt, NULL, &wrapper, err);
    if (st == TERRACL_OK)
        st = tc_module_add_child(wrapper, "smp_model", inner, err);
    inner = NULL;
    if (st != TERRACL_OK)
        goto fail;
    {
        int64_t o[1] = {num_classes};
        if ((st = tc_module_set_out_channels(wrapper, o, 1, err)))
            goto fail;
    }
    tc_module_set_config(wrapper, terracl_value_clone(args));
    terracl_value_free(sargs);
    *out = wrapper;
    return TERRACL_OK;

fail:
    free(p);
    terracl_module_destroy(enc);
    terracl_module_destroy(dec);
    terracl_module_destroy(head);
    terracl_module_destroy(inner);
    terracl_module_destroy(wrapper);
    terracl_value_free(sargs);
    return tc_fail_context(err, st, "SMPModelFactory");
}

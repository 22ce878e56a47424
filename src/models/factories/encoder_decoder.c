/*
 * TerraTorch's EncoderDecoderFactory and the models it returns.
 *
 * Arguments are routed as TerraTorch routes them: backbone_*, decoder_* and
 * head_* prefixes go to those parts (prefix stripped), num_classes goes to
 * the decoder when it includes its head and to the head otherwise, necks are
 * built in order, each from the channel list the previous one produced, and
 * arguments nobody used are an error. The result is a module tree whose
 * children are named as in TerraTorch's state_dict: encoder, neck.N,
 * decoder, head.
 *
 * Forward (TerraTorch's PixelWiseModel / ScalarOutputModel): pad H and W on
 * the bottom/right to multiples of 2*patch (reflect), encoder, necks (or the
 * backbone's own tokens-to-image step when there are none), decoder, head;
 * pixel-wise tasks then resize to the padded size (bilinear,
 * align_corners=False) when needed, drop a channel axis of size 1, and crop
 * back to the input's size.
 */
#include "models/factories/factories.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/value.h"
#include "graph/exec.h"
#include "models/backbones/prithvi_vit.h"
#include "models/backbones/terramind.h"
#include "models/backbones/timm_vit.h"
#include "models/backbones/torchgeo.h"
#include "models/heads/heads.h"
#include "ops/pad.h"
#include "ops/resize.h"
#include "terracl/registry.h"

enum task { TASK_SEGMENTATION, TASK_REGRESSION, TASK_CLASSIFICATION, TASK_SCALAR_REGRESSION };

/* Classification and scalar regression run TerraTorch's ScalarOutputModel. */
static int task_is_scalar(enum task t) { return t == TASK_CLASSIFICATION || t == TASK_SCALAR_REGRESSION; }

/* Largest image_size_out side accepted from a config. */
#define ENCDEC_MAX_IMAGE_SIDE (1 << 20)

struct encdec {
    enum task task;
    int rescale;
    int pad;                        /* pad_images runs (padding is not null) */
    int64_t out_h, out_w;           /* image_size_out; 0 = the input's size */
    int64_t patch_h, patch_w, patch_t;
    int has_necks;
    int decoder_includes_head;
    terracl_module *encoder, *neck, *decoder, *head; /* borrowed from the children */
};

static terracl_status encdec_forward(terracl_module *m, struct tc_exec *ex,
                                     const struct tc_feats *in, struct tc_feats *out,
                                     terracl_error *err);
static const struct tc_module_vtable k_encdec_vt = {encdec_forward, free};

/* The container for necks: children "0", "1", ... run in order. */
static terracl_status necks_forward(terracl_module *m, struct tc_exec *ex,
                                    const struct tc_feats *in, struct tc_feats *out,
                                    terracl_error *err);
static const struct tc_module_vtable k_necks_vt = {necks_forward, NULL};

/* ---- argument routing -------------------------------------------------- */

/* Moves every key of `args` starting with `prefix` into a new map (prefix
 * stripped) and marks it used. */
static terracl_status take_prefixed(const terracl_value *args, const char *prefix,
                                    terracl_value **out, terracl_error *err)
{
    terracl_value *map = terracl_value_new_map();
    if (map == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < terracl_value_map_size(args); i++) {
        const char *key = terracl_value_map_key(args, i);
        if (strncmp(key, prefix, plen) != 0 || key[plen] == '\0')
            continue;
        terracl_value *copy = terracl_value_clone(terracl_value_map_get(args, key));
        terracl_status st = copy ? terracl_value_map_set(map, key + plen, copy, err)
                                 : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        if (st != TERRACL_OK) {
            terracl_value_free(map);
            return st;
        }
    }
    *out = map;
    return TERRACL_OK;
}

/* Fails naming the keys of `map` that the component did not read. */
static terracl_status reject_unused(const terracl_value *map, const char *what,
                                    terracl_error *err)
{
    const char *keys[8];
    size_t n = terracl_value_unused_keys(map, keys, 8);
    if (n == 0)
        return TERRACL_OK;
    char list[512] = "";
    for (size_t i = 0; i < n && i < 8; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, keys[i], sizeof list - strlen(list) - 1);
    }
    return tc_fail(err, TERRACL_ERR_CONFIG, "%s: argument%s %s %s not used", what, n > 1 ? "s" : "",
                   list, n > 1 ? "were" : "was");
}

static terracl_status parse_task(const terracl_value *args, enum task *task, terracl_error *err)
{
    const char *name = NULL;
    terracl_status st = terracl_args_string(args, "task", NULL, &name, err);
    if (st != TERRACL_OK)
        return st;
    if (name == NULL)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "no task: set `task` (segmentation, regression, classification or "
                       "scalar_regression) or use a "
                       "Lightning config whose model.class_path names the task");
    char lower[32];
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    lower[i] = '\0';
    if (strcmp(lower, "segmentation") == 0)
        *task = TASK_SEGMENTATION;
    else if (strcmp(lower, "regression") == 0)
        *task = TASK_REGRESSION;
    else if (strcmp(lower, "classification") == 0)
        *task = TASK_CLASSIFICATION;
    else if (strcmp(lower, "scalar_regression") == 0)
        *task = TASK_SCALAR_REGRESSION;
    else
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "task '%s' is not supported (expected segmentation, regression, "
                       "classification or scalar_regression)",
                       name);
    return TERRACL_OK;
}

/* backbone_padding: TerraTorch pads with F.pad's mode of that name
 * ("reflect" by default) and skips padding when it is null. */
static terracl_status parse_padding(const terracl_value *bb_args, int *pad, terracl_error *err)
{
    const terracl_value *v = terracl_value_map_peek(bb_args, "padding");
    *pad = 1;
    if (v == NULL)
        return TERRACL_OK;
    if (terracl_value_type_of(v) == TERRACL_VALUE_NULL) {
        *pad = 0;
        return TERRACL_OK;
    }
    const char *mode = NULL;
    terracl_status st = terracl_args_string(bb_args, "padding", "reflect", &mode, err);
    if (st != TERRACL_OK)
        return st;
    if (strcmp(mode, "reflect") != 0)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "backbone_padding '%s' is not supported: expected 'reflect' (the default) "
                       "or null (no padding)", mode);
    return TERRACL_OK;
}

/* image_size_out: [h, w] the pixel-wise output is centre-cropped to
 * (TerraTorch 1.2); absent or null: the input's own size. */
static terracl_status parse_image_size_out(const terracl_value *args, int64_t hw[2],
                                           terracl_error *err)
{
    hw[0] = hw[1] = 0;
    const terracl_value *v = terracl_value_map_get(args, "image_size_out");
    if (v == NULL || terracl_value_type_of(v) == TERRACL_VALUE_NULL)
        return TERRACL_OK;
    int64_t d[2];
    size_t n = 0;
    terracl_status st = terracl_args_int_list(args, "image_size_out", d, 2, &n, NULL, err);
    if (st != TERRACL_OK)
        return st;
    if (n == 1)
        d[1] = d[0];
    if (n == 0 || d[0] <= 0 || d[1] <= 0 || d[0] > ENCDEC_MAX_IMAGE_SIDE || d[1] > ENCDEC_MAX_IMAGE_SIDE)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "image_size_out: expected [height, width] between 1 and %d", ENCDEC_MAX_IMAGE_SIDE);
    hw[0] = d[0];
    hw[1] = d[1];
    return TERRACL_OK;
}

/* The patch size the pixel-wise model pads to: backbone_patch_size when
 * given, else the backbone's own. */
static void resolve_patch(struct encdec *e, const terracl_value *bb_args)
{
    int64_t v[3];
    size_t n = 0;
    int present = 0;
    e->patch_t = 1;
    e->patch_h = e->patch_w = 0;
    if (terracl_args_int_list(bb_args, "patch_size", v, 3, &n, &present, NULL) == TERRACL_OK &&
        present && n > 0) {
        if (n == 1)
            e->patch_h = e->patch_w = v[0];
        else if (n == 2) {
            e->patch_h = v[0];
            e->patch_w = v[1];
        } else {
            e->patch_t = v[0];
            e->patch_h = v[1];
            e->patch_w = v[2];
        }
        return;
    }
    if (tc_prithvi_is(e->encoder)) {
        e->patch_t = tc_prithvi_patch_size(e->encoder, 0);
        e->patch_h = tc_prithvi_patch_size(e->encoder, 1);
        e->patch_w = tc_prithvi_patch_size(e->encoder, 2);
    } else if (tc_terramind_is(e->encoder)) {
        e->patch_h = e->patch_w = tc_terramind_patch_size(e->encoder);
    } else if (tc_timm_vit_is(tc_torchgeo_inner(e->encoder))) {
        /* timm's PatchEmbed has a patch_size, also inside torchgeo's wrapper. */
        e->patch_h = e->patch_w = tc_timm_vit_patch_size(tc_torchgeo_inner(e->encoder));
    }
}

static terracl_status build_necks(terracl_module *model, struct encdec *e,
                                  const terracl_value *necks, int64_t *channels, size_t *nch,
                                  terracl_error *err)
{
    terracl_module *container = NULL;
    terracl_status st = tc_module_create("NeckSequential", &k_necks_vt, NULL, &container, err);
    if (st != TERRACL_OK)
        return st;
    const terracl_registry *reg = terracl_registry_get(TERRACL_REGISTRY_NECK);
    for (size_t i = 0; i < terracl_value_list_size(necks); i++) {
        const terracl_value *spec = terracl_value_list_get(necks, i);
        if (terracl_value_type_of(spec) != TERRACL_VALUE_MAP) {
            terracl_module_destroy(container);
            return tc_fail(err, TERRACL_ERR_CONFIG,
                           "necks[%zu]: expected a map such as {name: SelectIndices, ...}", i);
        }
        terracl_value *args = terracl_value_clone(spec);
        const char *name = NULL;
        if (args == NULL) {
            terracl_module_destroy(container);
            return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        }
        st = terracl_args_string(args, "name", NULL, &name, err);
        if (st == TERRACL_OK && name == NULL)
            st = tc_fail(err, TERRACL_ERR_CONFIG, "necks[%zu] has no name", i);
        terracl_value *first = NULL;
        terracl_module *neck = NULL;
        if (st == TERRACL_OK) {
            first = tc_value_int_list(channels, *nch);
            st = first ? terracl_registry_build(reg, name, first, args, &neck, err)
                       : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        }
        if (st == TERRACL_OK)
            st = reject_unused(args, name, err);
        if (st == TERRACL_OK) {
            *nch = terracl_module_out_channels(neck, channels, TC_MAX_FEATS);
            char child[24];
            snprintf(child, sizeof child, "%zu", i);
            st = tc_module_add_child(container, child, neck, err);
            neck = NULL;
        }
        terracl_module_destroy(neck);
        terracl_value_free(first);
        terracl_value_free(args);
        if (st != TERRACL_OK) {
            terracl_module_destroy(container);
            return tc_fail_context(err, st, "necks[%zu]", i);
        }
    }
    e->neck = container;
    return tc_module_add_child(model, "neck", container, err);
}

static terracl_status build_head(struct encdec *e, int64_t in_channels, terracl_value *head_args,
                                 terracl_module **out, terracl_error *err)
{
    switch (e->task) {
    case TASK_SEGMENTATION:
        if (terracl_value_map_peek(head_args, "num_classes") == NULL)
            return tc_fail(err, TERRACL_ERR_CONFIG, "num_classes must be defined for the segmentation task");
        return tc_segmentation_head(in_channels, head_args, out, err);
    case TASK_REGRESSION:
        return tc_regression_head(in_channels, head_args, out, err);
    case TASK_CLASSIFICATION:
        if (terracl_value_map_peek(head_args, "num_classes") == NULL &&
            terracl_value_map_peek(head_args, "num_outputs") == NULL)
            return tc_fail(err, TERRACL_ERR_CONFIG, "num_classes must be defined for the classification task");
        return tc_classification_head(in_channels, head_args, out, err);
    case TASK_SCALAR_REGRESSION:
        return tc_classification_head(in_channels, head_args, out, err);
    }
    return tc_fail(err, TERRACL_ERR_INTERNAL, "unknown task");
}

terracl_status tc_encoder_decoder_factory(const terracl_value *first, const terracl_value *args,
                                          void *user, terracl_module **out, terracl_error *err)
{
    (void)first;
    (void)user;
    *out = NULL;
    if (args == NULL)
        return tc_fail(err, TERRACL_ERR_CONFIG, "EncoderDecoderFactory needs model arguments");
    struct encdec *e = calloc(1, sizeof *e);
    terracl_module *model = NULL;
    terracl_value *bb_args = NULL, *dec_args = NULL, *head_args = NULL, *first_ch = NULL;
    terracl_module *part = NULL;
    const char *backbone = NULL, *decoder = NULL;
    int pad = 1;
    int64_t out_hw[2] = {0, 0};
    terracl_status st = e ? TERRACL_OK : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK)
        st = parse_task(args, &e->task, err);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "backbone", NULL, &backbone, err);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "decoder", NULL, &decoder, err);
    if (st == TERRACL_OK && (backbone == NULL || decoder == NULL))
        st = tc_fail(err, TERRACL_ERR_CONFIG, "model_args must name a backbone and a decoder");
    if (st == TERRACL_OK)
        st = terracl_args_bool(args, "rescale", 1, &e->rescale, err);
    /* Training-only parts are accepted and skipped. */
    (void)terracl_value_map_get(args, "aux_decoders");
    /* peft_config (LoRA fine-tuning) changes only how the weights are stored:
     * tools/convert_checkpoint.py merges the adapters into the plain layers,
     * so the model built here is the one without adapters. A checkpoint that
     * still holds unmerged adapters is refused when it is opened
     * (models/peft_weights.h). */
    (void)terracl_value_map_get(args, "peft_config");
    if (st == TERRACL_OK)
        st = take_prefixed(args, "backbone_", &bb_args, err);
    if (st == TERRACL_OK)
        st = take_prefixed(args, "decoder_", &dec_args, err);
    if (st == TERRACL_OK)
        st = take_prefixed(args, "head_", &head_args, err);
    if (st != TERRACL_OK)
        goto fail;
    {
        int use_temporal = 0;
        if ((st = terracl_args_bool(bb_args, "use_temporal", 0, &use_temporal, err)))
            goto fail;
        if (use_temporal) {
            st = tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                         "backbone_use_temporal (TerraTorch's TemporalWrapper) is not supported");
            goto fail;
        }
        terracl_value_map_remove(bb_args, "use_temporal");
        if ((st = parse_padding(bb_args, &pad, err)))
            goto fail;
        terracl_value_map_remove(bb_args, "padding"); /* TerraTorch forwards it; the backbone ignores it */
    }
    if ((st = parse_image_size_out(args, out_hw, err)))
        goto fail;

    if ((st = tc_module_create(task_is_scalar(e->task) ? "ScalarOutputModel" : "PixelWiseModel",
                               &k_encdec_vt, e, &model, err))) {
        e = NULL;
        goto fail;
    }
    e = model->impl;
    e->pad = pad;
    e->out_h = out_hw[0];
    e->out_w = out_hw[1];

    /* Backbone. */
    if ((st = terracl_registry_build(terracl_registry_get(TERRACL_REGISTRY_BACKBONE), backbone,
                                     NULL, bb_args, &part, err)))
        goto fail;
    e->encoder = part;
    if ((st = tc_module_add_child(model, "encoder", part, err))) {
        part = NULL;
        goto fail;
    }
    part = NULL;
    resolve_patch(e, bb_args);
    if (tc_terramind_is(e->encoder) && tc_terramind_merges_to_dict(e->encoder)) {
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "backbone_merge_method dict gives one token sequence per modality, which "
                     "necks and decoders do not take (TerraTorch fails on it too); use mean, max "
                     "or concat, or run the backbone alone");
        goto fail;
    }

    int64_t channels[TC_MAX_FEATS];
    size_t nch = terracl_module_out_channels(e->encoder, channels, TC_MAX_FEATS);
    if (nch == 0) {
        st = tc_fail(err, TERRACL_ERR_CONFIG, "backbone %s reports no output channels", backbone);
        goto fail;
    }

    /* Necks. */
    const terracl_value *necks = terracl_value_map_get(args, "necks");
    if (necks != NULL && terracl_value_type_of(necks) != TERRACL_VALUE_NULL) {
        if (terracl_value_type_of(necks) != TERRACL_VALUE_LIST) {
            st = tc_fail(err, TERRACL_ERR_CONFIG, "necks: expected a list of {name: ..., ...} maps");
            goto fail;
        }
        if (terracl_value_list_size(necks) > 0) {
            e->has_necks = 1;
            if ((st = build_necks(model, e, necks, channels, &nch, err)))
                goto fail;
        }
    }

    /* Decoder; num_classes goes where the head is. */
    const terracl_registry *decoders = terracl_registry_get(TERRACL_REGISTRY_DECODER);
    if (!terracl_registry_contains(decoders, decoder)) {
        st = terracl_registry_build(decoders, decoder, NULL, NULL, &part, err); /* names neighbours */
        goto fail;
    }
    /* TerraTorch 1.2's factory takes includes_head from the decoder's source,
     * not from the decoder class: the terratorch source says no, so even
     * LinearDecoder (whose class includes its head) gets a head built on its
     * output and must be given decoder_num_classes itself. */
    e->decoder_includes_head = 0;
    /* num_outputs (TerraTorch 1.2) travels like num_classes under its own
     * name to a head, and as num_classes to a decoder that includes one. */
    const terracl_value *num_classes = terracl_value_map_get(args, "num_classes");
    const terracl_value *num_outputs = terracl_value_map_get(args, "num_outputs");
    const char *count_key = "num_classes";
    if (num_outputs != NULL && terracl_value_type_of(num_outputs) != TERRACL_VALUE_NULL) {
        if (num_classes != NULL && terracl_value_type_of(num_classes) != TERRACL_VALUE_NULL) {
            st = tc_fail(err, TERRACL_ERR_CONFIG,
                         "only one of num_outputs and num_classes may be given");
            goto fail;
        }
        num_classes = num_outputs;
        count_key = "num_outputs";
    }
    if (num_classes != NULL && terracl_value_type_of(num_classes) != TERRACL_VALUE_NULL) {
        terracl_value *nc = terracl_value_clone(num_classes);
        if (e->decoder_includes_head && terracl_value_map_size(head_args) > 0) {
            terracl_value_free(nc);
            st = tc_fail(err, TERRACL_ERR_CONFIG,
                         "decoder %s includes its head, so head_ arguments cannot be used", decoder);
            goto fail;
        }
        st = nc ? terracl_value_map_set(e->decoder_includes_head ? dec_args : head_args,
                                        e->decoder_includes_head ? "num_classes" : count_key, nc, err)
                : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        if (st != TERRACL_OK)
            goto fail;
    }
    first_ch = tc_value_int_list(channels, nch);
    if (first_ch == NULL) {
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    if ((st = terracl_registry_build(decoders, decoder, first_ch, dec_args, &part, err)) ||
        (st = reject_unused(dec_args, decoder, err)))
        goto fail;
    e->decoder = part;
    if ((st = tc_module_add_child(model, "decoder", part, err))) {
        part = NULL;
        goto fail;
    }
    part = NULL;

    /* Head. */
    if (!e->decoder_includes_head) {
        int64_t dec_out = 0;
        if (terracl_module_out_channels(e->decoder, &dec_out, 1) < 1) {
            st = tc_fail(err, TERRACL_ERR_CONFIG,
                         "decoder %s has no out_channels, so no head can be put on it (as in "
                         "TerraTorch, whose factory fails on it too)", decoder);
            goto fail;
        }
        if ((st = build_head(e, dec_out, head_args, &part, err)) ||
            (st = reject_unused(head_args, "head", err)))
            goto fail;
        e->head = part;
        if ((st = tc_module_add_child(model, "head", part, err))) {
            part = NULL;
            goto fail;
        }
        part = NULL;
    }

    if ((st = reject_unused(args, "EncoderDecoderFactory", err)))
        goto fail;
    tc_module_set_config(model, terracl_value_clone(args));
    terracl_value_free(bb_args);
    terracl_value_free(dec_args);
    terracl_value_free(head_args);
    terracl_value_free(first_ch);
    *out = model;
    return TERRACL_OK;

fail:
    if (model == NULL)
        free(e);
    terracl_module_destroy(part);
    terracl_module_destroy(model);
    terracl_value_free(bb_args);
    terracl_value_free(dec_args);
    terracl_value_free(head_args);
    terracl_value_free(first_ch);
    return tc_fail_context(err, st, "EncoderDecoderFactory");
}

/* ---- forward ----------------------------------------------------------- */

static terracl_status necks_forward(terracl_module *m, struct tc_exec *ex,
                                    const struct tc_feats *in, struct tc_feats *out,
                                    terracl_error *err)
{
    struct tc_feats cur = {0};
    const struct tc_feats *src = in;
    for (size_t i = 0; i < m->nchildren; i++) {
        struct tc_feats next;
        terracl_status st = tc_module_forward(m->children[i].module, ex, src, &next, err);
        if (src == &cur)
            tc_feats_free(&cur);
        if (st != TERRACL_OK)
            return tc_fail_context(err, st, "neck %zu (%s)", i, m->children[i].module->type);
        cur = next;
        src = &cur;
    }
    if (src == in) { /* no necks: hand the inputs on as borrowed views */
        *out = *in;
        for (size_t i = 0; i < out->n; i++)
            out->t[i].owns_buf = 0;
        return TERRACL_OK;
    }
    *out = cur;
    return TERRACL_OK;
}

static int64_t round_up(int64_t n, int64_t m) { return m > 0 ? (n + m - 1) / m * m : n; }

static terracl_status encdec_forward(terracl_module *m, struct tc_exec *ex,
                                     const struct tc_feats *in, struct tc_feats *out,
                                     terracl_error *err)
{
    struct encdec *e = m->impl;
    terracl_runtime *rt = ex->rt;
    /* Several inputs are the modalities of a multimodal backbone (empty
     * ones not given); the first one given sets the image size. */
    const struct tc_tensor *x = NULL;
    for (size_t i = 0; i < in->n && x == NULL; i++)
        if (in->t[i].ndim != 0)
            x = &in->t[i];
    if (x == NULL || x->ndim < 4)
        return tc_fail(err, TERRACL_ERR_SHAPE, "the model expects an input [B, C, H, W] or [B, C, T, H, W]");
    int nd = x->ndim;
    int64_t H = x->dims[nd - 2], W = x->dims[nd - 1];
    int64_t Hp = H, Wp = W;
    if (e->pad) {
        Hp = round_up(H, 2 * e->patch_h);
        Wp = round_up(W, 2 * e->patch_w);
    }
    struct tc_feats enc_in = {0}, feats = {0}, necked = {0}, dec = {0}, head = {0};
    struct tc_tensor padded[TC_MAX_FEATS], resized = {0};
    memset(padded, 0, sizeof padded);
    terracl_status st = TERRACL_OK;

    /* Pad H, W by reflection as TerraTorch 1.2's pad_images does (each
     * modality on its own): the smaller half of each amount before the
     * data, the rest after it. */
    enc_in.n = in->n;
    for (size_t i = 0; i < in->n; i++) {
        const struct tc_tensor *xi = &in->t[i];
        enc_in.t[i] = *xi;
        enc_in.t[i].owns_buf = 0;
        if (xi->ndim == 0)
            continue;
        if (xi->ndim != nd || xi->dims[nd - 2] != H || xi->dims[nd - 1] != W) {
            char a[128], b[128];
            st = tc_fail(err, TERRACL_ERR_SHAPE, "input %zu %s does not have the height and width of %s", i,
                         tc_shape_str(xi->ndim, xi->dims, a, sizeof a),
                         tc_shape_str(x->ndim, x->dims, b, sizeof b));
            goto out;
        }
        if (Hp == H && Wp == W)
            continue;
        int64_t d[TC_MAX_DIMS];
        memcpy(d, xi->dims, sizeof(int64_t) * (size_t)nd);
        d[nd - 2] = Hp;
        d[nd - 1] = Wp;
        if ((Hp - H) - (Hp - H) / 2 >= H || (Wp - W) - (Wp - W) / 2 >= W) {
            st = tc_fail(err, TERRACL_ERR_SHAPE,
                         "input %lldx%lld is too small to pad by reflection to %lldx%lld (a "
                         "multiple of twice the patch size)",
                         (long long)H, (long long)W, (long long)Hp, (long long)Wp);
            goto out;
        }
        int64_t before[TC_MAX_DIMS] = {0};
        before[nd - 2] = (Hp - H) / 2;
        before[nd - 1] = (Wp - W) / 2;
        if ((st = tc_tensor_alloc(rt, nd, d, &padded[i], err)) ||
            (st = tc_op_pad_reflect_at(rt, xi, before, &padded[i], err)))
            goto out;
        enc_in.t[i] = padded[i];
        enc_in.t[i].owns_buf = 0;
    }
    ex->image_h = Hp;
    ex->image_w = Wp;

    if ((st = tc_module_forward(e->encoder, ex, &enc_in, &feats, err))) {
        tc_fail_context(err, st, "encoder");
        goto out;
    }
    if (e->has_necks) {
        if ((st = tc_module_forward(e->neck, ex, &feats, &necked, err)))
            goto out;
    } else if (tc_prithvi_is(e->encoder)) {
        /* TerraTorch's prepare_features_for_image_model. */
        for (size_t i = 0; i < feats.n; i++) {
            if ((st = tc_prithvi_tokens_to_image(rt, &feats.t[i], tc_prithvi_effective_time(e->encoder),
                                                 0, &necked.t[i], err)))
                goto out;
            necked.n = i + 1;
        }
    } else {
        necked = feats;
        memset(&feats, 0, sizeof feats);
    }
    tc_feats_free(&feats);

    if ((st = tc_module_forward(e->decoder, ex, &necked, &dec, err))) {
        tc_fail_context(err, st, "decoder %s", e->decoder->type);
        goto out;
    }
    tc_feats_free(&necked);
    if (e->head != NULL) {
        if ((st = tc_module_forward(e->head, ex, &dec, &head, err))) {
            tc_fail_context(err, st, "head %s", e->head->type);
            goto out;
        }
        tc_feats_free(&dec);
    } else {
        head = dec;
        memset(&dec, 0, sizeof dec);
    }
    struct tc_tensor *mask = &head.t[0];

    if (task_is_scalar(e->task)) {
        out->t[0] = *mask;
        out->n = 1;
        memset(mask, 0, sizeof *mask);
        goto out;
    }
    if (mask->ndim != 4) {
        st = tc_fail(err, TERRACL_ERR_SHAPE, "the head's output is not [B, K, h, w]");
        goto out;
    }
    if (e->rescale && (mask->dims[2] != Hp || mask->dims[3] != Wp)) {
        int64_t d[4] = {mask->dims[0], mask->dims[1], Hp, Wp};
        if ((st = tc_tensor_alloc(rt, 4, d, &resized, err)) ||
            (st = tc_op_resize_bilinear(rt, mask, 0, &resized, err)))
            goto out;
        tc_tensor_free(mask);
        *mask = resized;
        memset(&resized, 0, sizeof resized);
    }
    /* Centre-crop to the input's size (or image_size_out), as TerraTorch
     * 1.2's center_crop, then squeeze a single channel. */
    int64_t K = mask->dims[1];
    int64_t want_h = e->out_h > 0 ? e->out_h : H, want_w = e->out_w > 0 ? e->out_w : W;
    int64_t mh = mask->dims[2], mw = mask->dims[3];
    int64_t top = mh > want_h ? (mh - want_h) / 2 : 0, left = mw > want_w ? (mw - want_w) / 2 : 0;
    int64_t cd[4] = {mask->dims[0], K, want_h < mh - top ? want_h : mh - top,
                     want_w < mw - left ? want_w : mw - left};
    int64_t start[4] = {0, 0, top, left};
    struct tc_tensor cropped = {0};
    if ((st = tc_tensor_alloc(rt, 4, cd, &cropped, err)) ||
        (st = tc_op_crop_at(rt, mask, start, &cropped, err))) {
        tc_tensor_free(&cropped);
        goto out;
    }
    if (K == 1) {
        cropped.ndim = 3;
        cropped.dims[1] = cd[2];
        cropped.dims[2] = cd[3];
    }
    out->t[0] = cropped;
    out->n = 1;

out:
    for (size_t i = 0; i < TC_MAX_FEATS; i++)
        tc_tensor_free(&padded[i]);
    tc_tensor_free(&resized);
    tc_feats_free(&feats);
    tc_feats_free(&necked);
    tc_feats_free(&dec);
    tc_feats_free(&head);
    return st;
}

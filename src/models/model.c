/*
 * Whole models (include/terracl/model.h): config -> module tree through the
 * registries -> weights bound on the device -> forward.
 *
 * A config whose model arguments name a decoder is built by its model
 * factory (EncoderDecoderFactory); one that names only a backbone is that
 * backbone alone, whose output is its final feature [B, 1+N, D].
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graph/exec.h"
#include "graph/mem_estimate.h"
#include "graph/module.h"
#include "graph/weights.h"
#include "io/checkpoint.h"
#include "io/yaml_config.h"
#include "models/backbones/prithvi_vit.h"
#include "models/backbones/convnext.h"
#include "models/backbones/resnet.h"
#include "models/backbones/timm_vit.h"
#include "models/backbones/terramind.h"
#include "models/backbones/torchgeo.h"
#include "models/expected_unused.h"
#include "models/model_internal.h"
#include "models/peft_weights.h"
#include "ops/attention.h"
#include "terracl/model.h"
#include "terracl/registry.h"

struct terracl_model {
    terracl_runtime *rt;
    terracl_value *config;
    terracl_module *root;
    terracl_module *backbone; /* inside root (or root itself) */
    int backbone_only;
    char task[32];
    struct tc_checkpoint *weights;
    struct tc_checkpoint *backbone_ckpt;
    struct tc_weights *bound;
    char unused[2048];
    char config_name[1024]; /* the config's file, for messages about it */
};

void terracl_model_destroy(terracl_model *model)
{
    if (model == NULL)
        return;
    tc_weights_free(model->bound);
    terracl_module_destroy(model->root);
    tc_checkpoint_close(model->weights);
    tc_checkpoint_close(model->backbone_ckpt);
    terracl_value_free(model->config);
    free(model);
}

const char *terracl_model_task(const terracl_model *model) { return model ? model->task : NULL; }
const terracl_module *terracl_model_module(const terracl_model *model)
{
    return model ? model->root : NULL;
}
const char *terracl_model_unused_tensors(const terracl_model *model)
{
    return model ? model->unused : "";
}
const terracl_value *tc_model_config_tree(const terracl_model *model)
{
    return model ? model->config : NULL;
}
const char *tc_model_config_name(const terracl_model *model)
{
    return model && model->config_name[0] ? model->config_name : "config";
}
uint64_t terracl_model_weight_bytes(const terracl_model *model)
{
    return model ? tc_weights_bytes(model->bound) : 0;
}

static terracl_status resolve_relative(const char *base_file, const char *path, char *out, size_t cap,
                                   terracl_error *err)
{
    int w;
    if (path[0] == '/' || base_file == NULL) {
        w = snprintf(out, cap, "%s", path);
    } else {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s", base_file);
        w = snprintf(out, cap, "%s/%s", dirname(tmp), path);
    }
    if (w < 0 || (size_t)w >= cap)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "path too long: %s", path);
    return TERRACL_OK;
}

/* The backbone arguments that name checkpoint files: relative paths in
 * them are relative to the config's folder (ckpt_data: TerraTorch's
 * torchgeo backbones). */
static int is_path_key(const char *key)
{
    return strcmp(key, "ckpt_path") == 0 || strcmp(key, "ckpt_data") == 0;
}

/* backbone_* keys of model_args, prefix stripped, with ckpt_path and
 * ckpt_data made relative to the config's folder. Marks the keys it takes
 * as used. */
static terracl_status backbone_args(const terracl_value *model_args, const char *config_file,
                                    terracl_value **out, terracl_error *err)
{
    terracl_value *args = terracl_value_new_map();
    if (args == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    const char *prefix = "backbone_";
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < terracl_value_map_size(model_args); i++) {
        const char *key = terracl_value_map_key(model_args, i);
        if (strncmp(key, prefix, plen) != 0 || key[plen] == '\0')
            continue;
        const terracl_value *v = terracl_value_map_get(model_args, key);
        terracl_value *copy = NULL;
        if (is_path_key(key + plen) && terracl_value_type_of(v) == TERRACL_VALUE_STRING) {
            char path[4096];
            terracl_status st =
                resolve_relative(config_file, terracl_value_string(v), path, sizeof path, err);
            if (st != TERRACL_OK) {
                terracl_value_free(args);
                return st;
            }
            copy = terracl_value_new_string(path);
        } else {
            copy = terracl_value_clone(v);
        }
        terracl_status st = copy ? terracl_value_map_set(args, key + plen, copy, err)
                                 : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        if (st != TERRACL_OK) {
            terracl_value_free(args);
            return st;
        }
    }
    *out = args;
    return TERRACL_OK;
}

static terracl_status build_backbone_only(terracl_model *model, const struct tc_model_config *cfg,
                                          const char *config_file, terracl_error *err)
{
    const char *name = NULL;
    terracl_status st = terracl_args_string(cfg->model_args, "backbone", NULL, &name, err);
    if (st != TERRACL_OK)
        return st;
    if (name == NULL)
        return tc_fail(err, TERRACL_ERR_CONFIG, "model_args names no backbone (expected `backbone: NAME`)");
    terracl_value *args = NULL;
    if ((st = backbone_args(cfg->model_args, config_file, &args, err)))
        return st;
    st = terracl_registry_build(terracl_registry_get(TERRACL_REGISTRY_BACKBONE), name, NULL, args,
                                &model->root, err);
    terracl_value_free(args);
    if (st != TERRACL_OK)
        return st;
    /* As TerraTorch's factory, refuse arguments nobody uses. */
    const char *unused[8];
    size_t n = terracl_value_unused_keys(cfg->model_args, unused, 8);
    if (n > 0) {
        char list[512] = "";
        for (size_t i = 0; i < n && i < 8; i++) {
            strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, unused[i], sizeof list - strlen(list) - 1);
        }
        return tc_fail(err, TERRACL_ERR_CONFIG, "model_args: arguments %s were passed but not used", list);
    }
    model->backbone = model->root;
    model->backbone_only = 1;
    snprintf(model->task, sizeof model->task, "backbone");
    return TERRACL_OK;
}

/* Models with a decoder: the config's model factory (EncoderDecoderFactory)
 * from the registry, given model_args plus the task; the backbone is the
 * root's child "encoder". */
static terracl_status build_with_factory(terracl_model *model, const struct tc_model_config *cfg,
                                         const char *config_file, terracl_error *err)
{
    terracl_value *args = terracl_value_clone(cfg->model_args);
    if (args == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    terracl_status st = TERRACL_OK;
    static const char *const k_path_keys[] = {"backbone_ckpt_path", "backbone_ckpt_data"};
    for (size_t i = 0; st == TERRACL_OK && i < 2; i++) {
        const terracl_value *ckpt = terracl_value_map_peek(args, k_path_keys[i]);
        if (ckpt == NULL || terracl_value_type_of(ckpt) != TERRACL_VALUE_STRING)
            continue;
        char path[4096];
        st = resolve_relative(config_file, terracl_value_string(ckpt), path, sizeof path, err);
        if (st == TERRACL_OK)
            st = terracl_value_map_set(args, k_path_keys[i], terracl_value_new_string(path), err);
    }
    if (st == TERRACL_OK && cfg->task != TC_TASK_NONE &&
        terracl_value_map_peek(args, "task") == NULL)
        st = terracl_value_map_set(args, "task", terracl_value_new_string(tc_task_name(cfg->task)), err);
    const char *factory = cfg->factory ? cfg->factory : "EncoderDecoderFactory";
    if (st == TERRACL_OK)
        st = terracl_registry_build(terracl_registry_get(TERRACL_REGISTRY_MODEL_FACTORY), factory,
                                    NULL, args, &model->root, err);
    if (st == TERRACL_OK) {
        const terracl_value *task = terracl_value_map_peek(args, "task");
        snprintf(model->task, sizeof model->task, "%s",
                 task && terracl_value_type_of(task) == TERRACL_VALUE_STRING ? terracl_value_string(task)
                                                                           : "segmentation");
        for (size_t i = 0; i < model->root->nchildren; i++)
            if (strcmp(model->root->children[i].name, "encoder") == 0)
                model->backbone = model->root->children[i].module;
    }
    terracl_value_free(args);
    return st;
}

static terracl_status read_config(const char *config_path, struct tc_checkpoint *weights,
                                  terracl_value **out, terracl_error *err)
{
    if (config_path != NULL)
        return tc_yaml_load_file(config_path, out, err);
    const char *text = weights ? tc_checkpoint_config(weights) : NULL;
    if (text == NULL)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "no config: pass a TerraTorch YAML config, or a checkpoint that carries one "
                       "(its root attribute `config`)");
    terracl_status st = tc_yaml_parse(text, strlen(text), tc_checkpoint_path(weights), out, err);
    if (st != TERRACL_OK)
        return tc_fail_context(err, st, "config stored in the checkpoint");
    return TERRACL_OK;
}

static int is_timm_factory(const char *factory)
{
    return factory != NULL && (strcmp(factory, "TimmModelFactory") == 0 ||
                               strcmp(factory, "terratorch_TimmModelFactory") == 0);
}

/* Configs of fine-tuned models say `backbone_pretrained: true`: TerraTorch
 * downloads the published weights, then the fine-tuned checkpoint replaces
 * every one of them. When the model's own weights are given (or are random),
 * the download is moot, so the backbone is built as not pretrained instead of
 * failing for want of a ckpt_path. A ckpt_path (or a torchgeo backbone's
 * ckpt_data) that is given still loads (its tensors fill whatever the
 * model's checkpoint lacks). */
static terracl_status pretrained_from_model_weights(terracl_value *model_args, terracl_error *err)
{
    const terracl_value *pre = terracl_value_map_peek(model_args, "backbone_pretrained");
    const terracl_value *ckpt = terracl_value_map_peek(model_args, "backbone_ckpt_path");
    const terracl_value *data = terracl_value_map_peek(model_args, "backbone_ckpt_data");
    if (pre == NULL || terracl_value_type_of(pre) != TERRACL_VALUE_BOOL || !terracl_value_bool(pre) ||
        (ckpt != NULL && terracl_value_type_of(ckpt) != TERRACL_VALUE_NULL) ||
        (data != NULL && terracl_value_type_of(data) != TERRACL_VALUE_NULL))
        return TERRACL_OK;
    return terracl_value_map_set(model_args, "backbone_pretrained", terracl_value_new_bool(0), err);
}

/* The same for PrithviModelFactory, which asks with `pretrained` (true when
 * left out, as in nearly all its configs) and turns it into
 * backbone_pretrained itself, and for TimmModelFactory (the same key and
 * default, passed to timm). */
static terracl_status prithvi_factory_pretrained(const char *factory, terracl_value *model_args,
                                                 terracl_error *err)
{
    if (factory == NULL || (strcmp(factory, "PrithviModelFactory") != 0 &&
                            strcmp(factory, "terratorch_PrithviModelFactory") != 0 &&
                            !is_timm_factory(factory)))
        return TERRACL_OK;
    const terracl_value *pre = terracl_value_map_peek(model_args, "pretrained");
    const terracl_value *ckpt = terracl_value_map_peek(model_args, "backbone_ckpt_path");
    int asked = pre == NULL || (terracl_value_type_of(pre) == TERRACL_VALUE_BOOL &&
                                terracl_value_bool(pre));
    if (!asked || (ckpt != NULL && terracl_value_type_of(ckpt) != TERRACL_VALUE_NULL))
        return TERRACL_OK;
    return terracl_value_map_set(model_args, "pretrained", terracl_value_new_bool(0), err);
}

/* The weight source of a torchgeo backbone's ckpt_data, bound to the timm
 * model inside it: torchgeo's own state dict (timm's keys, no prefix; the
 * band weight adapted to the model's bands), or a fine-tuned TerraTorch
 * checkpoint that holds the wrapper under a prefix (bands already the
 * model's). The file stays open as model->backbone_ckpt. */
static terracl_status torchgeo_source(terracl_model *model, struct tc_weight_source *src,
                                      char *prefix, size_t cap, terracl_error *err)
{
    const char *path = tc_torchgeo_ckpt_data(model->backbone);
    const char *marker = tc_torchgeo_marker(model->backbone);
    const char *band_key = strchr(marker, '.') + 1; /* the key inside the timm model */
    terracl_status st = tc_checkpoint_open(path, &model->backbone_ckpt, err);
    if (st == TERRACL_OK)
        st = tc_peft_refuse_unmerged(model->backbone_ckpt, err);
    if (st != TERRACL_OK)
        return tc_fail_context(err, st, "backbone ckpt_data");
    int flat = tc_checkpoint_find(model->backbone_ckpt, band_key) >= 0;
    if (!flat) {
        char found[256];
        if (tc_weights_find_prefix(model->backbone_ckpt, marker, found, sizeof found) == NULL)
            return tc_fail(err, TERRACL_ERR_FORMAT,
                           "ckpt_data %s: neither %s (torchgeo's weights) nor a key ending in %s "
                           "(a fine-tuned TerraTorch model)",
                           path, band_key, marker);
        /* "encoder." + "resnet_model.": the wrapper's child, under the model's prefix. */
        int w = snprintf(prefix, cap, "%s%.*s", found, (int)(band_key - marker), marker);
        if (w < 0 || (size_t)w >= cap)
            return tc_fail(err, TERRACL_ERR_FORMAT, "ckpt_data %s: prefix too long", path);
    } else {
        prefix[0] = '\0';
    }
    *src = (struct tc_weight_source){model->backbone_ckpt, prefix,
                                     tc_torchgeo_inner(model->backbone), flat};
    return TERRACL_OK;
}

/* Builds and binds a model. `config` (taken over; NULL: read from
 * config_path or the checkpoint) names files relative to config_file. */
static terracl_status model_create(terracl_runtime *rt, terracl_value *config,
                                   const char *config_path, const char *weights_path,
                                   int random_weights, terracl_model **out, terracl_error *err)
{
    *out = NULL;
    terracl_model *model = calloc(1, sizeof *model);
    if (model == NULL) {
        terracl_value_free(config);
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    }
    model->rt = rt;
    model->config = config;
    terracl_status st = TERRACL_OK;
    if (weights_path != NULL && (st = tc_checkpoint_open(weights_path, &model->weights, err)))
        goto fail;
    if (model->weights != NULL && !random_weights &&
        (st = tc_peft_refuse_unmerged(model->weights, err)))
        goto fail;
    if (model->config == NULL && (st = read_config(config_path, model->weights, &model->config, err)))
        goto fail;
    const char *config_file = config_path ? config_path : weights_path;
    const char *label = config_file ? config_file : "config";
    snprintf(model->config_name, sizeof model->config_name, "%s", label);
    struct tc_model_config cfg;
    if ((st = tc_config_model(model->config, label, &cfg, err)))
        goto fail;

    if ((weights_path != NULL || random_weights) &&
        ((st = pretrained_from_model_weights((terracl_value *)cfg.model_args, err)) ||
         (st = prithvi_factory_pretrained(cfg.factory, (terracl_value *)cfg.model_args, err))))
        goto fail; /* cfg.model_args lies inside model->config, which this model owns */
    /* Without a decoder, EncoderDecoderFactory configs mean the backbone
     * alone; other factories (SMPModelFactory) name their parts otherwise. */
    int encdec = cfg.factory == NULL || strcmp(cfg.factory, "EncoderDecoderFactory") == 0 ||
                 strcmp(cfg.factory, "PrithviModelFactory") == 0;
    if (encdec && terracl_value_map_peek(cfg.model_args, "decoder") == NULL)
        st = build_backbone_only(model, &cfg, config_file, err);
    else
        st = build_with_factory(model, &cfg, config_file, err);
    if (st != TERRACL_OK) {
        tc_fail_context(err, st, "%s", label);
        goto fail;
    }

    /* Weight sources, first match wins: the model's own checkpoint, then
     * the backbone's ckpt_path (TerraTorch loads ckpt_path at build time
     * and a fine-tuned state dict loaded later overrides it). */
    struct tc_weight_source sources[2];
    size_t nsources = 0;
    char main_prefix[256] = "", ckpt_prefix[256] = "";
    if (random_weights) {
        sources[nsources++] = (struct tc_weight_source){NULL, "", NULL, 0};
    } else if (model->weights != NULL) {
        /* A backbone alone also reads a whole model's checkpoint (or its own
         * state dict under a prefix): its tensors are found by a key only it
         * has, which timm's ViT keeps under its FeatureGetterNet's "model.". */
        const char *marker = model->backbone_only && tc_terramind_is(model->backbone)
                                 ? "encoder_norm.weight"
                             : model->backbone && tc_timm_vit_is(model->backbone)
                                 ? "model.patch_embed.proj.weight"
                             : tc_torchgeo_is(model->backbone) ? tc_torchgeo_marker(model->backbone)
                                                               : "patch_embed.proj.weight";
        if (model->backbone_only &&
            tc_weights_find_prefix(model->weights, marker, main_prefix, sizeof main_prefix) == NULL)
            main_prefix[0] = '\0';
        sources[nsources++] = (struct tc_weight_source){model->weights, main_prefix, NULL, 0};
    }
    const char *ckpt = NULL;
    int terramind = model->backbone && tc_terramind_is(model->backbone);
    if (!random_weights && model->backbone && tc_prithvi_is(model->backbone))
        ckpt = tc_prithvi_ckpt_path(model->backbone);
    if (!random_weights && terramind)
        ckpt = tc_terramind_ckpt_path(model->backbone);
    if (ckpt != NULL && terramind) {
        /* TerraTorch loads a TerraMind ckpt_path into the encoder by exact
         * key (load_state_dict, strict=False): TerraMindViT's own keys, no
         * prefix. A file that holds them under a prefix (a whole model's
         * checkpoint) would load nothing there, which is refused here rather
         * than left to random weights. */
        if ((st = tc_checkpoint_open(ckpt, &model->backbone_ckpt, err))) {
            tc_fail_context(err, st, "backbone ckpt_path");
            goto fail;
        }
        if (tc_weights_find_prefix(model->backbone_ckpt, "encoder_norm.weight", ckpt_prefix,
                                   sizeof ckpt_prefix) == NULL ||
            ckpt_prefix[0] != '\0') {
            st = ckpt_prefix[0] != '\0'
                     ? tc_fail(err, TERRACL_ERR_FORMAT,
                               "%s: the TerraMind tensors are under '%s' (a whole model's "
                               "checkpoint?); TerraTorch loads ckpt_path by TerraMindViT's own "
                               "keys (encoder_norm.weight, ...), so none of them would load: "
                               "give this file as the model's weights instead",
                               ckpt, ckpt_prefix)
                     : tc_fail(err, TERRACL_ERR_FORMAT,
                               "%s: no encoder_norm.weight: not a TerraMind checkpoint", ckpt);
            goto fail;
        }
        sources[nsources++] =
            (struct tc_weight_source){model->backbone_ckpt, "", model->backbone, 1};
        ckpt = NULL;
    }
    if (!random_weights && tc_torchgeo_ckpt_data(model->backbone) != NULL &&
        (st = torchgeo_source(model, &sources[nsources++], ckpt_prefix, sizeof ckpt_prefix, err)))
        goto fail;
    if (ckpt != NULL) {
        if ((st = tc_checkpoint_open(ckpt, &model->backbone_ckpt, err))) {
            tc_fail_context(err, st, "backbone ckpt_path");
            goto fail;
        }
        if ((st = tc_peft_refuse_unmerged(model->backbone_ckpt, err))) {
            tc_fail_context(err, st, "backbone ckpt_path");
            goto fail;
        }
        if (tc_weights_find_prefix(model->backbone_ckpt, "patch_embed.proj.weight", ckpt_prefix,
                                   sizeof ckpt_prefix) == NULL) {
            st = tc_fail(err, TERRACL_ERR_FORMAT,
                         "%s: could not find the patch embedding (a key ending in "
                         "patch_embed.proj.weight): not a Prithvi checkpoint",
                         ckpt);
            goto fail;
        }
        sources[nsources++] =
            (struct tc_weight_source){model->backbone_ckpt, ckpt_prefix, model->backbone, 1};
    }
    if (nsources == 0) {
        st = tc_fail(err, TERRACL_ERR_INVALID_ARG,
                     "no weights: pass a checkpoint (or give the backbone a ckpt_path)");
        goto fail;
    }
    if ((st = tc_weights_bind(rt, model->root, sources, nsources, &model->bound, err)))
        goto fail;
    if (model->weights != NULL) {
        tc_mark_expected_unused(model->weights, model->backbone_only ? NULL : "encoder.");
        tc_checkpoint_unused_summary(model->weights, 8, model->unused, sizeof model->unused);
    }
    *out = model;
    return TERRACL_OK;

fail:
    terracl_model_destroy(model);
    return st;
}

terracl_status terracl_model_load(terracl_runtime *rt, const char *config_path,
                                  const char *weights_path, terracl_model **out,
                                  terracl_error *err)
{
    if (rt == NULL || out == NULL || (config_path == NULL && weights_path == NULL))
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "terracl_model_load: needs a runtime and a config or a checkpoint");
    return model_create(rt, NULL, config_path, weights_path, 0, out, err);
}

terracl_status terracl_model_load_random(terracl_runtime *rt, const char *config_path,
                                         terracl_model **out, terracl_error *err)
{
    if (rt == NULL || out == NULL || config_path == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "terracl_model_load_random: needs a runtime and a config");
    return model_create(rt, NULL, config_path, NULL, 1, out, err);
}

terracl_status tc_model_from_value(terracl_runtime *rt, terracl_value *config,
                                   terracl_model **out, terracl_error *err)
{
    return model_create(rt, config, NULL, NULL, 1, out, err);
}

static terracl_status check_host_tensor(const struct terracl_tensor *t, const char *what,
                                        int min_rank, int max_rank, terracl_error *err)
{
    if (t->data == NULL || t->ndim < min_rank || t->ndim > max_rank)
        return tc_fail(err, TERRACL_ERR_SHAPE, "%s: expected rank %d..%d, got %d", what, min_rank,
                       max_rank, t->ndim);
    for (int i = 0; i < t->ndim; i++)
        if (t->dims[i] <= 0 || t->dims[i] > ((int64_t)1 << 31))
            return tc_fail(err, TERRACL_ERR_SHAPE, "%s: dimension %d is %lld", what, i,
                           (long long)t->dims[i]);
    return TERRACL_OK;
}

/* The attention scratch of the runtime's kernels, saturating for lengths
 * whose products could overflow. */
static uint64_t attn_scratch(const void *ctx, uint64_t len, uint64_t dim, uint64_t heads)
{
    if (len > ((uint64_t)1 << 20) || dim > ((uint64_t)1 << 20) || heads > ((uint64_t)1 << 16))
        return UINT64_MAX;
    return tc_attention_scratch(ctx, (size_t)len, (size_t)dim, (size_t)heads);
}

static uint64_t host_memory_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0)
        return UINT64_MAX; /* unknown: no host check */
    return tc_mem_sat_mul((uint64_t)pages, (uint64_t)page);
}

/* The pixel-wise end of a whole model: the padded input copy, the head's
 * map at the padded size and its resized and cropped copies on the device,
 * and the output on the host. The decoder's own intermediate maps are not
 * counted, so for whole models the estimate stays a lower bound. */
static void add_output_estimate(const terracl_model *model, int ndim, const int64_t *dims,
                                struct tc_mem_estimate *e)
{
    int64_t k = 1;
    for (size_t i = 0; i < model->root->nchildren; i++) {
        const char *name = model->root->children[i].name;
        if (strcmp(name, "head") == 0 || (strcmp(name, "decoder") == 0 && k == 1)) {
            int64_t c = 0;
            if (terracl_module_out_channels(model->root->children[i].module, &c, 1) >= 1 && c > 0)
                k = c;
        }
    }
    /* Padding reaches at most one patch pair (<= 64 px here) past each side. */
    int64_t hp = dims[ndim - 2] + 64, wp = dims[ndim - 1] + 64;
    int64_t map[4] = {dims[0], k, hp, wp}, out[4] = {dims[0], k, dims[ndim - 2], dims[ndim - 1]};
    tc_mem_add_device(e, "padded input", ndim, dims, 1);
    tc_mem_add_device(e, "head output", 4, map, 2);
    tc_mem_add_device(e, "model output", 4, out, 1);
    tc_mem_add_host(e, 4, out, 1);
}

static double gib(uint64_t bytes) { return (double)bytes / (double)(1ull << 30); }

terracl_status terracl_model_check_input(terracl_model *model, int ndim, const int64_t *dims,
                                         terracl_error *err)
{
    char s1[128], s2[128];
    if (model == NULL || dims == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_model_check_input: NULL argument");
    if (ndim < 4 || ndim > 5)
        return tc_fail(err, TERRACL_ERR_SHAPE, "input: expected rank 4..5, got %d", ndim);
    for (int i = 0; i < ndim; i++)
        if (dims[i] <= 0 || dims[i] > ((int64_t)1 << 31))
            return tc_fail(err, TERRACL_ERR_SHAPE, "input: dimension %d is %lld", i,
                           (long long)dims[i]);
    struct tc_mem_estimate e;
    memset(&e, 0, sizeof e);
    tc_mem_add_device(&e, "input", ndim, dims, 1);
    tc_mem_add_host(&e, ndim, dims, 1);
    const terracl_module *timm = tc_torchgeo_inner(model->backbone);
    if (tc_prithvi_is(model->backbone))
        tc_prithvi_estimate(model->backbone, ndim, dims, attn_scratch, model->rt,
                            model->backbone_only, &e);
    else if (tc_timm_resnet_is(timm))
        tc_timm_resnet_estimate(timm, ndim, dims, &e);
    else if (tc_timm_convnext_is(timm))
        tc_timm_convnext_estimate(timm, ndim, dims, &e);
    else if (tc_timm_vit_is(timm))
        tc_timm_vit_estimate(timm, ndim, dims, attn_scratch, model->rt, &e);
    else if (tc_terramind_is(model->backbone))
        tc_terramind_estimate(model->backbone, ndim, dims, attn_scratch, model->rt,
                              model->backbone_only, &e);
    if (!model->backbone_only)
        add_output_estimate(model, ndim, dims, &e);
    const struct terracl_device_info *dev = terracl_runtime_device(model->rt);
    uint64_t in_use = 0;
    terracl_runtime_memory(model->rt, &in_use, NULL);
    uint64_t need = tc_mem_sat_add(e.device_bytes, in_use), host = host_memory_bytes();
    tc_shape_str(ndim, dims, s1, sizeof s1);
    tc_shape_str(e.largest_ndim, e.largest_dims, s2, sizeof s2);
    if (e.largest_bytes > dev->max_alloc_bytes || need > dev->global_mem_bytes)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY,
                       "input %s needs an estimated %.1f GiB on the device (largest buffer: %s "
                       "%s, %.1f GiB; weights already %.1f GiB); '%s' has %.1f GiB and allows "
                       "%.1f GiB per buffer",
                       s1, gib(need), e.largest_name, s2, gib(e.largest_bytes), gib(in_use),
                       dev->name, gib(dev->global_mem_bytes), gib(dev->max_alloc_bytes));
    if (e.host_bytes > host)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY,
                       "input %s needs an estimated %.1f GiB of host memory; this machine has "
                       "%.1f GiB",
                       s1, gib(e.host_bytes), gib(host));
    return TERRACL_OK;
}

size_t terracl_model_modality_count(const terracl_model *model)
{
    return model && tc_terramind_is(model->backbone) ? tc_terramind_modality_count(model->backbone)
                                                      : 0;
}

const char *terracl_model_modality_name(const terracl_model *model, size_t i)
{
    return i < terracl_model_modality_count(model) ? tc_terramind_modality_name(model->backbone, i)
                                                   : NULL;
}

/* The model's input images in its modality order (an empty tensor for one
 * not given), or the one plain image; *first is the first one given. */
static terracl_status gather_images(terracl_model *model, const struct terracl_inputs *inputs,
                                    const struct terracl_tensor **imgs, size_t *n,
                                    const struct terracl_tensor **first, terracl_error *err)
{
    size_t nm = terracl_model_modality_count(model);
    *first = NULL;
    if (inputs->n_modalities == 0) {
        terracl_status st = check_host_tensor(&inputs->image, "input", 4, 5, err);
        if (st != TERRACL_OK)
            return st;
        imgs[0] = *first = &inputs->image;
        *n = 1;
        return TERRACL_OK;
    }
    if (inputs->modalities == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "inputs: n_modalities set without modalities");
    if (inputs->image.data != NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "inputs: give either image or named modalities, not both");
    if (nm == 0)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "inputs: named modalities given, but this model takes one image (`input`)");
    char names[512] = "";
    for (size_t j = 0; j < nm; j++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", j ? ", " : "",
                 terracl_model_modality_name(model, j));
    for (size_t j = 0; j < nm; j++)
        imgs[j] = NULL;
    for (size_t i = 0; i < inputs->n_modalities; i++) {
        const struct terracl_named_tensor *nt = &inputs->modalities[i];
        size_t j = 0;
        while (j < nm && (nt->name == NULL || strcmp(nt->name, terracl_model_modality_name(model, j)) != 0))
            j++;
        if (j == nm)
            return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                           "input modality '%s' is not one of the model's modalities (%s)",
                           nt->name ? nt->name : "(null)", names);
        if (imgs[j] != NULL)
            return tc_fail(err, TERRACL_ERR_INVALID_ARG, "input modality '%s' is given twice", nt->name);
        char what[96];
        snprintf(what, sizeof what, "modality %s", nt->name);
        terracl_status st = check_host_tensor(&nt->tensor, what, 4, 4, err);
        if (st != TERRACL_OK)
            return st;
        imgs[j] = &nt->tensor;
    }
    for (size_t j = 0; j < nm; j++) {
        if (imgs[j] == NULL)
            continue;
        if (*first == NULL) {
            *first = imgs[j];
            continue;
        }
        const struct terracl_tensor *a = *first, *b = imgs[j];
        if (a->dims[0] != b->dims[0] || a->dims[2] != b->dims[2] || a->dims[3] != b->dims[3]) {
            char s1[128], s2[128];
            size_t k = 0;
            while (imgs[k] != a)
                k++;
            return tc_fail(err, TERRACL_ERR_SHAPE,
                           "modality %s: input %s does not match modality %s's %s in batch size, "
                           "height and width (the modalities of a sample share one grid)",
                           terracl_model_modality_name(model, j),
                           tc_shape_str(b->ndim, b->dims, s1, sizeof s1),
                           terracl_model_modality_name(model, k),
                           tc_shape_str(a->ndim, a->dims, s2, sizeof s2));
        }
    }
    *n = nm;
    return TERRACL_OK;
}

/* One forward pass: out receives the root's outputs. *given lists the
 * modalities given, by index (for naming the outputs of merge dict). */
static terracl_status forward(terracl_model *model, const struct terracl_inputs *inputs,
                              struct tc_feats *out, size_t *given, size_t *ngiven,
                              terracl_error *err)
{
    const struct terracl_tensor *imgs[TC_TERRAMIND_MAX_MODALITIES + 1];
    const struct terracl_tensor *img = NULL;
    size_t n = 0;
    terracl_status st = gather_images(model, inputs, imgs, &n, &img, err);
    if (st == TERRACL_OK)
        st = terracl_model_check_input(model, img->ndim, img->dims, err);
    if (st != TERRACL_OK)
        return st;
    *ngiven = 0;
    for (size_t j = 0; j < n; j++)
        if (imgs[j] != NULL)
            given[(*ngiven)++] = j;
    struct tc_exec ex = {0};
    ex.rt = model->rt;
    int64_t B = img->dims[0];
    if (inputs->temporal_coords.data != NULL) {
        const struct terracl_tensor *t = &inputs->temporal_coords;
        if (t->ndim != 3 || t->dims[0] != B || t->dims[2] != 2)
            return tc_fail(err, TERRACL_ERR_SHAPE,
                           "temporal_coords: expected [B=%lld, T, 2] (year, day of year)", (long long)B);
        ex.temporal_coords = t->data;
        ex.temporal_frames = t->dims[1];
        ex.batch = B;
    }
    if (inputs->location_coords.data != NULL) {
        const struct terracl_tensor *t = &inputs->location_coords;
        if (t->ndim != 2 || t->dims[0] != B || t->dims[1] != 2)
            return tc_fail(err, TERRACL_ERR_SHAPE, "location_coords: expected [B=%lld, 2] (lat, lon)",
                           (long long)B);
        ex.location_coords = t->data;
        ex.batch = B;
    }
    ex.final_feature_only = model->backbone_only;
    ex.image_h = img->dims[img->ndim - 2];
    ex.image_w = img->dims[img->ndim - 1];

    struct tc_feats in = {0};
    in.n = n;
    for (size_t j = 0; j < n; j++) {
        if (imgs[j] == NULL)
            continue; /* an empty tensor: a modality not given */
        if ((st = tc_tensor_alloc(model->rt, imgs[j]->ndim, imgs[j]->dims, &in.t[j], err)) ||
            (st = tc_tensor_upload(model->rt, &in.t[j], imgs[j]->data, err)))
            goto done;
    }
    if ((st = tc_module_forward(model->root, &ex, &in, out, err)))
        goto done;
    if (out->n == 0)
        st = tc_fail(err, TERRACL_ERR_INTERNAL, "the model produced no output");
done:
    tc_feats_free(&in);
    return st;
}

static terracl_status download_output(terracl_model *model, const struct tc_tensor *res,
                                      struct terracl_tensor *output, terracl_error *err)
{
    size_t n = tc_tensor_numel(res);
    output->data = malloc(n * sizeof(float));
    if (output->data == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for the output");
    terracl_status st = tc_tensor_download(model->rt, res, output->data, err);
    if (st != TERRACL_OK) {
        free(output->data);
        output->data = NULL;
        return st;
    }
    output->ndim = res->ndim;
    memcpy(output->dims, res->dims, sizeof(int64_t) * (size_t)res->ndim);
    return TERRACL_OK;
}

static int outputs_by_modality(const terracl_model *model)
{
    return model->backbone_only && tc_terramind_is(model->backbone) &&
           tc_terramind_merges_to_dict(model->backbone);
}

terracl_status terracl_model_run(terracl_model *model, const struct terracl_inputs *inputs,
                                 struct terracl_tensor *output, terracl_error *err)
{
    if (model == NULL || inputs == NULL || output == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_model_run: NULL argument");
    memset(output, 0, sizeof *output);
    if (outputs_by_modality(model))
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "this model (merge_method dict) gives one output per modality: run it with "
                       "terracl_model_run_named");
    struct tc_feats out = {0};
    size_t given[TC_TERRAMIND_MAX_MODALITIES + 1], ngiven = 0;
    terracl_status st = forward(model, inputs, &out, given, &ngiven, err);
    /* A backbone's final feature is its last output; models give one. */
    if (st == TERRACL_OK)
        st = download_output(model, &out.t[out.n - 1], output, err);
    tc_feats_free(&out);
    return st;
}

terracl_status terracl_model_run_named(terracl_model *model, const struct terracl_inputs *inputs,
                                       struct terracl_named_tensor *outputs, size_t capacity,
                                       size_t *count, terracl_error *err)
{
    if (model == NULL || inputs == NULL || outputs == NULL || count == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_model_run_named: NULL argument");
    *count = 0;
    memset(outputs, 0, capacity * sizeof *outputs);
    if (!outputs_by_modality(model)) {
        if (capacity < 1)
            return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_model_run_named: no room for the output");
        terracl_status st = terracl_model_run(model, inputs, &outputs[0].tensor, err);
        if (st == TERRACL_OK) {
            outputs[0].name = "output";
            *count = 1;
        }
        return st;
    }
    struct tc_feats out = {0};
    size_t given[TC_TERRAMIND_MAX_MODALITIES + 1], ngiven = 0;
    terracl_status st = forward(model, inputs, &out, given, &ngiven, err);
    if (st == TERRACL_OK && (out.n != ngiven || ngiven > capacity))
        st = out.n != ngiven ? tc_fail(err, TERRACL_ERR_INTERNAL, "%zu outputs for %zu modalities",
                                       out.n, ngiven)
                             : tc_fail(err, TERRACL_ERR_INVALID_ARG,
                                       "terracl_model_run_named: %zu outputs, room for %zu", ngiven,
                                       capacity);
    for (size_t k = 0; st == TERRACL_OK && k < ngiven; k++) {
        if ((st = download_output(model, &out.t[k], &outputs[k].tensor, err)) == TERRACL_OK) {
            outputs[k].name = terracl_model_modality_name(model, given[k]);
            *count = k + 1;
        }
    }
    if (st != TERRACL_OK) {
        for (size_t k = 0; k < *count; k++) {
            free(outputs[k].tensor.data);
            memset(&outputs[k], 0, sizeof outputs[k]);
        }
        *count = 0;
    }
    tc_feats_free(&out);
    return st;
}

/*
 * TerraTorch's TimmModelFactory: a timm classifier,
 * timm.create_model(backbone, num_classes, in_chans=in_channels,
 * pretrained, **backbone_*), wrapped so that the state_dict keys are
 * "timm_model." + timm's and the output is the logits [B, num_classes].
 * TerraTorch allows only task "classification". Of timm's catalogue the
 * plain ViTs are built (see models/backbones/timm_vit.h).
 */
#include "models/factories/factories.h"

#include <string.h>

#include "models/backbones/timm_vit.h"

/* backbone_* keys of args into a new map, prefix stripped. */
static terracl_status backbone_kwargs(const terracl_value *args, terracl_value **out,
                                      terracl_error *err)
{
    terracl_value *map = terracl_value_new_map();
    if (map == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    static const char prefix[] = "backbone_";
    for (size_t i = 0; i < terracl_value_map_size(args); i++) {
        const char *key = terracl_value_map_key(args, i);
        if (strncmp(key, prefix, sizeof prefix - 1) != 0 || key[sizeof prefix - 1] == '\0')
            continue;
        terracl_value *copy = terracl_value_clone(terracl_value_map_get(args, key));
        terracl_status st = copy ? terracl_value_map_set(map, key + sizeof prefix - 1, copy, err)
                                 : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        if (st != TERRACL_OK) {
            terracl_value_free(map);
            return st;
        }
    }
    *out = map;
    return TERRACL_OK;
}

/* Fails naming the first key of `map` nobody read (TerraTorch passes every
 * one on to timm, which refuses what it does not know). */
static terracl_status reject_unused(const terracl_value *map, const char *what,
                                    terracl_error *err)
{
    const char *keys[1];
    if (terracl_value_unused_keys(map, keys, 1) == 0)
        return TERRACL_OK;
    return tc_fail(err, TERRACL_ERR_CONFIG, "%s: argument %s was not used", what, keys[0]);
}

terracl_status tc_timm_model_factory(const terracl_value *first, const terracl_value *args,
                                     void *user, terracl_module **out, terracl_error *err)
{
    (void)first;
    (void)user;
    *out = NULL;
    const char *task = NULL, *backbone = NULL;
    int64_t in_channels = 0, num_classes = 0;
    terracl_status st = terracl_args_string(args, "task", "classification", &task, err);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "backbone", NULL, &backbone, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "in_channels", 0, &in_channels, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "num_classes", 0, &num_classes, err);
    if (st != TERRACL_OK)
        return tc_fail_context(err, st, "TimmModelFactory");
    if (strcmp(task, "classification") != 0)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "TimmModelFactory: timm models can only perform classification, not %s",
                       task);
    if (backbone == NULL || in_channels < 1 || num_classes < 1)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "TimmModelFactory needs backbone, in_channels and num_classes");
    /* pretrained: true (the default) downloads in TerraTorch; a string names
     * weights to fetch or a file of another format. */
    const terracl_value *pre = terracl_value_map_get(args, "pretrained");
    if (pre == NULL || terracl_value_type_of(pre) != TERRACL_VALUE_BOOL ||
        terracl_value_bool(pre))
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "TimmModelFactory: pretrained weights are not downloaded by terracl; "
                       "build with pretrained: false and load the model's converted checkpoint");
    terracl_value *kw = NULL;
    if ((st = backbone_kwargs(args, &kw, err)))
        return st;
    if ((st = terracl_value_map_set(kw, "in_chans", terracl_value_new_int(in_channels), err)) ==
            TERRACL_OK &&
        (st = tc_timm_vit_classifier(backbone, kw, num_classes, out, err)) == TERRACL_OK &&
        (st = reject_unused(kw, "TimmModelFactory backbone_*", err)) != TERRACL_OK) {
        terracl_module_destroy(*out);
        *out = NULL;
    }
    terracl_value_free(kw);
    if (st != TERRACL_OK)
        return tc_fail_context(err, st, "TimmModelFactory %s", backbone);
    return TERRACL_OK;
}

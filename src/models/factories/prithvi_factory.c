/*
 * TerraTorch's PrithviModelFactory: the older, deprecated way to build a
 * Prithvi model, still accepted by TerraTorch 1.2 and found in many
 * fine-tuning set-ups. It is a thin front over EncoderDecoderFactory, so
 * this file only rewrites the arguments the way TerraTorch does and hands
 * them on; the model (and therefore every state_dict key: encoder.*,
 * decoder.*, head.*) is the one EncoderDecoderFactory builds.
 *
 * The rewrite, as in TerraTorch 1.2.13:
 *   bands        (required)           -> backbone_bands
 *   in_channels  (default len(bands)) -> backbone_in_chans
 *   pretrained   (default true)       -> backbone_pretrained
 *   num_frames   (default 1)          -> backbone_num_frames
 * each replacing a backbone_* argument of the same name. (When a whole
 * model is loaded with its own weights, models/model.c drops the default
 * pretrained request, as it does for backbone_pretrained.) No necks are
 * added: the decoder sees every block's tokens reshaped to images (the
 * backbone's prepare_features_for_image_model), so a `necks` argument is
 * refused, as TerraTorch refuses it (it passes necks=None itself). Only
 * backbones whose name starts with "prithvi_" are accepted, and the old
 * prepare_features_for_image_model hook is refused.
 */
#include <string.h>

#include "core/error.h"
#include "models/factories/factories.h"
#include "terracl/value.h"

/* Python's truth value of a config value, for the arguments TerraTorch
 * tests with a plain `if`. */
static int truthy(const terracl_value *v)
{
    switch (terracl_value_type_of(v)) {
    case TERRACL_VALUE_NULL:
        return 0;
    case TERRACL_VALUE_BOOL:
        return terracl_value_bool(v);
    case TERRACL_VALUE_INT:
        return terracl_value_int(v) != 0;
    case TERRACL_VALUE_FLOAT:
        return terracl_value_float(v) != 0.0;
    case TERRACL_VALUE_STRING:
        return terracl_value_string(v)[0] != '\0';
    case TERRACL_VALUE_LIST:
        return terracl_value_list_size(v) > 0;
    case TERRACL_VALUE_MAP:
        return terracl_value_map_size(v) > 0;
    }
    return 1;
}

/* Moves `from` (or `def` when absent) to `to` in `args`. A null value is
 * kept as null, as Python would pass None on. */
static terracl_status rename_arg(terracl_value *args, const char *from, const char *to,
                                 terracl_value *def, terracl_error *err)
{
    const terracl_value *v = terracl_value_map_peek(args, from);
    terracl_value *moved = v ? terracl_value_clone(v) : def;
    if (v != NULL)
        terracl_value_free(def);
    if (moved == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    terracl_value_map_remove(args, from);
    return terracl_value_map_set(args, to, moved, err);
}

static terracl_status map_arguments(terracl_value *args, terracl_error *err)
{
    const terracl_value *backbone = terracl_value_map_peek(args, "backbone");
    if (terracl_value_type_of(backbone) == TERRACL_VALUE_STRING &&
        strncmp(terracl_value_string(backbone), "prithvi_", 8) != 0)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "backbone '%s': this factory only builds prithvi_* backbones (without a "
                       "source prefix); use EncoderDecoderFactory for others",
                       terracl_value_string(backbone));
    if (truthy(terracl_value_map_peek(args, "prepare_features_for_image_model")))
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "prepare_features_for_image_model is no longer supported (as in "
                       "TerraTorch): use EncoderDecoderFactory with necks");
    terracl_value_map_remove(args, "prepare_features_for_image_model");
    if (terracl_value_map_peek(args, "necks") != NULL)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "necks cannot be given: this factory builds its models without necks "
                       "(TerraTorch fails on it too); use EncoderDecoderFactory for necks");

    const terracl_value *bands = terracl_value_map_peek(args, "bands");
    if (bands == NULL)
        return tc_fail(err, TERRACL_ERR_CONFIG,
                       "bands is required: the list of the input's bands (names such as RED or "
                       "indices)");
    const terracl_value *in_ch = terracl_value_map_peek(args, "in_channels");
    if (in_ch == NULL || terracl_value_type_of(in_ch) == TERRACL_VALUE_NULL) {
        if (terracl_value_type_of(bands) != TERRACL_VALUE_LIST)
            return tc_fail(err, TERRACL_ERR_CONFIG,
                           "bands: expected a list of band names or indices (in_channels is "
                           "taken from its length)");
        terracl_value *n = terracl_value_new_int((int64_t)terracl_value_list_size(bands));
        terracl_status st = n ? terracl_value_map_set(args, "in_channels", n, err)
                              : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        if (st != TERRACL_OK)
            return st;
    }
    terracl_status st = rename_arg(args, "bands", "backbone_bands", NULL, err);
    if (st == TERRACL_OK)
        st = rename_arg(args, "in_channels", "backbone_in_chans", NULL, err);
    if (st == TERRACL_OK)
        st = rename_arg(args, "pretrained", "backbone_pretrained", terracl_value_new_bool(1), err);
    if (st == TERRACL_OK)
        st = rename_arg(args, "num_frames", "backbone_num_frames", terracl_value_new_int(1), err);
    return st;
}

terracl_status tc_prithvi_model_factory(const terracl_value *first, const terracl_value *args,
                                        void *user, terracl_module **out, terracl_error *err)
{
    (void)user;
    *out = NULL;
    if (args == NULL || terracl_value_type_of(args) != TERRACL_VALUE_MAP)
        return tc_fail(err, TERRACL_ERR_CONFIG, "PrithviModelFactory needs model arguments");
    terracl_value *mapped = terracl_value_clone(args);
    if (mapped == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    terracl_status st = map_arguments(mapped, err);
    if (st == TERRACL_OK)
        st = tc_encoder_decoder_factory(first, mapped, NULL, out, err);
    terracl_value_free(mapped);
    return st;
}

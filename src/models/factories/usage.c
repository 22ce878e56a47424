/*
 * The arguments each built-in model factory reads, for `terracl info
 * factory NAME`. Kept beside the factories so that a factory's help
 * changes with the factory.
 */
#include <string.h>

#include "models/factories/factories.h"

static const char k_encoder_decoder[] =
    "builds a whole model from a config's model_args:\n"
    "  task: segmentation | regression | classification\n"
    "  backbone, backbone_*: the backbone and its arguments (prefix stripped)\n"
    "  necks: list of {name: ..., ...}, applied in order\n"
    "  decoder, decoder_*: the decoder and its arguments\n"
    "  head_*: arguments of the task's head\n"
    "  num_classes: to the head (or to a decoder that includes its head)\n"
    "  rescale: true (resize the output to the input size)\n";

static const char k_prithvi[] =
    "TerraTorch's deprecated factory for prithvi_* backbones; builds the same model as\n"
    "EncoderDecoderFactory (same state_dict keys) from model_args:\n"
    "  task: segmentation | regression | classification\n"
    "  backbone: a prithvi_* name (no source prefix); backbone_*: its arguments\n"
    "  bands: required; becomes backbone_bands\n"
    "  in_channels: len(bands); becomes backbone_in_chans (the backbone takes len(bands))\n"
    "  pretrained: true; becomes backbone_pretrained (without backbone_ckpt_path the model's\n"
    "    own checkpoint must hold the backbone's weights: terracl never downloads)\n"
    "  num_frames: 1; becomes backbone_num_frames\n"
    "  decoder, decoder_*: the decoder and its arguments (no necks: it sees every block\n"
    "    reshaped to an image; `necks` is refused)\n"
    "  head_*: arguments of the task's head\n"
    "  num_classes: to the head (or to a decoder that includes its head)\n"
    "  rescale: true (resize the output to the input size)\n";

static const char k_timm[] =
    "TerraTorch's TimmModelFactory: a whole timm classifier (keys timm_model.*) from model_args:\n"
    "  task: classification (the only task it builds)\n"
    "  backbone: a timm name, pretrained tag allowed (vit_base_patch16_224.mae); the plain\n"
    "    vit_{tiny,small,base,large}_patch16_{224,384} are supported\n"
    "  in_channels, num_classes: required\n"
    "  pretrained: true; with the model's own checkpoint it is built as false (terracl never\n"
    "    downloads)\n"
    "  backbone_*: timm's keyword arguments (img_size, embed_dim, depth, ...)\n";

const char *tc_model_factory_usage(const char *name)
{
    if (name == NULL)
        return NULL;
    if (strncmp(name, "terratorch_", 11) == 0) /* the built-in source's prefix */
        name += 11;
    if (strcmp(name, "EncoderDecoderFactory") == 0)
        return k_encoder_decoder;
    if (strcmp(name, "PrithviModelFactory") == 0)
        return k_prithvi;
    if (strcmp(name, "TimmModelFactory") == 0)
        return k_timm;
    return NULL;
}

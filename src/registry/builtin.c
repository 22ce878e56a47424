/*
 * Built-in component tables. Each table lists {name, constructor,
 * includes_head} in the order TerraTorch registers them (which is the
 * order `terracl list` prints), and ends with a NULL name.
 *
 * To add a component: declare its constructor in its family's header under
 * src/models/, include that header below, and add one line to the table of
 * its kind. The name is TerraTorch's registry name, exactly.
 */
#include "registry/builtin.h"

#include <stddef.h>

/* ---- model headers: add the includes of src/models/ families here ---- */
#include "models/backbones/convnext.h"
#include "models/backbones/prithvi_vit.h"
#include "models/backbones/resnet.h"
#include "models/backbones/terramind.h"
#include "models/backbones/timm_vit.h"
#include "models/backbones/torchgeo.h"
#include "models/decoders/decoders.h"
#include "models/decoders/smp.h"
#include "models/factories/factories.h"
#include "models/necks/necks.h"

static const struct tc_builtin k_backbones[] = {
    /* ---- built-in backbones (e.g. prithvi_eo_v2_300) go here ---- */
    {"prithvi_eo_tiny", tc_prithvi_eo_tiny, 0},
    {"prithvi_eo_v1_100", tc_prithvi_eo_v1_100, 0},
    {"prithvi_eo_v2_tiny_tl", tc_prithvi_eo_v2_tiny_tl, 0},
    {"prithvi_eo_v2_100_tl", tc_prithvi_eo_v2_100_tl, 0},
    {"prithvi_eo_v2_300", tc_prithvi_eo_v2_300, 0},
    {"prithvi_eo_v2_300_tl", tc_prithvi_eo_v2_300_tl, 0},
    {"prithvi_eo_v2_600", tc_prithvi_eo_v2_600, 0},
    {"prithvi_eo_v2_600_tl", tc_prithvi_eo_v2_600_tl, 0},
    {"terramind_v1_tiny", tc_terramind_v1_tiny, 0},
    {"terramind_v1_small", tc_terramind_v1_small, 0},
    {"terramind_v1_base", tc_terramind_v1_base, 0},
    {"terramind_v1_large", tc_terramind_v1_large, 0},
    {"terramind_v01_base", tc_terramind_v01_base, 0},
    {"terramind_v1_tiny_tim", tc_terramind_tim, 0}, /* refused, with the reason */
    {"terramind_v1_small_tim", tc_terramind_tim, 0},
    {"terramind_v1_base_tim", tc_terramind_tim, 0},
    {"terramind_v1_large_tim", tc_terramind_tim, 0},
    {"terramind_v01_base_tim", tc_terramind_tim, 0},
    /* MMEarth's ConvNeXt V2 names: taken here (TerraTorch finds them before
     * timm's), refused when built; see models/backbones/convnext.h. */
    {"convnextv2_atto", tc_mmearth_convnextv2_refused, 0},
    {"convnextv2_femto", tc_mmearth_convnextv2_refused, 0},
    {"convnext_pico", tc_mmearth_convnextv2_refused, 0},
    {"convnextv2_nano", tc_mmearth_convnextv2_refused, 0},
    {"convnextv2_tiny", tc_mmearth_convnextv2_refused, 0},
    {"convnextv2_base", tc_mmearth_convnextv2_refused, 0},
    {"convnextv2_large", tc_mmearth_convnextv2_refused, 0},
    {"convnextv2_huge", tc_mmearth_convnextv2_refused, 0},
    /* The torchgeo families (ssl4eol_*, ssl4eos12_*, seco_*, fmow_*,
     * satlas_*), listed once in models/backbones/torchgeo.h. */
#define TC_TORCHGEO_ENTRY(name, arch, bands) {#name, tc_torchgeo_##name, 0},
    TC_TORCHGEO_BACKBONES(TC_TORCHGEO_ENTRY)
#undef TC_TORCHGEO_ENTRY
    {NULL, NULL, 0},
};

static const struct tc_builtin k_timm_backbones[] = {
    /* ---- timm model names (without the "timm_" prefix) go here ---- */
    {"resnet18", tc_timm_resnet18, 0},
    {"resnet34", tc_timm_resnet34, 0},
    {"resnet50", tc_timm_resnet50, 0},
    {"resnet101", tc_timm_resnet101, 0},
    {"resnet152", tc_timm_resnet152, 0},
    {"resnet18d", tc_timm_resnet18d, 0},
    {"resnet34d", tc_timm_resnet34d, 0},
    {"resnet50d", tc_timm_resnet50d, 0},
    {"resnet101d", tc_timm_resnet101d, 0},
    {"resnet152d", tc_timm_resnet152d, 0},
    {"convnext_tiny", tc_timm_convnext_tiny, 0},
    {"convnext_small", tc_timm_convnext_small, 0},
    {"convnext_base", tc_timm_convnext_base, 0},
    {"convnext_large", tc_timm_convnext_large, 0},
    {"convnext_xlarge", tc_timm_convnext_xlarge, 0},
    {"convnextv2_tiny", tc_timm_convnextv2_tiny, 0},
    {"convnextv2_small", tc_timm_convnextv2_small, 0},
    {"convnextv2_base", tc_timm_convnextv2_base, 0},
    {"convnextv2_large", tc_timm_convnextv2_large, 0},
    {"convnextv2_huge", tc_timm_convnextv2_huge, 0},
    {"convnext_atto", tc_timm_convnext_atto, 0},
    {"convnext_femto", tc_timm_convnext_femto, 0},
    {"convnext_pico", tc_timm_convnext_pico, 0},
    {"convnext_nano", tc_timm_convnext_nano, 0},
    {"convnextv2_atto", tc_timm_convnextv2_atto, 0},
    {"convnextv2_femto", tc_timm_convnextv2_femto, 0},
    {"convnextv2_pico", tc_timm_convnextv2_pico, 0},
    {"convnextv2_nano", tc_timm_convnextv2_nano, 0},
    {"vit_tiny_patch16_224", tc_timm_vit_tiny_patch16_224, 0},
    {"vit_small_patch16_224", tc_timm_vit_small_patch16_224, 0},
    {"vit_base_patch16_224", tc_timm_vit_base_patch16_224, 0},
    {"vit_large_patch16_224", tc_timm_vit_large_patch16_224, 0},
    {"vit_tiny_patch16_384", tc_timm_vit_tiny_patch16_384, 0},
    {"vit_small_patch16_384", tc_timm_vit_small_patch16_384, 0},
    {"vit_base_patch16_384", tc_timm_vit_base_patch16_384, 0},
    {"vit_large_patch16_384", tc_timm_vit_large_patch16_384, 0},
    {NULL, NULL, 0},
};

static const struct tc_builtin k_necks[] = {
    /* ---- built-in necks (e.g. SelectIndices) go here ---- */
    {"SelectIndices", tc_neck_select_indices, 0},
    {"AggregateTokens", tc_neck_aggregate_tokens, 0},
    {"PermuteDims", tc_neck_permute_dims, 0},
    {"InterpolateToPyramidal", tc_neck_interpolate_to_pyramidal, 0},
    {"MaxpoolToPyramidal", tc_neck_maxpool_to_pyramidal, 0},
    {"ReshapeTokensToImage", tc_neck_reshape_tokens_to_image, 0},
    {"AddBottleneckLayer", tc_neck_add_bottleneck_layer, 0},
    {"LearnedInterpolateToPyramidal", tc_neck_learned_interpolate_to_pyramidal, 0},
    {NULL, NULL, 0},
};

static const struct tc_builtin k_decoders[] = {
    /* ---- built-in decoders (e.g. FCNDecoder, includes_head 0) go here ---- */
    {"FCNDecoder", tc_fcn_decoder, 0},
    {"IdentityDecoder", tc_identity_decoder, 0},
    {"LinearDecoder", tc_linear_decoder, 1},
    {"MLPDecoder", tc_mlp_decoder, 0},
    {"UNetDecoder", tc_unet_decoder, 0},
    {"UperNetDecoder", tc_upernet_decoder, 0},
    {"ASPPModule", tc_aspp_module, 0},
    {"ASPPHead", tc_aspp_head, 0},
    {"ASPPSegmentationHead", tc_aspp_segmentation_head, 0},
    {"ASPPRegressionHead", tc_aspp_regression_head, 0},
    {NULL, NULL, 0},
};

static const struct tc_builtin k_smp_decoders[] = {
    /* ---- segmentation_models_pytorch class names (without "smp_") ---- */
    {"Unet", tc_smp_unet, 0},
    {"FPN", tc_smp_fpn, 0},
    {"DeepLabV3", tc_smp_deeplabv3, 0},
    {"DeepLabV3Plus", tc_smp_deeplabv3plus, 0},
    {"PSPNet", tc_smp_pspnet, 0},
    {"Linknet", tc_smp_linknet, 0},
    {"UPerNet", tc_smp_upernet, 0},
    {"UnetPlusPlus", tc_smp_unetplusplus, 0},
    {"PAN", tc_smp_pan, 0},
    {"MAnet", tc_smp_manet, 0},
    {"Segformer", tc_smp_segformer, 0},
    {NULL, NULL, 0},
};

static const struct tc_builtin k_model_factories[] = {
    /* ---- built-in model factories (e.g. EncoderDecoderFactory) go here ---- */
    {"EncoderDecoderFactory", tc_encoder_decoder_factory, 0},
    {"PrithviModelFactory", tc_prithvi_model_factory, 0},
    {"SMPModelFactory", tc_smp_model_factory, 0},
    {"TimmModelFactory", tc_timm_model_factory, 0},
    {NULL, NULL, 0},
};

static const struct tc_builtin k_full_models[] = {
    /* ---- built-in full models (e.g. prithvi_eo_v2_300_mae) go here ---- */
    {NULL, NULL, 0},
};

const struct tc_builtin *tc_builtin_table(enum terracl_registry_kind kind)
{
    switch (kind) {
    case TERRACL_REGISTRY_BACKBONE:
        return k_backbones;
    case TERRACL_REGISTRY_NECK:
        return k_necks;
    case TERRACL_REGISTRY_DECODER:
        return k_decoders;
    case TERRACL_REGISTRY_MODEL_FACTORY:
        return k_model_factories;
    case TERRACL_REGISTRY_FULL_MODEL:
        return k_full_models;
    }
    return k_backbones + (sizeof k_backbones / sizeof k_backbones[0] - 1);
}

const struct tc_builtin *tc_builtin_timm_backbones(void) { return k_timm_backbones; }

const struct tc_builtin *tc_builtin_smp_decoders(void) { return k_smp_decoders; }

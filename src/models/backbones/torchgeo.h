/*
 * TerraTorch's torchgeo backbones: the pretrained-weight families of its
 * own registry (ssl4eol_*, ssl4eos12_*, seco_*, fmow_*, satlas_*) that are
 * timm ResNets and ViTs under other names and band sets.
 *
 * Each name builds TerraTorch's wrapper around the whole timm model that
 * torchgeo creates (timm.create_model(arch, in_chans=len(model_bands),
 * **kwargs), classifier head included):
 *   ResNets: ResNetEncoderWrapper, keys "resnet_model." + timm's; forward
 *     returns, in feature order, the features among (act1, layer1..layer4)
 *     that out_indices names (only -1 of the negative entries counts: the
 *     last feature; the default is [-1]).
 *   ViTs: ViTEncoderWrapper, keys "vit_model." + timm's; forward returns
 *     every block's output as [B, D, H/16, W/16] (out_indices is ignored).
 * Arguments: model_bands (required; its length is in_chans unless given),
 * pretrained, ckpt_data, out_indices, and timm's keyword arguments.
 * pretrained=True loads ckpt_data (a converted torchgeo state dict: timm's
 * keys without prefix) with TerraTorch's filtering: the fc/head tensors are
 * not used, and conv1.weight (patch_embed.proj.weight for ViTs) takes, for
 * each model band, the column of the same band among the pretrained
 * weights' bands as TerraTorch names them; a model band they lack (which
 * TerraTorch would fill with random weights) is refused at build time.
 * ckpt_data may also be a fine-tuned TerraTorch checkpoint (keys
 * encoder.resnet_model.* or encoder.vit_model.*), loaded as it is. Without
 * pretrained=True, ckpt_data is ignored, as TerraTorch does.
 * The Swin-based satlas_swin_* names are refused: terracl has no Swin.
 */
#ifndef TC_MODELS_TORCHGEO_H
#define TC_MODELS_TORCHGEO_H

#include "graph/module.h"
#include "terracl/registry.h"

/* X(name, timm architecture, pretrained band set), in TerraTorch's
 * registration order. Band sets: see torchgeo.c. */
#define TC_TORCHGEO_BACKBONES(X)                                                                  \
    X(ssl4eol_resnet18_landsat_tm_toa_moco, "resnet18", TM_TOA)                                   \
    X(ssl4eol_resnet18_landsat_tm_toa_simclr, "resnet18", TM_TOA)                                 \
    X(ssl4eol_resnet18_landsat_etm_toa_moco, "resnet18", ETM_TOA)                                 \
    X(ssl4eol_resnet18_landsat_etm_toa_simclr, "resnet18", ETM_TOA)                               \
    X(ssl4eol_resnet18_landsat_etm_sr_moco, "resnet18", ETM_SR)                                   \
    X(ssl4eol_resnet18_landsat_etm_sr_simclr, "resnet18", ETM_SR)                                 \
    X(ssl4eol_resnet18_landsat_oli_tirs_toa_moco, "resnet18", OLI_TIRS_TOA)                       \
    X(ssl4eol_resnet18_landsat_oli_tirs_toa_simclr, "resnet18", OLI_TIRS_TOA)                     \
    X(ssl4eol_resnet18_landsat_oli_sr_moco, "resnet18", OLI_SR)                                   \
    X(ssl4eol_resnet18_landsat_oli_sr_simclr, "resnet18", OLI_SR)                                 \
    X(ssl4eos12_resnet18_sentinel2_all_moco, "resnet18", S2_ALL)                                  \
    X(ssl4eos12_resnet18_sentinel2_rgb_moco, "resnet18", S2_RGB)                                  \
    X(seco_resnet18_sentinel2_rgb_seco, "resnet18", S2_RGB)                                       \
    X(fmow_resnet50_fmow_rgb_gassl, "resnet50", NO_BANDS)                                         \
    X(ssl4eol_resnet50_landsat_tm_toa_moco, "resnet50", TM_TOA)                                   \
    X(ssl4eol_resnet50_landsat_tm_toa_simclr, "resnet50", TM_TOA)                                 \
    X(ssl4eol_resnet50_landsat_etm_toa_moco, "resnet50", ETM_TOA)                                 \
    X(ssl4eol_resnet50_landsat_etm_toa_simclr, "resnet50", ETM_TOA)                               \
    X(ssl4eol_resnet50_landsat_etm_sr_moco, "resnet50", ETM_SR)                                   \
    X(ssl4eol_resnet50_landsat_etm_sr_simclr, "resnet50", ETM_SR)                                 \
    X(ssl4eol_resnet50_landsat_oli_tirs_toa_moco, "resnet50", OLI_TIRS_TOA)                       \
    X(ssl4eol_resnet50_landsat_oli_tirs_toa_simclr, "resnet50", OLI_TIRS_TOA)                     \
    X(ssl4eol_resnet50_landsat_oli_sr_moco, "resnet50", OLI_SR)                                   \
    X(ssl4eol_resnet50_landsat_oli_sr_simclr, "resnet50", OLI_SR)                                 \
    X(ssl4eos12_resnet50_sentinel1_all_decur, "resnet50", S1)                                     \
    X(ssl4eos12_resnet50_sentinel1_all_moco, "resnet50", S1)                                      \
    X(ssl4eos12_resnet50_sentinel2_all_decur, "resnet50", S2_ALL)                                 \
    X(ssl4eos12_resnet50_sentinel2_all_dino, "resnet50", S2_ALL)                                  \
    X(ssl4eos12_resnet50_sentinel2_all_moco, "resnet50", S2_ALL)                                  \
    X(ssl4eos12_resnet50_sentinel2_all_softcon, "resnet50", S2_ALL)                               \
    X(ssl4eos12_resnet50_sentinel2_rgb_moco, "resnet50", S2_RGB)                                  \
    X(seco_resnet50_sentinel2_rgb_seco, "resnet50", S2_RGB)                                       \
    X(satlas_resnet50_sentinel2_mi_ms_satlas, "resnet50", SATLAS_MS)                              \
    X(satlas_resnet50_sentinel2_mi_rgb_satlas, "resnet50", SATLAS_RGB)                            \
    X(satlas_resnet50_sentinel2_si_ms_satlas, "resnet50", SATLAS_MS)                              \
    X(satlas_resnet50_sentinel2_si_rgb_satlas, "resnet50", SATLAS_RGB)                            \
    X(satlas_resnet152_sentinel2_mi_ms, "resnet152", SATLAS_MS)                                   \
    X(satlas_resnet152_sentinel2_mi_rgb, "resnet152", SATLAS_RGB)                                 \
    X(satlas_resnet152_sentinel2_si_ms_satlas, "resnet152", SATLAS_MS)                            \
    X(satlas_resnet152_sentinel2_si_rgb_satlas, "resnet152", SATLAS_RGB)                          \
    X(satlas_swin_t_sentinel2_mi_ms, "swin", NO_BANDS)                                            \
    X(satlas_swin_t_sentinel2_mi_rgb, "swin", NO_BANDS)                                           \
    X(satlas_swin_t_sentinel2_si_ms, "swin", NO_BANDS)                                            \
    X(satlas_swin_t_sentinel2_si_rgb, "swin", NO_BANDS)                                           \
    X(satlas_swin_b_sentinel2_mi_ms, "swin", NO_BANDS)                                            \
    X(satlas_swin_b_sentinel2_mi_rgb, "swin", NO_BANDS)                                           \
    X(satlas_swin_b_sentinel2_si_ms, "swin", NO_BANDS)                                            \
    X(satlas_swin_b_sentinel2_si_rgb, "swin", NO_BANDS)                                           \
    X(satlas_swin_b_naip_mi_rgb, "swin", NO_BANDS)                                                \
    X(satlas_swin_b_naip_si_rgb, "swin", NO_BANDS)                                                \
    X(satlas_swin_b_landsat_mi_ms, "swin", NO_BANDS)                                              \
    X(satlas_swin_b_landsat_mi_rgb, "swin", NO_BANDS)                                             \
    X(satlas_swin_b_sentinel1_mi, "swin", NO_BANDS)                                               \
    X(satlas_swin_b_sentinel1_si, "swin", NO_BANDS)                                               \
    X(ssl4eol_vit_small_patch16_224_landsat_tm_toa_moco, "vit_small_patch16_224", TM_TOA)         \
    X(ssl4eol_vit_small_patch16_224_landsat_tm_toa_simclr, "vit_small_patch16_224", TM_TOA)       \
    X(ssl4eol_vit_small_patch16_224_landsat_etm_toa_moco, "vit_small_patch16_224", ETM_TOA)       \
    X(ssl4eol_vit_small_patch16_224_landsat_etm_toa_simclr, "vit_small_patch16_224", ETM_TOA)     \
    X(ssl4eol_vit_small_patch16_224_landsat_etm_sr_moco, "vit_small_patch16_224", ETM_SR)         \
    X(ssl4eol_vit_small_patch16_224_landsat_etm_sr_simclr, "vit_small_patch16_224", ETM_SR)       \
    X(ssl4eol_vit_small_patch16_224_landsat_oli_tirs_toa_simclr, "vit_small_patch16_224",         \
      OLI_TIRS_TOA)                                                                               \
    X(ssl4eol_vit_small_patch16_224_landsat_oli_sr_moco, "vit_small_patch16_224", OLI_SR)         \
    X(ssl4eol_vit_small_patch16_224_landsat_oli_sr_simclr, "vit_small_patch16_224", OLI_SR)       \
    X(ssl4eos12_vit_small_patch16_224_sentinel2_all_dino, "vit_small_patch16_224", S2_ALL)        \
    X(ssl4eos12_vit_small_patch16_224_sentinel2_all_moco, "vit_small_patch16_224", S2_ALL)

#define TC_TORCHGEO_DECLARE(name, arch, bands)                                                    \
    terracl_status tc_torchgeo_##name(const terracl_value *first, const terracl_value *args,     \
                                      void *user, terracl_module **out, terracl_error *err);
TC_TORCHGEO_BACKBONES(TC_TORCHGEO_DECLARE)

/* Whether a module is one of these wrappers. */
int tc_torchgeo_is(const terracl_module *m);
/* The timm model inside a wrapper (its child resnet_model / vit_model);
 * any other module is returned as it is. */
const terracl_module *tc_torchgeo_inner(const terracl_module *m);
/* ckpt_data when pretrained=True (NULL otherwise). */
const char *tc_torchgeo_ckpt_data(const terracl_module *m);
/* The key of the band-carrying weight under the wrapper
 * ("resnet_model.conv1.weight" or "vit_model.patch_embed.proj.weight"):
 * found with the text before it as a checkpoint's prefix. */
const char *tc_torchgeo_marker(const terracl_module *m);

/* For `terracl info`: when `name` (with or without "terratorch_") is one
 * of these ResNets/ViTs, writes its pretrained weights' bands as a YAML
 * list ("[RED, GREEN, BLUE]"), an example for model_bands, which has no
 * default; returns 0 otherwise. */
int tc_torchgeo_example_bands(const char *name, char *buf, size_t cap);

#endif /* TC_MODELS_TORCHGEO_H */

/*
 * segmentation_models_pytorch (smp) decoders, TerraTorch's "smp" decoder
 * source (decoder: smp_Unet, smp_FPN, ...). TerraTorch builds the whole smp
 * model around a stand-in encoder whose out_channels is the channel list
 * (encoder_depth = len - 1), keeps only its decoder inside SMPDecoderWrapper
 * (keys "_smp_decoder.*") and puts its own head on the decoder's output, so
 * arguments are those of smp's model classes (decoder_channels,
 * decoder_atrous_rates, ...) and the features go in as given: smp drops or
 * ignores the first one the way it ignores the input image of its own
 * encoders.
 *
 * Registered constructors (`first`: the channel list):
 *   Unet           tc_smp_unet
 *   FPN            tc_smp_fpn
 *   DeepLabV3      tc_smp_deeplabv3
 *   DeepLabV3Plus  tc_smp_deeplabv3plus
 *   PSPNet         tc_smp_pspnet
 *   Linknet        tc_smp_linknet
 *   UPerNet        tc_smp_upernet
 *   UnetPlusPlus   tc_smp_unetplusplus
 *   PAN            tc_smp_pan
 *   MAnet          tc_smp_manet
 *   Segformer      tc_smp_segformer
 * The *_at forms build the same decoder with its keys under `prefix` (a
 * string that outlives the module: "_smp_decoder." for the registry,
 * "decoder." in smp's own models).
 */
#ifndef TC_MODELS_DECODERS_SMP_H
#define TC_MODELS_DECODERS_SMP_H

#include "graph/module.h"
#include "terracl/registry.h"

terracl_status tc_smp_unet(const terracl_value *first, const terracl_value *args, void *user,
                           terracl_module **out, terracl_error *err);
terracl_status tc_smp_fpn(const terracl_value *first, const terracl_value *args, void *user,
                          terracl_module **out, terracl_error *err);
terracl_status tc_smp_deeplabv3(const terracl_value *first, const terracl_value *args,
                                void *user, terracl_module **out, terracl_error *err);
terracl_status tc_smp_deeplabv3plus(const terracl_value *first, const terracl_value *args,
                                    void *user, terracl_module **out, terracl_error *err);
terracl_status tc_smp_pspnet(const terracl_value *first, const terracl_value *args, void *user,
                             terracl_module **out, terracl_error *err);
terracl_status tc_smp_linknet(const terracl_value *first, const terracl_value *args, void *user,
                              terracl_module **out, terracl_error *err);
terracl_status tc_smp_upernet(const terracl_value *first, const terracl_value *args, void *user,
                              terracl_module **out, terracl_error *err);
terracl_status tc_smp_unetplusplus(const terracl_value *first, const terracl_value *args,
                                   void *user, terracl_module **out, terracl_error *err);
terracl_status tc_smp_pan(const terracl_value *first, const terracl_value *args, void *user,
                          terracl_module **out, terracl_error *err);
terracl_status tc_smp_manet(const terracl_value *first, const terracl_value *args, void *user,
                            terracl_module **out, terracl_error *err);
terracl_status tc_smp_segformer(const terracl_value *first, const terracl_value *args,
                                void *user, terracl_module **out, terracl_error *err);

terracl_status tc_smp_unet_decoder_at(const terracl_value *first, const terracl_value *args,
                                      const char *prefix, terracl_module **out,
                                      terracl_error *err);
terracl_status tc_smp_fpn_decoder_at(const terracl_value *first, const terracl_value *args,
                                     const char *prefix, terracl_module **out,
                                     terracl_error *err);
terracl_status tc_smp_deeplabv3_decoder_at(const terracl_value *first, const terracl_value *args,
                                           const char *prefix, terracl_module **out,
                                           terracl_error *err);
terracl_status tc_smp_deeplabv3plus_decoder_at(const terracl_value *first,
                                               const terracl_value *args, const char *prefix,
                                               terracl_module **out, terracl_error *err);
terracl_status tc_smp_pspnet_decoder_at(const terracl_value *first, const terracl_value *args,
                                        const char *prefix, terracl_module **out,
                                        terracl_error *err);
terracl_status tc_smp_linknet_decoder_at(const terracl_value *first, const terracl_value *args,
                                         const char *prefix, terracl_module **out,
                                         terracl_error *err);
terracl_status tc_smp_upernet_decoder_at(const terracl_value *first, const terracl_value *args,
                                         const char *prefix, terracl_module **out,
                                         terracl_error *err);
terracl_status tc_smp_unetplusplus_decoder_at(const terracl_value *first,
                                              const terracl_value *args, const char *prefix,
                                              terracl_module **out, terracl_error *err);
terracl_status tc_smp_pan_decoder_at(const terracl_value *first, const terracl_value *args,
                                     const char *prefix, terracl_module **out,
                                     terracl_error *err);
terracl_status tc_smp_manet_decoder_at(const terracl_value *first, const terracl_value *args,
                                       const char *prefix, terracl_module **out,
                                       terracl_error *err);
terracl_status tc_smp_segformer_decoder_at(const terracl_value *first, const terracl_value *args,
                                           const char *prefix, terracl_module **out,
                                           terracl_error *err);

#endif /* TC_MODELS_DECODERS_SMP_H */

/*
 * TerraTorch's decoders (DECODER_REGISTRY), built from the channel list of
 * the features they receive and TerraTorch's keyword arguments (same names,
 * same defaults). Parameters are named as the decoder's state_dict keys in
 * TerraTorch (what follows "decoder." in a full model's checkpoint).
 *
 * Forward: in = the feature maps [B, C_i, H_i, W_i] (one per entry of the
 * channel list, after necks); out = one tensor [B, out_channels, H, W].
 * Each module reports one out_channels entry and records its resolved
 * arguments as its config.
 *
 * Constructors (`first`: a list of ints, the input channels; `user`: unused):
 *   registered name    constructor
 *   FCNDecoder         tc_fcn_decoder
 *   UperNetDecoder     tc_upernet_decoder
 *   UNetDecoder        tc_unet_decoder
 *   IdentityDecoder    tc_identity_decoder
 *   LinearDecoder      tc_linear_decoder   (includes the head)
 *   MLPDecoder         tc_mlp_decoder
 *   ASPPModule, ASPPHead, ASPPSegmentationHead, ASPPRegressionHead
 *                      tc_aspp_module, tc_aspp_head, tc_aspp_segmentation_head,
 *                      tc_aspp_regression_head (aspp.c)
 */
#ifndef TC_MODELS_DECODERS_H
#define TC_MODELS_DECODERS_H

#include "graph/module.h"
#include "terracl/registry.h"

terracl_status tc_fcn_decoder(const terracl_value *first, const terracl_value *args, void *user,
                              terracl_module **out, terracl_error *err);
terracl_status tc_upernet_decoder(const terracl_value *first, const terracl_value *args,
                                  void *user, terracl_module **out, terracl_error *err);
terracl_status tc_unet_decoder(const terracl_value *first, const terracl_value *args, void *user,
                               terracl_module **out, terracl_error *err);
terracl_status tc_identity_decoder(const terracl_value *first, const terracl_value *args,
                                   void *user, terracl_module **out, terracl_error *err);
terracl_status tc_linear_decoder(const terracl_value *first, const terracl_value *args,
                                 void *user, terracl_module **out, terracl_error *err);
terracl_status tc_mlp_decoder(const terracl_value *first, const terracl_value *args, void *user,
                              terracl_module **out, terracl_error *err);

terracl_status tc_aspp_module(const terracl_value *first, const terracl_value *args, void *user,
                              terracl_module **out, terracl_error *err);
terracl_status tc_aspp_head(const terracl_value *first, const terracl_value *args, void *user,
                            terracl_module **out, terracl_error *err);
terracl_status tc_aspp_segmentation_head(const terracl_value *first, const terracl_value *args,
                                         void *user, terracl_module **out, terracl_error *err);
terracl_status tc_aspp_regression_head(const terracl_value *first, const terracl_value *args,
                                       void *user, terracl_module **out, terracl_error *err);

/*
 * TerraTorch's class attribute `includes_head`: true for decoders that end
 * in the task's own output layer (LinearDecoder), so the factory routes
 * num_classes to the decoder and uses no head. By registered name (without
 * a source prefix) before building, or by a built module.
 */
int tc_decoder_name_includes_head(const char *name);
int tc_decoder_includes_head(const terracl_module *m);

#endif /* TC_MODELS_DECODERS_H */

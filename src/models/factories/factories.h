/* Model factories (MODEL_FACTORY_REGISTRY). */
#ifndef TC_MODELS_FACTORIES_H
#define TC_MODELS_FACTORIES_H

#include "graph/module.h"
#include "terracl/registry.h"

/*
 * TerraTorch's EncoderDecoderFactory: `args` holds the model_args of a
 * config plus `task` (segmentation, regression or classification). Returns
 * the whole model (PixelWiseModel or ScalarOutputModel) with children
 * encoder, neck, decoder and head named as in TerraTorch's state_dict.
 */
terracl_status tc_encoder_decoder_factory(const terracl_value *first, const terracl_value *args,
                                          void *user, terracl_module **out, terracl_error *err);

/*
 * TerraTorch's deprecated PrithviModelFactory: renames bands, in_channels,
 * pretrained and num_frames to backbone_* arguments (with TerraTorch's
 * defaults), refuses necks and non-prithvi_* backbones, and builds with
 * EncoderDecoderFactory, so the model and its state_dict keys are the same.
 */
terracl_status tc_prithvi_model_factory(const terracl_value *first, const terracl_value *args,
                                        void *user, terracl_module **out, terracl_error *err);

/*
 * TerraTorch's SMPModelFactory: a segmentation_models_pytorch model (`model`:
 * Unet, FPN, DeepLabV3, DeepLabV3Plus) on one of smp's ResNet encoders
 * (`backbone`: resnet18/34/50/101/152), segmentation only; see smp_factory.c.
 */
terracl_status tc_smp_model_factory(const terracl_value *first, const terracl_value *args,
                                    void *user, terracl_module **out, terracl_error *err);

/*
 * TerraTorch's TimmModelFactory (classification only): a whole timm
 * classifier from backbone, in_channels, num_classes, pretrained and
 * backbone_* (timm's keyword arguments); keys "timm_model.*", output
 * [B, num_classes]. The plain timm ViTs are supported.
 */
terracl_status tc_timm_model_factory(const terracl_value *first, const terracl_value *args,
                                     void *user, terracl_module **out, terracl_error *err);

/* What a built-in factory reads from model_args, as lines of text for
 * `terracl info factory NAME`; NULL for a factory that is not built in. */
const char *tc_model_factory_usage(const char *name);

#endif /* TC_MODELS_FACTORIES_H */

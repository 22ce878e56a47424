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

#endif /* TC_MODELS_FACTORIES_H */

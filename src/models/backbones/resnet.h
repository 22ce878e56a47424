/*
 * timm's ResNet family as TerraTorch's `timm` backbone source builds it:
 * timm.create_model(name, features_only=True, **kwargs), a feature
 * extractor whose state_dict keys are timm's (conv1, bn1, layer1.0.conv1,
 * layer2.0.downsample.0, ...), truncated after the last stage out_indices
 * asks for. Its forward takes [B, C, H, W] and returns the features of
 * out_indices among (stem act1, layer1, layer2, layer3, layer4).
 */
#ifndef TC_MODELS_RESNET_H
#define TC_MODELS_RESNET_H

#include "graph/module.h"
#include "terracl/registry.h"

terracl_status tc_timm_resnet18(const terracl_value *first, const terracl_value *args, void *user,
                                terracl_module **out, terracl_error *err);
terracl_status tc_timm_resnet34(const terracl_value *first, const terracl_value *args, void *user,
                                terracl_module **out, terracl_error *err);
terracl_status tc_timm_resnet50(const terracl_value *first, const terracl_value *args, void *user,
                                terracl_module **out, terracl_error *err);
terracl_status tc_timm_resnet101(const terracl_value *first, const terracl_value *args, void *user,
                                 terracl_module **out, terracl_error *err);
terracl_status tc_timm_resnet152(const terracl_value *first, const terracl_value *args, void *user,
                                 terracl_module **out, terracl_error *err);

#endif /* TC_MODELS_RESNET_H */

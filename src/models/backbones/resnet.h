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

/* The "d" variants: deep 3-conv stem, average-pool shortcuts. */
terracl_status tc_timm_resnet18d(const terracl_value *first, const terracl_value *args, void *user,
                                 terracl_module **out, terracl_error *err);
terracl_status tc_timm_resnet34d(const terracl_value *first, const terracl_value *args, void *user,
                                 terracl_module **out, terracl_error *err);
terracl_status tc_timm_resnet50d(const terracl_value *first, const terracl_value *args, void *user,
                                 terracl_module **out, terracl_error *err);
terracl_status tc_timm_resnet101d(const terracl_value *first, const terracl_value *args,
                                  void *user, terracl_module **out, terracl_error *err);
terracl_status tc_timm_resnet152d(const terracl_value *first, const terracl_value *args,
                                  void *user, terracl_module **out, terracl_error *err);

/* The whole timm ResNet classifier `arch` ("resnet18", "resnet50", ...), as
 * torchgeo's resnet18/50/152 create it for TerraTorch's torchgeo backbones:
 * timm.create_model(arch, **args), keys timm's own without a prefix, every
 * stage declared and the fc head (num_classes, default 1000) counted but
 * neither loaded nor run. Forward returns the features `feats` (ids 0..4:
 * act1, layer1..layer4) in the order given, running the stages up to the
 * last of them. */
TC_NODISCARD terracl_status tc_timm_resnet_whole(const char *arch, const terracl_value *args,
                                                 const int *feats, size_t n, terracl_module **out,
                                                 terracl_error *err);

/* Whether a module is one of these ResNets. */
int tc_timm_resnet_is(const terracl_module *m);

/* segmentation_models_pytorch's make_dilated on layer<stage> (1..4): every
 * convolution of the stage gets stride 1, dilation `rate` and padding
 * (k / 2) * rate, as smp's replace_strides_with_dilation does to its
 * (torchvision-layout) ResNet encoders. */
terracl_status tc_timm_resnet_dilate_stage(terracl_module *m, int stage, int64_t rate,
                                           terracl_error *err);

/* Adds what a forward pass over [B, C, H, W] `dims` allocates to `e`: the
 * stem output, the pooled map, a block's working set at each stage built,
 * and the kept features. Other ranks add nothing (the forward reports them). */
struct tc_mem_estimate;
void tc_timm_resnet_estimate(const terracl_module *m, int ndim, const int64_t *dims,
                             struct tc_mem_estimate *e);

#endif /* TC_MODELS_RESNET_H */

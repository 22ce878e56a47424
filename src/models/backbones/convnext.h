/*
 * timm's ConvNeXt family (V1 with layer scale, V2 with Global Response
 * Norm) as TerraTorch's `timm` backbone source builds it:
 * timm.create_model(name, features_only=True, **kwargs), a feature extractor
 * whose state_dict keys are timm's after FeatureListNet flattening (stem_0,
 * stem_1, stages_<i>.downsample.<j>, stages_<i>.blocks.<k>.conv_dw, .norm,
 * .mlp.fc1, .mlp.grn, .mlp.fc2, .gamma), truncated after the last stage
 * out_indices asks for. Forward takes [B, C, H, W] and returns the outputs
 * of the stages out_indices names, in stage order (as timm returns them;
 * the channel list follows out_indices' own order, as timm reports it).
 */
#ifndef TC_MODELS_CONVNEXT_H
#define TC_MODELS_CONVNEXT_H

#include "graph/module.h"
#include "terracl/registry.h"

#define TC_CONVNEXT_CTOR(fn)                                                                       \
    terracl_status fn(const terracl_value *first, const terracl_value *args, void *user,          \
                      terracl_module **out, terracl_error *err)
TC_CONVNEXT_CTOR(tc_timm_convnext_tiny);
TC_CONVNEXT_CTOR(tc_timm_convnext_small);
TC_CONVNEXT_CTOR(tc_timm_convnext_base);
TC_CONVNEXT_CTOR(tc_timm_convnext_large);
TC_CONVNEXT_CTOR(tc_timm_convnext_xlarge);
TC_CONVNEXT_CTOR(tc_timm_convnextv2_tiny);
TC_CONVNEXT_CTOR(tc_timm_convnextv2_small);
TC_CONVNEXT_CTOR(tc_timm_convnextv2_base);
TC_CONVNEXT_CTOR(tc_timm_convnextv2_large);
TC_CONVNEXT_CTOR(tc_timm_convnextv2_huge);
/* The small ones (conv_mlp: 1x1-conv MLP weights [out, in, 1, 1]). */
TC_CONVNEXT_CTOR(tc_timm_convnext_atto);
TC_CONVNEXT_CTOR(tc_timm_convnext_femto);
TC_CONVNEXT_CTOR(tc_timm_convnext_pico);
TC_CONVNEXT_CTOR(tc_timm_convnext_nano);
TC_CONVNEXT_CTOR(tc_timm_convnextv2_atto);
TC_CONVNEXT_CTOR(tc_timm_convnextv2_femto);
TC_CONVNEXT_CTOR(tc_timm_convnextv2_pico);
TC_CONVNEXT_CTOR(tc_timm_convnextv2_nano);
/* TerraTorch's own convnextv2_* / convnext_pico (MMEarth's ConvNeXt V2, a
 * classifier whose forward returns logits, no feature extractor): their
 * names are taken in the `terratorch` source, where TerraTorch finds them
 * before timm's, and building one is refused with a message rather than
 * silently resolving to timm's model of the same name. */
TC_CONVNEXT_CTOR(tc_mmearth_convnextv2_refused);
#undef TC_CONVNEXT_CTOR

/* Whether a module is one of these ConvNeXts. */
int tc_timm_convnext_is(const terracl_module *m);

/* Adds what a forward pass over [B, C, H, W] `dims` allocates to `e`. */
struct tc_mem_estimate;
void tc_timm_convnext_estimate(const terracl_module *m, int ndim, const int64_t *dims,
                               struct tc_mem_estimate *e);

#endif /* TC_MODELS_CONVNEXT_H */

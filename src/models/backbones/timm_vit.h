/*
 * timm's plain VisionTransformer (vit_tiny/small/base/large_patch16_224 and
 * _384) as TerraTorch's `timm` backbone source builds it:
 * timm.create_model(name, features_only=True, **kwargs) wraps the ViT in a
 * FeatureGetterNet, so the state_dict keys are "model." + timm's
 * (model.cls_token, model.pos_embed, model.patch_embed.proj,
 * model.blocks.<i>.*), the blocks after the last requested one are pruned
 * and so is the final norm. Forward takes [B, C, H, W] of exactly img_size
 * and returns, for each block out_indices names (an int n: the last n
 * blocks; timm's default 3), its output without the CLS token and without
 * the final norm, as an image [B, D, H/16, W/16], in block order.
 */
#ifndef TC_MODELS_TIMM_VIT_H
#define TC_MODELS_TIMM_VIT_H

#include "graph/module.h"
#include "terracl/registry.h"

terracl_status tc_timm_vit_tiny_patch16_224(const terracl_value *first, const terracl_value *args,
                                            void *user, terracl_module **out, terracl_error *err);
terracl_status tc_timm_vit_small_patch16_224(const terracl_value *first,
                                             const terracl_value *args, void *user,
                                             terracl_module **out, terracl_error *err);
terracl_status tc_timm_vit_base_patch16_224(const terracl_value *first, const terracl_value *args,
                                            void *user, terracl_module **out, terracl_error *err);
terracl_status tc_timm_vit_large_patch16_224(const terracl_value *first,
                                             const terracl_value *args, void *user,
                                             terracl_module **out, terracl_error *err);
terracl_status tc_timm_vit_tiny_patch16_384(const terracl_value *first, const terracl_value *args,
                                            void *user, terracl_module **out, terracl_error *err);
terracl_status tc_timm_vit_small_patch16_384(const terracl_value *first,
                                             const terracl_value *args, void *user,
                                             terracl_module **out, terracl_error *err);
terracl_status tc_timm_vit_base_patch16_384(const terracl_value *first, const terracl_value *args,
                                            void *user, terracl_module **out, terracl_error *err);
terracl_status tc_timm_vit_large_patch16_384(const terracl_value *first,
                                             const terracl_value *args, void *user,
                                             terracl_module **out, terracl_error *err);

/* The whole timm classifier (timm.create_model(name, num_classes=...), as
 * TerraTorch's TimmModelFactory wraps it, keys "timm_model." + timm's):
 * every block, the final norm, the CLS token and the head; forward gives
 * [B, num_classes]. `name` may carry a pretrained tag ("arch.tag"); `args`
 * are timm's keyword arguments (in_chans, img_size, embed_dim, ...). */
TC_NODISCARD terracl_status tc_timm_vit_classifier(const char *name, const terracl_value *args,
                                                   int64_t num_classes, terracl_module **out,
                                                   terracl_error *err);

/* The whole timm ViT `arch` ("vit_small_patch16_224", ...) as torchgeo
 * creates it for TerraTorch's torchgeo backbones: keys timm's own without a
 * prefix, the final norm and the head (num_classes, default 1000) counted
 * but never run; forward is timm's forward_intermediates: every block's
 * output without CLS token or final norm, as [B, D, H/p, W/p]. */
TC_NODISCARD terracl_status tc_timm_vit_whole(const char *arch, const terracl_value *args,
                                              terracl_module **out, terracl_error *err);

/* Whether a module is one of these ViTs. */
int tc_timm_vit_is(const terracl_module *m);
/* Its patch size (TerraTorch's factory pads inputs to a multiple of it). */
int64_t tc_timm_vit_patch_size(const terracl_module *m);

/* Adds what a forward pass over [B, C, H, W] `dims` allocates to `e`
 * (attn_scratch(ctx, ...): the attention scratch floats, as for Prithvi). */
struct tc_mem_estimate;
void tc_timm_vit_estimate(const terracl_module *m, int ndim, const int64_t *dims,
                          uint64_t (*attn_scratch)(const void *ctx, uint64_t len, uint64_t dim,
                                                   uint64_t heads),
                          const void *ctx, struct tc_mem_estimate *e);

#endif /* TC_MODELS_TIMM_VIT_H */

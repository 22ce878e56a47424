/*
 * The Prithvi-EO ViT backbones (TerraTorch's PrithviViT, encoder only).
 *
 * The constructors take TerraTorch's keyword arguments; the module's
 * parameters are named exactly as the encoder's state_dict keys
 * (patch_embed.proj.weight, blocks.0.attn.qkv.weight, ...). Its forward
 * takes one input tensor [B, C, T, H, W] (or [B, C, H, W] for single-frame
 * models) and returns the outputs of the blocks in out_indices, each
 * [B, 1+N, D], the last block's output after the final LayerNorm.
 */
#ifndef TC_MODELS_PRITHVI_VIT_H
#define TC_MODELS_PRITHVI_VIT_H

#include "graph/module.h"
#include "terracl/registry.h"

/* One constructor per registered name; `user` is unused. */
terracl_status tc_prithvi_eo_tiny(const terracl_value *first, const terracl_value *args,
                                  void *user, terracl_module **out, terracl_error *err);
terracl_status tc_prithvi_eo_v1_100(const terracl_value *first, const terracl_value *args,
                                    void *user, terracl_module **out, terracl_error *err);
terracl_status tc_prithvi_eo_v2_tiny_tl(const terracl_value *first, const terracl_value *args,
                                        void *user, terracl_module **out, terracl_error *err);
terracl_status tc_prithvi_eo_v2_100_tl(const terracl_value *first, const terracl_value *args,
                                       void *user, terracl_module **out, terracl_error *err);
terracl_status tc_prithvi_eo_v2_300(const terracl_value *first, const terracl_value *args,
                                    void *user, terracl_module **out, terracl_error *err);
terracl_status tc_prithvi_eo_v2_300_tl(const terracl_value *first, const terracl_value *args,
                                       void *user, terracl_module **out, terracl_error *err);
terracl_status tc_prithvi_eo_v2_600(const terracl_value *first, const terracl_value *args,
                                    void *user, terracl_module **out, terracl_error *err);
terracl_status tc_prithvi_eo_v2_600_tl(const terracl_value *first, const terracl_value *args,
                                       void *user, terracl_module **out, terracl_error *err);

/* Whether a module is a Prithvi ViT, and its facts for necks/factories. */
int tc_prithvi_is(const terracl_module *m);
int64_t tc_prithvi_embed_dim(const terracl_module *m);
/* Frames at construction divided by the tubelet size (TerraTorch's
 * effective_time_dim). */
int64_t tc_prithvi_effective_time(const terracl_module *m);
int64_t tc_prithvi_patch_size(const terracl_module *m, int axis); /* 0=t, 1=h, 2=w */
/* The ckpt_path argument (resolved), or NULL. */
const char *tc_prithvi_ckpt_path(const terracl_module *m);

/* Adds what a forward pass over an input of shape `dims` ([B, C, T, H, W]
 * or [B, C, H, W]) allocates to `e`: the input, patches and tokens, the
 * block scratch (x, qkv, attention scratch of `attn_scratch(L)` floats,
 * MLP hidden), the kept block outputs, and the host position tables.
 * Shapes the forward would refuse add nothing (it reports them). */
struct tc_mem_estimate;
void tc_prithvi_estimate(const terracl_module *m, int ndim, const int64_t *dims,
                         uint64_t (*attn_scratch)(const void *ctx, uint64_t len, uint64_t dim,
                                                  uint64_t heads),
                         const void *ctx, int final_only, struct tc_mem_estimate *e);

/* TerraTorch's prepare_features_for_image_model: drops the CLS token and
 * turns each [B, 1+N, D] feature into [B, Teff*D, h, w]. */
TC_NODISCARD terracl_status tc_prithvi_tokens_to_image(terracl_runtime *rt,
                                                       const struct tc_tensor *tokens,
                                                       int64_t effective_time, int64_t h_given,
                                                       struct tc_tensor *out, terracl_error *err);

#endif /* TC_MODELS_PRITHVI_VIT_H */

/* The attention half of a pre-norm ViT block, shared by the Prithvi and
 * TerraMind encoders (their MLP halves differ). */
#ifndef TC_MODELS_BACKBONES_VIT_ATTENTION_H
#define TC_MODELS_BACKBONES_VIT_ATTENTION_H

#include "graph/tensor.h"

/* The weights of one block's attention half; biases may be NULL. */
struct tc_vit_attention_weights {
    const struct tc_tensor *norm_w, *norm_b, *qkv_w, *qkv_b, *proj_w, *proj_b;
};

/* x += proj(attention(qkv(layernorm(x)))) with `heads` heads and the
 * 1/sqrt(head_dim) scale; h, qkv, scores and attn are the caller's scratch
 * (allocated on first use, reused across blocks). */
TC_NODISCARD terracl_status tc_vit_attention_residual(terracl_runtime *rt,
                                                      const struct tc_vit_attention_weights *w,
                                                      int64_t heads, float ln_eps,
                                                      struct tc_tensor *x, struct tc_tensor *h,
                                                      struct tc_tensor *qkv,
                                                      struct tc_tensor *scores,
                                                      struct tc_tensor *attn, terracl_error *err);

#endif /* TC_MODELS_BACKBONES_VIT_ATTENTION_H */

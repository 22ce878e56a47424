/*
 * The TerraMind v1 encoders (TerraTorch's TerraMindViT), one raw image
 * modality at a time.
 *
 * Parameters are named as TerraMindViT's state_dict keys
 * (encoder_embeddings.untok_sen2l2a@224.proj.weight, encoder.0.attn.qkv.weight,
 * encoder_norm.weight, ...). The forward takes [B, C, H, W] (H and W whole
 * patches) and returns every block's output [B, N, D] (no CLS token), the
 * last after encoder_norm.
 */
#ifndef TC_MODELS_TERRAMIND_H
#define TC_MODELS_TERRAMIND_H

#include "graph/module.h"
#include "terracl/registry.h"

/* One constructor per registered name; `user` is unused. */
terracl_status tc_terramind_v1_tiny(const terracl_value *first, const terracl_value *args,
                                    void *user, terracl_module **out, terracl_error *err);
terracl_status tc_terramind_v1_small(const terracl_value *first, const terracl_value *args,
                                     void *user, terracl_module **out, terracl_error *err);
terracl_status tc_terramind_v1_base(const terracl_value *first, const terracl_value *args,
                                    void *user, terracl_module **out, terracl_error *err);
terracl_status tc_terramind_v1_large(const terracl_value *first, const terracl_value *args,
                                     void *user, terracl_module **out, terracl_error *err);

/* Whether a module is a TerraMind encoder, and its (square) patch size. */
int tc_terramind_is(const terracl_module *m);
int64_t tc_terramind_patch_size(const terracl_module *m);

/* Adds what a forward pass over [B, C, H, W] allocates to `e` (as
 * tc_prithvi_estimate does for the Prithvi ViTs). */
struct tc_mem_estimate;
void tc_terramind_estimate(const terracl_module *m, int ndim, const int64_t *dims,
                           uint64_t (*attn_scratch)(const void *ctx, uint64_t len, uint64_t dim,
                                                    uint64_t heads),
                           const void *ctx, int final_only, struct tc_mem_estimate *e);

#endif /* TC_MODELS_TERRAMIND_H */

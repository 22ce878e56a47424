/*
 * The TerraMind v1 encoders (TerraTorch's TerraMindViT) with raw image
 * modalities, one or several.
 *
 * Parameters are named as TerraMindViT's state_dict keys
 * (encoder_embeddings.untok_sen2l2a@224.proj.weight, encoder.0.attn.qkv.weight,
 * encoder_norm.weight, ...). The forward takes one input per modality, in
 * the model's modality order (tc_terramind_modality_name), each [B, C_m, H,
 * W] with H and W whole patches; an empty tensor (ndim 0) stands for a
 * modality not given, and a single input is the first modality. It returns
 * every block's output (no CLS token), the last after encoder_norm, merged
 * as merge_method says: [B, N, D] (mean, max), [B, N, M*D] (concat),
 * [B, Mg*N, D] (null); with dict, which runs only as a backbone alone, the
 * final output as one [B, N, D] per modality given.
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
terracl_status tc_terramind_v01_base(const terracl_value *first, const terracl_value *args,
                                     void *user, terracl_module **out, terracl_error *err);
/* The _tim variants: refused, with the reason. */
terracl_status tc_terramind_tim(const terracl_value *first, const terracl_value *args, void *user,
                                terracl_module **out, terracl_error *err);

#define TC_TERRAMIND_MAX_MODALITIES 8

/* Whether a module is a TerraMind encoder, and its (square) patch size. */
int tc_terramind_is(const terracl_module *m);
int64_t tc_terramind_patch_size(const terracl_module *m);
/* Its modalities in input order: names as the config wrote them, and the
 * channel count each expects. */
size_t tc_terramind_modality_count(const terracl_module *m);
const char *tc_terramind_modality_name(const terracl_module *m, size_t i);
int64_t tc_terramind_modality_channels(const terracl_module *m, size_t i);
/* The ckpt_path the backbone loads (NULL: none). */
const char *tc_terramind_ckpt_path(const terracl_module *m);
/* merge_method dict: the output is one token sequence per modality. */
int tc_terramind_merges_to_dict(const terracl_module *m);

/* Adds what a forward pass over [B, C, H, W] allocates to `e` (as
 * tc_prithvi_estimate does for the Prithvi ViTs). */
struct tc_mem_estimate;
void tc_terramind_estimate(const terracl_module *m, int ndim, const int64_t *dims,
                           uint64_t (*attn_scratch)(const void *ctx, uint64_t len, uint64_t dim,
                                                    uint64_t heads),
                           const void *ctx, int final_only, struct tc_mem_estimate *e);

#endif /* TC_MODELS_TERRAMIND_H */

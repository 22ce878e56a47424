/* Multi-head self-attention on timm's packed qkv layout. */
#ifndef TC_OPS_ATTENTION_H
#define TC_OPS_ATTENTION_H

#include "graph/tensor.h"

/*
 * Multi-head self-attention core on a packed qkv tensor [B, L, 3D] laid out
 * as timm's Attention: columns [Q | K | V], heads contiguous inside each.
 * out [B, L, D] = concat_h softmax(Q_h K_h^T * scale) V_h. `scores` is
 * scratch of at least tc_attention_scratch() floats.
 *
 * On CPU devices this runs the fused kernel (tc_op_attention_fused) in the
 * scratch, or in a temporary when the scratch is smaller than one batch
 * item's padded K^T (short sequences); on GPUs the GEMM path
 * (tc_op_attention_gemm), which CLBlast tunes for them.
 */
TC_NODISCARD terracl_status tc_op_attention(terracl_runtime *rt, const struct tc_tensor *qkv,
                                            int64_t heads, float scale, struct tc_tensor *scores,
                                            struct tc_tensor *out, terracl_error *err);

/* Floats of scratch tc_op_attention needs on this runtime's device: one
 * batch item's padded K^T for the fused kernel on CPUs, heads*L*L scores
 * for the GEMM path elsewhere. */
size_t tc_attention_scratch(const terracl_runtime *rt, size_t len, size_t dim, size_t heads);

/* Floats of scratch the fused kernel needs per batch item (K^T padded to
 * whole key blocks); it does as many batch items per launch as fit. */
size_t tc_attention_fused_scratch(size_t len, size_t dim);

/* Fused kernel (cl_kernels/attention.cl): one work-item per few query rows
 * of one (batch, head), online softmax, nothing of size L x L stored.
 * Built for CPUs; correct anywhere. */
TC_NODISCARD terracl_status tc_op_attention_fused(terracl_runtime *rt, const struct tc_tensor *qkv,
                                                  int64_t heads, float scale,
                                                  struct tc_tensor *scratch, struct tc_tensor *out,
                                                  terracl_error *err);

/* Per batch item: strided-batched GEMM S_h = Q_h K_h^T over heads, row
 * softmax with the scale folded in, strided-batched O_h = P_h V_h; scratch
 * of heads*L*L floats. */
TC_NODISCARD terracl_status tc_op_attention_gemm(terracl_runtime *rt, const struct tc_tensor *qkv,
                                                 int64_t heads, float scale,
                                                 struct tc_tensor *scores, struct tc_tensor *out,
                                                 terracl_error *err);

#endif /* TC_OPS_ATTENTION_H */

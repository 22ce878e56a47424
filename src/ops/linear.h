/* Fully connected layers and multi-head attention, built on the GEMM. */
#ifndef TC_OPS_LINEAR_H
#define TC_OPS_LINEAR_H

#include "graph/tensor.h"

/* y = x W^T + b (PyTorch nn.Linear): x [..., K], W [N, K], b [N] or NULL,
 * y [..., N] with the same leading dims. y must not alias x. */
TC_NODISCARD terracl_status tc_op_linear(terracl_runtime *rt, const struct tc_tensor *x,
                                         const struct tc_tensor *w, const struct tc_tensor *b,
                                         struct tc_tensor *y, terracl_error *err);

/*
 * Multi-head self-attention core on a packed qkv tensor [B, L, 3D] laid out
 * as timm's Attention: columns [Q | K | V], heads contiguous inside each.
 * out [B, L, D] = concat_h softmax(Q_h K_h^T * scale) V_h. `scores` is
 * scratch of at least heads*L*L floats. Heads run as one strided-batched
 * GEMM per batch item, straight on the packed buffer (no per-head copies).
 */
TC_NODISCARD terracl_status tc_op_attention(terracl_runtime *rt, const struct tc_tensor *qkv,
                                            int64_t heads, float scale, struct tc_tensor *scores,
                                            struct tc_tensor *out, terracl_error *err);

#endif /* TC_OPS_LINEAR_H */

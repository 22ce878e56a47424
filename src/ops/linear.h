/* Fully connected layers, built on the GEMM. */
#ifndef TC_OPS_LINEAR_H
#define TC_OPS_LINEAR_H

#include "graph/tensor.h"

/* y = x W^T + b (PyTorch nn.Linear): x [..., K], W [N, K], b [N] or NULL,
 * y [..., N] with the same leading dims. y must not alias x. */
TC_NODISCARD terracl_status tc_op_linear(terracl_runtime *rt, const struct tc_tensor *x,
                                         const struct tc_tensor *w, const struct tc_tensor *b,
                                         struct tc_tensor *y, terracl_error *err);

/* The fused forms a transformer block needs:
 *   gelu:       y = gelu(x W^T + b)
 *   accumulate: y += x W^T + b   (a residual connection written in place)
 * On CPUs the bias and GELU run inside the GEMM kernel; elsewhere as
 * element-wise passes after it. */
TC_NODISCARD terracl_status tc_op_linear_ex(terracl_runtime *rt, const struct tc_tensor *x,
                                            const struct tc_tensor *w, const struct tc_tensor *b,
                                            int gelu, int accumulate, struct tc_tensor *y,
                                            terracl_error *err);

/* A SwiGLU MLP's gate: y = silu(y) * (x W^T) with y holding the other
 * half's x W1^T (no bias). On CPUs (W packed) inside the GEMM's epilogue;
 * elsewhere through a temporary and an element-wise pass. */
TC_NODISCARD terracl_status tc_op_linear_silu_gate(terracl_runtime *rt,
                                                   const struct tc_tensor *x,
                                                   const struct tc_tensor *w,
                                                   struct tc_tensor *y, terracl_error *err);

/* tc_op_attention moved to ops/attention.h; included here for its callers. */
#include "ops/attention.h"

#endif /* TC_OPS_LINEAR_H */

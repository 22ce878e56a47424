/* Fully connected layers, built on the GEMM. */
#ifndef TC_OPS_LINEAR_H
#define TC_OPS_LINEAR_H

#include "graph/tensor.h"

/* y = x W^T + b (PyTorch nn.Linear): x [..., K], W [N, K], b [N] or NULL,
 * y [..., N] with the same leading dims. y must not alias x. */
TC_NODISCARD terracl_status tc_op_linear(terracl_runtime *rt, const struct tc_tensor *x,
                                         const struct tc_tensor *w, const struct tc_tensor *b,
                                         struct tc_tensor *y, terracl_error *err);

/* tc_op_attention moved to ops/attention.h; included here for its callers. */
#include "ops/attention.h"

#endif /* TC_OPS_LINEAR_H */

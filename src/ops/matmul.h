/* Batched matrix products on float32 device tensors (torch.matmul on 3-D). */
#ifndef TC_OPS_MATMUL_H
#define TC_OPS_MATMUL_H

#include "graph/tensor.h"

/* c[i] = op(a[i]) op(b[i]) for i < batch, with a, b, c contiguous 3-D
 * tensors [batch, rows, cols] and op the transpose when trans_*: op(a) is
 * m x k, op(b) k x n, c [batch, m, n]. c must not alias a or b. */
TC_NODISCARD terracl_status tc_op_matmul_batched(terracl_runtime *rt, int trans_a, int trans_b,
                                                 const struct tc_tensor *a,
                                                 const struct tc_tensor *b, struct tc_tensor *c,
                                                 terracl_error *err);

#endif /* TC_OPS_MATMUL_H */

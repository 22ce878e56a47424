/* Reductions over the last dimension of float32 tensors. */
#ifndef TC_OPS_REDUCE_H
#define TC_OPS_REDUCE_H

#include "graph/tensor.h"

enum tc_reduce { TC_REDUCE_MEAN = 0, TC_REDUCE_MAX = 1, TC_REDUCE_MIN = 2 };

/* y = x.mean/max/min(dim=-1): x is [..., m] (m >= 1, contiguous rows), y
 * holds numel(x) / m elements (its shape is the caller's). */
TC_NODISCARD terracl_status tc_op_reduce_last(terracl_runtime *rt, const struct tc_tensor *x,
                                              enum tc_reduce mode, struct tc_tensor *y,
                                              terracl_error *err);

#endif /* TC_OPS_REDUCE_H */

/* Softmax over the last dimension. */
#ifndef TC_OPS_SOFTMAX_H
#define TC_OPS_SOFTMAX_H

#include "graph/tensor.h"

/* y = softmax(scale * x) along the last dimension; y may alias x. The scale
 * lets attention fold its 1/sqrt(head_dim) into the same pass. */
TC_NODISCARD terracl_status tc_op_softmax(terracl_runtime *rt, const struct tc_tensor *x,
                                          float scale, struct tc_tensor *y, terracl_error *err);

#endif /* TC_OPS_SOFTMAX_H */

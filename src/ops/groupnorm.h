/* nn.GroupNorm on NCHW float32 tensors (smp's FPN uses GroupNorm(32, C)). */
#ifndef TC_OPS_GROUPNORM_H
#define TC_OPS_GROUPNORM_H

#include "graph/tensor.h"

/* y = GroupNorm(groups, C, eps, affine)(x), followed by ReLU when `relu`:
 * x [B, C, ...] with C a multiple of groups, gamma/beta of C. y may alias x. */
TC_NODISCARD terracl_status tc_op_groupnorm(terracl_runtime *rt, const struct tc_tensor *x,
                                            int64_t groups, const struct tc_tensor *gamma,
                                            const struct tc_tensor *beta, float eps, int relu,
                                            struct tc_tensor *y, terracl_error *err);

#endif /* TC_OPS_GROUPNORM_H */

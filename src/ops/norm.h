/* Normalisation ops: LayerNorm over the last dimension or over NCHW channels. */
#ifndef TC_OPS_NORM_H
#define TC_OPS_NORM_H

#include "graph/tensor.h"

/* y = LayerNorm(x) over the last dimension, with per-column gamma and beta
 * (each of that dimension's length). y may alias x. */
TC_NODISCARD terracl_status tc_op_layernorm(terracl_runtime *rt, const struct tc_tensor *x,
                                            const struct tc_tensor *gamma,
                                            const struct tc_tensor *beta, float eps,
                                            struct tc_tensor *y, terracl_error *err);
/* LayerNorm over C of a [N, C, H, W] tensor (per pixel), gamma/beta of C. */
TC_NODISCARD terracl_status tc_op_layernorm_channels(terracl_runtime *rt,
                                                     const struct tc_tensor *x,
                                                     const struct tc_tensor *gamma,
                                                     const struct tc_tensor *beta, float eps,
                                                     struct tc_tensor *y, terracl_error *err);

#endif /* TC_OPS_NORM_H */

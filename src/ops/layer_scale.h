/* Layer scale with a residual: the tail of a ConvNeXt block. */
#ifndef TC_OPS_LAYER_SCALE_H
#define TC_OPS_LAYER_SCALE_H

#include "graph/tensor.h"

/* y[b, c, h, w] = res[b, c, h, w] + gamma[c] * t[b, h, w, c]: the block's
 * channels-last branch t is scaled per channel (gamma NULL: by 1), permuted
 * back to NCHW and added to the shortcut res [B, C, H, W]. y may alias res,
 * not t. */
TC_NODISCARD terracl_status tc_op_layer_scale_residual(terracl_runtime *rt,
                                                       const struct tc_tensor *t,
                                                       const struct tc_tensor *gamma,
                                                       const struct tc_tensor *res,
                                                       struct tc_tensor *y, terracl_error *err);

#endif /* TC_OPS_LAYER_SCALE_H */

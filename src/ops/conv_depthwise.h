/* Depthwise convolution (nn.Conv2d with groups == in_channels == out_channels),
 * the first half of smp's SeparableConv2d. */
#ifndef TC_OPS_CONV_DEPTHWISE_H
#define TC_OPS_CONV_DEPTHWISE_H

#include "ops/conv.h"

/* x [B, C, H, W], w [C, 1, kh, kw], b [C] or NULL; y [B, C, Ho, Wo] with
 * PyTorch's output size for g (allocated by the caller, not aliasing x). */
TC_NODISCARD terracl_status tc_op_conv2d_depthwise(terracl_runtime *rt, const struct tc_tensor *x,
                                                   const struct tc_tensor *w,
                                                   const struct tc_tensor *b,
                                                   const struct tc_conv_geom *g,
                                                   struct tc_tensor *y, terracl_error *err);

#endif /* TC_OPS_CONV_DEPTHWISE_H */

/* Two 3x3 convolutions in a row, each followed by its bias and ReLU: the
 * two Conv2dReLU of a UNet decoder block. */
#ifndef TC_OPS_CONV_PAIR_H
#define TC_OPS_CONV_PAIR_H

#include "ops/conv.h"

/* y = act(conv(act(conv(in, w1) + b1), w2) + b2), act = ReLU when relu,
 * where `in` is x, or with up not NULL the join torch.cat([interpolate(up,
 * size of x, "nearest"), x], 1) (x may have no channels: `in` is then up
 * resized to x's size). y [B, Cout2, Ho, Wo] is allocated by the
 * caller; b1 and b2 may be NULL. On CPU devices, where both take the
 * implicit kernel, the first writes its output in the layout the second
 * reads (tc_conv2d_implicit_pair_wanted), which saves the second's
 * padded copy; elsewhere the two run one after the other. Each is
 * profiled as its own operation. */
TC_NODISCARD terracl_status tc_op_conv2d_pair(terracl_runtime *rt, const struct tc_tensor *up,
                                              const struct tc_tensor *x,
                                              const struct tc_tensor *w1,
                                              const struct tc_tensor *b1,
                                              const struct tc_conv_geom *g1,
                                              const struct tc_tensor *w2,
                                              const struct tc_tensor *b2,
                                              const struct tc_conv_geom *g2, int relu,
                                              struct tc_tensor *y, terracl_error *err);

#endif /* TC_OPS_CONV_PAIR_H */

/* 1x1 convolutions to a few output channels (segmentation heads' class
 * convolutions) on CPU devices; see cl_kernels/conv_narrow.cl. Only conv.c
 * calls this. */
#ifndef TC_OPS_CONV_NARROW_H
#define TC_OPS_CONV_NARROW_H

#include "ops/conv.h"

/* Whether tc_conv2d_narrow runs this convolution: CPU devices, a plain
 * (unpacked) weight of at most 16 output channels, 1x1 without stride,
 * padding or dilation. */
int tc_conv2d_narrow_wanted(const terracl_runtime *rt, const struct tc_tensor *w,
                            const struct tc_conv_geom *g);

/* y = act(conv(x, w) + b) for shapes the caller has checked (conv2d's
 * checks); b may be NULL; relu: ReLU after the bias. */
TC_NODISCARD terracl_status tc_conv2d_narrow(terracl_runtime *rt, const struct tc_tensor *x,
                                             const struct tc_tensor *w, const struct tc_tensor *b,
                                             int relu, struct tc_tensor *y, terracl_error *err);

#endif /* TC_OPS_CONV_NARROW_H */

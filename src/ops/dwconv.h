/* Depthwise convolution (nn.Conv2d with groups == in_channels == out_channels):
 * ConvNeXt's 7x7 token mixer (stride 1, channels-last output) and the first
 * half of smp's SeparableConv2d (3x3, dilated in DeepLabV3+'s ASPP). Stride 1
 * with kernels up to 15x15 takes a kernel that computes a vector of outputs
 * per work-item; everything else a one-output-per-work-item kernel. */
#ifndef TC_OPS_DWCONV_H
#define TC_OPS_DWCONV_H

#include "graph/module.h"
#include "ops/conv.h"

/* x [B, C, H, W], w [C, 1, kh, kw], b [C] or NULL; y is allocated by the
 * caller with Ho, Wo as nn.Conv2d computes them for geometry g, either as
 * [B, C, Ho, Wo] or, with channels_last, as [B, Ho, Wo, C] (the permuted
 * layout ConvNeXt's LayerNorm and MLP read). y must not alias x. */
TC_NODISCARD terracl_status tc_op_dwconv2d(terracl_runtime *rt, const struct tc_tensor *x,
                                           const struct tc_tensor *w, const struct tc_tensor *b,
                                           const struct tc_conv_geom *g, int channels_last,
                                           struct tc_tensor *y, terracl_error *err);

/* The same with x channels-last too, [B, H, W, C] -> y [B, Ho, Wo, C]: a
 * channels-last trunk (ConvNeXt's blocks on CPUs) reads its map as it is.
 * Only where tc_op_dwconv2d_channels_last_ok says so: a CPU device, stride
 * 1, C a multiple of 16; TERRACL_ERR_UNSUPPORTED otherwise. */
int tc_op_dwconv2d_channels_last_ok(const terracl_runtime *rt, const struct tc_tensor *w,
                                    const struct tc_conv_geom *g);
TC_NODISCARD terracl_status tc_op_dwconv2d_channels_last(terracl_runtime *rt,
                                                         const struct tc_tensor *x,
                                                         const struct tc_tensor *w,
                                                         const struct tc_tensor *b,
                                                         const struct tc_conv_geom *g,
                                                         struct tc_tensor *y, terracl_error *err);

/* The tap-major form [kh kw, C] of a depthwise weight [C, 1, kh, kw] (a
 * tc_param.derive hook, for the weights of layers that run channels-last
 * with C a multiple of 16): where the binder stored it (CPU devices),
 * tc_op_dwconv2d reads it instead of transposing the weight on every call. */
int tc_dwconv2d_taps_derive(const struct tc_param *p, const float *plain, float *out);

#endif /* TC_OPS_DWCONV_H */

/* Conv2d on CPU devices with the weight in the packed GEMM layout, as a
 * pixel-major implicit GEMM (no column matrix, any stride); see
 * cl_kernels/conv_packed.cl. conv.c calls tc_conv2d_packed; a
 * channels-last trunk (ConvNeXt's) hands its map to
 * tc_conv2d_packed_channels_last as it lies. */
#ifndef TC_OPS_CONV_PACKED_H
#define TC_OPS_CONV_PACKED_H

#include "ops/conv.h"

/* y = act(conv(x, w) + b), or with accumulate y = act(conv(x, w) + b + y),
 * for shapes the caller has checked, w packed taps-major (TC_PACKED_TAPS,
 * or either layout for 1x1; Cout a multiple of 64); b may be NULL; relu:
 * ReLU last. Fails with TERRACL_ERR_UNSUPPORTED for sizes beyond the
 * kernel's 32-bit indices. */
TC_NODISCARD terracl_status tc_conv2d_packed(terracl_runtime *rt, const struct tc_tensor *x,
                                             const struct tc_tensor *w, const struct tc_tensor *b,
                                             const struct tc_conv_geom *g, int relu,
                                             int accumulate, struct tc_tensor *y,
                                             terracl_error *err);

/* Whether w and g suit tc_conv2d_packed_channels_last: a packed weight
 * the kernel takes, Cout a multiple of 64, no padding. */
int tc_conv2d_packed_channels_last_ok(const struct tc_tensor *w, const struct tc_conv_geom *g);

/* y [B, Cout, Ho, Wo] = conv(x, w) + b with x channels-last, [B, H, W, Cin]:
 * the kernel reads x where a planar input would first be copied
 * channels-last. No activation, no accumulation. Checks the shapes;
 * TERRACL_ERR_UNSUPPORTED where tc_conv2d_packed_channels_last_ok says no. */
TC_NODISCARD terracl_status tc_conv2d_packed_channels_last(terracl_runtime *rt,
                                                           const struct tc_tensor *x,
                                                           const struct tc_tensor *w,
                                                           const struct tc_tensor *b,
                                                           const struct tc_conv_geom *g,
                                                           struct tc_tensor *y,
                                                           terracl_error *err);

#endif /* TC_OPS_CONV_PACKED_H */

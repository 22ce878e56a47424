/* The join of a UNet decoder block: torch.cat([interpolate(up, size of
 * skip), skip], 1). tc_op_upsample_concat makes it; tc_op_conv2d_upcat runs
 * the convolution that follows on it, reading it where it lies when the
 * device's Winograd kernels can (CPUs), so that neither the upsampled map
 * nor the joined one is written. */
#ifndef TC_OPS_UPCAT_H
#define TC_OPS_UPCAT_H

#include "ops/conv.h"

/* cat [B, C0 + Cs, H, W] = [resize(up) (nearest, or bilinear as smp's
 * bilinear Unet), skip] for up [B, C0, H0, W0] and skip [B, Cs, H, W];
 * cat is allocated by the caller. */
TC_NODISCARD terracl_status tc_op_upsample_concat(terracl_runtime *rt, const struct tc_tensor *up,
                                                  const struct tc_tensor *skip, int bilinear,
                                                  struct tc_tensor *cat, terracl_error *err);

/* y = act(conv(torch.cat([interpolate(up, nearest), skip], 1), w) + b),
 * w [Cout, C0 + Cs, kh, kw], y allocated by the caller as for an input of
 * skip's size; relu: ReLU after the bias. */
TC_NODISCARD terracl_status tc_op_conv2d_upcat(terracl_runtime *rt, const struct tc_tensor *up,
                                               const struct tc_tensor *skip,
                                               const struct tc_tensor *w, const struct tc_tensor *b,
                                               const struct tc_conv_geom *g, int relu,
                                               struct tc_tensor *y, terracl_error *err);

#endif /* TC_OPS_UPCAT_H */

/* Conv2d with stride 1 as an implicit GEMM on CPU devices (no column
 * matrix); see cl_kernels/conv_implicit.cl. Only conv.c calls this. */
#ifndef TC_OPS_CONV_IMPLICIT_H
#define TC_OPS_CONV_IMPLICIT_H

#include "ops/conv.h"

/* Whether tc_conv2d_implicit runs this convolution: CPU devices, stride 1,
 * 1x1 or 3x3 kernels, sizes within the kernel's 32-bit indices. */
int tc_conv2d_implicit_wanted(const terracl_runtime *rt, const struct tc_tensor *x,
                              const struct tc_tensor *w, const struct tc_conv_geom *g);

/* y = act(conv(x, w) + b) for shapes the caller has checked; b may be NULL;
 * relu: ReLU after the bias. */
TC_NODISCARD terracl_status tc_conv2d_implicit(terracl_runtime *rt, const struct tc_tensor *x,
                                               const struct tc_tensor *w,
                                               const struct tc_tensor *b,
                                               const struct tc_conv_geom *g, int relu,
                                               struct tc_tensor *y, terracl_error *err);

/* The same for the input torch.cat([interpolate(up, size of skip,
 * "nearest"), skip], 1), joined by the padded copy the kernel reads anyway:
 * up [B, C0, H0, W0], skip [B, Cs, H, W], w [Cout, C0 + Cs, kh, kw]. */
TC_NODISCARD terracl_status tc_conv2d_implicit_upcat(terracl_runtime *rt,
                                                     const struct tc_tensor *up,
                                                     const struct tc_tensor *skip,
                                                     const struct tc_tensor *w,
                                                     const struct tc_tensor *b,
                                                     const struct tc_conv_geom *g, int relu,
                                                     struct tc_tensor *y, terracl_error *err);

/* ConvTranspose2d with kernel = stride, no padding or output padding, as
 * one GEMM that stores each tap at its output place (no column matrix):
 * whether it runs this one (CPU devices, Cout k k a multiple of 64, 32-bit
 * sizes), and the launch for shapes the caller has checked. */
int tc_conv_transpose2d_direct_wanted(const terracl_runtime *rt, const struct tc_tensor *x,
                                      const struct tc_tensor *w, int64_t stride, int64_t pad,
                                      int64_t output_padding);
TC_NODISCARD terracl_status tc_conv_transpose2d_direct(terracl_runtime *rt,
                                                       const struct tc_tensor *x,
                                                       const struct tc_tensor *w,
                                                       const struct tc_tensor *b,
                                                       struct tc_tensor *y, terracl_error *err);

#endif /* TC_OPS_CONV_IMPLICIT_H */

/* Strided Conv2d as an implicit GEMM on CPU devices (no column matrix) over
 * the input split into its stride phases; see cl_kernels/conv_phase.cl.
 * Only conv.c calls this. */
#ifndef TC_OPS_CONV_PHASE_H
#define TC_OPS_CONV_PHASE_H

#include "ops/conv.h"

/* Whether tc_conv2d_phase runs this convolution: CPU devices, strides 2 to
 * 4 (either way), kernels up to 7x7, sizes within the kernel's 32-bit
 * indices. */
int tc_conv2d_phase_wanted(const terracl_runtime *rt, const struct tc_tensor *x,
                           const struct tc_tensor *w, const struct tc_conv_geom *g);

/* y = act(conv(x, w) + b) for shapes the caller has checked; b may be NULL;
 * relu: ReLU after the bias. */
TC_NODISCARD terracl_status tc_conv2d_phase(terracl_runtime *rt, const struct tc_tensor *x,
                                            const struct tc_tensor *w, const struct tc_tensor *b,
                                            const struct tc_conv_geom *g, int relu,
                                            struct tc_tensor *y, terracl_error *err);

#endif /* TC_OPS_CONV_PHASE_H */

/* 3x3 Conv2d with stride 1 (any dilation) as Winograd F(m x m, 3x3) on CPU
 * devices (cl_kernels/conv_winograd.cl): (m + 2)^2 multiplications per
 * m x m output tile and channel pair instead of 9 m^2, m = 2 or 4 by the
 * layer's width. The weight's transformed form is derived at bind time
 * (tc_param.derive). */
#ifndef TC_OPS_CONV_WINOGRAD_H
#define TC_OPS_CONV_WINOGRAD_H

#include "graph/module.h"
#include "ops/conv.h"

/* The tile m a [out, in, 3, 3] weight's Winograd form has: 4 for up to
 * 256 output and 1024 input channels, 2 for wider layers of 128+ output
 * channels, 0 (none) for output channels not a multiple of 64 or fewer
 * than 16 input channels. */
int tc_conv2d_winograd_tile(int64_t out, int64_t in);

/* Whether a Conv2d weight [out, in, kh, kw] with geometry g gets a
 * Winograd form where it is packed: 3x3, stride 1, dilation up to 64, a
 * tile above. */
int tc_conv2d_winograd_eligible(int64_t out, int64_t in, int64_t kh, int64_t kw,
                                const struct tc_conv_geom *g);

/* Floats of the Winograd form of a [out, in, 3, 3] weight: (m + 2)^2
 * packed [out, in] matrices. */
size_t tc_conv2d_winograd_numel(int64_t out, int64_t in);

/* tc_param.derive for such a weight: U_e = (G g G^T)_e for each of the
 * (m + 2)^2 elements e, each packed as a GEMM weight [out, in] (tc_gemm_pack_weight),
 * computed in double and rounded once. Returns 0, or -1 when out of
 * memory. */
int tc_conv2d_winograd_derive(const struct tc_param *p, const float *plain, float *out);

/* y = act(conv(x, w) + b), or with accumulate y = act(conv(x, w) + b + y),
 * with w's Winograd form (w->has_derived) for shapes the caller has
 * checked; b may be NULL; relu: ReLU last. */
TC_NODISCARD terracl_status tc_conv2d_winograd(terracl_runtime *rt, const struct tc_tensor *x,
                                               const struct tc_tensor *w,
                                               const struct tc_tensor *b,
                                               const struct tc_conv_geom *g, int relu,
                                               int accumulate, struct tc_tensor *y,
                                               terracl_error *err);

/* The same for the input torch.cat([interpolate(up, size of skip,
 * "nearest"), skip], 1) without making it: up [B, C0, H0, W0] with C0 a
 * multiple of 16, skip [B, Cs, H, W], w [Cout, C0 + Cs, 3, 3]; y
 * [B, Cout, Ho, Wo] for an H x W input. The caller has checked shapes. */
TC_NODISCARD terracl_status tc_conv2d_winograd_upcat(terracl_runtime *rt,
                                                     const struct tc_tensor *up,
                                                     const struct tc_tensor *skip,
                                                     const struct tc_tensor *w,
                                                     const struct tc_tensor *b,
                                                     const struct tc_conv_geom *g, int relu,
                                                     struct tc_tensor *y, terracl_error *err);

#endif /* TC_OPS_CONV_WINOGRAD_H */

/* Resizing and pooling of NCHW float32 tensors, PyTorch semantics. */
#ifndef TC_OPS_RESIZE_H
#define TC_OPS_RESIZE_H

#include "graph/tensor.h"

/* F.interpolate(mode="bilinear", antialias=False) to y's H, W.
 * align_corners: src = dst (in-1)/(out-1) (0 when out == 1); otherwise
 * src = max(0, (dst + 0.5) in/out - 0.5). */
TC_NODISCARD terracl_status tc_op_resize_bilinear(terracl_runtime *rt, const struct tc_tensor *x,
                                                  int align_corners, struct tc_tensor *y,
                                                  terracl_error *err);

/* F.interpolate(mode="nearest") to y's H, W: src = min(floor(dst * scale),
 * in - 1) with scale = 1/scale_factor when a scale factor was given
 * (scale_h/scale_w > 0), else in/out. */
TC_NODISCARD terracl_status tc_op_resize_nearest(terracl_runtime *rt, const struct tc_tensor *x,
                                                 double scale_factor_h, double scale_factor_w,
                                                 struct tc_tensor *y, terracl_error *err);

/* nn.AdaptiveAvgPool2d to y's H, W: bins [floor(i H/s), ceil((i+1) H/s)). */
TC_NODISCARD terracl_status tc_op_adaptive_avg_pool2d(terracl_runtime *rt,
                                                      const struct tc_tensor *x,
                                                      struct tc_tensor *y, terracl_error *err);

/* F.max_pool2d(kernel, stride, padding 0, floor mode). */
TC_NODISCARD terracl_status tc_op_max_pool2d(terracl_runtime *rt, const struct tc_tensor *x,
                                             int64_t kernel, int64_t stride, struct tc_tensor *y,
                                             terracl_error *err);

/* F.max_pool2d(kernel, stride, padding) with -inf padding, floor mode;
 * padding at most kernel / 2 as in PyTorch. */
TC_NODISCARD terracl_status tc_op_max_pool2d_padded(terracl_runtime *rt,
                                                    const struct tc_tensor *x, int64_t kernel,
                                                    int64_t stride, int64_t pad,
                                                    struct tc_tensor *y, terracl_error *err);

#endif /* TC_OPS_RESIZE_H */

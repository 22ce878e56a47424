/* Padding and cropping of float32 tensors (reflect padding on either side of
 * each dimension, windows cropped anywhere inside). */
#ifndef TC_OPS_PAD_H
#define TC_OPS_PAD_H

#include "graph/tensor.h"

/* F.pad(x, mode="reflect") with every pad amount at the END of its
 * dimension (the bottom/right padding of TerraTorch's pad_images): x and y
 * have the same rank, y->dims[i] >= x->dims[i], and each amount
 * y->dims[i] - x->dims[i] is smaller than x->dims[i] (PyTorch's rule).
 * Element i >= n of a padded axis reads element 2 (n - 1) - i. y must not
 * overlap x. */
TC_NODISCARD terracl_status tc_op_pad_reflect(terracl_runtime *rt, const struct tc_tensor *x,
                                              struct tc_tensor *y, terracl_error *err);

/* F.pad(x, mode="reflect") with before[i] elements added before the data
 * of dimension i and y->dims[i] - x->dims[i] - before[i] after it (TerraTorch
 * 1.2's pad_images splits its padding this way, the smaller half first).
 * Both amounts must be >= 0 and smaller than x->dims[i]. */
TC_NODISCARD terracl_status tc_op_pad_reflect_at(terracl_runtime *rt, const struct tc_tensor *x,
                                                 const int64_t *before, struct tc_tensor *y,
                                                 terracl_error *err);

/* y = x[:y->dims[0], ..., :y->dims[n-1]]: the leading window of x (the
 * crop back to the unpadded size). Same rank, y->dims[i] <= x->dims[i]. */
TC_NODISCARD terracl_status tc_op_crop(terracl_runtime *rt, const struct tc_tensor *x,
                                       struct tc_tensor *y, terracl_error *err);

/* y = x[start[0]:start[0] + y->dims[0], ...]: the window of x at `start`
 * (TerraTorch 1.2's center_crop passes the centred start). Each window must
 * lie inside x. */
TC_NODISCARD terracl_status tc_op_crop_at(terracl_runtime *rt, const struct tc_tensor *x,
                                          const int64_t *start, struct tc_tensor *y,
                                          terracl_error *err);

#endif /* TC_OPS_PAD_H */

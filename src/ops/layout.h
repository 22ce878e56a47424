/* Data movement: permute, concatenate, strided 2-D copies. */
#ifndef TC_OPS_LAYOUT_H
#define TC_OPS_LAYOUT_H

#include "graph/tensor.h"

/* y = x.permute(perm) (PyTorch semantics): y->dims[i] == x->dims[perm[i]].
 * y must not overlap x. */
TC_NODISCARD terracl_status tc_op_permute(terracl_runtime *rt, const struct tc_tensor *x,
                                          const int *perm, struct tc_tensor *y,
                                          terracl_error *err);
/* y = torch.cat(xs, axis); all inputs equal to y except along `axis`. */
TC_NODISCARD terracl_status tc_op_concat(terracl_runtime *rt, const struct tc_tensor *xs,
                                         size_t count, int axis, struct tc_tensor *y,
                                         terracl_error *err);
/* rows x cols block copy between element offsets with leading dimensions. */
TC_NODISCARD terracl_status tc_op_copy2d(terracl_runtime *rt, const struct tc_buf *src,
                                         size_t src_off, size_t src_ld, struct tc_buf *dst,
                                         size_t dst_off, size_t dst_ld, size_t rows, size_t cols,
                                         terracl_error *err);

#endif /* TC_OPS_LAYOUT_H */

/* Data movement: permute, concatenate, strided 2-D copies. */
#ifndef TC_OPS_LAYOUT_H
#define TC_OPS_LAYOUT_H

#include "graph/tensor.h"

/* y = x.permute(perm) (PyTorch semantics): y->dims[i] == x->dims[perm[i]].
 * y must not overlap x. */
TC_NODISCARD terracl_status tc_op_permute(terracl_runtime *rt, const struct tc_tensor *x,
                                          const int *perm, struct tc_tensor *y,
                                          terracl_error *err);
/* Whether the channel planes of an NCHW map of `pixels` floats each start
 * a multiple of 4 KiB apart (32x32, 64x64, 128x128: a 512 input's maps).
 * The 16 channels of a pixel then share one set of the 8-way L1 (and of the
 * L2), and a kernel that reads a pixel's channels plane by plane misses on
 * nearly every read: such maps go channels-last through tc_op_permute's
 * tiles first (the Winograd input transform, LayerNorm over channels). */
static inline int tc_channel_planes_alias(size_t pixels)
{
    return pixels % 1024 == 0;
}
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

/* Average pooling without padding, PyTorch's nn.AvgPool2d semantics. */
#ifndef TC_OPS_AVGPOOL_H
#define TC_OPS_AVGPOOL_H

#include "graph/tensor.h"

/* nn.AvgPool2d(kernel, stride, padding=0, ceil_mode, count_include_pad=False)
 * on x [B, C, H, W]: Ho = floor or ceil((H - kernel) / stride) + 1 (in ceil
 * mode a last window must start inside the input); a window cut by the
 * border averages the elements it covers. y [B, C, Ho, Wo] is allocated by
 * the caller and must not alias x. */
TC_NODISCARD terracl_status tc_op_avg_pool2d(terracl_runtime *rt, const struct tc_tensor *x,
                                             int64_t kernel, int64_t stride, int ceil_mode,
                                             struct tc_tensor *y, terracl_error *err);

/* The output length of such a pooling over n elements (0 when n < kernel
 * in floor mode). */
int64_t tc_avg_pool_out_len(int64_t n, int64_t kernel, int64_t stride, int ceil_mode);

#endif /* TC_OPS_AVGPOOL_H */

/* Patch extraction for kernel == stride convolutions (ViT patch embedding). */
#ifndef TC_OPS_PATCH_H
#define TC_OPS_PATCH_H

#include "graph/tensor.h"

/* x [B, C, T, H, W] -> y [B*Tg*Hg*Wg, C*pt*ph*pw] with Tg = T/pt etc.
 * (remainders dropped). */
TC_NODISCARD terracl_status tc_op_patchify(terracl_runtime *rt, const struct tc_tensor *x,
                                           int64_t pt, int64_t ph, int64_t pw,
                                           struct tc_tensor *y, terracl_error *err);

#endif /* TC_OPS_PATCH_H */

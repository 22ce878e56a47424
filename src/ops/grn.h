/* Global Response Normalisation (ConvNeXt V2's GRN, timm's GlobalResponseNorm). */
#ifndef TC_OPS_GRN_H
#define TC_OPS_GRN_H

#include "graph/tensor.h"

/* Channels-last x [B, H, W, C] (any rank >= 3: batch first, channels last,
 * the dimensions between are the spatial ones):
 *   g[b, c] = ||x[b, :, :, c]||_2 over the spatial positions
 *   y = x + beta + gamma * x * g[b, c] / (mean_c g[b, c] + eps)
 * gamma and beta hold C values. y may alias x. */
TC_NODISCARD terracl_status tc_op_grn(terracl_runtime *rt, const struct tc_tensor *x,
                                      const struct tc_tensor *gamma,
                                      const struct tc_tensor *beta, float eps,
                                      struct tc_tensor *y, terracl_error *err);

#endif /* TC_OPS_GRN_H */

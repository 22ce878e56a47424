/* Element-wise ops on float32 device tensors. Output may alias input. */
#ifndef TC_OPS_ELEMENTWISE_H
#define TC_OPS_ELEMENTWISE_H

#include "graph/tensor.h"

/* c = a + b and c = a * b, where b repeats over a: numel(a) must be a
 * multiple of numel(b) (bias rows, position tables, same-shape residuals). */
TC_NODISCARD terracl_status tc_op_add(terracl_runtime *rt, const struct tc_tensor *a,
                                      const struct tc_tensor *b, struct tc_tensor *c,
                                      terracl_error *err);
/* c = relu(a + b) for same-sized a, b and c (a residual block's end). */
TC_NODISCARD terracl_status tc_op_add_relu(terracl_runtime *rt, const struct tc_tensor *a,
                                           const struct tc_tensor *b, struct tc_tensor *c,
                                           terracl_error *err);
TC_NODISCARD terracl_status tc_op_mul(terracl_runtime *rt, const struct tc_tensor *a,
                                      const struct tc_tensor *b, struct tc_tensor *c,
                                      terracl_error *err);
/* y = alpha * x + beta */
TC_NODISCARD terracl_status tc_op_scale(terracl_runtime *rt, const struct tc_tensor *x,
                                        float alpha, float beta, struct tc_tensor *y,
                                        terracl_error *err);
/* Exact (erf) GELU and ReLU. */
TC_NODISCARD terracl_status tc_op_gelu(terracl_runtime *rt, const struct tc_tensor *x,
                                       struct tc_tensor *y, terracl_error *err);
/* y = silu(a) * b, a, b and y of one size (the SwiGLU gate in one pass). */
TC_NODISCARD terracl_status tc_op_silu_mul(terracl_runtime *rt, const struct tc_tensor *a,
                                           const struct tc_tensor *b, struct tc_tensor *y,
                                           terracl_error *err);
TC_NODISCARD terracl_status tc_op_relu(terracl_runtime *rt, const struct tc_tensor *x,
                                       struct tc_tensor *y, terracl_error *err);

/* Fusions that follow a GEMM y [..., cols] (bias of cols), in place:
 *   bias:          y += bias
 *   bias_gelu:     y = gelu(y + bias)
 *   bias_residual: acc += y + bias   (acc has y's shape)
 * A NULL bias is a zero bias. */
TC_NODISCARD terracl_status tc_op_bias(terracl_runtime *rt, struct tc_tensor *y,
                                       const struct tc_tensor *bias, terracl_error *err);
TC_NODISCARD terracl_status tc_op_bias_gelu(terracl_runtime *rt, struct tc_tensor *y,
                                            const struct tc_tensor *bias, terracl_error *err);
TC_NODISCARD terracl_status tc_op_bias_residual(terracl_runtime *rt, struct tc_tensor *acc,
                                                const struct tc_tensor *y,
                                                const struct tc_tensor *bias,
                                                terracl_error *err);

#endif /* TC_OPS_ELEMENTWISE_H */

/*
 * terracl's own SGEMM kernels (cl_kernels/gemm.cl) for CPU OpenCL drivers,
 * used instead of CLBlast where they are faster: on devices of type "cpu"
 * for every transpose combination except A^T B^T. The environment variable
 * TERRACL_GEMM=clblast|native forces one path (native still falls back to
 * CLBlast for what it cannot do); anything else means "automatic".
 * Only gemm.c calls this.
 */
#ifndef TC_RUNTIME_GEMM_POCL_H
#define TC_RUNTIME_GEMM_POCL_H

#include "runtime/runtime.h"

/* Whether a row-major GEMM of this form should run on the native kernels. */
int tc_gemm_native_wanted(const terracl_runtime *rt, int trans_a, int trans_b, size_t m, size_t n,
                          size_t k, struct tc_matrix a, size_t stride_a, struct tc_matrix b,
                          size_t stride_b, struct tc_matrix c, size_t stride_c, size_t batch);

/* Enqueues C = alpha*op(A)*op(B) + beta*C, `batch` times (strides in
 * elements), then the epilogue `ep` (NULL: none; only with trans_b and no
 * trans_a). Requires tc_gemm_native_wanted() to have said yes. Checks that
 * the matrices fit their buffers and the leading dimensions their rows. */
TC_NODISCARD terracl_status tc_sgemm_native(terracl_runtime *rt, int trans_a, int trans_b, size_t m,
                                            size_t n, size_t k, float alpha, struct tc_matrix a,
                                            size_t stride_a, struct tc_matrix b, size_t stride_b,
                                            float beta, struct tc_matrix c, size_t stride_c,
                                            size_t batch, const struct tc_gemm_epilogue *ep,
                                            terracl_error *err);

#endif /* TC_RUNTIME_GEMM_POCL_H */

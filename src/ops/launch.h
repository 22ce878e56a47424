/* Small launch helpers shared by the op files. */
#ifndef TC_OPS_LAUNCH_H
#define TC_OPS_LAUNCH_H

#include "graph/tensor.h"

/* Launches program/kernel over n work-items (1-D), rounding the global size
 * up to the runtime's preferred work-group multiple; kernels bound-check. */
TC_NODISCARD terracl_status tc_launch_1d(terracl_runtime *rt, const char *program,
                                         const char *kernel, size_t n, const struct tc_karg *args,
                                         int nargs, terracl_error *err);
/* Same in 2-D over cols x rows (dimension 0 is the contiguous one). */
TC_NODISCARD terracl_status tc_launch_2d(terracl_runtime *rt, const char *program,
                                         const char *kernel, size_t cols, size_t rows,
                                         const struct tc_karg *args, int nargs,
                                         terracl_error *err);

/* Refuses, with a message naming `what`, a launch whose work-items each loop
 * about `passes` times on a driver that ends loops early past its limit
 * (tc_runtime_loop_limit: Mesa's llvmpipe), where the results would be
 * partial sums without an error: more than tc_runtime_loop_budget. */
TC_NODISCARD terracl_status tc_check_loop_passes(const terracl_runtime *rt, uint64_t passes,
                                                 const char *what, terracl_error *err);

/* Element offset of a tensor as a kernel argument, checked to fit 32 bits. */
TC_NODISCARD terracl_status tc_offset_arg(const struct tc_tensor *t, struct tc_karg *out,
                                          terracl_error *err);

#endif /* TC_OPS_LAUNCH_H */

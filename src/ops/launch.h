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

/* Element offset of a tensor as a kernel argument, checked to fit 32 bits. */
TC_NODISCARD terracl_status tc_offset_arg(const struct tc_tensor *t, struct tc_karg *out,
                                          terracl_error *err);

#endif /* TC_OPS_LAUNCH_H */

/* Row softmax; kernel in cl_kernels/softmax.cl. */
#include "ops/softmax.h"

#include "ops/launch.h"

#define SOFTMAX_WG 64 /* must match TC_SOFTMAX_WG in softmax.cl */

terracl_status tc_op_softmax(terracl_runtime *rt, const struct tc_tensor *x, float scale,
                             struct tc_tensor *y, terracl_error *err)
{
    size_t cols = (size_t)x->dims[x->ndim - 1];
    size_t rows = tc_tensor_numel(x) / cols;
    if (tc_tensor_numel(y) != tc_tensor_numel(x))
        return tc_fail(err, TERRACL_ERR_SHAPE, "softmax: input and output differ in size");
    terracl_status st;
    struct tc_karg ox, oy;
    if ((st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(y, &oy, err)))
        return st;
    struct tc_karg args[] = {TC_KBUF(x->buf), ox, TC_KBUF(y->buf), oy, TC_KUINT(cols),
                             TC_KFLOAT(scale)};
    struct tc_kernel *k = NULL;
    if (tc_runtime_is_cpu(rt)) {
        /* A row per work-item: no barriers, which CPU drivers pay dearly for. */
        if ((st = tc_kernel_get(rt, "softmax", "tc_softmax_rows_cpu", NULL, &k, err)))
            return st;
        size_t global = rows, local = 1;
        return tc_kernel_launch(rt, k, 1, &global, &local, args, 6, err);
    }
    if (tc_runtime_max_workgroup(rt) < SOFTMAX_WG)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "softmax needs work-groups of %d; the device allows %zu", SOFTMAX_WG,
                       tc_runtime_max_workgroup(rt));
    if ((st = tc_kernel_get(rt, "softmax", "tc_softmax_rows", NULL, &k, err)))
        return st;
    size_t global = rows * SOFTMAX_WG, local = SOFTMAX_WG;
    return tc_kernel_launch(rt, k, 1, &global, &local, args, 6, err);
}

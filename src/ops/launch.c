/* Launch helpers: work-group rounding and checked 32-bit arguments. */
#include "ops/launch.h"

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

terracl_status tc_launch_1d(terracl_runtime *rt, const char *program, const char *kernel, size_t n,
                            const struct tc_karg *args, int nargs, terracl_error *err)
{
    if (n == 0)
        return TERRACL_OK;
    struct tc_kernel *k = NULL;
    terracl_status st = tc_kernel_get(rt, program, kernel, NULL, &k, err);
    if (st != TERRACL_OK)
        return st;
    size_t local = 64;
    if (local > tc_runtime_max_workgroup(rt))
        local = tc_runtime_max_workgroup(rt);
    size_t global = round_up(n, local);
    return tc_kernel_launch(rt, k, 1, &global, &local, args, nargs, err);
}

terracl_status tc_launch_2d(terracl_runtime *rt, const char *program, const char *kernel,
                            size_t cols, size_t rows, const struct tc_karg *args, int nargs,
                            terracl_error *err)
{
    if (cols == 0 || rows == 0)
        return TERRACL_OK;
    struct tc_kernel *k = NULL;
    terracl_status st = tc_kernel_get(rt, program, kernel, NULL, &k, err);
    if (st != TERRACL_OK)
        return st;
    size_t local[2] = {16, 4};
    if (local[0] * local[1] > tc_runtime_max_workgroup(rt))
        local[0] = local[1] = 1;
    size_t global[2] = {round_up(cols, local[0]), round_up(rows, local[1])};
    return tc_kernel_launch(rt, k, 2, global, local, args, nargs, err);
}

terracl_status tc_check_loop_passes(const terracl_runtime *rt, uint64_t passes,
                                    const char *what, terracl_error *err)
{
    if (passes <= tc_runtime_loop_budget(rt))
        return TERRACL_OK;
    const size_t limit = tc_runtime_loop_limit(rt);
    return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                   "%s: each work-item would loop about %llu times, but this device's driver "
                   "ends a work-item's loops after %zu passes without an error (its results "
                   "would be wrong); use another OpenCL device for this size",
                   what, (unsigned long long)passes, limit);
}

terracl_status tc_offset_arg(const struct tc_tensor *t, struct tc_karg *out, terracl_error *err)
{
    terracl_status st = tc_check_u32(t->offset + tc_tensor_numel(t), "tensor extent", err);
    if (st != TERRACL_OK)
        return st;
    *out = TC_KUINT(t->offset);
    return TERRACL_OK;
}

/* Patch extraction; kernel in cl_kernels/patch.cl. */
#include "ops/patch.h"

#include "ops/launch.h"

terracl_status tc_op_patchify(terracl_runtime *rt, const struct tc_tensor *x, int64_t pt,
                              int64_t ph, int64_t pw, struct tc_tensor *y, terracl_error *err)
{
    char s1[128], s2[128];
    if (x->ndim != 5 || pt <= 0 || ph <= 0 || pw <= 0)
        return tc_fail(err, TERRACL_ERR_SHAPE, "patchify expects [B, C, T, H, W], got %s",
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1));
    int64_t B = x->dims[0], C = x->dims[1], T = x->dims[2], H = x->dims[3], W = x->dims[4];
    int64_t Tg = T / pt, Hg = H / ph, Wg = W / pw;
    if (Tg == 0 || Hg == 0 || Wg == 0)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "input %s is smaller than one patch (%lld x %lld x %lld)",
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1), (long long)pt,
                       (long long)ph, (long long)pw);
    size_t rows = (size_t)(B * Tg * Hg * Wg), cols = (size_t)(C * pt * ph * pw);
    if (tc_tensor_numel(y) != rows * cols)
        return tc_fail(err, TERRACL_ERR_SHAPE, "patchify: output %s should be [%zu, %zu] for input %s",
                       tc_shape_str(y->ndim, y->dims, s1, sizeof s1), rows, cols,
                       tc_shape_str(x->ndim, x->dims, s2, sizeof s2));
    terracl_status st;
    struct tc_karg ox, oy;
    if ((st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(y, &oy, err)))
        return st;
    /* One work-item per run of pw pixels (see cl_kernels/patch.cl). */
    size_t runs = (size_t)(C * pt * ph);
    if ((st = tc_check_u32(rows, "patch count", err)) || (st = tc_check_u32(runs, "patch size", err)))
        return st;
    struct tc_karg args[] = {TC_KBUF(x->buf), ox, TC_KBUF(y->buf), oy, TC_KUINT(C), TC_KUINT(T),
                             TC_KUINT(H), TC_KUINT(W), TC_KUINT(pt), TC_KUINT(ph), TC_KUINT(pw),
                             TC_KUINT(Tg), TC_KUINT(Hg), TC_KUINT(Wg), TC_KUINT(rows)};
    return tc_launch_2d(rt, "patch", "tc_patchify", runs, rows, args, 15, err);
}

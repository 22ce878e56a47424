/* Global Response Normalisation; kernels in cl_kernels/grn.cl. */
#include "ops/grn.h"

#include "ops/launch.h"

terracl_status tc_op_grn(terracl_runtime *rt, const struct tc_tensor *x,
                         const struct tc_tensor *gamma, const struct tc_tensor *beta, float eps,
                         struct tc_tensor *y, terracl_error *err)
{
    char s1[128], s2[128];
    if (x->ndim < 3 || tc_tensor_numel(y) != tc_tensor_numel(x))
        return tc_fail(err, TERRACL_ERR_SHAPE, "grn: input %s / output %s, expected [B, H, W, C]",
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1),
                       tc_shape_str(y->ndim, y->dims, s2, sizeof s2));
    size_t batch = (size_t)x->dims[0], channels = (size_t)x->dims[x->ndim - 1];
    size_t n = tc_tensor_numel(x), pixels = n / (batch * channels);
    if (tc_tensor_numel(gamma) != channels || tc_tensor_numel(beta) != channels)
        return tc_fail(err, TERRACL_ERR_SHAPE, "grn: weight %s / bias %s do not match %zu channels",
                       tc_shape_str(gamma->ndim, gamma->dims, s1, sizeof s1),
                       tc_shape_str(beta->ndim, beta->dims, s2, sizeof s2), channels);
    struct tc_karg ox, oy, og, ob;
    terracl_status st = tc_check_u32(n, "grn input", err);
    if (st || (st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(y, &oy, err)) ||
        (st = tc_offset_arg(gamma, &og, err)) || (st = tc_offset_arg(beta, &ob, err)))
        return st;
    /* Per (b, c) scale g / (mean g + eps), computed before y (which may be x) is written. */
    struct tc_tensor scale = {0};
    int64_t sd[2] = {(int64_t)batch, (int64_t)channels};
    if ((st = tc_tensor_alloc(rt, 2, sd, &scale, err)))
        return st;
    struct tc_karg norm_args[] = {TC_KBUF(x->buf), ox, TC_KBUF(scale.buf), TC_KUINT(channels),
                                  TC_KUINT(pixels), TC_KUINT(batch)};
    struct tc_karg mean_args[] = {TC_KBUF(scale.buf), TC_KUINT(channels), TC_KUINT(batch),
                                  TC_KFLOAT(eps)};
    struct tc_karg apply_args[] = {TC_KBUF(x->buf), ox, TC_KBUF(scale.buf), TC_KBUF(gamma->buf),
                                   og, TC_KBUF(beta->buf), ob, TC_KBUF(y->buf), oy,
                                   TC_KUINT(channels), TC_KUINT(pixels), TC_KUINT(n)};
    if ((st = tc_launch_2d(rt, "grn", "tc_grn_norms", channels, batch, norm_args, 6, err)) ||
        (st = tc_launch_1d(rt, "grn", "tc_grn_scales", batch, mean_args, 4, err)))
        ;
    else
        st = tc_launch_1d(rt, "grn", "tc_grn_apply", n, apply_args, 12, err);
    tc_tensor_free(&scale);
    return st;
}

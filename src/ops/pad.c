/* Reflect padding and cropping; kernel in cl_kernels/pad.cl. */
#include "ops/pad.h"

#include "ops/launch.h"

/* reflect != 0: every axis may grow by less than its size; else shrink only. */
static terracl_status window(terracl_runtime *rt, const char *op, const struct tc_tensor *x,
                             struct tc_tensor *y, int reflect, terracl_error *err)
{
    char a[128], b[128];
    int n = x->ndim;
    int ok = n >= 1 && n <= TC_MAX_DIMS && y->ndim == n;
    for (int i = 0; ok && i < n; i++) {
        int64_t xd = x->dims[i], yd = y->dims[i];
        ok = xd > 0 && yd > 0 && (reflect ? yd >= xd && yd - xd < xd : yd <= xd);
    }
    if (!ok)
        return tc_fail(err, TERRACL_ERR_SHAPE, "%s: cannot take %s from %s%s", op,
                       tc_shape_str(y->ndim, y->dims, a, sizeof a),
                       tc_shape_str(x->ndim, x->dims, b, sizeof b),
                       reflect ? " (each pad must be smaller than its dimension)" : "");
    uint32_t od[5] = {1, 1, 1, 1, 1}, xd[5] = {1, 1, 1, 1, 1};
    for (int i = 0; i < n; i++) {
        od[5 - n + i] = (uint32_t)y->dims[i];
        xd[5 - n + i] = (uint32_t)x->dims[i];
    }
    terracl_status st;
    struct tc_karg ox, oy;
    if ((st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(y, &oy, err)))
        return st;
    size_t total = tc_tensor_numel(y);
    struct tc_karg args[] = {TC_KBUF(x->buf), ox,  TC_KBUF(y->buf), oy,
                             TC_KUINT(od[0]), TC_KUINT(od[1]), TC_KUINT(od[2]),
                             TC_KUINT(od[3]), TC_KUINT(od[4]), TC_KUINT(xd[0]),
                             TC_KUINT(xd[1]), TC_KUINT(xd[2]), TC_KUINT(xd[3]),
                             TC_KUINT(xd[4]), TC_KUINT(total)};
    return tc_launch_1d(rt, "pad", "tc_pad_reflect", total, args, 15, err);
}

terracl_status tc_op_pad_reflect(terracl_runtime *rt, const struct tc_tensor *x,
                                 struct tc_tensor *y, terracl_error *err)
{
    return window(rt, "pad_reflect", x, y, 1, err);
}

terracl_status tc_op_crop(terracl_runtime *rt, const struct tc_tensor *x, struct tc_tensor *y,
                          terracl_error *err)
{
    return window(rt, "crop", x, y, 0, err);
}

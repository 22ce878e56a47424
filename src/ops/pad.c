/* Reflect padding and cropping; kernel in cl_kernels/pad.cl. */
#include "ops/pad.h"

#include "ops/launch.h"

/* Copies the window of x that starts at `start` (per axis; negative = padding
 * before the data) into y. reflect != 0: each axis may reach outside x by less
 * than its size on either side; else the window must lie inside x. */
static terracl_status window(terracl_runtime *rt, const char *op, const struct tc_tensor *x,
                             struct tc_tensor *y, const int64_t *start, int reflect,
                             terracl_error *err)
{
    char a[128], b[128];
    int n = x->ndim;
    int ok = n >= 1 && n <= TC_MAX_DIMS && y->ndim == n;
    for (int i = 0; ok && i < n; i++) {
        int64_t xd = x->dims[i], yd = y->dims[i], s = start != NULL ? start[i] : 0;
        int64_t before = s < 0 ? -s : 0, after = s + yd - xd;
        ok = xd > 0 && yd > 0 && xd <= INT32_MAX && yd <= INT32_MAX &&
             (reflect ? before < xd && after < xd && (s <= 0 || after >= 0)
                      : s >= 0 && after <= 0);
    }
    if (!ok)
        return tc_fail(err, TERRACL_ERR_SHAPE, "%s: cannot take %s from %s%s", op,
                       tc_shape_str(y->ndim, y->dims, a, sizeof a),
                       tc_shape_str(x->ndim, x->dims, b, sizeof b),
                       reflect ? " (each pad must be smaller than its dimension)" : "");
    uint32_t od[5] = {1, 1, 1, 1, 1}, xd[5] = {1, 1, 1, 1, 1};
    int32_t sd[5] = {0, 0, 0, 0, 0};
    for (int i = 0; i < n; i++) {
        od[5 - n + i] = (uint32_t)y->dims[i];
        xd[5 - n + i] = (uint32_t)x->dims[i];
        sd[5 - n + i] = start != NULL ? (int32_t)start[i] : 0;
    }
    terracl_status st;
    struct tc_karg ox, oy;
    if ((st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(y, &oy, err)))
        return st;
    size_t total = tc_tensor_numel(y);
    struct tc_karg args[] = {TC_KBUF(x->buf),  ox,              TC_KBUF(y->buf), oy,
                             TC_KUINT(od[0]),  TC_KUINT(od[1]), TC_KUINT(od[2]), TC_KUINT(od[3]),
                             TC_KUINT(od[4]),  TC_KUINT(xd[0]), TC_KUINT(xd[1]), TC_KUINT(xd[2]),
                             TC_KUINT(xd[3]),  TC_KUINT(xd[4]), TC_KINT(sd[0]),  TC_KINT(sd[1]),
                             TC_KINT(sd[2]),   TC_KINT(sd[3]),  TC_KINT(sd[4]),  TC_KUINT(total)};
    return tc_launch_1d(rt, "pad", "tc_pad_reflect", total, args, 20, err);
}

terracl_status tc_op_pad_reflect(terracl_runtime *rt, const struct tc_tensor *x,
                                 struct tc_tensor *y, terracl_error *err)
{
    return window(rt, "pad_reflect", x, y, NULL, 1, err);
}

terracl_status tc_op_pad_reflect_at(terracl_runtime *rt, const struct tc_tensor *x,
                                    const int64_t *before, struct tc_tensor *y,
                                    terracl_error *err)
{
    int64_t start[TC_MAX_DIMS] = {0};
    for (int i = 0; i < x->ndim && i < TC_MAX_DIMS; i++)
        start[i] = -before[i];
    return window(rt, "pad_reflect", x, y, start, 1, err);
}

terracl_status tc_op_crop(terracl_runtime *rt, const struct tc_tensor *x, struct tc_tensor *y,
                          terracl_error *err)
{
    return window(rt, "crop", x, y, NULL, 0, err);
}

terracl_status tc_op_crop_at(terracl_runtime *rt, const struct tc_tensor *x,
                             const int64_t *start, struct tc_tensor *y, terracl_error *err)
{
    return window(rt, "crop", x, y, start, 0, err);
}

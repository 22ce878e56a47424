/* Layer scale + residual; kernel in cl_kernels/layer_scale.cl. */
#include "ops/layer_scale.h"

#include "ops/launch.h"

#define LS_TILE_P 64 /* LS_TILE_P in layer_scale.cl */

terracl_status tc_op_layer_scale_residual(terracl_runtime *rt, const struct tc_tensor *t,
                                          const struct tc_tensor *gamma,
                                          const struct tc_tensor *res, struct tc_tensor *y,
                                          terracl_error *err)
{
    char s1[128], s2[128];
    if (res->ndim != 4 || t->ndim != 4 || y->ndim != 4 || t->dims[0] != res->dims[0] ||
        t->dims[1] != res->dims[2] || t->dims[2] != res->dims[3] || t->dims[3] != res->dims[1] ||
        tc_tensor_numel(y) != tc_tensor_numel(res) ||
        (gamma != NULL && tc_tensor_numel(gamma) != (size_t)res->dims[1]))
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "layer_scale_residual: branch %s is not the channels-last form of %s",
                       tc_shape_str(t->ndim, t->dims, s1, sizeof s1),
                       tc_shape_str(res->ndim, res->dims, s2, sizeof s2));
    size_t n = tc_tensor_numel(res);
    struct tc_karg ot, og, orr, oy;
    terracl_status st = tc_check_u32(n, "layer_scale_residual", err);
    if (st || (st = tc_offset_arg(t, &ot, err)) || (st = tc_offset_arg(res, &orr, err)) ||
        (st = tc_offset_arg(y, &oy, err)))
        return st;
    if (gamma != NULL && (st = tc_offset_arg(gamma, &og, err)))
        return st;
    struct tc_karg args[] = {TC_KBUF(t->buf),
                             ot,
                             TC_KBUF(gamma ? gamma->buf : t->buf),
                             gamma ? og : ot,
                             TC_KUINT(gamma != NULL),
                             TC_KBUF(res->buf),
                             orr,
                             TC_KBUF(y->buf),
                             oy,
                             TC_KUINT(res->dims[1]),
                             TC_KUINT(res->dims[2] * res->dims[3]),
                             TC_KUINT(n),
                             TC_KUINT(0)};
    if (tc_runtime_is_cpu(rt)) {
        /* Tiles of 16 channels x LS_TILE_P pixels (layer_scale.cl). */
        size_t channels = (size_t)res->dims[1], pixels = (size_t)(res->dims[2] * res->dims[3]);
        size_t groups = (channels + 15) / 16, tiles_p = (pixels + LS_TILE_P - 1) / LS_TILE_P;
        size_t items = (size_t)res->dims[0] * groups * tiles_p, local = 1;
        args[11] = TC_KUINT(groups);
        args[12] = TC_KUINT(tiles_p);
        struct tc_kernel *k = NULL;
        if ((st = tc_kernel_get(rt, "layer_scale", "tc_layer_scale_residual_tiles", NULL, &k,
                                err)))
            return st;
        return tc_kernel_launch(rt, k, 1, &items, &local, args, 13, err);
    }
    return tc_launch_1d(rt, "layer_scale", "tc_layer_scale_residual", n, args, 12, err);
}

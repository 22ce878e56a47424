/* LayerNorm ops; kernels in cl_kernels/norm.cl. */
#include "ops/norm.h"

#include "ops/launch.h"
#include "ops/layout.h"

#define NORM_WG 64 /* must match TC_NORM_WG in norm.cl */

static terracl_status check_affine(const struct tc_tensor *x, const struct tc_tensor *g,
                                   const struct tc_tensor *b, const struct tc_tensor *y,
                                   size_t features, const char *op, terracl_error *err)
{
    char s1[128], s2[128];
    if (tc_tensor_numel(g) != features || tc_tensor_numel(b) != features)
        return tc_fail(err, TERRACL_ERR_SHAPE, "%s: weight %s / bias %s do not match %zu features",
                       op, tc_shape_str(g->ndim, g->dims, s1, sizeof s1),
                       tc_shape_str(b->ndim, b->dims, s2, sizeof s2), features);
    if (tc_tensor_numel(x) != tc_tensor_numel(y))
        return tc_fail(err, TERRACL_ERR_SHAPE, "%s: input %s and output %s differ in size", op,
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1),
                       tc_shape_str(y->ndim, y->dims, s2, sizeof s2));
    return TERRACL_OK;
}

terracl_status tc_op_layernorm(terracl_runtime *rt, const struct tc_tensor *x,
                               const struct tc_tensor *gamma, const struct tc_tensor *beta,
                               float eps, struct tc_tensor *y, terracl_error *err)
{
    size_t cols = (size_t)x->dims[x->ndim - 1];
    size_t rows = tc_tensor_numel(x) / cols;
    terracl_status st = check_affine(x, gamma, beta, y, cols, "layernorm", err);
    struct tc_karg ox, oy, og, ob;
    if (st || (st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(y, &oy, err)) ||
        (st = tc_offset_arg(gamma, &og, err)) || (st = tc_offset_arg(beta, &ob, err)))
        return st;
    struct tc_karg args[] = {TC_KBUF(x->buf), ox, TC_KBUF(y->buf), oy, TC_KBUF(gamma->buf), og,
                             TC_KBUF(beta->buf), ob, TC_KUINT(cols), TC_KFLOAT(eps)};
    struct tc_kernel *k = NULL;
    if (tc_runtime_is_cpu(rt)) {
        /* A row per work-item: no barriers, which CPU drivers pay dearly for. */
        if ((st = tc_kernel_get(rt, "norm", "tc_layernorm_rows_cpu", NULL, &k, err)))
            return st;
        size_t global = rows, local = 1;
        return tc_kernel_launch(rt, k, 1, &global, &local, args, 10, err);
    }
    if (tc_runtime_max_workgroup(rt) < NORM_WG)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "layernorm needs work-groups of %d; the device allows %zu", NORM_WG,
                       tc_runtime_max_workgroup(rt));
    if ((st = tc_kernel_get(rt, "norm", "tc_layernorm_rows", NULL, &k, err)))
        return st;
    size_t global = rows * NORM_WG, local = NORM_WG;
    return tc_kernel_launch(rt, k, 1, &global, &local, args, 10, err);
}

/* Maps whose channel planes alias in the caches (tc_channel_planes_alias),
 * where the per-pixel kernel misses on nearly every read: the input goes
 * channels-last, is normalised row by row and comes back. --profile:
 * ConvNeXt-T + UperNet at 512, its four channel LayerNorms 28.7 ms a run
 * before (1.7 at 224, a fifth of the data), about 6 after. */

static terracl_status layernorm_channels_transposed(terracl_runtime *rt,
                                                    const struct tc_tensor *x,
                                                    const struct tc_tensor *gamma,
                                                    const struct tc_tensor *beta, float eps,
                                                    struct tc_tensor *y, terracl_error *err)
{
    static const int to_last[4] = {0, 2, 3, 1}, to_first[4] = {0, 3, 1, 2};
    int64_t td[4] = {x->dims[0], x->dims[2], x->dims[3], x->dims[1]};
    struct tc_tensor t = {0};
    terracl_status st = tc_tensor_alloc(rt, 4, td, &t, err);
    if (st == TERRACL_OK)
        st = tc_op_permute(rt, x, to_last, &t, err);
    if (st == TERRACL_OK)
        st = tc_op_layernorm(rt, &t, gamma, beta, eps, &t, err);
    if (st == TERRACL_OK)
        st = tc_op_permute(rt, &t, to_first, y, err);
    tc_tensor_free(&t);
    return st;
}

terracl_status tc_op_layernorm_channels(terracl_runtime *rt, const struct tc_tensor *x,
                                        const struct tc_tensor *gamma,
                                        const struct tc_tensor *beta, float eps,
                                        struct tc_tensor *y, terracl_error *err)
{
    if (x->ndim != 4)
        return tc_fail(err, TERRACL_ERR_SHAPE, "layernorm over channels expects [N, C, H, W]");
    size_t batch = (size_t)x->dims[0], channels = (size_t)x->dims[1];
    size_t pixels = (size_t)(x->dims[2] * x->dims[3]);
    terracl_status st = check_affine(x, gamma, beta, y, channels, "layernorm_channels", err);
    struct tc_karg ox, oy, og, ob;
    if (st || (st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(y, &oy, err)) ||
        (st = tc_offset_arg(gamma, &og, err)) || (st = tc_offset_arg(beta, &ob, err)))
        return st;
    if (tc_runtime_is_cpu(rt) && tc_channel_planes_alias(pixels) && channels > 1)
        return layernorm_channels_transposed(rt, x, gamma, beta, eps, y, err);
    struct tc_karg args[] = {TC_KBUF(x->buf),    ox, TC_KBUF(y->buf),     oy,
                             TC_KBUF(gamma->buf), og, TC_KBUF(beta->buf), ob,
                             TC_KUINT(channels), TC_KUINT(pixels), TC_KUINT(batch), TC_KFLOAT(eps)};
    return tc_launch_2d(rt, "norm", "tc_layernorm_channels", pixels, batch, args, 12, err);
}

/* Average pooling; kernel in cl_kernels/avgpool.cl. */
#include "ops/avgpool.h"

#include "ops/launch.h"

int64_t tc_avg_pool_out_len(int64_t n, int64_t kernel, int64_t stride, int ceil_mode)
{
    if (n < 1 || kernel < 1 || stride < 1)
        return 0;
    if (n < kernel && !ceil_mode)
        return 0;
    int64_t span = n - kernel;
    int64_t out = (span >= 0 ? (ceil_mode ? (span + stride - 1) / stride : span / stride) : 0) + 1;
    /* PyTorch drops a last window that would start past the input. */
    if (ceil_mode && (out - 1) * stride >= n)
        out--;
    return out;
}

terracl_status tc_op_avg_pool2d(terracl_runtime *rt, const struct tc_tensor *x, int64_t kernel,
                                int64_t stride, int ceil_mode, struct tc_tensor *y,
                                terracl_error *err)
{
    char s1[128], s2[128];
    if (kernel < 1 || stride < 1 || kernel > 64)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "avg_pool2d: kernel %lld, stride %lld",
                       (long long)kernel, (long long)stride);
    int64_t ho = x->ndim == 4 ? tc_avg_pool_out_len(x->dims[2], kernel, stride, ceil_mode) : 0;
    int64_t wo = x->ndim == 4 ? tc_avg_pool_out_len(x->dims[3], kernel, stride, ceil_mode) : 0;
    if (x->ndim != 4 || y->ndim != 4 || ho < 1 || wo < 1 || y->dims[0] != x->dims[0] ||
        y->dims[1] != x->dims[1] || y->dims[2] != ho || y->dims[3] != wo)
        return tc_fail(err, TERRACL_ERR_SHAPE, "avg_pool2d: input %s, output %s",
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1),
                       tc_shape_str(y->ndim, y->dims, s2, sizeof s2));
    size_t n = tc_tensor_numel(y);
    struct tc_karg ox, oy;
    terracl_status st = tc_check_u32(n, "avg_pool2d output", err);
    if (st || (st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(y, &oy, err)))
        return st;
    struct tc_karg args[] = {TC_KBUF(x->buf),      ox,
                             TC_KBUF(y->buf),      oy,
                             TC_KUINT(x->dims[2]), TC_KUINT(x->dims[3]),
                             TC_KUINT(ho),         TC_KUINT(wo),
                             TC_KUINT(kernel),     TC_KUINT(stride),
                             TC_KUINT(n)};
    return tc_launch_1d(rt, "avgpool", "tc_avg_pool2d", n, args, 11, err);
}

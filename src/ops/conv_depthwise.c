/* Depthwise 2-D convolution; kernel in cl_kernels/depthwise.cl. */
#include "ops/conv_depthwise.h"

#include <stdint.h>

#include "ops/launch.h"

terracl_status tc_op_conv2d_depthwise(terracl_runtime *rt, const struct tc_tensor *x,
                                      const struct tc_tensor *w, const struct tc_tensor *b,
                                      const struct tc_conv_geom *g, struct tc_tensor *y,
                                      terracl_error *err)
{
    char s1[128], s2[128], s3[128];
    if (x->ndim != 4 || w->ndim != 4 || y->ndim != 4 || w->dims[0] != x->dims[1] ||
        w->dims[1] != 1 || y->dims[0] != x->dims[0] || y->dims[1] != x->dims[1] ||
        (b != NULL && tc_tensor_numel(b) != (size_t)x->dims[1]))
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "depthwise conv2d: input %s, weight %s and output %s do not fit",
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1),
                       tc_shape_str(w->ndim, w->dims, s2, sizeof s2),
                       tc_shape_str(y->ndim, y->dims, s3, sizeof s3));
    int64_t kh = w->dims[2], kw = w->dims[3];
    if (g->stride_h < 1 || g->stride_w < 1 || g->dil_h < 1 || g->dil_w < 1 || g->pad_h < 0 ||
        g->pad_w < 0)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "depthwise conv2d: invalid geometry");
    int64_t oh = (x->dims[2] + 2 * g->pad_h - g->dil_h * (kh - 1) - 1) / g->stride_h + 1;
    int64_t ow = (x->dims[3] + 2 * g->pad_w - g->dil_w * (kw - 1) - 1) / g->stride_w + 1;
    if (oh < 1 || ow < 1 || y->dims[2] != oh || y->dims[3] != ow)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "depthwise conv2d: output %s, the geometry gives %lldx%lld",
                       tc_shape_str(y->ndim, y->dims, s1, sizeof s1), (long long)oh, (long long)ow);
    size_t n = tc_tensor_numel(y);
    if (n > UINT32_MAX || tc_tensor_numel(x) > UINT32_MAX)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "depthwise conv2d: tensors exceed 32-bit indexing");
    struct tc_karg ox, ow_, ob = TC_KUINT(0), oy;
    terracl_status st;
    if ((st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(w, &ow_, err)) ||
        (st = tc_offset_arg(y, &oy, err)) || (b != NULL && (st = tc_offset_arg(b, &ob, err))))
        return st;
    struct tc_karg args[] = {TC_KBUF(x->buf),        ox,
                             TC_KBUF(w->buf),        ow_,
                             TC_KBUF(b ? b->buf : w->buf), ob,
                             TC_KINT(b != NULL),     TC_KBUF(y->buf),
                             oy,                     TC_KUINT(x->dims[1]),
                             TC_KUINT(x->dims[2]),   TC_KUINT(x->dims[3]),
                             TC_KUINT(oh),           TC_KUINT(ow),
                             TC_KUINT(kh),           TC_KUINT(kw),
                             TC_KUINT(g->stride_h),  TC_KUINT(g->stride_w),
                             TC_KINT(g->pad_h),      TC_KINT(g->pad_w),
                             TC_KUINT(g->dil_h),     TC_KUINT(g->dil_w),
                             TC_KUINT(n)};
    return tc_launch_1d(rt, "depthwise", "tc_conv2d_depthwise", n, args, 23, err);
}

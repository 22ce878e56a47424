/* Depthwise convolution; kernel in cl_kernels/dwconv.cl. */
#include "ops/dwconv.h"

#include <stdio.h>

#include "ops/launch.h"
#include "ops/layout.h"

#define MAX_ROW 2048 /* floats of the vector kernel's private zero-bordered row */

/* Floats the vector kernel's zero-bordered row needs for this geometry and
 * vector width (a multiple of 64, so similar maps share one build), or 0
 * when it would exceed MAX_ROW. */
static int64_t vec_row_floats(int64_t wd, int64_t wo, int64_t kw, const struct tc_conv_geom *g,
                              int vec)
{
    int64_t need = (wo + vec - 1) / vec * vec + (kw - 1) * g->dil_w;
    if (need < g->pad_w + wd)
        need = g->pad_w + wd;
    need = (need + 63) / 64 * 64;
    return need <= MAX_ROW ? need : 0;
}

/* The taps along one axis of a stride-1 depthwise convolution that land
 * inside the input for at least one output position: [*lo, *hi]. Tap k
 * reads input o - pad + k dil for outputs o in [0, out). */
static void live_taps(int64_t in, int64_t out, int64_t k, int64_t pad, int64_t dil, int64_t *lo,
                      int64_t *hi)
{
    *lo = k;
    *hi = -1;
    for (int64_t t = 0; t < k; t++) {
        int64_t first = -pad + t * dil, last = out - 1 - pad + t * dil;
        if (last >= 0 && first < in) {
            if (t < *lo)
                *lo = t;
            *hi = t;
        }
    }
}

/* Stride 1 with a single live tap at offset (0, 0), same-size NCHW output
 * (see tc_dwconv2d_one_tap): the tap's index, else -1. */
static int64_t single_live_tap(int64_t h, int64_t wd, int64_t ho, int64_t wo, int64_t kh,
                               int64_t kw, const struct tc_conv_geom *g, int channels_last)
{
    if (channels_last || g->stride_h != 1 || g->stride_w != 1 || ho != h || wo != wd)
        return -1;
    int64_t ylo, yhi, xlo, xhi;
    live_taps(h, ho, kh, g->pad_h, g->dil_h, &ylo, &yhi);
    live_taps(wd, wo, kw, g->pad_w, g->dil_w, &xlo, &xhi);
    if (ylo != yhi || xlo != xhi || ylo * g->dil_h != g->pad_h || xlo * g->dil_w != g->pad_w)
        return -1;
    return ylo * kw + xlo;
}

/* Stride 1: the vector kernel, built for this kernel size, row length and a
 * vector width that fits the output rows (16 lanes; 8 on rows of 8 or fewer,
 * which would leave most of 16 idle). */
static terracl_status run_vec(terracl_runtime *rt, const struct tc_tensor *x, struct tc_karg ox,
                                const struct tc_tensor *w, struct tc_karg ow,
                                const struct tc_tensor *b, struct tc_karg ob, struct tc_tensor *y,
                                struct tc_karg oy, const struct tc_conv_geom *g, int64_t ho,
                                int64_t wo, int channels_last, terracl_error *err)
{
    int vec = wo <= 8 ? 8 : 16;
    char options[96];
    snprintf(options, sizeof options, "-DTC_DW_KH=%lld -DTC_DW_KW=%lld -DTC_DW_VEC=%d -DTC_DW_ROW=%lld",
             (long long)w->dims[2], (long long)w->dims[3], vec,
             (long long)vec_row_floats(x->dims[3], wo, w->dims[3], g, vec));
    struct tc_kernel *k = NULL;
    terracl_status st = tc_kernel_get(rt, "dwconv", "tc_dwconv2d_vec", options, &k, err);
    if (st != TERRACL_OK)
        return st;
    /* Enough work-items to spread over the compute units, few enough that
     * scheduling one work-group each stays negligible. */
    int64_t planes = x->dims[0] * x->dims[1];
    int64_t blocks_wanted = (512 + planes - 1) / planes;
    int64_t rows_per_item = (ho + blocks_wanted - 1) / blocks_wanted;
    int64_t row_blocks = (ho + rows_per_item - 1) / rows_per_item;
    size_t n = (size_t)(planes * row_blocks);
    if ((st = tc_check_u32(n, "dwconv2d work-items", err)))
        return st;
    struct tc_karg args[] = {TC_KBUF(x->buf),
                             ox,
                             TC_KBUF(w->buf),
                             ow,
                             TC_KBUF(b ? b->buf : w->buf),
                             ob,
                             TC_KUINT(b != NULL),
                             TC_KBUF(y->buf),
                             oy,
                             TC_KUINT(x->dims[1]),
                             TC_KUINT(x->dims[2]),
                             TC_KUINT(x->dims[3]),
                             TC_KUINT(ho),
                             TC_KUINT(wo),
                             TC_KUINT(g->pad_h),
                             TC_KUINT(g->pad_w),
                             TC_KUINT(g->dil_h),
                             TC_KUINT(g->dil_w),
                             TC_KUINT(channels_last != 0),
                             TC_KUINT(rows_per_item),
                             TC_KUINT(row_blocks)};
    size_t local = 1, global = n;
    return tc_kernel_launch(rt, k, 1, &global, &local, args, 21, err);
}

/* Stride 1 with channels-last output and C a multiple of 16 on a CPU
 * device: x and the weight made channels-last / tap-major by tiled
 * transposes, then tc_dwconv2d_nhwc. ConvNeXt's blocks (7x7 into
 * LayerNorm over channels): the planar kernels store one float per
 * output channel there, a line apart, and on 14x14 and 28x28 maps spend
 * more on each row's bookkeeping than on its 49 taps. */
static terracl_status run_nhwc_kernel(terracl_runtime *rt, const struct tc_tensor *xt,
                                      const struct tc_tensor *w, const struct tc_tensor *b,
                                      const struct tc_conv_geom *g, struct tc_tensor *y,
                                      terracl_error *err);

static terracl_status run_nhwc(terracl_runtime *rt, const struct tc_tensor *x,
                               const struct tc_tensor *w, const struct tc_tensor *b,
                               const struct tc_conv_geom *g, struct tc_tensor *y,
                               terracl_error *err)
{
    int64_t xd[4] = {x->dims[0], x->dims[2], x->dims[3], x->dims[1]};
    struct tc_tensor xt = {0};
    static const int to_nhwc[4] = {0, 2, 3, 1};
    terracl_status st = tc_tensor_alloc(rt, 4, xd, &xt, err);
    if (st == TERRACL_OK)
        st = tc_op_permute(rt, x, to_nhwc, &xt, err);
    if (st == TERRACL_OK)
        st = run_nhwc_kernel(rt, &xt, w, b, g, y, err);
    tc_tensor_free(&xt);
    return st;
}

/* tc_dwconv2d_nhwc on xt [B, H, W, C] (already channels-last). */
static terracl_status run_nhwc_kernel(terracl_runtime *rt, const struct tc_tensor *xt,
                                      const struct tc_tensor *w, const struct tc_tensor *b,
                                      const struct tc_conv_geom *g, struct tc_tensor *y,
                                      terracl_error *err)
{
    int64_t B = xt->dims[0], H = xt->dims[1], W = xt->dims[2], C = xt->dims[3];
    int64_t kh = w->dims[2], kw = w->dims[3], Ho = y->dims[1], Wo = y->dims[2];
    int64_t wd[2] = {kh * kw, C};
    struct tc_tensor wt = {0}, wv = *w;
    static const int swap[2] = {1, 0};
    terracl_status st = TERRACL_OK;
    if (w->has_derived) {
        /* The binder's tap-major form (tc_dwconv2d_taps_derive). */
        wt = *w;
        wt.owns_buf = 0;
        wt.offset = w->derived_offset;
    } else {
        wv.owns_buf = 0;
        wv.ndim = 2;
        wv.dims[0] = C;
        wv.dims[1] = kh * kw;
        if (st == TERRACL_OK)
            st = tc_tensor_alloc(rt, 2, wd, &wt, err);
        if (st == TERRACL_OK)
            st = tc_op_permute(rt, &wv, swap, &wt, err);
    }
    struct tc_kernel *k = NULL;
    if (st == TERRACL_OK)
        st = tc_kernel_get(rt, "dwconv", "tc_dwconv2d_nhwc", NULL, &k, err);
    struct tc_karg ob = TC_KUINT(0), oy = TC_KUINT(0);
    if (st == TERRACL_OK && b != NULL)
        st = tc_offset_arg(b, &ob, err);
    if (st == TERRACL_OK)
        st = tc_offset_arg(y, &oy, err);
    if (st == TERRACL_OK) {
        struct tc_karg args[] = {TC_KBUF(xt->buf),   TC_KUINT(xt->offset),
                                 TC_KBUF(wt.buf),    TC_KUINT(wt.offset),
                                 TC_KBUF(b ? b->buf : wt.buf), ob,
                                 TC_KUINT(b != NULL), TC_KBUF(y->buf),
                                 oy,                 TC_KUINT(C),
                                 TC_KUINT(H),        TC_KUINT(W),
                                 TC_KUINT(Ho),       TC_KUINT(Wo),
                                 TC_KUINT(kh),       TC_KUINT(kw),
                                 TC_KUINT(g->pad_h), TC_KUINT(g->pad_w),
                                 TC_KUINT(g->dil_h), TC_KUINT(g->dil_w)};
        const size_t global[3] = {(size_t)(C / 16), (size_t)Ho, (size_t)B}, local[3] = {1, 1, 1};
        st = tc_kernel_launch(rt, k, 3, global, local, args, 20, err);
    }
    tc_tensor_free(&wt);
    return st;
}

int tc_op_dwconv2d_channels_last_ok(const terracl_runtime *rt, const struct tc_tensor *w,
                                    const struct tc_conv_geom *g)
{
    return tc_runtime_is_cpu(rt) && w->ndim == 4 && w->dims[0] % 16 == 0 && w->dims[1] == 1 &&
           !w->gemm_packed && g->stride_h == 1 && g->stride_w == 1 && g->dil_h >= 1 &&
           g->dil_w >= 1 && g->pad_h >= 0 && g->pad_w >= 0;
}

terracl_status tc_op_dwconv2d_channels_last(terracl_runtime *rt, const struct tc_tensor *x,
                                            const struct tc_tensor *w, const struct tc_tensor *b,
                                            const struct tc_conv_geom *g, struct tc_tensor *y,
                                            terracl_error *err)
{
    char s1[128], s2[128], s3[128];
    if (x->ndim != 4 || w->ndim != 4 || y->ndim != 4 || w->dims[0] != x->dims[3] ||
        w->dims[1] != 1 || (b != NULL && tc_tensor_numel(b) != (size_t)x->dims[3]))
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "dwconv2d: channels-last input %s does not fit weight %s (expected "
                       "[C, 1, kh, kw])",
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1),
                       tc_shape_str(w->ndim, w->dims, s2, sizeof s2));
    if (!tc_op_dwconv2d_channels_last_ok(rt, w, g))
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "dwconv2d: a channels-last input needs a CPU device, stride 1 and a "
                       "multiple of 16 channels (got %lld)",
                       (long long)w->dims[0]);
    int64_t h = x->dims[1], wd = x->dims[2], kh = w->dims[2], kw = w->dims[3];
    int64_t span_h = g->dil_h * (kh - 1) + 1, span_w = g->dil_w * (kw - 1) + 1;
    if (h + 2 * g->pad_h < span_h || wd + 2 * g->pad_w < span_w)
        return tc_fail(err, TERRACL_ERR_SHAPE, "dwconv2d: input %s is smaller than the kernel",
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1));
    int64_t want[4] = {x->dims[0], h + 2 * g->pad_h - span_h + 1,
                       wd + 2 * g->pad_w - span_w + 1, x->dims[3]};
    for (int i = 0; i < 4; i++)
        if (y->dims[i] != want[i])
            return tc_fail(err, TERRACL_ERR_SHAPE, "dwconv2d: output %s, expected %s",
                           tc_shape_str(y->ndim, y->dims, s2, sizeof s2),
                           tc_shape_str(4, want, s3, sizeof s3));
    terracl_status st = tc_check_u32(tc_tensor_numel(y), "dwconv2d output", err);
    if (st == TERRACL_OK)
        st = tc_check_u32(x->offset + tc_tensor_numel(x), "dwconv2d input", err);
    return st != TERRACL_OK ? st : run_nhwc_kernel(rt, x, w, b, g, y, err);
}

int tc_dwconv2d_taps_derive(const struct tc_param *p, const float *plain, float *out)
{
    const size_t C = (size_t)p->dims[0], taps = (size_t)(p->dims[2] * p->dims[3]);
    for (size_t c = 0; c < C; c++)
        for (size_t t = 0; t < taps; t++)
            out[t * C + c] = plain[c * taps + t];
    return 0;
}

terracl_status tc_op_dwconv2d(terracl_runtime *rt, const struct tc_tensor *x,
                              const struct tc_tensor *w, const struct tc_tensor *b,
                              const struct tc_conv_geom *g, int channels_last, struct tc_tensor *y,
                              terracl_error *err)
{
    char s1[128], s2[128], s3[128];
    if (x->ndim != 4 || w->ndim != 4 || y->ndim != 4 || w->dims[0] != x->dims[1] ||
        w->dims[1] != 1 || (b != NULL && tc_tensor_numel(b) != (size_t)x->dims[1]))
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "dwconv2d: input %s does not fit weight %s (expected [C, 1, kh, kw])",
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1),
                       tc_shape_str(w->ndim, w->dims, s2, sizeof s2));
    if (g->stride_h < 1 || g->stride_w < 1 || g->dil_h < 1 || g->dil_w < 1 || g->pad_h < 0 ||
        g->pad_w < 0)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "dwconv2d: invalid geometry");
    int64_t bsz = x->dims[0], c = x->dims[1], h = x->dims[2], wd = x->dims[3];
    int64_t kh = w->dims[2], kw = w->dims[3];
    int64_t span_h = g->dil_h * (kh - 1) + 1, span_w = g->dil_w * (kw - 1) + 1;
    if (h + 2 * g->pad_h < span_h || wd + 2 * g->pad_w < span_w)
        return tc_fail(err, TERRACL_ERR_SHAPE, "dwconv2d: input %s is smaller than the kernel",
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1));
    int64_t ho = (h + 2 * g->pad_h - span_h) / g->stride_h + 1;
    int64_t wo = (wd + 2 * g->pad_w - span_w) / g->stride_w + 1;
    int64_t want[4] = {bsz, c, ho, wo};
    if (channels_last) {
        want[1] = ho;
        want[2] = wo;
        want[3] = c;
    }
    for (int i = 0; i < 4; i++)
        if (y->dims[i] != want[i])
            return tc_fail(err, TERRACL_ERR_SHAPE, "dwconv2d: output %s, expected %s",
                           tc_shape_str(y->ndim, y->dims, s2, sizeof s2),
                           tc_shape_str(4, want, s3, sizeof s3));
    size_t n = tc_tensor_numel(y);
    struct tc_karg ox, ow, ob, oy;
    terracl_status st = tc_check_u32(n, "dwconv2d output", err);
    if (st || (st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(w, &ow, err)) ||
        (st = tc_offset_arg(y, &oy, err)))
        return st;
    if (b != NULL && (st = tc_offset_arg(b, &ob, err)))
        return st;
    int64_t tap = single_live_tap(h, wd, ho, wo, kh, kw, g, channels_last);
    if (tap >= 0) {
        struct tc_karg args[] = {TC_KBUF(x->buf),      ox,
                                 TC_KBUF(w->buf),      ow,
                                 TC_KUINT(kh * kw),    TC_KUINT(tap),
                                 TC_KBUF(b ? b->buf : w->buf), b ? ob : ow,
                                 TC_KUINT(b != NULL),  TC_KBUF(y->buf),
                                 oy,                   TC_KUINT(c),
                                 TC_KUINT(h * wd)};
        struct tc_kernel *k = NULL;
        if ((st = tc_kernel_get(rt, "dwconv", "tc_dwconv2d_one_tap", NULL, &k, err)))
            return st;
        size_t planes = (size_t)(bsz * c), local = 1;
        return tc_kernel_launch(rt, k, 1, &planes, &local, args, 13, err);
    }
    if (channels_last && c % 16 == 0 && g->stride_h == 1 && g->stride_w == 1 &&
        tc_runtime_is_cpu(rt) && !w->gemm_packed)
        return run_nhwc(rt, x, w, b, g, y, err);
    if (g->stride_h == 1 && g->stride_w == 1 && kh <= 15 && kw <= 15 &&
        vec_row_floats(wd, wo, kw, g, wo <= 8 ? 8 : 16) > 0)
        return run_vec(rt, x, ox, w, ow, b, b ? ob : ow, y, oy, g, ho, wo, channels_last, err);
    /* A missing bias is passed as the weight buffer with has_bias 0. */
    struct tc_karg args[] = {TC_KBUF(x->buf),
                             ox,
                             TC_KBUF(w->buf),
                             ow,
                             TC_KBUF(b ? b->buf : w->buf),
                             b ? ob : ow,
                             TC_KUINT(b != NULL),
                             TC_KBUF(y->buf),
                             oy,
                             TC_KUINT(c),
                             TC_KUINT(h),
                             TC_KUINT(wd),
                             TC_KUINT(ho),
                             TC_KUINT(wo),
                             TC_KUINT(kh),
                             TC_KUINT(kw),
                             TC_KUINT(g->stride_h),
                             TC_KUINT(g->stride_w),
                             TC_KUINT(g->pad_h),
                             TC_KUINT(g->pad_w),
                             TC_KUINT(g->dil_h),
                             TC_KUINT(g->dil_w),
                             TC_KUINT(channels_last != 0),
                             TC_KUINT(n)};
    return tc_launch_1d(rt, "dwconv", "tc_dwconv2d", n, args, 24, err);
}

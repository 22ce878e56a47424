/*
 * Resizing and pooling ops; kernels in cl_kernels/resize.cl. The host side
 * checks shapes, computes the per-axis scales the way PyTorch does (in
 * float) and launches one work-item per output element, or on CPU devices
 * one per output row (for bilinear, a band of rows) for the
 * resizes and padded max pooling (per-element
 * work-groups cost more than the work there: 3x (bilinear), 30x (nearest)
 * and 5x (ResNet's stem pool) on PoCL).
 */
#include "ops/resize.h"

#include "core/checked.h"
#include "ops/launch.h"

/* x and y are 4-D with the same N and C; both fit 32-bit indices. */
static terracl_status check_planes(const char *op, const struct tc_tensor *x,
                                   const struct tc_tensor *y, terracl_error *err)
{
    char a[128], b[128];
    if (x->ndim != 4 || y->ndim != 4 || x->dims[0] != y->dims[0] || x->dims[1] != y->dims[1])
        return tc_fail(err, TERRACL_ERR_SHAPE, "%s: input %s and output %s must be [N, C, H, W] "
                       "with the same N and C", op, tc_shape_str(x->ndim, x->dims, a, sizeof a),
                       tc_shape_str(y->ndim, y->dims, b, sizeof b));
    for (int i = 0; i < 4; i++)
        if (x->dims[i] <= 0 || y->dims[i] <= 0)
            return tc_fail(err, TERRACL_ERR_SHAPE, "%s: empty tensor %s -> %s", op,
                           tc_shape_str(x->ndim, x->dims, a, sizeof a),
                           tc_shape_str(y->ndim, y->dims, b, sizeof b));
    return TERRACL_OK;
}

/* The leading kernel arguments shared by every kernel of the family. */
static terracl_status plane_args(const struct tc_tensor *x, const struct tc_tensor *y,
                                 struct tc_karg args[8], terracl_error *err)
{
    terracl_status st;
    struct tc_karg ox, oy;
    if ((st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(y, &oy, err)))
        return st;
    args[0] = TC_KBUF(x->buf);
    args[1] = ox;
    args[2] = TC_KBUF(y->buf);
    args[3] = oy;
    args[4] = TC_KUINT(x->dims[2]);
    args[5] = TC_KUINT(x->dims[3]);
    args[6] = TC_KUINT(y->dims[2]);
    args[7] = TC_KUINT(y->dims[3]);
    return TERRACL_OK;
}

#define POOL_ROW 2048 /* TC_POOL_ROW in resize.cl */
#define RESIZE_ROW 1024 /* TC_RESIZE_ROW in resize.cl */
/* Work-items the bilinear band kernel aims for at least: a few per thread. */
#define BAND_ITEMS 64

/* The row kernels (CPU devices): one row per work-group, measured no
 * slower than groups of 4-64 rows on PoCL. */
static terracl_status launch_rows(terracl_runtime *rt, const char *kernel, size_t rows,
                                  const struct tc_karg *args, int nargs, terracl_error *err)
{
    struct tc_kernel *k = NULL;
    terracl_status st = tc_kernel_get(rt, "resize", kernel, NULL, &k, err);
    if (st != TERRACL_OK)
        return st;
    size_t local = 1;
    return tc_kernel_launch(rt, k, 1, &rows, &local, args, nargs, err);
}

terracl_status tc_op_resize_bilinear(terracl_runtime *rt, const struct tc_tensor *x,
                                     int align_corners, struct tc_tensor *y, terracl_error *err)
{
    struct tc_karg args[13];
    terracl_status st = check_planes("resize_bilinear", x, y, err);
    if (st == TERRACL_OK)
        st = plane_args(x, y, args, err);
    if (st != TERRACL_OK)
        return st;
    float sh, sw;
    if (align_corners) {
        sh = y->dims[2] > 1 ? (float)(x->dims[2] - 1) / (float)(y->dims[2] - 1) : 0.0f;
        sw = y->dims[3] > 1 ? (float)(x->dims[3] - 1) / (float)(y->dims[3] - 1) : 0.0f;
    } else {
        sh = (float)x->dims[2] / (float)y->dims[2];
        sw = (float)x->dims[3] / (float)y->dims[3];
    }
    size_t n = tc_tensor_numel(y), w = (size_t)y->dims[3];
    args[8] = TC_KFLOAT(sh);
    args[9] = TC_KFLOAT(sw);
    args[10] = TC_KINT(align_corners ? 1 : 0);
    if (tc_runtime_is_cpu(rt) && w <= RESIZE_ROW) {
        /* Bands of output rows: whole planes when there are enough of
         * them to share out, shorter bands for a few planes (a
         * segmentation head's classes). */
        size_t planes = n / w / (size_t)y->dims[2], out_h = (size_t)y->dims[2];
        size_t bands = planes >= BAND_ITEMS ? 1 : (BAND_ITEMS + planes - 1) / planes;
        bands = bands > out_h ? out_h : bands;
        size_t band_rows = (out_h + bands - 1) / bands;
        bands = (out_h + band_rows - 1) / band_rows;
        args[11] = TC_KUINT(bands);
        args[12] = TC_KUINT(band_rows);
        return launch_rows(rt, "tc_resize_bilinear_band", planes * bands, args, 13, err);
    }
    if (tc_runtime_is_cpu(rt)) {
        args[11] = TC_KUINT(n / w);
        return launch_rows(rt, "tc_resize_bilinear_rows", n / w, args, 12, err);
    }
    args[11] = TC_KUINT(n);
    return tc_launch_1d(rt, "resize", "tc_resize_bilinear", n, args, 12, err);
}

/* PyTorch's compute_scales_value: 1/scale_factor when one was given. */
static float nearest_scale(double scale_factor, int64_t in, int64_t out)
{
    if (scale_factor > 0)
        return (float)(1.0 / scale_factor);
    return (float)in / (float)out;
}

terracl_status tc_op_resize_nearest(terracl_runtime *rt, const struct tc_tensor *x,
                                    double scale_factor_h, double scale_factor_w,
                                    struct tc_tensor *y, terracl_error *err)
{
    struct tc_karg args[11];
    terracl_status st = check_planes("resize_nearest", x, y, err);
    if (st == TERRACL_OK)
        st = plane_args(x, y, args, err);
    if (st != TERRACL_OK)
        return st;
    size_t n = tc_tensor_numel(y), w = (size_t)y->dims[3];
    args[8] = TC_KFLOAT(nearest_scale(scale_factor_h, x->dims[2], y->dims[2]));
    args[9] = TC_KFLOAT(nearest_scale(scale_factor_w, x->dims[3], y->dims[3]));
    if (tc_runtime_is_cpu(rt)) {
        args[10] = TC_KUINT(n / w);
        return launch_rows(rt, "tc_resize_nearest_rows", n / w, args, 11, err);
    }
    args[10] = TC_KUINT(n);
    return tc_launch_1d(rt, "resize", "tc_resize_nearest", n, args, 11, err);
}

terracl_status tc_op_adaptive_avg_pool2d(terracl_runtime *rt, const struct tc_tensor *x,
                                         struct tc_tensor *y, terracl_error *err)
{
    struct tc_karg args[12];
    terracl_status st = check_planes("adaptive_avg_pool2d", x, y, err);
    if (st == TERRACL_OK)
        st = plane_args(x, y, args, err);
    if (st != TERRACL_OK)
        return st;
    size_t cells = tc_tensor_numel(y);
    /* A cell spans up to ceil(H / Ho) + 1 rows of ceil(W / Wo) + 1 pixels.
     * Where a driver ends a work-item's loops early (tc_runtime_loop_budget:
     * llvmpipe), a work-item sums a band of a cell's rows that stays within
     * the budget, and a second kernel adds the bands up. */
    const uint64_t cell_h = (uint64_t)((x->dims[2] + y->dims[2] - 1) / y->dims[2] + 1);
    const uint64_t cell_w = (uint64_t)((x->dims[3] + y->dims[3] - 1) / y->dims[3] + 1);
    if ((st = tc_check_loop_passes(rt, cell_w + 1, "adaptive_avg_pool2d", err)))
        return st;
    const size_t budget = tc_runtime_loop_budget(rt);
    uint64_t band = cell_h * (cell_w + 1) <= budget ? cell_h : budget / (cell_w + 1);
    uint64_t nbands = (cell_h + band - 1) / band;
    size_t items;
    if (tc_mul_overflow(cells, (size_t)nbands, &items) || items > UINT32_MAX)
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "adaptive_avg_pool2d: too many cells");
    if ((st = tc_check_loop_passes(rt, nbands, "adaptive_avg_pool2d", err)))
        return st;
    struct tc_tensor part = {0};
    if (nbands > 1) {
        int64_t pd[1] = {(int64_t)items};
        if ((st = tc_tensor_alloc(rt, 1, pd, &part, err)))
            return st;
    }
    args[8] = TC_KUINT(items);
    args[9] = TC_KUINT(band);
    args[10] = TC_KUINT(nbands);
    args[11] = TC_KBUF(nbands > 1 ? part.buf : y->buf);
    st = tc_launch_1d(rt, "resize", "tc_adaptive_avg_pool2d", items, args, 12, err);
    if (st == TERRACL_OK && nbands > 1) {
        struct tc_karg f[] = {TC_KBUF(part.buf), args[2], args[3], args[4], args[5],
                              args[6], args[7], TC_KUINT(cells), TC_KUINT(nbands)};
        st = tc_launch_1d(rt, "resize", "tc_adaptive_avg_pool2d_finish", cells, f, 9, err);
    }
    tc_tensor_free(&part);
    return st;
}

terracl_status tc_op_max_pool2d(terracl_runtime *rt, const struct tc_tensor *x, int64_t kernel,
                                int64_t stride, struct tc_tensor *y, terracl_error *err)
{
    struct tc_karg args[11];
    terracl_status st = check_planes("max_pool2d", x, y, err);
    if (st != TERRACL_OK)
        return st;
    if (kernel <= 0 || stride <= 0 || kernel > x->dims[2] || kernel > x->dims[3])
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "max_pool2d: kernel %lld / stride %lld do not fit a %lldx%lld input",
                       (long long)kernel, (long long)stride, (long long)x->dims[2],
                       (long long)x->dims[3]);
    int64_t oh = (x->dims[2] - kernel) / stride + 1, ow = (x->dims[3] - kernel) / stride + 1;
    if (y->dims[2] != oh || y->dims[3] != ow)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "max_pool2d: output is %lldx%lld, kernel %lld stride %lld gives %lldx%lld",
                       (long long)y->dims[2], (long long)y->dims[3], (long long)kernel,
                       (long long)stride, (long long)oh, (long long)ow);
    if ((st = plane_args(x, y, args, err)))
        return st;
    size_t n = tc_tensor_numel(y);
    args[8] = TC_KUINT(kernel);
    args[9] = TC_KUINT(stride);
    args[10] = TC_KUINT(n);
    return tc_launch_1d(rt, "resize", "tc_max_pool2d", n, args, 11, err);
}

terracl_status tc_op_max_pool2d_padded(terracl_runtime *rt, const struct tc_tensor *x,
                                       int64_t kernel, int64_t stride, int64_t pad,
                                       struct tc_tensor *y, terracl_error *err)
{
    struct tc_karg args[12];
    terracl_status st = check_planes("max_pool2d", x, y, err);
    if (st != TERRACL_OK)
        return st;
    /* PyTorch's own limits: padding at most half the kernel, so every
     * window overlaps the input. */
    if (kernel <= 0 || stride <= 0 || pad < 0 || 2 * pad > kernel ||
        x->dims[2] + 2 * pad < kernel || x->dims[3] + 2 * pad < kernel)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "max_pool2d: kernel %lld / stride %lld / padding %lld do not fit a "
                       "%lldx%lld input",
                       (long long)kernel, (long long)stride, (long long)pad,
                       (long long)x->dims[2], (long long)x->dims[3]);
    int64_t oh = (x->dims[2] + 2 * pad - kernel) / stride + 1;
    int64_t ow = (x->dims[3] + 2 * pad - kernel) / stride + 1;
    if (y->dims[2] != oh || y->dims[3] != ow)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "max_pool2d: output is %lldx%lld, kernel %lld stride %lld padding %lld "
                       "gives %lldx%lld",
                       (long long)y->dims[2], (long long)y->dims[3], (long long)kernel,
                       (long long)stride, (long long)pad, (long long)oh, (long long)ow);
    if ((st = plane_args(x, y, args, err)))
        return st;
    size_t n = tc_tensor_numel(y), w = (size_t)y->dims[3];
    args[8] = TC_KUINT(kernel);
    args[9] = TC_KUINT(stride);
    args[10] = TC_KUINT(pad);
    /* The row kernel's private row holds in_w + 2 pad floats. */
    if (tc_runtime_is_cpu(rt) && x->dims[3] + 2 * pad <= POOL_ROW) {
        args[11] = TC_KUINT(n / w);
        return launch_rows(rt, "tc_max_pool2d_pad_rows", n / w, args, 12, err);
    }
    args[11] = TC_KUINT(n);
    return tc_launch_1d(rt, "resize", "tc_max_pool2d_pad", n, args, 12, err);
}

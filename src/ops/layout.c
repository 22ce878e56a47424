/* Permute and concat; kernels in cl_kernels/layout.cl. */
#include "ops/layout.h"

#include <stdio.h>
#include <string.h>

#include "ops/launch.h"

/* Whether perm, on x's dims, keeps a leading block of axes [0, k) in
 * place and swaps the two blocks after it, [k, j) and [j, n): then y is
 * batch matrices of rows x cols (the products of the blocks' dims)
 * transposed. Both blocks hold at least one axis. */
static int batched_transpose(const struct tc_tensor *x, const int *perm, size_t *batch,
                             size_t *rows, size_t *cols)
{
    int n = x->ndim, k = 0;
    while (k < n && perm[k] == k)
        k++;
    if (k >= n - 1)
        return 0;
    int j = perm[k]; /* the second block starts the output after the kept axes */
    if (j <= k)
        return 0;
    for (int i = k; i < n; i++) {
        int want = i < k + (n - j) ? j + (i - k) : k + (i - k - (n - j));
        if (perm[i] != want)
            return 0;
    }
    size_t b = 1, r = 1, c = 1;
    for (int i = 0; i < n; i++)
        *(i < k ? &b : i < j ? &r : &c) *= (size_t)x->dims[i];
    *batch = b;
    *rows = r;
    *cols = c;
    return r > 1 && c > 1;
}

terracl_status tc_op_permute(terracl_runtime *rt, const struct tc_tensor *x, const int *perm,
                             struct tc_tensor *y, terracl_error *err)
{
    int n = x->ndim;
    int seen[TC_MAX_DIMS] = {0};
    if (y->ndim != n)
        return tc_fail(err, TERRACL_ERR_SHAPE, "permute: output rank %d != input rank %d", y->ndim,
                       n);
    for (int i = 0; i < n; i++)
        if (perm[i] < 0 || perm[i] >= n || seen[perm[i]]++)
            return tc_fail(err, TERRACL_ERR_INVALID_ARG, "permute: invalid permutation");
    for (int i = 0; i < n; i++) {
        if (y->dims[i] != x->dims[perm[i]]) {
            char a[128], b[128];
            return tc_fail(err, TERRACL_ERR_SHAPE, "permute: output %s does not match input %s",
                           tc_shape_str(y->ndim, y->dims, a, sizeof a),
                           tc_shape_str(x->ndim, x->dims, b, sizeof b));
        }
    }
    /* Input strides, then arranged in output order and left-padded to 5-D. */
    size_t xs[TC_MAX_DIMS];
    size_t s = 1;
    for (int i = n - 1; i >= 0; i--) {
        xs[i] = s;
        s *= (size_t)x->dims[i];
    }
    uint32_t dims[5] = {1, 1, 1, 1, 1}, strides[5] = {0, 0, 0, 0, 0};
    for (int i = 0; i < n; i++) {
        dims[5 - n + i] = (uint32_t)y->dims[i];
        strides[5 - n + i] = (uint32_t)xs[perm[i]];
    }
    terracl_status st;
    struct tc_karg ox, oy;
    if ((st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(y, &oy, err)))
        return st;
    size_t total = tc_tensor_numel(x);
    size_t batch, rows, cols;
    if (total > 0 && batched_transpose(x, perm, &batch, &rows, &cols)) {
        /* Matrices transposed (a ViT's tokens [N, D] into a map [D, N]):
         * tiles of 16 x 16. */
        struct tc_kernel *k = NULL;
        /* Large matrices (4 MiB and more) in blocks of 4 x 4 tiles per
         * work-item: a 16 x 16 tile reads 64 bytes from each of 16 rows
         * and writes 64 to each of 16, every one a page apart when the
         * rows are long; a block uses four times as much of each page it
         * touches. --profile, alternating: ConvNeXt-T + UperNet at 512
         * (Winograd inputs of up to 1024 x 16384) 20.7-24.0 -> 17.1-20.2
         * ms of transposes a run; Prithvi's 196 x 1024 tokens were slower
         * in blocks (0.57-0.73 against 0.47-0.61 ms). */
        const size_t tb = rows * cols >= ((size_t)1 << 20) ? 4 : 1, span = 16 * tb;
        char topt[32];
        snprintf(topt, sizeof topt, "-DTC_TT_BLOCK=%zu", tb);
        if ((st = tc_kernel_get(rt, "layout", "tc_transpose_tiles", topt, &k, err)))
            return st;
        struct tc_karg targs[] = {TC_KBUF(x->buf), ox, TC_KBUF(y->buf), oy,
                                  TC_KUINT(rows), TC_KUINT(cols)};
        const size_t global[3] = {(cols + span - 1) / span, (rows + span - 1) / span, batch};
        const size_t local[3] = {1, 1, 1};
        return tc_kernel_launch(rt, k, 3, global, local, targs, 6, err);
    }
    struct tc_karg args[] = {TC_KBUF(x->buf), ox, TC_KBUF(y->buf), oy,
                             TC_KUINT(dims[0]), TC_KUINT(dims[1]), TC_KUINT(dims[2]),
                             TC_KUINT(dims[3]), TC_KUINT(dims[4]), TC_KUINT(strides[0]),
                             TC_KUINT(strides[1]), TC_KUINT(strides[2]), TC_KUINT(strides[3]),
                             TC_KUINT(strides[4]), TC_KUINT(total)};
    return tc_launch_1d(rt, "layout", "tc_permute", total, args, 15, err);
}

terracl_status tc_op_copy2d(terracl_runtime *rt, const struct tc_buf *src, size_t src_off,
                            size_t src_ld, struct tc_buf *dst, size_t dst_off, size_t dst_ld,
                            size_t rows, size_t cols, terracl_error *err)
{
    if (rows == 0 || cols == 0)
        return TERRACL_OK;
    size_t src_end = src_off + (rows - 1) * src_ld + cols;
    size_t dst_end = dst_off + (rows - 1) * dst_ld + cols;
    if (src_end * sizeof(float) > tc_buf_size(src) || dst_end * sizeof(float) > tc_buf_size(dst))
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "copy2d: block outside its buffer");
    terracl_status st;
    if ((st = tc_check_u32(src_end, "copy source", err)) ||
        (st = tc_check_u32(dst_end, "copy destination", err)))
        return st;
    struct tc_karg args[] = {TC_KBUF(src),      TC_KUINT(src_off), TC_KUINT(src_ld),
                             TC_KBUF(dst),      TC_KUINT(dst_off), TC_KUINT(dst_ld),
                             TC_KUINT(rows),    TC_KUINT(cols)};
    return tc_launch_2d(rt, "layout", "tc_copy2d", cols, rows, args, 8, err);
}

terracl_status tc_op_concat(terracl_runtime *rt, const struct tc_tensor *xs, size_t count, int axis,
                            struct tc_tensor *y, terracl_error *err)
{
    if (axis < 0)
        axis += y->ndim;
    if (axis < 0 || axis >= y->ndim || count == 0)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "concat: invalid axis or no inputs");
    size_t outer = 1, inner = 1;
    for (int i = 0; i < axis; i++)
        outer *= (size_t)y->dims[i];
    for (int i = axis + 1; i < y->ndim; i++)
        inner *= (size_t)y->dims[i];
    int64_t total_axis = 0;
    for (size_t k = 0; k < count; k++) {
        const struct tc_tensor *x = &xs[k];
        int ok = x->ndim == y->ndim;
        for (int i = 0; ok && i < y->ndim; i++)
            ok = i == axis || x->dims[i] == y->dims[i];
        if (!ok) {
            char a[128], b[128];
            return tc_fail(err, TERRACL_ERR_SHAPE,
                           "concat: input %zu %s does not fit output %s along axis %d", k,
                           tc_shape_str(x->ndim, x->dims, a, sizeof a),
                           tc_shape_str(y->ndim, y->dims, b, sizeof b), axis);
        }
        total_axis += x->dims[axis];
    }
    if (total_axis != y->dims[axis])
        return tc_fail(err, TERRACL_ERR_SHAPE, "concat: inputs sum to %lld along axis %d, output has %lld",
                       (long long)total_axis, axis, (long long)y->dims[axis]);
    size_t dst_ld = (size_t)y->dims[axis] * inner, done = 0;
    for (size_t k = 0; k < count; k++) {
        size_t cols = (size_t)xs[k].dims[axis] * inner;
        terracl_status st = tc_op_copy2d(rt, xs[k].buf, xs[k].offset, cols, y->buf,
                                         y->offset + done, dst_ld, outer, cols, err);
        if (st != TERRACL_OK)
            return st;
        done += cols;
    }
    return TERRACL_OK;
}

/* Element-wise ops: shape checks here, arithmetic in cl_kernels/elementwise.cl. */
#include "ops/elementwise.h"

#include "ops/launch.h"

static terracl_status same_count(const struct tc_tensor *x, const struct tc_tensor *y,
                                 const char *op, terracl_error *err)
{
    if (tc_tensor_numel(x) != tc_tensor_numel(y)) {
        char a[128], b[128];
        return tc_fail(err, TERRACL_ERR_SHAPE, "%s: input %s and output %s differ in size", op,
                       tc_shape_str(x->ndim, x->dims, a, sizeof a),
                       tc_shape_str(y->ndim, y->dims, b, sizeof b));
    }
    return TERRACL_OK;
}

/* `kernel` repeats b over a; `same_kernel` is the same op for same-sized
 * operands, without the index division. */
static terracl_status binary(terracl_runtime *rt, const char *kernel, const char *same_kernel,
                             const struct tc_tensor *a, const struct tc_tensor *b,
                             struct tc_tensor *c, terracl_error *err)
{
    size_t n = tc_tensor_numel(a), nb = tc_tensor_numel(b);
    terracl_status st = same_count(a, c, kernel, err);
    if (st != TERRACL_OK)
        return st;
    if (nb == 0 || n % nb != 0) {
        char sa[128], sb[128];
        return tc_fail(err, TERRACL_ERR_SHAPE, "%s: %s cannot be repeated over %s", kernel,
                       tc_shape_str(b->ndim, b->dims, sb, sizeof sb),
                       tc_shape_str(a->ndim, a->dims, sa, sizeof sa));
    }
    struct tc_karg oa, ob, oc;
    if ((st = tc_offset_arg(a, &oa, err)) || (st = tc_offset_arg(b, &ob, err)) ||
        (st = tc_offset_arg(c, &oc, err)))
        return st;
    if (nb == n) {
        struct tc_karg same[] = {TC_KBUF(a->buf), oa, TC_KBUF(b->buf), ob,
                                 TC_KBUF(c->buf), oc, TC_KUINT(n)};
        return tc_launch_1d(rt, "elementwise", same_kernel, n, same, 7, err);
    }
    struct tc_karg args[] = {TC_KBUF(a->buf), oa, TC_KBUF(b->buf), ob, TC_KUINT(nb),
                             TC_KBUF(c->buf), oc, TC_KUINT(n)};
    return tc_launch_1d(rt, "elementwise", kernel, n, args, 8, err);
}

terracl_status tc_op_add(terracl_runtime *rt, const struct tc_tensor *a, const struct tc_tensor *b,
                         struct tc_tensor *c, terracl_error *err)
{
    return binary(rt, "tc_add", "tc_add_same", a, b, c, err);
}

terracl_status tc_op_add_relu(terracl_runtime *rt, const struct tc_tensor *a,
                              const struct tc_tensor *b, struct tc_tensor *c, terracl_error *err)
{
    terracl_status st = same_count(b, a, "add_relu", err);
    if (st != TERRACL_OK)
        return st;
    return binary(rt, "tc_add_relu_same", "tc_add_relu_same", a, b, c, err);
}

terracl_status tc_op_mul(terracl_runtime *rt, const struct tc_tensor *a, const struct tc_tensor *b,
                         struct tc_tensor *c, terracl_error *err)
{
    return binary(rt, "tc_mul", "tc_mul_same", a, b, c, err);
}

terracl_status tc_op_scale(terracl_runtime *rt, const struct tc_tensor *x, float alpha, float beta,
                           struct tc_tensor *y, terracl_error *err)
{
    terracl_status st = same_count(x, y, "scale", err);
    struct tc_karg ox, oy;
    if (st || (st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(y, &oy, err)))
        return st;
    size_t n = tc_tensor_numel(x);
    struct tc_karg args[] = {TC_KBUF(x->buf), ox,           TC_KBUF(y->buf), oy,
                             TC_KFLOAT(alpha), TC_KFLOAT(beta), TC_KUINT(n)};
    return tc_launch_1d(rt, "elementwise", "tc_scale", n, args, 7, err);
}

static terracl_status unary(terracl_runtime *rt, const char *kernel, const struct tc_tensor *x,
                            struct tc_tensor *y, terracl_error *err)
{
    terracl_status st = same_count(x, y, kernel, err);
    struct tc_karg ox, oy;
    if (st || (st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(y, &oy, err)))
        return st;
    size_t n = tc_tensor_numel(x);
    struct tc_karg args[] = {TC_KBUF(x->buf), ox, TC_KBUF(y->buf), oy, TC_KUINT(n)};
    return tc_launch_1d(rt, "elementwise", kernel, n, args, 5, err);
}

terracl_status tc_op_gelu(terracl_runtime *rt, const struct tc_tensor *x, struct tc_tensor *y,
                          terracl_error *err)
{
    return unary(rt, "tc_gelu", x, y, err);
}

terracl_status tc_op_silu_mul(terracl_runtime *rt, const struct tc_tensor *a,
                              const struct tc_tensor *b, struct tc_tensor *y, terracl_error *err)
{
    terracl_status st = same_count(a, y, "silu_mul", err);
    struct tc_karg oa, ob, oy;
    if (st || (st = same_count(b, y, "silu_mul", err)) || (st = tc_offset_arg(a, &oa, err)) ||
        (st = tc_offset_arg(b, &ob, err)) || (st = tc_offset_arg(y, &oy, err)))
        return st;
    size_t n = tc_tensor_numel(y);
    struct tc_karg args[] = {TC_KBUF(a->buf), oa, TC_KBUF(b->buf), ob,
                             TC_KBUF(y->buf), oy, TC_KUINT(n)};
    return tc_launch_1d(rt, "elementwise", "tc_silu_mul", n, args, 7, err);
}

terracl_status tc_op_relu(terracl_runtime *rt, const struct tc_tensor *x, struct tc_tensor *y,
                          terracl_error *err)
{
    return unary(rt, "tc_relu", x, y, err);
}

/* rows x cols view of y and the checked bias argument for the fusions. */
static terracl_status row_view(const struct tc_tensor *y, const struct tc_tensor *bias,
                               const char *op, size_t *rows, size_t *cols, terracl_error *err)
{
    *cols = (size_t)y->dims[y->ndim - 1];
    *rows = tc_tensor_numel(y) / *cols;
    if (bias != NULL && tc_tensor_numel(bias) != *cols) {
        char s1[128], s2[128];
        return tc_fail(err, TERRACL_ERR_SHAPE, "%s: bias %s does not match rows of %s", op,
                       tc_shape_str(bias->ndim, bias->dims, s1, sizeof s1),
                       tc_shape_str(y->ndim, y->dims, s2, sizeof s2));
    }
    return TERRACL_OK;
}

terracl_status tc_op_bias(terracl_runtime *rt, struct tc_tensor *y, const struct tc_tensor *bias,
                          terracl_error *err)
{
    if (bias == NULL)
        return TERRACL_OK;
    size_t rows, cols;
    struct tc_karg oy, ob;
    terracl_status st = row_view(y, bias, "bias", &rows, &cols, err);
    if (st || (st = tc_offset_arg(y, &oy, err)) || (st = tc_offset_arg(bias, &ob, err)))
        return st;
    struct tc_karg args[] = {TC_KBUF(y->buf), oy, TC_KBUF(bias->buf), ob, TC_KUINT(rows),
                             TC_KUINT(cols)};
    return tc_launch_2d(rt, "elementwise", "tc_bias_rows", cols, rows, args, 6, err);
}

terracl_status tc_op_bias_gelu(terracl_runtime *rt, struct tc_tensor *y,
                               const struct tc_tensor *bias, terracl_error *err)
{
    if (bias == NULL)
        return tc_op_gelu(rt, y, y, err);
    size_t rows, cols;
    struct tc_karg oy, ob;
    terracl_status st = row_view(y, bias, "bias_gelu", &rows, &cols, err);
    if (st || (st = tc_offset_arg(y, &oy, err)) || (st = tc_offset_arg(bias, &ob, err)))
        return st;
    struct tc_karg args[] = {TC_KBUF(y->buf), oy, TC_KBUF(bias->buf), ob, TC_KUINT(rows),
                             TC_KUINT(cols)};
    return tc_launch_2d(rt, "elementwise", "tc_bias_gelu_rows", cols, rows, args, 6, err);
}

terracl_status tc_op_bias_residual(terracl_runtime *rt, struct tc_tensor *acc,
                                   const struct tc_tensor *y, const struct tc_tensor *bias,
                                   terracl_error *err)
{
    if (bias == NULL)
        return tc_op_add(rt, acc, y, acc, err);
    size_t rows, cols;
    struct tc_karg oa, oy, ob;
    terracl_status st = row_view(y, bias, "bias_residual", &rows, &cols, err);
    if (st == TERRACL_OK && tc_tensor_numel(acc) != tc_tensor_numel(y))
        st = tc_fail(err, TERRACL_ERR_SHAPE, "bias_residual: accumulator and input differ in size");
    if (st || (st = tc_offset_arg(acc, &oa, err)) || (st = tc_offset_arg(y, &oy, err)) ||
        (st = tc_offset_arg(bias, &ob, err)))
        return st;
    struct tc_karg args[] = {TC_KBUF(acc->buf), oa, TC_KBUF(y->buf), oy, TC_KBUF(bias->buf), ob,
                             TC_KUINT(rows), TC_KUINT(cols)};
    return tc_launch_2d(rt, "elementwise", "tc_bias_residual", cols, rows, args, 8, err);
}

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

static terracl_status binary(terracl_runtime *rt, const char *kernel, const struct tc_tensor *a,
                             const struct tc_tensor *b, struct tc_tensor *c, terracl_error *err)
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
    struct tc_karg args[] = {TC_KBUF(a->buf), oa, TC_KBUF(b->buf), ob, TC_KUINT(nb),
                             TC_KBUF(c->buf), oc, TC_KUINT(n)};
    return tc_launch_1d(rt, "elementwise", kernel, n, args, 8, err);
}

terracl_status tc_op_add(terracl_runtime *rt, const struct tc_tensor *a, const struct tc_tensor *b,
                         struct tc_tensor *c, terracl_error *err)
{
    return binary(rt, "tc_add", a, b, c, err);
}

terracl_status tc_op_mul(terracl_runtime *rt, const struct tc_tensor *a, const struct tc_tensor *b,
                         struct tc_tensor *c, terracl_error *err)
{
    return binary(rt, "tc_mul", a, b, c, err);
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

terracl_status tc_op_relu(terracl_runtime *rt, const struct tc_tensor *x, struct tc_tensor *y,
                          terracl_error *err)
{
    return unary(rt, "tc_relu", x, y, err);
}

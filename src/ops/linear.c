/* nn.Linear and attention as GEMMs plus element-wise kernels. */
#include "ops/linear.h"

#include "ops/elementwise.h"
#include "ops/softmax.h"

terracl_status tc_op_linear(terracl_runtime *rt, const struct tc_tensor *x,
                            const struct tc_tensor *w, const struct tc_tensor *b,
                            struct tc_tensor *y, terracl_error *err)
{
    char s1[128], s2[128];
    if (w->ndim != 2 || x->dims[x->ndim - 1] != w->dims[1] ||
        y->dims[y->ndim - 1] != w->dims[0])
        return tc_fail(err, TERRACL_ERR_SHAPE, "linear: input %s does not fit weight %s",
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1),
                       tc_shape_str(w->ndim, w->dims, s2, sizeof s2));
    size_t k = (size_t)w->dims[1], n = (size_t)w->dims[0];
    size_t m = tc_tensor_numel(x) / k;
    if (tc_tensor_numel(y) != m * n)
        return tc_fail(err, TERRACL_ERR_SHAPE, "linear: output %s should hold %zu x %zu",
                       tc_shape_str(y->ndim, y->dims, s1, sizeof s1), m, n);
    terracl_status st = tc_sgemm(rt, 0, 1, m, n, k, 1.0f, (struct tc_matrix){x->buf, x->offset, k},
                                 (struct tc_matrix){w->buf, w->offset, k}, 0.0f,
                                 (struct tc_matrix){y->buf, y->offset, n}, err);
    if (st != TERRACL_OK || b == NULL)
        return st;
    return tc_op_bias(rt, y, b, err);
}

terracl_status tc_op_attention(terracl_runtime *rt, const struct tc_tensor *qkv, int64_t heads,
                               float scale, struct tc_tensor *scores, struct tc_tensor *out,
                               terracl_error *err)
{
    char s1[128];
    if (qkv->ndim != 3 || heads <= 0 || qkv->dims[2] % (3 * heads) != 0)
        return tc_fail(err, TERRACL_ERR_SHAPE, "attention: qkv %s does not split into 3 x %lld heads",
                       tc_shape_str(qkv->ndim, qkv->dims, s1, sizeof s1), (long long)heads);
    size_t batch = (size_t)qkv->dims[0], len = (size_t)qkv->dims[1];
    size_t dim = (size_t)qkv->dims[2] / 3, hd = dim / (size_t)heads, h = (size_t)heads;
    if (tc_tensor_numel(scores) < h * len * len || tc_tensor_numel(out) != batch * len * dim)
        return tc_fail(err, TERRACL_ERR_SHAPE, "attention: scratch or output too small");
    struct tc_tensor s = *scores;
    s.ndim = 2;
    s.dims[0] = (int64_t)(h * len);
    s.dims[1] = (int64_t)len;
    s.owns_buf = 0;
    for (size_t b = 0; b < batch; b++) {
        size_t base = qkv->offset + b * len * 3 * dim;
        /* S_h = Q_h K_h^T (scaled in the softmax) */
        terracl_status st = tc_sgemm_strided_batched(
            rt, 0, 1, len, len, hd, 1.0f, (struct tc_matrix){qkv->buf, base, 3 * dim}, hd,
            (struct tc_matrix){qkv->buf, base + dim, 3 * dim}, hd, 0.0f,
            (struct tc_matrix){scores->buf, scores->offset, len}, len * len, h, err);
        if (st == TERRACL_OK)
            st = tc_op_softmax(rt, &s, scale, &s, err);
        /* O_h = P_h V_h written into head h's columns of the output rows */
        if (st == TERRACL_OK)
            st = tc_sgemm_strided_batched(
                rt, 0, 0, len, hd, len, 1.0f, (struct tc_matrix){scores->buf, scores->offset, len},
                len * len, (struct tc_matrix){qkv->buf, base + 2 * dim, 3 * dim}, hd, 0.0f,
                (struct tc_matrix){out->buf, out->offset + b * len * dim, dim}, hd, h, err);
        if (st != TERRACL_OK)
            return st;
    }
    return TERRACL_OK;
}

/* Multi-head self-attention: a fused kernel for CPUs (cl_kernels/attention.cl)
 * and the GEMM + softmax path. */
#include "ops/attention.h"

#include <stdio.h>

#include "ops/launch.h"
#include "ops/softmax.h"

#define ATT_KB 32 /* keys per block: must match TC_KB in attention.cl */
#define ATT_R 4   /* query rows per work-item (TC_R) */
#define ATT_WG 8  /* work-items per work-group along the query blocks */
/* Padded lengths up to which the two-pass kernel runs (TC_LMAX in
 * attention.cl: its private rows of scores); longer ones take the online
 * softmax kernel. */
#define ATT_LMAX 1056

struct att_shape {
    size_t batch, len, dim, heads, hd;
};

static terracl_status att_shape(const struct tc_tensor *qkv, int64_t heads,
                                const struct tc_tensor *out, struct att_shape *s,
                                terracl_error *err)
{
    char s1[128], s2[128];
    if (qkv->ndim != 3 || heads <= 0 || qkv->dims[2] % (3 * heads) != 0 || qkv->dims[1] < 1)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "attention: qkv %s does not split into 3 x %lld heads",
                       tc_shape_str(qkv->ndim, qkv->dims, s1, sizeof s1), (long long)heads);
    s->batch = (size_t)qkv->dims[0];
    s->len = (size_t)qkv->dims[1];
    s->dim = (size_t)qkv->dims[2] / 3;
    s->heads = (size_t)heads;
    s->hd = s->dim / s->heads;
    if (tc_tensor_numel(out) != s->batch * s->len * s->dim)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "attention: output %s does not hold [%zu, %zu, %zu] for qkv %s",
                       tc_shape_str(out->ndim, out->dims, s2, sizeof s2), s->batch, s->len, s->dim,
                       tc_shape_str(qkv->ndim, qkv->dims, s1, sizeof s1));
    return TERRACL_OK;
}

static size_t padded_len(size_t len) { return (len + ATT_KB - 1) / ATT_KB * ATT_KB; }

size_t tc_attention_fused_scratch(size_t len, size_t dim) { return dim * padded_len(len); }

/* Loop passes of a work-item per key at most (head dimension and query
 * rows), for drivers that end a work-item's loops early. */
#define LOOP_PASSES_PER_KEY 64

/* Whether the fused kernel runs: CPUs, except where the driver would end
 * its loops over the keys early (tc_runtime_loop_budget); the GEMM path
 * splits its sums there. */
static int fused_wanted(const terracl_runtime *rt, size_t len)
{
    return tc_runtime_is_cpu(rt) &&
           padded_len(len) * LOOP_PASSES_PER_KEY <= tc_runtime_loop_budget(rt);
}

size_t tc_attention_scratch(const terracl_runtime *rt, size_t len, size_t dim, size_t heads)
{
    return fused_wanted(rt, len) ? tc_attention_fused_scratch(len, dim) : heads * len * len;
}

terracl_status tc_op_attention_fused(terracl_runtime *rt, const struct tc_tensor *qkv,
                                     int64_t heads, float scale, struct tc_tensor *scratch,
                                     struct tc_tensor *out, terracl_error *err)
{
    struct att_shape s;
    terracl_status st = att_shape(qkv, heads, out, &s, err);
    if (st != TERRACL_OK)
        return st;
    size_t lp = padded_len(s.len), per_item = s.dim * lp;
    if (tc_tensor_numel(scratch) < per_item)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "attention: scratch of %zu floats is below the %zu one batch item of "
                       "L=%zu, D=%zu needs",
                       tc_tensor_numel(scratch), per_item, s.len, s.dim);
    struct tc_karg oq, oo, os;
    if ((st = tc_offset_arg(qkv, &oq, err)) || (st = tc_offset_arg(out, &oo, err)) ||
        (st = tc_offset_arg(scratch, &os, err)))
        return st;
    int dv = s.hd % 16 == 0 ? 16 : s.hd % 8 == 0 ? 8 : s.hd % 4 == 0 ? 4 : 1;
    char opts[96];
    snprintf(opts, sizeof opts, "-DTC_HD=%zu -DTC_DV=%d -DTC_R=%d", s.hd, dv, ATT_R);
    struct tc_kernel *kt = NULL, *kf = NULL;
    const int kt_blocks = s.hd % 16 == 0; /* 16x16 blocks per work-item */
    if ((st = tc_kernel_get(rt, "attention", kt_blocks ? "tc_attention_kt" : "tc_attention_kt1",
                            opts, &kt, err)) ||
        (st = tc_kernel_get(rt, "attention",
                            lp <= ATT_LMAX ? "tc_attention_rows" : "tc_attention_fwd", opts, &kf,
                            err)))
        return st;
    size_t chunk = tc_tensor_numel(scratch) / per_item;
    if (chunk > s.batch)
        chunk = s.batch;
    size_t wg = tc_runtime_max_workgroup(rt);
    for (size_t b0 = 0; b0 < s.batch; b0 += chunk) {
        size_t nb = s.batch - b0 < chunk ? s.batch - b0 : chunk;
        uint32_t qoff = oq.v.u + (uint32_t)(b0 * s.len * 3 * s.dim);
        uint32_t ooff = oo.v.u + (uint32_t)(b0 * s.len * s.dim);
        struct tc_karg ta[] = {TC_KBUF(qkv->buf),  TC_KUINT(qoff),   TC_KBUF(scratch->buf),
                               os,                 TC_KUINT(s.len),  TC_KUINT(lp),
                               TC_KUINT(s.dim),    TC_KUINT(s.heads)};
        size_t tg[3] = {lp, s.hd, nb * s.heads}, tl[3] = {wg >= ATT_KB ? ATT_KB : 1, 1, 1};
        if (kt_blocks) {
            tg[0] = lp / 16; /* lp is a multiple of ATT_KB, hence of 16 */
            /* A work-item moves all of a head's dims for its 16 keys:
             * per 16 x 16 block the driver's cost per work-item was most
             * of the copy (TerraMind base, --profile, alternating: 0.89-1.14
             * -> 0.78 ms a run). */
            tg[1] = 1;
            tl[0] = 1;
        }
        if ((st = tc_kernel_launch(rt, kt, 3, tg, tl, ta, 8, err)))
            return st;
        struct tc_karg fa[] = {TC_KBUF(qkv->buf), TC_KUINT(qoff),    TC_KBUF(scratch->buf), os,
                               TC_KBUF(out->buf), TC_KUINT(ooff),    TC_KUINT(s.len),
                               TC_KUINT(lp),      TC_KUINT(s.dim),   TC_KUINT(s.heads),
                               TC_KFLOAT(scale)};
        size_t fl0 = wg >= ATT_WG ? ATT_WG : 1;
        size_t rows = (s.len + ATT_R - 1) / ATT_R;
        size_t fg[3] = {(rows + fl0 - 1) / fl0 * fl0, s.heads, nb}, fl[3] = {fl0, 1, 1};
        /* The same work as the two GEMMs it replaces: QK^T and PV
         * (counted before the launch, which the profile credits with it). */
        tc_runtime_count_flops(rt, 4ull * nb * s.heads * s.len * s.len * s.hd);
        if ((st = tc_kernel_launch(rt, kf, 3, fg, fl, fa, 11, err)))
            return st;
    }
    return TERRACL_OK;
}

terracl_status tc_op_attention_gemm(terracl_runtime *rt, const struct tc_tensor *qkv,
                                    int64_t heads, float scale, struct tc_tensor *scores,
                                    struct tc_tensor *out, terracl_error *err)
{
    struct att_shape sh;
    terracl_status st = att_shape(qkv, heads, out, &sh, err);
    if (st != TERRACL_OK)
        return st;
    size_t batch = sh.batch, len = sh.len, dim = sh.dim, hd = sh.hd, h = sh.heads;
    if (tc_tensor_numel(scores) < h * len * len)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "attention: scratch of %zu floats is below the %zu scores of %zu heads x "
                       "L=%zu need",
                       tc_tensor_numel(scores), h * len * len, h, len);
    struct tc_tensor s = *scores;
    s.ndim = 2;
    s.dims[0] = (int64_t)(h * len);
    s.dims[1] = (int64_t)len;
    s.owns_buf = 0;
    for (size_t b = 0; b < batch; b++) {
        size_t base = qkv->offset + b * len * 3 * dim;
        /* S_h = Q_h K_h^T (scaled in the softmax) */
        st = tc_sgemm_strided_batched(
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

terracl_status tc_op_attention(terracl_runtime *rt, const struct tc_tensor *qkv, int64_t heads,
                               float scale, struct tc_tensor *scores, struct tc_tensor *out,
                               terracl_error *err)
{
    struct att_shape s;
    terracl_status st = att_shape(qkv, heads, out, &s, err);
    if (st != TERRACL_OK)
        return st;
    if (!fused_wanted(rt, s.len))
        return tc_op_attention_gemm(rt, qkv, heads, scale, scores, out, err);
    size_t need = tc_attention_fused_scratch(s.len, s.dim);
    if (tc_tensor_numel(scores) >= need)
        return tc_op_attention_fused(rt, qkv, heads, scale, scores, out, err);
    /* Short sequences: heads*L*L floats hold less than K^T padded to whole
     * key blocks; a temporary of that size is small then. Released buffers
     * live on until the queued kernels are done with them. */
    struct tc_tensor tmp;
    int64_t dims[1] = {(int64_t)(need * s.batch)};
    if ((st = tc_tensor_alloc(rt, 1, dims, &tmp, err)))
        return st;
    st = tc_op_attention_fused(rt, qkv, heads, scale, &tmp, out, err);
    tc_tensor_free(&tmp);
    return st;
}

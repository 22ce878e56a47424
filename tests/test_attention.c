/* Multi-head self-attention (fused kernel, GEMM path, and the dispatching
 * tc_op_attention) against a naive double-precision C reference, on the
 * packed timm qkv layout, at sizes that are not multiples of any block. */
#include "test_common.h"

#include <string.h>

#include "graph/tensor.h"
#include "ops/attention.h"

static const int64_t k_lens[] = {1, 7, 197, 589};
#define NLENS (sizeof k_lens / sizeof k_lens[0])
/* heads x head_dim: vector widths 8, 16, 16, and the float4 / scalar fallbacks */
static const int64_t k_heads[][2] = {{1, 8}, {3, 64}, {2, 80}, {2, 12}, {1, 6}};
#define NHEADS (sizeof k_heads / sizeof k_heads[0])

/* out[b, i, h*hd + e] = sum_j softmax_j(scale * q_i . k_j) v_j[e] */
static void attention_ref(const float *qkv, int64_t B, int64_t L, int64_t H, int64_t hd,
                          float scale, float *out)
{
    int64_t D = H * hd;
    double *s = malloc((size_t)L * sizeof *s);
    assert_non_null(s);
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t i = 0; i < L; i++) {
                const float *q = qkv + (b * L + i) * 3 * D + h * hd;
                double m = -INFINITY, sum = 0;
                for (int64_t j = 0; j < L; j++) {
                    const float *k = qkv + (b * L + j) * 3 * D + D + h * hd;
                    double acc = 0;
                    for (int64_t e = 0; e < hd; e++)
                        acc += (double)q[e] * k[e];
                    s[j] = acc * scale;
                    if (s[j] > m)
                        m = s[j];
                }
                for (int64_t j = 0; j < L; j++) {
                    s[j] = exp(s[j] - m);
                    sum += s[j];
                }
                for (int64_t e = 0; e < hd; e++) {
                    double acc = 0;
                    for (int64_t j = 0; j < L; j++)
                        acc += s[j] * qkv[(b * L + j) * 3 * D + 2 * D + h * hd + e];
                    out[(b * L + i) * D + h * hd + e] = (float)(acc / sum);
                }
            }
    free(s);
}

static struct tc_tensor scratch(size_t n)
{
    terracl_error err = {0};
    int64_t d = (int64_t)n;
    struct tc_tensor t;
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 1, &d, &t, &err), err);
    return t;
}

enum path { FUSED, FUSED_ONE_ITEM, GEMM, DISPATCH };

static void check(const float *qkv, int64_t B, int64_t L, int64_t H, int64_t hd, float lo,
                  float hi, double tol)
{
    int64_t D = H * hd;
    int64_t qdims[3] = {B, L, 3 * D}, odims[3] = {B, L, D};
    size_t no = (size_t)(B * L * D);
    float *want = malloc(no * sizeof *want);
    assert_non_null(want);
    float scale = 1.0f / sqrtf((float)hd);
    attention_ref(qkv, B, L, H, hd, scale, want);
    struct tc_tensor tq = tc_test_upload(qkv, 3, qdims), to;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 3, odims, &to, &err), err);
    size_t fused = tc_attention_fused_scratch((size_t)L, (size_t)D);
    for (int path = FUSED; path <= DISPATCH; path++) {
        struct tc_tensor ts;
        terracl_status st;
        if (path == FUSED) {
            ts = scratch(fused * (size_t)B);
            st = tc_op_attention_fused(tc_test_rt, &tq, H, scale, &ts, &to, &err);
        } else if (path == FUSED_ONE_ITEM) { /* one launch per batch item */
            ts = scratch(fused + 1);
            st = tc_op_attention_fused(tc_test_rt, &tq, H, scale, &ts, &to, &err);
        } else if (path == GEMM) {
            ts = scratch((size_t)(H * L * L));
            st = tc_op_attention_gemm(tc_test_rt, &tq, H, scale, &ts, &to, &err);
        } else { /* the model's scratch, heads x L x L (short L: a temporary) */
            ts = scratch((size_t)(H * L * L));
            st = tc_op_attention(tc_test_rt, &tq, H, scale, &ts, &to, &err);
        }
        TC_ASSERT_OK(st, err);
        float *got = tc_test_download(&to);
        double rel = tc_test_rel_l2(got, want, no);
        if (!(rel <= tol))
            fail_msg("B=%lld L=%lld %lldx%lld qkv in [%g, %g) path %d: rel L2 %.3g > %.3g",
                     (long long)B, (long long)L, (long long)H, (long long)hd, (double)lo,
                     (double)hi, path, rel, tol);
        free(got);
        tc_tensor_free(&ts);
    }
    tc_tensor_free(&tq);
    tc_tensor_free(&to);
    free(want);
}

static void run_shape(int64_t B, int64_t L, int64_t H, int64_t hd, float lo, float hi,
                      uint32_t seed, double tol)
{
    size_t n = (size_t)(B * L * 3 * H * hd);
    float *qkv = malloc(n * sizeof *qkv);
    assert_non_null(qkv);
    tc_test_fill(qkv, n, seed, lo, hi);
    check(qkv, B, L, H, hd, lo, hi, tol);
    free(qkv);
}

static void test_attention_matches_reference(void **state)
{
    (void)state;
    for (size_t li = 0; li < NLENS; li++)
        for (size_t hi = 0; hi < NHEADS; hi++)
            run_shape(2, k_lens[li], k_heads[hi][0], k_heads[hi][1], -1.5f, 1.5f,
                      (uint32_t)(li * 16 + hi + 1), 1e-5);
    /* Longer than the CPU's two-pass kernel takes (its rows of scores hold
     * 1056 keys): the online-softmax kernel. */
    run_shape(1, 1100, 2, 16, -1.5f, 1.5f, 77, 1e-5);
}

/* Key i scores 0.8 i against every query (exact in any summation order). */
static void increasing_keys(int64_t L)
{
    int64_t H = 1, hd = 16, D = H * hd;
    float *qkv = malloc((size_t)(L * 3 * D) * sizeof *qkv);
    assert_non_null(qkv);
    tc_test_fill(qkv, (size_t)(L * 3 * D), 5, -1, 1);
    for (int64_t i = 0; i < L; i++)
        for (int64_t e = 0; e < hd; e++) {
            qkv[i * 3 * D + e] = e == 0 ? 1.0f : 0.0f;
            qkv[i * 3 * D + D + e] = e == 0 ? 0.8f * (float)i : 0.0f;
        }
    check(qkv, 1, L, H, hd, -1, 1, 1e-6);
    free(qkv);
}

/* Scores in the hundreds: exp would overflow without the max subtraction;
 * with increasing keys at L = 1100 the online kernel's running max grows
 * from block to block. */
static void test_attention_large_scores(void **state)
{
    (void)state;
    run_shape(1, 197, 2, 64, -6.0f, 6.0f, 99, 1e-4);
    /* increasing keys: every key block raises the running max; the scores
     * 0.2 i are exact in any summation order */
    for (int64_t L = 100; L <= 1100; L += 1000)
        increasing_keys(L);
}

/* A qkv view in the middle of a buffer and an output view at an offset. */
static void test_attention_offsets(void **state)
{
    (void)state;
    int64_t B = 2, L = 33, H = 2, hd = 16, D = H * hd, pad = 37;
    size_t nq = (size_t)(B * L * 3 * D), no = (size_t)(B * L * D);
    int64_t big = (int64_t)(nq + 2 * (size_t)pad);
    float *host = malloc((size_t)big * sizeof *host), *want = malloc(no * sizeof *want);
    assert_non_null(host);
    assert_non_null(want);
    tc_test_fill(host, (size_t)big, 11, -2, 2);
    float scale = 0.25f;
    attention_ref(host + pad, B, L, H, hd, scale, want);
    terracl_error err = {0};
    struct tc_tensor whole = tc_test_upload(host, 1, &big), outbuf;
    int64_t obig = (int64_t)(no + (size_t)pad);
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 1, &obig, &outbuf, &err), err);
    struct tc_tensor q = whole, o = outbuf;
    q.owns_buf = o.owns_buf = 0;
    q.offset = (size_t)pad;
    q.ndim = o.ndim = 3;
    q.dims[0] = o.dims[0] = B;
    q.dims[1] = o.dims[1] = L;
    q.dims[2] = 3 * D;
    o.dims[2] = D;
    o.offset = (size_t)pad;
    struct tc_tensor sc = scratch((size_t)(H * L * L) + 13), view = sc;
    view.owns_buf = 0;
    view.offset = 13;
    view.dims[0] = H * L * L;
    for (int path = FUSED; path <= GEMM; path += 2) {
        terracl_status st =
            path == FUSED ? tc_op_attention_fused(tc_test_rt, &q, H, scale, &view, &o, &err)
                          : tc_op_attention_gemm(tc_test_rt, &q, H, scale, &view, &o, &err);
        TC_ASSERT_OK(st, err);
        float *got = tc_test_download(&outbuf);
        assert_true(tc_test_rel_l2(got + pad, want, no) < 1e-5);
        free(got);
    }
    tc_tensor_free(&whole);
    tc_tensor_free(&outbuf);
    tc_tensor_free(&sc);
    free(host);
    free(want);
}

static void test_attention_rejects_bad_shapes(void **state)
{
    (void)state;
    terracl_error err = {0};
    int64_t qd[3] = {1, 5, 3 * 16}, od[3] = {1, 5, 16}, bad[3] = {1, 5, 40}, sd = 4;
    struct tc_tensor q, o, s, wrong, tiny;
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 3, qd, &q, &err), err);
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 3, od, &o, &err), err);
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 3, bad, &wrong, &err), err);
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 1, &sd, &tiny, &err), err);
    int64_t big = 4096;
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 1, &big, &s, &err), err);

    /* 48 columns do not split into 3 x 5 heads */
    assert_int_equal(tc_op_attention(tc_test_rt, &q, 5, 1.0f, &s, &o, &err), TERRACL_ERR_SHAPE);
    assert_non_null(strstr(err.message, "[1, 5, 48]"));
    /* output of the wrong width */
    assert_int_equal(tc_op_attention_fused(tc_test_rt, &q, 2, 1.0f, &s, &wrong, &err),
                     TERRACL_ERR_SHAPE);
    assert_non_null(strstr(err.message, "[1, 5, 40]"));
    /* scratch too small for either path */
    assert_int_equal(tc_op_attention_fused(tc_test_rt, &q, 2, 1.0f, &tiny, &o, &err),
                     TERRACL_ERR_SHAPE);
    assert_non_null(strstr(err.message, "scratch"));
    assert_int_equal(tc_op_attention_gemm(tc_test_rt, &q, 2, 1.0f, &tiny, &o, &err),
                     TERRACL_ERR_SHAPE);
    /* CPUs run the fused kernel in a temporary then; GPUs need the scores */
    assert_int_equal(tc_op_attention(tc_test_rt, &q, 2, 1.0f, &tiny, &o, &err),
                     tc_runtime_is_cpu(tc_test_rt) ? TERRACL_OK : TERRACL_ERR_SHAPE);
    assert_int_equal(tc_op_attention(tc_test_rt, &q, 0, 1.0f, &s, &o, &err), TERRACL_ERR_SHAPE);
    tc_tensor_free(&q);
    tc_tensor_free(&o);
    tc_tensor_free(&s);
    tc_tensor_free(&wrong);
    tc_tensor_free(&tiny);
}

int main(void)
{
    tc_test_runtime_or_skip();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attention_matches_reference),
        cmocka_unit_test(test_attention_large_scores),
        cmocka_unit_test(test_attention_offsets),
        cmocka_unit_test(test_attention_rejects_bad_shapes),
    };
    int rc = cmocka_run_group_tests_name("attention", tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

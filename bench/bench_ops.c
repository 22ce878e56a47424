/*
 * bench_ops: times terracl's device ops one by one on the shapes of a
 * ViT-B block (197 tokens, width 768, 12 heads), so a slow kernel stands
 * out. Each op: one warm-up call, then the best of N calls, each ended by
 * terracl_runtime_finish (host monotonic clock).
 *
 *   build/bench/bench_ops [--device D] [--tokens L] [--repeat N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"
#include "cli/pin_workers.h"

#include "graph/tensor.h"
#include "ops/elementwise.h"
#include "ops/linear.h"
#include "ops/norm.h"
#include "ops/softmax.h"
#include "terracl/terracl.h"

enum op { LAYERNORM, SOFTMAX, GELU, BIAS_GELU, RESIDUAL, ATTENTION, QKV, PROJ, FC1, FC2, FC1_GELU, FC2_RES, NOPS };
static const char *k_names[NOPS] = {"layernorm [L,768]",      "softmax [12L,L]",
                                    "gelu [L,3072]",          "bias+gelu [L,3072]",
                                    "bias+residual [L,768]",  "attention 12x64",
                                    "linear qkv 768->2304",   "linear proj 768->768",
                                    "linear fc1 768->3072",   "linear fc2 3072->768",
                                    "fc1+bias+gelu (fused)",  "fc2+bias+residual"};

struct bufs {
    struct tc_tensor x, y, g, b, qkv, attn, scores, hid, b3, wqkv, wproj, wfc1, wfc2;
};

static terracl_status run(terracl_runtime *rt, enum op op, struct bufs *t, terracl_error *err)
{
    switch (op) {
    case LAYERNORM: return tc_op_layernorm(rt, &t->x, &t->g, &t->b, 1e-5f, &t->y, err);
    case SOFTMAX: return tc_op_softmax(rt, &t->scores, 0.125f, &t->scores, err);
    case GELU: return tc_op_gelu(rt, &t->hid, &t->hid, err);
    case BIAS_GELU: return tc_op_bias_gelu(rt, &t->hid, &t->b3, err);
    case RESIDUAL: return tc_op_bias_residual(rt, &t->x, &t->y, &t->b, err);
    case ATTENTION: return tc_op_attention(rt, &t->qkv, 12, 0.125f, &t->scores, &t->attn, err);
    case QKV: return tc_op_linear(rt, &t->x, &t->wqkv, NULL, &t->qkv, err);
    case PROJ: return tc_op_linear(rt, &t->attn, &t->wproj, NULL, &t->y, err);
    case FC1: return tc_op_linear(rt, &t->x, &t->wfc1, NULL, &t->hid, err);
    case FC2: return tc_op_linear(rt, &t->hid, &t->wfc2, NULL, &t->y, err);
    case FC1_GELU: return tc_op_linear_ex(rt, &t->x, &t->wfc1, &t->b3, 1, 0, &t->hid, err);
    case FC2_RES: return tc_op_linear_ex(rt, &t->hid, &t->wfc2, &t->b, 0, 1, &t->y, err);
    default: return TERRACL_ERR_INTERNAL;
    }
}

static terracl_status make(terracl_runtime *rt, struct tc_tensor *t, int ndim, int64_t d0,
                           int64_t d1, int64_t d2, terracl_error *err)
{
    int64_t dims[3] = {d0, d1, d2};
    terracl_status st = tc_tensor_alloc(rt, ndim, dims, t, err);
    if (st != TERRACL_OK)
        return st;
    size_t n = tc_tensor_numel(t);
    float *h = malloc(n * sizeof *h);
    if (h == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < n; i++)
        h[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    st = tc_tensor_upload(rt, t, h, err);
    free(h);
    return st;
}

int main(int argc, char **argv)
{
    bench_note_pinned(tc_pin_driver_threads());
    struct terracl_runtime_params params = {0};
    int64_t L = 197, repeat = 10;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
            params.device = argv[++i];
        else if (strcmp(argv[i], "--tokens") == 0 && i + 1 < argc)
            L = atoll(argv[++i]);
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoll(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_ops [--device D] [--tokens L] [--repeat N]\n");
            return 2;
        }
    }
    if (L < 1 || L > 4096 || repeat < 1) {
        fprintf(stderr, "bench_ops: --tokens 1..4096, --repeat >= 1\n");
        return 2;
    }
    terracl_error err = {0};
    terracl_runtime *rt = NULL;
    struct bufs t;
    memset(&t, 0, sizeof t);
    terracl_status st = terracl_runtime_create(&params, &rt, &err);
    if (st == TERRACL_OK)
        st = make(rt, &t.x, 2, L, 768, 0, &err);
    if (st == TERRACL_OK)
        st = make(rt, &t.y, 2, L, 768, 0, &err);
    if (st == TERRACL_OK)
        st = make(rt, &t.g, 1, 768, 0, 0, &err);
    if (st == TERRACL_OK)
        st = make(rt, &t.b, 1, 768, 0, 0, &err);
    if (st == TERRACL_OK)
        st = make(rt, &t.b3, 1, 3072, 0, 0, &err);
    if (st == TERRACL_OK)
        st = make(rt, &t.qkv, 3, 1, L, 3 * 768, &err);
    if (st == TERRACL_OK)
        st = make(rt, &t.attn, 2, L, 768, 0, &err);
    if (st == TERRACL_OK)
        st = make(rt, &t.scores, 2, 12 * L, L, 0, &err);
    if (st == TERRACL_OK)
        st = make(rt, &t.hid, 2, L, 3072, 0, &err);
    if (st == TERRACL_OK)
        st = make(rt, &t.wqkv, 2, 3 * 768, 768, 0, &err);
    if (st == TERRACL_OK)
        st = make(rt, &t.wproj, 2, 768, 768, 0, &err);
    if (st == TERRACL_OK)
        st = make(rt, &t.wfc1, 2, 3072, 768, 0, &err);
    if (st == TERRACL_OK)
        st = make(rt, &t.wfc2, 2, 768, 3072, 0, &err);
    if (st != TERRACL_OK) {
        fprintf(stderr, "bench_ops: %s\n", err.message);
        terracl_runtime_destroy(rt);
        return 1;
    }
    /* attention reads qkv as [1, L, 2304] */
    printf("device: %s, %lld tokens\n%-24s %10s %10s\n", terracl_runtime_device(rt)->name,
           (long long)L, "op", "best ms", "GFLOP/s");
    for (int op = 0; op < NOPS && st == TERRACL_OK; op++) {
        double best = 1e30;
        uint64_t f0 = 0, f1 = 0;
        for (int64_t r = -1; r < repeat && st == TERRACL_OK; r++) {
            f0 = terracl_runtime_flops(rt);
            double t0 = now_ms();
            st = run(rt, (enum op)op, &t, &err);
            if (st == TERRACL_OK)
                st = terracl_runtime_finish(rt, &err);
            double dt = now_ms() - t0;
            f1 = terracl_runtime_flops(rt);
            if (r >= 0 && dt < best)
                best = dt;
        }
        if (st == TERRACL_OK)
            printf("%-24s %10.3f %10.1f\n", k_names[op], best,
                   (double)(f1 - f0) * 1e-9 / (best * 1e-3));
    }
    if (st != TERRACL_OK)
        fprintf(stderr, "bench_ops: %s\n", err.message);
    struct tc_tensor *all[] = {&t.x, &t.y, &t.g, &t.b, &t.qkv, &t.attn, &t.scores,
                               &t.hid, &t.b3, &t.wqkv, &t.wproj, &t.wfc1, &t.wfc2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        tc_tensor_free(all[i]);
    terracl_runtime_destroy(rt);
    return st == TERRACL_OK ? 0 : 1;
}

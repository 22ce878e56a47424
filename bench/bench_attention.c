/*
 * bench_attention: the fused attention kernel against the GEMM + softmax
 * path on Prithvi shapes (batch 1): L = 197 and 589 tokens, 12 heads x 64
 * and 16 heads x 80; ViT-L's 16 x 64 at 197 and 1025 tokens (224 and 512
 * inputs). Each: one warm-up call, then the best of N calls, each
 * ended by terracl_runtime_finish (host monotonic clock); also the relative
 * L2 difference between the two outputs.
 *
 *   build/bench/bench_attention [--device D] [--repeat N]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"
#include "cli/pin_workers.h"

#include "graph/tensor.h"
#include "ops/attention.h"
#include "terracl/terracl.h"

struct bufs {
    struct tc_tensor qkv, scores, out;
};

static terracl_status time_path(terracl_runtime *rt, int fused, struct bufs *t, int64_t heads,
                                float scale, int64_t repeat, double *best, terracl_error *err)
{
    terracl_status st = TERRACL_OK;
    *best = 1e30;
    for (int64_t r = -1; r < repeat && st == TERRACL_OK; r++) {
        double t0 = now_ms();
        st = fused ? tc_op_attention_fused(rt, &t->qkv, heads, scale, &t->scores, &t->out, err)
                   : tc_op_attention_gemm(rt, &t->qkv, heads, scale, &t->scores, &t->out, err);
        if (st == TERRACL_OK)
            st = terracl_runtime_finish(rt, err);
        double dt = now_ms() - t0;
        if (r >= 0 && dt < *best)
            *best = dt;
    }
    return st;
}

static terracl_status one(terracl_runtime *rt, int64_t L, int64_t heads, int64_t hd,
                          int64_t repeat, terracl_error *err)
{
    int64_t D = heads * hd;
    int64_t qdims[3] = {1, L, 3 * D}, odims[3] = {1, L, D}, sdims[1] = {heads * L * L};
    struct bufs t;
    memset(&t, 0, sizeof t);
    size_t n = (size_t)(L * 3 * D), no = (size_t)(L * D);
    float *h = malloc(n * sizeof *h), *a = malloc(no * sizeof *a), *b = malloc(no * sizeof *b);
    terracl_status st = h && a && b ? TERRACL_OK : TERRACL_ERR_NO_MEMORY;
    if (st == TERRACL_OK) {
        for (size_t i = 0; i < n; i++)
            h[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
        st = tc_tensor_alloc(rt, 3, qdims, &t.qkv, err);
    }
    if (st == TERRACL_OK)
        st = tc_tensor_upload(rt, &t.qkv, h, err);
    if (st == TERRACL_OK)
        st = tc_tensor_alloc(rt, 3, odims, &t.out, err);
    if (st == TERRACL_OK)
        st = tc_tensor_alloc(rt, 1, sdims, &t.scores, err);
    float scale = 1.0f / sqrtf((float)hd);
    double tg = 0, tf = 0;
    if (st == TERRACL_OK)
        st = time_path(rt, 0, &t, heads, scale, repeat, &tg, err);
    if (st == TERRACL_OK)
        st = tc_tensor_download(rt, &t.out, a, err);
    if (st == TERRACL_OK)
        st = time_path(rt, 1, &t, heads, scale, repeat, &tf, err);
    if (st == TERRACL_OK)
        st = tc_tensor_download(rt, &t.out, b, err);
    if (st == TERRACL_OK) {
        double num = 0, den = 0;
        for (size_t i = 0; i < no; i++) {
            num += ((double)b[i] - a[i]) * ((double)b[i] - a[i]);
            den += (double)a[i] * a[i];
        }
        double gflop = 4.0 * (double)heads * (double)L * (double)L * (double)hd * 1e-9;
        printf("L=%-5lld %2lldx%-3lld %10.3f %10.3f %8.2fx %8.1f %8.1f %10.2e\n", (long long)L,
               (long long)heads, (long long)hd, tg, tf, tg / tf, gflop / (tg * 1e-3),
               gflop / (tf * 1e-3), sqrt(num / (den > 0 ? den : 1)));
    }
    tc_tensor_free(&t.qkv);
    tc_tensor_free(&t.out);
    tc_tensor_free(&t.scores);
    free(h);
    free(a);
    free(b);
    return st;
}

int main(int argc, char **argv)
{
    bench_note_pinned(tc_pin_driver_threads());
    struct terracl_runtime_params params = {0};
    int64_t repeat = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
            params.device = argv[++i];
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoll(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_attention [--device D] [--repeat N]\n");
            return 2;
        }
    }
    if (repeat < 1) {
        fprintf(stderr, "bench_attention: --repeat >= 1\n");
        return 2;
    }
    terracl_error err = {0};
    terracl_runtime *rt = NULL;
    terracl_status st = terracl_runtime_create(&params, &rt, &err);
    if (st == TERRACL_OK)
        printf("device: %s, batch 1, best of %lld\n%-15s %10s %10s %9s %8s %8s %10s\n",
               terracl_runtime_device(rt)->name, (long long)repeat, "shape", "gemm ms",
               "fused ms", "speedup", "GF/s g", "GF/s f", "rel L2");
    static const int64_t shapes[][3] = {{197, 12, 64},  {589, 12, 64}, {197, 16, 80},
                                        {589, 16, 80},  {197, 16, 64}, {1025, 16, 64}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0] && st == TERRACL_OK; i++)
        st = one(rt, shapes[i][0], shapes[i][1], shapes[i][2], repeat, &err);
    if (st != TERRACL_OK)
        fprintf(stderr, "bench_attention: %s\n", err.message);
    terracl_runtime_destroy(rt);
    return st == TERRACL_OK ? 0 : 1;
}

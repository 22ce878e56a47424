/*
 * bench_linear: times the CPU Linear kernels (packed weights) on the ViT
 * Linear shapes, each kernel variant in turn, `rounds` times over, and
 * prints the best time per shape and variant: on a shared machine the
 * alternation and the minimum are what make two variants comparable.
 * Variants: "panel" (tc_sgemm_packed), "kblock" (tc_sgemm_packed_kb with
 * K blocks of 128), forced as the tuner forces its candidates.
 *
 *   build/bench/bench_linear [--device D] [--rounds N] [M,N,K ...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"
#include "cli/pin_workers.h"

#include "graph/tensor.h"
#include "runtime/gemm_params.h"
#include "runtime/runtime.h"
#include "terracl/terracl.h"

struct shape {
    size_t m, n, k;
};

static terracl_status alloc_filled(terracl_runtime *rt, size_t n, struct tc_tensor *t,
                                   terracl_error *err)
{
    int64_t d[1] = {(int64_t)n};
    terracl_status st = tc_tensor_alloc(rt, 1, d, t, err);
    if (st != TERRACL_OK)
        return st;
    float *h = malloc(n * sizeof *h);
    if (h == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < n; i++)
        h[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    st = tc_tensor_upload(rt, t, h, err);
    free(h);
    return st;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* Wall time, and the CPU time all the process's threads used (the driver's
 * workers included): on a loaded machine the second counts only the
 * cycles this call got, not the time it waited for them. */
static terracl_status time_once(terracl_runtime *rt, const struct shape *s, struct tc_tensor *a,
                                struct tc_tensor *w, struct tc_tensor *c, struct tc_tensor *b,
                                double *ms, double *cpu, terracl_error *err)
{
    struct tc_gemm_epilogue ep = {.bias = b->buf, .bias_offset = 0, .gelu = 0};
    double c0 = cpu_ms();
    double t0 = now_ms();
    terracl_status st = tc_sgemm_packed(rt, s->m, s->n, s->k, (struct tc_matrix){a->buf, 0, s->k},
                                        w->buf, 0, 0.0f, (struct tc_matrix){c->buf, 0, s->n}, &ep,
                                        err);
    if (st == TERRACL_OK)
        st = terracl_runtime_finish(rt, err);
    *ms = now_ms() - t0;
    *cpu = cpu_ms() - c0;
    return st;
}

int main(int argc, char **argv)
{
    bench_note_pinned(tc_pin_driver_threads());
    struct terracl_runtime_params params = {0};
    int rounds = 5;
    struct shape shapes[16] = {{197, 4096, 1024}, {197, 1024, 4096}, {197, 3072, 1024},
                               {197, 1024, 1024}, {588, 3072, 1024}, {197, 2304, 768}};
    size_t nshapes = 6, given = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
            params.device = argv[++i];
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (given < 16 && sscanf(argv[i], "%zu,%zu,%zu", &shapes[given].m, &shapes[given].n,
                                      &shapes[given].k) == 3)
            nshapes = ++given;
        else {
            fprintf(stderr, "usage: bench_linear [--device D] [--rounds N] [M,N,K ...]\n");
            return 2;
        }
    }
    terracl_error err = {0};
    terracl_runtime *rt = NULL;
    if (terracl_runtime_create(&params, &rt, &err) != TERRACL_OK) {
        fprintf(stderr, "bench_linear: %s\n", err.message);
        return 1;
    }
    printf("device: %s, best of %d alternating rounds (cpu ms: CPU time of all threads)\n"
           "%-18s %10s %8s %10s %8s\n",
           terracl_runtime_device(rt)->name, rounds, "M,N,K", "panel ms", "GFLOP/s", "kblock ms",
           "GFLOP/s");
    int rc = 0;
    for (size_t i = 0; i < nshapes && rc == 0; i++) {
        const struct shape *s = &shapes[i];
        struct tc_tensor a = {0}, w = {0}, c = {0}, b = {0};
        double best[2] = {1e30, 1e30}, best_cpu[2] = {1e30, 1e30};
        terracl_status st = TERRACL_OK;
        if (!tc_gemm_pack_wanted(rt, s->n, s->k)) {
            printf("%zu,%zu,%zu: not packable on this device\n", s->m, s->n, s->k);
            continue;
        }
        if ((st = alloc_filled(rt, s->m * s->k, &a, &err)) ||
            (st = alloc_filled(rt, s->n * s->k, &w, &err)) ||
            (st = alloc_filled(rt, s->m * s->n, &c, &err)) ||
            (st = alloc_filled(rt, s->n, &b, &err)))
            rc = 1;
        for (int r = -1; r < rounds && rc == 0; r++)
            for (int v = 0; v < 2 && rc == 0; v++) {
                struct tc_native_params np = tc_native_default;
                np.packed_kc = v ? 128 : 0;
                tc_native_force(rt, &np);
                double ms = 0, cpu = 0;
                if (time_once(rt, s, &a, &w, &c, &b, &ms, &cpu, &err) != TERRACL_OK) {
                    rc = 1;
                } else if (r >= 0) { /* round -1 warms up (kernel builds) */
                    if (ms < best[v])
                        best[v] = ms;
                    if (cpu < best_cpu[v])
                        best_cpu[v] = cpu;
                }
            }
        if (rc == 0) {
            double gf = 2.0 * (double)s->m * (double)s->n * (double)s->k * 1e-6;
            char name[48];
            snprintf(name, sizeof name, "%zu,%zu,%zu", s->m, s->n, s->k);
            printf("%-18s %10.2f %8.1f %10.2f %8.1f   cpu ms %8.2f %8.2f\n", name, best[0],
                   gf / best[0], best[1], gf / best[1], best_cpu[0], best_cpu[1]);
        }
        tc_tensor_free(&a);
        tc_tensor_free(&w);
        tc_tensor_free(&c);
        tc_tensor_free(&b);
    }
    if (rc)
        fprintf(stderr, "bench_linear: %s\n", err.message);
    terracl_runtime_destroy(rt);
    return rc;
}

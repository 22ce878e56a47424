/*
 * mem_bandwidth: how fast the CPU cores read memory, the second anchor of
 * bench/roofline.py (with bench/fma_peak's FMA peak): a layer that does
 * few multiply-adds per byte it must read is bound by this, not by the FMAs.
 *
 *   mem_bandwidth [--threads N] [--repeat R] [--format text|json]
 *
 * One thread per core (N, default every online CPU, each pinned to its own
 * CPU) sums its share of a buffer with AVX-512 loads (AVX2 where the CPU has
 * no AVX-512), eight independent accumulators, so that loads, not the
 * additions, set the pace. Two buffer sizes: 8 MiB in all, which stays in
 * the last-level cache after the first pass (a layer's input just written
 * by the layer before), and 1 GiB, which does not (weights of a model larger
 * than the cache, streamed from DRAM once per run). Each figure is the best
 * of R timed passes (JSON gives the median too).
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_time.h"

__attribute__((target("avx512f"))) static float sum_avx512(const float *p, size_t n)
{
    __m512 a[8];
    for (int j = 0; j < 8; j++)
        a[j] = _mm512_setzero_ps();
    for (size_t i = 0; i + 128 <= n; i += 128)
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++)
            a[j] = _mm512_add_ps(a[j], _mm512_load_ps(p + i + 16 * j));
    for (int j = 1; j < 8; j++)
        a[0] = _mm512_add_ps(a[0], a[j]);
    return _mm512_reduce_add_ps(a[0]);
}

__attribute__((target("avx2"))) static float sum_avx2(const float *p, size_t n)
{
    __m256 a[8];
    for (int j = 0; j < 8; j++)
        a[j] = _mm256_setzero_ps();
    for (size_t i = 0; i + 64 <= n; i += 64)
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++)
            a[j] = _mm256_add_ps(a[j], _mm256_load_ps(p + i + 8 * j));
    for (int j = 1; j < 8; j++)
        a[0] = _mm256_add_ps(a[0], a[j]);
    float out[8];
    _mm256_storeu_ps(out, a[0]);
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}

struct reader {
    pthread_t thread;
    int cpu, avx512, passes;
    const float *part;
    size_t n;
    pthread_barrier_t *start;
    float sink;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(r->cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set); /* best effort */
    pthread_barrier_wait(r->start);
    for (int i = 0; i < r->passes; i++)
        r->sink += r->avx512 ? sum_avx512(r->part, r->n) : sum_avx2(r->part, r->n);
    return NULL;
}

/* One timed run: every thread reads its share `passes` times; seconds. */
static double timed_run(const float *buf, size_t n, int threads, int avx512, int passes,
                        float *sink)
{
    struct reader r[256];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    size_t share = n / (size_t)threads / 128 * 128;
    for (int i = 0; i < threads; i++) {
        r[i] = (struct reader){.cpu = i, .avx512 = avx512, .passes = passes,
                               .part = buf + (size_t)i * share, .n = share, .start = &start};
        if (pthread_create(&r[i].thread, NULL, reader_main, &r[i]) != 0) {
            fprintf(stderr, "mem_bandwidth: cannot start thread %d\n", i);
            exit(1);
        }
    }
    pthread_barrier_wait(&start);
    double t0 = now_ms();
    for (int i = 0; i < threads; i++) {
        pthread_join(r[i].thread, NULL);
        *sink += r[i].sink;
    }
    double dt = (now_ms() - t0) * 1e-3;
    pthread_barrier_destroy(&start);
    return dt;
}

static int cmp_desc(const void *a, const void *b)
{
    return -cmp_double(a, b);
}

int main(int argc, char **argv)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = online > 0 ? (int)online : 1, repeat = 5;
    const char *format = "text";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
            format = argv[++i];
        else {
            fprintf(stderr, "usage: mem_bandwidth [--threads N] [--repeat R] [--format text|json]\n");
            return 2;
        }
    }
    if (threads < 1 || threads > 256 || repeat < 1 || repeat > 1000 ||
        (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)) {
        fprintf(stderr, "mem_bandwidth: threads 1..256, repeat 1..1000, format text or json\n");
        return 2;
    }
    __builtin_cpu_init();
    const int avx512 = __builtin_cpu_supports("avx512f");
    if (!avx512 && !__builtin_cpu_supports("avx2")) {
        fprintf(stderr, "mem_bandwidth: this CPU has neither AVX-512 nor AVX2\n");
        return 1;
    }
    static const struct {
        const char *name;
        size_t bytes;
        int passes;
    } sizes[] = {{"cache", (size_t)8 << 20, 200}, {"dram", (size_t)1 << 30, 2}};
    float sink = 0.0f;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s].bytes / sizeof(float);
        float *buf = aligned_alloc(64, sizes[s].bytes);
        if (buf == NULL) {
            fprintf(stderr, "mem_bandwidth: cannot allocate %zu MiB\n", sizes[s].bytes >> 20);
            return 1;
        }
        for (size_t i = 0; i < n; i++)
            buf[i] = (float)(i & 1023) * 1e-3f;
        double g[1000];
        timed_run(buf, n, threads, avx512, 1, &sink); /* warm-up: pages, caches */
        for (int r = 0; r < repeat; r++) {
            double dt = timed_run(buf, n, threads, avx512, sizes[s].passes, &sink);
            size_t share = n / (size_t)threads / 128 * 128;
            g[r] = (double)share * (double)threads * sizeof(float) * sizes[s].passes / dt * 1e-9;
        }
        qsort(g, (size_t)repeat, sizeof g[0], cmp_desc);
        if (strcmp(format, "json") == 0)
            printf("{\"mem_bandwidth\": \"%s\", \"bytes\": %zu, \"threads\": %d, \"gbs\": %.2f, "
                   "\"median_gbs\": %.2f, \"repeat\": %d}\n",
                   sizes[s].name, sizes[s].bytes, threads, g[0], g[repeat / 2], repeat);
        else
            printf("%-6s %5zu MiB read by %d threads: %8.1f GB/s (median %.1f, best of %d)\n",
                   sizes[s].name, sizes[s].bytes >> 20, threads, g[0], g[repeat / 2], repeat);
        free(buf);
    }
    return sink == 12345.0f ? 3 : 0; /* keeps the sums live */
}

/*
 * fma_peak: the machine's fp32 FMA ceiling, the anchor every GFLOP/s figure
 * of bench/run_all.sh is given against.
 *
 *   fma_peak [--cpu] [--opencl] [--threads N] [--repeat R] [--device SUBSTRING]
 *            [--format text|json]
 *
 * --cpu: C with AVX-512 intrinsics (AVX2 + FMA where the CPU has no
 * AVX-512, and said so): one thread per core (N, default every online CPU,
 * each pinned to its own CPU), each running 16 independent zmm FMA chains.
 * A chain needs 16 independent accumulators or more to cover the FMA latency
 * (4 cycles) times the FMA pipes (2 per core on Zen 5 and on server Intel
 * cores); fewer chains measure latency, not throughput.
 * --opencl: the same loop as an OpenCL C kernel on float16 vectors (12
 * independent chains per work-item, a few work-items per compute unit), on
 * every OpenCL device whose name contains SUBSTRING (default: every device).
 * This shows whether the OpenCL compiler (PoCL's) reaches the same ceiling.
 * Both by default. Each figure is the best of R timed runs (the peak is a
 * maximum, not a typical value; a shared machine lowers the median, which
 * JSON gives too). This program is a benchmark, not part of the library: it
 * talks to OpenCL directly.
 */
#define _GNU_SOURCE
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_time.h"

enum { CHAINS = 16, CL_CHAINS = 12 };

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- CPU: intrinsics ---------------------------------------------------- */

/* Each function runs `iters` rounds of CHAINS independent FMAs and returns a
 * sum of the accumulators, so that no chain is dead code. */
__attribute__((target("avx512f"))) static float fma_loop_avx512(long iters)
{
    const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-6f);
    __m512 a[CHAINS];
    for (int j = 0; j < CHAINS; j++)
        a[j] = _mm512_set1_ps((float)j);
    for (long i = 0; i < iters; i++) {
#pragma GCC unroll 16
        for (int j = 0; j < CHAINS; j++)
            a[j] = _mm512_fmadd_ps(a[j], b, c);
    }
    __m512 s = a[0];
    for (int j = 1; j < CHAINS; j++)
        s = _mm512_add_ps(s, a[j]);
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float fma_loop_avx2(long iters)
{
    const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-6f);
    __m256 a[CHAINS];
    for (int j = 0; j < CHAINS; j++)
        a[j] = _mm256_set1_ps((float)j);
    for (long i = 0; i < iters; i++) {
#pragma GCC unroll 16
        for (int j = 0; j < CHAINS; j++)
            a[j] = _mm256_fmadd_ps(a[j], b, c);
    }
    __m256 s = a[0];
    for (int j = 1; j < CHAINS; j++)
        s = _mm256_add_ps(s, a[j]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}

struct worker {
    pthread_t thread;
    int cpu, avx512;
    long iters;
    pthread_barrier_t *start;
    float sink;
};

static void *worker_main(void *p)
{
    struct worker *w = p;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(w->cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set); /* best effort */
    pthread_barrier_wait(w->start);
    w->sink = w->avx512 ? fma_loop_avx512(w->iters) : fma_loop_avx2(w->iters);
    return NULL;
}

/* One timed run on `n` threads; returns seconds. */
static double cpu_run(int n, int avx512, long iters, float *sink)
{
    struct worker w[256];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)n + 1);
    for (int i = 0; i < n; i++) {
        w[i] = (struct worker){.cpu = i, .avx512 = avx512, .iters = iters, .start = &start};
        if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0) {
            fprintf(stderr, "fma_peak: cannot start thread %d\n", i);
            exit(1);
        }
    }
    pthread_barrier_wait(&start);
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        pthread_join(w[i].thread, NULL);
        *sink += w[i].sink;
    }
    double dt = now_s() - t0;
    pthread_barrier_destroy(&start);
    return dt;
}

static void cpu_model(char *out, size_t size)
{
    snprintf(out, size, "CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            colon += 2;
            colon[strcspn(colon, "\n")] = '\0';
            snprintf(out, size, "%s", colon);
            break;
        }
    }
    fclose(f);
}

static void report(const char *format, const char *kind, const char *device, const char *how,
                   int threads, double best, double median, int repeat)
{
    if (strcmp(format, "json") == 0)
        printf("{\"fma_peak\": \"%s\", \"device\": \"%s\", \"how\": \"%s\", \"threads\": %d, "
               "\"gflops\": %.1f, \"gflops_median\": %.1f, \"repeat\": %d}\n",
               kind, device, how, threads, best, median, repeat);
    else
        printf("%-8s %-40.40s %-44s %3d threads: %8.1f GFLOP/s (median %.1f, best of %d)\n", kind,
               device, how, threads, best, median, repeat);
    fflush(stdout);
}

static void bench_cpu(int threads, int repeat, const char *format)
{
    int avx512 = __builtin_cpu_supports("avx512f");
    if (!avx512 && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
        fprintf(stderr, "fma_peak: this CPU has neither AVX-512 nor AVX2+FMA; --cpu skipped\n");
        return;
    }
    int lanes = avx512 ? 16 : 8;
    /* Calibrate: about 0.3 s per run. */
    float sink = 0;
    long iters = 1 << 20;
    for (;;) {
        double dt = cpu_run(threads, avx512, iters, &sink);
        if (dt > 0.1 || iters > (1L << 40))
            break;
        iters *= 4;
    }
    iters = (long)((double)iters * 0.3 / cpu_run(threads, avx512, iters, &sink)) + 1;
    double *g = calloc((size_t)repeat, sizeof *g);
    for (int r = 0; r < repeat; r++) {
        double dt = cpu_run(threads, avx512, iters, &sink);
        g[r] = (double)threads * (double)iters * CHAINS * lanes * 2.0 / dt * 1e-9;
    }
    qsort(g, (size_t)repeat, sizeof *g, cmp_double);
    char model[256], how[128];
    cpu_model(model, sizeof model);
    snprintf(how, sizeof how, "C %s intrinsics, %d independent %s chains", avx512 ? "AVX-512" : "AVX2",
             CHAINS, avx512 ? "zmm" : "ymm");
    report(format, avx512 ? "cpu" : "cpu-avx2", model, how, threads, g[repeat - 1], g[repeat / 2],
           repeat);
    free(g);
    if (sink == 12345.0f) /* never; keeps the sums alive */
        puts("");
}

/* ---- OpenCL: float16 kernel --------------------------------------------- */

static const char k_kernel[] =
    "__kernel void fma_peak(__global float *out, int iters, float bs, float cs)\n"
    "{\n"
    "    float16 b = (float16)(bs), c = (float16)(cs);\n"
    "    float16 a0 = (float16)(get_global_id(0)), a1 = a0 + 1.0f, a2 = a0 + 2.0f,\n"
    "            a3 = a0 + 3.0f, a4 = a0 + 4.0f, a5 = a0 + 5.0f, a6 = a0 + 6.0f, a7 = a0 + 7.0f,\n"
    "            a8 = a0 + 8.0f, a9 = a0 + 9.0f, a10 = a0 + 10.0f, a11 = a0 + 11.0f;\n"
    "    for (int i = 0; i < iters; i++) {\n"
    "        a0 = fma(a0, b, c); a1 = fma(a1, b, c); a2 = fma(a2, b, c); a3 = fma(a3, b, c);\n"
    "        a4 = fma(a4, b, c); a5 = fma(a5, b, c); a6 = fma(a6, b, c); a7 = fma(a7, b, c);\n"
    "        a8 = fma(a8, b, c); a9 = fma(a9, b, c); a10 = fma(a10, b, c); a11 = fma(a11, b, c);\n"
    "    }\n"
    "    float16 s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;\n"
    "    out[get_global_id(0)] = s.s0 + s.s1 + s.s2 + s.s3 + s.s4 + s.s5 + s.s6 + s.s7 +\n"
    "                            s.s8 + s.s9 + s.sa + s.sb + s.sc + s.sd + s.se + s.sf;\n"
    "}\n";

static int cl_fail(const char *what, cl_int e)
{
    fprintf(stderr, "fma_peak: OpenCL %s failed (%d)\n", what, e);
    return 1;
}

/* One OpenCL run of `items` work-items in groups of `local`: seconds, or < 0. */
static double cl_run(cl_command_queue q, cl_kernel k, size_t items, size_t local, int iters)
{
    cl_int e = clSetKernelArg(k, 1, sizeof iters, &iters);
    double t0 = now_s();
    if (e == CL_SUCCESS)
        e = clEnqueueNDRangeKernel(q, k, 1, NULL, &items, &local, 0, NULL, NULL);
    if (e == CL_SUCCESS)
        e = clFinish(q);
    return e == CL_SUCCESS ? now_s() - t0 : -1.0;
}

static int bench_device(cl_device_id dev, int repeat, const char *format)
{
    char name[256] = "";
    cl_uint cus = 1;
    cl_device_type type = 0;
    clGetDeviceInfo(dev, CL_DEVICE_NAME, sizeof name, name, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cus, &cus, NULL);
    cl_int e;
    cl_context ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &e);
    if (e != CL_SUCCESS)
        return cl_fail("clCreateContext", e);
    cl_command_queue q = clCreateCommandQueue(ctx, dev, 0, &e);
    const char *src = k_kernel;
    cl_program prog = e == CL_SUCCESS ? clCreateProgramWithSource(ctx, 1, &src, NULL, &e) : NULL;
    if (e == CL_SUCCESS)
        e = clBuildProgram(prog, 1, &dev, "", NULL, NULL);
    cl_kernel k = e == CL_SUCCESS ? clCreateKernel(prog, "fma_peak", &e) : NULL;
    /* A few work-items per compute unit on a CPU, so that the scheduler can
     * keep every unit busy to the end; a GPU needs whole groups of them per
     * unit to hide its pipeline latency (8 groups of 128 on each). */
    const int gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
    size_t local = gpu ? 128 : 1;
    size_t items = (size_t)cus * (gpu ? 8 * 128 : 8);
    cl_mem out = e == CL_SUCCESS ? clCreateBuffer(ctx, CL_MEM_WRITE_ONLY, items * sizeof(float), NULL, &e)
                                 : NULL;
    float bs = 0.999999f, cs = 1e-6f;
    if (e == CL_SUCCESS)
        e = clSetKernelArg(k, 0, sizeof out, &out);
    if (e == CL_SUCCESS)
        e = clSetKernelArg(k, 2, sizeof bs, &bs);
    if (e == CL_SUCCESS)
        e = clSetKernelArg(k, 3, sizeof cs, &cs);
    int rc = 0;
    if (e != CL_SUCCESS) {
        rc = cl_fail("setup", e);
        goto out;
    }
    /* Warm-up (kernel build at first launch on PoCL) and calibration. */
    int iters = 1 << 12;
    double dt;
    while ((dt = cl_run(q, k, items, local, iters)) >= 0 && dt < 0.1 && iters < (1 << 28))
        iters *= 4;
    if (dt < 0) {
        rc = cl_fail("kernel run", -1);
        goto out;
    }
    iters = (int)((double)iters * 0.3 / dt) + 1;
    double *g = calloc((size_t)repeat, sizeof *g);
    for (int r = 0; r < repeat && rc == 0; r++) {
        dt = cl_run(q, k, items, local, iters);
        if (dt < 0)
            rc = cl_fail("kernel run", -1);
        g[r] = (double)items * (double)iters * CL_CHAINS * 16 * 2.0 / dt * 1e-9;
    }
    if (rc == 0) {
        qsort(g, (size_t)repeat, sizeof *g, cmp_double);
        char how[128];
        snprintf(how, sizeof how, "OpenCL float16 kernel, %d chains, %zu work-items in groups of %zu",
                 CL_CHAINS, items, local);
        report(format, "opencl", name, how, (int)cus, g[repeat - 1], g[repeat / 2], repeat);
    }
    free(g);
out:
    if (out)
        clReleaseMemObject(out);
    if (k)
        clReleaseKernel(k);
    if (prog)
        clReleaseProgram(prog);
    if (q)
        clReleaseCommandQueue(q);
    clReleaseContext(ctx);
    return rc;
}

static int bench_opencl(const char *match, int repeat, const char *format)
{
    cl_platform_id plats[16];
    cl_uint np = 0;
    if (clGetPlatformIDs(16, plats, &np) != CL_SUCCESS || np == 0) {
        fprintf(stderr, "fma_peak: no OpenCL platform; --opencl skipped\n");
        return 0;
    }
    int rc = 0, found = 0;
    for (cl_uint p = 0; p < np; p++) {
        cl_device_id devs[16];
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 16, devs, &nd) != CL_SUCCESS)
            continue;
        for (cl_uint d = 0; d < nd; d++) {
            char name[256] = "";
            clGetDeviceInfo(devs[d], CL_DEVICE_NAME, sizeof name, name, NULL);
            if (match && !strstr(name, match))
                continue;
            found = 1;
            rc |= bench_device(devs[d], repeat, format);
        }
    }
    if (!found)
        fprintf(stderr, "fma_peak: no OpenCL device matches '%s'\n", match ? match : "");
    return rc;
}

int main(int argc, char **argv)
{
    int cpu = 0, opencl = 0, repeat = 5;
    int threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    const char *format = "text", *match = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--cpu") == 0)
            cpu = 1;
        else if (strcmp(a, "--opencl") == 0)
            opencl = 1;
        else if (strcmp(a, "--threads") == 0 && v && atoi(v) > 0 && atoi(v) <= 256)
            threads = atoi(argv[++i]);
        else if (strcmp(a, "--repeat") == 0 && v && atoi(v) > 0 && atoi(v) <= 1000)
            repeat = atoi(argv[++i]);
        else if (strcmp(a, "--device") == 0 && v)
            match = strcmp(v, "all") == 0 ? (++i, NULL) : argv[++i];
        else if (strcmp(a, "--format") == 0 && v && (!strcmp(v, "text") || !strcmp(v, "json")))
            format = argv[++i];
        else {
            fprintf(stderr,
                    "usage: fma_peak [--cpu] [--opencl] [--threads N] [--repeat R] "
                    "[--device SUBSTRING|all] [--format text|json]\n");
            return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 ? 0 : 2;
        }
    }
    if (threads < 1)
        threads = 1;
    if (threads > 256)
        threads = 256;
    if (!cpu && !opencl)
        cpu = opencl = 1;
    if (cpu)
        bench_cpu(threads, repeat, format);
    return opencl ? bench_opencl(match, repeat, format) : 0;
}

/*
 * Micro-benchmark: cl_kernels/gemm.cl variants against CLBlast (with the
 * shipped CPU parameter set, or CLBlast's own) on the same device in the
 * same process. Best of 5 clFinish-timed runs after a warm-up.
 *
 *   cc -O2 bench/gemm_micro.c -o build-gemm/gemm_micro -lOpenCL -lclblast -lm
 *   POCL_MAX_PTHREAD_COUNT=2 build-gemm/gemm_micro [M,N,K,ta,tb ...] [-v "OPTS" ...]
 *       [-p "OPTS" ...]
 *
 * -v variants run tc_sgemm_nt / tc_sgemm_nn with those build options; -p
 * variants run tc_sgemm_packed (the Linear path: B^T shapes only, B packed
 * into 64-column panels here as the library packs Linear weights). Each -p
 * variant is timed ALT times (default 3) in turn with the others, and the
 * median is printed beside the best.
 */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <clblast_c.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define CHECK(x)                                                                               \
    do {                                                                                       \
        cl_int e_ = (x);                                                                       \
        if (e_ != CL_SUCCESS) {                                                                \
            fprintf(stderr, "%s:%d %s -> %d\n", __FILE__, __LINE__, #x, e_);                    \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

static cl_context ctx;
static cl_command_queue q;
static cl_device_id dev;
static char *src;

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc(n + 1);
    if (fread(s, 1, n, f) != (size_t)n)
        exit(1);
    s[n] = 0;
    fclose(f);
    return s;
}

static void set_clblast(int own)
{
    if (own)
        return;
    static const char *names[] = {"GEMMK", "KREG", "KWG",  "KWI", "MDIMA", "MDIMC",
                                  "MWG",   "NDIMB", "NDIMC", "NWG", "SA",    "SB",
                                  "STRM",  "STRN", "VWM",  "VWN"};
    static const size_t vals[] = {0, 1, 64, 8, 2, 2, 32, 1, 1, 16, 0, 0, 1, 0, 16, 8};
    if (CLBlastOverrideParameters(dev, "Xgemm", CLBlastPrecisionSingle, 16, names, vals) != 0)
        exit(2);
    const char *n1 = "XGEMM_MIN_INDIRECT_SIZE";
    size_t v1 = 1;
    if (CLBlastOverrideParameters(dev, "GemmRoutine", CLBlastPrecisionSingle, 1, &n1, &v1) != 0)
        exit(2);
}

struct shape {
    int m, n, k, ta, tb;
};

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Least CPU time (all threads, the driver's workers included) of the last
 * time_best call: on a loaded machine it counts the cycles a run got, not
 * the time it waited for them. */
static double last_cpu_best;

static double time_best(void (*fn)(void *), void *arg)
{
    fn(arg);
    clFinish(q);
    double best = 1e30;
    last_cpu_best = 1e30;
    static int reps = 0;
    if (!reps)
        reps = getenv("REPS") ? atoi(getenv("REPS")) : 5;
    for (int r = 0; r < reps; r++) {
        double c0 = cpu_now(), t0 = now();
        fn(arg);
        clFinish(q);
        double t = now() - t0, c = cpu_now() - c0;
        if (t < best)
            best = t;
        if (c < last_cpu_best)
            last_cpu_best = c;
    }
    return best;
}

struct run {
    struct shape s;
    cl_mem a, b, c;
    cl_kernel kern;
    int mr, nr, panel, nn;
    cl_mem packed;
};

static void run_clblast(void *p)
{
    struct run *r = p;
    struct shape s = r->s;
    size_t lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
    CLBlastStatusCode rc = CLBlastSgemm(CLBlastLayoutRowMajor, s.ta ? 112 : 111, s.tb ? 112 : 111,
                                        s.m, s.n, s.k, 1.0f, r->a, 0, lda, r->b, 0, ldb, 0.0f,
                                        r->c, 0, s.n, &q, NULL);
    if (rc) {
        fprintf(stderr, "clblast %d\n", rc);
        exit(1);
    }
}

static void run_native(void *p)
{
    struct run *r = p;
    struct shape s = r->s;
    int tiles_m = (s.m + r->mr - 1) / r->mr, tiles_n = (s.n + r->nr - 1) / r->nr;
    int strips = (tiles_n + r->panel - 1) / r->panel;
    size_t items = (size_t)tiles_m * strips;
    float alpha = 1, beta = 0;
    cl_uint zero = 0;
    int lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n, ldc = s.n;
    int a = 0;
    clSetKernelArg(r->kern, a++, sizeof(int), &s.m);
    clSetKernelArg(r->kern, a++, sizeof(int), &s.n);
    clSetKernelArg(r->kern, a++, sizeof(int), &s.k);
    clSetKernelArg(r->kern, a++, sizeof(float), &alpha);
    clSetKernelArg(r->kern, a++, sizeof(float), &beta);
    clSetKernelArg(r->kern, a++, sizeof(cl_mem), &r->a);
    clSetKernelArg(r->kern, a++, sizeof(cl_uint), &zero);
    if (r->nn) {
        int rs = s.ta ? 1 : lda, cs = s.ta ? lda : 1;
        clSetKernelArg(r->kern, a++, sizeof(int), &rs);
        clSetKernelArg(r->kern, a++, sizeof(int), &cs);
    } else {
        clSetKernelArg(r->kern, a++, sizeof(int), &lda);
    }
    clSetKernelArg(r->kern, a++, sizeof(cl_uint), &zero);
    clSetKernelArg(r->kern, a++, sizeof(cl_mem), &r->b);
    clSetKernelArg(r->kern, a++, sizeof(cl_uint), &zero);
    clSetKernelArg(r->kern, a++, sizeof(int), &ldb);
    clSetKernelArg(r->kern, a++, sizeof(cl_uint), &zero);
    clSetKernelArg(r->kern, a++, sizeof(cl_mem), &r->c);
    clSetKernelArg(r->kern, a++, sizeof(cl_uint), &zero);
    clSetKernelArg(r->kern, a++, sizeof(int), &ldc);
    clSetKernelArg(r->kern, a++, sizeof(cl_uint), &zero);
    clSetKernelArg(r->kern, a++, sizeof(int), &tiles_m);
    clSetKernelArg(r->kern, a++, sizeof(int), &tiles_n);
    /* bias (unused without GEMM_EPILOGUE) */
    clSetKernelArg(r->kern, a++, sizeof(cl_mem), &r->c);
    clSetKernelArg(r->kern, a++, sizeof(cl_uint), &zero);
    size_t global[2] = {items, 1}, local[2] = {1, 1};
    CHECK(clEnqueueNDRangeKernel(q, r->kern, 2, NULL, global, local, 0, NULL, NULL));
}

/* tc_sgemm_packed: tiles of GEMM_MR rows by 16*GEMM_PV columns, GEMM_PANEL
 * tiles per work-item. */
static void run_packed(void *p)
{
    struct run *r = p;
    struct shape s = r->s;
    int tiles_m = (s.m + r->mr - 1) / r->mr, tiles_n = s.n / r->nr;
    int strips = (tiles_n + r->panel - 1) / r->panel;
    size_t items = (size_t)tiles_m * strips;
    float beta = 0;
    cl_uint zero = 0;
    int a = 0;
    clSetKernelArg(r->kern, a++, sizeof(int), &s.m);
    clSetKernelArg(r->kern, a++, sizeof(int), &s.n);
    clSetKernelArg(r->kern, a++, sizeof(int), &s.k);
    clSetKernelArg(r->kern, a++, sizeof(float), &beta);
    clSetKernelArg(r->kern, a++, sizeof(cl_mem), &r->a);
    clSetKernelArg(r->kern, a++, sizeof(cl_uint), &zero);
    clSetKernelArg(r->kern, a++, sizeof(int), &s.k);
    clSetKernelArg(r->kern, a++, sizeof(cl_uint), &zero); /* batch strides: one product */
    clSetKernelArg(r->kern, a++, sizeof(cl_mem), &r->packed);
    clSetKernelArg(r->kern, a++, sizeof(cl_uint), &zero);
    clSetKernelArg(r->kern, a++, sizeof(cl_uint), &zero);
    clSetKernelArg(r->kern, a++, sizeof(cl_mem), &r->c);
    clSetKernelArg(r->kern, a++, sizeof(cl_uint), &zero);
    clSetKernelArg(r->kern, a++, sizeof(int), &s.n);
    clSetKernelArg(r->kern, a++, sizeof(cl_uint), &zero);
    clSetKernelArg(r->kern, a++, sizeof(int), &tiles_m);
    clSetKernelArg(r->kern, a++, sizeof(int), &tiles_n);
    clSetKernelArg(r->kern, a++, sizeof(cl_mem), &r->c);
    clSetKernelArg(r->kern, a++, sizeof(cl_uint), &zero);
    size_t global[2] = {items, 1}, local[2] = {1, 1};
    CHECK(clEnqueueNDRangeKernel(q, r->kern, 2, NULL, global, local, 0, NULL, NULL));
}

/* W [N, K] into panels of 64 columns of W^T (K rows of 64 floats each). */
static void pack64(const float *w, int n, int k, float *out)
{
    for (int q0 = 0; q0 < n / 64; q0++)
        for (int c = 0; c < 64; c++)
            for (int p = 0; p < k; p++)
                out[((size_t)q0 * k + p) * 64 + c] = w[((size_t)q0 * 64 + c) * k + p];
}

/* Kernel `name` of gemm.cl built with the variant's options (the program
 * stays alive through the kernel's reference). */
static cl_kernel build_kernel(const char *variant, const char *name)
{
    char opts[512];
    cl_int e;
    char platform[256] = "";
    cl_platform_id plat;
    if (clGetDeviceInfo(dev, CL_DEVICE_PLATFORM, sizeof plat, &plat, NULL) == CL_SUCCESS)
        clGetPlatformInfo(plat, CL_PLATFORM_NAME, sizeof platform, platform, NULL);
    const int pocl = strstr(platform, "Portable Computing Language") != NULL;
    snprintf(opts, sizeof opts, "-cl-std=CL1.2 -cl-mad-enable%s %s", pocl ? " -DTC_POCL=1" : "",
             variant);
    cl_program p = clCreateProgramWithSource(ctx, 1, (const char **)&src, NULL, &e);
    CHECK(e);
    if (clBuildProgram(p, 1, &dev, opts, NULL, NULL) != CL_SUCCESS) {
        char log[20000];
        clGetProgramBuildInfo(p, dev, CL_PROGRAM_BUILD_LOG, sizeof log, log, NULL);
        fprintf(stderr, "%s\n", log);
        exit(1);
    }
    cl_kernel k = clCreateKernel(p, name, &e);
    CHECK(e);
    clReleaseProgram(p);
    return k;
}

static int opt_int(const char *opts, const char *name, int dflt)
{
    const char *p = strstr(opts, name);
    return p ? atoi(p + strlen(name) + 1) : dflt;
}

int main(int argc, char **argv)
{
    struct shape shapes[32];
    int ns = 0;
    const char *variants[32], *pvariants[32];
    int nv = 0, np = 0;
    int own = getenv("OWN") != NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0 && i + 1 < argc)
            variants[nv++] = argv[++i];
        else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
            pvariants[np++] = argv[++i];
        else {
            struct shape s = {0, 0, 0, 0, 1};
            sscanf(argv[i], "%d,%d,%d,%d,%d", &s.m, &s.n, &s.k, &s.ta, &s.tb);
            shapes[ns++] = s;
        }
    }
    if (nv == 0 && np == 0)
        variants[nv++] = "-DGEMM_MR=3 -DGEMM_NR=8 -DGEMM_PANEL=8";
    /* As the library builds it: common.cl first, and with PoCL, -DTC_POCL
     * for its prefetches and one-instruction stores (src/runtime/program.c). */
    {
        char *common = read_all("cl_kernels/common.cl"), *gemm = read_all("cl_kernels/gemm.cl");
        size_t nc = strlen(common), ng = strlen(gemm);
        src = malloc(nc + ng + 2);
        memcpy(src, common, nc);
        src[nc] = '\n';
        memcpy(src + nc + 1, gemm, ng + 1);
        free(common);
        free(gemm);
    }
    cl_platform_id plat;
    CHECK(clGetPlatformIDs(1, &plat, NULL));
    CHECK(clGetDeviceIDs(plat, CL_DEVICE_TYPE_ALL, 1, &dev, NULL));
    cl_int e;
    ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &e);
    CHECK(e);
    q = clCreateCommandQueue(ctx, dev, 0, &e);
    CHECK(e);
    set_clblast(own);
    for (int si = 0; si < ns; si++) {
        struct shape s = shapes[si];
        size_t na = (size_t)s.m * s.k, nb = (size_t)s.k * s.n, nc = (size_t)s.m * s.n;
        float *ha = malloc(na * 4), *hb = malloc(nb * 4), *ref = malloc(nc * 4), *got = malloc(nc * 4);
        srand(1);
        for (size_t i = 0; i < na; i++)
            ha[i] = rand() / (float)RAND_MAX - 0.5f;
        for (size_t i = 0; i < nb; i++)
            hb[i] = rand() / (float)RAND_MAX - 0.5f;
        struct run r = {.s = s};
        r.a = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, na * 4, ha, &e);
        r.b = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, nb * 4, hb, &e);
        r.c = clCreateBuffer(ctx, CL_MEM_READ_WRITE, nc * 4, NULL, &e);
        double flop = 2.0 * s.m * s.n * s.k;
        if (nv > 0) {
            double t = time_best(run_clblast, &r);
            printf("%4dx%4dx%4d ta=%d tb=%d  clblast%s %7.1f GFLOP/s\n", s.m, s.n, s.k, s.ta,
                   s.tb, own ? "(own)" : "(cpu)", flop / t * 1e-9);
        } else { /* only the reference */
            run_clblast(&r);
        }
        CHECK(clEnqueueReadBuffer(q, r.c, CL_TRUE, 0, nc * 4, ref, 0, NULL, NULL));
        for (int vi = 0; vi < nv; vi++) {
            r.nn = !s.tb;
            r.mr = opt_int(variants[vi], "GEMM_MR", 3);
            r.nr = r.nn ? 16 * opt_int(variants[vi], "GEMM_NV", 2) : opt_int(variants[vi], "GEMM_NR", 8);
            r.panel = opt_int(variants[vi], "GEMM_PANEL", 8);
            r.kern = build_kernel(variants[vi], r.nn ? "tc_sgemm_nn" : "tc_sgemm_nt");
            double tc = time_best(run_native, &r);
            double cpu_best = last_cpu_best;
            CHECK(clEnqueueReadBuffer(q, r.c, CL_TRUE, 0, nc * 4, got, 0, NULL, NULL));
            double d = 0, n2 = 0;
            for (size_t i = 0; i < nc; i++) {
                d += (got[i] - ref[i]) * (double)(got[i] - ref[i]);
                n2 += ref[i] * (double)ref[i];
            }
            printf("%4dx%4dx%4d ta=%d tb=%d  native %-40s %7.1f GFLOP/s, per CPU-s %6.1f  "
                   "relL2 %.1e\n",
                   s.m, s.n, s.k, s.ta, s.tb, variants[vi], flop / tc * 1e-9,
                   flop / cpu_best * 1e-9, sqrt(d / n2));
            fflush(stdout);
            clReleaseKernel(r.kern);
        }
        if (np > 0 && s.tb && !s.ta && s.n % 64 == 0) {
            float *hp = malloc(nb * 4);
            pack64(hb, s.n, s.k, hp);
            r.packed = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, nb * 4, hp, &e);
            CHECK(e);
            free(hp);
            cl_kernel kerns[32];
            struct run rs[32];
            for (int vi = 0; vi < np; vi++) {
                kerns[vi] = build_kernel(pvariants[vi], "tc_sgemm_packed");
                rs[vi] = r;
                rs[vi].kern = kerns[vi];
                rs[vi].mr = opt_int(pvariants[vi], "GEMM_MR", 6);
                rs[vi].nr = 16 * opt_int(pvariants[vi], "GEMM_PV", 4);
                rs[vi].panel = opt_int(pvariants[vi], "GEMM_PANEL", 2);
            }
            int alt = getenv("ALT") ? atoi(getenv("ALT")) : 3;
            double times[32][16], cpus[32][16];
            for (int a = 0; a < alt && a < 16; a++)
                for (int vi = 0; vi < np; vi++) {
                    times[vi][a] = time_best(run_packed, &rs[vi]);
                    cpus[vi][a] = last_cpu_best;
                }
            for (int vi = 0; vi < np; vi++) {
                run_packed(&rs[vi]);
                CHECK(clEnqueueReadBuffer(q, r.c, CL_TRUE, 0, nc * 4, got, 0, NULL, NULL));
                double d = 0, n2 = 0;
                for (size_t i = 0; i < nc; i++) {
                    d += (got[i] - ref[i]) * (double)(got[i] - ref[i]);
                    n2 += ref[i] * (double)ref[i];
                }
                int na_ = alt < 16 ? alt : 16;
                qsort(times[vi], na_, sizeof(double), cmp_double);
                qsort(cpus[vi], na_, sizeof(double), cmp_double);
                printf("%4dx%4dx%4d packed %-40s best %6.1f median %6.1f GFLOP/s, "
                       "per CPU-s %6.1f  relL2 %.1e\n",
                       s.m, s.n, s.k, pvariants[vi], flop / times[vi][0] * 1e-9,
                       flop / times[vi][na_ / 2] * 1e-9, flop / cpus[vi][na_ / 2] * 1e-9,
                       sqrt(d / n2));
                fflush(stdout);
                clReleaseKernel(kerns[vi]);
            }
            clReleaseMemObject(r.packed);
        }
        clReleaseMemObject(r.a);
        clReleaseMemObject(r.b);
        clReleaseMemObject(r.c);
        free(ha);
        free(hb);
        free(ref);
        free(got);
    }
    return 0;
}

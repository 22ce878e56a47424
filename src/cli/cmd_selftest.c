/*
 * terracl selftest: opens a device, runs one SGEMM through the library and
 * checks it against a plain C loop, so a user can see that a device works
 * before running models on it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli/cli.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double rel_l2(const float *got, const double *want, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - want[i];
        num += d * d;
        den += want[i] * want[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static const char k_usage[] = "usage: terracl selftest [--device D] [--gemm M,N,K]\n";
static const char k_help[] =
    "\nRuns one GEMM on a device and checks it against a plain C loop.\n"
    "  --device D         a device as in `terracl run --help`\n"
    "  --gemm M,N,K       the product's size (1..8192 each, default 197,768,768)\n"
    "  -h, --help         this text\n";

int tc_cmd_selftest(int argc, char **argv)
{
    if (tc_cli_wants_help(argc, argv)) {
        printf("%s%s", k_usage, k_help);
        return 0;
    }
    const char *device = NULL;
    size_t m = 197, n = 768, k = 768;
    for (int i = 0; i < argc; i++) {
        int missing = 0;
        const char *v;
        if ((v = tc_cli_option(argc, argv, &i, "--device", &missing)) != NULL) {
            device = v;
        } else if ((v = tc_cli_option(argc, argv, &i, "--gemm", &missing)) != NULL) {
            if (sscanf(v, "%zu,%zu,%zu", &m, &n, &k) != 3 || m == 0 || n == 0 || k == 0 ||
                m > 8192 || n > 8192 || k > 8192) {
                fprintf(stderr, "terracl selftest: --gemm expects M,N,K (1..8192), got '%s'\n", v);
                return 2;
            }
        } else {
            fprintf(stderr, "%s\n%s",
                    missing ? "terracl selftest: option needs a value" : "terracl selftest: unknown option",
                    k_usage);
            return 2;
        }
    }

    terracl_error err = {0};
    terracl_runtime *rt = NULL;
    struct terracl_runtime_params params = {0};
    params.device = device;
    terracl_status st = terracl_runtime_create(&params, &rt, &err);
    if (st != TERRACL_OK)
        return tc_cli_fail(&err, st);
    const struct terracl_device_info *info = terracl_runtime_device(rt);
    printf("device [%zu] %s (%s, %s)\n", info->index, info->name, info->type,
           info->driver_version);

    float *a = malloc(m * k * sizeof *a), *b = malloc(k * n * sizeof *b);
    float *c = calloc(m * n, sizeof *c);
    double *ref = calloc(m * n, sizeof *ref);
    int rc = 1;
    if (!a || !b || !c || !ref) {
        fprintf(stderr, "terracl: out of memory\n");
        goto out;
    }
    srand(1234);
    for (size_t i = 0; i < m * k; i++)
        a[i] = (float)rand() / RAND_MAX - 0.5f;
    for (size_t i = 0; i < k * n; i++)
        b[i] = (float)rand() / RAND_MAX - 0.5f;
    for (size_t i = 0; i < m; i++)
        for (size_t p = 0; p < k; p++) {
            double av = a[i * k + p];
            for (size_t j = 0; j < n; j++)
                ref[i * n + j] += av * b[p * n + j];
        }

    double t0 = now_s();
    st = terracl_sgemm_host(rt, 0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n, &err);
    double cold = now_s() - t0;
    if (st != TERRACL_OK) {
        rc = tc_cli_fail(&err, st);
        goto out;
    }
    t0 = now_s();
    st = terracl_sgemm_host(rt, 0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n, &err);
    double warm = now_s() - t0;
    if (st != TERRACL_OK) {
        rc = tc_cli_fail(&err, st);
        goto out;
    }
    double e = rel_l2(c, ref, m * n);
    double gflop = 2.0 * (double)m * (double)n * (double)k * 1e-9;
    printf("sgemm %zux%zux%zu: relative L2 error %.2e vs a C reference: %s\n", m, n, k, e,
           e <= 1e-5 ? "verified" : "WRONG");
    printf("  first call %.3f s (includes kernel build), second call %.4f s (%.1f GFLOP/s "
           "including host transfers)\n",
           cold, warm, gflop / warm);
    rc = e <= 1e-5 ? 0 : 1;
    if (rc)
        fprintf(stderr, "terracl: GEMM result on this device does not match the reference\n");
out:
    free(a);
    free(b);
    free(c);
    free(ref);
    terracl_runtime_destroy(rt);
    return rc;
}

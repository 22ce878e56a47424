/*
 * bench_ab: one model under two kernel folders in one process, runs
 * alternating (A B, B A, A B, ...), device time per kernel launch shape
 * and per operation for each. Comparing kernel changes across processes
 * on a shared machine mixes in each process's luck (the same binary
 * measures up to 2x apart from process to process here); within one
 * process, interleaved, both sides see the same conditions.
 *
 *   build/bench/bench_ab --config C.yaml [--a DIR] [--b DIR] [--a-native P]
 *                        [--b-native P] [--rounds N] [--size S] [--chans C]
 *                        [--frames T] [--filter S] [--device D]
 *
 * DIR: a kernel folder (default: the built-in kernels). P: native
 * parameters for that side, as `terracl tune` stores them ("packed_kc=0
 * conv_block_kib=256 conv_tile=2"), forced as the tuner
 * forces its candidates: a host-side choice compared the same way.
 *
 * Weights are random (timings only). Prints, per kernel shape and per
 * operation whose name or shape contains the filter, the median device
 * ms per run under A and under B and B's time over A's, slowest first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"
#include "cli/pin_workers.h"

#include "runtime/gemm_params.h"
#include "terracl/terracl.h"

#define MAX_ROUNDS 64
#define MAX_KEYS 512

struct key_times {
    char name[170];
    double ms[2][MAX_ROUNDS];
    int n[2];
};

struct side {
    terracl_runtime *rt;
    terracl_model *model;
};

static double median(double *v, int n)
{
    if (n == 0)
        return 0.0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static struct key_times *find_key(struct key_times *keys, int *nkeys, const char *name)
{
    for (int i = 0; i < *nkeys; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    if (*nkeys == MAX_KEYS)
        return NULL;
    struct key_times *k = &keys[(*nkeys)++];
    memset(k, 0, sizeof *k);
    snprintf(k->name, sizeof k->name, "%s", name);
    return k;
}

/* Adds one run's rows (kernels or operations) of side s to keys. */
static void record(struct key_times *keys, int *nkeys, const struct terracl_profile_row *rows,
                   size_t count, int s)
{
    for (size_t i = 0; i < count; i++) {
        char name[170];
        snprintf(name, sizeof name, "%-28.63s %.95s", rows[i].kernel, rows[i].variant);
        struct key_times *k = find_key(keys, nkeys, name);
        if (k != NULL && k->n[s] < MAX_ROUNDS)
            k->ms[s][k->n[s]++] = rows[i].device_ms;
    }
}

static int by_a_desc(const void *a, const void *b)
{
    const struct key_times *x = a, *y = b;
    double mx = x->n[0] ? x->ms[0][x->n[0] / 2] : 0, my = y->n[0] ? y->ms[0][y->n[0] / 2] : 0;
    return (mx < my) - (mx > my);
}

static void report(const char *title, struct key_times *keys, int nkeys, const char *filter)
{
    for (int i = 0; i < nkeys; i++)
        for (int s = 0; s < 2; s++)
            qsort(keys[i].ms[s], (size_t)keys[i].n[s], sizeof(double), cmp_double);
    qsort(keys, (size_t)nkeys, sizeof *keys, by_a_desc);
    printf("%s (median device ms per run):\n%10s %10s %7s  %s\n", title, "A", "B", "B/A", "name");
    for (int i = 0; i < nkeys; i++) {
        if (filter != NULL && strstr(keys[i].name, filter) == NULL)
            continue;
        double a = median(keys[i].ms[0], keys[i].n[0]), b = median(keys[i].ms[1], keys[i].n[1]);
        printf("%10.3f %10.3f %7.3f  %s\n", a, b, a > 0 ? b / a : 0.0, keys[i].name);
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_ab --config C.yaml [--a DIR] [--b DIR] [--a-native P] "
                    "[--b-native P] [--rounds N] [--size S] [--chans C] [--frames T] "
                    "[--filter S] [--device D]\n");
}

int main(int argc, char **argv)
{
    bench_note_pinned(tc_pin_driver_threads());
    const char *config = NULL, *dir[2] = {NULL, NULL}, *native[2] = {NULL, NULL};
    const char *filter = NULL, *device = "cpu";
    long rounds = 8, size = 224, chans = 6, frames = 1;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL) {
            usage();
            return 2;
        }
        if (strcmp(argv[i], "--config") == 0)
            config = v;
        else if (strcmp(argv[i], "--a") == 0)
            dir[0] = v;
        else if (strcmp(argv[i], "--b") == 0)
            dir[1] = v;
        else if (strcmp(argv[i], "--a-native") == 0)
            native[0] = v;
        else if (strcmp(argv[i], "--b-native") == 0)
            native[1] = v;
        else if (strcmp(argv[i], "--filter") == 0)
            filter = v;
        else if (strcmp(argv[i], "--device") == 0)
            device = v;
        else if (strcmp(argv[i], "--rounds") == 0)
            rounds = strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--size") == 0)
            size = strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--chans") == 0)
            chans = strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--frames") == 0)
            frames = strtol(v, NULL, 10);
        else {
            usage();
            return 2;
        }
        i++;
    }
    if (config == NULL || rounds < 1 ||
        rounds > MAX_ROUNDS || size < 1 || size > 4096 || chans < 1 || chans > 1024 ||
        frames < 1 || frames > 64) {
        usage();
        return 2;
    }

    terracl_error err = {0};
    struct side sides[2] = {{0}};
    int rc = 1;
    const char *label[2];
    for (int s = 0; s < 2; s++) {
        label[s] = native[s] ? native[s] : dir[s] ? dir[s] : "built-in kernels";
        struct terracl_runtime_params p = {.device = device, .kernel_dir = dir[s], .profile = 1};
        struct tc_native_params np;
        if (native[s] && !tc_native_parse(native[s], &np)) {
            fprintf(stderr, "bench_ab: native parameters \"%s\" not understood\n", native[s]);
            goto out;
        }
        if (terracl_runtime_create(&p, &sides[s].rt, &err) != TERRACL_OK) {
            fprintf(stderr, "bench_ab: %s: %s\n", label[s], err.message);
            goto out;
        }
        if (native[s])
            tc_native_force(sides[s].rt, &np);
        if (terracl_model_load_random(sides[s].rt, config, &sides[s].model, &err) != TERRACL_OK) {
            fprintf(stderr, "bench_ab: %s: %s\n", label[s], err.message);
            goto out;
        }
    }

    size_t n = (size_t)(chans * frames * size * size);
    float *image = malloc(n * sizeof *image);
    static struct key_times kernels[MAX_KEYS], ops[MAX_KEYS];
    int nkernels = 0, nops = 0;
    double wall[2][MAX_ROUNDS];
    if (image == NULL) {
        fprintf(stderr, "bench_ab: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        image[i] = (float)((i * 2654435761u) >> 8 & 0xffff) / 65536.0f - 0.5f;
    struct terracl_inputs in = {0};
    in.image.data = image;
    if (frames == 1) {
        in.image.ndim = 4;
        int64_t d[4] = {1, chans, size, size};
        memcpy(in.image.dims, d, sizeof d);
    } else {
        in.image.ndim = 5;
        int64_t d[5] = {1, chans, frames, size, size};
        memcpy(in.image.dims, d, sizeof d);
    }

    static struct terracl_profile_row rows[256];
    /* Round 0 warms both sides up (kernel builds) and is not kept. */
    for (long r = 0; r <= rounds; r++) {
        for (int j = 0; j < 2; j++) {
            int s = (int)(r % 2 ? 1 - j : j);
            struct terracl_tensor out = {0};
            terracl_runtime_profile_reset(sides[s].rt);
            double t0 = now_ms();
            if (terracl_model_run(sides[s].model, &in, &out, &err) != TERRACL_OK) {
                fprintf(stderr, "bench_ab: %s: %s\n", label[s], err.message);
                free(image);
                goto out;
            }
            double t = now_ms() - t0;
            free(out.data);
            if (r == 0)
                continue;
            wall[s][r - 1] = t;
            size_t count = 0;
            if (terracl_runtime_profile(sides[s].rt, rows, 256, &count, &err) == TERRACL_OK)
                record(kernels, &nkernels, rows, count < 256 ? count : 256, s);
            if (terracl_runtime_profile_ops(sides[s].rt, rows, 256, &count, &err) == TERRACL_OK)
                record(ops, &nops, rows, count < 256 ? count : 256, s);
        }
    }
    free(image);
    printf("A = %s\nB = %s\nwall ms per run, median of %ld: A %.2f  B %.2f  B/A %.3f\n\n", label[0],
           label[1], rounds, median(wall[0], (int)rounds), median(wall[1], (int)rounds),
           median(wall[1], (int)rounds) / median(wall[0], (int)rounds));
    report("by kernel", kernels, nkernels, filter);
    printf("\n");
    report("by operation", ops, nops, filter);
    rc = 0;
out:
    for (int s = 0; s < 2; s++) {
        terracl_model_destroy(sides[s].model);
        if (sides[s].rt)
            terracl_runtime_destroy(sides[s].rt);
    }
    return rc;
}

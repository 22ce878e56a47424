/*
 * terracl bench: times backbones, whole models and single GEMMs on one or
 * every device.
 *
 *   terracl bench --backbone NAME [--frames T] [--size S] [--batch B] [--repeat N]
 *   terracl bench --config C.yaml [--weights W.h5] [--size S] [--batch B] [--repeat N]
 *   terracl bench --gemm M,N,K [--repeat N]
 *   common: [--device D|all] [--format table|csv|json] [--profile]
 *
 * Each run is timed on the host's monotonic clock around a call that ends
 * with the queue finished (model runs read their output back; GEMMs call
 * clFinish), so every kernel is counted. "cold" is the first run, with
 * kernel builds (which PoCL and terracl cache on disk across processes);
 * "warm" figures come from the following runs. Work (gflop) is what the
 * GEMMs of one run issue. Models run with random weights unless --weights
 * is given; the note goes to stderr and into the record. --profile adds
 * device time per kernel and GEMM shape over the warm runs (OpenCL
 * profiling events, which cost a little per launch), per run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/pin_workers.h"
#include "graph/module.h"
#include "io/yaml_config.h"
#include "models/backbones/torchgeo.h"
#include "models/model_internal.h"
#include "runtime/runtime.h"

struct bench_opts {
    const char *backbone, *config, *weights, *device, *format;
    int64_t frames, size, batch, repeat;
    size_t gm, gn, gk;
    int gemm, profile;
};

#define BENCH_PROFILE_ROWS 64

struct bench_result {
    char device[256];
    char model[512];
    int64_t batch, frames, size;
    double cold_ms, warm_median_ms, warm_min_ms, gflop, peak_bytes, weight_bytes;
    int random_weights;
    struct terracl_profile_row profile[BENCH_PROFILE_ROWS];
    size_t nprofile; /* rows in profile; device_ms there is per warm run */
    struct terracl_profile_row ops[BENCH_PROFILE_ROWS]; /* the same by operation */
    size_t nops;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void fill_random(float *x, size_t n, uint32_t seed)
{
    uint32_t s = seed * 2654435761u + 1u;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        x[i] = (float)(s >> 8) / (float)(1u << 24) - 0.5f;
    }
}

/* The backbone-only config a user would write for --backbone. */
static terracl_value *backbone_config(const struct bench_opts *o)
{
    terracl_value *root = terracl_value_new_map(), *args = terracl_value_new_map();
    if (root == NULL || args == NULL) {
        terracl_value_free(root);
        terracl_value_free(args);
        return NULL;
    }
    terracl_status st = terracl_value_map_set(args, "backbone", terracl_value_new_string(o->backbone), NULL);
    if (st == TERRACL_OK)
        st = terracl_value_map_set(args, "backbone_num_frames", terracl_value_new_int(o->frames), NULL);
    if (st == TERRACL_OK && o->size > 0)
        st = terracl_value_map_set(args, "backbone_img_size", terracl_value_new_int(o->size), NULL);
    /* TerraTorch's torchgeo backbones have no default bands: time them with
     * the bands of their pretrained weights, as `terracl info` shows them. */
    char bands[512];
    if (st == TERRACL_OK && tc_torchgeo_example_bands(o->backbone, bands, sizeof bands)) {
        terracl_value *list = NULL;
        terracl_error err = {0};
        st = tc_yaml_parse(bands, strlen(bands), "model_bands", &list, &err);
        if (st == TERRACL_OK)
            st = terracl_value_map_set(args, "backbone_model_bands", list, NULL);
    }
    if (st == TERRACL_OK)
        st = terracl_value_map_set(root, "model_factory", terracl_value_new_string("EncoderDecoderFactory"), NULL);
    if (st == TERRACL_OK)
        st = terracl_value_map_set(root, "model_args", args, NULL);
    else
        terracl_value_free(args);
    if (st != TERRACL_OK) {
        terracl_value_free(root);
        return NULL;
    }
    return root;
}

/* Looks up an int setting of the backbone (root or its "encoder" child). */
static int64_t backbone_setting(const terracl_module *root, const char *key, int64_t def)
{
    const terracl_module *bb = root;
    for (size_t i = 0; i < root->nchildren; i++)
        if (strcmp(root->children[i].name, "encoder") == 0)
            bb = root->children[i].module;
    const terracl_value *cfg = terracl_module_config(bb);
    const terracl_value *v = cfg ? terracl_value_map_peek(cfg, key) : NULL;
    if (v && terracl_value_type_of(v) == TERRACL_VALUE_INT)
        return terracl_value_int(v);
    if (v && terracl_value_type_of(v) == TERRACL_VALUE_LIST && terracl_value_list_size(v) > 0 &&
        terracl_value_type_of(terracl_value_list_get(v, 0)) == TERRACL_VALUE_INT)
        return terracl_value_int(terracl_value_list_get(v, 0));
    return def;
}

/* Rows of one profile table, made per warm run. */
static size_t per_run(struct terracl_profile_row *rows, size_t total, const struct bench_opts *o)
{
    size_t n = total < BENCH_PROFILE_ROWS ? total : BENCH_PROFILE_ROWS;
    for (size_t i = 0; i < n; i++) {
        rows[i].device_ms /= (double)o->repeat;
        rows[i].flops /= (uint64_t)o->repeat;
    }
    return n;
}

/* Per-run device time per kernel and per operation over the warm runs,
 * when --profile. */
static terracl_status collect_profile(terracl_runtime *rt, const struct bench_opts *o,
                                      struct bench_result *r, terracl_error *err)
{
    if (!o->profile)
        return TERRACL_OK;
    size_t kernels = 0, ops = 0;
    terracl_status st = terracl_runtime_profile(rt, r->profile, BENCH_PROFILE_ROWS, &kernels, err);
    if (st == TERRACL_OK)
        st = terracl_runtime_profile_ops(rt, r->ops, BENCH_PROFILE_ROWS, &ops, err);
    if (st != TERRACL_OK)
        return st;
    r->nprofile = per_run(r->profile, kernels, o);
    r->nops = per_run(r->ops, ops, o);
    return TERRACL_OK;
}

static terracl_status bench_model(terracl_runtime *rt, const struct bench_opts *o,
                                  struct bench_result *r, terracl_error *err)
{
    terracl_model *model = NULL;
    terracl_status st;
    if (o->backbone) {
        terracl_value *cfg = backbone_config(o);
        if (cfg == NULL)
            return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        st = tc_model_from_value(rt, cfg, &model, err);
        snprintf(r->model, sizeof r->model, "%s", o->backbone);
    } else if (o->weights) {
        st = terracl_model_load(rt, o->config, o->weights, &model, err);
        snprintf(r->model, sizeof r->model, "%s", o->config);
    } else {
        st = terracl_model_load_random(rt, o->config, &model, err);
        snprintf(r->model, sizeof r->model, "%s", o->config);
    }
    if (st != TERRACL_OK)
        return st;
    r->random_weights = o->weights == NULL;
    r->weight_bytes = (double)terracl_model_weight_bytes(model);

    const terracl_module *root = terracl_model_module(model);
    int64_t chans = backbone_setting(root, "in_chans", 6);
    int64_t frames = o->backbone ? o->frames : backbone_setting(root, "num_frames", 1);
    int64_t size = o->size > 0 ? o->size : backbone_setting(root, "img_size", 224);
    r->batch = o->batch;
    r->frames = frames;
    r->size = size;

    struct terracl_inputs in = {0};
    size_t n = (size_t)(o->batch * chans * frames * size * size);
    float *image = malloc(n * sizeof *image);
    float *tco = malloc((size_t)(o->batch * frames * 2) * sizeof *tco);
    float *lco = malloc((size_t)(o->batch * 2) * sizeof *lco);
    double *warm = calloc((size_t)o->repeat, sizeof *warm);
    if (image == NULL || tco == NULL || lco == NULL || warm == NULL) {
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for the benchmark input");
        goto out;
    }
    fill_random(image, n, 7);
    in.image.data = image;
    if (frames == 1) {
        in.image.ndim = 4;
        int64_t d[4] = {o->batch, chans, size, size};
        memcpy(in.image.dims, d, sizeof d);
    } else {
        in.image.ndim = 5;
        int64_t d[5] = {o->batch, chans, frames, size, size};
        memcpy(in.image.dims, d, sizeof d);
    }
    /* Coordinates for the _tl models (ignored by the others). */
    for (int64_t i = 0; i < o->batch * frames; i++) {
        tco[2 * i] = 2020.0f + (float)(i % 4);
        tco[2 * i + 1] = 100.0f + (float)i;
    }
    for (int64_t i = 0; i < o->batch; i++) {
        lco[2 * i] = 47.3f;
        lco[2 * i + 1] = 8.5f;
    }
    in.temporal_coords = (struct terracl_tensor){tco, 3, {o->batch, frames, 2}};
    in.location_coords = (struct terracl_tensor){lco, 2, {o->batch, 2}};

    struct terracl_tensor out = {0};
    terracl_runtime_reset_peak(rt);
    double t0 = now_ms();
    st = terracl_model_run(model, &in, &out, err);
    r->cold_ms = now_ms() - t0;
    free(out.data);
    terracl_runtime_profile_reset(rt);
    for (int64_t i = 0; st == TERRACL_OK && i < o->repeat; i++) {
        uint64_t f0 = terracl_runtime_flops(rt);
        t0 = now_ms();
        st = terracl_model_run(model, &in, &out, err);
        warm[i] = now_ms() - t0;
        r->gflop = (double)(terracl_runtime_flops(rt) - f0) * 1e-9;
        free(out.data);
        out.data = NULL;
    }
    if (st == TERRACL_OK) {
        qsort(warm, (size_t)o->repeat, sizeof *warm, cmp_double);
        r->warm_min_ms = warm[0];
        r->warm_median_ms = o->repeat % 2 ? warm[o->repeat / 2]
                                          : 0.5 * (warm[o->repeat / 2 - 1] + warm[o->repeat / 2]);
        uint64_t peak = 0;
        terracl_runtime_memory(rt, NULL, &peak);
        r->peak_bytes = (double)peak;
        st = collect_profile(rt, o, r, err);
    }
out:
    free(image);
    free(tco);
    free(lco);
    free(warm);
    terracl_model_destroy(model);
    return st;
}

static terracl_status bench_gemm(terracl_runtime *rt, const struct bench_opts *o,
                                 struct bench_result *r, terracl_error *err)
{
    size_t m = o->gm, n = o->gn, k = o->gk;
    snprintf(r->model, sizeof r->model, "%zux%zux%zu", m, n, k);
    struct tc_buf *a = NULL, *b = NULL, *c = NULL;
    float *host = malloc((m > n ? m : n) * k * sizeof *host);
    double *warm = calloc((size_t)o->repeat, sizeof *warm);
    terracl_status st = host && warm ? TERRACL_OK : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    terracl_runtime_reset_peak(rt);
    if (st == TERRACL_OK)
        st = tc_buf_create(rt, m * k * sizeof(float), &a, err);
    if (st == TERRACL_OK)
        st = tc_buf_create(rt, k * n * sizeof(float), &b, err);
    if (st == TERRACL_OK)
        st = tc_buf_create(rt, m * n * sizeof(float), &c, err);
    if (st == TERRACL_OK) {
        fill_random(host, m * k, 1);
        st = tc_buf_write(rt, a, 0, host, m * k * sizeof(float), err);
    }
    if (st == TERRACL_OK) {
        fill_random(host, k * n, 2);
        st = tc_buf_write(rt, b, 0, host, k * n * sizeof(float), err);
    }
    for (int64_t i = -1; st == TERRACL_OK && i < o->repeat; i++) {
        double t0 = now_ms();
        st = tc_sgemm(rt, 0, 0, m, n, k, 1.0f, (struct tc_matrix){a, 0, k}, (struct tc_matrix){b, 0, n},
                      0.0f, (struct tc_matrix){c, 0, n}, err);
        if (st == TERRACL_OK)
            st = terracl_runtime_finish(rt, err);
        double dt = now_ms() - t0;
        if (i < 0) {
            r->cold_ms = dt;
            terracl_runtime_profile_reset(rt);
        } else {
            warm[i] = dt;
        }
    }
    if (st == TERRACL_OK) {
        qsort(warm, (size_t)o->repeat, sizeof *warm, cmp_double);
        r->warm_min_ms = warm[0];
        r->warm_median_ms = o->repeat % 2 ? warm[o->repeat / 2]
                                          : 0.5 * (warm[o->repeat / 2 - 1] + warm[o->repeat / 2]);
        r->gflop = 2.0 * (double)m * (double)n * (double)k * 1e-9;
        uint64_t peak = 0;
        terracl_runtime_memory(rt, NULL, &peak);
        r->peak_bytes = (double)peak;
        r->batch = 1;
        st = collect_profile(rt, o, r, err);
    }
    tc_buf_destroy(a);
    tc_buf_destroy(b);
    tc_buf_destroy(c);
    free(host);
    free(warm);
    return st;
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

/* One profile table: `total` is what the percentages are of. */
static void print_profile_rows(FILE *f, const struct bench_opts *o,
                               const struct terracl_profile_row *rows, size_t n, double total,
                               const char *count, const char *name, const char *variant)
{
    fprintf(f, "  %10s %6s %9s %8s  %-28s %s\n", "ms", "%", count, "GFLOP/s", name, variant);
    for (size_t i = 0; i < n; i++) {
        const struct terracl_profile_row *p = &rows[i];
        char rate[16] = "-";
        if (p->flops > 0 && p->device_ms > 0)
            snprintf(rate, sizeof rate, "%.1f", (double)p->flops * 1e-6 / p->device_ms);
        fprintf(f, "  %10.3f %6.1f %9.1f %8s  %-28s %s\n", p->device_ms,
                total > 0 ? 100.0 * p->device_ms / total : 0.0,
                (double)p->launches / (double)o->repeat, rate, p->kernel, p->variant);
    }
}

static void print_profile(FILE *f, const struct bench_opts *o, const struct bench_result *r)
{
    double total = 0.0;
    for (size_t i = 0; i < r->nprofile; i++)
        total += r->profile[i].device_ms;
    fprintf(f, "  device time per run by kernel (%s), %.2f ms in all:\n", r->device, total);
    print_profile_rows(f, o, r->profile, r->nprofile, total, "launches", "kernel", "variant");
    if (r->nops == 0)
        return;
    /* The same time by layer: every kernel of a convolution (copies,
     * Winograd transforms, GEMMs) under its shape, at the model's
     * arithmetic (a direct convolution's, where Winograd executes less). */
    fprintf(f, "  the same by operation (GFLOP/s of the model's arithmetic; %% of the %.2f ms):\n",
            total);
    print_profile_rows(f, o, r->ops, r->nops, total, "calls", "operation", "shape");
}

/* JSON keys of a profile table's fields: name, variant, count, flops. */
static const char *const k_kernel_keys[4] = {"kernel", "variant", "launches_per_run",
                                             "flops_per_run"};
static const char *const k_operation_keys[4] = {"operation", "shape", "calls_per_run",
                                                "model_flops_per_run"};

static void json_profile_rows(const struct bench_opts *o, const struct terracl_profile_row *rows,
                              size_t n, const char *const keys[4])
{
    putchar('[');
    for (size_t i = 0; i < n; i++) {
        printf("%s{\"%s\": ", i ? ", " : "", keys[0]);
        json_string(rows[i].kernel);
        printf(", \"%s\": ", keys[1]);
        json_string(rows[i].variant);
        printf(", \"%s\": %.2f, \"device_ms_per_run\": %.4f, \"%s\": %llu}", keys[2],
               (double)rows[i].launches / (double)o->repeat, rows[i].device_ms, keys[3],
               (unsigned long long)rows[i].flops);
    }
    putchar(']');
}

/* `index` counts the results printed so far; a list (several devices) is
 * opened before the first and closed by the caller. */
static void print_result(const struct bench_opts *o, const struct bench_result *r, int index,
                         int count)
{
    double gflops = r->warm_median_ms > 0 ? r->gflop / (r->warm_median_ms * 1e-3) : 0;
    if (strcmp(o->format, "json") == 0) {
        printf("%s{\"device\": ", count > 1 ? (index == 0 ? "[" : ",\n") : "");
        json_string(r->device);
        printf(", \"%s\": ", o->gemm ? "gemm" : "model");
        json_string(r->model);
        printf(", \"batch\": %lld, \"frames\": %lld, \"size\": %lld, \"cold_ms\": %.3f, "
               "\"warm_ms_median\": %.3f, \"warm_ms_min\": %.3f, \"gflop\": %.4f, \"gflops\": %.2f, "
               "\"peak_device_bytes\": %.0f, \"repeat\": %lld",
               (long long)r->batch, (long long)r->frames, (long long)r->size, r->cold_ms,
               r->warm_median_ms, r->warm_min_ms, r->gflop, gflops, r->peak_bytes,
               (long long)o->repeat);
        if (!o->gemm)
            printf(", \"weight_bytes\": %.0f, \"random_weights\": %s", r->weight_bytes,
                   r->random_weights ? "true" : "false");
        if (o->profile) {
            printf(", \"profile\": ");
            json_profile_rows(o, r->profile, r->nprofile, k_kernel_keys);
            printf(", \"operations\": ");
            json_profile_rows(o, r->ops, r->nops, k_operation_keys);
        }
        printf("}%s", count > 1 ? "" : "\n");
    } else if (strcmp(o->format, "csv") == 0) {
        if (index == 0)
            printf("device,%s,batch,frames,size,cold_ms,warm_ms_median,warm_ms_min,gflop,gflops,"
                   "peak_device_bytes\n",
                   o->gemm ? "gemm" : "model");
        printf("\"%s\",%s,%lld,%lld,%lld,%.3f,%.3f,%.3f,%.4f,%.2f,%.0f\n", r->device, r->model,
               (long long)r->batch, (long long)r->frames, (long long)r->size, r->cold_ms,
               r->warm_median_ms, r->warm_min_ms, r->gflop, gflops, r->peak_bytes);
    } else {
        if (index == 0)
            printf("%-40s %-24s %5s %6s %5s %10s %10s %10s %9s %9s %10s\n", "device",
                   o->gemm ? "gemm" : "model", "batch", "frames", "size", "cold_ms", "warm_med",
                   "warm_min", "gflop", "gflops", "peak_MiB");
        printf("%-40.40s %-24.24s %5lld %6lld %5lld %10.1f %10.2f %10.2f %9.3f %9.1f %10.1f\n",
               r->device, r->model, (long long)r->batch, (long long)r->frames, (long long)r->size,
               r->cold_ms, r->warm_median_ms, r->warm_min_ms, r->gflop, gflops,
               r->peak_bytes / (1 << 20));
    }
    /* JSON carries the profile; the other formats get a table after the
     * result (on stderr for CSV, which stays one kind of row). */
    if (o->profile && strcmp(o->format, "json") != 0)
        print_profile(strcmp(o->format, "csv") == 0 ? stderr : stdout, o, r);
    fflush(stdout);
}

static const char k_usage[] =
    "usage: terracl bench (--backbone NAME [--frames T] | --config C.yaml [--weights W] | "
    "--gemm M,N,K)\n"
    "                     [--size S] [--batch B] [--repeat N] [--device D|all] "
    "[--format table|csv|json]\n"
    "                     [--profile]\n";
static const char k_help[] =
    "\nTimes a backbone, a whole model or one GEMM (cold = first run, warm = the others).\n"
    "  --backbone NAME    a registered backbone (`terracl list backbones`), random weights\n"
    "  --frames T         frames for --backbone (1..64, default 1)\n"
    "  --config C.yaml    a whole model from a TerraTorch config\n"
    "  --weights W.h5     its checkpoint (default: random weights, timings only)\n"
    "  --gemm M,N,K       one row-major M x N x K product (1..65536 each)\n"
    "  --size S           input height and width (1..8192, default: the model's img_size)\n"
    "  --batch B          batch size (1..1024, default 1)\n"
    "  --repeat N         warm runs (1..100000, default 5)\n"
    "  --device D|all     a device as in `terracl run --help`, or every device\n"
    "  --format F         table (default), csv or json\n"
    "  --profile          device time per kernel and GEMM shape over the warm runs,\n"
    "                     then per convolution layer shape at the model's arithmetic\n"
    "  -h, --help         this text\n";

static int usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "terracl bench: %s\n", msg);
    fputs(k_usage, stderr);
    return 2;
}

static int parse_int(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
    char *end = NULL;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end != '\0' || x < lo || x > hi)
        return 0;
    *out = x;
    return 1;
}

int tc_cmd_bench(int argc, char **argv)
{
    if (tc_cli_wants_help(argc, argv)) {
        printf("%s%s", k_usage, k_help);
        return 0;
    }
    struct bench_opts o = {0};
    o.format = "table";
    o.frames = 1;
    o.batch = 1;
    o.repeat = 5;
    for (int i = 0; i < argc; i++) {
        int missing = 0;
        const char *v;
        if ((v = tc_cli_option(argc, argv, &i, "--backbone", &missing)))
            o.backbone = v;
        else if ((v = tc_cli_option(argc, argv, &i, "--config", &missing)))
            o.config = v;
        else if ((v = tc_cli_option(argc, argv, &i, "--weights", &missing)))
            o.weights = v;
        else if ((v = tc_cli_option(argc, argv, &i, "--device", &missing)))
            o.device = v;
        else if ((v = tc_cli_option(argc, argv, &i, "--format", &missing)))
            o.format = v;
        else if (strcmp(argv[i], "--profile") == 0)
            o.profile = 1;
        else if ((v = tc_cli_option(argc, argv, &i, "--frames", &missing))) {
            if (!parse_int(v, 1, 64, &o.frames))
                return usage("--frames expects 1..64");
        } else if ((v = tc_cli_option(argc, argv, &i, "--size", &missing))) {
            if (!parse_int(v, 1, 8192, &o.size))
                return usage("--size expects 1..8192");
        } else if ((v = tc_cli_option(argc, argv, &i, "--batch", &missing))) {
            if (!parse_int(v, 1, 1024, &o.batch))
                return usage("--batch expects 1..1024");
        } else if ((v = tc_cli_option(argc, argv, &i, "--repeat", &missing))) {
            if (!parse_int(v, 1, 100000, &o.repeat))
                return usage("--repeat expects 1..100000");
        } else if ((v = tc_cli_option(argc, argv, &i, "--gemm", &missing))) {
            if (sscanf(v, "%zu,%zu,%zu", &o.gm, &o.gn, &o.gk) != 3 || !o.gm || !o.gn || !o.gk ||
                o.gm > 65536 || o.gn > 65536 || o.gk > 65536)
                return usage("--gemm expects M,N,K (1..65536 each)");
            o.gemm = 1;
        } else {
            fprintf(stderr, "terracl bench: %s '%s'\n", missing ? "missing value for" : "unknown argument",
                    argv[i]);
            return usage(NULL);
        }
    }
    if ((o.backbone != NULL) + (o.config != NULL) + o.gemm != 1)
        return usage("give exactly one of --backbone, --config, --gemm");
    if (strcmp(o.format, "table") && strcmp(o.format, "csv") && strcmp(o.format, "json"))
        return usage("--format expects table, csv or json");

    terracl_error err = {0};
    /* One GEMM is timed one call at a time: PoCL's workers pinned, or a run
     * of calls may come out at half speed (cli/pin_workers.h). A model
     * keeps the queue full and runs as `terracl run` does, unpinned. */
    if (o.gemm)
        tc_pin_driver_threads();
    size_t first = 0, count = 1;
    if (o.device != NULL && strcmp(o.device, "all") == 0) {
        terracl_status st = terracl_device_count(&count, &err);
        if (st != TERRACL_OK)
            return tc_cli_fail(&err, st);
        if (count == 0) {
            st = terracl_device_select(NULL, &first, &err);
            return tc_cli_fail(&err, st);
        }
    } else {
        terracl_status st = terracl_device_select(o.device ? o.device : getenv("TERRACL_DEVICE"), &first, &err);
        if (st != TERRACL_OK)
            return tc_cli_fail(&err, st);
    }
    if (!o.gemm && o.weights == NULL)
        fprintf(stderr, "terracl bench: note: random weights (timings only; outputs are meaningless)\n");

    int rc = 0, printed = 0;
    for (size_t d = 0; d < count; d++) {
        char selector[32];
        snprintf(selector, sizeof selector, "%zu", count > 1 ? d : first);
        struct terracl_runtime_params params = {0};
        params.device = selector;
        params.profile = o.profile;
        terracl_runtime *rt = NULL;
        static struct bench_result r; /* large (the profile); one device at a time */
        memset(&r, 0, sizeof r);
        terracl_status st = terracl_runtime_create(&params, &rt, &err);
        if (st == TERRACL_OK) {
            snprintf(r.device, sizeof r.device, "%s", terracl_runtime_device(rt)->name);
            st = o.gemm ? bench_gemm(rt, &o, &r, &err) : bench_model(rt, &o, &r, &err);
        }
        terracl_runtime_destroy(rt);
        if (st != TERRACL_OK) {
            rc = tc_cli_fail(&err, st);
            continue;
        }
        print_result(&o, &r, printed++, (int)count);
    }
    /* Several devices make a JSON list, valid even when some failed. */
    if (strcmp(o.format, "json") == 0 && count > 1)
        printf("%s]\n", printed ? "" : "[");
    return rc;
}

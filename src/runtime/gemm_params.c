/* Tuned GEMM parameter tables: defaults, the per-device file, selection. */
#include "runtime/gemm_params.h"

#include <clblast_c.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sha256.h"
#include "runtime/cl_internal.h"

const char *const tc_xgemm_param_names[TC_XGEMM_NPARAMS] = {
    "GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
    "NDIMC", "NWG",  "SA",  "SB",  "STRM",  "STRN",  "VWM", "VWN",
};
enum { P_GEMMK, P_KREG, P_KWG, P_KWI, P_MDIMA, P_MDIMC, P_MWG, P_NDIMB,
       P_NDIMC, P_NWG, P_SA, P_SB, P_STRM, P_STRN, P_VWM, P_VWN };

/* PoCL on x86 CPUs: found by a search on a 2-core AVX-512 machine, several
 * times faster than CLBlast's own parameters on the ViT shapes. (CPU devices
 * normally run terracl's own GEMM kernels; this set serves the shapes those
 * do not take and TERRACL_GEMM=clblast.) */
static const struct tc_gemm_set k_cpu_default = {
    {0, 1, 64, 8, 2, 2, 32, 1, 1, 16, 0, 0, 1, 0, 16, 8}, 1};

/* Bounds on what a tuned file may hold: far above any real kernel
 * parameter, low enough that no product of them in tc_gemm_set_valid can
 * wrap to zero (and divide by it). */
#define TC_XGEMM_MAX_PARAM 4096u
#define TC_MAX_MIN_INDIRECT ((size_t)1 << 20)
#define TC_MAX_TUNED_DIM ((size_t)1 << 24)

#define MAX_SHAPES 128

struct tuned_entry {
    struct tc_gemm_shape shape;
    struct tc_gemm_set set;
    double gflops;
};

struct tc_gemm_table {
    const struct tc_gemm_set *type_default;
    int has_default;
    struct tc_gemm_set tuned_default;
    struct tuned_entry entries[MAX_SHAPES];
    size_t n;
    int from_file;
    int has_native;
    struct tc_native_params native;
};

/* The panel kernel for packed Linear weights, and 256 KiB strips for the
 * implicit convolution: what the 2-core AVX-512 machine ran with when the
 * K-blocked kernel and other blocks measured within the noise of these.
 * Packed 1x1 convolutions on large maps sum 512 input channels per launch
 * (tc_sgemm_packed_a in gemm_pocl.c, where the measurements are). */
const struct tc_native_params tc_native_default = {0, 256, 0, 512, 512, 0};

/* Intel Xeon parts: the same, but 1x1 sums in blocks of 256. Measured on an
 * Emerald Rapids part (2 cores, 2 MiB L2 each, reading 8 MiB at about
 * 44 GB/s from its L3, against 290-390 on the AMD part above), where
 * `terracl tune` picked 256 (14.3 ms against 23.1 at 512 on its 1x1
 * 2048->512 + 1024->256 @32x32) and `bench_ab --a-native ... nn_kc=512
 * --b-native ... nn_kc=256`, both orders, 3 rounds, gave smp DeepLabV3+
 * 512 0.72-0.90 of the time, smp Unet 512 0.87-0.91, ConvNeXt-T UperNet
 * 512 0.96-0.98, ResNet-50 UNet 512 0.88-1.01. Its other picks (packed_kc
 * 256, conv_block_kib 1024) made ResNet-50 UNet 512 slower and are not
 * taken. Strips of packed panels fit with their rows of A in 2 MiB of L2:
 * Winograd's 49 x 256 x 3072 x 16 (ResNet-50 UNet at 224, the 3072-channel
 * join on 14x14) in one panel per work-item took 0.65-0.74 of the time of
 * two (bench_ab, both orders, 7 rounds), and ViT-L's fc2, whose two panels
 * alone fill 2 MiB, runs K-blocked (gemm_pocl.c, long_strip). */
static const struct tc_native_params k_native_xeon = {0, 256, 0, 256, 512, 2048};

const struct tc_native_params *tc_native_shipped(const struct terracl_device_info *info)
{
    if (strcmp(info->type, "cpu") == 0 && strstr(info->vendor, "Intel") != NULL &&
        strstr(info->name, "Xeon") != NULL)
        return &k_native_xeon;
    return &tc_native_default;
}

/* 6-row tiles, as the packed kernels were built and measured with,
 * unless 7 or 4 leaves at least 5% fewer rows computed and dropped, as on
 * Winograd's batched products over the tiles of small maps (M = 49 for
 * 28x28 at F(4x4): 54 rows in 6-row tiles, 49 in 7-row ones; M = 16 for
 * 14x14: 18 against 16). bench_ab, the same model's kernels alternating in
 * one process, 8-12 runs a round: 49 x N x K at 0.90-0.95 of the 6-row
 * time over ResNet-50 UNet, smp Unet and ConvNeXt UperNet; 16 x N x K
 * 0.92-1.04, median 0.95. Where 7 saved only 1% of 198 rows (M = 196) it
 * took 1.05-1.13x the time, so small savings keep 6. The packed
 * convolution follows the rule only where its tiles are runs of pixels
 * (unstrided, unpadded 1x1; conv_packed.c): with an address per pixel, 7
 * rows of 1x1 512 -> 2048 on a 7x7 map took 1.11-1.18x the time. */
size_t tc_packed_row_tile(size_t m)
{
    static const size_t other[] = {7, 4};
    const size_t six = (m + 5) / 6 * 6;
    size_t mr = 6, best = six;
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        size_t rows = (m + other[i] - 1) / other[i] * other[i];
        if (rows * 20 <= six * 19 && rows < best) {
            best = rows;
            mr = other[i];
        }
    }
    return mr;
}

/* 4 x 96 first (the shipped default: chosen over 6 x 64 by CPU time on
 * bench_conv's decoder shapes); 6 x 64 is the GEMM kernels' tile, 8 x 48
 * re-reads the input less for narrow layers, 2 x 128 wastes nothing on
 * two-class heads. Each keeps its accumulators and one row of input
 * vectors within 32 vector registers. */
const int tc_conv_implicit_tiles[TC_CONV_TILES][2] = {{4, 6}, {6, 4}, {8, 3}, {2, 8}};

int tc_gemm_set_valid(const struct tc_gemm_set *s)
{
    const size_t *p = s->xgemm;
    for (int i = 0; i < TC_XGEMM_NPARAMS; i++)
        if (p[i] > TC_XGEMM_MAX_PARAM ||
            (p[i] == 0 && i != P_GEMMK && i != P_SA && i != P_SB && i != P_STRM && i != P_STRN))
            return 0;
    if (p[P_GEMMK] > 1 || p[P_SA] > 1 || p[P_SB] > 1 || p[P_STRM] > 1 || p[P_STRN] > 1)
        return 0;
    if (p[P_GEMMK] == 1 && p[P_MWG] != p[P_NWG])
        return 0; /* wrong results in CLBlast 1.5.3 */
    if (p[P_KWG] % p[P_KWI] || p[P_MWG] % (p[P_MDIMC] * p[P_VWM]) ||
        p[P_NWG] % (p[P_NDIMC] * p[P_VWN]) || p[P_MWG] % (p[P_MDIMA] * p[P_VWM]) ||
        p[P_NWG] % (p[P_NDIMB] * p[P_VWN]))
        return 0;
    size_t threads = p[P_MDIMC] * p[P_NDIMC];
    if (threads % p[P_MDIMA] || threads % p[P_NDIMB] || p[P_KWG] % (threads / p[P_MDIMA]) ||
        p[P_KWG] % (threads / p[P_NDIMB]))
        return 0;
    return s->min_indirect >= 1;
}

const char *tc_gemm_set_str(const struct tc_gemm_set *s, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < TC_XGEMM_NPARAMS && used < cap; i++) {
        int w = snprintf(buf + used, cap - used, "%s=%zu ", tc_xgemm_param_names[i], s->xgemm[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (used < cap)
        snprintf(buf + used, cap - used, "min_indirect=%zu", s->min_indirect);
    return buf;
}

const struct tc_gemm_set *tc_gemm_type_default(const char *device_type)
{
    return strcmp(device_type, "cpu") == 0 ? &k_cpu_default : NULL;
}

void tc_gemm_params_path(terracl_runtime *rt, char *buf, size_t cap)
{
    struct tc_sha256 s;
    uint8_t d[32];
    char hex[65];
    const struct terracl_device_info *i = &rt->info;
    const char *fields[] = {i->name, i->vendor, i->driver_version, i->device_version,
                            i->platform_name, i->platform_version};
    tc_sha256_init(&s);
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        tc_sha256_update(&s, fields[f], strlen(fields[f]));
        tc_sha256_update(&s, "\x1f", 1);
    }
    tc_sha256_final(&s, d);
    tc_sha256_hex(d, hex);
    snprintf(buf, cap, "%s/gemm/%.16s.txt", rt->cache_dir, hex);
}

/* An unsigned decimal integer spanning [text, end) that is at most `max`. */
static int parse_uint(const char *text, const char *end, size_t max, size_t *out)
{
    if (text == end || end - text > 20)
        return 0;
    size_t v = 0;
    for (const char *p = text; p < end; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (size_t)(*p - '0');
        if (v > max)
            return 0;
    }
    *out = v;
    return 1;
}

int tc_gemm_parse_set(const char *text, struct tc_gemm_set *set, double *gflops)
{
    int seen = 0;
    memset(set, 0, sizeof *set);
    set->min_indirect = 1;
    /* Fields are NAME=VALUE separated by blanks; parsed in place (no strtok:
     * runtimes load their files concurrently). */
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (*p == '\0')
            break;
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
        const char *eq = memchr(tok, '=', (size_t)(p - tok));
        if (eq == NULL)
            return 0;
        size_t name_len = (size_t)(eq - tok);
        const char *value = eq + 1;
        if (name_len == 6 && strncmp(tok, "gflops", 6) == 0) {
            char buf[64];
            size_t n = (size_t)(p - value);
            if (n == 0 || n >= sizeof buf)
                return 0;
            memcpy(buf, value, n);
            buf[n] = '\0';
            char *end = NULL;
            double v = strtod(buf, &end);
            if (*end != '\0' || !isfinite(v) || v < 0)
                return 0;
            if (gflops)
                *gflops = v;
            continue;
        }
        if (name_len == 12 && strncmp(tok, "min_indirect", 12) == 0) {
            if (!parse_uint(value, p, TC_MAX_MIN_INDIRECT, &set->min_indirect))
                return 0;
            continue;
        }
        int known = 0;
        for (int i = 0; i < TC_XGEMM_NPARAMS; i++)
            if (strlen(tc_xgemm_param_names[i]) == name_len &&
                strncmp(tok, tc_xgemm_param_names[i], name_len) == 0) {
                if (!parse_uint(value, p, TC_XGEMM_MAX_PARAM, &set->xgemm[i]))
                    return 0;
                seen |= 1 << i;
                known = 1;
            }
        if (!known)
            return 0;
    }
    return seen == (1 << TC_XGEMM_NPARAMS) - 1 && tc_gemm_set_valid(set);
}

int tc_native_parse(const char *text, struct tc_native_params *p)
{
    return tc_native_parse_over(text, &tc_native_default, p);
}

int tc_native_parse_over(const char *text, const struct tc_native_params *base,
                         struct tc_native_params *p)
{
    size_t kc = 0, blk = 0, tile = base->conv_tile, nn_kc = base->nn_kc;
    size_t item_steps = base->item_steps, strip_kib = base->strip_kib;
    int seen = 0;
    const char *s = text;
    while (*s) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\0' || *s == '\n')
            break;
        const char *eq = strchr(s, '='), *end = s + strcspn(s, " \t\n");
        if (eq == NULL || eq > end)
            return 0;
        size_t v;
        if (!parse_uint(eq + 1, end, 65536, &v))
            return 0;
        if ((size_t)(eq - s) == 9 && strncmp(s, "packed_kc", 9) == 0) {
            kc = v;
            seen |= 1;
        } else if ((size_t)(eq - s) == 14 && strncmp(s, "conv_block_kib", 14) == 0) {
            blk = v;
            seen |= 2;
        } else if ((size_t)(eq - s) == 9 && strncmp(s, "conv_tile", 9) == 0) {
            if (v >= TC_CONV_TILES)
                return 0;
            tile = v;
        } else if ((size_t)(eq - s) == 5 && strncmp(s, "nn_kc", 5) == 0) {
            if (v != 0 && (v < 16 || v % 16 != 0))
                return 0;
            nn_kc = v;
        } else if ((size_t)(eq - s) == 10 && strncmp(s, "item_steps", 10) == 0) {
            item_steps = v;
        } else if ((size_t)(eq - s) == 9 && strncmp(s, "strip_kib", 9) == 0) {
            if (v != 0 && v < 64)
                return 0;
            strip_kib = v;
        } else {
            return 0;
        }
        s = end;
    }
    if (seen != 3 || (kc != 0 && (kc < 16 || kc > 4096 || kc % 16 != 0)) || blk < 16)
        return 0;
    p->packed_kc = kc;
    p->conv_block_kib = blk;
    p->conv_tile = tile;
    p->nn_kc = nn_kc;
    p->item_steps = item_steps;
    p->strip_kib = strip_kib;
    return 1;
}

const char *tc_native_str(const struct tc_native_params *p, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "packed_kc=%zu conv_block_kib=%zu conv_tile=%zu nn_kc=%zu item_steps=%zu "
             "strip_kib=%zu",
             p->packed_kc, p->conv_block_kib, p->conv_tile, p->nn_kc, p->item_steps,
             p->strip_kib);
    return buf;
}

const struct tc_native_params *tc_runtime_native_params(const terracl_runtime *rt)
{
    if (rt->native_forced)
        return &rt->native_force;
    if (rt->gemm_table != NULL && rt->gemm_table->has_native)
        return &rt->gemm_table->native;
    return tc_native_shipped(&rt->info);
}

void tc_native_force(terracl_runtime *rt, const struct tc_native_params *p)
{
    rt->native_forced = p != NULL;
    if (p)
        rt->native_force = *p;
}

struct tc_gemm_table *tc_gemm_table_load(terracl_runtime *rt)
{
    struct tc_gemm_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->type_default = tc_gemm_type_default(rt->info.type);
    if (rt->cache_dir[0] == '\0')
        return t;
    char path[1300];
    tc_gemm_params_path(rt, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return t;
    char line[2048];
    int bad = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        struct tuned_entry e;
        memset(&e, 0, sizeof e);
        if (strncmp(line, "native ", 7) == 0) {
            /* Values a file from an older terracl lacks: the device's shipped ones. */
            if (tc_native_parse_over(line + 7, tc_native_shipped(&rt->info), &t->native))
                t->has_native = 1;
            else
                bad = 1;
            continue;
        }
        if (strncmp(line, "default ", 8) == 0) {
            if (tc_gemm_parse_set(line + 8, &t->tuned_default, NULL))
                t->has_default = 1;
            else
                bad = 1;
            continue;
        }
        int used = 0;
        if (sscanf(line, "shape %zu %zu %zu %d %d %n", &e.shape.m, &e.shape.n, &e.shape.k,
                   &e.shape.trans_a, &e.shape.trans_b, &used) == 5 &&
            e.shape.m <= TC_MAX_TUNED_DIM && e.shape.n <= TC_MAX_TUNED_DIM &&
            e.shape.k <= TC_MAX_TUNED_DIM && (e.shape.trans_a & ~1) == 0 &&
            (e.shape.trans_b & ~1) == 0 && tc_gemm_parse_set(line + used, &e.set, &e.gflops) &&
            t->n < MAX_SHAPES)
            t->entries[t->n++] = e;
        else
            bad = 1;
    }
    fclose(f);
    t->from_file = t->n > 0 || t->has_default || t->has_native;
    if (bad)
        tc_runtime_log(rt, TERRACL_LOG_WARN, "ignored damaged lines in tuned GEMM file %s", path);
    return t;
}

void tc_gemm_table_free(struct tc_gemm_table *t) { free(t); }
int tc_gemm_table_tuned(const struct tc_gemm_table *t) { return t && t->from_file; }

static int same_shape(const struct tc_gemm_shape *a, const struct tc_gemm_shape *b)
{
    return a->m == b->m && a->n == b->n && a->k == b->k && a->trans_a == b->trans_a &&
           a->trans_b == b->trans_b;
}

const struct tc_gemm_set *tc_gemm_table_pick(const struct tc_gemm_table *t,
                                             const struct tc_gemm_shape *shape)
{
    if (t == NULL)
        return NULL;
    for (size_t i = 0; i < t->n; i++)
        if (same_shape(&t->entries[i].shape, shape))
            return &t->entries[i].set;
    if (t->has_default)
        return &t->tuned_default;
    return t->type_default;
}

int tc_gemm_table_has(const struct tc_gemm_table *t, const struct tc_gemm_shape *shape)
{
    for (size_t i = 0; t && i < t->n; i++)
        if (same_shape(&t->entries[i].shape, shape))
            return 1;
    return 0;
}

static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            int bad = mkdir(path, 0755) != 0 && errno != EEXIST;
            *p = '/';
            if (bad)
                return -1;
        }
    return 0;
}

static terracl_status write_table(terracl_runtime *rt, const struct tc_gemm_table *t,
                                  terracl_error *err);

terracl_status tc_gemm_table_store(terracl_runtime *rt, struct tc_gemm_table *t,
                                   const struct tc_gemm_shape *shape,
                                   const struct tc_gemm_set *set, double gflops,
                                   terracl_error *err)
{
    if (rt->cache_dir[0] == '\0')
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "the cache folder is disabled (TERRACL_CACHE_DIR is empty): nowhere to store "
                       "tuned parameters");
    size_t i = 0;
    while (i < t->n && !same_shape(&t->entries[i].shape, shape))
        i++;
    if (i == t->n) {
        if (t->n == MAX_SHAPES)
            return tc_fail(err, TERRACL_ERR_INVALID_ARG, "at most %d tuned shapes per device", MAX_SHAPES);
        t->n++;
    }
    t->entries[i] = (struct tuned_entry){*shape, *set, gflops};
    /* The most common winner becomes the default for untuned shapes: here,
     * simply the set of the largest shape tuned so far. */
    size_t best = 0;
    for (size_t j = 1; j < t->n; j++)
        if (t->entries[j].shape.m * t->entries[j].shape.n * t->entries[j].shape.k >
            t->entries[best].shape.m * t->entries[best].shape.n * t->entries[best].shape.k)
            best = j;
    t->tuned_default = t->entries[best].set;
    t->has_default = 1;
    t->from_file = 1;
    return write_table(rt, t, err);
}

terracl_status tc_gemm_table_store_native(terracl_runtime *rt, struct tc_gemm_table *t,
                                          const struct tc_native_params *p, terracl_error *err)
{
    if (rt->cache_dir[0] == '\0')
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "the cache folder is disabled (TERRACL_CACHE_DIR is empty): nowhere to store "
                       "tuned parameters");
    t->native = *p;
    t->has_native = 1;
    t->from_file = 1;
    return write_table(rt, t, err);
}

/* Writes the device's file from the table, atomically (temporary + rename). */
static terracl_status write_table(terracl_runtime *rt, const struct tc_gemm_table *t,
                                  terracl_error *err)
{
    char path[1300], tmp[1400], text[600];
    tc_gemm_params_path(rt, path, sizeof path);
    if (make_dirs(path) != 0)
        return tc_fail(err, TERRACL_ERR_IO, "cannot create the folder of %s: %s", path, strerror(errno));
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return tc_fail(err, TERRACL_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    fprintf(f, "# terracl tuned GEMM parameters for %s (%s, %s)\n", rt->info.name,
            rt->info.driver_version, rt->info.platform_version);
    if (t->has_default)
        fprintf(f, "default %s\n", tc_gemm_set_str(&t->tuned_default, text, sizeof text));
    if (t->has_native)
        fprintf(f, "native %s\n", tc_native_str(&t->native, text, sizeof text));
    for (size_t j = 0; j < t->n; j++) {
        const struct tuned_entry *e = &t->entries[j];
        fprintf(f, "shape %zu %zu %zu %d %d gflops=%.1f %s\n", e->shape.m, e->shape.n, e->shape.k,
                e->shape.trans_a, e->shape.trans_b, e->gflops,
                tc_gemm_set_str(&e->set, text, sizeof text));
    }
    int ok = fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return tc_fail(err, TERRACL_ERR_IO, "cannot write %s", path);
    }
    return TERRACL_OK;
}

/* What each device currently runs with (CLBlast's overrides are global per
 * device). Guarded by the CLBlast lock in gemm.c. */
#define MAX_DEVICES 64
static struct {
    cl_device_id device;
    struct tc_gemm_set set;
} g_applied[MAX_DEVICES];
static size_t g_napplied;

terracl_status tc_gemm_apply_locked(terracl_runtime *rt, const struct tc_gemm_set *set,
                                    terracl_error *err)
{
    if (set == NULL)
        return TERRACL_OK;
    size_t i = 0;
    while (i < g_napplied && g_applied[i].device != rt->device)
        i++;
    if (i < g_napplied && memcmp(&g_applied[i].set, set, sizeof *set) == 0)
        return TERRACL_OK;
    CLBlastStatusCode rc = CLBlastOverrideParameters(rt->device, "Xgemm", CLBlastPrecisionSingle,
                                                     TC_XGEMM_NPARAMS, (const char **)tc_xgemm_param_names,
                                                     set->xgemm);
    if (rc == CLBlastSuccess) {
        const char *name = "XGEMM_MIN_INDIRECT_SIZE";
        rc = CLBlastOverrideParameters(rt->device, "GemmRoutine", CLBlastPrecisionSingle, 1, &name,
                                       &set->min_indirect);
    }
    if (rc != CLBlastSuccess)
        return tc_fail(err, TERRACL_ERR_GEMM, "CLBlastOverrideParameters failed (%d)", (int)rc);
    if (i == g_napplied && g_napplied < MAX_DEVICES)
        g_applied[g_napplied++].device = rt->device;
    if (i < g_napplied)
        g_applied[i].set = *set;
    return TERRACL_OK;
}

void tc_gemm_forget_locked(terracl_runtime *rt)
{
    for (size_t i = 0; i < g_napplied; i++)
        if (g_applied[i].device == rt->device)
            g_applied[i] = g_applied[--g_napplied];
}

struct tc_gemm_table *tc_runtime_gemm_table(terracl_runtime *rt) { return rt->gemm_table; }

void tc_gemm_record_shapes(terracl_runtime *rt, int on)
{
    rt->gemm_recording = on;
    if (on)
        rt->gemm_nrecorded = 0;
}

size_t tc_gemm_recorded(const terracl_runtime *rt, struct tc_gemm_shape *out, size_t cap)
{
    for (size_t i = 0; i < rt->gemm_nrecorded && i < cap; i++)
        out[i] = rt->gemm_recorded[i];
    return rt->gemm_nrecorded;
}

void tc_gemm_force(terracl_runtime *rt, const struct tc_gemm_set *set)
{
    rt->gemm_forced = set != NULL;
    if (set)
        rt->gemm_force_set = *set;
}

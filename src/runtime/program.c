/*
 * OpenCL programs: find the source (embedded, or TERRACL_KERNEL_DIR), build it
 * once per (program, options), keep the binary in an on-disk cache, and hand
 * out kernels. Cache files are keyed by a SHA-256 over everything that can
 * change the binary, written to a temporary name and renamed into place, and
 * any mismatch or corruption means "compile from source" (never an error).
 *
 * A cache file is checked before the driver sees its payload, because
 * drivers trust binaries: a cut-short binary can crash inside
 * clCreateProgramWithBinary, and another program's binary builds fine and
 * only fails at clCreateKernel. The header therefore carries the key the
 * entry was written for and a SHA-256 of the payload:
 *
 *   "TERRACLB" | u32 format | u32 reserved | u64 payload size |
 *   key[32] | sha256(payload)[32] | payload
 *
 * and a kernel that cannot be created from a cached binary makes the
 * program rebuild from source (and rewrite its cache entry).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/checked.h"
#include "core/sha256.h"
#include "runtime/cl_internal.h"
#include "runtime/kernel_sources.h"
#include "runtime/profile.h"

#define TC_CACHE_MAGIC "TERRACLB"
#define TC_CACHE_FORMAT 2u
#define TC_CACHE_HEADER 88u
#define TC_BASE_OPTIONS "-cl-std=CL1.2"

struct tc_kernel {
    struct tc_kernel *next;
    char name[64];
    const char *options; /* its program's build options (owned there), for profiles */
    cl_kernel handle;
};

struct tc_program_entry {
    struct tc_program_entry *next;
    char name[64];
    char *options;
    cl_program program;
    int from_cache; /* program came from a cache file (rebuilt from source when it misbehaves) */
    struct tc_kernel *kernels;
};

void tc_programs_release(terracl_runtime *rt)
{
    struct tc_program_entry *p = rt->programs;
    while (p) {
        struct tc_program_entry *next = p->next;
        struct tc_kernel *k = p->kernels;
        while (k) {
            struct tc_kernel *kn = k->next;
            clReleaseKernel(k->handle);
            free(k);
            k = kn;
        }
        if (p->program)
            clReleaseProgram(p->program);
        free(p->options);
        free(p);
        p = next;
    }
    rt->programs = NULL;
}

/* Reads a whole file; *out is malloc'ed and NUL-terminated. */
static terracl_status read_file(const char *path, char **out, size_t *size, terracl_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return tc_fail(err, TERRACL_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 16384;
            char *nb = realloc(buf, ncap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory reading %s", path);
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return tc_fail(err, TERRACL_ERR_IO, "error reading %s", path);
    }
    buf[len] = '\0';
    *out = buf;
    *size = len;
    return TERRACL_OK;
}

/* One cl_kernels/<name>.cl text, embedded or from TERRACL_KERNEL_DIR. */
static terracl_status raw_source(const terracl_runtime *rt, const char *program, char **text,
                                 size_t *size, terracl_error *err)
{
    if (rt->kernel_dir[0] != '\0') {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s.cl", rt->kernel_dir, program);
        terracl_status st = read_file(path, text, size, err);
        if (st != TERRACL_OK)
            return tc_fail_context(err, st, "kernel source (TERRACL_KERNEL_DIR)");
        return TERRACL_OK;
    }
    for (size_t i = 0; i < tc_kernel_source_count; i++) {
        if (strcmp(tc_kernel_sources[i].name, program) == 0) {
            *text = malloc(tc_kernel_sources[i].size + 1);
            if (*text == NULL)
                return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
            memcpy(*text, tc_kernel_sources[i].text, tc_kernel_sources[i].size);
            (*text)[tc_kernel_sources[i].size] = '\0';
            *size = tc_kernel_sources[i].size;
            return TERRACL_OK;
        }
    }
    return tc_fail(err, TERRACL_ERR_NOT_FOUND, "no kernel program named '%s' is embedded", program);
}

/* A program's source: cl_kernels/common.cl, then the program's own file
 * (with #line 1 so build logs count lines in the program's file). */
static terracl_status program_source(const terracl_runtime *rt, const char *program, char **text,
                                     size_t *size, terracl_error *err)
{
    char *common = NULL, *own = NULL;
    size_t common_size = 0, own_size = 0;
    terracl_status st = raw_source(rt, program, &own, &own_size, err);
    if (st != TERRACL_OK)
        return st;
    if ((st = raw_source(rt, "common", &common, &common_size, err)) != TERRACL_OK) {
        free(own);
        if (st != TERRACL_ERR_NOT_FOUND && st != TERRACL_ERR_IO)
            return st;
        /* A kernel folder without common.cl: the program stands alone. */
        *text = NULL;
        return raw_source(rt, program, text, size, err);
    }
    static const char k_line[] = "\n#line 1\n";
    size_t total = common_size + sizeof k_line - 1 + own_size;
    char *all = malloc(total + 1);
    if (all == NULL) {
        free(common);
        free(own);
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    }
    memcpy(all, common, common_size);
    memcpy(all + common_size, k_line, sizeof k_line - 1);
    memcpy(all + common_size + sizeof k_line - 1, own, own_size);
    all[total] = '\0';
    free(common);
    free(own);
    *text = all;
    *size = total;
    return TERRACL_OK;
}

static void cache_key(const terracl_runtime *rt, const char *source, size_t size,
                      const char *options, uint8_t digest[32], char hex[65])
{
    struct tc_sha256 s;
    unsigned format = TC_CACHE_FORMAT;
    tc_sha256_init(&s);
    tc_sha256_update(&s, &format, sizeof format);
    tc_sha256_update(&s, source, size);
    /* Field separators keep ("ab","c") and ("a","bc") apart. */
    const char *fields[] = {options,          rt->info.name,          rt->info.vendor,
                            rt->info.driver_version, rt->info.device_version,
                            rt->info.platform_name,  rt->info.platform_version};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        tc_sha256_update(&s, "\x1f", 1);
        tc_sha256_update(&s, fields[i], strlen(fields[i]));
    }
    tc_sha256_final(&s, digest);
    tc_sha256_hex(digest, hex);
}

/* mkdir -p; returns 0 on success. */
static int make_dirs(const char *path)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static void payload_digest(const void *payload, size_t size, uint8_t digest[32])
{
    struct tc_sha256 s;
    tc_sha256_init(&s);
    tc_sha256_update(&s, payload, size);
    tc_sha256_final(&s, digest);
}

/* The program in a cache file, or NULL when the file is missing, written for
 * another key, damaged, or refused by the driver. */
static cl_program load_cached(terracl_runtime *rt, const char *path, const uint8_t key[32],
                              const char *options)
{
    char *data = NULL;
    size_t size = 0;
    if (read_file(path, &data, &size, NULL) != TERRACL_OK)
        return NULL;
    cl_program prog = NULL;
    uint64_t bin_size = 0;
    uint32_t format = 0;
    uint8_t digest[32];
    if (size < TC_CACHE_HEADER || memcmp(data, TC_CACHE_MAGIC, 8) != 0)
        goto out;
    memcpy(&format, data + 8, 4);
    memcpy(&bin_size, data + 16, 8);
    if (format != TC_CACHE_FORMAT || bin_size != size - TC_CACHE_HEADER || bin_size == 0)
        goto out;
    if (memcmp(data + 24, key, 32) != 0) {
        tc_runtime_log(rt, TERRACL_LOG_DEBUG, "program cache file %s belongs to another key", path);
        goto out;
    }
    const unsigned char *bin = (const unsigned char *)data + TC_CACHE_HEADER;
    size_t len = (size_t)bin_size;
    payload_digest(bin, len, digest);
    if (memcmp(data + 56, digest, 32) != 0) {
        tc_runtime_log(rt, TERRACL_LOG_DEBUG, "program cache file %s is damaged", path);
        goto out;
    }
    cl_int status = CL_SUCCESS, rc = CL_SUCCESS;
    prog = clCreateProgramWithBinary(rt->context, 1, &rt->device, &len, &bin, &status, &rc);
    if (rc != CL_SUCCESS || status != CL_SUCCESS) {
        if (prog)
            clReleaseProgram(prog);
        prog = NULL;
        goto out;
    }
    if (clBuildProgram(prog, 1, &rt->device, options, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(prog);
        prog = NULL;
    }
out:
    free(data);
    return prog;
}

static void store_cached(terracl_runtime *rt, const char *dir, const char *path,
                         const uint8_t key[32], cl_program prog)
{
    size_t bin_size = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof bin_size, &bin_size, NULL) !=
            CL_SUCCESS ||
        bin_size == 0)
        return;
    unsigned char *bin = malloc(bin_size);
    if (bin == NULL)
        return;
    unsigned char *bins[1] = {bin};
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) != CL_SUCCESS ||
        make_dirs(dir) != 0) {
        free(bin);
        return;
    }
    uint8_t digest[32];
    payload_digest(bin, bin_size, digest);
    char tmp[1300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        free(bin);
        return;
    }
    uint32_t format = TC_CACHE_FORMAT, reserved = 0;
    uint64_t size64 = bin_size;
    int ok = fwrite(TC_CACHE_MAGIC, 1, 8, f) == 8 && fwrite(&format, 4, 1, f) == 1 &&
             fwrite(&reserved, 4, 1, f) == 1 && fwrite(&size64, 8, 1, f) == 1 &&
             fwrite(key, 1, 32, f) == 32 && fwrite(digest, 1, 32, f) == 32 &&
             fwrite(bin, 1, bin_size, f) == bin_size;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        tc_runtime_log(rt, TERRACL_LOG_DEBUG, "could not write program cache file %s", path);
    }
    free(bin);
}

static terracl_status build_from_source(terracl_runtime *rt, const char *program,
                                        const char *source, size_t size, const char *options,
                                        cl_program *out, terracl_error *err)
{
    cl_int rc = CL_SUCCESS;
    const char *srcs[1] = {source};
    cl_program prog = clCreateProgramWithSource(rt->context, 1, srcs, &size, &rc);
    if (rc != CL_SUCCESS)
        return tc_cl_fail(err, "clCreateProgramWithSource", rc);
    rc = clBuildProgram(prog, 1, &rt->device, options, NULL, NULL);
    if (rc != CL_SUCCESS) {
        char log[3000];
        size_t log_len = 0;
        log[0] = '\0';
        if (clGetProgramBuildInfo(prog, rt->device, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log,
                                  &log_len) != CL_SUCCESS)
            snprintf(log, sizeof log, "(no build log)");
        log[sizeof log - 1] = '\0';
        clReleaseProgram(prog);
        return tc_fail(err, TERRACL_ERR_KERNEL_BUILD,
                       "building OpenCL program '%s' (options '%s') failed: %s; build log: %s",
                       program, options, tc_cl_error_name(rc), log);
    }
    *out = prog;
    return TERRACL_OK;
}

/* Gives e a built program: from its cache file when `use_cached` and the
 * file is sound, else from source (then stored in the cache). */
static terracl_status compile_entry(terracl_runtime *rt, struct tc_program_entry *e,
                                    int use_cached, terracl_error *err)
{
    char *source = NULL;
    size_t size = 0;
    terracl_status st = program_source(rt, e->name, &source, &size, err);
    if (st != TERRACL_OK)
        return st;
    char options[1024];
    /* TC_POCL: the driver is PoCL, which compiles OpenCL C with clang
     * straight to the device's code: common.cl then uses clang's prefetch
     * and non-temporal store builtins (which drivers going through SPIR-V,
     * such as rusticl, refuse) and its reduced-alignment vector stores. */
    const int pocl = strstr(rt->info.platform_name, "Portable Computing Language") != NULL;
    snprintf(options, sizeof options, "%s%s %s", TC_BASE_OPTIONS, pocl ? " -DTC_POCL=1" : "",
             e->options);

    char dir[1100], path[1200], hex[65];
    uint8_t key[32];
    int use_cache = rt->cache_dir[0] != '\0';
    cl_program prog = NULL;
    if (use_cache) {
        cache_key(rt, source, size, options, key, hex);
        snprintf(dir, sizeof dir, "%s/programs", rt->cache_dir);
        snprintf(path, sizeof path, "%s/%s.bin", dir, hex);
        if (use_cached)
            prog = load_cached(rt, path, key, options);
    }
    e->from_cache = prog != NULL;
    if (prog == NULL) {
        st = build_from_source(rt, e->name, source, size, options, &prog, err);
        if (st == TERRACL_OK && use_cache)
            store_cached(rt, dir, path, key, prog);
    }
    free(source);
    if (st != TERRACL_OK)
        return st;
    if (e->program)
        clReleaseProgram(e->program); /* kernels made from it keep their own reference */
    e->program = prog;
    return TERRACL_OK;
}

static terracl_status get_program(terracl_runtime *rt, const char *program, const char *extra,
                                  struct tc_program_entry **out, terracl_error *err)
{
    if (extra == NULL)
        extra = "";
    for (struct tc_program_entry *p = rt->programs; p; p = p->next)
        if (strcmp(p->name, program) == 0 && strcmp(p->options, extra) == 0) {
            *out = p;
            return TERRACL_OK;
        }
    if (strlen(program) >= sizeof((struct tc_program_entry *)0)->name)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "program name '%s' too long", program);

    struct tc_program_entry *e = calloc(1, sizeof *e);
    char *opt_copy = strdup(extra);
    if (e == NULL || opt_copy == NULL) {
        free(e);
        free(opt_copy);
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    }
    snprintf(e->name, sizeof e->name, "%s", program);
    e->options = opt_copy;
    terracl_status st = compile_entry(rt, e, 1, err);
    if (st != TERRACL_OK) {
        free(e->options);
        free(e);
        return st;
    }
    e->next = rt->programs;
    rt->programs = e;
    *out = e;
    return TERRACL_OK;
}

/* Whether the program's source names `kernel` at all: an unknown kernel name
 * is the caller's mistake, not a reason to rebuild. */
static int source_mentions(const terracl_runtime *rt, const char *program, const char *kernel)
{
    char *source = NULL;
    size_t size = 0;
    if (program_source(rt, program, &source, &size, NULL) != TERRACL_OK)
        return 0;
    int found = strstr(source, kernel) != NULL;
    free(source);
    return found;
}

terracl_status tc_kernel_get(terracl_runtime *rt, const char *program, const char *kernel,
                             const char *options, struct tc_kernel **out, terracl_error *err)
{
    struct tc_program_entry *p = NULL;
    terracl_status st = get_program(rt, program, options, &p, err);
    if (st != TERRACL_OK)
        return st;
    for (struct tc_kernel *k = p->kernels; k; k = k->next)
        if (strcmp(k->name, kernel) == 0) {
            *out = k;
            return TERRACL_OK;
        }
    if (strlen(kernel) >= sizeof((struct tc_kernel *)0)->name)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "kernel name '%s' too long", kernel);
    cl_int rc = CL_SUCCESS;
    cl_kernel handle = clCreateKernel(p->program, kernel, &rc);
    if (rc != CL_SUCCESS && p->from_cache && source_mentions(rt, program, kernel)) {
        /* The cached binary is not what its entry claims: build from source. */
        tc_runtime_log(rt, TERRACL_LOG_DEBUG,
                       "kernel '%s' missing from the cached binary of '%s': rebuilding", kernel,
                       program);
        if ((st = compile_entry(rt, p, 0, err)) != TERRACL_OK)
            return st;
        handle = clCreateKernel(p->program, kernel, &rc);
    }
    if (rc != CL_SUCCESS)
        return tc_fail(err, TERRACL_ERR_OPENCL, "clCreateKernel('%s' in program '%s') failed: %s",
                       kernel, program, tc_cl_error_name(rc));
    struct tc_kernel *k = calloc(1, sizeof *k);
    if (k == NULL) {
        clReleaseKernel(handle);
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    }
    snprintf(k->name, sizeof k->name, "%s", kernel);
    k->options = p->options;
    k->handle = handle;
    k->next = p->kernels;
    p->kernels = k;
    *out = k;
    return TERRACL_OK;
}

terracl_status tc_kernel_launch(terracl_runtime *rt, struct tc_kernel *kernel, int dims,
                                const size_t *global, const size_t *local,
                                const struct tc_karg *args, int nargs, terracl_error *err)
{
    return tc_kernel_launch_tagged(rt, kernel, NULL, dims, global, local, args, nargs, err);
}

terracl_status tc_kernel_launch_tagged(terracl_runtime *rt, struct tc_kernel *kernel,
                                       const char *tag, int dims, const size_t *global,
                                       const size_t *local, const struct tc_karg *args,
                                       int nargs, terracl_error *err)
{
    for (int i = 0; i < dims; i++)
        if (global[i] == 0)
            return TERRACL_OK; /* nothing to do; OpenCL rejects empty ranges */
    for (int i = 0; i < nargs; i++) {
        cl_int rc = CL_SUCCESS;
        cl_uint idx = (cl_uint)i;
        switch (args[i].kind) {
        case TC_KARG_BUF:
            rc = clSetKernelArg(kernel->handle, idx, sizeof(cl_mem), &args[i].v.buf->mem);
            break;
        case TC_KARG_INT:
            rc = clSetKernelArg(kernel->handle, idx, sizeof(cl_int), &args[i].v.i);
            break;
        case TC_KARG_UINT:
            rc = clSetKernelArg(kernel->handle, idx, sizeof(cl_uint), &args[i].v.u);
            break;
        case TC_KARG_FLOAT:
            rc = clSetKernelArg(kernel->handle, idx, sizeof(cl_float), &args[i].v.f);
            break;
        case TC_KARG_LOCAL:
            rc = clSetKernelArg(kernel->handle, idx, args[i].v.local_bytes, NULL);
            break;
        }
        if (rc != CL_SUCCESS)
            return tc_fail(err, TERRACL_ERR_OPENCL, "clSetKernelArg(%s, arg %d) failed: %s (%d)",
                           kernel->name, i, tc_cl_error_name(rc), (int)rc);
    }
    cl_event event = NULL;
    cl_int rc = clEnqueueNDRangeKernel(rt->queue, kernel->handle, (cl_uint)dims, NULL, global,
                                       local, 0, NULL, tc_profile_slot(rt, &event));
    if (rc == CL_SUCCESS && event != NULL)
        return tc_profile_record(rt, kernel->name, tag ? tag : kernel->options, event, err);
    if (rc != CL_SUCCESS)
        return tc_fail(err, rc == CL_MEM_OBJECT_ALLOCATION_FAILURE || rc == CL_OUT_OF_RESOURCES
                                ? TERRACL_ERR_NO_MEMORY
                                : TERRACL_ERR_OPENCL,
                       "clEnqueueNDRangeKernel(%s) failed: %s (%d)", kernel->name,
                       tc_cl_error_name(rc), (int)rc);
    return TERRACL_OK;
}

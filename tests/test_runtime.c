/* Runtime: device listing and selection, buffers, program cache, errors. */
#include "test_common.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "core/sha256.h"
#include "runtime/gemm_params.h"
#include "runtime/runtime.h"

static void test_device_count_and_info(void **state)
{
    (void)state;
    terracl_error err = {0};
    size_t n = 0;
    TC_ASSERT_OK(terracl_device_count(&n, &err), err);
    assert_true(n >= 1);
    struct terracl_device_info info;
    TC_ASSERT_OK(terracl_device_get_info(0, &info, &err), err);
    assert_true(info.name[0] != '\0');
    assert_true(info.compute_units >= 1);
    assert_true(info.global_mem_bytes > 0);
    assert_int_equal(terracl_device_get_info(n, &info, &err), TERRACL_ERR_NO_DEVICE);
}

static void test_device_select_forms(void **state)
{
    (void)state;
    terracl_error err = {0};
    size_t idx = 99;
    TC_ASSERT_OK(terracl_device_select("0", &idx, &err), err);
    assert_int_equal(idx, 0);
    struct terracl_device_info info;
    TC_ASSERT_OK(terracl_device_get_info(0, &info, &err), err);
    TC_ASSERT_OK(terracl_device_select(info.type, &idx, &err), err);
    /* A piece of the name, in another case, selects it too. */
    char piece[8] = {0};
    memcpy(piece, info.name, 4);
    for (char *p = piece; *p; p++)
        *p = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : (*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
    TC_ASSERT_OK(terracl_device_select(piece, &idx, &err), err);
}

static void test_device_select_no_match_lists_devices(void **state)
{
    (void)state;
    terracl_error err = {0};
    size_t idx;
    assert_int_equal(terracl_device_select("no-such-device-xyz", &idx, &err), TERRACL_ERR_NO_DEVICE);
    assert_non_null(strstr(err.message, "no-such-device-xyz"));
    assert_non_null(strstr(err.message, "devices found: 0:"));
    assert_int_equal(terracl_device_select("4096", &idx, &err), TERRACL_ERR_NO_DEVICE);
}

static void test_buffer_roundtrip_and_bounds(void **state)
{
    (void)state;
    terracl_error err = {0};
    struct tc_buf *b = NULL;
    uint64_t before = 0, peak = 0;
    terracl_runtime_memory(tc_test_rt, &before, NULL);
    TC_ASSERT_OK(tc_buf_create(tc_test_rt, 64 * sizeof(float), &b, &err), err);
    terracl_runtime_memory(tc_test_rt, NULL, &peak);
    assert_true(peak >= before + 256);
    float in[64], out[64];
    tc_test_fill(in, 64, 1, -1, 1);
    TC_ASSERT_OK(tc_buf_write(tc_test_rt, b, 0, in, sizeof in, &err), err);
    TC_ASSERT_OK(tc_buf_read(tc_test_rt, b, 0, out, sizeof out, &err), err);
    assert_memory_equal(in, out, sizeof in);
    assert_int_equal(tc_buf_read(tc_test_rt, b, 4, out, sizeof out, &err), TERRACL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "outside"));
    tc_buf_destroy(b);
    assert_int_equal(tc_buf_create(tc_test_rt, 0, &b, &err), TERRACL_ERR_INVALID_ARG);
}

/* Freed buffers serve later requests of about their size (no new device
 * memory), other sizes get new buffers, and data written lands where the
 * new owner reads it. */
static void test_buffer_reuse(void **state)
{
    (void)state;
    terracl_error err = {0};
    terracl_runtime *rt = NULL;
    TC_ASSERT_OK(terracl_runtime_create(NULL, &rt, &err), err);
    uint64_t base = 0, now = 0;
    terracl_runtime_memory(rt, &base, NULL);
    struct tc_buf *a = NULL, *b = NULL, *c = NULL;
    TC_ASSERT_OK(tc_buf_create(rt, 4000, &a, &err), err);
    tc_buf_destroy(a);
    terracl_runtime_memory(rt, &now, NULL);
    assert_int_equal(now, base + 4000); /* pooled, still allocated */
    TC_ASSERT_OK(tc_buf_create(rt, 3600, &b, &err), err);
    terracl_runtime_memory(rt, &now, NULL);
    assert_int_equal(now, base + 4000); /* reused */
    assert_int_equal(tc_buf_size(b), 3600);
    float in[900], out[900];
    tc_test_fill(in, 900, 3, -1, 1);
    TC_ASSERT_OK(tc_buf_write(rt, b, 0, in, sizeof in, &err), err);
    TC_ASSERT_OK(tc_buf_read(rt, b, 0, out, sizeof out, &err), err);
    assert_memory_equal(in, out, sizeof in);
    /* Bounds follow the size asked for, not the capacity. */
    assert_int_equal(tc_buf_read(rt, b, 0, out, 3604, &err), TERRACL_ERR_INVALID_ARG);
    /* Much smaller than anything pooled: a buffer of its own. */
    TC_ASSERT_OK(tc_buf_create(rt, 1000, &c, &err), err);
    terracl_runtime_memory(rt, &now, NULL);
    assert_int_equal(now, base + 5000);
    tc_buf_destroy(b);
    tc_buf_destroy(c);
    terracl_runtime_destroy(rt);
}

/* Profiled runtimes count every GEMM launch under its shape, and the counts
 * start again after a reset; unprofiled runtimes say how to turn it on. */
static void test_kernel_profile(void **state)
{
    (void)state;
    terracl_error err = {0};
    struct terracl_profile_row rows[8];
    size_t count = 99;
    assert_int_equal(terracl_runtime_profile(tc_test_rt, rows, 8, &count, &err),
                     TERRACL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "params.profile"));
    assert_int_equal(count, 0);

    struct terracl_runtime_params params = {0};
    params.profile = 1;
    terracl_runtime *rt = NULL;
    TC_ASSERT_OK(terracl_runtime_create(&params, &rt, &err), err);
    float a[6 * 5], b[5 * 7], c[6 * 7];
    tc_test_fill(a, 30, 1, -1, 1);
    tc_test_fill(b, 35, 2, -1, 1);
    for (int i = 0; i < 3; i++)
        TC_ASSERT_OK(terracl_sgemm_host(rt, 0, 0, 6, 7, 5, 1, a, 5, b, 7, 0, c, 7, &err), err);
    TC_ASSERT_OK(terracl_runtime_profile(rt, rows, 8, &count, &err), err);
    int found = 0;
    for (size_t i = 0; i < count && i < 8; i++)
        if (strstr(rows[i].variant, "6x7x5") != NULL) {
            found = 1;
            assert_int_equal(rows[i].launches, 3);
            assert_true(rows[i].device_ms >= 0.0);
        }
    assert_true(found);
    terracl_runtime_profile_reset(rt);
    TC_ASSERT_OK(terracl_runtime_profile(rt, rows, 8, &count, &err), err);
    assert_int_equal(count, 0);
    terracl_runtime_destroy(rt);
}

static void test_unknown_program_and_kernel(void **state)
{
    (void)state;
    terracl_error err = {0};
    struct tc_kernel *k = NULL;
    assert_int_equal(tc_kernel_get(tc_test_rt, "no_such_program", "x", NULL, &k, &err),
                     TERRACL_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "no_such_program"));
    assert_int_not_equal(tc_kernel_get(tc_test_rt, "elementwise", "no_such_kernel", NULL, &k, &err),
                         TERRACL_OK);
    assert_non_null(strstr(err.message, "no_such_kernel"));
}

/* Writes a .cl file into dir and makes a runtime that loads kernels from it. */
static terracl_runtime *runtime_with_kernel_dir(const char *kdir, const char *cache)
{
    terracl_error err = {0};
    struct terracl_runtime_params p = {0};
    p.kernel_dir = kdir;
    p.cache_dir = cache;
    terracl_runtime *rt = NULL;
    TC_ASSERT_OK(terracl_runtime_create(&p, &rt, &err), err);
    return rt;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_build_failure_returns_log(void **state)
{
    (void)state;
    char dir[] = "/tmp/terracl-kdir-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/broken.cl", dir);
    write_text(path, "__kernel void broken(__global float *x) { x[0] = undefined_name; }\n");
    terracl_runtime *rt = runtime_with_kernel_dir(dir, "");
    terracl_error err = {0};
    struct tc_kernel *k = NULL;
    assert_int_equal(tc_kernel_get(rt, "broken", "broken", NULL, &k, &err),
                     TERRACL_ERR_KERNEL_BUILD);
    assert_non_null(strstr(err.message, "undefined_name"));
    terracl_runtime_destroy(rt);
    remove(path);
    rmdir(dir);
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".bin") != NULL && strstr(e->d_name, ".tmp") == NULL)
            n++;
    closedir(d);
    return n;
}

static void run_double(terracl_runtime *rt, float factor)
{
    terracl_error err = {0};
    struct tc_kernel *k = NULL;
    TC_ASSERT_OK(tc_kernel_get(rt, "twice", "twice", NULL, &k, &err), err);
    struct tc_buf *b = NULL;
    TC_ASSERT_OK(tc_buf_create(rt, 4 * sizeof(float), &b, &err), err);
    float in[4] = {1, 2, 3, 4}, out[4];
    TC_ASSERT_OK(tc_buf_write(rt, b, 0, in, sizeof in, &err), err);
    struct tc_karg args[] = {TC_KBUF(b)};
    size_t global = 4;
    TC_ASSERT_OK(tc_kernel_launch(rt, k, 1, &global, NULL, args, 1, &err), err);
    TC_ASSERT_OK(tc_buf_read(rt, b, 0, out, sizeof out, &err), err);
    for (int i = 0; i < 4; i++)
        assert_float_equal(out[i], in[i] * factor, 0);
    tc_buf_destroy(b);
}

static void test_program_cache_written_reused_and_repaired(void **state)
{
    (void)state;
    char kdir[] = "/tmp/terracl-kdir-XXXXXX", cdir[] = "/tmp/terracl-cache-XXXXXX";
    assert_non_null(mkdtemp(kdir));
    assert_non_null(mkdtemp(cdir));
    char src[128], progdir[160];
    snprintf(src, sizeof src, "%s/twice.cl", kdir);
    snprintf(progdir, sizeof progdir, "%s/programs", cdir);
    write_text(src, "__kernel void twice(__global float *x) { x[get_global_id(0)] *= 2.0f; }\n");

    terracl_runtime *rt = runtime_with_kernel_dir(kdir, cdir);
    run_double(rt, 2.0f);
    terracl_runtime_destroy(rt);
    assert_int_equal(count_files(progdir), 1);

    /* A second runtime loads the binary (same key: no new file). */
    rt = runtime_with_kernel_dir(kdir, cdir);
    run_double(rt, 2.0f);
    terracl_runtime_destroy(rt);
    assert_int_equal(count_files(progdir), 1);

    /* Corrupt the cached binary: the runtime rebuilds from source. */
    DIR *d = opendir(progdir);
    struct dirent *e;
    char bin[512] = {0};
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".bin"))
            snprintf(bin, sizeof bin, "%s/%s", progdir, e->d_name);
    closedir(d);
    write_text(bin, "TERRACLBgarbage");
    rt = runtime_with_kernel_dir(kdir, cdir);
    run_double(rt, 2.0f);
    terracl_runtime_destroy(rt);

    /* Changing the source changes the key: a new cache file, new behaviour. */
    write_text(src, "__kernel void twice(__global float *x) { x[get_global_id(0)] *= 3.0f; }\n");
    rt = runtime_with_kernel_dir(kdir, cdir);
    run_double(rt, 3.0f);
    terracl_runtime_destroy(rt);
    assert_int_equal(count_files(progdir), 2);

    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", kdir, cdir);
    assert_int_equal(system(cmd), 0);
}

/* Path of the one cache file in progdir whose name is not `except`. */
static void find_bin(const char *progdir, const char *except, char *out, size_t cap)
{
    DIR *d = opendir(progdir);
    assert_non_null(d);
    struct dirent *e;
    out[0] = '\0';
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".bin") && strstr(e->d_name, ".tmp") == NULL) {
            snprintf(out, cap, "%s/%s", progdir, e->d_name);
            if (except == NULL || strcmp(out, except) != 0)
                break;
            out[0] = '\0';
        }
    closedir(d);
    assert_true(out[0] != '\0');
}

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void spill(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    fclose(f);
}

/* Header length of a cache file: everything before its payload, whose size
 * is the u64 at offset 16. */
static size_t header_len(const unsigned char *data, size_t size)
{
    uint64_t payload = 0;
    assert_true(size >= 24);
    memcpy(&payload, data + 16, 8);
    assert_true(payload < size);
    return size - (size_t)payload;
}

/*
 * Entries whose header is consistent but whose payload is not theirs: a
 * payload cut short (size field rewritten to match), another program's whole
 * entry copied over this one, and another program's payload under this
 * entry's own header with a matching digest. Each time the runtime must
 * build from source and run correctly, and the next runtime must find a
 * sound entry again.
 */
static void test_program_cache_entries_verified(void **state)
{
    (void)state;
    char kdir[] = "/tmp/terracl-kdir-XXXXXX", cdir[] = "/tmp/terracl-cache-XXXXXX";
    assert_non_null(mkdtemp(kdir));
    assert_non_null(mkdtemp(cdir));
    char src[128], other_src[128], progdir[160];
    snprintf(src, sizeof src, "%s/twice.cl", kdir);
    snprintf(other_src, sizeof other_src, "%s/other.cl", kdir);
    snprintf(progdir, sizeof progdir, "%s/programs", cdir);
    write_text(src, "__kernel void twice(__global float *x) { x[get_global_id(0)] *= 2.0f; }\n");
    write_text(other_src,
               "__kernel void other(__global float *x) { x[get_global_id(0)] += 5.0f; }\n");

    terracl_runtime *rt = runtime_with_kernel_dir(kdir, cdir);
    run_double(rt, 2.0f);
    terracl_runtime_destroy(rt);
    char twice_bin[512], other_bin[512];
    find_bin(progdir, NULL, twice_bin, sizeof twice_bin);
    rt = runtime_with_kernel_dir(kdir, cdir);
    terracl_error err = {0};
    struct tc_kernel *k = NULL;
    TC_ASSERT_OK(tc_kernel_get(rt, "other", "other", NULL, &k, &err), err);
    terracl_runtime_destroy(rt);
    find_bin(progdir, twice_bin, other_bin, sizeof other_bin);

    size_t good_size = 0, other_size = 0;
    unsigned char *good = slurp(twice_bin, &good_size);
    unsigned char *other = slurp(other_bin, &other_size);
    size_t hdr = header_len(good, good_size);
    assert_int_equal(header_len(other, other_size), hdr);

    /* 1. Cut-short payload, header size rewritten to match. */
    size_t cut = hdr + (good_size - hdr) / 3;
    unsigned char *shortened = malloc(cut);
    assert_non_null(shortened);
    memcpy(shortened, good, cut);
    uint64_t cut_payload = cut - hdr;
    memcpy(shortened + 16, &cut_payload, 8);
    spill(twice_bin, shortened, cut);
    free(shortened);
    rt = runtime_with_kernel_dir(kdir, cdir);
    run_double(rt, 2.0f);
    terracl_runtime_destroy(rt);

    /* 2. Another program's whole entry under this entry's name. */
    spill(twice_bin, other, other_size);
    rt = runtime_with_kernel_dir(kdir, cdir);
    run_double(rt, 2.0f);
    terracl_runtime_destroy(rt);

    /* 3. This entry's header (its own key) over another program's payload,
     * with the digest made to match: only the kernel lookup can tell. */
    if (hdr >= 88) {
        unsigned char *forged = malloc(other_size);
        assert_non_null(forged);
        memcpy(forged, good, hdr);
        memcpy(forged + hdr, other + hdr, other_size - hdr);
        uint64_t payload = other_size - hdr;
        memcpy(forged + 16, &payload, 8);
        struct tc_sha256 sh;
        tc_sha256_init(&sh);
        tc_sha256_update(&sh, forged + hdr, other_size - hdr);
        tc_sha256_final(&sh, forged + 56);
        spill(twice_bin, forged, other_size);
        free(forged);
        rt = runtime_with_kernel_dir(kdir, cdir);
        run_double(rt, 2.0f);
        terracl_runtime_destroy(rt);
    }

    /* The rebuilds rewrote a sound entry, which the next runtime loads. */
    size_t now_size = 0;
    unsigned char *now = slurp(twice_bin, &now_size);
    assert_int_equal(now_size, good_size);
    free(now);
    rt = runtime_with_kernel_dir(kdir, cdir);
    run_double(rt, 2.0f);
    terracl_runtime_destroy(rt);

    free(good);
    free(other);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", kdir, cdir);
    assert_int_equal(system(cmd), 0);
}

/* A damaged tuned-GEMM file (values whose products wrap to zero, huge and
 * fractional numbers) is ignored at runtime creation, not divided by. */
static void test_damaged_gemm_file_ignored(void **state)
{
    (void)state;
    char cdir[] = "/tmp/terracl-cache-XXXXXX";
    assert_non_null(mkdtemp(cdir));
    terracl_error err = {0};
    struct terracl_runtime_params p = {0};
    p.cache_dir = cdir;
    terracl_runtime *rt = NULL;
    TC_ASSERT_OK(terracl_runtime_create(&p, &rt, &err), err);
    char path[1300], gemm_dir[600];
    tc_gemm_params_path(rt, path, sizeof path);
    terracl_runtime_destroy(rt);
    snprintf(gemm_dir, sizeof gemm_dir, "%s/gemm", cdir);
    assert_int_equal(mkdir(gemm_dir, 0755), 0);
    write_text(path,
               "default GEMMK=0 KREG=1 KWG=64 KWI=8 MDIMA=2 MDIMC=9223372036854775808 MWG=32 "
               "NDIMB=1 NDIMC=2 NWG=16 SA=0 SB=0 STRM=1 STRN=0 VWM=16 VWN=8\n"
               "shape 64 64 64 0 0 gflops=nan GEMMK=0 KREG=1 KWG=1e300 KWI=8 MDIMA=2 MDIMC=2 "
               "MWG=32 NDIMB=1 NDIMC=1 NWG=16 SA=0 SB=0 STRM=1 STRN=0 VWM=16 VWN=8\n");
    TC_ASSERT_OK(terracl_runtime_create(&p, &rt, &err), err);
    assert_false(tc_gemm_table_tuned(tc_runtime_gemm_table(rt)));
    terracl_runtime_destroy(rt);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", cdir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    tc_test_runtime_or_skip();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_count_and_info),
        cmocka_unit_test(test_device_select_forms),
        cmocka_unit_test(test_device_select_no_match_lists_devices),
        cmocka_unit_test(test_buffer_roundtrip_and_bounds),
        cmocka_unit_test(test_buffer_reuse),
        cmocka_unit_test(test_kernel_profile),
        cmocka_unit_test(test_unknown_program_and_kernel),
        cmocka_unit_test(test_build_failure_returns_log),
        cmocka_unit_test(test_program_cache_written_reused_and_repaired),
        cmocka_unit_test(test_program_cache_entries_verified),
        cmocka_unit_test(test_damaged_gemm_file_ignored),
    };
    int rc = cmocka_run_group_tests_name("runtime", tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

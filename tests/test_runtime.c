/* Runtime: device listing and selection, buffers, program cache, errors. */
#include "test_common.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

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
    };
    int rc = cmocka_run_group_tests_name("runtime", tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

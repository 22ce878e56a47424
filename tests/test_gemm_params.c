/*
 * The tuned-GEMM parameter parser: values out of range (huge, negative,
 * fractional, NaN, products that wrap to zero) make a set invalid instead of
 * reaching a cast or a division; the parser is reentrant (two threads parse
 * at once and each gets its own answer).
 */
#include "test_common.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "runtime/gemm_params.h"

#define GOOD "GEMMK=0 KREG=1 KWG=64 KWI=8 MDIMA=2 MDIMC=2 MWG=32 NDIMB=1 NDIMC=1 NWG=16 " \
             "SA=0 SB=0 STRM=1 STRN=0 VWM=16 VWN=8"

static void test_good_set_parses(void **state)
{
    (void)state;
    struct tc_gemm_set s;
    double g = -1;
    assert_true(tc_gemm_parse_set(GOOD " min_indirect=64 gflops=12.5\n", &s, &g));
    assert_int_equal(s.xgemm[2], 64);
    assert_int_equal(s.min_indirect, 64);
    assert_true(g == 12.5);
}

/* Replaces the value of `name` in GOOD by `value` and parses the result. */
static int parse_with(const char *name, const char *value)
{
    char text[512], key[32];
    snprintf(key, sizeof key, " %s=", name);
    char base[512] = " " GOOD;
    char *at = strstr(base, key);
    assert_non_null(at);
    char *val_end = strchr(at + strlen(key), ' ');
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - base + strlen(key)), base, value,
             val_end ? val_end : "");
    struct tc_gemm_set s;
    double g;
    return tc_gemm_parse_set(text, &s, &g);
}

static void test_damaged_values_rejected(void **state)
{
    (void)state;
    /* 2^63 * VWM wraps to 0: the divisibility check divided by it. */
    assert_false(parse_with("MDIMC", "9223372036854775808"));
    assert_false(parse_with("NDIMC", "9223372036854775808"));
    assert_false(parse_with("MDIMA", "18446744073709551615"));
    assert_false(parse_with("KWG", "1e300"));
    assert_false(parse_with("KWG", "nan"));
    assert_false(parse_with("KWG", "-8"));
    assert_false(parse_with("KWG", "64.5"));
    assert_false(parse_with("KWI", "0"));
    assert_false(parse_with("VWM", "99999999999999999999999"));
    assert_false(parse_with("GEMMK", "2"));
    struct tc_gemm_set s;
    double g;
    assert_false(tc_gemm_parse_set(GOOD " gflops=nan", &s, &g));
    assert_false(tc_gemm_parse_set(GOOD " gflops=inf", &s, &g));
    assert_false(tc_gemm_parse_set(GOOD " min_indirect=1e300", &s, &g));
    assert_false(tc_gemm_parse_set(GOOD " min_indirect=-1", &s, &g));
    assert_false(tc_gemm_parse_set(GOOD " NOT_A_PARAM=1", &s, &g));
    assert_false(tc_gemm_parse_set(GOOD " =", &s, &g));
    assert_false(tc_gemm_parse_set("GEMMK=0 KREG=1", &s, &g)); /* incomplete */
    assert_false(tc_gemm_parse_set("", &s, &g));
    /* And directly: a set whose products wrap is invalid, not a SIGFPE. */
    assert_true(tc_gemm_parse_set(GOOD, &s, &g));
    s.xgemm[5] = (size_t)1 << 63;
    assert_false(tc_gemm_set_valid(&s));
}

struct parse_job {
    const char *text;
    size_t kwg;
    int ok;
};

static void *parse_many(void *arg)
{
    struct parse_job *j = arg;
    j->ok = 1;
    for (int i = 0; i < 20000 && j->ok; i++) {
        struct tc_gemm_set s;
        double g;
        j->ok = tc_gemm_parse_set(j->text, &s, &g) && s.xgemm[2] == j->kwg;
    }
    return NULL;
}

static void test_parsing_is_reentrant(void **state)
{
    (void)state;
    struct parse_job a = {GOOD " gflops=1", 64, 0};
    struct parse_job b = {"GEMMK=0 KREG=1 KWG=32 KWI=2 MDIMA=8 MDIMC=8 MWG=64 NDIMB=8 NDIMC=8 "
                          "NWG=64 SA=0 SB=0 STRM=0 STRN=0 VWM=1 VWN=1 gflops=2",
                          32, 0};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, parse_many, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, parse_many, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_true(a.ok);
    assert_true(b.ok);
}

/* The native kernels' line: both values, in range, K blocks multiples of
 * 16, an optional implicit-convolution tile and 1x1 K block; anything else
 * is refused (the loader then keeps the defaults). */
static void test_native_params(void **state)
{
    (void)state;
    struct tc_native_params p = {1, 1, 3, 7, 9, 5};
    assert_true(tc_native_parse("packed_kc=128 conv_block_kib=512\n", &p));
    assert_int_equal(p.packed_kc, 128);
    assert_int_equal(p.conv_block_kib, 512);
    assert_int_equal(p.conv_tile, tc_native_default.conv_tile); /* a file from before the tile */
    assert_int_equal(p.nn_kc, tc_native_default.nn_kc);         /* ... and the 1x1 K block */
    assert_int_equal(p.item_steps, tc_native_default.item_steps);   /* ... and the NN strips */
    assert_int_equal(p.strip_kib, tc_native_default.strip_kib);     /* ... and the L2 share */
    assert_true(tc_native_parse("packed_kc=0 conv_block_kib=256 item_steps=0", &p));
    assert_int_equal(p.item_steps, 0);
    assert_true(tc_native_parse("item_steps=2048 packed_kc=0 conv_block_kib=256", &p));
    assert_int_equal(p.item_steps, 2048);
    assert_true(tc_native_parse("packed_kc=0 conv_block_kib=256 nn_kc=0", &p));
    assert_int_equal(p.nn_kc, 0);
    assert_true(tc_native_parse("nn_kc=1024 packed_kc=0 conv_block_kib=256", &p));
    assert_int_equal(p.nn_kc, 1024);
    assert_true(tc_native_parse("packed_kc=0 conv_tile=2 conv_block_kib=512", &p));
    assert_int_equal(p.conv_tile, 2);
    assert_true(tc_native_parse("conv_block_kib=64 packed_kc=0", &p));
    assert_int_equal(p.packed_kc, 0);
    char text[128];
    struct tc_native_params q;
    assert_true(tc_native_parse(tc_native_str(&tc_native_default, text, sizeof text), &q));
    assert_int_equal(q.packed_kc, tc_native_default.packed_kc);
    assert_int_equal(q.conv_block_kib, tc_native_default.conv_block_kib);
    assert_int_equal(q.nn_kc, tc_native_default.nn_kc);
    assert_int_equal(q.item_steps, tc_native_default.item_steps);
    struct tc_native_params r = {64, 128, TC_CONV_TILES - 1, 256, 768, 1024};
    assert_true(tc_native_parse(tc_native_str(&r, text, sizeof text), &q));
    assert_int_equal(q.strip_kib, 1024);
    assert_int_equal(q.conv_tile, TC_CONV_TILES - 1);
    assert_int_equal(q.nn_kc, 256);
    assert_int_equal(q.item_steps, 768);
    assert_true(tc_native_parse("packed_kc=0 conv_block_kib=256 strip_kib=0", &q));
    assert_int_equal(q.strip_kib, 0);
    static const char *const bad[] = {
        "packed_kc=128",                             /* a value missing */
        "packed_kc=100 conv_block_kib=256",          /* not a multiple of 16 */
        "packed_kc=8 conv_block_kib=256",            /* below 16 */
        "packed_kc=8192 conv_block_kib=256",         /* above 4096 */
        "packed_kc=128 conv_block_kib=8",            /* block below 16 KiB */
        "packed_kc=128 conv_block_kib=99999999999",  /* out of range */
        "packed_kc=-16 conv_block_kib=256",          /* negative */
        "packed_kc=1.5 conv_block_kib=256",          /* fractional */
        "packed_kc=128 conv_block_kib=256 extra=1",  /* unknown key */
        "packed_kc 128 conv_block_kib=256",          /* no '=' */
        "packed_kc=0 conv_block_kib=256 conv_tile=9", /* no such tile */
        "packed_kc=0 conv_block_kib=256 nn_kc=8",    /* 1x1 K block below 16 */
        "packed_kc=0 conv_block_kib=256 nn_kc=520",  /* not a multiple of 16 */
        "packed_kc=0 conv_block_kib=256 item_steps=70000", /* above 65536 */
        "packed_kc=0 conv_block_kib=256 strip_kib=32", /* an L2 share below 64 KiB */
        "conv_tile=1",                               /* the required values missing */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (tc_native_parse(bad[i], &p))
            fail_msg("accepted '%s'", bad[i]);
}

/* The shipped set follows the CPU it was measured on: PoCL's name for an
 * Intel Xeon gets 1x1 sums in blocks of 256 and strips sized for 2 MiB of
 * L2, other CPUs and other device types the general default. */
static void test_native_shipped_by_device(void **state)
{
    (void)state;
    struct terracl_device_info xeon = {0}, epyc = {0}, llvmpipe = {0}, gpu = {0};
    snprintf(xeon.type, sizeof xeon.type, "cpu");
    snprintf(xeon.vendor, sizeof xeon.vendor, "GenuineIntel");
    snprintf(xeon.name, sizeof xeon.name, "pthread-skylake-avx512-Intel(R) Xeon(R) Processor");
    snprintf(epyc.type, sizeof epyc.type, "cpu");
    snprintf(epyc.vendor, sizeof epyc.vendor, "AuthenticAMD");
    snprintf(epyc.name, sizeof epyc.name, "pthread-znver4-AMD EPYC 9R14 96-Core Processor");
    snprintf(llvmpipe.type, sizeof llvmpipe.type, "cpu");
    snprintf(llvmpipe.vendor, sizeof llvmpipe.vendor, "Mesa");
    snprintf(llvmpipe.name, sizeof llvmpipe.name, "llvmpipe (LLVM 15.0.6, 256 bits)");
    gpu = xeon; /* a GPU whose strings happen to match */
    snprintf(gpu.type, sizeof gpu.type, "gpu");
    assert_int_equal(tc_native_shipped(&xeon)->nn_kc, 256);
    assert_int_equal(tc_native_shipped(&xeon)->packed_kc, tc_native_default.packed_kc);
    assert_int_equal(tc_native_shipped(&xeon)->conv_block_kib, tc_native_default.conv_block_kib);
    assert_int_equal(tc_native_shipped(&xeon)->item_steps, tc_native_default.item_steps);
    assert_int_equal(tc_native_shipped(&xeon)->strip_kib, 2048);
    assert_int_equal(tc_native_default.strip_kib, 0);
    /* A tune file written before nn_kc and strip_kib existed keeps the
     * Xeon's shipped values for them. */
    struct tc_native_params p;
    assert_true(tc_native_parse_over("packed_kc=128 conv_block_kib=512", tc_native_shipped(&xeon),
                                     &p));
    assert_int_equal(p.packed_kc, 128);
    assert_int_equal(p.nn_kc, 256);
    assert_int_equal(p.strip_kib, 2048);
    assert_true(tc_native_parse_over("packed_kc=0 conv_block_kib=256 strip_kib=0 nn_kc=512",
                                     tc_native_shipped(&xeon), &p));
    assert_int_equal(p.nn_kc, 512);
    assert_int_equal(p.strip_kib, 0);
    assert_ptr_equal(tc_native_shipped(&epyc), &tc_native_default);
    assert_ptr_equal(tc_native_shipped(&llvmpipe), &tc_native_default);
    assert_ptr_equal(tc_native_shipped(&gpu), &tc_native_default);
    assert_int_equal(tc_native_default.nn_kc, 512);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_set_parses),
        cmocka_unit_test(test_damaged_values_rejected),
        cmocka_unit_test(test_parsing_is_reentrant),
        cmocka_unit_test(test_native_params),
        cmocka_unit_test(test_native_shipped_by_device),
    };
    return cmocka_run_group_tests_name("gemm_params", tests, NULL, NULL);
}

/*
 * Shared test helpers: the includes cmocka 1.1 wants first, a runtime on
 * the default device (or exit 77 = skipped when there is none), random
 * data and error metrics.
 */
#ifndef TC_TEST_COMMON_H
#define TC_TEST_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "graph/tensor.h"
#include "terracl/terracl.h"

/* The runtime shared by a test executable's cases; created by
 * tc_test_runtime_or_skip in main(). */
extern terracl_runtime *tc_test_rt;

/* Creates tc_test_rt on the default device (TERRACL_DEVICE respected);
 * when no device exists prints why and exits with 77 (ctest: skipped). */
void tc_test_runtime_or_skip(void);
void tc_test_runtime_release(void);

/* Deterministic pseudo-random floats in [lo, hi). */
void tc_test_fill(float *x, size_t n, uint32_t seed, float lo, float hi);
/* sqrt(sum (got-want)^2 / sum want^2) */
double tc_test_rel_l2(const float *got, const float *want, size_t n);
double tc_test_max_abs(const float *got, const float *want, size_t n);

/* A new device tensor holding host data, and a malloc'ed host copy of a
 * device tensor; both fail the test on error. */
struct tc_tensor tc_test_upload(const float *host, int ndim, const int64_t *dims);
float *tc_test_download(const struct tc_tensor *t);

/* A fresh temporary folder per test, as cmocka setup/teardown: the state
 * is the folder; tc_test_in_tmpdir names a file in it. Teardown removes the
 * folder and everything below (making read-only folders writable first). */
int tc_test_tmpdir_setup(void **state);
int tc_test_tmpdir_teardown(void **state);
const char *tc_test_in_tmpdir(void **state, const char *name, char *buf, size_t cap);
const char *tc_test_tmpdir(void **state);

/* The YAML text as a value (the test fails when it does not parse). */
terracl_value *tc_test_yaml(const char *text);
/* Builds backbone `name` from the BACKBONE registry; `args`: YAML text of
 * its arguments, or NULL. */
terracl_status tc_test_build_backbone(const char *name, const char *args, terracl_module **m,
                                      terracl_error *err);
/* Builds it and checks the channel list it reports: want[0..n). */
void tc_test_expect_channels(const char *name, const char *args, const int64_t *want, size_t n);

/* Fails the test with the error message when st is not OK. */
#define TC_ASSERT_OK(st, err)                                                                      \
    do {                                                                                           \
        terracl_status st_ = (st);                                                                 \
        if (st_ != TERRACL_OK)                                                                     \
            fail_msg("%s: %s", terracl_status_name(st_), (err).message);                          \
    } while (0)

#endif /* TC_TEST_COMMON_H */

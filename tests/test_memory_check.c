/*
 * Runs are checked against the memory they need before anything is
 * allocated: an input declared far larger than any device can hold fails
 * at once with a message naming the tensor and the sizes, without the data
 * being read (here the image buffer is tiny: a run that read it would
 * read past its end, which AddressSanitizer reports).
 */
#include "test_common.h"

#include <string.h>

static terracl_model *load_tiny(void)
{
    char cfg[1024], w[1024];
    const char *root = getenv("TERRACL_FIXTURES");
    snprintf(cfg, sizeof cfg, "%s/bb_tiny/config.yaml", root);
    snprintf(w, sizeof w, "%s/bb_tiny/weights.h5", root);
    terracl_model *m = NULL;
    terracl_error err = {0};
    TC_ASSERT_OK(terracl_model_load(tc_test_rt, cfg, w, &m, &err), err);
    return m;
}

static void test_declared_huge_input_fails_at_once(void **state)
{
    (void)state;
    terracl_model *m = load_tiny();
    terracl_error err = {0};
    int64_t huge[4] = {1, 6, 65536, 65536};
    assert_int_equal(terracl_model_check_input(m, 4, huge, &err), TERRACL_ERR_NO_MEMORY);
    assert_non_null(strstr(err.message, "input [1, 6, 65536, 65536]"));
    assert_non_null(strstr(err.message, "GiB"));
    assert_non_null(strstr(err.message, terracl_runtime_device(tc_test_rt)->name));

    /* terracl_model_run makes the same check before touching the data. */
    float tiny[4] = {0};
    struct terracl_inputs in = {0};
    in.image.data = tiny;
    in.image.ndim = 4;
    memcpy(in.image.dims, huge, sizeof huge);
    struct terracl_tensor out = {0};
    assert_int_equal(terracl_model_run(m, &in, &out, &err), TERRACL_ERR_NO_MEMORY);
    assert_null(out.data);

    /* Absurd shapes saturate instead of wrapping to something small. */
    int64_t wrap[5] = {1 << 30, 6, 1 << 30, 1 << 30, 1 << 30};
    assert_int_equal(terracl_model_check_input(m, 5, wrap, &err), TERRACL_ERR_NO_MEMORY);
    int64_t zero[4] = {1, 6, 0, 32};
    assert_int_equal(terracl_model_check_input(m, 4, zero, &err), TERRACL_ERR_SHAPE);

    /* An ordinary input passes. */
    int64_t fine[4] = {2, 6, 64, 64};
    TC_ASSERT_OK(terracl_model_check_input(m, 4, fine, &err), err);
    terracl_model_destroy(m);
}

/* Whole models go through the same check (their estimate adds the padded
 * input and the pixel-wise output maps to the backbone's). */
static void test_whole_model_checked(void **state)
{
    (void)state;
    char cfg[1024], w[1024];
    const char *root = getenv("TERRACL_FIXTURES");
    snprintf(cfg, sizeof cfg, "%s/ex_multi_temporal_crop/config.yaml", root);
    snprintf(w, sizeof w, "%s/ex_multi_temporal_crop/weights.h5", root);
    terracl_model *m = NULL;
    terracl_error err = {0};
    TC_ASSERT_OK(terracl_model_load(tc_test_rt, cfg, w, &m, &err), err);
    int64_t big[5] = {1, 6, 3, 20000, 20000};
    assert_int_equal(terracl_model_check_input(m, 5, big, &err), TERRACL_ERR_NO_MEMORY);
    assert_non_null(strstr(err.message, "input [1, 6, 3, 20000, 20000]"));
    int64_t fine[5] = {1, 6, 3, 40, 36};
    TC_ASSERT_OK(terracl_model_check_input(m, 5, fine, &err), err);
    terracl_model_destroy(m);
}

int main(void)
{
    tc_test_runtime_or_skip();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_declared_huge_input_fails_at_once),
        cmocka_unit_test(test_whole_model_checked),
    };
    int rc = cmocka_run_group_tests_name("memory_check", tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

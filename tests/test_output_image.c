/*
 * PNG pictures of outputs: a regression map holding NaN and infinities is
 * drawn from its finite range (NaN black, infinities at the ends) instead of
 * casting out-of-range floats to unsigned char, and pictures get the file
 * mode HDF5 outputs get (0666 minus the umask), not mkstemp's 0600.
 */
#include "test_common.h"

#include <png.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/output_image.h"

/* Reads an 8-bit greyscale PNG into a malloc'ed buffer. */
static unsigned char *read_grey(const char *path, unsigned *w, unsigned *h)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_file(&img, path));
    img.format = PNG_FORMAT_GRAY;
    unsigned char *buf = malloc(PNG_IMAGE_SIZE(img));
    assert_non_null(buf);
    assert_true(png_image_finish_read(&img, NULL, buf, 0, NULL));
    *w = img.width;
    *h = img.height;
    return buf;
}

static void test_regression_non_finite_values(void **state)
{
    char path[512];
    tc_test_in_tmpdir(state, "map.png", path, sizeof path);
    float data[8] = {NAN, INFINITY, -INFINITY, 0.0f, 1.0f, 2.0f, 4.0f, -1.0f};
    struct terracl_tensor out = {0};
    out.data = data;
    out.ndim = 3;
    out.dims[0] = 1;
    out.dims[1] = 2;
    out.dims[2] = 4;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_write_output_png(path, "regression", &out, &err), err);
    unsigned w = 0, h = 0;
    unsigned char *g = read_grey(path, &w, &h);
    assert_int_equal(w, 4);
    assert_int_equal(h, 2);
    assert_int_equal(g[0], 0);   /* NaN */
    assert_int_equal(g[1], 255); /* +inf */
    assert_int_equal(g[2], 0);   /* -inf */
    assert_int_equal(g[7], 0);   /* finite minimum -1 */
    assert_int_equal(g[6], 255); /* finite maximum 4 */
    assert_int_equal(g[3], 51);  /* 0 on [-1, 4] */
    assert_int_equal(g[5], 153); /* 2 on [-1, 4] */
    free(g);

    /* Only non-finite values: still a picture. */
    float odd[4] = {NAN, NAN, INFINITY, -INFINITY};
    out.data = odd;
    out.dims[1] = 1;
    TC_ASSERT_OK(tc_write_output_png(path, "regression", &out, &err), err);
    g = read_grey(path, &w, &h);
    assert_true(g[0] == 0 && g[1] == 0 && g[2] == 255 && g[3] == 0);
    free(g);
}

static void test_png_mode_matches_h5_outputs(void **state)
{
    char path[512];
    tc_test_in_tmpdir(state, "mode.png", path, sizeof path);
    float data[4] = {0, 1, 2, 3};
    struct terracl_tensor out = {0};
    out.data = data;
    out.ndim = 3;
    out.dims[0] = 1;
    out.dims[1] = 2;
    out.dims[2] = 2;
    terracl_error err = {0};
    mode_t mask = umask(022);
    TC_ASSERT_OK(tc_write_output_png(path, "regression", &out, &err), err);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);
    /* A replaced file keeps its own mode. */
    assert_int_equal(chmod(path, 0640), 0);
    TC_ASSERT_OK(tc_write_output_png(path, "regression", &out, &err), err);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);
    umask(mask);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regression_non_finite_values),
        cmocka_unit_test(test_png_mode_matches_h5_outputs),
    };
    return cmocka_run_group_tests(tests, tc_test_tmpdir_setup, tc_test_tmpdir_teardown);
}

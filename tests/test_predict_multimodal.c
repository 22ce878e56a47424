/*
 * Multimodal scene prediction against TerraTorch (tests/fixtures/scenes/mm,
 * made by tools/make_scene_fixtures.py: a reduced TerraMind + UNet with
 * S2L2A and S1GRD; GenericMultimodalSegmentationDataset reads the two
 * scenes with per-modality bands, constant_scale and nodata, its
 * MultimodalNormalize, tiled_inference with a dict and save_prediction
 * from the first file make the expected output). Through
 * terracl_predict_scenes:
 *   - logits match to relative L2 <= 1e-4, and do not depend on the order
 *     the scenes are given in,
 *   - the class map equals save_prediction's, with -1 on the first scene's
 *     nodata pixels only, and the georeferencing is the first scene's,
 *   - a scene off the grid (size, geotransform), a missing, unknown or
 *     repeated modality are refused naming the modality, leaving nothing,
 *     and a missing one runs when allow_missing_modalities is set.
 */
#include "test_common.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/geotiff.h"
#include "io/tensor_file.h"

static char g_dir[4096];

static void path_in(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", g_dir, name);
}

/* Band 0..bands-1 of a GeoTIFF as float [bands][H][W]. */
static float *read_all(const char *path, struct tc_raster **keep)
{
    struct tc_raster *r = NULL;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_raster_open(path, &r, &err), err);
    const struct tc_raster_info *info = tc_raster_info(r);
    size_t plane = (size_t)(info->width * info->height);
    double *tmp = malloc(plane * sizeof(double));
    float *out = malloc(plane * (size_t)info->bands * sizeof(float));
    for (int b = 0; b < info->bands; b++) {
        TC_ASSERT_OK(tc_raster_read(r, b, 0, 0, info->width, info->height, tmp, &err), err);
        for (size_t i = 0; i < plane; i++)
            out[(size_t)b * plane + i] = (float)tmp[i];
    }
    free(tmp);
    *keep = r;
    return out;
}

struct fixture {
    terracl_model *model;
    terracl_predictor *p;
    char s2[4200], s1[4200], expected[4200];
};

static void load(struct fixture *f)
{
    char config[4200], weights[4200];
    path_in(config, sizeof config, "config.yaml");
    path_in(weights, sizeof weights, "weights.h5");
    path_in(f->s2, sizeof f->s2, "s2.tif");
    path_in(f->s1, sizeof f->s1, "s1.tif");
    path_in(f->expected, sizeof f->expected, "expected.h5");
    terracl_error err = {0};
    TC_ASSERT_OK(terracl_model_load(tc_test_rt, config, weights, &f->model, &err), err);
    TC_ASSERT_OK(terracl_predictor_create(f->model, &f->p, &err), err);
}

static void unload(struct fixture *f)
{
    terracl_predictor_destroy(f->p);
    terracl_model_destroy(f->model);
}

static void check_georef(struct tc_raster *got, const char *scene)
{
    struct tc_raster *in = NULL;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_raster_open(scene, &in, &err), err);
    char what[512];
    assert_false(tc_raster_grid_differs(in, got, what, sizeof what));
    double g1[6], g2[6];
    const char *w1, *w2;
    assert_true(tc_raster_georef(got, g1, &w1));
    assert_true(tc_raster_georef(in, g2, &w2));
    for (int i = 0; i < 6; i++)
        assert_true(g1[i] == g2[i]);
    assert_string_equal(w1, w2);
    tc_raster_close(in);
}

static double logits_error(const char *path, const struct tc_host_tensor *want)
{
    struct tc_raster *r = NULL;
    float *got = read_all(path, &r);
    const struct tc_raster_info *info = tc_raster_info(r);
    assert_int_equal((size_t)info->bands * (size_t)(info->width * info->height), want->count);
    double e = tc_test_rel_l2(got, want->data, want->count);
    tc_raster_close(r);
    free(got);
    return e;
}

static void test_parity(void **state)
{
    struct fixture f = {0};
    load(&f);
    assert_int_equal(terracl_model_modality_count(f.model), 2);
    char out_logits[4200], out_swapped[4200], out_pred[4200];
    tc_test_in_tmpdir(state, "logits.tif", out_logits, sizeof out_logits);
    tc_test_in_tmpdir(state, "swapped.tif", out_swapped, sizeof out_swapped);
    tc_test_in_tmpdir(state, "pred.tif", out_pred, sizeof out_pred);
    terracl_error err = {0};
    struct terracl_predict_options opt = {0};
    struct terracl_predict_result res;
    struct terracl_scene_input scenes[2] = {{"S2L2A", f.s2}, {"S1GRD", f.s1}};
    opt.logits = 1;
    TC_ASSERT_OK(terracl_predict_scenes(f.p, scenes, 2, out_logits, &opt, &res, &err), err);
    assert_true(res.tiled);
    assert_true(res.georeferenced);
    assert_true(res.chips > 1);
    struct tc_host_tensor want = {0}, want_pred = {0};
    TC_ASSERT_OK(tc_tensor_file_read(f.expected, "logits", &want, &err), err);
    double e = logits_error(out_logits, &want);
    printf("  mm: logits relative L2 %.3g (%lld chips)\n", e, (long long)res.chips);
    if (!(e <= 1e-4))
        fail_msg("mm: logits relative L2 %.3g exceeds 1e-4", e);

    /* The model takes the modalities in its own order, whatever the
     * caller's; the first scene only decides the output's grid. */
    struct terracl_scene_input swapped[2] = {{"S1GRD", f.s1}, {"S2L2A", f.s2}};
    TC_ASSERT_OK(terracl_predict_scenes(f.p, swapped, 2, out_swapped, &opt, &res, &err), err);
    e = logits_error(out_swapped, &want);
    printf("  mm: scenes in the other order: logits relative L2 %.3g\n", e);
    if (!(e <= 1e-4))
        fail_msg("mm: swapped order: relative L2 %.3g exceeds 1e-4", e);

    opt.logits = 0;
    TC_ASSERT_OK(terracl_predict_scenes(f.p, scenes, 2, out_pred, &opt, &res, &err), err);
    TC_ASSERT_OK(tc_tensor_file_read(f.expected, "pred", &want_pred, &err), err);
    struct tc_raster *r = NULL;
    float *got = read_all(out_pred, &r);
    assert_int_equal(tc_raster_info(r)->bands, 1);
    assert_string_equal(tc_raster_info(r)->type_name, "Int16");
    size_t n = want_pred.count, differ = 0, masked = 0;
    assert_int_equal(n, (size_t)(res.width * res.height));
    for (size_t i = 0; i < n; i++) {
        masked += want_pred.data[i] == -1.0f;
        differ += got[i] != want_pred.data[i];
    }
    printf("  mm: prediction: %zu of %zu pixels differ, %zu nodata\n", differ, n, masked);
    assert_true(masked > 0);
    assert_int_equal(differ, 0);
    check_georef(r, f.s2);
    tc_raster_close(r);
    free(got);
    tc_host_tensor_free(&want);
    tc_host_tensor_free(&want_pred);
    unload(&f);
}

static size_t count_entries(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0);
    if (d != NULL)
        closedir(d);
    return n;
}

/* Runs `scenes`, expects `want` with every phrase of `phrases` in the message. */
static void refused(struct fixture *f, void **state, const struct terracl_scene_input *scenes,
                    size_t n, terracl_status want, const char *const *phrases)
{
    char out[4200];
    tc_test_in_tmpdir(state, "refused.tif", out, sizeof out);
    terracl_error err = {0};
    struct terracl_predict_options opt = {0};
    terracl_status st = terracl_predict_scenes(f->p, scenes, n, out, &opt, NULL, &err);
    printf("  refused: %s\n", err.message);
    assert_int_equal(st, want);
    for (; *phrases != NULL; phrases++)
        if (strstr(err.message, *phrases) == NULL)
            fail_msg("message '%s' lacks '%s'", err.message, *phrases);
    assert_int_equal(count_entries(tc_test_tmpdir(state)), 0);
}

static void test_refusals(void **state)
{
    struct fixture f = {0};
    load(&f);
    char shifted[4200], narrow[4200];
    path_in(shifted, sizeof shifted, "s1_shifted.tif");
    path_in(narrow, sizeof narrow, "s1_narrow.tif");
    {
        struct terracl_scene_input s[2] = {{"S2L2A", f.s2}, {"S1GRD", shifted}};
        const char *p[] = {"modality S1GRD", "s1_shifted.tif", "geotransform (600010", NULL};
        refused(&f, state, s, 2, TERRACL_ERR_SHAPE, p);
    }
    {
        struct terracl_scene_input s[2] = {{"S2L2A", f.s2}, {"S1GRD", narrow}};
        const char *p[] = {"modality S1GRD", "size 38 x 45 (width x height) instead of 39 x 45",
                           NULL};
        refused(&f, state, s, 2, TERRACL_ERR_SHAPE, p);
    }
    {
        struct terracl_scene_input s[1] = {{"S2L2A", f.s2}};
        const char *p[] = {"no scene for modality S1GRD", "S2L2A, S1GRD", NULL};
        refused(&f, state, s, 1, TERRACL_ERR_INVALID_ARG, p);
    }
    {
        struct terracl_scene_input s[2] = {{"S2L2A", f.s2}, {"S1RTC", f.s1}};
        const char *p[] = {"modality 'S1RTC' is not one of the model's modalities (S2L2A, S1GRD)",
                           NULL};
        refused(&f, state, s, 2, TERRACL_ERR_INVALID_ARG, p);
    }
    {
        struct terracl_scene_input s[2] = {{"S2L2A", f.s2}, {"S2L2A", f.s1}};
        const char *p[] = {"modality S2L2A is given twice", NULL};
        refused(&f, state, s, 2, TERRACL_ERR_INVALID_ARG, p);
    }
    {
        /* A plain scene is the first modality; the second is missing. */
        char out[4200];
        tc_test_in_tmpdir(state, "plain.tif", out, sizeof out);
        terracl_error err = {0};
        assert_int_equal(terracl_predict_scene(f.p, f.s2, out, NULL, NULL, &err),
                         TERRACL_ERR_INVALID_ARG);
        assert_non_null(strstr(err.message, "no scene for modality S1GRD"));
    }
    /* Allowed missing modalities: S1GRD alone runs (TerraTorch merges the
     * modalities given), on S1GRD's grid. */
    char out[4200];
    tc_test_in_tmpdir(state, "s1_only.tif", out, sizeof out);
    struct terracl_scene_input s[1] = {{"S1GRD", f.s1}};
    struct terracl_predict_options opt = {0};
    struct terracl_predict_result res;
    terracl_error err = {0};
    opt.allow_missing_modalities = 1;
    TC_ASSERT_OK(terracl_predict_scenes(f.p, s, 1, out, &opt, &res, &err), err);
    struct tc_raster *r = NULL;
    float *got = read_all(out, &r);
    check_georef(r, f.s1);
    tc_raster_close(r);
    free(got);
    unload(&f);
}

int main(void)
{
    const char *root = getenv("TERRACL_FIXTURES");
    if (root == NULL) {
        fprintf(stderr, "TERRACL_FIXTURES is not set\n");
        return 1;
    }
    snprintf(g_dir, sizeof g_dir, "%s/scenes/mm", root);
    tc_test_runtime_or_skip();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parity, tc_test_tmpdir_setup, tc_test_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_refusals, tc_test_tmpdir_setup, tc_test_tmpdir_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

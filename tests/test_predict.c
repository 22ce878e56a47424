/*
 * Scene prediction against TerraTorch (tests/fixtures/scenes/{seg,reg,t2},
 * made by tools/make_scene_fixtures.py with the real terratorch: its
 * dataset reads the scene, its Normalize and tiled_inference run, its
 * save_prediction writes the prediction). Through the public call
 * terracl_predict_scene, as a C program would use it:
 *   - logits (tiled, blended) match to relative L2 <= 1e-4,
 *   - the prediction file matches save_prediction's (class maps equal,
 *     regression values to 1e-4, -1 on the same nodata pixels),
 *   - size, geotransform and projection equal the input's,
 *   - one forward pass over the whole scene without tiling parameters,
 *   - an existing output is kept unless overwrite, and failures leave
 *     nothing behind,
 *   - a scene run in parts (terracl_predict_split, parts in turn in this
 *     process) joins into the same output as the whole scene.
 */
#include "test_common.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/geotiff.h"
#include "io/tensor_file.h"

static char g_root[4096];

static void path_in(char *buf, size_t cap, const char *fixture, const char *name)
{
    snprintf(buf, cap, "%s/%s/%s", g_root, fixture, name);
}

/* Reads every band of a GeoTIFF as float [bands][H][W]. */
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

static terracl_predictor *load(const char *fixture, const char *config_name, terracl_model **model)
{
    char config[4200], weights[4200];
    path_in(config, sizeof config, fixture, config_name);
    path_in(weights, sizeof weights, fixture, "weights.h5");
    terracl_error err = {0};
    TC_ASSERT_OK(terracl_model_load(tc_test_rt, config, weights, model, &err), err);
    terracl_predictor *p = NULL;
    TC_ASSERT_OK(terracl_predictor_create(*model, &p, &err), err);
    return p;
}

static void check_georef(struct tc_raster *got, const char *scene)
{
    struct tc_raster *in = NULL;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_raster_open(scene, &in, &err), err);
    assert_int_equal(tc_raster_info(got)->width, tc_raster_info(in)->width);
    assert_int_equal(tc_raster_info(got)->height, tc_raster_info(in)->height);
    double g1[6], g2[6];
    const char *w1, *w2;
    assert_true(tc_raster_georef(got, g1, &w1));
    assert_true(tc_raster_georef(in, g2, &w2));
    for (int i = 0; i < 6; i++)
        assert_true(g1[i] == g2[i]);
    assert_string_equal(w1, w2);
    assert_true(strlen(w1) > 0);
    tc_raster_close(in);
}

struct progress_count {
    int64_t calls, last_chips, total;
};

static void count_progress(const struct terracl_predict_progress *p, void *user)
{
    struct progress_count *c = user;
    c->calls++;
    assert_true(p->chips_done >= c->last_chips);
    c->last_chips = p->chips_done;
    c->total = p->chips_total;
}

static void scene_case(void **state, const char *fixture, int segmentation)
{
    terracl_model *model = NULL;
    terracl_predictor *p = load(fixture, "config.yaml", &model);
    char scene[4200], expected[4200], out_logits[4200], out_pred[4200];
    path_in(scene, sizeof scene, fixture, "scene.tif");
    path_in(expected, sizeof expected, fixture, "expected.h5");
    tc_test_in_tmpdir(state, "scene_logits.tif", out_logits, sizeof out_logits);
    tc_test_in_tmpdir(state, "scene_pred.tif", out_pred, sizeof out_pred);
    terracl_error err = {0};
    struct terracl_predict_options opt = {0};
    struct terracl_predict_result res;
    struct progress_count pc = {0};
    opt.logits = 1;
    opt.progress = count_progress;
    opt.progress_user = &pc;
    TC_ASSERT_OK(terracl_predict_scene(p, scene, out_logits, &opt, &res, &err), err);
    assert_true(res.tiled);
    assert_true(res.georeferenced);
    assert_true(res.chips > 1);
    assert_int_equal(pc.last_chips, res.chips);
    assert_int_equal(pc.total, res.chips);

    struct tc_host_tensor want = {0}, want_pred = {0};
    TC_ASSERT_OK(tc_tensor_file_read(expected, "logits", &want, &err), err);
    struct tc_raster *r = NULL;
    float *got = read_all(out_logits, &r);
    assert_int_equal((size_t)tc_raster_info(r)->bands * (size_t)(res.width * res.height), want.count);
    assert_string_equal(tc_raster_info(r)->type_name, "Float32");
    double e = tc_test_rel_l2(got, want.data, want.count);
    printf("  %s: logits relative L2 %.3g (%lld chips)\n", fixture, e, (long long)res.chips);
    if (!(e <= 1e-4))
        fail_msg("%s: logits relative L2 %.3g exceeds 1e-4", fixture, e);
    check_georef(r, scene);
    tc_raster_close(r);
    free(got);

    opt.logits = 0;
    opt.progress = NULL;
    TC_ASSERT_OK(terracl_predict_scene(p, scene, out_pred, &opt, &res, &err), err);
    TC_ASSERT_OK(tc_tensor_file_read(expected, "pred", &want_pred, &err), err);
    got = read_all(out_pred, &r);
    assert_int_equal(tc_raster_info(r)->bands, 1);
    assert_string_equal(tc_raster_info(r)->type_name, segmentation ? "Int16" : "Float32");
    double nd = 0;
    assert_true(tc_raster_nodata(r, 0, &nd));
    assert_true(nd == -1.0);
    size_t n = want_pred.count, differ = 0, masked = 0;
    for (size_t i = 0; i < n; i++) {
        float a = got[i], b = want_pred.data[i];
        masked += b == -1.0f;
        if ((a == -1.0f) != (b == -1.0f))
            fail_msg("%s: pixel %zu: nodata mask differs (%g vs %g)", fixture, i, a, b);
        if (segmentation ? a != b : fabsf(a - b) > 1e-4f * (1.0f + fabsf(b)))
            differ++;
    }
    printf("  %s: prediction: %zu of %zu pixels differ, %zu nodata\n", fixture, differ, n, masked);
    assert_true(masked > 0);
    assert_int_equal(differ, 0);
    check_georef(r, scene);
    tc_raster_close(r);
    free(got);

    /* An existing output is kept unless overwrite. */
    struct stat before, after;
    assert_int_equal(stat(out_pred, &before), 0);
    TC_ASSERT_OK(terracl_predict_scene(p, scene, out_pred, &opt, &res, &err), err);
    assert_true(res.skipped);
    assert_int_equal(stat(out_pred, &after), 0);
    assert_true(before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
                before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);
    opt.overwrite = 1;
    TC_ASSERT_OK(terracl_predict_scene(p, scene, out_pred, &opt, &res, &err), err);
    assert_false(res.skipped);

    tc_host_tensor_free(&want);
    tc_host_tensor_free(&want_pred);
    terracl_predictor_destroy(p);
    terracl_model_destroy(model);

    /* Without tiling parameters: one pass over the whole odd-sized scene
     * (the model pads symmetrically and crops back). */
    p = load(fixture, "config_onepass.yaml", &model);
    char out_one[4200];
    tc_test_in_tmpdir(state, "onepass_logits.tif", out_one, sizeof out_one);
    opt.logits = 1;
    TC_ASSERT_OK(terracl_predict_scene(p, scene, out_one, &opt, &res, &err), err);
    assert_false(res.tiled);
    assert_int_equal(res.chips, 1);
    TC_ASSERT_OK(tc_tensor_file_read(expected, "logits_onepass", &want, &err), err);
    got = read_all(out_one, &r);
    e = tc_test_rel_l2(got, want.data, want.count);
    printf("  %s: one pass: logits relative L2 %.3g\n", fixture, e);
    if (!(e <= 1e-4))
        fail_msg("%s: one pass: relative L2 %.3g exceeds 1e-4", fixture, e);
    tc_raster_close(r);
    free(got);
    tc_host_tensor_free(&want);
    terracl_predictor_destroy(p);
    terracl_model_destroy(model);
}

/* Split scenes without MPI: the parts run one after another in this
 * process, the rows part k sends wait in memory for part k + 1. */
struct split_link {
    unsigned char *data[4];
    size_t bytes[4];
};
struct split_part {
    struct split_link *link;
    int part;
};

static terracl_status link_send(const void *data, size_t bytes, void *user, terracl_error *err)
{
    struct split_part *sp = user;
    unsigned char *copy = malloc(bytes ? bytes : 1);
    assert_non_null(copy);
    memcpy(copy, data, bytes);
    sp->link->data[sp->part] = copy;
    sp->link->bytes[sp->part] = bytes;
    return TERRACL_OK;
}

static terracl_status link_recv(void *data, size_t bytes, void *user, terracl_error *err)
{
    struct split_part *sp = user;
    assert_non_null(sp->link->data[sp->part - 1]);
    assert_int_equal(sp->link->bytes[sp->part - 1], bytes);
    memcpy(data, sp->link->data[sp->part - 1], bytes);
    return TERRACL_OK;
}

/* Runs `scene` in `parts` parts and joins them into `out`. */
static terracl_status run_split(terracl_predictor *p, const char *scene, const char *out, int parts,
                                int logits, terracl_error *err)
{
    struct split_link link = {0};
    terracl_status st = TERRACL_OK;
    for (int k = 0; k < parts && st == TERRACL_OK; k++) {
        struct split_part user = {&link, k};
        struct terracl_predict_split sp = {parts, k, link_send, link_recv, &user};
        struct terracl_predict_options opt = {0};
        opt.logits = logits;
        opt.split = &sp;
        struct terracl_predict_result res;
        st = terracl_predict_scene(p, scene, out, &opt, &res, err);
        if (st == TERRACL_OK)
            assert_true(res.rows > 0 && res.rows < res.height);
    }
    for (int k = 0; k < 4; k++)
        free(link.data[k]);
    return st != TERRACL_OK ? st : terracl_predict_join_parts(scene, out, parts, err);
}

/* A scene in parts joins into the whole scene's output: class maps equal,
 * logits and regression values to float rounding; no part files are left
 * behind. */
static void split_case(void **state, const char *fixture, int segmentation)
{
    terracl_model *model = NULL;
    terracl_predictor *p = load(fixture, "config.yaml", &model);
    char scene[4200], whole[4200], joined[4200];
    path_in(scene, sizeof scene, fixture, "scene.tif");
    terracl_error err = {0};
    for (int logits = 0; logits <= 1; logits++) {
        tc_test_in_tmpdir(state, logits ? "whole_logits.tif" : "whole_pred.tif", whole, sizeof whole);
        tc_test_in_tmpdir(state, logits ? "split_logits.tif" : "split_pred.tif", joined, sizeof joined);
        struct terracl_predict_options opt = {0};
        opt.logits = logits;
        TC_ASSERT_OK(terracl_predict_scene(p, scene, whole, &opt, NULL, &err), err);
        TC_ASSERT_OK(run_split(p, scene, joined, 2, logits, &err), err);
        struct tc_raster *ra = NULL, *rb = NULL;
        float *a = read_all(whole, &ra), *b = read_all(joined, &rb);
        const struct tc_raster_info *ia = tc_raster_info(ra), *ib = tc_raster_info(rb);
        assert_int_equal(ia->bands, ib->bands);
        assert_string_equal(ia->type_name, ib->type_name);
        size_t n = (size_t)ia->bands * (size_t)(ia->width * ia->height);
        check_georef(rb, scene);
        double nda = 0, ndb = 0;
        assert_int_equal(tc_raster_nodata(ra, 0, &nda), tc_raster_nodata(rb, 0, &ndb));
        assert_true(nda == ndb);
        if (logits || !segmentation) {
            /* Values (logits, regression): float rounding of the sums. */
            double e = tc_test_rel_l2(b, a, n);
            printf("  %s: split in 2: %s relative L2 %.3g\n", fixture, logits ? "logits" : "values", e);
            if (!(e <= 1e-6))
                fail_msg("%s: split relative L2 %.3g exceeds 1e-6", fixture, e);
        } else {
            assert_memory_equal(a, b, n * sizeof(float));
        }
        tc_raster_close(ra);
        tc_raster_close(rb);
        free(a);
        free(b);
    }
    /* Three parts need more chip rows than this scene has: refused, nothing left. */
    tc_test_in_tmpdir(state, "three.tif", joined, sizeof joined);
    assert_int_equal(run_split(p, scene, joined, 3, 0, &err), TERRACL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "cannot be shared by 3 parts"));
    DIR *d = opendir(tc_test_tmpdir(state));
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            fail_msg("left behind: %s", e->d_name);
    closedir(d);
    terracl_predictor_destroy(p);
    terracl_model_destroy(model);
}

static void test_split_segmentation(void **state) { split_case(state, "seg", 1); }
static void test_split_regression(void **state) { split_case(state, "reg", 0); }

static void test_segmentation(void **state) { scene_case(state, "seg", 1); }
static void test_regression(void **state) { scene_case(state, "reg", 0); }
static void test_multitemporal(void **state) { scene_case(state, "t2", 1); }

/* Files in a folder, hidden temporary ones included. */
static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

static void test_failures(void **state)
{
    terracl_model *model = NULL;
    terracl_predictor *p = load("seg", "config_onepass.yaml", &model);
    char scene[4200], out[4200];
    path_in(scene, sizeof scene, "seg", "scene.tif");
    tc_test_in_tmpdir(state, "onepass_logits.tif", out, sizeof out);
    terracl_error err = {0};
    struct terracl_predict_options opt = {0};
    struct terracl_predict_result res;
    opt.logits = 1;
    TC_ASSERT_OK(terracl_predict_scene(p, scene, out, &opt, &res, &err), err);

    /* Failures leave nothing behind: a scene that is not a TIFF, an
     * unknown output type, a file with too few bands. */
    char bad[4200], out2[4200];
    tc_test_in_tmpdir(state, "not_a_tiff.tif", bad, sizeof bad);
    FILE *f = fopen(bad, "w");
    fputs("not a raster\n", f);
    fclose(f);
    size_t before = count_entries(tc_test_tmpdir(state));
    tc_test_in_tmpdir(state, "bad_pred.tif", out2, sizeof out2);
    assert_int_equal(terracl_predict_scene(p, bad, out2, &opt, &res, &err), TERRACL_ERR_FORMAT);
    assert_non_null(strstr(err.message, "not_a_tiff.tif"));
    opt.out_dtype = "int12";
    assert_int_equal(terracl_predict_scene(p, scene, out2, &opt, &res, &err), TERRACL_ERR_INVALID_ARG);
    opt.out_dtype = NULL;
    char logits[4200];
    tc_test_in_tmpdir(state, "onepass_logits.tif", logits, sizeof logits);
    /* A 3-band file has fewer bands than dataset_bands names (7). */
    assert_int_equal(terracl_predict_scene(p, logits, out2, &opt, &res, &err), TERRACL_ERR_SHAPE);
    assert_non_null(strstr(err.message, "dataset_bands"));
    /* The input itself as the output. */
    opt.overwrite = 1;
    assert_int_equal(terracl_predict_scene(p, logits, logits, &opt, &res, &err),
                     TERRACL_ERR_INVALID_ARG);
    assert_int_equal(count_entries(tc_test_tmpdir(state)), before);
    terracl_predictor_destroy(p);
    terracl_model_destroy(model);
}

static void test_run_tiled(void **state)
{
    /* terracl_model_run_tiled (`terracl run --tiled`) on the normalised
     * batch TerraTorch's tiled_inference got gives its logits; a batch of
     * two copies gives them twice. */
    (void)state;
    terracl_model *model = NULL;
    terracl_predictor *p = load("seg", "config.yaml", &model);
    char expected[4200];
    path_in(expected, sizeof expected, "seg", "expected.h5");
    struct tc_host_tensor x = {0}, want = {0};
    terracl_error err = {0};
    TC_ASSERT_OK(tc_tensor_file_read(expected, "input", &x, &err), err);
    TC_ASSERT_OK(tc_tensor_file_read(expected, "logits", &want, &err), err);
    struct terracl_inputs in = {0};
    in.image.ndim = 4;
    memcpy(in.image.dims, x.dims, sizeof(int64_t) * 4);
    in.image.dims[0] = 2;
    in.image.data = malloc(2 * x.count * sizeof(float));
    memcpy(in.image.data, x.data, x.count * sizeof(float));
    memcpy(in.image.data + x.count, x.data, x.count * sizeof(float));
    struct terracl_tensor tiled = {0};
    TC_ASSERT_OK(terracl_model_run_tiled(model, &in, &tiled, &err), err);
    assert_int_equal(tiled.ndim, 4);
    assert_int_equal(tiled.dims[0], 2);
    for (int i = 1; i < 4; i++)
        assert_int_equal(tiled.dims[i], want.dims[i]);
    for (int b = 0; b < 2; b++) {
        double e = tc_test_rel_l2(tiled.data + (size_t)b * want.count, want.data, want.count);
        printf("  run_tiled: sample %d relative L2 %.3g\n", b, e);
        if (!(e <= 1e-4))
            fail_msg("run_tiled: relative L2 %.3g exceeds 1e-4", e);
    }
    free(tiled.data);
    free(in.image.data);
    tc_host_tensor_free(&x);
    tc_host_tensor_free(&want);
    terracl_predictor_destroy(p);
    terracl_model_destroy(model);
}

int main(void)
{
    const char *root = getenv("TERRACL_FIXTURES");
    if (root == NULL) {
        fprintf(stderr, "TERRACL_FIXTURES is not set\n");
        return 1;
    }
    snprintf(g_root, sizeof g_root, "%s/scenes", root);
    tc_test_runtime_or_skip();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_segmentation, tc_test_tmpdir_setup, tc_test_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_regression, tc_test_tmpdir_setup, tc_test_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_multitemporal, tc_test_tmpdir_setup,
                                        tc_test_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_failures, tc_test_tmpdir_setup, tc_test_tmpdir_teardown),
        cmocka_unit_test(test_run_tiled),
        cmocka_unit_test_setup_teardown(test_split_segmentation, tc_test_tmpdir_setup,
                                        tc_test_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_split_regression, tc_test_tmpdir_setup,
                                        tc_test_tmpdir_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

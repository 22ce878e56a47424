/*
 * Parity with TerraTorch: every fixture folder under tests/fixtures (made by
 * tools/make_fixtures.py with the real terratorch package) is loaded through
 * the public model API exactly as a user would (config + checkpoint + input
 * file) and its output compared with TerraTorch's: relative L2 <= 1e-4.
 *
 * Usage: test_parity [NAME_PREFIX]   (default: every fixture)
 */
#include "test_common.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "io/tensor_file.h"

#define MAX_FIXTURES 128

static char g_dirs[MAX_FIXTURES][4400];
static char g_names[MAX_FIXTURES][256];
static size_t g_count;

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The first item of a batch run alone (models take other paths for one
 * item: concatenations made in place, for one) against the first item of
 * TerraTorch's batched output. */
static void check_first_item(terracl_model *model, const struct terracl_inputs *batched,
                             const struct tc_host_tensor *want, const char *dir)
{
    const int64_t B = batched->image.dims[0];
    if (batched->image.ndim < 4 || B < 2 || want->ndim < 1 || want->dims[0] != B)
        return;
    struct terracl_inputs one = *batched;
    one.image.dims[0] = 1;
    if (one.temporal_coords.data)
        one.temporal_coords.dims[0] = 1;
    if (one.location_coords.data)
        one.location_coords.dims[0] = 1;
    terracl_error err = {0};
    struct terracl_named_tensor out;
    size_t nout = 0;
    TC_ASSERT_OK(terracl_model_run_named(model, &one, &out, 1, &nout, &err), err);
    assert_int_equal(nout, 1);
    assert_int_equal(out.tensor.dims[0], 1);
    size_t per_item = want->count / (size_t)B;
    double e = tc_test_rel_l2(out.tensor.data, want->data, per_item);
    printf("  %s (first item alone): relative L2 %.3g\n", strrchr(dir, '/') + 1, e);
    if (!(e <= 1e-4))
        fail_msg("%s: the first item alone: relative L2 error %.3g exceeds 1e-4", dir, e);
    free(out.tensor.data);
}

static void run_fixture(void **state)
{
    const char *dir = *state;
    char config[4500], weights[4500], input[4500], expected[4500];
    snprintf(config, sizeof config, "%s/config.yaml", dir);
    snprintf(weights, sizeof weights, "%s/weights.h5", dir);
    snprintf(input, sizeof input, "%s/input.h5", dir);
    snprintf(expected, sizeof expected, "%s/expected.h5", dir);

    terracl_error err = {0};
    terracl_model *model = NULL;
    TC_ASSERT_OK(terracl_model_load(tc_test_rt, config, exists(weights) ? weights : NULL, &model,
                                    &err),
                 err);

    /* Multimodal models read one dataset per modality (named as the
     * config names it; those absent were not given), others "input". */
    struct tc_host_tensor image = {0}, tco = {0}, lco = {0};
    struct tc_host_tensor mods[8];
    struct terracl_named_tensor named[8];
    size_t nm = terracl_model_modality_count(model), given = 0;
    memset(mods, 0, sizeof mods);
    assert_true(nm <= 8);
    terracl_status st = tc_tensor_file_read(input, "input", &image, &err);
    if (st == TERRACL_ERR_NOT_FOUND && nm > 0) {
        for (size_t j = 0; j < nm; j++) {
            const char *name = terracl_model_modality_name(model, j);
            st = tc_tensor_file_read(input, name, &mods[given], &err);
            if (st == TERRACL_ERR_NOT_FOUND)
                continue;
            TC_ASSERT_OK(st, err);
            named[given].name = name;
            named[given].tensor.data = mods[given].data;
            named[given].tensor.ndim = mods[given].ndim;
            memcpy(named[given].tensor.dims, mods[given].dims, sizeof mods[given].dims);
            given++;
        }
        assert_true(given > 0);
    } else {
        TC_ASSERT_OK(st, err);
    }
    if (tc_tensor_file_read(input, "temporal_coords", &tco, &err) != TERRACL_OK)
        memset(&tco, 0, sizeof tco);
    if (tc_tensor_file_read(input, "location_coords", &lco, &err) != TERRACL_OK)
        memset(&lco, 0, sizeof lco);

    struct terracl_inputs in = {0};
    if (given > 0) {
        in.modalities = named;
        in.n_modalities = given;
    } else {
        in.image.data = image.data;
        in.image.ndim = image.ndim;
        memcpy(in.image.dims, image.dims, sizeof image.dims);
    }
    if (tco.data) {
        in.temporal_coords.data = tco.data;
        in.temporal_coords.ndim = tco.ndim;
        memcpy(in.temporal_coords.dims, tco.dims, sizeof tco.dims);
    }
    if (lco.data) {
        in.location_coords.data = lco.data;
        in.location_coords.ndim = lco.ndim;
        memcpy(in.location_coords.dims, lco.dims, sizeof lco.dims);
    }
    /* One output ("output"), or one per modality ("output/<modality>"). */
    struct terracl_named_tensor outs[8];
    size_t nout = 0;
    TC_ASSERT_OK(terracl_model_run_named(model, &in, outs, 8, &nout, &err), err);
    for (size_t k = 0; k < nout; k++) {
        char dataset[128];
        struct tc_host_tensor want = {0};
        const struct terracl_tensor *out = &outs[k].tensor;
        if (strcmp(outs[k].name, "output") == 0)
            snprintf(dataset, sizeof dataset, "output");
        else
            snprintf(dataset, sizeof dataset, "output/%s", outs[k].name);
        TC_ASSERT_OK(tc_tensor_file_read(expected, dataset, &want, &err), err);
        assert_int_equal(out->ndim, want.ndim);
        for (int i = 0; i < want.ndim; i++)
            assert_int_equal(out->dims[i], want.dims[i]);
        double e = tc_test_rel_l2(out->data, want.data, want.count);
        printf("  %s%s%s: relative L2 %.3g\n", dir + strlen(dir) - strlen(strrchr(dir, '/') + 1),
               nout > 1 ? " " : "", nout > 1 ? dataset : "", e);
        if (!(e <= 1e-4))
            fail_msg("%s: %s: relative L2 error %.3g exceeds 1e-4", dir, dataset, e);
        if (nout == 1 && given == 0)
            check_first_item(model, &in, &want, dir);
        tc_host_tensor_free(&want);
        free(outs[k].tensor.data);
    }

    for (size_t j = 0; j < given; j++)
        tc_host_tensor_free(&mods[j]);
    tc_host_tensor_free(&image);
    tc_host_tensor_free(&tco);
    tc_host_tensor_free(&lco);
    terracl_model_destroy(model);
}

static int by_name(const void *a, const void *b) { return strcmp(a, b); }

int main(int argc, char **argv)
{
    const char *root = getenv("TERRACL_FIXTURES");
    if (root == NULL) {
        fprintf(stderr, "TERRACL_FIXTURES is not set\n");
        return 1;
    }
    const char *prefix = argc > 1 ? argv[1] : "";
    DIR *d = opendir(root);
    if (d == NULL) {
        fprintf(stderr, "cannot open fixtures folder %s\n", root);
        return 1;
    }
    struct dirent *e;
    char names[MAX_FIXTURES][256];
    size_t n = 0;
    while ((e = readdir(d)) != NULL && n < MAX_FIXTURES) {
        /* A parity fixture has config.yaml and expected.h5 (lora_peft, run by
         * lora_checkpoint.sh, has neither a config.yaml nor a converted checkpoint). */
        char probe[4400], config[4400];
        snprintf(probe, sizeof probe, "%s/%s/expected.h5", root, e->d_name);
        snprintf(config, sizeof config, "%s/%s/config.yaml", root, e->d_name);
        if (e->d_name[0] != '.' && strncmp(e->d_name, prefix, strlen(prefix)) == 0 &&
            exists(probe) && exists(config))
            snprintf(names[n++], sizeof names[0], "%s", e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], by_name);
    if (n == 0) {
        fprintf(stderr, "no fixtures matching '%s' under %s\n", prefix, root);
        return 1;
    }
    tc_test_runtime_or_skip();
    struct CMUnitTest tests[MAX_FIXTURES];
    for (size_t i = 0; i < n; i++) {
        snprintf(g_names[i], sizeof g_names[i], "%s", names[i]);
        snprintf(g_dirs[i], sizeof g_dirs[i], "%s/%s", root, names[i]);
        tests[i] = (struct CMUnitTest){g_names[i], run_fixture, NULL, NULL, g_dirs[i]};
    }
    g_count = n;
    int rc = _cmocka_run_group_tests("parity", tests, n, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

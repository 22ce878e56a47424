#include "backbone_check.h"

#include <string.h>

/* Compares feature i of the run with features/<i> of `expected`; returns
 * false when the fixture has no such feature. */
static int compare_feature(const char *name, const char *expected, const struct tc_feats *got,
                           const int64_t *channels, size_t i)
{
    terracl_error err = {0};
    char key[32];
    snprintf(key, sizeof key, "features/%zu", i);
    struct tc_host_tensor want = {0};
    if (tc_tensor_file_read(expected, key, &want, &err) == TERRACL_ERR_NOT_FOUND)
        return 0;
    if (i >= got->n)
        fail_msg("%s: TerraTorch has feature %zu, terracl only %zu", name, i, got->n);
    const struct tc_tensor *g = &got->t[i];
    assert_int_equal(g->ndim, want.ndim);
    for (int d = 0; d < want.ndim; d++)
        assert_int_equal(g->dims[d], want.dims[d]);
    assert_int_equal(channels[i], want.dims[1]);
    float *h = tc_test_download(g);
    double rel = tc_test_rel_l2(h, want.data, want.count);
    printf("  %s feature %zu: relative L2 %.3g\n", name, i, rel);
    if (!(rel <= 1e-4))
        fail_msg("%s feature %zu: relative L2 %.3g exceeds 1e-4", name, i, rel);
    free(h);
    tc_host_tensor_free(&want);
    return 1;
}

void tc_test_backbone_features(const char *name, const char *type, struct tc_backbone_run *run)
{
    const char *root = getenv("TERRACL_FIXTURES");
    char dir[1024], config[1100], weights[1100], input[1100], expected[1100];
    snprintf(dir, sizeof dir, "%s/%s", root ? root : "tests/fixtures", name);
    snprintf(config, sizeof config, "%s/config.yaml", dir);
    snprintf(weights, sizeof weights, "%s/weights.h5", dir);
    snprintf(input, sizeof input, "%s/input.h5", dir);
    snprintf(expected, sizeof expected, "%s/expected.h5", dir);

    memset(run, 0, sizeof *run);
    terracl_error err = {0};
    TC_ASSERT_OK(terracl_model_load(tc_test_rt, config, weights, &run->model, &err), err);
    /* A backbone-only model's module is the backbone itself. */
    run->backbone = (terracl_module *)terracl_model_module(run->model);
    assert_string_equal(run->backbone->type, type);

    TC_ASSERT_OK(tc_tensor_file_read(input, "input", &run->input, &err), err);
    run->in.t[0] = tc_test_upload(run->input.data, run->input.ndim, run->input.dims);
    run->in.n = 1;
    run->ex.rt = tc_test_rt;
    TC_ASSERT_OK(tc_module_forward(run->backbone, &run->ex, &run->in, &run->out, &err), err);

    int64_t channels[TC_MAX_FEATS];
    assert_int_equal(terracl_module_out_channels(run->backbone, channels, TC_MAX_FEATS),
                     run->out.n);
    size_t i = 0;
    while (compare_feature(name, expected, &run->out, channels, i))
        i++;
    assert_int_equal(i, run->out.n);
}

void tc_test_backbone_run_free(struct tc_backbone_run *run)
{
    tc_feats_free(&run->out);
    tc_feats_free(&run->in);
    tc_host_tensor_free(&run->input);
    terracl_model_destroy(run->model);
    memset(run, 0, sizeof *run);
}

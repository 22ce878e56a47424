/*
 * The timm backbone source's ResNets: every feature a bb_timm_* fixture
 * recorded (TerraTorch's features/0..n, not only the last one that
 * test_parity compares), the channel list each reports, and how names and
 * arguments resolve in the BACKBONE registry.
 */
#include "test_common.h"

#include <string.h>

#include "graph/exec.h"
#include "graph/module.h"
#include "io/tensor_file.h"
#include "io/yaml_config.h"

/* Runs the backbone of fixture `name` and compares each of its features. */
static void check_features(const char *name)
{
    const char *root = getenv("TERRACL_FIXTURES");
    char dir[1024], config[1100], weights[1100], input[1100], expected[1100];
    snprintf(dir, sizeof dir, "%s/%s", root ? root : "tests/fixtures", name);
    snprintf(config, sizeof config, "%s/config.yaml", dir);
    snprintf(weights, sizeof weights, "%s/weights.h5", dir);
    snprintf(input, sizeof input, "%s/input.h5", dir);
    snprintf(expected, sizeof expected, "%s/expected.h5", dir);

    terracl_error err = {0};
    terracl_model *model = NULL;
    TC_ASSERT_OK(terracl_model_load(tc_test_rt, config, weights, &model, &err), err);
    /* A backbone-only model's module is the backbone itself. */
    terracl_module *bb = (terracl_module *)terracl_model_module(model);
    assert_string_equal(bb->type, "TimmResNet");

    struct tc_host_tensor x = {0};
    TC_ASSERT_OK(tc_tensor_file_read(input, "input", &x, &err), err);
    struct tc_feats in = {0}, got = {0};
    in.t[0] = tc_test_upload(x.data, x.ndim, x.dims);
    in.n = 1;
    struct tc_exec ex = {0};
    ex.rt = tc_test_rt;
    TC_ASSERT_OK(tc_module_forward(bb, &ex, &in, &got, &err), err);

    int64_t ch[TC_MAX_FEATS];
    size_t nch = terracl_module_out_channels(bb, ch, TC_MAX_FEATS);
    assert_int_equal(nch, got.n);
    size_t i = 0;
    for (;; i++) {
        char key[32];
        snprintf(key, sizeof key, "features/%zu", i);
        struct tc_host_tensor want = {0};
        if (tc_tensor_file_read(expected, key, &want, &err) == TERRACL_ERR_NOT_FOUND)
            break;
        if (i >= got.n)
            fail_msg("%s: TerraTorch has feature %zu, terracl only %zu", name, i, got.n);
        const struct tc_tensor *g = &got.t[i];
        assert_int_equal(g->ndim, want.ndim);
        for (int d = 0; d < want.ndim; d++)
            assert_int_equal(g->dims[d], want.dims[d]);
        /* The reported channel list is what the feature has (TerraTorch's
         * feature_info.channels() for out_indices). */
        assert_int_equal(ch[i], want.dims[1]);
        float *h = tc_test_download(g);
        double rel = tc_test_rel_l2(h, want.data, want.count);
        printf("  %s feature %zu: relative L2 %.3g\n", name, i, rel);
        if (!(rel <= 1e-4))
            fail_msg("%s feature %zu: relative L2 %.3g exceeds 1e-4", name, i, rel);
        free(h);
        tc_host_tensor_free(&want);
    }
    assert_int_equal(i, got.n);
    /* The memory check counts the ResNet's maps: a huge input is refused
     * before anything runs, naming its largest buffer. */
    int64_t huge[4] = {64, x.dims[1], 60000, 60000};
    assert_int_equal(terracl_model_check_input(model, 4, huge, &err), TERRACL_ERR_NO_MEMORY);
    assert_non_null(strstr(err.message, "ResNet"));
    tc_feats_free(&got);
    tc_feats_free(&in);
    tc_host_tensor_free(&x);
    terracl_model_destroy(model);
}

static void test_resnet18_features(void **state)
{
    (void)state;
    check_features("bb_timm_resnet18");
}

static void test_resnet50_features(void **state)
{
    (void)state;
    check_features("bb_timm_resnet50");
}

static void test_resnet50d_features(void **state)
{
    (void)state;
    check_features("bb_timm_resnet50d");
}

static void test_names_and_channels(void **state)
{
    (void)state;
    const terracl_registry *reg = terracl_registry_get(TERRACL_REGISTRY_BACKBONE);
    /* TerraTorch's search order: its own backbones, then timm. */
    assert_true(terracl_registry_source_count(reg) >= 2);
    assert_string_equal(terracl_registry_source_prefix((terracl_registry *)reg, 0), "terratorch");
    assert_string_equal(terracl_registry_source_prefix((terracl_registry *)reg, 1), "timm");

    const int64_t r18[] = {64, 64, 128, 256, 512}, r50[] = {64, 256, 512, 1024, 2048};
    tc_test_expect_channels("timm_resnet18", NULL, r18, 5);
    tc_test_expect_channels("resnet34", NULL, r18, 5); /* no prefix: found in the timm source */
    tc_test_expect_channels("timm_resnet101", NULL, r50, 5);
    const int64_t last[] = {2048}, some[] = {256, 64};
    tc_test_expect_channels("timm_resnet152", "{out_indices: [-1]}", last, 1);
    tc_test_expect_channels("timm_resnet50", "{out_indices: [1, 0], in_chans: 13}", some, 2);
    tc_test_expect_channels("timm_resnet50", "{drop_path_rate: 0.1, stem_width: 32}", r50, 5);
    /* The "d" variants: a deep stem of 2 * stem_width. */
    const int64_t r50d[] = {96, 256, 512, 1024, 2048};
    tc_test_expect_channels("timm_resnet50d", NULL, r50, 5);
    tc_test_expect_channels("resnet101d", "{stem_width: 48}", r50d, 5);
    const int64_t deep_stem[] = {96};
    tc_test_expect_channels("timm_resnet18", "{stem_type: deep, stem_width: 48, out_indices: [0]}",
                            deep_stem, 1);

    terracl_error err = {0};
    terracl_module *m = NULL;
    assert_int_equal(tc_test_build_backbone("timm_resnet50", "{out_indices: [5]}", &m, &err),
                     TERRACL_ERR_CONFIG);
    assert_int_equal(tc_test_build_backbone("timm_resnet50", "{in_chans: 0}", &m, &err),
                     TERRACL_ERR_CONFIG);
    assert_int_equal(tc_test_build_backbone("timm_resnet50", "{layers: [1, 2]}", &m, &err),
                     TERRACL_ERR_CONFIG);
    assert_int_equal(tc_test_build_backbone("timm_resnet18", "{pretrained: true}", &m, &err),
                     TERRACL_ERR_CONFIG);
    assert_int_equal(tc_test_build_backbone("timm_resnet18", "{output_stride: 8}", &m, &err),
                     TERRACL_ERR_UNSUPPORTED);
    assert_int_equal(tc_test_build_backbone("timm_resnet18", "{stem_type: deep_tiered}", &m, &err),
                     TERRACL_ERR_UNSUPPORTED);
    assert_int_equal(tc_test_build_backbone("timm_resnet7", NULL, &m, &err), TERRACL_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "resnet"));
    assert_null(m);
}

/* features_only keeps the modules up to the last feature asked for. */
static void test_truncation(void **state)
{
    (void)state;
    terracl_error err = {0};
    terracl_module *all = NULL, *stem = NULL;
    TC_ASSERT_OK(tc_test_build_backbone("timm_resnet18", NULL, &all, &err), err);
    TC_ASSERT_OK(tc_test_build_backbone("timm_resnet18", "{out_indices: [0]}", &stem, &err), err);
    /* conv1 (3*64*7*7) and bn1 (2*64) only. */
    assert_int_equal(terracl_module_param_count(stem), 3 * 64 * 49 + 2 * 64);
    assert_true(terracl_module_param_count(all) > terracl_module_param_count(stem));
    terracl_module_destroy(all);
    terracl_module_destroy(stem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_channels),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_resnet18_features),
        cmocka_unit_test(test_resnet50_features),
        cmocka_unit_test(test_resnet50d_features),
    };
    tc_test_runtime_or_skip();
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

/*
 * TerraTorch's torchgeo backbones (ssl4eol_*, ssl4eos12_*, seco_*, fmow_*,
 * satlas_*): the features ResNetEncoderWrapper selects and the channels it
 * reports, the refusals, the model_bands example `terracl info` shows, and
 * ckpt_data loading: by band from a torchgeo state dict (the
 * bb_torchgeo_resnet18_ckpt fixture's ckpt.h5), refused for bands the
 * weights lack, and from a fine-tuned TerraTorch model's checkpoint.
 */
#include "test_common.h"

#include <string.h>

#include "io/tensor_file.h"
#include "io/yaml_config.h"
#include "models/backbones/torchgeo.h"

static void test_features_and_channels(void **state)
{
    (void)state;
    /* Default out_indices [-1]: the last feature only. */
    const int64_t r50[] = {2048}, r18[] = {64, 64, 512}, vit[] = {384, 384, 384};
    tc_test_expect_channels("ssl4eos12_resnet50_sentinel2_all_moco", "{model_bands: [B, G, R]}",
                            r50, 1);
    /* Feature order whatever the order given; -1 is layer4; duplicates once. */
    tc_test_expect_channels("terratorch_seco_resnet18_sentinel2_rgb_seco",
                            "{model_bands: [RED, GREEN, BLUE], out_indices: [-1, 1, 0, 1]}", r18,
                            3);
    /* Negative entries other than -1 select nothing, as in TerraTorch. */
    const int64_t first[] = {64};
    tc_test_expect_channels("satlas_resnet152_sentinel2_mi_rgb",
                            "{model_bands: [RED, GREEN, BLUE], out_indices: [0, -2]}", first, 1);
    /* The ViTs return every block (out_indices is ignored). */
    tc_test_expect_channels("ssl4eol_vit_small_patch16_224_landsat_tm_toa_moco",
                            "{model_bands: [RED, GREEN, BLUE], depth: 3, out_indices: [0]}", vit,
                            3);
}

static void expect_refused(const char *name, const char *args, terracl_status code,
                           const char *fragment)
{
    terracl_error err = {0};
    terracl_module *m = NULL;
    assert_int_equal(tc_test_build_backbone(name, args, &m, &err), code);
    assert_null(m);
    if (strstr(err.message, fragment) == NULL)
        fail_msg("%s: '%s' does not say '%s'", name, err.message, fragment);
}

static void test_refusals(void **state)
{
    (void)state;
    expect_refused("satlas_swin_b_sentinel2_si_ms", "{model_bands: [RED]}",
                   TERRACL_ERR_UNSUPPORTED, "no Swin");
    expect_refused("fmow_resnet50_fmow_rgb_gassl", NULL, TERRACL_ERR_CONFIG, "model_bands");
    expect_refused("fmow_resnet50_fmow_rgb_gassl", "{model_bands: [R, G, B], pretrained: true}",
                   TERRACL_ERR_CONFIG, "convert_checkpoint.py");
    expect_refused("seco_resnet50_sentinel2_rgb_seco", "{model_bands: [R], ckpt_path: a.h5}",
                   TERRACL_ERR_CONFIG, "ckpt_data");
    expect_refused("seco_resnet50_sentinel2_rgb_seco", "{model_bands: [R], out_indices: [-3]}",
                   TERRACL_ERR_CONFIG, "selects no feature");
    expect_refused("seco_resnet50_sentinel2_rgb_seco", "{model_bands: [R], features_only: true}",
                   TERRACL_ERR_UNSUPPORTED, "features_only");
}

static void test_example_bands(void **state)
{
    (void)state;
    char buf[256];
    assert_true(tc_torchgeo_example_bands("terratorch_ssl4eos12_resnet50_sentinel1_all_moco", buf,
                                          sizeof buf));
    assert_string_equal(buf, "[VV, VH]");
    assert_true(tc_torchgeo_example_bands("ssl4eol_resnet18_landsat_etm_sr_moco", buf, sizeof buf));
    assert_string_equal(buf, "[SR_B1, SR_B2, SR_B3, SR_B4, SR_B5, SR_B7]");
    assert_false(tc_torchgeo_example_bands("satlas_swin_t_sentinel2_mi_ms", buf, sizeof buf));
    assert_false(tc_torchgeo_example_bands("timm_resnet18", buf, sizeof buf));
    assert_false(tc_torchgeo_example_bands("seco_resnet50_sentinel2_rgb_seco", buf, 8));
}

/* Writes a backbone-only config into the test's folder and loads it. */
static terracl_status load(void **state, const char *body, terracl_model **model,
                           terracl_error *err)
{
    char path[4096];
    tc_test_in_tmpdir(state, "config.yaml", path, sizeof path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "model_factory: EncoderDecoderFactory\nmodel_args:\n%s", body);
    fclose(f);
    return terracl_model_load(tc_test_rt, path, NULL, model, err);
}

static void test_ckpt_data_bands(void **state)
{
    char body[8192];
    const char *fx = getenv("TERRACL_FIXTURES");
    terracl_error err = {0};
    terracl_model *model = NULL;
    /* VV is no band of the Sentinel-2 weights: TerraTorch would make its
     * weights up, terracl refuses. */
    snprintf(body, sizeof body,
             "  backbone: ssl4eos12_resnet18_sentinel2_all_moco\n"
             "  backbone_model_bands: [RED, VV]\n"
             "  backbone_pretrained: true\n"
             "  backbone_ckpt_data: %s/bb_torchgeo_resnet18_ckpt/ckpt.h5\n"
             "  backbone_layers: [1, 1, 1, 1]\n"
             "  backbone_channels: [8, 8, 16, 16]\n",
             fx);
    assert_int_equal(load(state, body, &model, &err), TERRACL_ERR_CONFIG);
    assert_non_null(strstr(err.message, "VV"));
    assert_non_null(strstr(err.message, "not among the pretrained bands"));
    /* The same file under a name whose weights TerraTorch cannot name. */
    memset(&err, 0, sizeof err);
    snprintf(body, sizeof body,
             "  backbone: ssl4eol_resnet18_landsat_oli_sr_moco\n"
             "  backbone_model_bands: [SR_B1]\n"
             "  backbone_pretrained: true\n"
             "  backbone_ckpt_data: %s/bb_torchgeo_resnet18_ckpt/ckpt.h5\n"
             "  backbone_layers: [1, 1, 1, 1]\n"
             "  backbone_channels: [8, 8, 16, 16]\n",
             fx);
    assert_int_equal(load(state, body, &model, &err), TERRACL_ERR_CONFIG);
    assert_non_null(strstr(err.message, "SR_B1"));
    /* Without pretrained, TerraTorch ignores ckpt_data: nothing to load from. */
    memset(&err, 0, sizeof err);
    snprintf(body, sizeof body,
             "  backbone: ssl4eos12_resnet18_sentinel2_all_moco\n"
             "  backbone_model_bands: [RED]\n"
             "  backbone_ckpt_data: %s/bb_torchgeo_resnet18_ckpt/ckpt.h5\n",
             fx);
    assert_int_not_equal(load(state, body, &model, &err), TERRACL_OK);
    assert_null(model);
}

/* A fine-tuned TerraTorch model's checkpoint (encoder.resnet_model.*) as
 * ckpt_data: the backbone gets the model's encoder, whose last feature
 * fm_torchgeo_resnet18_unet recorded. */
static void test_ckpt_data_fine_tuned(void **state)
{
    char body[8192], path[4096];
    const char *fx = getenv("TERRACL_FIXTURES");
    snprintf(body, sizeof body,
             "  backbone: seco_resnet18_sentinel2_rgb_seco\n"
             "  backbone_model_bands: [RED, GREEN, BLUE]\n"
             "  backbone_pretrained: true\n"
             "  backbone_ckpt_data: %s/fm_torchgeo_resnet18_unet/weights.h5\n"
             "  backbone_layers: [2, 1, 1, 1]\n"
             "  backbone_channels: [8, 16, 16, 24]\n"
             "  backbone_num_classes: 4\n",
             fx);
    terracl_error err = {0};
    terracl_model *model = NULL;
    TC_ASSERT_OK(load(state, body, &model, &err), err);
    struct tc_host_tensor x = {0}, want = {0};
    snprintf(path, sizeof path, "%s/fm_torchgeo_resnet18_unet/input.h5", fx);
    TC_ASSERT_OK(tc_tensor_file_read(path, "input", &x, &err), err);
    snprintf(path, sizeof path, "%s/fm_torchgeo_resnet18_unet/expected.h5", fx);
    TC_ASSERT_OK(tc_tensor_file_read(path, "debug/encoder/4", &want, &err), err);
    struct terracl_inputs in = {0};
    in.image.data = x.data;
    in.image.ndim = x.ndim;
    memcpy(in.image.dims, x.dims, sizeof in.image.dims);
    struct terracl_tensor out = {0};
    TC_ASSERT_OK(terracl_model_run(model, &in, &out, &err), err);
    assert_int_equal(out.ndim, want.ndim);
    for (int i = 0; i < want.ndim; i++)
        assert_int_equal(out.dims[i], want.dims[i]);
    double e = tc_test_rel_l2(out.data, want.data, want.count);
    if (!(e <= 1e-4))
        fail_msg("encoder feature 4: relative L2 %.3g", e);
    free(out.data);
    tc_host_tensor_free(&x);
    tc_host_tensor_free(&want);
    terracl_model_destroy(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_and_channels),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_example_bands),
        cmocka_unit_test_setup_teardown(test_ckpt_data_bands, tc_test_tmpdir_setup,
                                        tc_test_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_ckpt_data_fine_tuned, tc_test_tmpdir_setup,
                                        tc_test_tmpdir_teardown),
    };
    tc_test_runtime_or_skip();
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

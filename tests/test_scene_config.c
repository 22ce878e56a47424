/*
 * The datamodule keys of a config -> which file band feeds each model
 * channel and frame, and the normalisation constants, as TerraTorch's
 * generic pixel-wise dataset and Normalize use them (no device, no files).
 */
#include "test_common.h"

#include <string.h>

#include "io/yaml_config.h"
#include "scene/scene_config.h"
#include "scene/scene_input.h"

static const char *k_model = "model:\n"
                             "  class_path: terratorch.tasks.SemanticSegmentationTask\n"
                             "  init_args:\n"
                             "    model_factory: EncoderDecoderFactory\n"
                             "    model_args: {backbone: prithvi_eo_tiny, backbone_in_chans: 3,\n"
                             "                 decoder: FCNDecoder, num_classes: 2}\n";

/* Reads `data` (the data.init_args body) into cfg; returns the status. */
static terracl_status read_cfg(const char *data, struct tc_scene_config *cfg, terracl_error *err)
{
    char text[4096];
    snprintf(text, sizeof text, "%sdata:\n  init_args:\n%s", k_model, data);
    terracl_value *root = NULL;
    terracl_status st = tc_yaml_parse(text, strlen(text), "c.yaml", &root, err);
    if (st == TERRACL_OK)
        st = tc_scene_config_read(root, "c.yaml", cfg, err);
    terracl_value_free(root);
    return st;
}

static void test_band_selection(void **state)
{
    (void)state;
    struct tc_scene_config *cfg = malloc(sizeof *cfg);
    struct tc_scene_layout *lay = malloc(sizeof *lay);
    terracl_error err = {0};
    TC_ASSERT_OK(read_cfg("    dataset_bands: [BLUE, GREEN, RED, [10, 12], 7]\n"
                          "    output_bands: [RED, 11, BLUE, 7]\n"
                          "    constant_scale: 0.0001\n    no_data_replace: -1\n",
                          cfg, &err),
                 err);
    assert_int_equal(cfg->n_dataset, 7); /* the interval [10, 12] is 10, 11, 12 */
    assert_int_equal(cfg->n_select, 4);
    assert_true(cfg->has_replace && cfg->no_data_replace == -1.0);
    TC_ASSERT_OK(tc_scene_layout_make(cfg, "s.tif", 9, lay, &err), err);
    assert_int_equal(lay->channels, 4);
    assert_int_equal(lay->frames, 1);
    assert_int_equal(lay->band_of[0], 2);
    assert_int_equal(lay->band_of[1], 4);
    assert_int_equal(lay->band_of[2], 0);
    assert_int_equal(lay->band_of[3], 6);
    /* Fewer bands in the file than dataset_bands names. */
    assert_int_equal(tc_scene_layout_make(cfg, "s.tif", 6, lay, &err), TERRACL_ERR_SHAPE);
    assert_non_null(strstr(err.message, "s.tif: has 6 bands but dataset_bands names 7"));

    /* No names: the model's first C bands (backbone_in_chans: 3). */
    TC_ASSERT_OK(read_cfg("    constant_scale: 1\n", cfg, &err), err);
    TC_ASSERT_OK(tc_scene_layout_make(cfg, "s.tif", 5, lay, &err), err);
    assert_int_equal(lay->channels, 3);
    assert_int_equal(lay->band_of[2], 2);
    assert_int_equal(tc_scene_layout_make(cfg, "s.tif", 2, lay, &err), TERRACL_ERR_SHAPE);

    /* output_bands naming a band dataset_bands lacks. */
    assert_int_equal(read_cfg("    dataset_bands: [BLUE, GREEN]\n    output_bands: [RED]\n", cfg, &err),
                     TERRACL_ERR_CONFIG);
    assert_non_null(strstr(err.message, "band RED, which is not in dataset_bands"));
    /* output_bands without dataset_bands. */
    assert_int_equal(read_cfg("    output_bands: [RED]\n", cfg, &err), TERRACL_ERR_CONFIG);
    free(cfg);
    free(lay);
}

static void test_temporal_and_normalisation(void **state)
{
    (void)state;
    struct tc_scene_config *cfg = malloc(sizeof *cfg);
    struct tc_scene_layout *lay = malloc(sizeof *lay);
    terracl_error err = {0};
    /* 3 dataset bands, 2 selected; the file holds 4 time steps grouped by
     * time: band = t * 3 + index in dataset_bands. */
    TC_ASSERT_OK(read_cfg("    dataset_bands: [A, B, C]\n    output_bands: [C, A]\n"
                          "    expand_temporal_dimension: true\n"
                          "    means: [10, 20]\n    stds: [2, 4]\n",
                          cfg, &err),
                 err);
    TC_ASSERT_OK(tc_scene_layout_make(cfg, "s.tif", 12, lay, &err), err);
    assert_true(lay->temporal);
    assert_int_equal(lay->channels, 2);
    assert_int_equal(lay->frames, 4);
    for (int t = 0; t < 4; t++) {
        assert_int_equal(lay->band_of[0 * 4 + t], t * 3 + 2);
        assert_int_equal(lay->band_of[1 * 4 + t], t * 3 + 0);
        assert_true(lay->mean[0 * 4 + t] == 10.0f && lay->std[1 * 4 + t] == 4.0f);
    }
    assert_int_equal(tc_scene_layout_make(cfg, "s.tif", 10, lay, &err), TERRACL_ERR_SHAPE);
    assert_non_null(strstr(err.message, "not a multiple of the 3 dataset_bands"));

    /* [C][T] statistics: per frame on a time series... */
    TC_ASSERT_OK(read_cfg("    dataset_bands: [A, B]\n    output_bands: [B, A]\n"
                          "    expand_temporal_dimension: true\n"
                          "    means: [[1, 2], [3, 4]]\n    stds: [[1, 1], [2, 2]]\n",
                          cfg, &err),
                 err);
    TC_ASSERT_OK(tc_scene_layout_make(cfg, "s.tif", 4, lay, &err), err);
    assert_true(lay->mean[0] == 1.0f && lay->mean[1] == 2.0f && lay->mean[3] == 4.0f);
    /* ...and averaged over T for a single image, as Normalize does. */
    TC_ASSERT_OK(read_cfg("    means: [[1, 2], [3, 5], [0, 1]]\n    stds: [[1, 3], [2, 2], [1, 1]]\n",
                          cfg, &err),
                 err);
    TC_ASSERT_OK(tc_scene_layout_make(cfg, "s.tif", 3, lay, &err), err);
    assert_true(lay->mean[0] == 1.5f && lay->mean[1] == 4.0f && lay->std[0] == 2.0f);

    /* Lengths that do not match the model's bands, and mismatched shapes. */
    TC_ASSERT_OK(read_cfg("    means: [1, 2]\n    stds: [1, 2]\n", cfg, &err), err);
    assert_int_equal(tc_scene_layout_make(cfg, "s.tif", 3, lay, &err), TERRACL_ERR_CONFIG);
    assert_non_null(strstr(err.message, "means/stds have 2 values but the model gets 3 bands"));
    assert_int_equal(read_cfg("    means: [1, 2, 3]\n    stds: [1, 2]\n", cfg, &err),
                     TERRACL_ERR_CONFIG);
    /* Only one of them: no normalisation, as `if means and stds`. */
    TC_ASSERT_OK(read_cfg("    means: [1, 2, 3]\n", cfg, &err), err);
    assert_int_equal(cfg->n_norm, 0);
    free(cfg);
    free(lay);
}

/* GenericMultiModalDataModule writes its keys per modality, and TerraMind
 * its bands: with one modality they read as the plain lists. */
static void test_one_modality_maps(void **state)
{
    (void)state;
    static const char text[] =
        "model:\n  class_path: terratorch.tasks.SemanticSegmentationTask\n"
        "  init_args:\n    model_factory: EncoderDecoderFactory\n"
        "    model_args: {backbone: terramind_v1_small, backbone_modalities: [S2L2A],\n"
        "                 backbone_bands: {S2L2A: [BLUE, GREEN, RED]}, decoder: UNetDecoder}\n"
        "data:\n  class_path: terratorch.datamodules.GenericMultiModalDataModule\n"
        "  init_args:\n    modalities: [S2L2A]\n"
        "    dataset_bands: {S2L2A: [0, BLUE, GREEN, RED, 1]}\n"
        "    output_bands: {S2L2A: [RED, GREEN, BLUE]}\n"
        "    means: {S2L2A: [1, 2, 3]}\n    stds: {S2L2A: [4, 5, 6]}\n";
    struct tc_scene_config *cfg = malloc(sizeof *cfg);
    terracl_error err = {0};
    terracl_value *root = NULL;
    TC_ASSERT_OK(tc_yaml_parse(text, strlen(text), "m.yaml", &root, &err), err);
    TC_ASSERT_OK(tc_scene_config_read(root, "m.yaml", cfg, &err), err);
    assert_int_equal(cfg->model_channels, 3);
    assert_int_equal(cfg->n_dataset, 5);
    assert_int_equal(cfg->n_select, 3);
    assert_int_equal(cfg->select[0], 3);
    assert_int_equal(cfg->n_norm, 3);
    assert_true(cfg->stds[2] == 6.0);
    terracl_value_free(root);
    free(cfg);
}

/* Several modalities: each reads its own entry of the per-modality maps
 * (none: every band, scale 1, no normalisation); no_data_replace is shared;
 * a plain list where a map belongs is refused. */
static void test_modality_maps(void **state)
{
    (void)state;
    static const char head[] =
        "model:\n  class_path: terratorch.tasks.SemanticSegmentationTask\n"
        "  init_args:\n    model_factory: EncoderDecoderFactory\n"
        "    model_args: {backbone: terramind_v1_small, backbone_modalities: [S2L2A, S1GRD],\n"
        "                 backbone_bands: {S2L2A: [BLUE, GREEN, RED]}, decoder: UNetDecoder}\n"
        "data:\n  init_args:\n    no_data_replace: -1\n";
    char text[2048];
    snprintf(text, sizeof text, "%s%s", head,
             "    dataset_bands: {S2L2A: [0, BLUE, GREEN, RED, 1]}\n"
             "    predict_output_bands: {S2L2A: [RED, GREEN, BLUE]}\n"
             "    constant_scale: {S2L2A: 0.0001}\n"
             "    means: {S2L2A: [1, 2, 3], S1GRD: [-10, -20]}\n"
             "    stds: {S2L2A: [4, 5, 6], S1GRD: [7, 8]}\n");
    struct tc_scene_config *cfg = malloc(sizeof *cfg);
    terracl_error err = {0};
    terracl_value *root = NULL;
    TC_ASSERT_OK(tc_yaml_parse(text, strlen(text), "m.yaml", &root, &err), err);
    TC_ASSERT_OK(tc_scene_config_read_modality(root, "m.yaml", "S2L2A", cfg, &err), err);
    assert_int_equal(cfg->model_channels, 3);
    assert_int_equal(cfg->n_dataset, 5);
    assert_int_equal(cfg->n_select, 3);
    assert_int_equal(cfg->select[0], 3);
    assert_true(cfg->constant_scale == 0.0001);
    assert_true(cfg->has_replace && cfg->no_data_replace == -1.0);
    assert_int_equal(cfg->n_norm, 3);
    assert_true(cfg->means[0] == 1.0);
    TC_ASSERT_OK(tc_scene_config_read_modality(root, "m.yaml", "S1GRD", cfg, &err), err);
    assert_int_equal(cfg->model_channels, 0); /* pretrained: the model knows */
    assert_int_equal(cfg->n_dataset, 0);
    assert_int_equal(cfg->n_select, 0);
    assert_true(cfg->constant_scale == 1.0);
    assert_true(cfg->has_replace && cfg->no_data_replace == -1.0);
    assert_int_equal(cfg->n_norm, 2);
    assert_true(cfg->means[1] == -20.0 && cfg->stds[1] == 8.0);
    terracl_value_free(root);

    snprintf(text, sizeof text, "%s%s", head, "    means: [1, 2, 3]\n    stds: [4, 5, 6]\n");
    TC_ASSERT_OK(tc_yaml_parse(text, strlen(text), "m.yaml", &root, &err), err);
    assert_int_equal(tc_scene_config_read_modality(root, "m.yaml", "S1GRD", cfg, &err),
                     TERRACL_ERR_CONFIG);
    assert_non_null(strstr(err.message, "m.yaml:"));
    assert_non_null(strstr(err.message, "means must map each modality to its values"));
    terracl_value_free(root);
    free(cfg);
}

static void test_tiling_keys(void **state)
{
    (void)state;
    struct tc_scene_config *cfg = malloc(sizeof *cfg);
    terracl_error err = {0};
    const char *text = "model_factory: EncoderDecoderFactory\n"
                       "model_args: {backbone: prithvi_eo_tiny, decoder: FCNDecoder, num_classes: 2}\n"
                       "tiled_inference_parameters: {h_crop: 64, crop: 32, stride: 16, w_stride: 0,\n"
                       "  padding: false, average_patches: false, verbose: true}\n";
    terracl_value *root = NULL;
    TC_ASSERT_OK(tc_yaml_parse(text, strlen(text), "t.yaml", &root, &err), err);
    TC_ASSERT_OK(tc_scene_config_read(root, "t.yaml", cfg, &err), err);
    assert_true(cfg->tiled);
    assert_int_equal(cfg->tile.h_crop, 64); /* h_crop or crop */
    assert_int_equal(cfg->tile.w_crop, 32);
    assert_int_equal(cfg->tile.w_stride, 16); /* 0 means "not given" */
    assert_int_equal(cfg->tile.delta, 8);
    assert_int_equal(cfg->tile.batch_size, 16);
    assert_int_equal(cfg->tile.padding, TC_TILE_PAD_NONE);
    assert_false(cfg->tile.average_patches);
    assert_true(cfg->tile.blend_overlaps);
    terracl_value_free(root);
    text = "model_factory: EncoderDecoderFactory\n"
           "model_args: {backbone: prithvi_eo_tiny}\n"
           "tiled_inference_parameters: {crop: 32, stirde: 16}\n";
    TC_ASSERT_OK(tc_yaml_parse(text, strlen(text), "t.yaml", &root, &err), err);
    assert_int_equal(tc_scene_config_read(root, "t.yaml", cfg, &err), TERRACL_ERR_CONFIG);
    assert_non_null(strstr(err.message, "t.yaml:3:"));
    assert_non_null(strstr(err.message, "stirde is not a tiled_inference_parameters key"));
    terracl_value_free(root);
    free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_band_selection),
        cmocka_unit_test(test_temporal_and_normalisation),
        cmocka_unit_test(test_one_modality_maps),
        cmocka_unit_test(test_modality_maps),
        cmocka_unit_test(test_tiling_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

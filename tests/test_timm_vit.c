/*
 * The timm source's plain ViTs: every feature a bb_timm_vit* fixture
 * recorded (block outputs as images; test_parity compares only the last),
 * the channel lists, pretrained tags, out_indices as a count or a list, and
 * the refusals (input size other than img_size, options not implemented).
 */
#include "backbone_check.h"

#include <string.h>

#include "graph/exec.h"
#include "graph/module.h"
#include "io/tensor_file.h"
#include "io/yaml_config.h"
#include "graph/mem_estimate.h"
#include "models/backbones/timm_vit.h"

static uint64_t no_scratch(const void *ctx, uint64_t len, uint64_t dim, uint64_t heads)
{
    (void)ctx;
    (void)len;
    (void)dim;
    (void)heads;
    return 0;
}

/* Runs the backbone of fixture `name`, compares each of its features and
 * checks what is particular to this family. */
static void check_features(const char *name)
{
    struct tc_backbone_run run;
    tc_test_backbone_features(name, "TimmViT", &run);
    terracl_error err = {0};
    terracl_model *model = run.model;
    terracl_module *bb = run.backbone;
    const struct tc_host_tensor x = run.input;
    /* A batch whose input alone outgrows the device's memory (a fixed
     * batch fits on a GPU of 140 GiB) is refused before anything runs
     * (the ViT's buffers counted: more than the input); another size is
     * refused by the forward, as timm's PatchEmbed refuses it. */
    const uint64_t per_image = (uint64_t)x.dims[1] * (uint64_t)x.dims[2] * (uint64_t)x.dims[3] *
                               sizeof(float);
    const uint64_t gmem = terracl_runtime_device(tc_test_rt)->global_mem_bytes;
    int64_t huge[4] = {(int64_t)(gmem / per_image) + 1, x.dims[1], x.dims[2], x.dims[3]};
    assert_int_equal(terracl_model_check_input(model, 4, huge, &err), TERRACL_ERR_NO_MEMORY);
    struct tc_mem_estimate e;
    memset(&e, 0, sizeof e);
    tc_timm_vit_estimate(bb, 4, huge, no_scratch, NULL, &e);
    assert_int_equal(strncmp(e.largest_name, "ViT", 3), 0);
    assert_true(e.device_bytes > tc_mem_float_bytes(4, huge));
    struct tc_feats small = {0}, none = {0};
    int64_t sd[4] = {x.dims[0], x.dims[1], x.dims[2] + 16, x.dims[3]};
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 4, sd, &small.t[0], &err), err);
    small.n = 1;
    assert_int_equal(tc_module_forward(bb, &run.ex, &small, &none, &err), TERRACL_ERR_SHAPE);
    assert_non_null(strstr(err.message, "img_size"));
    tc_feats_free(&small);
    tc_test_backbone_run_free(&run);
}

static void test_vit_small_features(void **state)
{
    (void)state;
    check_features("bb_timm_vit_small");
}

static void test_vit_tag_features(void **state)
{
    (void)state;
    check_features("bb_timm_vit_tag");
}

static void test_names_and_channels(void **state)
{
    (void)state;
    const terracl_registry *reg = terracl_registry_get(TERRACL_REGISTRY_BACKBONE);
    const int64_t s3[] = {384, 384, 384}, b2[] = {768, 768}, l1[] = {1024};
    tc_test_expect_channels("timm_vit_small_patch16_224", NULL, s3, 3); /* timm's default: last 3 */
    tc_test_expect_channels("vit_base_patch16_224", "{out_indices: [3, -1]}", b2, 2);
    tc_test_expect_channels("timm_vit_large_patch16_384", "{out_indices: 1}", l1, 1);
    /* A pretrained tag names weights, not an architecture: built as the
     * architecture, with or without the source prefix, but (as in timm's
     * list_models) not a member. */
    tc_test_expect_channels("timm_vit_base_patch16_224.mae", "{out_indices: [0, 11]}", b2, 2);
    tc_test_expect_channels("vit_small_patch16_224.augreg_in21k_ft_in1k", NULL, s3, 3);
    assert_false(terracl_registry_contains(reg, "timm_vit_base_patch16_224.mae"));
    assert_true(terracl_registry_contains(reg, "timm_vit_base_patch16_224"));

    terracl_error err = {0};
    terracl_module *m = NULL;
    assert_int_equal(tc_test_build_backbone("timm_vit_tiny_patch16_224.", NULL, &m, &err), TERRACL_ERR_NOT_FOUND);
    assert_int_equal(tc_test_build_backbone("prithvi_eo_v1_100.mae", NULL, &m, &err), TERRACL_ERR_NOT_FOUND);
    assert_int_equal(tc_test_build_backbone("timm_vit_tiny_patch16_224", "{depth: 2}", &m, &err),
                     TERRACL_ERR_CONFIG); /* the last 3 of 2 blocks */
    assert_int_equal(tc_test_build_backbone("timm_vit_tiny_patch16_224", "{out_indices: [12]}", &m, &err),
                     TERRACL_ERR_CONFIG);
    assert_int_equal(tc_test_build_backbone("timm_vit_tiny_patch16_224", "{out_indices: [1, -11]}", &m, &err),
                     TERRACL_ERR_UNSUPPORTED);
    assert_int_equal(tc_test_build_backbone("timm_vit_tiny_patch16_224", "{embed_dim: 100, num_heads: 3}", &m,
                           &err),
                     TERRACL_ERR_CONFIG);
    assert_int_equal(tc_test_build_backbone("timm_vit_tiny_patch16_224", "{dynamic_img_size: true}", &m, &err),
                     TERRACL_ERR_UNSUPPORTED);
    assert_int_equal(tc_test_build_backbone("timm_vit_tiny_patch16_224", "{init_values: 1.0e-5}", &m, &err),
                     TERRACL_ERR_UNSUPPORTED);
    assert_int_equal(tc_test_build_backbone("timm_vit_tiny_patch16_224", "{pretrained: true}", &m, &err),
                     TERRACL_ERR_CONFIG);
    assert_null(m);
}

/* TimmModelFactory builds the whole classifier (the ex_forestnet_timm
 * fixture checks its numbers) and refuses what TerraTorch refuses or terracl
 * cannot build. */
static void test_timm_model_factory(void **state)
{
    (void)state;
    const terracl_registry *reg = terracl_registry_get(TERRACL_REGISTRY_MODEL_FACTORY);
    const char *base = "{in_channels: 4, num_classes: 7, backbone_img_size: 32, "
                       "backbone_depth: 2, ";
    const char *good = "task: classification, backbone: vit_tiny_patch16_224.augreg_in21k, "
                       "pretrained: false";
    char text[512];
    terracl_error err = {0};
    terracl_module *m = NULL;
    snprintf(text, sizeof text, "%s%s}", base, good);
    terracl_value *a = tc_test_yaml(text);
    TC_ASSERT_OK(terracl_registry_build(reg, "TimmModelFactory", NULL, a, &m, &err), err);
    terracl_value_free(a);
    int64_t ch[TC_MAX_FEATS];
    assert_int_equal(terracl_module_out_channels(m, ch, TC_MAX_FEATS), 1);
    assert_int_equal(ch[0], 7);
    /* cls, pos (1 + 4 rows), patch, 2 blocks, final norm, head, all of width 192. */
    const size_t D = 192, block = 4 * D + 3 * D * D + 3 * D + D * D + D + 8 * D * D + 5 * D;
    assert_int_equal(terracl_module_param_count(m),
                     D + 5 * D + D * 4 * 256 + D + 2 * block + 2 * D + 7 * D + 7);
    terracl_module_destroy(m);
    m = NULL;
    static const struct {
        const char *extra;
        terracl_status want;
    } bad[] = {
        {"task: segmentation, backbone: vit_tiny_patch16_224, pretrained: false",
         TERRACL_ERR_CONFIG},
        {"task: classification, backbone: vit_tiny_patch16_224, pretrained: true",
         TERRACL_ERR_CONFIG},
        {"task: classification, backbone: resnet50, pretrained: false", TERRACL_ERR_UNSUPPORTED},
        /* timm's classifier takes no out_indices */
        {"task: classification, backbone: vit_tiny_patch16_224, pretrained: false, "
         "backbone_out_indices: [1]",
         TERRACL_ERR_CONFIG},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(text, sizeof text, "%s%s}", base, bad[i].extra);
        a = tc_test_yaml(text);
        assert_int_equal(terracl_registry_build(reg, "TimmModelFactory", NULL, a, &m, &err),
                         bad[i].want);
        assert_null(m);
        terracl_value_free(a);
    }
}

/* features_only prunes the blocks after the last one asked for. */
static void test_truncation(void **state)
{
    (void)state;
    terracl_error err = {0};
    terracl_module *one = NULL, *two = NULL;
    const char *a = "{embed_dim: 8, num_heads: 2, img_size: 32, out_indices: [0]}";
    const char *b = "{embed_dim: 8, num_heads: 2, img_size: 32, out_indices: [1]}";
    TC_ASSERT_OK(tc_test_build_backbone("timm_vit_tiny_patch16_224", a, &one, &err), err);
    TC_ASSERT_OK(tc_test_build_backbone("timm_vit_tiny_patch16_224", b, &two, &err), err);
    /* cls 8, pos (1 + 4) * 8, patch 8 * 3 * 256 + 8; a block: 2 norms (32),
     * qkv (8 * 24 + 24), proj (64 + 8), fc1 (8 * 32 + 32), fc2 (32 * 8 + 8). */
    const size_t stem = 8 + 40 + 8 * 3 * 256 + 8;
    const size_t block = 32 + 8 * 24 + 24 + 64 + 8 + 8 * 32 + 32 + 32 * 8 + 8;
    assert_int_equal(terracl_module_param_count(one), stem + block);
    assert_int_equal(terracl_module_param_count(two), stem + 2 * block);
    terracl_module_destroy(one);
    terracl_module_destroy(two);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_channels),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_timm_model_factory),
        cmocka_unit_test(test_vit_small_features),
        cmocka_unit_test(test_vit_tag_features),
    };
    tc_test_runtime_or_skip();
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

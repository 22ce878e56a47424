/*
 * PrithviModelFactory: its model_args, rewritten as TerraTorch 1.2 rewrites
 * them, must give the very model EncoderDecoderFactory builds from the
 * rewritten arguments (same module tree, parameter names and shapes, so the
 * same state_dict keys), and the arguments TerraTorch refuses are refused.
 * Numerical parity with TerraTorch is tests/fixtures/fm_pmf_* (test_parity).
 * Building needs no device.
 */
#include "test_common.h"

#include <string.h>

#include "graph/module.h"
#include "io/yaml_config.h"
#include "terracl/registry.h"

static terracl_value *parse(const char *text)
{
    terracl_value *v = NULL;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_yaml_parse(text, strlen(text), "test", &v, &err), err);
    return v;
}

static terracl_status build(const char *factory, const char *yaml, terracl_module **out,
                            terracl_error *err)
{
    terracl_value *args = parse(yaml);
    terracl_status st = terracl_registry_build(terracl_registry_get(TERRACL_REGISTRY_MODEL_FACTORY),
                                               factory, NULL, args, out, err);
    terracl_value_free(args);
    return st;
}

/* Same children (names, types), parameter names and shapes, recursively. */
static void assert_same_tree(const terracl_module *a, const terracl_module *b, const char *path)
{
    if (strcmp(a->type, b->type) != 0)
        fail_msg("%s: type %s vs %s", path, a->type, b->type);
    if (a->nparams != b->nparams)
        fail_msg("%s: %zu vs %zu parameters", path, a->nparams, b->nparams);
    for (size_t i = 0; i < a->nparams; i++) {
        const struct tc_param *p = &a->params[i], *q = &b->params[i];
        if (strcmp(p->name, q->name) != 0 || p->ndim != q->ndim ||
            memcmp(p->dims, q->dims, sizeof(int64_t) * (size_t)p->ndim) != 0)
            fail_msg("%s: parameter %s differs from %s (name or shape)", path, p->name, q->name);
    }
    if (a->nchildren != b->nchildren)
        fail_msg("%s: %zu vs %zu children", path, a->nchildren, b->nchildren);
    for (size_t i = 0; i < a->nchildren; i++) {
        char sub[512];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", a->children[i].name);
        if (strcmp(a->children[i].name, b->children[i].name) != 0)
            fail_msg("%s: child %s vs %s", path, a->children[i].name, b->children[i].name);
        assert_same_tree(a->children[i].module, b->children[i].module, sub);
    }
}

static const terracl_module *child(const terracl_module *m, const char *name)
{
    for (size_t i = 0; i < m->nchildren; i++)
        if (strcmp(m->children[i].name, name) == 0)
            return m->children[i].module;
    fail_msg("no child %s", name);
    return NULL;
}

static int64_t config_int(const terracl_module *m, const char *key)
{
    const terracl_value *v = terracl_value_map_peek(terracl_module_config(m), key);
    assert_non_null(v);
    return terracl_value_int(v);
}

static int config_bool(const terracl_module *m, const char *key)
{
    const terracl_value *v = terracl_value_map_peek(terracl_module_config(m), key);
    assert_non_null(v);
    return terracl_value_bool(v);
}

#define COMMON_ARGS                                                                                \
    "backbone: prithvi_eo_v2_300\n"                                                                \
    "decoder: UperNetDecoder\n"                                                                    \
    "num_classes: 3\n"                                                                             \
    "backbone_img_size: 32\n"                                                                      \
    "backbone_embed_dim: 32\n"                                                                     \
    "backbone_depth: 4\n"                                                                          \
    "backbone_num_heads: 2\n"                                                                      \
    "decoder_channels: 16\n"                                                                       \
    "head_channel_list: [8]\n"

/* bands -> backbone_bands (and the channel count), num_frames ->
 * backbone_num_frames, pretrained -> backbone_pretrained; in_channels is
 * passed on but the backbone takes len(bands). No necks: UperNet sees the 4
 * blocks with T*D channels each. */
static void test_same_model_as_encoder_decoder(void **state)
{
    (void)state;
    terracl_error err = {0};
    terracl_module *pmf = NULL, *edf = NULL;
    TC_ASSERT_OK(build("PrithviModelFactory",
                       "task: segmentation\n"
                       "bands: [RED, GREEN, BLUE, NIR_NARROW]\n"
                       "in_channels: 6\n"
                       "num_frames: 2\n"
                       "pretrained: false\n" COMMON_ARGS,
                       &pmf, &err),
                 err);
    TC_ASSERT_OK(build("EncoderDecoderFactory",
                       "task: segmentation\n"
                       "backbone_bands: [RED, GREEN, BLUE, NIR_NARROW]\n"
                       "backbone_num_frames: 2\n"
                       "backbone_pretrained: false\n" COMMON_ARGS,
                       &edf, &err),
                 err);
    assert_same_tree(pmf, edf, "");
    assert_string_equal(terracl_module_type(pmf), "PixelWiseModel");
    const terracl_module *enc = child(pmf, "encoder");
    assert_int_equal(config_int(enc, "in_chans"), 4);
    assert_int_equal(config_int(enc, "num_frames"), 2);
    int64_t ch[8];
    assert_int_equal(terracl_module_out_channels(enc, ch, 8), 4);
    assert_int_equal(ch[0], 64);
    terracl_module_destroy(pmf);
    terracl_module_destroy(edf);
}

/* Defaults: num_frames 1, in_channels len(bands), pretrained true, which
 * the backbone refuses without a ckpt_path when the factory is used on its
 * own (a whole model loaded with its weights drops the request: the
 * fm_pmf_seg_fcn fixture); with a ckpt_path it is kept for the backbone to
 * load. Classification gives the scalar model. */
static void test_defaults_and_pretrained(void **state)
{
    (void)state;
    const char *cls = "task: classification\n"
                      "backbone: prithvi_eo_tiny\n"
                      "decoder: IdentityDecoder\n"
                      "bands: [1, 2, 3]\n"
                      "num_classes: 4\n"
                      "backbone_depth: 2\n";
    terracl_error err = {0};
    terracl_module *m = NULL;
    assert_int_not_equal(build("PrithviModelFactory", cls, &m, &err), TERRACL_OK);
    assert_null(m);
    assert_non_null(strstr(err.message, "pretrained=True needs ckpt_path"));

    char yaml[512];
    snprintf(yaml, sizeof yaml, "%spretrained: false\n", cls);
    TC_ASSERT_OK(build("PrithviModelFactory", yaml, &m, &err), err);
    assert_string_equal(terracl_module_type(m), "ScalarOutputModel");
    const terracl_module *enc = child(m, "encoder");
    assert_int_equal(config_int(enc, "in_chans"), 3);
    assert_int_equal(config_int(enc, "num_frames"), 1);
    assert_false(config_bool(enc, "pretrained"));
    terracl_module_destroy(m);

    TC_ASSERT_OK(build("PrithviModelFactory",
                       "task: regression\n"
                       "backbone: prithvi_eo_tiny\n"
                       "decoder: FCNDecoder\n"
                       "bands: [RED, GREEN, BLUE, NIR_NARROW, SWIR_1, SWIR_2]\n"
                       "backbone_depth: 2\n"
                       "backbone_ckpt_path: backbone.h5\n",
                       &m, &err),
                 err);
    assert_true(config_bool(child(m, "encoder"), "pretrained"));
    terracl_module_destroy(m);
}

static void expect_refusal(const char *yaml, const char *words)
{
    terracl_error err = {0};
    terracl_module *m = NULL;
    terracl_status st = build("PrithviModelFactory", yaml, &m, &err);
    assert_int_not_equal(st, TERRACL_OK);
    assert_null(m);
    if (strstr(err.message, words) == NULL)
        fail_msg("expected '%s' in: %s", words, err.message);
}

/* What TerraTorch refuses: necks (it passes necks=None itself), a backbone
 * not named prithvi_*, the old prepare_features_for_image_model hook, no
 * bands; unknown arguments as EncoderDecoderFactory does. */
static void test_refusals(void **state)
{
    (void)state;
    const char *base = "task: segmentation\ndecoder: FCNDecoder\nnum_classes: 2\n"
                       "pretrained: false\nbackbone_depth: 2\n";
    char yaml[512];
    snprintf(yaml, sizeof yaml, "%sbackbone: prithvi_eo_tiny\nbands: [RED]\nnecks: []\n", base);
    expect_refusal(yaml, "necks");
    snprintf(yaml, sizeof yaml, "%sbackbone: terratorch_prithvi_eo_tiny\nbands: [RED]\n", base);
    expect_refusal(yaml, "prithvi_* backbones");
    snprintf(yaml, sizeof yaml,
             "%sbackbone: prithvi_eo_tiny\nbands: [RED]\nprepare_features_for_image_model: f\n",
             base);
    expect_refusal(yaml, "prepare_features_for_image_model");
    snprintf(yaml, sizeof yaml, "%sbackbone: prithvi_eo_tiny\n", base);
    expect_refusal(yaml, "bands is required");
    snprintf(yaml, sizeof yaml, "%sbackbone: prithvi_eo_tiny\nbands: [RED]\nfoo: 1\n", base);
    expect_refusal(yaml, "foo");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_model_as_encoder_decoder),
        cmocka_unit_test(test_defaults_and_pretrained),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

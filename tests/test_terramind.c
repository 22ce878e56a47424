/*
 * TerraMind backbones: TerraTorch's modality names, the layer keys they map
 * to, and clear refusals of what terracl does not run yet.
 */
#include "test_common.h"

#include <string.h>

#include "graph/module.h"
#include "io/yaml_config.h"
#include "models/backbones/terramind.h"

static terracl_value *yaml(const char *text)
{
    terracl_error err = {0};
    terracl_value *v = NULL;
    TC_ASSERT_OK(tc_yaml_parse(text, strlen(text), "<test>", &v, &err), err);
    return v;
}

/* Builds `name` with `args`; returns the status, *m set on success. */
static terracl_status build(const char *name, const char *args, terracl_module **m,
                            terracl_error *err)
{
    terracl_value *a = yaml(args);
    *m = NULL;
    terracl_status st = terracl_registry_build(terracl_registry_get(TERRACL_REGISTRY_BACKBONE),
                                               name, NULL, a, m, err);
    terracl_value_free(a);
    return st;
}

static const struct tc_param *find_param(const terracl_module *m, const char *name)
{
    for (size_t i = 0; i < m->nparams; i++)
        if (strcmp(m->params[i].name, name) == 0)
            return &m->params[i];
    return NULL;
}

static void test_modality_names(void **state)
{
    (void)state;
    static const struct {
        const char *given, *key;
        int64_t chans;
    } cases[] = {
        {"S2L2A", "untok_sen2l2a@224", 12}, {"sen2l2a", "untok_sen2l2a@224", 12},
        {"untok_sen2l2a@224", "untok_sen2l2a@224", 12}, {"S2L1C", "untok_sen2l1c@224", 13},
        {"S1", "untok_sen1grd@224", 2}, {"S1RTC", "untok_sen1rtc@224", 2},
        {"RGB", "untok_sen2rgb@224", 3}, {"DEM", "untok_dem@224", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        terracl_error err = {0};
        terracl_module *m = NULL;
        char args[128], name[128];
        snprintf(args, sizeof args, "{modalities: [%s], encoder_depth: 1, dim: 32, num_heads: 2}",
                 cases[i].given);
        TC_ASSERT_OK(build("terramind_v1_base", args, &m, &err), err);
        snprintf(name, sizeof name, "encoder_embeddings.%s.proj.weight", cases[i].key);
        const struct tc_param *p = find_param(m, name);
        if (p == NULL)
            fail_msg("%s: no parameter %s", cases[i].given, name);
        /* [dim, 16 * 16 * channels] */
        assert_int_equal(p->dims[1], 256 * cases[i].chans);
        terracl_module_destroy(m);
    }
}

static void test_layouts(void **state)
{
    (void)state;
    terracl_error err = {0};
    terracl_module *m = NULL;
    /* base: no biases, SwiGLU with 2/3 of 4 * dim hidden units */
    TC_ASSERT_OK(build("terramind_v1_base", "{modalities: [S2L2A], encoder_depth: 1}", &m, &err), err);
    assert_null(find_param(m, "encoder.0.attn.qkv.bias"));
    const struct tc_param *fc3 = find_param(m, "encoder.0.mlp.fc3.weight");
    assert_non_null(fc3);
    assert_int_equal(fc3->dims[0], 2048);
    terracl_module_destroy(m);
    /* tiny: biases, plain GELU MLP */
    TC_ASSERT_OK(build("terramind_v1_tiny", "{modalities: [S2L2A], encoder_depth: 1}", &m, &err), err);
    assert_non_null(find_param(m, "encoder.0.attn.qkv.bias"));
    assert_null(find_param(m, "encoder.0.mlp.fc3.weight"));
    terracl_module_destroy(m);
    /* bands set the channel count of their modality */
    TC_ASSERT_OK(build("terramind_v1_small",
                       "{modalities: [S2L2A], encoder_depth: 1, bands: {S2L2A: [RED, NIR_NARROW]}}",
                       &m, &err),
                 err);
    assert_int_equal(find_param(m, "encoder_embeddings.untok_sen2l2a@224.proj.weight")->dims[1],
                     2 * 256);
    terracl_module_destroy(m);
}

/* Several modalities: one patch embedding each, in TerraTorch's layer
 * names, new {name: channels} modalities beside pretrained ones, and
 * concat features one dim per modality wide. */
static void test_multimodal_layout(void **state)
{
    (void)state;
    terracl_error err = {0};
    terracl_module *m = NULL;
    TC_ASSERT_OK(build("terramind_v1_base",
                       "{modalities: [S2L2A, S1GRD, {ext: 5}], encoder_depth: 2, dim: 32, "
                       "num_heads: 2, merge_method: concat, bands: {S2L2A: [RED, GREEN, BLUE]}}",
                       &m, &err),
                 err);
    assert_int_equal(find_param(m, "encoder_embeddings.untok_sen2l2a@224.proj.weight")->dims[1],
                     3 * 256);
    assert_int_equal(find_param(m, "encoder_embeddings.untok_sen1grd@224.proj.weight")->dims[1],
                     2 * 256);
    assert_int_equal(find_param(m, "encoder_embeddings.ext.proj.weight")->dims[1], 5 * 256);
    assert_non_null(find_param(m, "encoder_embeddings.ext.pos_emb"));
    assert_non_null(find_param(m, "missing_mod_token"));
    int64_t ch[4] = {0};
    assert_int_equal(terracl_module_out_channels(m, ch, 4), 2);
    assert_int_equal(ch[0], 3 * 32);
    assert_int_equal(tc_terramind_modality_count(m), 3);
    assert_string_equal(tc_terramind_modality_name(m, 1), "S1GRD");
    assert_int_equal(tc_terramind_modality_channels(m, 0), 3);
    assert_int_equal(tc_terramind_modality_channels(m, 2), 5);
    terracl_module_destroy(m);
    /* mean keeps dim; dict builds (it runs as a backbone alone) */
    TC_ASSERT_OK(build("terramind_v1_tiny", "{modalities: [S2L2A, DEM], encoder_depth: 1}", &m, &err),
                 err);
    assert_int_equal(terracl_module_out_channels(m, ch, 4), 1);
    assert_int_equal(ch[0], 192);
    assert_null(find_param(m, "missing_mod_token"));
    terracl_module_destroy(m);
    TC_ASSERT_OK(build("terramind_v1_tiny",
                       "{modalities: [S2L2A, DEM], encoder_depth: 1, merge_method: dict}", &m, &err),
                 err);
    assert_true(tc_terramind_merges_to_dict(m));
    terracl_module_destroy(m);
}

/* terramind_v01_base: the base layout, and bands select channels of S2L2A
 * only (TerraTorch names no pretrained bands for its other modalities); the
 * _tim variants are refused with the reason. */
static void test_v01_and_tim(void **state)
{
    (void)state;
    terracl_error err = {0};
    terracl_module *m = NULL;
    TC_ASSERT_OK(build("terramind_v01_base",
                       "{modalities: [S2L2A, S1GRD], encoder_depth: 1, "
                       "bands: {S2L2A: [RED, GREEN], S1GRD: [VV]}}",
                       &m, &err),
                 err);
    assert_int_equal(find_param(m, "encoder_embeddings.untok_sen2l2a@224.proj.weight")->dims[1],
                     2 * 256);
    assert_int_equal(find_param(m, "encoder_embeddings.untok_sen1grd@224.proj.weight")->dims[1],
                     2 * 256);
    assert_non_null(find_param(m, "encoder.0.mlp.fc3.weight"));
    terracl_module_destroy(m);
    static const char *const tims[] = {"terramind_v1_tiny_tim", "terramind_v1_base_tim",
                                       "terramind_v01_base_tim"};
    for (size_t i = 0; i < sizeof tims / sizeof tims[0]; i++) {
        assert_int_equal(build(tims[i], "{modalities: [S2L2A]}", &m, &err), TERRACL_ERR_UNSUPPORTED);
        assert_non_null(strstr(err.message, "thinking-in-modalities"));
        assert_null(m);
    }
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *args;
        terracl_status st;
        const char *says;
    } cases[] = {
        {"{modalities: [S2L2A, sen2l2a]}", TERRACL_ERR_CONFIG, "same modality"},
        {"{modalities: [S2L2A, S2L2A]}", TERRACL_ERR_CONFIG, "same modality"},
        {"{modalities: [LULC]}", TERRACL_ERR_UNSUPPORTED, "LULC"},
        {"{modalities: [S2L2A, NDVI]}", TERRACL_ERR_UNSUPPORTED, "tokenizers"},
        {"{modalities: [tok_sen2l2a@224]}", TERRACL_ERR_UNSUPPORTED, "tok_sen2l2a@224"},
        {"{modalities: [S2L2A, {extra: 4}], patch_size: 8}", TERRACL_ERR_UNSUPPORTED, "patch size"},
        {"{modalities: [{extra: 0}]}", TERRACL_ERR_CONFIG, "extra"},
        {"{modalities: [{extra: four}]}", TERRACL_ERR_TYPE, "channel count"},
        {"{modalities: [S2L2A, S1GRD, DEM, RGB, S2L1C, S1RTC, {a: 1}, {b: 1}, {c: 1}]}",
         TERRACL_ERR_UNSUPPORTED, "more than"},
        {"{modalities: [S2L2A], merge_method: median}", TERRACL_ERR_CONFIG, "median"},
        {"{modalities: [S2L2A], pretrained: true}", TERRACL_ERR_CONFIG, "never downloads"},
        {"{modalities: [S2L2A], bands: {S1GRD: [VV]}}", TERRACL_ERR_CONFIG, "S1GRD"},
        {"{modalities: [S2L2A], num_register_tokens: 2}", TERRACL_ERR_CONFIG, "register tokens"},
        {"{modalities: [S2L2A], dim: 30, num_heads: 4}", TERRACL_ERR_CONFIG, "num_heads"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        terracl_error err = {0};
        terracl_module *m = NULL;
        terracl_status st = build("terramind_v1_base", cases[i].args, &m, &err);
        if (st != cases[i].st || strstr(err.message, cases[i].says) == NULL)
            fail_msg("%s: status %d, message '%s'", cases[i].args, (int)st, err.message);
        assert_null(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modality_names),
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_multimodal_layout),
        cmocka_unit_test(test_v01_and_tim),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests_name("terramind", tests, NULL, NULL);
}

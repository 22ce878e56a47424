/*
 * TerraMind backbones: TerraTorch's modality names, the layer keys they map
 * to, and clear refusals of what terracl does not run yet.
 */
#include "test_common.h"

#include <string.h>

#include "graph/module.h"
#include "io/yaml_config.h"

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

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *args;
        terracl_status st;
        const char *says;
    } cases[] = {
        {"{modalities: [S2L2A, S1GRD]}", TERRACL_ERR_UNSUPPORTED, "2 modalities"},
        {"{modalities: [LULC]}", TERRACL_ERR_UNSUPPORTED, "LULC"},
        {"{modalities: [S2L2A], merge_method: dict}", TERRACL_ERR_UNSUPPORTED, "dict"},
        {"{modalities: [S2L2A], merge_method: median}", TERRACL_ERR_CONFIG, "median"},
        {"{modalities: [S2L2A], ckpt_path: x.pt}", TERRACL_ERR_UNSUPPORTED, "ckpt_path"},
        {"{modalities: [S2L2A], bands: {S1GRD: [VV]}}", TERRACL_ERR_CONFIG, "S1GRD"},
        {"{modalities: [S2L2A], num_register_tokens: 2}", TERRACL_ERR_UNSUPPORTED, "register"},
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
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests_name("terramind", tests, NULL, NULL);
}

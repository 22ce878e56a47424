/*
 * Heads: parity with TerraTorch on the fixtures of
 * tools/gen_neck_head_fixtures.py (the runner lives in test_necks.c, built
 * here with TC_PARITY_NO_MAIN), state_dict names and constructor errors.
 */
#include "test_common.h"

#include <string.h>

#include "graph/module.h"
#include "io/yaml_config.h"
#include "models/heads/heads.h"

void tc_parity_fixture(const char *name);

#define PARITY(fixture)                                                                            \
    static void test_parity_##fixture(void **state)                                                \
    {                                                                                              \
        (void)state;                                                                               \
        tc_parity_fixture(#fixture);                                                               \
    }
PARITY(head_segmentation)
PARITY(head_segmentation_list)
PARITY(head_regression_upscale)
PARITY(head_regression_list)
PARITY(head_regression_plain)
PARITY(head_regression_outputs)
PARITY(head_scalar_outputs)
PARITY(head_classification)
PARITY(head_classification_after_pool)
PARITY(head_classification_flat)

static terracl_value *yaml(const char *text)
{
    terracl_error err = {0};
    terracl_value *v = NULL;
    TC_ASSERT_OK(tc_yaml_parse(text, strlen(text), "<test>", &v, &err), err);
    return v;
}

static int has_param(const terracl_module *m, const char *name)
{
    for (size_t i = 0; i < m->nparams; i++)
        if (strcmp(m->params[i].name, name) == 0)
            return 1;
    return 0;
}

static void test_head_param_names(void **state)
{
    (void)state;
    terracl_error err = {0};
    terracl_module *m = NULL;
    /* Upscale stack first, conv blocks next, then Dropout2d and the final conv. */
    terracl_value *a = yaml("{learned_upscale_layers: 1, channel_list: [3]}");
    TC_ASSERT_OK(tc_regression_head(4, a, &m, &err), err);
    assert_true(has_param(m, "head.0.0.conv.weight") && has_param(m, "head.0.0.bn.running_var"));
    assert_true(has_param(m, "head.1.0.0.weight") && !has_param(m, "head.1.0.0.bias"));
    assert_true(has_param(m, "head.1.0.1.running_mean") && has_param(m, "head.3.weight"));
    terracl_module_destroy(m);
    terracl_value *b = yaml("{}");
    TC_ASSERT_OK(tc_regression_head(4, b, &m, &err), err);
    assert_true(has_param(m, "head.1.weight") && has_param(m, "head.1.bias"));
    terracl_module_destroy(m);
    terracl_value *c = yaml("{num_classes: 2, channel_list: [5]}");
    TC_ASSERT_OK(tc_segmentation_head(4, c, &m, &err), err);
    assert_true(has_param(m, "head.0.0.0.weight") && has_param(m, "head.2.bias"));
    int64_t ch[2];
    assert_int_equal(terracl_module_out_channels(m, ch, 2), 1);
    assert_int_equal(ch[0], 2);
    terracl_module_destroy(m);
    terracl_value *d = yaml("{num_classes: 2, dim_list: [5, 3]}");
    TC_ASSERT_OK(tc_classification_head(4, d, &m, &err), err);
    assert_true(has_param(m, "head.0.1.0.weight") && has_param(m, "head.2.weight"));
    terracl_module_destroy(m);
    terracl_value_free(a);
    terracl_value_free(b);
    terracl_value_free(c);
    terracl_value_free(d);
}

static void test_head_constructor_errors(void **state)
{
    (void)state;
    terracl_error err = {0};
    terracl_module *m = NULL;
    terracl_value *none = yaml("{channel_list: [4]}");
    terracl_value *act = yaml("{final_act: mypackage.MyActivation}");
    terracl_value *bad_act = yaml("{final_act: torch.nn.NoSuchThing}");
    assert_int_equal(tc_segmentation_head(4, none, &m, &err), TERRACL_ERR_CONFIG);
    assert_non_null(strstr(err.message, "num_classes"));
    assert_int_equal(tc_classification_head(4, none, &m, &err), TERRACL_ERR_CONFIG);
    assert_int_equal(tc_regression_head(4, act, &m, &err), TERRACL_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "mypackage.MyActivation"));
    assert_int_equal(tc_regression_head(4, bad_act, &m, &err), TERRACL_ERR_UNSUPPORTED);
    assert_null(m);
    terracl_value_free(none);
    terracl_value_free(act);
    terracl_value_free(bad_act);
}

int main(void)
{
    tc_test_runtime_or_skip();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parity_head_segmentation),
        cmocka_unit_test(test_parity_head_segmentation_list),
        cmocka_unit_test(test_parity_head_regression_upscale),
        cmocka_unit_test(test_parity_head_regression_list),
        cmocka_unit_test(test_parity_head_regression_plain),
        cmocka_unit_test(test_parity_head_regression_outputs),
        cmocka_unit_test(test_parity_head_scalar_outputs),
        cmocka_unit_test(test_parity_head_classification),
        cmocka_unit_test(test_parity_head_classification_after_pool),
        cmocka_unit_test(test_parity_head_classification_flat),
        cmocka_unit_test(test_head_param_names),
        cmocka_unit_test(test_head_constructor_errors),
    };
    int rc = cmocka_run_group_tests_name("heads", tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

/* Registries: TerraTorch's Registry and MultiSourceRegistry behaviour. */
#include "test_registry_common.h"

#include <pthread.h>

#include "registry/registry.h"

static terracl_registry *plain_with(const char *const *names, size_t n)
{
    terracl_registry *r = NULL;
    terracl_error err = {0};
    TC_ASSERT_OK(terracl_registry_create("backbone", &r, &err), err);
    for (size_t i = 0; i < n; i++)
        TC_ASSERT_OK(terracl_registry_register(r, names[i], test_basic_backbone, NULL, 0, &err),
                     err);
    return r;
}

/* A multi-source registry "backbone" with sources terratorch and timm. */
static terracl_registry *two_sources(void)
{
    static const char *const tt[] = {"prithvi_eo_v1_100", "prithvi_eo_v2_300", "UNet", "shared"};
    static const char *const timm[] = {"resnet50", "shared", "timm_in_name"};
    terracl_registry *m = NULL;
    terracl_error err = {0};
    TC_ASSERT_OK(terracl_registry_create_multi("backbone", &m, &err), err);
    TC_ASSERT_OK(terracl_registry_register_source(m, "terratorch", plain_with(tt, 4), &err), err);
    TC_ASSERT_OK(terracl_registry_register_source(m, "timm", plain_with(timm, 3), &err), err);
    return m;
}

static char *name_at(const terracl_registry *r, size_t i, char *buf, size_t cap)
{
    terracl_error err = {0};
    TC_ASSERT_OK(terracl_registry_name(r, i, buf, cap, &err), err);
    return buf;
}

static void test_registry_plain_is_set_like(void **state)
{
    (void)state;
    static const char *const names[] = {"b", "a", "c_with_underscores"};
    terracl_registry *r = plain_with(names, 3);
    char buf[64];
    assert_false(terracl_registry_is_multi(r));
    assert_int_equal(terracl_registry_count(r), 3);
    assert_true(terracl_registry_contains(r, "a"));
    assert_true(terracl_registry_contains(r, "c_with_underscores"));
    assert_false(terracl_registry_contains(r, "d"));
    assert_false(terracl_registry_contains(r, "A"));
    /* Iteration keeps registration order. */
    assert_string_equal(name_at(r, 0, buf, sizeof buf), "b");
    assert_string_equal(name_at(r, 1, buf, sizeof buf), "a");
    assert_string_equal(name_at(r, 2, buf, sizeof buf), "c_with_underscores");
    terracl_error err = {0};
    assert_int_equal(terracl_registry_name(r, 3, buf, sizeof buf, &err), TERRACL_ERR_NOT_FOUND);
    assert_int_equal(terracl_registry_name(r, 2, buf, 5, &err), TERRACL_ERR_INVALID_ARG);
    terracl_registry_destroy(r);
    terracl_registry_destroy(NULL);
}

static void test_registry_reregistration_replaces_in_place(void **state)
{
    (void)state;
    static const char *const names[] = {"x", "y"};
    terracl_registry *r = plain_with(names, 2);
    terracl_error err = {0};
    int calls = 0;
    TC_ASSERT_OK(terracl_registry_register(r, "x", test_basic_backbone, &calls, 0, &err), err);
    assert_int_equal(terracl_registry_count(r), 2);
    char buf[16];
    assert_string_equal(name_at(r, 0, buf, sizeof buf), "x");
    terracl_module *m = NULL;
    TC_ASSERT_OK(terracl_registry_build(r, "x", NULL, NULL, &m, &err), err);
    assert_int_equal(calls, 1);
    terracl_module_destroy(m);
    terracl_registry_destroy(r);
}

static void test_registry_register_rejects_bad_input(void **state)
{
    (void)state;
    terracl_registry *r = plain_with(NULL, 0);
    terracl_error err = {0};
    assert_int_equal(terracl_registry_register(r, "x", NULL, NULL, 0, &err),
                     TERRACL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "'x'"));
    assert_int_equal(terracl_registry_register(r, "", test_failing, NULL, 0, &err),
                     TERRACL_ERR_INVALID_ARG);
    assert_int_equal(terracl_registry_register(NULL, "x", test_failing, NULL, 0, &err),
                     TERRACL_ERR_INVALID_ARG);
    assert_int_equal(terracl_registry_count(r), 0);
    terracl_registry_destroy(r);
}

static void test_registry_build_passes_args_and_first(void **state)
{
    (void)state;
    terracl_registry *r = NULL;
    terracl_error err = {0};
    TC_ASSERT_OK(terracl_registry_create("decoder", &r, &err), err);
    TC_ASSERT_OK(terracl_registry_register(r, "TestDecoder", test_decoder, NULL, 1, &err), err);
    terracl_value *channels = terracl_value_new_list();
    const int64_t chans[3] = {32, 64, 128};
    for (int i = 0; i < 3; i++)
        assert_int_equal(terracl_value_list_append(channels, terracl_value_new_int(chans[i]), NULL),
                         TERRACL_OK);
    terracl_value *args = terracl_value_new_map();
    assert_int_equal(terracl_value_map_set(args, "channels", terracl_value_new_int(16), NULL),
                     TERRACL_OK);
    terracl_module *m = NULL;
    TC_ASSERT_OK(terracl_registry_build(r, "TestDecoder", channels, args, &m, &err), err);
    int64_t oc[2];
    assert_int_equal(terracl_module_out_channels(m, oc, 2), 1);
    assert_int_equal(oc[0], 16);
    const terracl_value *embed = terracl_value_map_peek(terracl_module_config(m), "embed_dim");
    assert_int_equal(terracl_value_list_size(embed), 3);
    assert_int_equal(terracl_value_int(terracl_value_list_get(embed, 2)), 128);
    assert_true(terracl_registry_includes_head(r, "TestDecoder"));
    assert_false(terracl_registry_includes_head(r, "Nope"));
    terracl_module_destroy(m);
    /* Arguments that are not a map are refused before the constructor runs. */
    assert_int_equal(terracl_registry_build(r, "TestDecoder", channels, channels, &m, &err),
                     TERRACL_ERR_TYPE);
    assert_null(m);
    terracl_value_free(args);
    terracl_value_free(channels);
    terracl_registry_destroy(r);
}

static void test_registry_unknown_name_suggests_nearest(void **state)
{
    (void)state;
    terracl_registry *m = two_sources();
    terracl_error err = {0};
    terracl_module *mod = NULL;
    /* The message names the registry and its sources; only near names are
     * suggested (resnet50 is not near prithvi_eo_v2_30). */
    assert_int_equal(terracl_registry_build(m, "prithvi_eo_v2_30", NULL, NULL, &mod, &err),
                     TERRACL_ERR_NOT_FOUND);
    assert_null(mod);
    assert_string_equal(err.message, "backbone 'prithvi_eo_v2_30' is not in the BACKBONE registry "
                                     "(sources: terratorch, timm); did you mean "
                                     "prithvi_eo_v2_300, prithvi_eo_v1_100?");
    /* A known prefix: the name is compared inside the source. */
    assert_int_equal(terracl_registry_build(m, "timm_resnet5", NULL, NULL, &mod, &err),
                     TERRACL_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "'timm_resnet5' is not in the BACKBONE registry "
                                        "(sources: terratorch, timm); did you mean resnet50?"));
    /* A part of a name is near what contains it. */
    assert_int_equal(terracl_registry_build(m, "resnet", NULL, NULL, &mod, &err),
                     TERRACL_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "; did you mean resnet50?"));
    /* Far names get no suggestion at all. */
    static const char *const far[] = {"FPN", "SMPModelFactory", "swin_base_patch4", "u"};
    for (size_t i = 0; i < sizeof far / sizeof far[0]; i++) {
        assert_int_equal(terracl_registry_build(m, far[i], NULL, NULL, &mod, &err),
                         TERRACL_ERR_NOT_FOUND);
        assert_null(strstr(err.message, "did you mean"));
        assert_non_null(strstr(err.message, far[i]));
        assert_non_null(strstr(err.message, "(sources: terratorch, timm)"));
    }
    /* A TerraTorch source terracl lacks is named as such, with no guess. */
    assert_int_equal(terracl_registry_build(m, "smp_FPN", NULL, NULL, &mod, &err),
                     TERRACL_ERR_NOT_FOUND);
    assert_string_equal(err.message, "backbone 'smp_FPN' is not in the BACKBONE registry "
                                     "(sources: terratorch, timm); terracl has no 'smp' source");
    /* An empty registry says so. */
    terracl_registry *empty = plain_with(NULL, 0);
    assert_int_equal(terracl_registry_build(empty, "x", NULL, NULL, &mod, &err),
                     TERRACL_ERR_NOT_FOUND);
    assert_string_equal(err.message,
                        "backbone 'x' is not in the BACKBONE registry; no backbone is registered");
    terracl_registry_destroy(empty);
    terracl_registry_destroy(m);
}

static void test_registry_build_error_propagates_with_context(void **state)
{
    (void)state;
    terracl_registry *m = two_sources();
    terracl_error err = {0};
    TC_ASSERT_OK(terracl_registry_register(terracl_registry_source(m, "terratorch"), "prithvi_x",
                                           test_failing, NULL, 0, &err),
                 err);
    terracl_module *mod = NULL;
    assert_int_equal(terracl_registry_build(m, "prithvi_x", NULL, NULL, &mod, &err),
                     TERRACL_ERR_IO);
    assert_string_equal(err.message, "building backbone prithvi_x: cannot open checkpoint missing.h5");
    assert_null(mod);
    /* Argument errors from inside the constructor name the key. */
    terracl_value *args = terracl_value_new_map();
    assert_int_equal(terracl_value_map_set(args, "out_channels", terracl_value_new_string("64"),
                                           NULL),
                     TERRACL_OK);
    assert_int_equal(terracl_registry_build(m, "UNet", NULL, args, &mod, &err), TERRACL_ERR_TYPE);
    assert_string_equal(err.message, "building backbone UNet: argument 'out_channels': expected "
                                     "int, found string");
    terracl_value_free(args);
    terracl_registry_destroy(m);
}

static void test_multi_prefix_parsing(void **state)
{
    (void)state;
    terracl_registry *m = two_sources();
    assert_true(terracl_registry_is_multi(m));
    /* With and without prefix. */
    assert_true(terracl_registry_contains(m, "prithvi_eo_v1_100"));
    assert_true(terracl_registry_contains(m, "terratorch_prithvi_eo_v1_100"));
    assert_true(terracl_registry_contains(m, "timm_resnet50"));
    assert_true(terracl_registry_contains(m, "resnet50"));
    /* A known prefix selects that source only. */
    assert_false(terracl_registry_contains(m, "timm_UNet"));
    assert_false(terracl_registry_contains(m, "terratorch_resnet50"));
    /* A prefix alone is a plain name (one piece), and so is "terratorch_". */
    assert_false(terracl_registry_contains(m, "terratorch"));
    assert_false(terracl_registry_contains(m, "terratorch_"));
    /* An unknown prefix is searched as a plain name. */
    assert_false(terracl_registry_contains(m, "foo_bar"));
    /* A name that starts with a registered prefix resolves inside that
     * source only, as in TerraTorch: "timm_in_name" is timm's "in_name". */
    assert_false(terracl_registry_contains(m, "timm_in_name"));
    assert_true(terracl_registry_contains(m, "timm_timm_in_name"));
    terracl_error err = {0};
    TC_ASSERT_OK(terracl_registry_register(terracl_registry_source(m, "timm"), "foo_bar",
                                           test_basic_backbone, NULL, 0, &err),
                 err);
    assert_true(terracl_registry_contains(m, "foo_bar"));
    assert_true(terracl_registry_contains(m, "timm_foo_bar"));
    terracl_module *mod = NULL;
    TC_ASSERT_OK(terracl_registry_build(m, "foo_bar", NULL, NULL, &mod, &err), err);
    terracl_module_destroy(mod);
    terracl_registry_destroy(m);
}

static void test_multi_shadowing_first_source_wins(void **state)
{
    (void)state;
    terracl_registry *m = two_sources();
    terracl_error err = {0};
    int tt_calls = 0, timm_calls = 0;
    TC_ASSERT_OK(terracl_registry_register(terracl_registry_source(m, "terratorch"), "shared",
                                           test_basic_backbone, &tt_calls, 0, &err),
                 err);
    TC_ASSERT_OK(terracl_registry_register(terracl_registry_source(m, "timm"), "shared",
                                           test_basic_backbone, &timm_calls, 1, &err),
                 err);
    terracl_module *mod = NULL;
    TC_ASSERT_OK(terracl_registry_build(m, "shared", NULL, NULL, &mod, &err), err);
    terracl_module_destroy(mod);
    assert_int_equal(tt_calls, 1);
    assert_int_equal(timm_calls, 0);
    assert_false(terracl_registry_includes_head(m, "shared"));
    TC_ASSERT_OK(terracl_registry_build(m, "timm_shared", NULL, NULL, &mod, &err), err);
    terracl_module_destroy(mod);
    assert_int_equal(timm_calls, 1);
    assert_true(terracl_registry_includes_head(m, "timm_shared"));
    TC_ASSERT_OK(terracl_registry_build(m, "terratorch_shared", NULL, NULL, &mod, &err), err);
    terracl_module_destroy(mod);
    assert_int_equal(tt_calls, 2);
    terracl_registry_destroy(m);
}

static void test_multi_iteration_and_count(void **state)
{
    (void)state;
    terracl_registry *m = two_sources();
    char buf[64];
    assert_int_equal(terracl_registry_count(m), 7);
    const char *want[] = {"terratorch_prithvi_eo_v1_100", "terratorch_prithvi_eo_v2_300",
                          "terratorch_UNet", "terratorch_shared", "timm_resnet50", "timm_shared",
                          "timm_timm_in_name"};
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(name_at(m, i, buf, sizeof buf), want[i]);
    /* Every iterated name is a member. */
    for (size_t i = 0; i < 7; i++)
        assert_true(terracl_registry_contains(m, name_at(m, i, buf, sizeof buf)));
    assert_int_equal(terracl_registry_source_count(m), 2);
    assert_string_equal(terracl_registry_source_prefix(m, 0), "terratorch");
    assert_string_equal(terracl_registry_source_prefix(m, 1), "timm");
    assert_null(terracl_registry_source_prefix(m, 2));
    assert_null(terracl_registry_source(m, "smp"));
    terracl_registry_destroy(m);
}

static void test_multi_register_source_rules(void **state)
{
    (void)state;
    terracl_registry *m = two_sources();
    terracl_error err = {0};
    terracl_registry *extra = plain_with(NULL, 0);
    assert_int_equal(terracl_registry_register_source(m, "timm", extra, &err), TERRACL_ERR_EXISTS);
    assert_non_null(strstr(err.message, "'timm' already exists"));
    assert_int_equal(terracl_registry_register_source(m, "my_src", extra, &err),
                     TERRACL_ERR_INVALID_ARG);
    assert_int_equal(terracl_registry_register_source(m, "", extra, &err),
                     TERRACL_ERR_INVALID_ARG);
    assert_int_equal(terracl_registry_register_source(extra, "x", m, &err),
                     TERRACL_ERR_INVALID_ARG);
    terracl_registry *nested = NULL;
    TC_ASSERT_OK(terracl_registry_create_multi("inner", &nested, &err), err);
    assert_int_equal(terracl_registry_register_source(m, "inner", nested, &err),
                     TERRACL_ERR_INVALID_ARG);
    terracl_registry_destroy(nested);
    /* A new source has the lowest priority. */
    TC_ASSERT_OK(terracl_registry_register(extra, "resnet50", test_failing, NULL, 0, &err), err);
    TC_ASSERT_OK(terracl_registry_register_source(m, "mine", extra, &err), err);
    assert_int_equal(terracl_registry_source_count(m), 3);
    terracl_module *mod = NULL;
    TC_ASSERT_OK(terracl_registry_build(m, "resnet50", NULL, NULL, &mod, &err), err);
    terracl_module_destroy(mod);
    assert_int_equal(terracl_registry_build(m, "mine_resnet50", NULL, NULL, &mod, &err),
                     TERRACL_ERR_IO);
    /* A registry already serving as a source cannot be added twice. */
    terracl_registry *other = NULL;
    TC_ASSERT_OK(terracl_registry_create_multi("other", &other, &err), err);
    assert_int_equal(terracl_registry_register_source(other, "again", extra, &err),
                     TERRACL_ERR_INVALID_ARG);
    terracl_registry_destroy(other);
    terracl_registry_destroy(extra); /* owned by m now: a no-op */
    terracl_registry_destroy(m);
}

static void test_multi_refuses_direct_registration(void **state)
{
    (void)state;
    terracl_registry *m = two_sources();
    terracl_error err = {0};
    assert_int_equal(terracl_registry_register(m, "x", test_basic_backbone, NULL, 0, &err),
                     TERRACL_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "\"terratorch\" source"));
    assert_false(terracl_registry_contains(m, "x"));
    terracl_registry_destroy(m);
}

static void test_multi_registration_after_lookup(void **state)
{
    (void)state;
    terracl_registry *m = two_sources();
    terracl_error err = {0};
    assert_false(terracl_registry_contains(m, "late"));
    terracl_module *mod = NULL;
    assert_int_equal(terracl_registry_build(m, "late", NULL, NULL, &mod, &err),
                     TERRACL_ERR_NOT_FOUND);
    TC_ASSERT_OK(terracl_registry_register(terracl_registry_source(m, "timm"), "late",
                                           test_basic_backbone, NULL, 0, &err),
                 err);
    assert_true(terracl_registry_contains(m, "late"));
    assert_int_equal(terracl_registry_count(m), 8);
    TC_ASSERT_OK(terracl_registry_build(m, "late", NULL, NULL, &mod, &err), err);
    terracl_module_destroy(mod);
    terracl_registry_destroy(m);
}

static void test_top_level_registries(void **state)
{
    (void)state;
    const enum terracl_registry_kind kinds[] = {
        TERRACL_REGISTRY_BACKBONE, TERRACL_REGISTRY_NECK, TERRACL_REGISTRY_DECODER,
        TERRACL_REGISTRY_MODEL_FACTORY, TERRACL_REGISTRY_FULL_MODEL};
    for (size_t k = 0; k < 5; k++) {
        terracl_registry *top = terracl_registry_get(kinds[k]);
        assert_non_null(top);
        assert_ptr_equal(top, terracl_registry_get(kinds[k]));
        assert_true(terracl_registry_is_multi(top));
        /* TerraTorch's BACKBONE_REGISTRY also searches timm, and its
         * DECODER_REGISTRY smp, after its own. */
        const char *second = kinds[k] == TERRACL_REGISTRY_BACKBONE  ? "timm"
                             : kinds[k] == TERRACL_REGISTRY_DECODER ? "smp"
                                                                    : NULL;
        size_t nsrc = second ? 2 : 1;
        assert_int_equal(terracl_registry_source_count(top), nsrc);
        assert_string_equal(terracl_registry_source_prefix(top, 0), "terratorch");
        if (second)
            assert_string_equal(terracl_registry_source_prefix(top, 1), second);
        assert_non_null(terracl_registry_source(top, "terratorch"));
        terracl_registry_destroy(top); /* the library's: a no-op */
    }
    assert_string_equal(tc_registry_kind_name(TERRACL_REGISTRY_MODEL_FACTORY), "model factory");
}

/* The seed example: a user registers their BasicBackbone and builds it. */
static void test_top_level_user_backbone(void **state)
{
    (void)state;
    terracl_registry *backbones = terracl_registry_get(TERRACL_REGISTRY_BACKBONE);
    terracl_error err = {0};
    TC_ASSERT_OK(terracl_registry_register(terracl_registry_source(backbones, "terratorch"),
                                           "BasicBackbone", test_basic_backbone, NULL, 0, &err),
                 err);
    assert_true(terracl_registry_contains(backbones, "BasicBackbone"));
    assert_true(terracl_registry_contains(backbones, "terratorch_BasicBackbone"));
    terracl_value *args = terracl_value_new_map();
    assert_int_equal(terracl_value_map_set(args, "out_channels", terracl_value_new_int(64), NULL),
                     TERRACL_OK);
    terracl_module *m = NULL;
    TC_ASSERT_OK(terracl_registry_build(backbones, "BasicBackbone", NULL, args, &m, &err), err);
    assert_string_equal(terracl_module_type(m), "BasicBackbone");
    assert_int_equal(terracl_module_param_count(m), 64 * 6 * 9 + 64);
    terracl_module_destroy(m);
    /* Unused arguments are the constructor's to reject; they name the key. */
    assert_int_equal(terracl_value_map_set(args, "out_chanels", terracl_value_new_int(3), NULL),
                     TERRACL_OK);
    assert_int_equal(terracl_registry_build(backbones, "BasicBackbone", NULL, args, &m, &err),
                     TERRACL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "'out_chanels'"));
    terracl_value_free(args);
}

struct reg_thread {
    terracl_registry *reg;
    int id;
    int failures;
};

static void *register_many(void *arg)
{
    struct reg_thread *t = arg;
    char name[32];
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof name, "t%d_comp%d", t->id, i);
        if (terracl_registry_register(t->reg, name, test_basic_backbone, NULL, 0, NULL) !=
            TERRACL_OK)
            t->failures++;
        /* Concurrent lookups through the multi-source view. */
        terracl_registry *top = terracl_registry_get(TERRACL_REGISTRY_NECK);
        if (!terracl_registry_contains(top, name))
            t->failures++;
        (void)terracl_registry_count(top);
    }
    return NULL;
}

static void test_top_level_concurrent_registration(void **state)
{
    (void)state;
    terracl_registry *src = terracl_registry_source(terracl_registry_get(TERRACL_REGISTRY_NECK),
                                                    "terratorch");
    size_t before = terracl_registry_count(src);
    struct reg_thread t[2] = {{src, 0, 0}, {src, 1, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, register_many, &t[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(t[0].failures + t[1].failures, 0);
    assert_int_equal(terracl_registry_count(src), before + 1000);
    assert_true(terracl_registry_contains(terracl_registry_get(TERRACL_REGISTRY_NECK),
                                          "terratorch_t1_comp499"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_plain_is_set_like),
        cmocka_unit_test(test_registry_reregistration_replaces_in_place),
        cmocka_unit_test(test_registry_register_rejects_bad_input),
        cmocka_unit_test(test_registry_build_passes_args_and_first),
        cmocka_unit_test(test_registry_unknown_name_suggests_nearest),
        cmocka_unit_test(test_registry_build_error_propagates_with_context),
        cmocka_unit_test(test_multi_prefix_parsing),
        cmocka_unit_test(test_multi_shadowing_first_source_wins),
        cmocka_unit_test(test_multi_iteration_and_count),
        cmocka_unit_test(test_multi_register_source_rules),
        cmocka_unit_test(test_multi_refuses_direct_registration),
        cmocka_unit_test(test_multi_registration_after_lookup),
        cmocka_unit_test(test_top_level_registries),
        cmocka_unit_test(test_top_level_user_backbone),
        cmocka_unit_test(test_top_level_concurrent_registration),
    };
    return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}

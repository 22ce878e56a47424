/* Values: trees, used-key tracking, typed lookups, scalar resolution, YAML output. */
#include "test_common.h"

#include <string.h>

#include "core/value.h"

static terracl_value *sample_args(void)
{
    terracl_value *m = terracl_value_new_map();
    assert_non_null(m);
    assert_int_equal(terracl_value_map_set(m, "num_frames", terracl_value_new_int(3), NULL),
                     TERRACL_OK);
    assert_int_equal(terracl_value_map_set(m, "drop_path", terracl_value_new_float(0.1), NULL),
                     TERRACL_OK);
    assert_int_equal(terracl_value_map_set(m, "pretrained", terracl_value_new_bool(0), NULL),
                     TERRACL_OK);
    assert_int_equal(terracl_value_map_set(m, "ckpt_path", terracl_value_new_string("w.h5"), NULL),
                     TERRACL_OK);
    assert_int_equal(terracl_value_map_set(m, "nothing", terracl_value_new_null(), NULL),
                     TERRACL_OK);
    terracl_value *l = terracl_value_new_list();
    for (int i = 1; i <= 3; i++)
        assert_int_equal(terracl_value_list_append(l, terracl_value_new_int(i * 32), NULL),
                         TERRACL_OK);
    assert_int_equal(terracl_value_map_set(m, "channels", l, NULL), TERRACL_OK);
    return m;
}

static void test_value_map_keeps_insertion_order_and_replaces_in_place(void **state)
{
    (void)state;
    terracl_value *m = sample_args();
    assert_int_equal(terracl_value_map_size(m), 6);
    assert_string_equal(terracl_value_map_key(m, 0), "num_frames");
    assert_string_equal(terracl_value_map_key(m, 5), "channels");
    assert_int_equal(terracl_value_map_set(m, "num_frames", terracl_value_new_int(4), NULL),
                     TERRACL_OK);
    assert_int_equal(terracl_value_map_size(m), 6);
    assert_string_equal(terracl_value_map_key(m, 0), "num_frames");
    assert_int_equal(terracl_value_int(terracl_value_map_peek(m, "num_frames")), 4);
    assert_int_equal(terracl_value_map_remove(m, "drop_path"), 1);
    assert_int_equal(terracl_value_map_remove(m, "drop_path"), 0);
    assert_string_equal(terracl_value_map_key(m, 1), "pretrained");
    assert_null(terracl_value_map_peek(m, "drop_path"));
    assert_null(terracl_value_map_key(m, 99));
    terracl_value_free(m);
}

static void test_value_clone_is_deep_and_equal(void **state)
{
    (void)state;
    terracl_value *m = sample_args();
    terracl_value *c = terracl_value_clone(m);
    assert_true(tc_value_equal(m, c));
    assert_int_equal(terracl_value_map_set(c, "num_frames", terracl_value_new_int(9), NULL),
                     TERRACL_OK);
    assert_false(tc_value_equal(m, c));
    assert_int_equal(terracl_value_int(terracl_value_map_peek(m, "num_frames")), 3);
    assert_int_equal(tc_value_count(m), 10);
    terracl_value_free(m);
    terracl_value_free(c);
    terracl_value_free(NULL);
}

static void test_value_ownership_on_failure(void **state)
{
    (void)state;
    terracl_error err = {0};
    terracl_value *notlist = terracl_value_new_int(1);
    /* The item is freed even though the append fails (ASan checks the leak). */
    assert_int_equal(terracl_value_list_append(notlist, terracl_value_new_string("x"), &err),
                     TERRACL_ERR_INVALID_ARG);
    assert_int_equal(terracl_value_map_set(notlist, "k", terracl_value_new_int(2), &err),
                     TERRACL_ERR_INVALID_ARG);
    terracl_value_free(notlist);
}

static void test_args_typed_lookups_and_defaults(void **state)
{
    (void)state;
    terracl_value *m = sample_args();
    terracl_error err = {0};
    int64_t i;
    double f;
    int b;
    const char *s;
    TC_ASSERT_OK(terracl_args_int(m, "num_frames", 1, &i, &err), err);
    assert_int_equal(i, 3);
    TC_ASSERT_OK(terracl_args_int(m, "missing", 7, &i, &err), err);
    assert_int_equal(i, 7);
    TC_ASSERT_OK(terracl_args_int(m, "nothing", 8, &i, &err), err); /* null = default */
    assert_int_equal(i, 8);
    TC_ASSERT_OK(terracl_args_float(m, "drop_path", 0.0, &f, &err), err);
    assert_true(f == 0.1);
    TC_ASSERT_OK(terracl_args_float(m, "num_frames", 0.0, &f, &err), err); /* int -> float */
    assert_true(f == 3.0);
    TC_ASSERT_OK(terracl_args_bool(m, "pretrained", 1, &b, &err), err);
    assert_int_equal(b, 0);
    TC_ASSERT_OK(terracl_args_string(m, "ckpt_path", NULL, &s, &err), err);
    assert_string_equal(s, "w.h5");
    TC_ASSERT_OK(terracl_args_string(m, "other", "dflt", &s, &err), err);
    assert_string_equal(s, "dflt");
    /* No map at all: every lookup gives its default. */
    TC_ASSERT_OK(terracl_args_int(NULL, "x", 5, &i, &err), err);
    assert_int_equal(i, 5);
    terracl_value_free(m);
}

static void test_args_type_error_names_key_expected_and_found(void **state)
{
    (void)state;
    terracl_value *m = sample_args();
    terracl_error err = {0};
    int64_t i;
    int b;
    const char *s;
    assert_int_equal(terracl_args_int(m, "ckpt_path", 0, &i, &err), TERRACL_ERR_TYPE);
    assert_string_equal(err.message, "argument 'ckpt_path': expected int, found string");
    assert_int_equal(terracl_args_int(m, "drop_path", 0, &i, &err), TERRACL_ERR_TYPE);
    assert_non_null(strstr(err.message, "expected int, found float"));
    assert_int_equal(terracl_args_bool(m, "num_frames", 0, &b, &err), TERRACL_ERR_TYPE);
    assert_non_null(strstr(err.message, "'num_frames': expected bool, found int"));
    assert_int_equal(terracl_args_string(m, "channels", NULL, &s, &err), TERRACL_ERR_TYPE);
    assert_non_null(strstr(err.message, "'channels': expected string, found list"));
    /* With a position the message carries it. */
    terracl_value *v = terracl_value_new_string("three");
    tc_value_set_position(v, 12, 5);
    assert_int_equal(terracl_value_map_set(m, "num_frames", v, NULL), TERRACL_OK);
    assert_int_equal(terracl_args_int(m, "num_frames", 0, &i, &err), TERRACL_ERR_TYPE);
    assert_string_equal(err.message,
                        "argument 'num_frames': expected int, found string (line 12, column 5)");
    terracl_value_free(m);
}

static void test_args_int_list(void **state)
{
    (void)state;
    terracl_value *m = sample_args();
    terracl_error err = {0};
    int64_t out[4];
    size_t n;
    int present;
    TC_ASSERT_OK(terracl_args_int_list(m, "channels", out, 4, &n, &present, &err), err);
    assert_int_equal(n, 3);
    assert_int_equal(present, 1);
    assert_int_equal(out[2], 96);
    TC_ASSERT_OK(terracl_args_int_list(m, "num_frames", out, 4, &n, &present, &err), err);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 3);
    TC_ASSERT_OK(terracl_args_int_list(m, "absent", out, 4, &n, &present, &err), err);
    assert_int_equal(n, 0);
    assert_int_equal(present, 0);
    assert_int_equal(terracl_args_int_list(m, "channels", out, 2, &n, NULL, &err),
                     TERRACL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "'channels'"));
    terracl_value *l = terracl_value_new_list();
    assert_int_equal(terracl_value_list_append(l, terracl_value_new_int(1), NULL), TERRACL_OK);
    assert_int_equal(terracl_value_list_append(l, terracl_value_new_string("x"), NULL), TERRACL_OK);
    assert_int_equal(terracl_value_map_set(m, "bad", l, NULL), TERRACL_OK);
    assert_int_equal(terracl_args_int_list(m, "bad", out, 4, &n, NULL, &err), TERRACL_ERR_TYPE);
    assert_non_null(strstr(err.message, "'bad[1]': expected int, found string"));
    assert_int_equal(terracl_args_int_list(m, "ckpt_path", out, 4, &n, NULL, &err),
                     TERRACL_ERR_TYPE);
    terracl_value_free(m);
}

static void test_unused_keys(void **state)
{
    (void)state;
    terracl_value *m = sample_args();
    const char *keys[8];
    assert_int_equal(terracl_value_unused_keys(m, keys, 8), 6);
    int64_t i;
    assert_int_equal(terracl_args_int(m, "num_frames", 0, &i, NULL), TERRACL_OK);
    assert_non_null(terracl_value_map_get(m, "ckpt_path"));
    assert_non_null(terracl_value_map_peek(m, "pretrained")); /* peek does not mark */
    assert_int_equal(terracl_args_int(m, "missing", 0, &i, NULL), TERRACL_OK);
    assert_int_equal(terracl_value_unused_keys(m, keys, 8), 4);
    assert_string_equal(keys[0], "drop_path");
    assert_string_equal(keys[1], "pretrained");
    assert_string_equal(keys[2], "nothing");
    assert_string_equal(keys[3], "channels");
    /* A small buffer still gets the total. */
    assert_int_equal(terracl_value_unused_keys(m, keys, 1), 4);
    assert_int_equal(terracl_value_unused_keys(m, NULL, 0), 4);
    /* A failed typed lookup still counts as a read of the key. */
    int b;
    assert_int_equal(terracl_args_bool(m, "channels", 0, &b, NULL), TERRACL_ERR_TYPE);
    assert_int_equal(terracl_value_unused_keys(m, keys, 8), 3);
    tc_value_map_mark_all(m, 1);
    assert_int_equal(terracl_value_unused_keys(m, keys, 8), 0);
    /* A clone starts with every key unused. */
    terracl_value *c = terracl_value_clone(m);
    assert_int_equal(terracl_value_unused_keys(c, keys, 8), 6);
    terracl_value_free(c);
    terracl_value_free(m);
}

static void expect_plain(const char *text, terracl_value_type type)
{
    terracl_status st;
    terracl_value *v = tc_value_resolve_plain(text, &st);
    assert_non_null(v);
    if (terracl_value_type_of(v) != type)
        fail_msg("'%s' resolved to %s, expected %s", text,
                 terracl_value_type_name(terracl_value_type_of(v)), terracl_value_type_name(type));
    terracl_value_free(v);
}

static int64_t plain_int(const char *text)
{
    terracl_status st;
    terracl_value *v = tc_value_resolve_plain(text, &st);
    assert_non_null(v);
    assert_int_equal(terracl_value_type_of(v), TERRACL_VALUE_INT);
    int64_t i = terracl_value_int(v);
    terracl_value_free(v);
    return i;
}

static double plain_float(const char *text)
{
    terracl_status st;
    terracl_value *v = tc_value_resolve_plain(text, &st);
    assert_non_null(v);
    if (terracl_value_type_of(v) != TERRACL_VALUE_FLOAT)
        fail_msg("'%s' is not a float", text);
    double f = terracl_value_float(v);
    terracl_value_free(v);
    return f;
}

static void test_resolve_plain_scalars_like_pyyaml(void **state)
{
    (void)state;
    const char *nulls[] = {"", "~", "null", "Null", "NULL"};
    for (size_t i = 0; i < 5; i++)
        expect_plain(nulls[i], TERRACL_VALUE_NULL);
    const char *bools[] = {"true", "True", "TRUE", "false", "False", "FALSE", "yes", "No",
                           "on",   "OFF"};
    for (size_t i = 0; i < 10; i++)
        expect_plain(bools[i], TERRACL_VALUE_BOOL);
    const char *strings[] = {"nULL", "tRUE", "y", "n", "0o17", "08", "1.2.3", "1e", "e5", "-",
                             ".", "+.", "1_000x", "2001-12-14", "0x", "inf", "nan", "12:61"};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        expect_plain(strings[i], TERRACL_VALUE_STRING);
    assert_int_equal(plain_int("42"), 42);
    assert_int_equal(plain_int("-17"), -17);
    assert_int_equal(plain_int("+5"), 5);
    assert_int_equal(plain_int("0"), 0);
    assert_int_equal(plain_int("1_000"), 1000);
    assert_int_equal(plain_int("0x1F"), 31);
    assert_int_equal(plain_int("-0x10"), -16);
    assert_int_equal(plain_int("0b101"), 5);
    assert_int_equal(plain_int("017"), 15); /* YAML 1.1 octal */
    assert_int_equal(plain_int("190:20:30"), 685230);
    assert_int_equal(plain_int("9223372036854775807"), INT64_MAX);
    assert_true(plain_int("-9223372036854775808") == INT64_MIN);
    terracl_status st;
    assert_null(tc_value_resolve_plain("9223372036854775808", &st));
    assert_int_equal(st, TERRACL_ERR_OVERFLOW);
    assert_null(tc_value_resolve_plain("0x1ffffffffffffffff", &st));
    assert_int_equal(st, TERRACL_ERR_OVERFLOW);
    assert_true(plain_float("1.5") == 1.5);
    assert_true(plain_float("-2.") == -2.0);
    assert_true(plain_float(".5") == 0.5);
    assert_true(plain_float("1e-4") == 1e-4);
    assert_true(plain_float("1E5") == 1e5);
    assert_true(plain_float("6.0e+3") == 6000.0);
    assert_true(plain_float("1_0.2_5") == 10.25);
    assert_true(plain_float(".inf") > 1e308);
    assert_true(plain_float("-.Inf") < -1e308);
    assert_true(isnan(plain_float(".NaN")));
    assert_true(plain_float("1:30.5") == 90.5);
}

static void test_resolve_tagged(void **state)
{
    (void)state;
    terracl_status st;
    terracl_value *v = tc_value_resolve_tagged("3", "float", &st);
    assert_int_equal(terracl_value_type_of(v), TERRACL_VALUE_FLOAT);
    assert_true(terracl_value_float(v) == 3.0);
    terracl_value_free(v);
    assert_null(tc_value_resolve_tagged("abc", "int", &st));
    assert_int_equal(st, TERRACL_OK);
    assert_null(tc_value_resolve_tagged("maybe", "bool", &st));
    v = tc_value_resolve_tagged("whatever", "null", &st);
    assert_int_equal(terracl_value_type_of(v), TERRACL_VALUE_NULL);
    terracl_value_free(v);
}

static void test_to_yaml(void **state)
{
    (void)state;
    terracl_value *m = sample_args();
    terracl_value *neck = terracl_value_new_map();
    assert_int_equal(terracl_value_map_set(neck, "name", terracl_value_new_string("SelectIndices"),
                                           NULL),
                     TERRACL_OK);
    terracl_value *necks = terracl_value_new_list();
    assert_int_equal(terracl_value_list_append(necks, neck, NULL), TERRACL_OK);
    assert_int_equal(terracl_value_map_set(m, "necks", necks, NULL), TERRACL_OK);
    const char *tricky[] = {"yes", "1e-4", "", "a: b", "-x", "with \"quotes\" and \\", "tab\there",
                            "<<", "~"};
    for (size_t i = 0; i < sizeof tricky / sizeof tricky[0]; i++) {
        char key[16];
        snprintf(key, sizeof key, "s%zu", i);
        assert_int_equal(terracl_value_map_set(m, key, terracl_value_new_string(tricky[i]), NULL),
                         TERRACL_OK);
    }
    assert_int_equal(terracl_value_map_set(m, "big", terracl_value_new_float(1e-5), NULL),
                     TERRACL_OK);
    assert_int_equal(terracl_value_map_set(m, "whole", terracl_value_new_float(2.0), NULL),
                     TERRACL_OK);
    assert_int_equal(terracl_value_map_set(m, "empty", terracl_value_new_map(), NULL), TERRACL_OK);
    char *text = NULL;
    terracl_error err = {0};
    TC_ASSERT_OK(terracl_value_to_yaml(m, &text, &err), err);
    assert_non_null(strstr(text, "num_frames: 3\n"));
    assert_non_null(strstr(text, "drop_path: 0.1\n"));
    assert_non_null(strstr(text, "pretrained: false\n"));
    assert_non_null(strstr(text, "ckpt_path: w.h5\n"));
    assert_non_null(strstr(text, "nothing: null\n"));
    assert_non_null(strstr(text, "channels: [32, 64, 96]\n"));
    assert_non_null(strstr(text, "necks:\n  - name: SelectIndices\n"));
    assert_non_null(strstr(text, "s0: \"yes\"\n"));
    assert_non_null(strstr(text, "s1: \"1e-4\"\n"));
    assert_non_null(strstr(text, "s2: \"\"\n"));
    assert_non_null(strstr(text, "big: 1.0e-05\n"));
    assert_non_null(strstr(text, "whole: 2.0\n"));
    assert_non_null(strstr(text, "empty: {}\n"));
    free(text);
    terracl_value_free(m);
    terracl_value *s = terracl_value_new_int(-5);
    TC_ASSERT_OK(terracl_value_to_yaml(s, &text, &err), err);
    assert_string_equal(text, "-5\n");
    free(text);
    terracl_value_free(s);
}

static void test_edit_distance_and_nearest(void **state)
{
    (void)state;
    assert_int_equal(tc_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(tc_edit_distance("", "abc"), 3);
    assert_int_equal(tc_edit_distance("FCNDecoder", "fcndecoder"), 0);
    const char *names[] = {"prithvi_eo_v1_100", "prithvi_eo_v2_300", "prithvi_eo_v2_600",
                           "prithvi_eo_v2_300", "UNet"};
    size_t best[3];
    assert_int_equal(tc_nearest_names("prithvi_eo_v2_30", names, 5, 3, best), 3);
    assert_int_equal(best[0], 1);
    assert_int_equal(best[1], 2);
    assert_int_equal(best[2], 0);
    assert_int_equal(tc_nearest_names("x", names, 0, 3, best), 0);
}

static void test_name_is_near(void **state)
{
    (void)state;
    /* Slips: a few edits relative to the length, or a part of the name. */
    assert_true(tc_name_is_near("UNetDecodr", "UNetDecoder"));
    assert_true(tc_name_is_near("prithvi_eo_tinny", "prithvi_eo_tiny"));
    assert_true(tc_name_is_near("SelectIndex", "SelectIndices"));
    assert_true(tc_name_is_near("unetdecoder", "UNetDecoder"));
    assert_true(tc_name_is_near("UNet", "UNetDecoder"));
    assert_true(tc_name_is_near("a", "b"));
    /* Far-fetched: different words of similar length, short fragments. */
    assert_false(tc_name_is_near("UNetDecodr", "UperNetDecoder"));
    assert_false(tc_name_is_near("smp_FPN", "FCNDecoder"));
    assert_false(tc_name_is_near("FPN", "FCNDecoder"));
    assert_false(tc_name_is_near("SMPModelFactory", "EncoderDecoderFactory"));
    assert_false(tc_name_is_near("timm_resnet50", "prithvi_eo_v1_100"));
    assert_false(tc_name_is_near("ab", "abcdef"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_map_keeps_insertion_order_and_replaces_in_place),
        cmocka_unit_test(test_value_clone_is_deep_and_equal),
        cmocka_unit_test(test_value_ownership_on_failure),
        cmocka_unit_test(test_args_typed_lookups_and_defaults),
        cmocka_unit_test(test_args_type_error_names_key_expected_and_found),
        cmocka_unit_test(test_args_int_list),
        cmocka_unit_test(test_unused_keys),
        cmocka_unit_test(test_resolve_plain_scalars_like_pyyaml),
        cmocka_unit_test(test_resolve_tagged),
        cmocka_unit_test(test_to_yaml),
        cmocka_unit_test(test_edit_distance_and_nearest),
        cmocka_unit_test(test_name_is_near),
    };
    return cmocka_run_group_tests_name("value", tests, NULL, NULL);
}

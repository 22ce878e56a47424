/* terracl list / info, run through their functions with the test's own components. */
#include "test_registry_common.h"

#include "cli/cli.h"

struct capture {
    FILE *out, *err;
    char out_text[8192], err_text[2048];
};

static void capture_open(struct capture *c)
{
    c->out = tmpfile();
    c->err = tmpfile();
    assert_non_null(c->out);
    assert_non_null(c->err);
}

static void slurp(FILE *f, char *buf, size_t cap)
{
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void capture_close(struct capture *c)
{
    slurp(c->out, c->out_text, sizeof c->out_text);
    slurp(c->err, c->err_text, sizeof c->err_text);
}

static int run_list(struct capture *c, int argc, char **argv)
{
    capture_open(c);
    int rc = tc_cli_list(argc, argv, c->out, c->err);
    capture_close(c);
    return rc;
}

static int run_info(struct capture *c, int argc, char **argv)
{
    capture_open(c);
    int rc = tc_cli_info(argc, argv, c->out, c->err);
    capture_close(c);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    terracl_error err = {0};
    terracl_registry *bb =
        terracl_registry_source(terracl_registry_get(TERRACL_REGISTRY_BACKBONE), "terratorch");
    terracl_registry *dec =
        terracl_registry_source(terracl_registry_get(TERRACL_REGISTRY_DECODER), "terratorch");
    if (terracl_registry_register(bb, "test_basic_backbone_v1", test_basic_backbone, NULL, 0,
                                  &err) != TERRACL_OK ||
        terracl_registry_register(bb, "test_failing_backbone", test_failing, NULL, 0, &err) !=
            TERRACL_OK ||
        terracl_registry_register(dec, "TestDecoder", test_decoder, NULL, 0, &err) != TERRACL_OK)
        return -1;
    return 0;
}

static void test_list_one_kind_prints_prefixed_names(void **state)
{
    (void)state;
    struct capture c;
    char *argv[] = {"backbones"};
    assert_int_equal(run_list(&c, 1, argv), 0);
    assert_non_null(strstr(c.out_text, "terratorch_test_basic_backbone_v1\n"));
    assert_non_null(strstr(c.out_text, "terratorch_test_failing_backbone\n"));
    assert_string_equal(c.err_text, "");
    char *argv2[] = {"decoders"};
    assert_int_equal(run_list(&c, 1, argv2), 0);
    assert_non_null(strstr(c.out_text, "terratorch_TestDecoder\n"));
    assert_null(strstr(c.out_text, "backbone"));
}

static void test_list_all_kinds_under_headings(void **state)
{
    (void)state;
    struct capture c;
    assert_int_equal(run_list(&c, 0, NULL), 0);
    char *bb = strstr(c.out_text, "backbones:\n");
    char *necks = strstr(c.out_text, "necks:\n");
    char *dec = strstr(c.out_text, "decoders:\n");
    char *fac = strstr(c.out_text, "factories:\n");
    assert_non_null(bb);
    assert_non_null(necks);
    assert_non_null(dec);
    assert_non_null(fac);
    assert_true(bb < necks && necks < dec && dec < fac);
    char *name = strstr(c.out_text, "  terratorch_test_basic_backbone_v1\n");
    assert_true(name != NULL && name > bb && name < necks);
    name = strstr(c.out_text, "  terratorch_TestDecoder\n");
    assert_true(name != NULL && name > dec && name < fac);
}

static void test_list_errors(void **state)
{
    (void)state;
    struct capture c;
    char *argv[] = {"backbonez"};
    assert_int_equal(run_list(&c, 1, argv), 1);
    assert_string_equal(c.err_text,
                        "terracl: unknown kind 'backbonez' (nearest: backbones, factories, necks)\n");
    char *singular[] = {"backbone"};
    assert_int_equal(run_list(&c, 1, singular), 0);
    assert_non_null(strstr(c.out_text, "terratorch_test_basic_backbone_v1\n"));
    char *argv2[] = {"backbones", "necks"};
    assert_int_equal(run_list(&c, 2, argv2), 2);
    assert_non_null(strstr(c.err_text, "usage: terracl list"));
}

static void test_info_backbone_prints_config_and_parameters(void **state)
{
    (void)state;
    struct capture c;
    char *argv[] = {"backbone", "test_basic_backbone_v1"};
    assert_int_equal(run_info(&c, 2, argv), 0);
    assert_string_equal(c.out_text, "in_channels: 6\nout_channels: 64\nparameters: 3520\n");
    /* With its prefix too. */
    char *argv2[] = {"backbone", "terratorch_test_basic_backbone_v1"};
    assert_int_equal(run_info(&c, 2, argv2), 0);
    assert_non_null(strstr(c.out_text, "parameters: 3520\n"));
}

static void test_info_decoder_gets_channel_list(void **state)
{
    (void)state;
    struct capture c;
    char *argv[] = {"decoder", "TestDecoder"};
    assert_int_equal(run_info(&c, 2, argv), 0);
    assert_string_equal(c.out_text, "embed_dim: [768]\nchannels: 256\nparameters: 0\n");
    char *argv2[] = {"decoder", "TestDecoder", "--channels", "32,64,128"};
    assert_int_equal(run_info(&c, 4, argv2), 0);
    assert_string_equal(c.out_text, "embed_dim: [32, 64, 128]\nchannels: 256\nparameters: 0\n");
    char *argv3[] = {"decoder", "TestDecoder", "--channels=32,x"};
    assert_int_equal(run_info(&c, 3, argv3), 2);
    assert_non_null(strstr(c.err_text, "--channels"));
}

static void test_info_errors(void **state)
{
    (void)state;
    struct capture c;
    char *argv[] = {"backbone", "test_basic_backbone_v2"};
    assert_int_equal(run_info(&c, 2, argv), 1);
    assert_string_equal(c.out_text, "");
    assert_non_null(strstr(c.err_text, "terracl: backbone 'test_basic_backbone_v2' is not in the "
                                       "BACKBONE registry (sources: terratorch"));
    assert_non_null(strstr(c.err_text, "did you mean test_basic_backbone_v1"));
    assert_non_null(strchr(c.err_text, '\n'));
    assert_int_equal(strchr(c.err_text, '\n')[1], '\0'); /* one line */
    char *argv2[] = {"backbon", "x"};
    assert_int_equal(run_info(&c, 2, argv2), 1);
    assert_string_equal(c.err_text, "terracl: unknown kind 'backbon' (nearest: backbone, neck, "
                                    "factory)\n");
    char *argv3[] = {"backbone", "test_failing_backbone"};
    assert_int_equal(run_info(&c, 2, argv3), 1);
    assert_string_equal(c.err_text, "terracl: building backbone test_failing_backbone: cannot "
                                    "open checkpoint missing.h5\n");
    char *argv4[] = {"backbone"};
    assert_int_equal(run_info(&c, 1, argv4), 2);
    char *argv5[] = {"backbone", "a", "b"};
    assert_int_equal(run_info(&c, 3, argv5), 2);
    char *argv6[] = {"backbone", "x", "--channels", "3"}; /* channels are for decoders and necks */
    assert_int_equal(run_info(&c, 4, argv6), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_one_kind_prints_prefixed_names),
        cmocka_unit_test(test_list_all_kinds_under_headings),
        cmocka_unit_test(test_list_errors),
        cmocka_unit_test(test_info_backbone_prints_config_and_parameters),
        cmocka_unit_test(test_info_decoder_gets_channel_list),
        cmocka_unit_test(test_info_errors),
    };
    return cmocka_run_group_tests_name("registry_cli", tests, setup, NULL);
}

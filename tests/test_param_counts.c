/*
 * Learnable parameter counts of the registered backbones equal PyTorch's
 * count of the TerraTorch models (tests/fixtures/param_counts.tsv, written
 * by tools/make_param_counts.py with the real terratorch package, and
 * torchgeo_param_counts.tsv by tools/make_torchgeo_fixtures.py).
 */
#include "test_common.h"

#include <string.h>

#include "io/yaml_config.h"

/* Every line of the backbone count file `file` (name, args, count). */
static void check_backbone_counts(const char *file)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", getenv("TERRACL_FIXTURES"), file);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    int checked = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        char *name = strtok(line, "\t"), *args_text = strtok(NULL, "\t"), *count = strtok(NULL, "\t\n");
        assert_non_null(count);
        terracl_error err = {0};
        terracl_value *args = NULL;
        TC_ASSERT_OK(tc_yaml_parse(args_text, strlen(args_text), file, &args, &err), err);
        terracl_module *m = NULL;
        TC_ASSERT_OK(terracl_registry_build(terracl_registry_get(TERRACL_REGISTRY_BACKBONE), name,
                                            NULL, args, &m, &err),
                     err);
        unsigned long long want = strtoull(count, NULL, 10);
        unsigned long long got = (unsigned long long)terracl_module_param_count(m);
        if (got != want)
            fail_msg("%s %s: %llu parameters, TerraTorch counts %llu", name, args_text, got, want);
        terracl_module_destroy(m);
        terracl_value_free(args);
        checked++;
    }
    fclose(f);
    assert_true(checked >= 8);
}

static void test_counts_match_terratorch(void **state)
{
    (void)state;
    check_backbone_counts("param_counts.tsv");
}

/* TerraTorch's torchgeo backbones: the whole timm models, classifier head
 * included. */
static void test_torchgeo_counts_match_terratorch(void **state)
{
    (void)state;
    check_backbone_counts("torchgeo_param_counts.tsv");
}

/* The same for decoders built from a channel list
 * (tests/fixtures/decoder_param_counts.tsv, tools/make_decoder_param_counts.py). */
static void test_decoder_counts_match_terratorch(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/decoder_param_counts.tsv", getenv("TERRACL_FIXTURES"));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    int checked = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        char *name = strtok(line, "\t"), *channels_text = strtok(NULL, "\t"),
             *args_text = strtok(NULL, "\t"), *count = strtok(NULL, "\t\n");
        assert_non_null(count);
        terracl_error err = {0};
        terracl_value *channels = NULL, *args = NULL;
        TC_ASSERT_OK(tc_yaml_parse(channels_text, strlen(channels_text), "decoder_param_counts.tsv",
                                   &channels, &err),
                     err);
        TC_ASSERT_OK(tc_yaml_parse(args_text, strlen(args_text), "decoder_param_counts.tsv", &args,
                                   &err),
                     err);
        terracl_module *m = NULL;
        TC_ASSERT_OK(terracl_registry_build(terracl_registry_get(TERRACL_REGISTRY_DECODER), name,
                                            channels, args, &m, &err),
                     err);
        unsigned long long want = strtoull(count, NULL, 10);
        unsigned long long got = (unsigned long long)terracl_module_param_count(m);
        if (got != want)
            fail_msg("%s %s %s: %llu parameters, PyTorch counts %llu", name, channels_text,
                     args_text, got, want);
        terracl_module_destroy(m);
        terracl_value_free(channels);
        terracl_value_free(args);
        checked++;
    }
    fclose(f);
    assert_true(checked >= 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_match_terratorch),
        cmocka_unit_test(test_torchgeo_counts_match_terratorch),
        cmocka_unit_test(test_decoder_counts_match_terratorch),
    };
    return cmocka_run_group_tests_name("param_counts", tests, NULL, NULL);
}

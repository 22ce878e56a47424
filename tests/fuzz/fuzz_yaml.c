/*
 * libFuzzer target: bytes -> YAML -> value tree -> model-section extraction
 * -> typed lookups -> YAML text -> value tree again. Bad input must end in
 * an error with a message, never a crash, a leak or a sanitizer report; a
 * tree that parses must survive the write/read round trip unchanged.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/value.h"
#include "io/yaml_config.h"

static void check(int ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "fuzz_yaml: %s\n%s\n", what, detail ? detail : "");
        abort();
    }
}

static void exercise_args(const terracl_value *args)
{
    terracl_error err = {0};
    for (size_t i = 0; i < terracl_value_map_size(args); i++) {
        const char *key = terracl_value_map_key(args, i);
        int64_t iv, list[8];
        double fv;
        int bv, present;
        const char *sv;
        size_t n;
        (void)terracl_args_int(args, key, 0, &iv, &err);
        (void)terracl_args_float(args, key, 0.0, &fv, &err);
        (void)terracl_args_bool(args, key, 0, &bv, &err);
        (void)terracl_args_string(args, key, NULL, &sv, &err);
        (void)terracl_args_int_list(args, key, list, 8, &n, &present, &err);
        struct tc_band bands[16];
        (void)tc_config_bands(terracl_value_map_at(args, i), key, bands, 16, &n, &err);
    }
    const char *unused[4];
    check(terracl_value_unused_keys(args, unused, 4) == 0, "keys left unused after reading all",
          NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    terracl_value *root = NULL;
    terracl_error err = {0};
    terracl_status st = tc_yaml_parse((const char *)data, size, "fuzz.yaml", &root, &err);
    if (st != TERRACL_OK) {
        check(root == NULL, "failed parse returned a tree", NULL);
        check(err.message[0] != '\0', "error without a message", NULL);
        return 0;
    }
    struct tc_model_config cfg;
    st = tc_config_model(root, "fuzz.yaml", &cfg, &err);
    if (st == TERRACL_OK)
        exercise_args(cfg.model_args);
    else
        check(err.message[0] != '\0', "config error without a message", NULL);

    char *text = NULL;
    st = terracl_value_to_yaml(root, &text, &err);
    check(st == TERRACL_OK, "to_yaml failed", err.message);
    terracl_value *back = NULL;
    st = tc_yaml_parse(text, strlen(text), "roundtrip.yaml", &back, &err);
    check(st == TERRACL_OK, "re-reading written YAML failed", err.message);
    check(tc_value_equal(root, back), "round trip changed the tree", text);
    free(text);
    terracl_value_free(back);
    terracl_value_free(root);
    return 0;
}

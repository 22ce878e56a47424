/* YAML configs: parsing, positions, anchors and merges, errors, model sections, bands. */
#include "test_common.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/value.h"
#include "io/yaml_config.h"

static terracl_value *parse_ok(const char *text)
{
    terracl_value *v = NULL;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_yaml_parse(text, strlen(text), "t.yaml", &v, &err), err);
    return v;
}

/* Parses text that must fail with CONFIG and exactly `message`. */
static void parse_fails(const char *text, const char *message)
{
    terracl_value *v = NULL;
    terracl_error err = {0};
    terracl_status st = tc_yaml_parse(text, strlen(text), "t.yaml", &v, &err);
    if (st != TERRACL_ERR_CONFIG)
        fail_msg("expected TERRACL_ERR_CONFIG for:\n%s\ngot %s: %s", text,
                 terracl_status_name(st), err.message);
    assert_null(v);
    if (strcmp(err.message, message) != 0)
        fail_msg("for:\n%s\nexpected: %s\n     got: %s", text, message, err.message);
}

static void test_yaml_scalars_and_types(void **state)
{
    (void)state;
    terracl_value *v = parse_ok("i: 42\n"
                                "neg: -3\n"
                                "f: 1e-4\n"
                                "half: .5\n"
                                "b1: true\n"
                                "b2: False\n"
                                "b3: yes\n"
                                "b4: off\n"
                                "n1: null\n"
                                "n2: ~\n"
                                "n3:\n"
                                "q1: \"42\"\n"
                                "q2: 'true'\n"
                                "q3: \"\"\n"
                                "s: hello world\n"
                                "tagged: !!str 7\n"
                                "tf: !!float 3\n");
    struct {
        const char *key;
        terracl_value_type type;
    } want[] = {{"i", TERRACL_VALUE_INT},     {"neg", TERRACL_VALUE_INT},
                {"f", TERRACL_VALUE_FLOAT},   {"half", TERRACL_VALUE_FLOAT},
                {"b1", TERRACL_VALUE_BOOL},   {"b2", TERRACL_VALUE_BOOL},
                {"b3", TERRACL_VALUE_BOOL},   {"b4", TERRACL_VALUE_BOOL},
                {"n1", TERRACL_VALUE_NULL},   {"n2", TERRACL_VALUE_NULL},
                {"n3", TERRACL_VALUE_NULL},   {"q1", TERRACL_VALUE_STRING},
                {"q2", TERRACL_VALUE_STRING}, {"q3", TERRACL_VALUE_STRING},
                {"s", TERRACL_VALUE_STRING},  {"tagged", TERRACL_VALUE_STRING},
                {"tf", TERRACL_VALUE_FLOAT}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const terracl_value *x = terracl_value_map_peek(v, want[i].key);
        assert_non_null(x);
        if (terracl_value_type_of(x) != want[i].type)
            fail_msg("%s: got %s", want[i].key, terracl_value_type_name(terracl_value_type_of(x)));
    }
    assert_int_equal(terracl_value_int(terracl_value_map_peek(v, "neg")), -3);
    assert_true(terracl_value_float(terracl_value_map_peek(v, "f")) == 1e-4);
    assert_true(terracl_value_float(terracl_value_map_peek(v, "half")) == 0.5);
    assert_true(terracl_value_bool(terracl_value_map_peek(v, "b3")));
    assert_false(terracl_value_bool(terracl_value_map_peek(v, "b4")));
    assert_string_equal(terracl_value_string(terracl_value_map_peek(v, "q2")), "true");
    assert_string_equal(terracl_value_string(terracl_value_map_peek(v, "tagged")), "7");
    assert_string_equal(terracl_value_string(terracl_value_map_peek(v, "s")), "hello world");
    terracl_value_free(v);
}

static void test_yaml_positions(void **state)
{
    (void)state;
    terracl_value *v = parse_ok("model:\n"
                                "  init_args:\n"
                                "    model_args:\n"
                                "      backbone_bands: [BLUE, 5]\n"
                                "      necks:\n"
                                "        - name: SelectIndices\n");
    int line, col;
    terracl_value_position(v, &line, &col);
    assert_int_equal(line, 1);
    assert_int_equal(col, 1);
    const terracl_value *args = terracl_value_map_peek(
        terracl_value_map_peek(terracl_value_map_peek(v, "model"), "init_args"), "model_args");
    const terracl_value *bands = terracl_value_map_peek(args, "backbone_bands");
    terracl_value_position(bands, &line, &col);
    assert_int_equal(line, 4);
    assert_int_equal(col, 23);
    terracl_value_position(terracl_value_list_get(bands, 1), &line, &col);
    assert_int_equal(line, 4);
    assert_int_equal(col, 30);
    const terracl_value *neck = terracl_value_list_get(terracl_value_map_peek(args, "necks"), 0);
    terracl_value_position(terracl_value_map_peek(neck, "name"), &line, &col);
    assert_int_equal(line, 6);
    assert_int_equal(col, 17);
    /* Type errors from args lookups carry the position. */
    int64_t i;
    terracl_error err = {0};
    assert_int_equal(terracl_args_int(neck, "name", 0, &i, &err), TERRACL_ERR_TYPE);
    assert_string_equal(err.message,
                        "argument 'name': expected int, found string (line 6, column 17)");
    terracl_value_free(v);
}

static void test_yaml_anchors_aliases_and_merge_keys(void **state)
{
    (void)state;
    terracl_value *v = parse_ok("base: &base\n"
                                "  backbone: prithvi_eo_v2_300\n"
                                "  backbone_num_frames: 1\n"
                                "  decoder: FCNDecoder\n"
                                "extra: &extra {decoder: UperNetDecoder, num_classes: 2}\n"
                                "bands: &bands [BLUE, GREEN, RED]\n"
                                "a:\n"
                                "  <<: *base\n"
                                "  backbone_num_frames: 3\n"
                                "  backbone_bands: *bands\n"
                                "b:\n"
                                "  <<: [*extra, *base]\n"
                                "c: {<<: *base, <<: *extra}\n");
    const terracl_value *a = terracl_value_map_peek(v, "a");
    assert_int_equal(terracl_value_map_size(a), 4);
    assert_string_equal(terracl_value_map_key(a, 0), "backbone");
    assert_string_equal(terracl_value_map_key(a, 1), "backbone_num_frames");
    assert_string_equal(terracl_value_map_key(a, 3), "backbone_bands");
    assert_int_equal(terracl_value_int(terracl_value_map_peek(a, "backbone_num_frames")), 3);
    assert_int_equal(terracl_value_list_size(terracl_value_map_peek(a, "backbone_bands")), 3);
    /* In a merge list the first mapping wins. */
    const terracl_value *b = terracl_value_map_peek(v, "b");
    assert_string_equal(terracl_value_string(terracl_value_map_peek(b, "decoder")),
                        "UperNetDecoder");
    assert_string_equal(terracl_value_string(terracl_value_map_peek(b, "backbone")),
                        "prithvi_eo_v2_300");
    assert_int_equal(terracl_value_map_size(b), 4);
    assert_null(terracl_value_map_peek(b, "<<"));
    /* Two merge keys in one mapping: both apply, the first wins. */
    const terracl_value *c = terracl_value_map_peek(v, "c");
    assert_string_equal(terracl_value_string(terracl_value_map_peek(c, "decoder")), "FCNDecoder");
    assert_int_equal(terracl_value_int(terracl_value_map_peek(c, "num_classes")), 2);
    /* The anchored original is untouched. */
    const terracl_value *base = terracl_value_map_peek(v, "base");
    assert_int_equal(terracl_value_int(terracl_value_map_peek(base, "backbone_num_frames")), 1);
    /* A quoted "<<" is an ordinary key. */
    terracl_value *q = parse_ok("\"<<\": 1\n");
    assert_int_equal(terracl_value_int(terracl_value_map_peek(q, "<<")), 1);
    terracl_value_free(q);
    /* An anchor on a merge value itself, used again afterwards. */
    terracl_value *r = parse_ok("x:\n  <<: &m {k: 1}\ny: *m\n");
    assert_int_equal(terracl_value_int(terracl_value_map_peek(terracl_value_map_peek(r, "y"), "k")),
                     1);
    terracl_value_free(r);
    terracl_value_free(v);
}

static void test_yaml_errors_carry_line_and_column(void **state)
{
    (void)state;
    parse_fails("a: 1\nb: [1, 2\n", "t.yaml:3:1: did not find expected ',' or ']' while parsing a "
                                    "flow sequence (line 2, column 4)");
    parse_fails("a: 1\n  b: 2\n",
                "t.yaml:2:4: mapping values are not allowed in this context");
    parse_fails("a: 1\nb: 2\na: 3\n", "t.yaml:3:1: duplicate key 'a' (the value first given at 1:4)");
    parse_fails("a: *nope\n",
                "t.yaml:1:4: alias *nope refers to an unknown anchor (or one still being defined)");
    parse_fails("a: &x [1, *x]\n",
                "t.yaml:1:11: alias *x refers to an unknown anchor (or one still being defined)");
    parse_fails("a: &x 1\nb: &x 2\n", "t.yaml:2:4: duplicate anchor &x (first defined at 1:4)");
    parse_fails("a: 1\n---\nb: 2\n",
                "t.yaml:2:1: a second YAML document starts here (expected exactly one)");
    parse_fails("", "t.yaml:1:1: the file holds no YAML document (expected one)");
    parse_fails("# only a comment\n", "t.yaml:2:1: the file holds no YAML document (expected one)");
    parse_fails("a: 99999999999999999999\n",
                "t.yaml:1:4: integer 99999999999999999999 does not fit in 64 bits");
    parse_fails("a: !!int abc\n", "t.yaml:1:4: 'abc' is not a valid int");
    parse_fails("a: !!python/object:os.system x\n",
                "t.yaml:1:4: unsupported tag tag:yaml.org,2002:python/object:os.system (only "
                "standard YAML types)");
    parse_fails("? [1, 2]\n: x\n", "t.yaml:1:3: mapping keys must be scalars");
    parse_fails("a:\n  <<: 5\n",
                "t.yaml:2:3: a merge key (<<) takes a mapping or a list of mappings, not a int");
    parse_fails("a: \"x\\0y\"\n", "t.yaml:1:4: a scalar contains a NUL character");
    parse_fails("a: \x01\n", "t.yaml:1:4: control characters are not allowed: #1 at byte 3");
}

static void test_yaml_nesting_limit(void **state)
{
    (void)state;
    char deep[256], ok[256];
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    deep[130] = '\0';
    memset(ok, '[', 64);
    memset(ok + 64, ']', 64);
    ok[128] = '\0';
    terracl_value *v = parse_ok(ok);
    terracl_value_free(v);
    parse_fails(deep, "t.yaml:1:65: nesting deeper than 64 levels");
}

static void test_yaml_alias_bomb_is_refused(void **state)
{
    (void)state;
    char text[2048];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n");
    for (int i = 1; i < 10; i++)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, "
                              "*a%d]\n",
                              i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
                              i - 1);
    terracl_value *v = NULL;
    terracl_error err = {0};
    assert_int_equal(tc_yaml_parse(text, n, "bomb.yaml", &v, &err), TERRACL_ERR_CONFIG);
    assert_null(v);
    assert_non_null(strstr(err.message, "too many values"));
}

static void test_yaml_file(void **state)
{
    (void)state;
    char path[] = "/tmp/terracl_yaml_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "model_factory: EncoderDecoderFactory\nmodel_args: {backbone: x}\nbad: [\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    terracl_value *v = NULL;
    terracl_error err = {0};
    assert_int_equal(tc_yaml_load_file(path, &v, &err), TERRACL_ERR_CONFIG);
    char want[256];
    snprintf(want, sizeof want, "%s:4:1: did not find expected node content while parsing a flow "
                                "node (line 4, column 1)", path);
    assert_string_equal(err.message, want);
    unlink(path);
    assert_int_equal(tc_yaml_load_file(path, &v, &err), TERRACL_ERR_IO);
    assert_non_null(strstr(err.message, path));
}

static void test_yaml_emit_roundtrip(void **state)
{
    (void)state;
    const char *text = "model:\n"
                       "  class_path: terratorch.tasks.SemanticSegmentationTask\n"
                       "  init_args:\n"
                       "    model_args:\n"
                       "      backbone_bands: [BLUE, GREEN, 7]\n"
                       "      necks:\n"
                       "        - name: SelectIndices\n"
                       "          indices: [2, 5, 8, 11]\n"
                       "        - {name: ReshapeTokensToImage}\n"
                       "      nested: [[1, 2], [], {}]\n"
                       "      odd: [\"yes\", \"1e3\", \"a: b\", \" lead\", \"tr \", \"\\u0085x\\u2028\"]\n"
                       "      lr: 1.0e-4\n"
                       "      inf: -.inf\n"
                       "      x: \"\\x01\\t\\\\\"\n";
    terracl_value *v = parse_ok(text);
    char *out = NULL;
    terracl_error err = {0};
    TC_ASSERT_OK(terracl_value_to_yaml(v, &out, &err), err);
    terracl_value *back = parse_ok(out);
    if (!tc_value_equal(v, back))
        fail_msg("round trip changed the tree:\n%s", out);
    free(out);
    terracl_value_free(back);
    terracl_value_free(v);
}

/* Keys longer than an implicit key may be (1024 characters for libyaml),
 * plain, quoted and escaped, at the top, nested and inside a list, with
 * inline and block values: written as explicit keys, they read back. */
static void test_round_trip_long_keys(void **state)
{
    (void)state;
    const size_t lens[] = {1000, 1001, 1024, 1025, 5000};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t n = lens[li];
        char *plain = malloc(n + 1), *quoted = malloc(n + 1);
        assert_non_null(plain);
        assert_non_null(quoted);
        for (size_t i = 0; i < n; i++) {
            plain[i] = (char)('a' + i % 26);
            quoted[i] = i % 7 == 0 ? '\t' : (char)('A' + i % 26); /* needs escapes */
        }
        plain[n] = quoted[n] = '\0';
        terracl_value *root = terracl_value_new_map(), *inner = terracl_value_new_map();
        terracl_value *list = terracl_value_new_list(), *item = terracl_value_new_map();
        terracl_value *nested = terracl_value_new_map();
        assert_int_equal(terracl_value_map_set(nested, "x", terracl_value_new_int(1), NULL),
                         TERRACL_OK);
        assert_int_equal(terracl_value_map_set(item, plain, terracl_value_new_int(3), NULL),
                         TERRACL_OK);
        assert_int_equal(terracl_value_map_set(item, quoted, nested, NULL), TERRACL_OK);
        assert_int_equal(terracl_value_list_append(list, item, NULL), TERRACL_OK);
        assert_int_equal(terracl_value_map_set(inner, quoted, terracl_value_new_string("v"), NULL),
                         TERRACL_OK);
        assert_int_equal(terracl_value_map_set(root, plain, inner, NULL), TERRACL_OK);
        assert_int_equal(terracl_value_map_set(root, "list", list, NULL), TERRACL_OK);
        char *out = NULL;
        terracl_error err = {0};
        TC_ASSERT_OK(terracl_value_to_yaml(root, &out, &err), err);
        terracl_value *back = NULL;
        terracl_status st = tc_yaml_parse(out, strlen(out), "long.yaml", &back, &err);
        if (st != TERRACL_OK)
            fail_msg("key length %zu: written YAML does not read back: %s", n, err.message);
        if (!tc_value_equal(root, back))
            fail_msg("key length %zu: round trip changed the tree", n);
        free(out);
        terracl_value_free(back);
        terracl_value_free(root);
        free(plain);
        free(quoted);
    }
}

/* Aliases of one long anchored string: few values, but gigabytes once
 * expanded; the byte budget stops it before the memory is spent. */
static void test_alias_byte_budget(void **state)
{
    (void)state;
    size_t long_len = 600u << 10, aliases = 4000;
    size_t cap = long_len + aliases * 5 + 64, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    n += (size_t)sprintf(text + n, "a: &big \"");
    memset(text + n, 'x', long_len);
    n += long_len;
    n += (size_t)sprintf(text + n, "\"\nb: [");
    for (size_t i = 0; i < aliases; i++)
        n += (size_t)sprintf(text + n, "%s*big", i ? "," : "");
    n += (size_t)sprintf(text + n, "]\n");
    terracl_value *v = NULL;
    terracl_error err = {0};
    assert_int_equal(tc_yaml_parse(text, n, "bomb.yaml", &v, &err), TERRACL_ERR_CONFIG);
    assert_null(v);
    assert_non_null(strstr(err.message, "MiB"));
    free(text);
}

/* 200k keys, half of them anchored and the other half aliasing them: the
 * key and anchor lookups are hashed, so this takes well under a second
 * (with linear lookups it took minutes). The bound here is only generous
 * enough to tell linear from quadratic on a loaded machine. */
static void test_many_keys_and_anchors(void **state)
{
    (void)state;
    const size_t half = 100000;
    size_t cap = half * 2 * 40, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (size_t i = 0; i < half; i++)
        n += (size_t)sprintf(text + n, "key_%zu: &anchor_%zu %zu\n", i, i, i);
    for (size_t i = 0; i < half; i++)
        n += (size_t)sprintf(text + n, "alias_%zu: *anchor_%zu\n", i, half - 1 - i);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    terracl_value *v = NULL;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_yaml_parse(text, n, "keys.yaml", &v, &err), err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    assert_int_equal(terracl_value_map_size(v), 2 * half);
    assert_int_equal(terracl_value_int(terracl_value_map_peek(v, "key_99999")), 99999);
    assert_int_equal(terracl_value_int(terracl_value_map_peek(v, "alias_0")), 99999);
    assert_null(terracl_value_map_peek(v, "key_100000"));
    /* Removing keeps lookups right (the index is rebuilt). */
    assert_true(terracl_value_map_remove(v, "key_5"));
    assert_null(terracl_value_map_peek(v, "key_5"));
    assert_int_equal(terracl_value_int(terracl_value_map_peek(v, "key_6")), 6);
    print_message("200k keys and 100k anchors loaded in %.3f s\n", secs);
    if (secs > 10.0)
        fail_msg("200k keys took %.1f s to load", secs);
    terracl_value_free(v);
    free(text);
    /* Duplicate keys are still found among many. */
    const char *dup = "{a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10, k: 11, "
                      "l: 12, m: 13, n: 14, o: 15, p: 16, q: 17, r: 18, s: 19, t: 20, u: 21, "
                      "v: 22, w: 23, x: 24, y: 25, z: 26, aa: 27, bb: 28, cc: 29, dd: 30, "
                      "ee: 31, ff: 32, gg: 33, hh: 34, b: 35}";
    assert_int_equal(tc_yaml_parse(dup, strlen(dup), "dup.yaml", &v, &err), TERRACL_ERR_CONFIG);
    assert_non_null(strstr(err.message, "duplicate key 'b'"));
}

static void test_config_lightning(void **state)
{
    (void)state;
    terracl_value *v = parse_ok("seed_everything: 0\n"
                                "trainer: {max_epochs: 1}\n"
                                "model:\n"
                                "  class_path: terratorch.tasks.PixelwiseRegressionTask\n"
                                "  init_args:\n"
                                "    model_factory: EncoderDecoderFactory\n"
                                "    model_args:\n"
                                "      backbone: prithvi_eo_v2_300\n"
                                "    tiled_inference_parameters: {h_crop: 224, w_crop: 224}\n"
                                "    loss: rmse\n");
    struct tc_model_config cfg;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_config_model(v, "c.yaml", &cfg, &err), err);
    assert_int_equal(cfg.lightning, 1);
    assert_string_equal(cfg.factory, "EncoderDecoderFactory");
    assert_int_equal(cfg.task, TC_TASK_REGRESSION);
    assert_string_equal(cfg.task_class, "terratorch.tasks.PixelwiseRegressionTask");
    assert_string_equal(terracl_value_string(terracl_value_map_peek(cfg.model_args, "backbone")),
                        "prithvi_eo_v2_300");
    assert_int_equal(terracl_value_int(terracl_value_map_peek(cfg.tiled_inference, "h_crop")), 224);
    assert_string_equal(tc_task_name(cfg.task), "regression");
    /* Extraction reads without marking: the factory sees every key unused. */
    assert_int_equal(terracl_value_unused_keys(cfg.model_args, NULL, 0), 1);
    terracl_value_free(v);

    const char *tasks[][2] = {{"SemanticSegmentationTask", "segmentation"},
                              {"terratorch.tasks.ClassificationTask", "classification"},
                              {"terratorch.tasks.MultiLabelClassificationTask", "classification"}};
    for (size_t i = 0; i < 3; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "model:\n  class_path: %s\n  init_args:\n    model_factory: F\n    model_args: "
                 "{}\n",
                 tasks[i][0]);
        v = parse_ok(text);
        TC_ASSERT_OK(tc_config_model(v, "c.yaml", &cfg, &err), err);
        assert_string_equal(tc_task_name(cfg.task), tasks[i][1]);
        assert_null(cfg.tiled_inference);
        terracl_value_free(v);
    }
}

static void test_config_top_level(void **state)
{
    (void)state;
    terracl_value *v = parse_ok("model_factory: EncoderDecoderFactory\n"
                                "task: segmentation\n"
                                "model_args: {backbone: prithvi_eo_v1_100, num_classes: 2}\n");
    struct tc_model_config cfg;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_config_model(v, "c.yaml", &cfg, &err), err);
    assert_int_equal(cfg.lightning, 0);
    assert_int_equal(cfg.task, TC_TASK_SEGMENTATION);
    assert_null(cfg.task_class);
    assert_int_equal(terracl_value_map_size(cfg.model_args), 2);
    terracl_value_free(v);
    v = parse_ok("model_factory: EncoderDecoderFactory\nmodel_args: {}\n");
    TC_ASSERT_OK(tc_config_model(v, "c.yaml", &cfg, &err), err);
    assert_int_equal(cfg.task, TC_TASK_NONE);
    terracl_value_free(v);
}

static void config_fails(const char *text, terracl_status code, const char *message)
{
    terracl_value *v = parse_ok(text);
    struct tc_model_config cfg;
    terracl_error err = {0};
    terracl_status st = tc_config_model(v, "c.yaml", &cfg, &err);
    terracl_value_free(v);
    if (st != code || strcmp(err.message, message) != 0)
        fail_msg("for:\n%s\nexpected %s: %s\n     got %s: %s", text, terracl_status_name(code),
                 message, terracl_status_name(st), err.message);
}

static void test_config_errors(void **state)
{
    (void)state;
    config_fails("- 1\n", TERRACL_ERR_CONFIG, "c.yaml:1:1: the config must be a mapping, not a list");
    config_fails("trainer: {}\n", TERRACL_ERR_CONFIG,
                 "c.yaml:1:1: no model section: expected model.class_path and model.init_args (a "
                 "Lightning config) or model_factory and model_args at the top level");
    config_fails("model:\n  init_args: {}\n", TERRACL_ERR_CONFIG,
                 "c.yaml:2:3: model.class_path is missing");
    config_fails("model:\n  class_path: terratorch.tasks.ObjectDetectionTask\n  init_args: {}\n",
                 TERRACL_ERR_UNSUPPORTED,
                 "c.yaml:2:15: model.class_path 'terratorch.tasks.ObjectDetectionTask' is not a "
                 "task terracl runs (SemanticSegmentationTask, PixelwiseRegressionTask, "
                 "ClassificationTask, MultiLabelClassificationTask)");
    config_fails("model:\n  class_path: SemanticSegmentationTask\n  init_args:\n    model_args: {}\n",
                 TERRACL_ERR_CONFIG, "c.yaml:4:5: model.init_args.model_factory is missing");
    config_fails("model:\n  class_path: SemanticSegmentationTask\n  init_args:\n"
                 "    model_factory: F\n    model_args: [1]\n",
                 TERRACL_ERR_CONFIG, "c.yaml:5:17: model.init_args.model_args must be a map, not a list");
    config_fails("model_factory: 3\nmodel_args: {}\n", TERRACL_ERR_CONFIG,
                 "c.yaml:1:16: model_factory must be a string, not a int");
    config_fails("model_factory: F\nmodel_args: {}\ntask: detection\n", TERRACL_ERR_UNSUPPORTED,
                 "c.yaml:3:7: task 'detection' is not a task terracl runs (SemanticSegmentationTask, "
                 "PixelwiseRegressionTask, ClassificationTask, MultiLabelClassificationTask)");
    config_fails("model_factory: F\nmodel_args: {}\ntiled_inference_parameters: 5\n",
                 TERRACL_ERR_CONFIG, "c.yaml:3:29: tiled_inference_parameters must be a map, not a int");
}

static void test_config_bands(void **state)
{
    (void)state;
    terracl_value *v = parse_ok("good: [BLUE, GREEN, RED, NIR_NARROW, SWIR_1, SWIR_2, 13, VV]\n"
                                "typo: [BLUE, NIR_NAROW]\n"
                                "mixed: [BLUE, 1.5]\n"
                                "notlist: BLUE\n");
    struct tc_band bands[8];
    size_t n;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_config_bands(terracl_value_map_peek(v, "good"), "good", bands, 8, &n, &err),
                 err);
    assert_int_equal(n, 8);
    assert_true(bands[0].is_name);
    assert_string_equal(bands[3].name, "NIR_NARROW");
    assert_false(bands[6].is_name);
    assert_int_equal(bands[6].index, 13);
    assert_string_equal(bands[7].name, "VV");
    assert_int_equal(tc_config_bands(terracl_value_map_peek(v, "good"), "good", bands, 4, &n, &err),
                     TERRACL_ERR_CONFIG);
    assert_int_equal(tc_config_bands(terracl_value_map_peek(v, "typo"), "typo", bands, 8, &n, &err),
                     TERRACL_ERR_CONFIG);
    assert_string_equal(err.message, "'typo' entry 1: unknown band 'NIR_NAROW' (line 2, column 14) "
                                     "(nearest: NIR_NARROW, NIR_BROAD, CIRRUS)");
    assert_int_equal(tc_config_bands(terracl_value_map_peek(v, "mixed"), "mixed", bands, 8, &n,
                                     &err),
                     TERRACL_ERR_CONFIG);
    assert_non_null(strstr(err.message, "not a float (line 3, column 15)"));
    assert_int_equal(tc_config_bands(terracl_value_map_peek(v, "notlist"), "notlist", bands, 8, &n,
                                     &err),
                     TERRACL_ERR_CONFIG);
    assert_true(tc_band_name_known("THERMAL_INFRARED_2"));
    assert_true(tc_band_name_known("DSC_VH"));
    assert_false(tc_band_name_known("blue"));
    terracl_value_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_scalars_and_types),
        cmocka_unit_test(test_yaml_positions),
        cmocka_unit_test(test_yaml_anchors_aliases_and_merge_keys),
        cmocka_unit_test(test_yaml_errors_carry_line_and_column),
        cmocka_unit_test(test_yaml_nesting_limit),
        cmocka_unit_test(test_yaml_alias_bomb_is_refused),
        cmocka_unit_test(test_yaml_file),
        cmocka_unit_test(test_yaml_emit_roundtrip),
        cmocka_unit_test(test_config_lightning),
        cmocka_unit_test(test_round_trip_long_keys),
        cmocka_unit_test(test_alias_byte_budget),
        cmocka_unit_test(test_many_keys_and_anchors),
        cmocka_unit_test(test_config_top_level),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_config_bands),
    };
    return cmocka_run_group_tests_name("yaml", tests, NULL, NULL);
}

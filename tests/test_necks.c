/*
 * Necks: parity with TerraTorch on the fixtures of
 * tools/gen_neck_head_fixtures.py (tests/fixtures/necks_heads/), plus the
 * cases TerraTorch itself cannot produce (token grids inferred from the
 * image size) and constructor errors.
 *
 * The fixture runner (tc_parity_fixture) is shared with test_heads.c, which
 * is built with TC_PARITY_NO_MAIN and this file.
 */
#include "test_common.h"

#include <string.h>

#include "graph/exec.h"
#include "graph/module.h"
#include "graph/weights.h"
#include "io/checkpoint.h"
#include "io/yaml_config.h"
#include "models/heads/heads.h"
#include "models/necks/necks.h"

#define PARITY_TOL 1e-4

void tc_parity_fixture(const char *name);

static const struct {
    const char *name;
    terracl_constructor ctor;
} k_necks[] = {
    {"SelectIndices", tc_neck_select_indices},
    {"AggregateTokens", tc_neck_aggregate_tokens},
    {"PermuteDims", tc_neck_permute_dims},
    {"ReshapeTokensToImage", tc_neck_reshape_tokens_to_image},
    {"InterpolateToPyramidal", tc_neck_interpolate_to_pyramidal},
    {"MaxpoolToPyramidal", tc_neck_maxpool_to_pyramidal},
    {"LearnedInterpolateToPyramidal", tc_neck_learned_interpolate_to_pyramidal},
    {"AddBottleneckLayer", tc_neck_add_bottleneck_layer},
};

static const struct {
    const char *name;
    terracl_status (*ctor)(int64_t, const terracl_value *, terracl_module **, terracl_error *);
} k_heads[] = {
    {"SegmentationHead", tc_segmentation_head},
    {"RegressionHead", tc_regression_head},
    {"ClassificationHead", tc_classification_head},
};

/* Builds the component the fixture's config describes. */
static terracl_module *build_component(const terracl_value *cfg, struct tc_exec *ex)
{
    terracl_error err = {0};
    const char *kind = terracl_value_string(terracl_value_map_get(cfg, "kind"));
    const char *name = terracl_value_string(terracl_value_map_get(cfg, "name"));
    const terracl_value *args = terracl_value_map_get(cfg, "args");
    const terracl_value *image = terracl_value_map_get(cfg, "image_size");
    assert_non_null(kind);
    assert_non_null(name);
    if (image != NULL) {
        ex->image_h = terracl_value_int(terracl_value_list_get(image, 0));
        ex->image_w = terracl_value_int(terracl_value_list_get(image, 1));
    }
    terracl_module *m = NULL;
    if (strcmp(kind, "neck") == 0) {
        for (size_t i = 0; i < sizeof k_necks / sizeof k_necks[0]; i++)
            if (strcmp(k_necks[i].name, name) == 0)
                TC_ASSERT_OK(k_necks[i].ctor(terracl_value_map_get(cfg, "channel_list"), args,
                                             NULL, &m, &err),
                             err);
    } else {
        int64_t in = terracl_value_int(terracl_value_map_get(cfg, "in_channels"));
        for (size_t i = 0; i < sizeof k_heads / sizeof k_heads[0]; i++)
            if (strcmp(k_heads[i].name, name) == 0)
                TC_ASSERT_OK(k_heads[i].ctor(in, args, &m, &err), err);
    }
    if (m == NULL)
        fail_msg("no constructor for %s %s", kind, name);
    /* Every argument the fixture gives must have been read. */
    const char *unused[4];
    if (args != NULL && terracl_value_unused_keys(args, unused, 4) > 0)
        fail_msg("%s ignored argument '%s'", name, unused[0]);
    return m;
}

/* Uploads "<prefix>.0", "<prefix>.1", ... (all there are) into feats; with
 * host != NULL also keeps host copies. */
static void read_list(struct tc_checkpoint *ck, const char *prefix, struct tc_feats *feats,
                      float **host)
{
    terracl_error err = {0};
    feats->n = 0;
    for (size_t i = 0; i < TC_MAX_FEATS; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s.%zu", prefix, i);
        ptrdiff_t idx = tc_checkpoint_find(ck, key);
        if (idx < 0)
            break;
        const struct tc_checkpoint_entry *e = tc_checkpoint_entry(ck, (size_t)idx);
        float *data = malloc(e->numel * sizeof *data);
        assert_non_null(data);
        TC_ASSERT_OK(tc_checkpoint_read_f32(ck, (size_t)idx, data, e->numel, &err), err);
        struct tc_tensor *t = &feats->t[i];
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, e->ndim, e->dims, t, &err), err);
        TC_ASSERT_OK(tc_tensor_upload(tc_test_rt, t, data, &err), err);
        feats->n = i + 1;
        if (host)
            host[i] = data;
        else
            free(data);
    }
}

void tc_parity_fixture(const char *name)
{
    const char *dir = getenv("TERRACL_FIXTURES");
    char path[1024];
    snprintf(path, sizeof path, "%s/necks_heads/%s.h5", dir ? dir : "tests/fixtures", name);
    terracl_error err = {0};
    struct tc_checkpoint *ck = NULL;
    TC_ASSERT_OK(tc_checkpoint_open(path, &ck, &err), err);
    const char *text = tc_checkpoint_config(ck);
    assert_non_null(text);
    terracl_value *cfg = NULL;
    TC_ASSERT_OK(tc_yaml_parse(text, strlen(text), path, &cfg, &err), err);

    struct tc_exec ex = {0};
    ex.rt = tc_test_rt;
    terracl_module *m = build_component(cfg, &ex);
    struct tc_weight_source src = {ck, "", NULL, 0};
    struct tc_weights *w = NULL;
    TC_ASSERT_OK(tc_weights_bind(tc_test_rt, m, &src, 1, &w, &err), err);

    struct tc_feats in = {0}, want = {0}, got = {0};
    float *want_host[TC_MAX_FEATS] = {0};
    read_list(ck, "inputs", &in, NULL);
    read_list(ck, "outputs", &want, want_host);
    assert_true(in.n > 0 && want.n > 0);
    TC_ASSERT_OK(tc_module_forward(m, &ex, &in, &got, &err), err);
    if (got.n != want.n)
        fail_msg("%s: %zu outputs, TerraTorch gives %zu", name, got.n, want.n);
    /* The inputs may go away first: outputs own their buffers. */
    tc_feats_free(&in);
    for (size_t i = 0; i < got.n; i++) {
        char a[128], b[128];
        const struct tc_tensor *g = &got.t[i], *e = &want.t[i];
        int same = g->ndim == e->ndim;
        for (int d = 0; same && d < g->ndim; d++)
            same = g->dims[d] == e->dims[d];
        tc_shape_str(g->ndim, g->dims, a, sizeof a);
        if (!same)
            fail_msg("%s output %zu: shape %s, TerraTorch %s", name, i, a,
                     tc_shape_str(e->ndim, e->dims, b, sizeof b));
        assert_true(g->owns_buf);
        size_t n = tc_tensor_numel(g);
        float *h = malloc(n * sizeof *h);
        assert_non_null(h);
        TC_ASSERT_OK(tc_tensor_download(tc_test_rt, g, h, &err), err);
        double rel = tc_test_rel_l2(h, want_host[i], n);
        printf("  %-32s output %zu %-18s rel L2 %.3g\n", name, i, a, rel);
        if (!(rel <= PARITY_TOL))
            fail_msg("%s output %zu: relative L2 %.3g > %g", name, i, rel, PARITY_TOL);
        free(h);
        free(want_host[i]);
    }
    tc_feats_free(&got);
    tc_feats_free(&want);
    tc_weights_free(w);
    terracl_module_destroy(m);
    terracl_value_free(cfg);
    tc_checkpoint_close(ck);
}

#ifndef TC_PARITY_NO_MAIN

#define PARITY(fixture)                                                                            \
    static void test_parity_##fixture(void **state)                                                \
    {                                                                                              \
        (void)state;                                                                               \
        tc_parity_fixture(#fixture);                                                               \
    }
PARITY(neck_select_indices)
PARITY(neck_permute_dims)
PARITY(neck_reshape_tokens_t2)
PARITY(neck_reshape_tokens_h)
PARITY(neck_reshape_tokens_images)
PARITY(neck_aggregate_mean)
PARITY(neck_aggregate_cls_indices)
PARITY(neck_aggregate_max_drop_cls)
PARITY(neck_aggregate_min_image)
PARITY(neck_interpolate_nearest)
PARITY(neck_interpolate_bilinear)
PARITY(neck_maxpool)
PARITY(neck_learned_interpolate)
PARITY(neck_add_bottleneck)

static terracl_value *channels(const int64_t *c, size_t n)
{
    terracl_value *list = terracl_value_new_list();
    for (size_t i = 0; i < n; i++)
        assert_int_equal(terracl_value_list_append(list, terracl_value_new_int(c[i]), NULL),
                         TERRACL_OK);
    return list;
}

static terracl_value *yaml(const char *text)
{
    terracl_error err = {0};
    terracl_value *v = NULL;
    TC_ASSERT_OK(tc_yaml_parse(text, strlen(text), "<test>", &v, &err), err);
    return v;
}

/* [B, skip + T*h*w, E] -> [B, T*E, h, w], the einops rearrangement. */
static void ref_tokens(const float *x, int64_t B, int64_t skip, int64_t T, int64_t h, int64_t w,
                       int64_t E, float *y)
{
    int64_t N = T * h * w;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            for (int64_t e = 0; e < E; e++)
                for (int64_t i = 0; i < h; i++)
                    for (int64_t j = 0; j < w; j++)
                        y[(((b * T + t) * E + e) * h + i) * w + j] =
                            x[(b * (skip + N) + skip + (t * h + i) * w + j) * E + e];
}

/* Runs ReshapeTokensToImage on tokens [B, rows, E] with the image size and
 * compares with the reference for a grid of h rows. */
static void check_reshape(const char *args_yaml, int64_t B, int64_t rows, int64_t E,
                          int64_t img_h, int64_t img_w, int64_t skip, int64_t T, int64_t h)
{
    terracl_error err = {0};
    int64_t ch[1] = {E * T};
    terracl_value *first = channels(ch, 1), *args = yaml(args_yaml);
    terracl_module *m = NULL;
    TC_ASSERT_OK(tc_neck_reshape_tokens_to_image(first, args, NULL, &m, &err), err);
    size_t n = (size_t)(B * rows * E);
    float *x = malloc(n * sizeof *x);
    tc_test_fill(x, n, 7, -1, 1);
    int64_t d[3] = {B, rows, E};
    struct tc_feats in = {0}, out = {0};
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 3, d, &in.t[0], &err), err);
    TC_ASSERT_OK(tc_tensor_upload(tc_test_rt, &in.t[0], x, &err), err);
    in.n = 1;
    struct tc_exec ex = {0};
    ex.rt = tc_test_rt;
    ex.image_h = img_h;
    ex.image_w = img_w;
    TC_ASSERT_OK(tc_module_forward(m, &ex, &in, &out, &err), err);
    int64_t w = (rows - skip) / T / h;
    assert_int_equal(out.n, 1);
    assert_int_equal(out.t[0].dims[1], T * E);
    assert_int_equal(out.t[0].dims[2], h);
    assert_int_equal(out.t[0].dims[3], w);
    float *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
    ref_tokens(x, B, skip, T, h, w, E, want);
    TC_ASSERT_OK(tc_tensor_download(tc_test_rt, &out.t[0], got, &err), err);
    assert_true(tc_test_max_abs(got, want, (size_t)(B * T * E * h * w)) == 0);
    free(x);
    free(want);
    free(got);
    tc_feats_free(&in);
    tc_feats_free(&out);
    terracl_module_destroy(m);
    terracl_value_free(first);
    terracl_value_free(args);
}

static void test_reshape_tokens_non_square_from_image_size(void **state)
{
    (void)state;
    /* 3x5 grid of 16-pixel patches on a 48x80 image, CLS first, two frames. */
    check_reshape("{effective_time_dim: 2}", 2, 1 + 2 * 15, 4, 48, 80, 1, 2, 3);
    /* No CLS token although remove_cls_token: 14 tokens fit no grid, so the
     * neck retries keeping token 0, as TerraTorch does. */
    check_reshape("{}", 1, 15, 4, 48, 80, 0, 1, 3);
    /* An explicit h wins over everything. */
    check_reshape("{h: 5}", 1, 1 + 15, 4, 0, 0, 1, 1, 5);
}

static void test_reshape_tokens_non_square_needs_h_or_image(void **state)
{
    (void)state;
    terracl_error err = {0};
    int64_t ch[1] = {4};
    terracl_value *first = channels(ch, 1), *args = yaml("{remove_cls_token: false}");
    terracl_module *m = NULL;
    TC_ASSERT_OK(tc_neck_reshape_tokens_to_image(first, args, NULL, &m, &err), err);
    int64_t d[3] = {1, 15, 4};
    struct tc_feats in = {0}, out = {0};
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, 3, d, &in.t[0], &err), err);
    in.n = 1;
    struct tc_exec ex = {0};
    ex.rt = tc_test_rt;
    assert_int_equal(tc_module_forward(m, &ex, &in, &out, &err), TERRACL_ERR_SHAPE);
    assert_non_null(strstr(err.message, "set h"));
    assert_int_equal(out.n, 0);
    tc_feats_free(&in);
    terracl_module_destroy(m);
    terracl_value_free(first);
    terracl_value_free(args);
}

static void test_neck_constructor_errors(void **state)
{
    (void)state;
    terracl_error err = {0};
    terracl_module *m = NULL;
    int64_t three[3] = {8, 8, 8}, four[4] = {8, 8, 8, 8};
    terracl_value *c3 = channels(three, 3), *c4 = channels(four, 4);
    terracl_value *empty = yaml("{}"), *bad_idx = yaml("{indices: [0, 4]}");
    terracl_value *bad_order = yaml("{new_order: [0, 0, 1]}");
    terracl_value *bad_mode = yaml("{mode: bicubic}");

    assert_int_equal(tc_neck_learned_interpolate_to_pyramidal(c3, empty, NULL, &m, &err),
                     TERRACL_ERR_CONFIG);
    assert_non_null(strstr(err.message, "exactly 4"));
    assert_null(m);
    assert_int_equal(tc_neck_select_indices(c4, bad_idx, NULL, &m, &err), TERRACL_ERR_CONFIG);
    assert_int_equal(tc_neck_select_indices(c4, empty, NULL, &m, &err), TERRACL_ERR_CONFIG);
    assert_int_equal(tc_neck_permute_dims(c4, bad_order, NULL, &m, &err), TERRACL_ERR_CONFIG);
    assert_int_equal(tc_neck_interpolate_to_pyramidal(c4, bad_mode, NULL, &m, &err),
                     TERRACL_ERR_UNSUPPORTED);
    assert_int_equal(tc_neck_add_bottleneck_layer(empty, empty, NULL, &m, &err),
                     TERRACL_ERR_INVALID_ARG);
    assert_null(m);

    /* Channel lists as TerraTorch's process_channel_list gives them. */
    int64_t got[TC_MAX_FEATS];
    TC_ASSERT_OK(tc_neck_learned_interpolate_to_pyramidal(c4, empty, NULL, &m, &err), err);
    assert_int_equal(terracl_module_out_channels(m, got, TC_MAX_FEATS), 4);
    assert_true(got[0] == 2 && got[1] == 4 && got[2] == 8 && got[3] == 8);
    terracl_module_destroy(m);
    TC_ASSERT_OK(tc_neck_add_bottleneck_layer(c3, empty, NULL, &m, &err), err);
    assert_int_equal(terracl_module_out_channels(m, got, TC_MAX_FEATS), 4);
    assert_int_equal(got[3], 4);
    terracl_module_destroy(m);
    terracl_value *sel = yaml("{indices: [-1, 0]}");
    int64_t mixed[3] = {4, 5, 6};
    terracl_value *cm = channels(mixed, 3);
    TC_ASSERT_OK(tc_neck_select_indices(cm, sel, NULL, &m, &err), err);
    assert_int_equal(terracl_module_out_channels(m, got, TC_MAX_FEATS), 2);
    assert_true(got[0] == 6 && got[1] == 4);
    terracl_module_destroy(m);

    terracl_value *vals[] = {c3, c4, empty, bad_idx, bad_order, bad_mode, sel, cm};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        terracl_value_free(vals[i]);
}

int main(void)
{
    tc_test_runtime_or_skip();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parity_neck_select_indices),
        cmocka_unit_test(test_parity_neck_permute_dims),
        cmocka_unit_test(test_parity_neck_reshape_tokens_t2),
        cmocka_unit_test(test_parity_neck_reshape_tokens_h),
        cmocka_unit_test(test_parity_neck_reshape_tokens_images),
        cmocka_unit_test(test_parity_neck_aggregate_mean),
        cmocka_unit_test(test_parity_neck_aggregate_cls_indices),
        cmocka_unit_test(test_parity_neck_aggregate_max_drop_cls),
        cmocka_unit_test(test_parity_neck_aggregate_min_image),
        cmocka_unit_test(test_parity_neck_interpolate_nearest),
        cmocka_unit_test(test_parity_neck_interpolate_bilinear),
        cmocka_unit_test(test_parity_neck_maxpool),
        cmocka_unit_test(test_parity_neck_learned_interpolate),
        cmocka_unit_test(test_parity_neck_add_bottleneck),
        cmocka_unit_test(test_reshape_tokens_non_square_from_image_size),
        cmocka_unit_test(test_reshape_tokens_non_square_needs_h_or_image),
        cmocka_unit_test(test_neck_constructor_errors),
    };
    int rc = cmocka_run_group_tests_name("necks", tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

#endif /* TC_PARITY_NO_MAIN */

/*
 * Decoder parity against the real TerraTorch: each fixture in
 * tests/fixtures/decoders (made by tools/gen_decoder_fixtures.py) holds the
 * decoder's state_dict, its inputs and TerraTorch's output. The decoder is
 * built here with the same arguments as in the generator's table, bound to
 * the fixture's weights and run; relative L2 must be <= 1e-4.
 */
#include "test_common.h"

#include <string.h>

#include "graph/exec.h"
#include "graph/module.h"
#include "graph/weights.h"
#include "io/checkpoint.h"
#include "models/decoders/decoders.h"

typedef terracl_status (*ctor_fn)(const terracl_value *, const terracl_value *, void *,
                                  terracl_module **, terracl_error *);

/* ---- building argument values ------------------------------------------ */

static terracl_value *int_list(const int64_t *v, size_t n)
{
    terracl_value *l = terracl_value_new_list();
    assert_non_null(l);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(terracl_value_list_append(l, terracl_value_new_int(v[i]), NULL), TERRACL_OK);
    return l;
}

static void set(terracl_value *map, const char *key, terracl_value *v)
{
    assert_non_null(v);
    assert_int_equal(terracl_value_map_set(map, key, v, NULL), TERRACL_OK);
}

#define LIST(...) int_list((const int64_t[]){__VA_ARGS__}, sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))

/* Arguments of each fixture case, as in tools/gen_decoder_fixtures.py. */
static terracl_value *case_args(const char *name)
{
    terracl_value *a = terracl_value_new_map();
    assert_non_null(a);
    if (!strcmp(name, "fcn")) {
        set(a, "channels", terracl_value_new_int(16));
        set(a, "num_convs", terracl_value_new_int(2));
    } else if (!strcmp(name, "fcn_index0")) {
        set(a, "channels", terracl_value_new_int(8));
        set(a, "num_convs", terracl_value_new_int(1));
        set(a, "in_index", terracl_value_new_int(0));
    } else if (!strcmp(name, "upernet")) {
        set(a, "channels", terracl_value_new_int(12));
    } else if (!strcmp(name, "upernet_noalign")) {
        set(a, "channels", terracl_value_new_int(8));
        set(a, "pool_scales", LIST(1, 3));
        set(a, "align_corners", terracl_value_new_bool(0));
    } else if (!strcmp(name, "upernet_scale")) {
        set(a, "channels", terracl_value_new_int(8));
        set(a, "scale_modules", terracl_value_new_bool(1));
    } else if (!strcmp(name, "unet")) {
        set(a, "channels", LIST(16, 12, 8));
    } else if (!strcmp(name, "unet_nobn")) {
        set(a, "channels", LIST(12, 8, 4));
        set(a, "use_batchnorm", terracl_value_new_bool(0));
    } else if (!strcmp(name, "unet_scse")) {
        set(a, "channels", LIST(32, 16));
        set(a, "attention_type", terracl_value_new_string("scse"));
    } else if (!strcmp(name, "identity")) {
        set(a, "out_index", terracl_value_new_int(0));
    } else if (!strcmp(name, "linear")) {
        set(a, "num_classes", terracl_value_new_int(3));
        set(a, "upsampling_size", terracl_value_new_int(4));
    } else if (!strcmp(name, "aspp_head")) {
        set(a, "in_channels", terracl_value_new_int(12));
        set(a, "channels", terracl_value_new_int(8));
    } else if (!strcmp(name, "aspp_seg")) {
        set(a, "in_channels", terracl_value_new_int(16));
        set(a, "channels", terracl_value_new_int(8));
        set(a, "num_classes", terracl_value_new_int(3));
        set(a, "dilations", LIST(1, 2, 3));
    } else if (!strcmp(name, "aspp_reg_concat")) {
        set(a, "in_channels", terracl_value_new_int(20));
        set(a, "channels", terracl_value_new_int(8));
        set(a, "out_channels", terracl_value_new_int(2));
        set(a, "input_transform", terracl_value_new_string("resize_concat"));
        set(a, "in_index", LIST(0, 1));
        set(a, "align_corners", terracl_value_new_bool(1));
    } else if (!strcmp(name, "mlp_gelu")) {
        set(a, "activation", terracl_value_new_string("GELU"));
        set(a, "out_index", terracl_value_new_int(0));
    }
    return a;
}

struct parity_case {
    const char *name;
    ctor_fn ctor;
    int64_t channels[4];
    size_t n;
};

static const struct parity_case k_cases[] = {
    {"fcn", tc_fcn_decoder, {32, 24}, 2},
    {"fcn_index0", tc_fcn_decoder, {12, 20}, 2},
    {"upernet", tc_upernet_decoder, {8, 16, 24, 32}, 4},
    {"upernet_noalign", tc_upernet_decoder, {8, 12, 16}, 3},
    {"upernet_scale", tc_upernet_decoder, {16, 16, 16, 16}, 4},
    {"unet", tc_unet_decoder, {8, 16, 24}, 3},
    {"unet_nobn", tc_unet_decoder, {6, 10, 14}, 3},
    {"unet_scse", tc_unet_decoder, {16, 32}, 2},
    {"identity", tc_identity_decoder, {8, 12}, 2},
    {"linear", tc_linear_decoder, {8, 12}, 2},
    {"mlp", tc_mlp_decoder, {8, 8, 8}, 3},
    {"mlp_gelu", tc_mlp_decoder, {6, 6}, 2},
    {"aspp_head", tc_aspp_head, {3, 12}, 2},
    {"aspp_seg", tc_aspp_segmentation_head, {8, 12, 16}, 3},
    {"aspp_reg_concat", tc_aspp_regression_head, {8, 12}, 2},
};

/* ---- fixture access ---------------------------------------------------- */

static struct tc_checkpoint *open_fixture(const char *name)
{
    const char *dir = getenv("TERRACL_FIXTURES");
    char path[1024];
    snprintf(path, sizeof path, "%s/decoders/%s.h5", dir ? dir : "tests/fixtures", name);
    struct tc_checkpoint *ck = NULL;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_checkpoint_open(path, &ck, &err), err);
    return ck;
}

/* Reads tensor `name` of the fixture; dims/ndim receive its shape. */
static float *read_tensor(struct tc_checkpoint *ck, const char *name, int *ndim, int64_t *dims)
{
    ptrdiff_t idx = tc_checkpoint_find(ck, name);
    if (idx < 0)
        fail_msg("fixture has no tensor %s", name);
    const struct tc_checkpoint_entry *e = tc_checkpoint_entry(ck, (size_t)idx);
    *ndim = e->ndim;
    memcpy(dims, e->dims, sizeof(int64_t) * (size_t)e->ndim);
    float *h = malloc(e->numel * sizeof *h);
    assert_non_null(h);
    terracl_error err = {0};
    TC_ASSERT_OK(tc_checkpoint_read_f32(ck, (size_t)idx, h, e->numel, &err), err);
    return h;
}

static terracl_module *build(const struct parity_case *c, terracl_error *err, terracl_status *st)
{
    terracl_value *first = int_list(c->channels, c->n);
    terracl_value *args = case_args(c->name);
    terracl_module *m = NULL;
    *st = c->ctor(first, args, NULL, &m, err);
    const char *unused[4];
    if (*st == TERRACL_OK && terracl_value_unused_keys(args, unused, 4) > 0)
        fail_msg("%s: argument %s was not read", c->name, unused[0]);
    terracl_value_free(first);
    terracl_value_free(args);
    return m;
}

static void run_case(const struct parity_case *c)
{
    terracl_error err = {0};
    terracl_status st;
    terracl_module *m = build(c, &err, &st);
    TC_ASSERT_OK(st, err);
    assert_non_null(terracl_module_config(m));

    struct tc_checkpoint *ck = open_fixture(c->name);
    struct tc_weights *w = NULL;
    struct tc_weight_source src = {ck, "", NULL, 0};
    TC_ASSERT_OK(tc_weights_bind(tc_test_rt, m, &src, 1, &w, &err), err);

    struct tc_feats in = {0}, out = {0};
    for (size_t i = 0; i < c->n; i++) {
        char name[32];
        int ndim;
        int64_t dims[TC_MAX_DIMS];
        snprintf(name, sizeof name, "inputs.%zu", i);
        float *h = read_tensor(ck, name, &ndim, dims);
        TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, ndim, dims, &in.t[i], &err), err);
        TC_ASSERT_OK(tc_tensor_upload(tc_test_rt, &in.t[i], h, &err), err);
        in.n++;
        free(h);
    }
    struct tc_exec ex = {.rt = tc_test_rt};
    TC_ASSERT_OK(tc_module_forward(m, &ex, &in, &out, &err), err);
    assert_int_equal(out.n, 1);

    int ndim;
    int64_t dims[TC_MAX_DIMS];
    float *want = read_tensor(ck, "output", &ndim, dims);
    char s1[128], s2[128];
    if (ndim != out.t[0].ndim || memcmp(dims, out.t[0].dims, sizeof(int64_t) * (size_t)ndim))
        fail_msg("%s: output %s, TerraTorch %s", c->name,
                 tc_shape_str(out.t[0].ndim, out.t[0].dims, s1, sizeof s1),
                 tc_shape_str(ndim, dims, s2, sizeof s2));
    /* TerraTorch's ASPPHead and ASPPSegmentationHead have no out_channels. */
    int64_t oc;
    size_t noc = terracl_module_out_channels(m, &oc, 1);
    if (strcmp(c->name, "aspp_head") == 0 || strcmp(c->name, "aspp_seg") == 0) {
        assert_int_equal(noc, 0);
    } else {
        assert_int_equal(noc, 1);
        assert_int_equal(oc, dims[1]);
    }
    size_t n = tc_tensor_numel(&out.t[0]);
    float *got = malloc(n * sizeof *got);
    assert_non_null(got);
    TC_ASSERT_OK(tc_tensor_download(tc_test_rt, &out.t[0], got, &err), err);
    double rel = tc_test_rel_l2(got, want, n);
    printf("  %-16s %-16s output %s  rel L2 %.2e\n", c->name, terracl_module_type(m),
           tc_shape_str(ndim, dims, s1, sizeof s1), rel);
    if (!(rel <= 1e-4))
        fail_msg("%s: relative L2 %.3g > 1e-4 (max abs %.3g)", c->name, rel,
                 tc_test_max_abs(got, want, n));

    /* One input too few is refused with a message (IdentityDecoder excepted:
     * like TerraTorch's, it takes x[out_index] of whatever list arrives). */
    struct tc_feats fewer = in;
    fewer.n--;
    for (size_t i = 0; i < fewer.n; i++)
        fewer.t[i].owns_buf = 0;
    struct tc_feats out2 = {0};
    st = tc_module_forward(m, &ex, &fewer, &out2, &err);
    if (c->n > 1 && strcmp(terracl_module_type(m), "IdentityDecoder") != 0) {
        assert_int_equal(st, TERRACL_ERR_SHAPE);
        assert_non_null(strstr(err.message, "feature maps"));
    }
    tc_feats_free(&out2);

    free(got);
    free(want);
    tc_feats_free(&out);
    tc_feats_free(&in);
    tc_weights_free(w);
    tc_checkpoint_close(ck);
    terracl_module_destroy(m);
}

static void test_parity(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++)
        run_case(&k_cases[i]);
}

/* ---- construction errors ------------------------------------------------ */

static void expect_build_error(ctor_fn ctor, terracl_value *first, terracl_value *args,
                               terracl_status want, const char *fragment)
{
    terracl_error err = {0};
    terracl_module *m = NULL;
    terracl_status st = ctor(first, args, NULL, &m, &err);
    if (st != want || strstr(err.message, fragment) == NULL)
        fail_msg("expected %s with '%s', got %s: %s", terracl_status_name(want), fragment,
                 terracl_status_name(st), err.message);
    assert_null(m);
    terracl_value_free(first);
    terracl_value_free(args);
}

static void test_construction_errors(void **state)
{
    (void)state;
    terracl_value *a = terracl_value_new_map();
    set(a, "num_convs", terracl_value_new_int(0));
    expect_build_error(tc_fcn_decoder, LIST(8), a, TERRACL_ERR_CONFIG, "num_convs must be >= 1");

    a = terracl_value_new_map();
    set(a, "channels", LIST(8, 4));
    expect_build_error(tc_unet_decoder, LIST(8, 16, 32), a, TERRACL_ERR_CONFIG,
                       "same length as embed_dim");

    a = terracl_value_new_map();
    set(a, "channels", LIST(8));
    set(a, "attention_type", terracl_value_new_string("scse"));
    expect_build_error(tc_unet_decoder, LIST(8), a, TERRACL_ERR_UNSUPPORTED, "16 channels");

    a = terracl_value_new_map();
    set(a, "channels", LIST(8));
    set(a, "attention_type", terracl_value_new_string("cbam"));
    expect_build_error(tc_unet_decoder, LIST(8), a, TERRACL_ERR_CONFIG, "cbam");

    a = terracl_value_new_map();
    set(a, "upsampling_size", terracl_value_new_int(4));
    expect_build_error(tc_linear_decoder, LIST(8), a, TERRACL_ERR_CONFIG, "num_classes");

    a = terracl_value_new_map();
    set(a, "in_index", terracl_value_new_int(3));
    expect_build_error(tc_fcn_decoder, LIST(8, 16), a, TERRACL_ERR_CONFIG, "in_index=3");

    a = terracl_value_new_map();
    set(a, "scale_modules", terracl_value_new_bool(1));
    expect_build_error(tc_upernet_decoder, LIST(8, 16), a, TERRACL_ERR_CONFIG, "4 inputs");

    a = terracl_value_new_map();
    set(a, "activation", terracl_value_new_string("Softmax"));
    expect_build_error(tc_mlp_decoder, LIST(8), a, TERRACL_ERR_UNSUPPORTED, "Softmax");

    expect_build_error(tc_identity_decoder, terracl_value_new_int(8), NULL, TERRACL_ERR_TYPE,
                       "list of input channels");
}

/* Defaults as TerraTorch's, parameter names as its state_dict. */
static void test_defaults_and_names(void **state)
{
    (void)state;
    terracl_error err = {0};
    terracl_module *m = NULL;
    terracl_value *first = LIST(32, 64, 128);
    TC_ASSERT_OK(tc_fcn_decoder(first, NULL, NULL, &m, &err), err);
    int64_t oc = 0;
    assert_int_equal(terracl_module_out_channels(m, &oc, 1), 1);
    assert_int_equal(oc, 256);
    assert_string_equal(m->params[0].name, "convs.0.0.weight");
    assert_int_equal(m->params[0].dims[0], 128);
    assert_string_equal(m->params[m->nparams - 1].name, "convs.3.2.ln.bias");
    assert_false(tc_decoder_includes_head(m));
    terracl_module_destroy(m);

    terracl_value *args = terracl_value_new_map();
    set(args, "channels", LIST(16, 8, 4));
    TC_ASSERT_OK(tc_unet_decoder(first, args, NULL, &m, &err), err);
    assert_string_equal(m->params[0].name, "decoder.blocks.0.conv1.0.weight");
    assert_int_equal(m->params[0].dims[1], 128 + 64);
    assert_string_equal(m->params[1].name, "decoder.blocks.0.conv1.1.weight");
    terracl_module_destroy(m);
    terracl_value_free(args);

    TC_ASSERT_OK(tc_upernet_decoder(first, NULL, NULL, &m, &err), err);
    assert_int_equal(terracl_module_out_channels(m, &oc, 1), 1);
    assert_int_equal(oc, 256);
    assert_string_equal(m->params[0].name, "psp_modules.0.1.conv.weight");
    terracl_module_destroy(m);

    args = terracl_value_new_map();
    set(args, "num_classes", terracl_value_new_int(5));
    set(args, "upsampling_size", terracl_value_new_int(16));
    TC_ASSERT_OK(tc_linear_decoder(first, args, NULL, &m, &err), err);
    assert_true(tc_decoder_includes_head(m));
    assert_true(tc_decoder_name_includes_head("LinearDecoder"));
    assert_false(tc_decoder_name_includes_head("FCNDecoder"));
    terracl_module_destroy(m);
    terracl_value_free(args);
    terracl_value_free(first);
}

int main(void)
{
    tc_test_runtime_or_skip();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_names),
        cmocka_unit_test(test_construction_errors),
        cmocka_unit_test(test_parity),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

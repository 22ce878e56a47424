/*
 * The multimodal side of the model API on TerraMind fixtures: modality
 * names, named inputs and their refusals (unknown, twice, together with a
 * plain image), a plain image as the first modality, and the outputs of
 * merge_method dict through terracl_model_run_named only.
 */
#include "test_common.h"

#include <string.h>

#include "io/tensor_file.h"

struct fixture {
    terracl_model *model;
    struct tc_host_tensor a, b; /* the first two modalities' inputs */
};

static void load(const char *name, const char *first, const char *second, struct fixture *f)
{
    char dir[4096], config[4200], weights[4200], input[4200];
    snprintf(dir, sizeof dir, "%s/%s", getenv("TERRACL_FIXTURES"), name);
    snprintf(config, sizeof config, "%s/config.yaml", dir);
    snprintf(weights, sizeof weights, "%s/weights.h5", dir);
    snprintf(input, sizeof input, "%s/input.h5", dir);
    terracl_error err = {0};
    memset(f, 0, sizeof *f);
    TC_ASSERT_OK(terracl_model_load(tc_test_rt, config, weights, &f->model, &err), err);
    TC_ASSERT_OK(tc_tensor_file_read(input, first, &f->a, &err), err);
    TC_ASSERT_OK(tc_tensor_file_read(input, second, &f->b, &err), err);
}

static void unload(struct fixture *f)
{
    tc_host_tensor_free(&f->a);
    tc_host_tensor_free(&f->b);
    terracl_model_destroy(f->model);
}

static struct terracl_tensor view(const struct tc_host_tensor *t)
{
    struct terracl_tensor v = {t->data, t->ndim, {0}};
    memcpy(v.dims, t->dims, sizeof v.dims);
    return v;
}

static void test_named_inputs(void **state)
{
    (void)state;
    struct fixture f;
    load("tm_mm_upernet_mean_odd_b2", "S2L2A", "S1GRD", &f);
    assert_int_equal(terracl_model_modality_count(f.model), 2);
    assert_string_equal(terracl_model_modality_name(f.model, 0), "S2L2A");
    assert_string_equal(terracl_model_modality_name(f.model, 1), "S1GRD");
    assert_null(terracl_model_modality_name(f.model, 2));

    terracl_error err = {0};
    struct terracl_tensor out = {0}, alone = {0};
    struct terracl_named_tensor named[2] = {{"S2L2A", view(&f.a)}, {"S1GRD", view(&f.b)}};
    struct terracl_inputs in = {0};

    /* A plain image is the first modality, as TerraTorch takes a tensor. */
    in.image = view(&f.a);
    TC_ASSERT_OK(terracl_model_run(f.model, &in, &out, &err), err);
    memset(&in, 0, sizeof in);
    in.modalities = named;
    in.n_modalities = 1;
    TC_ASSERT_OK(terracl_model_run(f.model, &in, &alone, &err), err);
    assert_int_equal(out.ndim, 4);
    assert_memory_equal(out.dims, alone.dims, sizeof out.dims);
    size_t count = (size_t)(out.dims[0] * out.dims[1] * out.dims[2] * out.dims[3]);
    assert_memory_equal(out.data, alone.data, count * sizeof(float));
    free(out.data);
    free(alone.data);

    /* Refusals that name what is wrong. */
    struct terracl_named_tensor bad[2] = {{"S1RTC", view(&f.b)}, {"S2L2A", view(&f.a)}};
    in.modalities = bad;
    in.n_modalities = 2;
    assert_int_equal(terracl_model_run(f.model, &in, &out, &err), TERRACL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "'S1RTC' is not one of the model's modalities (S2L2A, S1GRD)"));
    struct terracl_named_tensor twice[2] = {{"S2L2A", view(&f.a)}, {"S2L2A", view(&f.a)}};
    in.modalities = twice;
    assert_int_equal(terracl_model_run(f.model, &in, &out, &err), TERRACL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "given twice"));
    in.modalities = named;
    in.image = view(&f.a);
    assert_int_equal(terracl_model_run(f.model, &in, &out, &err), TERRACL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "not both"));
    assert_null(out.data);

    /* Every model runs through run_named: one output named "output". */
    memset(&in.image, 0, sizeof in.image);
    struct terracl_named_tensor outs[2];
    size_t n = 9;
    TC_ASSERT_OK(terracl_model_run_named(f.model, &in, outs, 2, &n, &err), err);
    assert_int_equal(n, 1);
    assert_string_equal(outs[0].name, "output");
    free(outs[0].tensor.data);
    unload(&f);
}

static void test_dict_outputs(void **state)
{
    (void)state;
    struct fixture f;
    load("tm_mm_bb_dict", "S2L2A", "S1GRD", &f);
    terracl_error err = {0};
    struct terracl_named_tensor named[2] = {{"S1GRD", view(&f.b)}, {"S2L2A", view(&f.a)}};
    struct terracl_inputs in = {0};
    in.modalities = named;
    in.n_modalities = 2;
    struct terracl_tensor out = {0};
    assert_int_equal(terracl_model_run(f.model, &in, &out, &err), TERRACL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "terracl_model_run_named"));

    /* Outputs come in the model's modality order whatever the input order. */
    struct terracl_named_tensor outs[2];
    size_t n = 0;
    assert_int_equal(terracl_model_run_named(f.model, &in, outs, 1, &n, &err), TERRACL_ERR_INVALID_ARG);
    assert_int_equal(n, 0);
    assert_null(outs[0].tensor.data);
    TC_ASSERT_OK(terracl_model_run_named(f.model, &in, outs, 2, &n, &err), err);
    assert_int_equal(n, 2);
    assert_string_equal(outs[0].name, "S2L2A");
    assert_string_equal(outs[1].name, "S1GRD");
    assert_int_equal(outs[0].tensor.ndim, 3);
    assert_int_equal(outs[0].tensor.dims[0], 2);

    /* One modality given: one output, named by it. */
    struct terracl_named_tensor only[1];
    in.modalities = named;
    in.n_modalities = 1;
    TC_ASSERT_OK(terracl_model_run_named(f.model, &in, only, 1, &n, &err), err);
    assert_int_equal(n, 1);
    assert_string_equal(only[0].name, "S1GRD");
    free(only[0].tensor.data);
    free(outs[0].tensor.data);
    free(outs[1].tensor.data);
    unload(&f);
}

int main(void)
{
    tc_test_runtime_or_skip();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_inputs),
        cmocka_unit_test(test_dict_outputs),
    };
    int rc = cmocka_run_group_tests_name("terramind_inputs", tests, NULL, NULL);
    tc_test_runtime_release();
    return rc;
}

/*
 * Two models in two threads, each on its own runtime (the design rule: no
 * global mutable state but the registries). Both threads load the same
 * TerraTorch fixture and must reproduce its output.
 */
#include "test_common.h"

#include <pthread.h>
#include <string.h>

#include "io/tensor_file.h"

struct job {
    const char *dir;
    double error;
    terracl_status status;
    char message[TERRACL_ERROR_MESSAGE_SIZE];
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    char config[1024], weights[1024], input[1024], expected[1024];
    snprintf(config, sizeof config, "%s/config.yaml", j->dir);
    snprintf(weights, sizeof weights, "%s/weights.h5", j->dir);
    snprintf(input, sizeof input, "%s/input.h5", j->dir);
    snprintf(expected, sizeof expected, "%s/expected.h5", j->dir);
    terracl_error err = {0};
    terracl_runtime *rt = NULL;
    terracl_model *model = NULL;
    struct tc_host_tensor x = {0}, want = {0};
    struct terracl_tensor out = {0};
    j->error = -1;
    terracl_status st = terracl_runtime_create(NULL, &rt, &err);
    if (st == TERRACL_OK)
        st = terracl_model_load(rt, config, weights, &model, &err);
    if (st == TERRACL_OK)
        st = tc_tensor_file_read(input, "input", &x, &err);
    if (st == TERRACL_OK)
        st = tc_tensor_file_read(expected, "output", &want, &err);
    for (int rep = 0; st == TERRACL_OK && rep < 3; rep++) {
        struct terracl_inputs in = {0};
        in.image.data = x.data;
        in.image.ndim = x.ndim;
        memcpy(in.image.dims, x.dims, sizeof x.dims);
        free(out.data);
        st = terracl_model_run(model, &in, &out, &err);
    }
    if (st == TERRACL_OK)
        j->error = tc_test_rel_l2(out.data, want.data, want.count);
    j->status = st;
    snprintf(j->message, sizeof j->message, "%s", err.message);
    free(out.data);
    tc_host_tensor_free(&x);
    tc_host_tensor_free(&want);
    terracl_model_destroy(model);
    terracl_runtime_destroy(rt);
    return NULL;
}

static void test_two_models_two_threads(void **state)
{
    (void)state;
    char a[1024], b[1024];
    const char *root = getenv("TERRACL_FIXTURES");
    snprintf(a, sizeof a, "%s/bb_tiny", root);
    snprintf(b, sizeof b, "%s/fm_seg_fcn", root);
    static struct job jobs[2];
    jobs[0].dir = a;
    jobs[1].dir = b;
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, run_job, &jobs[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        if (jobs[i].status != TERRACL_OK)
            fail_msg("%s: %s", jobs[i].dir, jobs[i].message);
        if (!(jobs[i].error >= 0 && jobs[i].error <= 1e-4))
            fail_msg("%s: relative L2 %.3g", jobs[i].dir, jobs[i].error);
    }
}

int main(void)
{
    tc_test_runtime_or_skip(); /* only to skip when there is no device */
    tc_test_runtime_release();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_models_two_threads),
    };
    return cmocka_run_group_tests_name("threads", tests, NULL, NULL);
}

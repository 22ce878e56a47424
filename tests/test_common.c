/* Shared test helpers. */
#include "test_common.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graph/module.h"
#include "io/yaml_config.h"

terracl_runtime *tc_test_rt;

void tc_test_runtime_or_skip(void)
{
    /* A subset of the cases (cmocka's pattern: '*' and '?'), for the runs
     * on slow second drivers. */
    const char *filter = getenv("TERRACL_TEST_FILTER");
    if (filter != NULL && *filter != '\0')
        cmocka_set_test_filter(filter);
    terracl_error err = {0};
    struct terracl_runtime_params p = {0};
    terracl_status st = terracl_runtime_create(&p, &tc_test_rt, &err);
    if (st == TERRACL_ERR_NO_DEVICE) {
        printf("skipped: no OpenCL device (%s)\n", err.message);
        exit(77);
    }
    if (st != TERRACL_OK) {
        fprintf(stderr, "cannot create runtime: %s\n", err.message);
        exit(1);
    }
}

void tc_test_runtime_release(void)
{
    terracl_runtime_destroy(tc_test_rt);
    tc_test_rt = NULL;
}

void tc_test_fill(float *x, size_t n, uint32_t seed, float lo, float hi)
{
    uint32_t s = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        x[i] = lo + (hi - lo) * (float)(s >> 8) / (float)(1u << 24);
    }
}

double tc_test_rel_l2(const float *got, const float *want, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - (double)want[i];
        num += d * d;
        den += (double)want[i] * (double)want[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

double tc_test_max_abs(const float *got, const float *want, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (d > m || isnan(d))
            m = isnan(d) ? INFINITY : d;
    }
    return m;
}

struct tc_tensor tc_test_upload(const float *host, int ndim, const int64_t *dims)
{
    terracl_error err = {0};
    struct tc_tensor t;
    TC_ASSERT_OK(tc_tensor_alloc(tc_test_rt, ndim, dims, &t, &err), err);
    TC_ASSERT_OK(tc_tensor_upload(tc_test_rt, &t, host, &err), err);
    return t;
}

float *tc_test_download(const struct tc_tensor *t)
{
    terracl_error err = {0};
    float *h = malloc(tc_tensor_numel(t) * sizeof *h);
    assert_non_null(h);
    TC_ASSERT_OK(tc_tensor_download(tc_test_rt, t, h, &err), err);
    return h;
}

struct tc_test_tmpdir {
    char dir[256];
};

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d != NULL) {
        chmod(path, 0700);
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

int tc_test_tmpdir_setup(void **state)
{
    struct tc_test_tmpdir *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/terracl-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

int tc_test_tmpdir_teardown(void **state)
{
    struct tc_test_tmpdir *f = *state;
    remove_tree(f->dir);
    free(f);
    return 0;
}

const char *tc_test_in_tmpdir(void **state, const char *name, char *buf, size_t cap)
{
    const struct tc_test_tmpdir *f = *state;
    snprintf(buf, cap, "%s/%s", f->dir, name);
    return buf;
}

const char *tc_test_tmpdir(void **state) { return ((const struct tc_test_tmpdir *)*state)->dir; }

terracl_value *tc_test_yaml(const char *text)
{
    terracl_error err = {0};
    terracl_value *v = NULL;
    TC_ASSERT_OK(tc_yaml_parse(text, strlen(text), "<test>", &v, &err), err);
    return v;
}

terracl_status tc_test_build_backbone(const char *name, const char *args, terracl_module **m,
                                      terracl_error *err)
{
    terracl_value *a = args ? tc_test_yaml(args) : NULL;
    terracl_status st = terracl_registry_build(terracl_registry_get(TERRACL_REGISTRY_BACKBONE),
                                               name, NULL, a, m, err);
    terracl_value_free(a);
    return st;
}

void tc_test_expect_channels(const char *name, const char *args, const int64_t *want, size_t n)
{
    terracl_error err = {0};
    terracl_module *m = NULL;
    TC_ASSERT_OK(tc_test_build_backbone(name, args, &m, &err), err);
    int64_t got[TC_MAX_FEATS];
    assert_int_equal(terracl_module_out_channels(m, got, TC_MAX_FEATS), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(got[i], want[i]);
    terracl_module_destroy(m);
}

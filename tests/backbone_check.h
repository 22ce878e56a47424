/*
 * Test helpers shared by the backbone tests: building a backbone from the
 * registry, checking the channel list it reports, and running a
 * backbone-only fixture with every feature TerraTorch recorded compared
 * (features/0..n of expected.h5, not only the last one that test_parity
 * compares). All of them fail the running test on error.
 */
#ifndef TC_TEST_BACKBONE_CHECK_H
#define TC_TEST_BACKBONE_CHECK_H

#include "test_common.h"

#include "graph/exec.h"
#include "graph/module.h"
#include "io/tensor_file.h"

/* A parsed YAML snippet (the caller frees it with terracl_value_free). */
terracl_value *tc_test_yaml(const char *text);

/* BACKBONE registry build of `name` with YAML arguments `args` (NULL: none). */
terracl_status tc_test_build_backbone(const char *name, const char *args, terracl_module **m,
                                      terracl_error *err);

/* Builds `name` and checks that it reports exactly the channels want[0..n). */
void tc_test_expect_channels(const char *name, const char *args, const int64_t *want, size_t n);

/* A backbone-only fixture after its run; everything in it is owned by the
 * struct and released by tc_test_backbone_run_free. */
struct tc_backbone_run {
    terracl_model *model;
    terracl_module *backbone; /* the model's module (borrowed from model) */
    struct tc_host_tensor input;
    struct tc_feats in, out;
    struct tc_exec ex;
};

/* Loads fixture `name` (under $TERRACL_FIXTURES), checks that its module
 * has type `type`, runs it and compares each recorded feature: shape, the
 * reported channel (TerraTorch's feature_info.channels() in out_indices
 * order) and relative L2 <= 1e-4. The caller may go on using `run`. */
void tc_test_backbone_features(const char *name, const char *type, struct tc_backbone_run *run);
void tc_test_backbone_run_free(struct tc_backbone_run *run);

#endif /* TC_TEST_BACKBONE_CHECK_H */

/*
 * Test helper shared by the backbone tests: running a backbone-only
 * fixture with every feature TerraTorch recorded compared
 * (features/0..n of expected.h5, not only the last one that test_parity
 * compares). It fails the running test on error.
 */
#ifndef TC_TEST_BACKBONE_CHECK_H
#define TC_TEST_BACKBONE_CHECK_H

#include "test_common.h"

#include "graph/exec.h"
#include "graph/module.h"
#include "io/tensor_file.h"

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

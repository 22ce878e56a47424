/*
 * Test components for the registry tests: constructors that build small
 * modules with a config and parameters, as a user's own C code would.
 */
#ifndef TC_TEST_REGISTRY_COMMON_H
#define TC_TEST_REGISTRY_COMMON_H

#include "test_common.h"

#include <string.h>

#include "core/error.h"
#include "graph/module.h"

/* A user's BasicBackbone: a conv stem with `out_channels` (default 64)
 * outputs over `in_channels` (default 6) inputs. `user` may point to an
 * int that counts builds. */
static terracl_status test_basic_backbone(const terracl_value *first, const terracl_value *args,
                                          void *user, terracl_module **out, terracl_error *err)
{
    (void)first;
    if (user != NULL)
        (*(int *)user)++;
    int64_t oc, ic;
    terracl_status st = terracl_args_int(args, "out_channels", 64, &oc, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "in_channels", 6, &ic, err);
    if (st != TERRACL_OK)
        return st;
    if (oc <= 0 || ic <= 0)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "out_channels and in_channels must be > 0");
    const char *unused[4];
    size_t nu = terracl_value_unused_keys(args, unused, 4);
    if (nu > 0)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "unexpected argument '%s'", unused[0]);
    terracl_module *m = NULL;
    st = tc_module_create("BasicBackbone", NULL, NULL, &m, err);
    if (st != TERRACL_OK)
        return st;
    int64_t wdims[4] = {oc, ic, 3, 3}, bdims[1] = {oc};
    st = tc_module_add_param(m, "stem.weight", 4, wdims, NULL, err);
    if (st == TERRACL_OK)
        st = tc_module_add_param(m, "stem.bias", 1, bdims, NULL, err);
    if (st == TERRACL_OK)
        st = tc_module_set_out_channels(m, &oc, 1, err);
    terracl_value *cfg = terracl_value_new_map();
    if (st == TERRACL_OK && cfg == NULL)
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK)
        st = terracl_value_map_set(cfg, "in_channels", terracl_value_new_int(ic), err);
    if (st == TERRACL_OK)
        st = terracl_value_map_set(cfg, "out_channels", terracl_value_new_int(oc), err);
    if (st != TERRACL_OK) {
        terracl_value_free(cfg);
        terracl_module_destroy(m);
        return st;
    }
    tc_module_set_config(m, cfg);
    *out = m;
    return TERRACL_OK;
}

/* A decoder: takes the channel list as its first argument. */
static terracl_status test_decoder(const terracl_value *first, const terracl_value *args,
                                   void *user, terracl_module **out, terracl_error *err)
{
    (void)user;
    if (terracl_value_type_of(first) != TERRACL_VALUE_LIST || terracl_value_list_size(first) == 0)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "the channel list must be a non-empty list");
    int64_t channels;
    terracl_status st = terracl_args_int(args, "channels", 256, &channels, err);
    if (st != TERRACL_OK)
        return st;
    terracl_module *m = NULL;
    st = tc_module_create("TestDecoder", NULL, NULL, &m, err);
    if (st != TERRACL_OK)
        return st;
    terracl_value *cfg = terracl_value_new_map();
    st = terracl_value_map_set(cfg, "embed_dim", terracl_value_clone(first), err);
    if (st == TERRACL_OK)
        st = terracl_value_map_set(cfg, "channels", terracl_value_new_int(channels), err);
    if (st == TERRACL_OK)
        st = tc_module_set_out_channels(m, &channels, 1, err);
    if (st != TERRACL_OK) {
        terracl_value_free(cfg);
        terracl_module_destroy(m);
        return st;
    }
    tc_module_set_config(m, cfg);
    *out = m;
    return TERRACL_OK;
}

/* Always fails, as a constructor given a bad checkpoint would. */
static terracl_status test_failing(const terracl_value *first, const terracl_value *args,
                                   void *user, terracl_module **out, terracl_error *err)
{
    (void)first;
    (void)args;
    (void)user;
    (void)out;
    return tc_fail(err, TERRACL_ERR_IO, "cannot open checkpoint missing.h5");
}

#endif /* TC_TEST_REGISTRY_COMMON_H */

/* Helpers shared by the head files. */
#include "models/heads/head_util.h"

terracl_status tc_head_single_input(const struct tc_feats *in, terracl_error *err)
{
    if (in->n != 1)
        return tc_fail(err, TERRACL_ERR_SHAPE, "a head takes one input tensor, got %zu", in->n);
    return TERRACL_OK;
}

void tc_head_cfg_set(terracl_value *cfg, const char *key, terracl_value *val, terracl_status *st,
                     terracl_error *err)
{
    if (*st != TERRACL_OK || cfg == NULL) {
        terracl_value_free(val);
        return;
    }
    *st = terracl_value_map_set(cfg, key, val, err);
}

terracl_value *tc_head_int_list(const int64_t *v, size_t n)
{
    terracl_value *list = terracl_value_new_list();
    for (size_t i = 0; list != NULL && i < n; i++) {
        terracl_value *item = terracl_value_new_int(v[i]);
        if (item == NULL || terracl_value_list_append(list, item, NULL) != TERRACL_OK) {
            terracl_value_free(list);
            list = NULL;
        }
    }
    return list;
}

terracl_status tc_head_finish(terracl_module *m, terracl_value *cfg, int64_t out_channels,
                              terracl_error *err)
{
    if (cfg == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    tc_module_set_config(m, cfg);
    return tc_module_set_out_channels(m, &out_channels, 1, err);
}

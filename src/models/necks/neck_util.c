/* Helpers shared by the neck files. */
#include "models/necks/neck_util.h"

terracl_status tc_neck_channels(const terracl_value *first, const char *neck, int64_t *ch,
                                size_t *n, terracl_error *err)
{
    *n = 0;
    if (terracl_value_type_of(first) != TERRACL_VALUE_LIST)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "%s: expected the incoming channel list as the first argument", neck);
    size_t count = terracl_value_list_size(first);
    if (count == 0 || count > TC_MAX_FEATS)
        return tc_fail(err, TERRACL_ERR_CONFIG, "%s: channel list has %zu entries (1..%d allowed)",
                       neck, count, TC_MAX_FEATS);
    for (size_t i = 0; i < count; i++) {
        const terracl_value *v = terracl_value_list_get(first, i);
        if (terracl_value_type_of(v) != TERRACL_VALUE_INT || terracl_value_int(v) <= 0)
            return tc_fail(err, TERRACL_ERR_CONFIG,
                           "%s: channel list entry %zu must be a positive int", neck, i);
        ch[i] = terracl_value_int(v);
    }
    *n = count;
    return TERRACL_OK;
}



terracl_status tc_neck_finish(terracl_module *m, terracl_value *cfg, const int64_t *ch, size_t n,
                              terracl_error *err)
{
    if (cfg == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    tc_module_set_config(m, cfg);
    return tc_module_set_out_channels(m, ch, n, err);
}

terracl_status tc_neck_copy(terracl_runtime *rt, const struct tc_tensor *x, struct tc_tensor *y,
                            terracl_error *err)
{
    terracl_status st = tc_tensor_alloc(rt, x->ndim, x->dims, y, err);
    if (st != TERRACL_OK)
        return st;
    st = tc_buf_copy(rt, x->buf, x->offset * sizeof(float), y->buf, 0,
                     tc_tensor_numel(x) * sizeof(float), err);
    if (st != TERRACL_OK)
        tc_tensor_free(y);
    return st;
}

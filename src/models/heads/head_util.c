/* Helpers shared by the head files. */
#include "models/heads/head_util.h"

terracl_status tc_head_single_input(const struct tc_feats *in, terracl_error *err)
{
    if (in->n != 1)
        return tc_fail(err, TERRACL_ERR_SHAPE, "a head takes one input tensor, got %zu", in->n);
    return TERRACL_OK;
}



terracl_status tc_head_finish(terracl_module *m, terracl_value *cfg, int64_t out_channels,
                              terracl_error *err)
{
    if (cfg == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    tc_module_set_config(m, cfg);
    return tc_module_set_out_channels(m, &out_channels, 1, err);
}

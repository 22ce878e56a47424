/* Helpers shared by the head files. */
#include "models/heads/head_util.h"

terracl_status tc_head_single_input(const struct tc_feats *in, terracl_error *err)
{
    if (in->n != 1)
        return tc_fail(err, TERRACL_ERR_SHAPE, "a head takes one input tensor, got %zu", in->n);
    return TERRACL_OK;
}

terracl_status tc_head_check_widths(const char *head, int64_t in_channels, int64_t classes,
                                    const char *list_key, const int64_t *list, size_t n,
                                    terracl_error *err)
{
    if (in_channels < 1 || in_channels > TC_HEAD_MAX_WIDTH)
        return tc_fail(err, TERRACL_ERR_CONFIG, "%s: %lld input channels (1..%lld supported)", head,
                       (long long)in_channels, (long long)TC_HEAD_MAX_WIDTH);
    if (classes >= 0 && (classes < 1 || classes > TC_HEAD_MAX_WIDTH))
        return tc_fail(err, TERRACL_ERR_CONFIG, "%s: num_classes %lld outside 1..%lld", head,
                       (long long)classes, (long long)TC_HEAD_MAX_WIDTH);
    for (size_t i = 0; i < n; i++)
        if (list[i] < 1 || list[i] > TC_HEAD_MAX_WIDTH)
            return tc_fail(err, TERRACL_ERR_CONFIG, "%s: %s entry %zu is %lld (1..%lld supported)",
                           head, list_key, i, (long long)list[i], (long long)TC_HEAD_MAX_WIDTH);
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

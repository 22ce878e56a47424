/* Helpers shared by the decoders: channel lists, indices, input checks. */
#include "models/decoders/common.h"

#include <string.h>

terracl_status tc_dec_read_channels(const terracl_value *first, struct tc_dec_channels *out,
                                    terracl_error *err)
{
    out->n = 0;
    if (first == NULL || terracl_value_type_of(first) != TERRACL_VALUE_LIST)
        return tc_fail(err, TERRACL_ERR_TYPE,
                       "the first argument must be the list of input channels, got %s",
                       first ? terracl_value_type_name(terracl_value_type_of(first)) : "nothing");
    size_t n = terracl_value_list_size(first);
    if (n == 0 || n > TC_DEC_MAX_INPUTS)
        return tc_fail(err, TERRACL_ERR_CONFIG, "the channel list has %zu entries (1..%d supported)",
                       n, TC_DEC_MAX_INPUTS);
    for (size_t i = 0; i < n; i++) {
        const terracl_value *v = terracl_value_list_get(first, i);
        if (terracl_value_type_of(v) != TERRACL_VALUE_INT || terracl_value_int(v) < 1 ||
            terracl_value_int(v) > (1 << 20))
            return tc_fail(err, TERRACL_ERR_CONFIG,
                           "channel list entry %zu must be a positive int (a channel count)", i);
        out->c[i] = terracl_value_int(v);
    }
    out->n = n;
    return TERRACL_OK;
}

terracl_status tc_dec_index(const char *key, int64_t index, size_t n, size_t *out,
                            terracl_error *err)
{
    int64_t k = index < 0 ? index + (int64_t)n : index;
    if (k < 0 || k >= (int64_t)n)
        return tc_fail(err, TERRACL_ERR_CONFIG, "%s=%lld is out of range for %zu inputs", key,
                       (long long)index, n);
    *out = (size_t)k;
    return TERRACL_OK;
}

terracl_status tc_dec_check_inputs(const struct tc_dec_channels *ch, const struct tc_feats *in,
                                   terracl_error *err)
{
    char s[128];
    if (in->n != ch->n)
        return tc_fail(err, TERRACL_ERR_SHAPE, "got %zu feature maps, the decoder was built for %zu",
                       in->n, ch->n);
    for (size_t i = 0; i < in->n; i++) {
        const struct tc_tensor *t = &in->t[i];
        if (t->ndim != 4)
            return tc_fail(err, TERRACL_ERR_SHAPE, "input %zu %s is not [B, C, H, W]", i,
                           tc_shape_str(t->ndim, t->dims, s, sizeof s));
        if (t->dims[1] != ch->c[i])
            return tc_fail(err, TERRACL_ERR_SHAPE,
                           "input %zu %s has %lld channels; the decoder was built for %lld", i,
                           tc_shape_str(t->ndim, t->dims, s, sizeof s), (long long)t->dims[1],
                           (long long)ch->c[i]);
        if (t->dims[0] != in->t[0].dims[0])
            return tc_fail(err, TERRACL_ERR_SHAPE, "input %zu has batch %lld, input 0 has %lld", i,
                           (long long)t->dims[0], (long long)in->t[0].dims[0]);
    }
    return TERRACL_OK;
}



terracl_status tc_dec_finish(terracl_module *m, terracl_value *cfg, int64_t out_channels,
                             terracl_error *err)
{
    if (cfg == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory recording the config");
    tc_module_set_config(m, cfg);
    return tc_module_set_out_channels(m, &out_channels, 1, err);
}

terracl_status tc_dec_alloc(terracl_runtime *rt, int64_t b, int64_t c, int64_t h, int64_t w,
                            struct tc_tensor *y, terracl_error *err)
{
    int64_t dims[4] = {b, c, h, w};
    return tc_tensor_alloc(rt, 4, dims, y, err);
}

terracl_status tc_dec_clone(terracl_runtime *rt, const struct tc_tensor *x, struct tc_tensor *y,
                            terracl_error *err)
{
    terracl_status st = tc_tensor_alloc(rt, x->ndim, x->dims, y, err);
    if (st == TERRACL_OK)
        st = tc_dec_copy(rt, x, y, err);
    if (st != TERRACL_OK)
        tc_tensor_free(y);
    return st;
}

struct tc_tensor tc_dec_channel_slice(const struct tc_tensor *cat, int64_t c0, int64_t c)
{
    struct tc_tensor slice = *cat;
    slice.owns_buf = 0;
    slice.dims[1] = c;
    slice.offset += (size_t)(c0 * cat->dims[2] * cat->dims[3]);
    return slice;
}

terracl_status tc_dec_copy(terracl_runtime *rt, const struct tc_tensor *x, struct tc_tensor *y,
                           terracl_error *err)
{
    if (tc_tensor_numel(x) != tc_tensor_numel(y))
        return tc_fail(err, TERRACL_ERR_SHAPE, "copy: %zu elements into %zu",
                       tc_tensor_numel(x), tc_tensor_numel(y));
    return tc_buf_copy(rt, x->buf, x->offset * sizeof(float), y->buf, y->offset * sizeof(float),
                       tc_tensor_numel(x) * sizeof(float), err);
}

void tc_dec_output(struct tc_feats *out, struct tc_tensor *y)
{
    out->t[0] = *y;
    out->n = 1;
    memset(y, 0, sizeof *y);
}

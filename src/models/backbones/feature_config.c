/* out_indices and config recording shared by timm's feature extractors. */
#include "models/backbones/feature_config.h"

#define MAX_FEATURES 64

terracl_status tc_feature_out_indices(const terracl_value *args, int nfeats, const char *what,
                                      int64_t *out, size_t *n, terracl_error *err)
{
    int64_t idx[MAX_FEATURES + 1];
    unsigned char seen[MAX_FEATURES] = {0};
    size_t count = 0;
    int present = 0;
    if (nfeats < 1 || nfeats > MAX_FEATURES)
        return tc_fail(err, TERRACL_ERR_INTERNAL, "out_indices over %d features", nfeats);
    terracl_status st = terracl_args_int_list(args, "out_indices", idx, (size_t)nfeats + 1,
                                              &count, &present, err);
    if (st != TERRACL_OK)
        return st;
    if (!present) {
        for (int i = 0; i < nfeats; i++)
            out[i] = i;
        *n = (size_t)nfeats;
        return TERRACL_OK;
    }
    if (count == 0 || count > (size_t)nfeats)
        return tc_fail(err, TERRACL_ERR_CONFIG, "out_indices: expected 1 to %d entries", nfeats);
    for (size_t i = 0; i < count; i++) {
        int64_t k = idx[i] < 0 ? idx[i] + nfeats : idx[i];
        if (k < 0 || k >= nfeats)
            return tc_fail(err, TERRACL_ERR_CONFIG, "out_indices entry %lld outside 0..%d",
                           (long long)idx[i], nfeats - 1);
        if (seen[k]++)
            return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "out_indices lists %s %lld twice", what,
                           (long long)k);
        out[i] = k;
    }
    *n = count;
    return TERRACL_OK;
}

terracl_value *tc_feature_config_new(const char *name, int64_t in_chans)
{
    terracl_value *cfg = terracl_value_new_map();
    if (cfg == NULL ||
        terracl_value_map_set(cfg, "model_name", terracl_value_new_string(name), NULL) ||
        terracl_value_map_set(cfg, "in_chans", terracl_value_new_int(in_chans), NULL)) {
        terracl_value_free(cfg);
        return NULL;
    }
    return cfg;
}

terracl_status tc_feature_config_ints(terracl_value *cfg, const char *key, const int64_t *v,
                                      size_t n, terracl_error *err)
{
    terracl_value *list = terracl_value_new_list();
    terracl_status st = list ? TERRACL_OK : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; st == TERRACL_OK && i < n; i++)
        st = terracl_value_list_append(list, terracl_value_new_int(v[i]), err);
    if (st != TERRACL_OK) {
        terracl_value_free(list);
        return st;
    }
    return terracl_value_map_set(cfg, key, list, err); /* owns list, whatever it returns */
}

terracl_status tc_feature_config_stages(const char *name, int64_t in_chans,
                                        const int64_t *out_indices, size_t n_out,
                                        const char *depth_key, const int64_t *depths,
                                        const char *width_key, const int64_t *widths,
                                        size_t stages, terracl_value **out, terracl_error *err)
{
    terracl_value *cfg = tc_feature_config_new(name, in_chans);
    terracl_status st = cfg ? TERRACL_OK : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK)
        st = tc_feature_config_ints(cfg, "out_indices", out_indices, n_out, err);
    if (st == TERRACL_OK)
        st = tc_feature_config_ints(cfg, depth_key, depths, stages, err);
    if (st == TERRACL_OK)
        st = tc_feature_config_ints(cfg, width_key, widths, stages, err);
    if (st != TERRACL_OK) {
        terracl_value_free(cfg);
        return st;
    }
    *out = cfg;
    return TERRACL_OK;
}

/*
 * What timm's feature extractors (resnet.c, convnext.c, timm_vit.c) share:
 * reading features_only's out_indices, and recording the resolved
 * arguments (`terracl info` prints them) as a config map.
 */
#ifndef TC_MODELS_FEATURE_CONFIG_H
#define TC_MODELS_FEATURE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "terracl/value.h"

/* out_indices over `nfeats` features (at most 64): a list (or one int) of
 * feature ids, negative ones counted from the end, each at most once
 * (`what` names a feature in messages: "stage", "feature"); written to
 * out[0..*n) in the order given. Missing: every feature, in order. */
TC_NODISCARD terracl_status tc_feature_out_indices(const terracl_value *args, int nfeats,
                                                   const char *what, int64_t *out, size_t *n,
                                                   terracl_error *err);

/* A config map starting {model_name: name, in_chans: in_chans}; NULL when
 * out of memory. */
terracl_value *tc_feature_config_new(const char *name, int64_t in_chans);

/* cfg[key] = [v[0], ..., v[n-1]]. */
TC_NODISCARD terracl_status tc_feature_config_ints(terracl_value *cfg, const char *key,
                                                   const int64_t *v, size_t n,
                                                   terracl_error *err);

/* The config of a staged CNN: {model_name, in_chans, out_indices,
 * depth_key: depths[0..stages), width_key: widths[0..stages)}, in *out. */
TC_NODISCARD terracl_status tc_feature_config_stages(const char *name, int64_t in_chans,
                                                     const int64_t *out_indices, size_t n_out,
                                                     const char *depth_key, const int64_t *depths,
                                                     const char *width_key, const int64_t *widths,
                                                     size_t stages, terracl_value **out,
                                                     terracl_error *err);

#endif /* TC_MODELS_FEATURE_CONFIG_H */

/* Helpers shared by the head files. */
#ifndef TC_MODELS_HEAD_UTIL_H
#define TC_MODELS_HEAD_UTIL_H

#include "core/value.h"
#include "graph/module.h"

/* Most pre-head layers a channel_list / dim_list may ask for. */
#define TC_HEAD_MAX_LAYERS 32
/* Largest num_classes / num_outputs a head accepts from a config. */
#define TC_HEAD_MAX_OUTPUTS (1 << 20)

/* Largest class count or layer width a head config may ask for. */
#define TC_HEAD_MAX_WIDTH ((int64_t)1 << 20)

/* Checks that in_channels, the class count (when classes >= 0) and every
 * entry of a channel_list / dim_list lie in 1..TC_HEAD_MAX_WIDTH, so that
 * no weight shape built from them can overflow. */
TC_NODISCARD terracl_status tc_head_check_widths(const char *head, int64_t in_channels,
                                                 int64_t classes, const char *list_key,
                                                 const int64_t *list, size_t n,
                                                 terracl_error *err);

/* Heads take exactly one input tensor. */
TC_NODISCARD terracl_status tc_head_single_input(const struct tc_feats *in, terracl_error *err);


/* Stores cfg (taken over; NULL means out of memory) and the one output's
 * channel count. */
TC_NODISCARD terracl_status tc_head_finish(terracl_module *m, terracl_value *cfg,
                                           int64_t out_channels, terracl_error *err);

#endif /* TC_MODELS_HEAD_UTIL_H */

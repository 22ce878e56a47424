/* Helpers shared by the neck files: channel lists, configs, copies. */
#ifndef TC_MODELS_NECK_UTIL_H
#define TC_MODELS_NECK_UTIL_H

#include "core/value.h"
#include "graph/module.h"

/* The incoming channel list (`first` of a neck constructor): a non-empty
 * list of positive ints, at most TC_MAX_FEATS of them. */
TC_NODISCARD terracl_status tc_neck_channels(const terracl_value *first, const char *neck,
                                             int64_t *ch, size_t *n, terracl_error *err);



/* Finishes a neck: stores `cfg` (taken over, may be NULL when out of
 * memory, which is then the error) and the output channel list. */
TC_NODISCARD terracl_status tc_neck_finish(terracl_module *m, terracl_value *cfg,
                                           const int64_t *ch, size_t n, terracl_error *err);

/* y = a new tensor holding a copy of x (x may be a borrowed view). */
TC_NODISCARD terracl_status tc_neck_copy(terracl_runtime *rt, const struct tc_tensor *x,
                                         struct tc_tensor *y, terracl_error *err);

#endif /* TC_MODELS_NECK_UTIL_H */

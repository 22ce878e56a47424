/* Model entry points for the library's own tools (the CLI's bench). */
#ifndef TC_MODELS_MODEL_INTERNAL_H
#define TC_MODELS_MODEL_INTERNAL_H

#include "terracl/model.h"
#include "terracl/value.h"

/* A model from an in-memory config tree (taken over, also on failure) with
 * random weights. */
terracl_status tc_model_from_value(terracl_runtime *rt, terracl_value *config,
                                   terracl_model **out, terracl_error *err);

/* The config tree the model was built from (borrowed; lives as long as the
 * model), for readers of its other sections (the scene pipeline). */
const terracl_value *tc_model_config_tree(const terracl_model *model);
/* The config file's name (or the checkpoint's when the config came from
 * it), to label messages about the config. */
const char *tc_model_config_name(const terracl_model *model);

#endif /* TC_MODELS_MODEL_INTERNAL_H */

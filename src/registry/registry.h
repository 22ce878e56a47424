/* Registry internals shared with the command-line tool and the tests. */
#ifndef TC_REGISTRY_REGISTRY_H
#define TC_REGISTRY_REGISTRY_H

#include <stddef.h>

#include "terracl/registry.h"

/* "backbone", "neck", "decoder", "model factory", "full model". */
const char *tc_registry_kind_name(enum terracl_registry_kind kind);

#endif /* TC_REGISTRY_REGISTRY_H */

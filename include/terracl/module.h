/*
 * Modules: the built form of a component (a backbone, neck, decoder, head or
 * a whole model). A module is a tree of layers with named parameters, the
 * way PyTorch names them in a state_dict; building one never touches a
 * device. Weights are bound and the forward pass is run through terracl's
 * model API (terracl/model.h).
 *
 * Ownership: the caller owns a module it got from a constructor or a
 * registry and frees it with terracl_module_destroy (NULL is a no-op).
 */
#ifndef TERRACL_MODULE_H
#define TERRACL_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "terracl/export.h"
#include "terracl/status.h"
#include "terracl/value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct terracl_module terracl_module;

TERRACL_API void terracl_module_destroy(terracl_module *m);
/* The component's type name ("PrithviViT", "FCNDecoder", ...). */
TERRACL_API const char *terracl_module_type(const terracl_module *m);
/* The resolved configuration (every argument with its effective value);
 * borrowed, may be NULL for plain layers. */
TERRACL_API const terracl_value *terracl_module_config(const terracl_module *m);
/* Learnable parameters, counted as PyTorch counts them (fixed tables and
 * buffers excluded). */
TERRACL_API uint64_t terracl_module_param_count(const terracl_module *m);
/* Channels of each output feature (backbones, necks, decoders); returns the
 * number of outputs and copies up to `cap` of them. */
TERRACL_API size_t terracl_module_out_channels(const terracl_module *m, int64_t *channels,
                                               size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* TERRACL_MODULE_H */

/*
 * Registries: names mapped to constructors, as in TerraTorch.
 *
 * A plain registry is a set of names, each with a constructor. A
 * multi-source registry aggregates registries under prefixes:
 * "terratorch_prithvi_eo_v2_300" names prithvi_eo_v2_300 in the "terratorch"
 * source; without a known prefix every source is searched in registration
 * order. The top-level registries (backbones, necks, decoders, model
 * factories, full models) are process-wide, hold the built-in components,
 * and are safe to use and extend from several threads.
 *
 * Ownership: registries from terracl_registry_create* belong to the caller
 * until passed to terracl_registry_register_source, which takes them over.
 * The top-level registries belong to the library and are never freed by
 * the caller. Modules returned by build belong to the caller.
 */
#ifndef TERRACL_REGISTRY_H
#define TERRACL_REGISTRY_H

#include <stddef.h>

#include "terracl/export.h"
#include "terracl/module.h"
#include "terracl/status.h"
#include "terracl/value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct terracl_registry terracl_registry;

/*
 * A constructor. `first` is the positional argument TerraTorch passes first
 * (decoders: the list of input channels; NULL for other kinds). `args` is a
 * map of keyword arguments, never NULL; read it with terracl_args_* so that
 * unused keys can be reported. `user` is the pointer given at registration.
 */
typedef terracl_status (*terracl_constructor)(const terracl_value *first, const terracl_value *args,
                                              void *user, terracl_module **out,
                                              terracl_error *err);

enum terracl_registry_kind {
    TERRACL_REGISTRY_BACKBONE,
    TERRACL_REGISTRY_NECK,
    TERRACL_REGISTRY_DECODER,
    TERRACL_REGISTRY_MODEL_FACTORY,
    TERRACL_REGISTRY_FULL_MODEL,
};

/* The process-wide top-level registry of a kind (never NULL). */
TERRACL_API terracl_registry *terracl_registry_get(enum terracl_registry_kind kind);

TERRACL_API terracl_status terracl_registry_create(const char *name, terracl_registry **out,
                                                   terracl_error *err);
TERRACL_API terracl_status terracl_registry_create_multi(const char *name, terracl_registry **out,
                                                         terracl_error *err);
TERRACL_API void terracl_registry_destroy(terracl_registry *reg); /* NULL is a no-op */
TERRACL_API int terracl_registry_is_multi(const terracl_registry *reg);

/* Adds (or replaces) `name`. `includes_head` matters for decoders. A
 * multi-source registry accepts registrations only through its "terratorch"
 * source; see terracl_registry_source. */
TERRACL_API terracl_status terracl_registry_register(terracl_registry *reg, const char *name,
                                                     terracl_constructor ctor, void *user,
                                                     int includes_head, terracl_error *err);

/* Membership, with or without a source prefix. */
TERRACL_API int terracl_registry_contains(const terracl_registry *reg, const char *name);
/* Number of names (multi: summed over sources). */
TERRACL_API size_t terracl_registry_count(const terracl_registry *reg);
/* The i-th name (multi: "<prefix>_<name>"), copied into buf. */
TERRACL_API terracl_status terracl_registry_name(const terracl_registry *reg, size_t i, char *buf,
                                                 size_t cap, terracl_error *err);

/*
 * Builds `name`. Unknown names are TERRACL_ERR_NOT_FOUND with the nearest
 * known names in the message. `args` may be NULL (no arguments).
 */
TERRACL_API terracl_status terracl_registry_build(const terracl_registry *reg, const char *name,
                                                  const terracl_value *first,
                                                  const terracl_value *args, terracl_module **out,
                                                  terracl_error *err);
/* Whether the decoder `name` includes its head (0 if unknown). */
TERRACL_API int terracl_registry_includes_head(const terracl_registry *reg, const char *name);

/* Multi-source only. register_source takes ownership of `source` on
 * success; a duplicate prefix is TERRACL_ERR_EXISTS. */
TERRACL_API terracl_status terracl_registry_register_source(terracl_registry *multi,
                                                            const char *prefix,
                                                            terracl_registry *source,
                                                            terracl_error *err);
TERRACL_API size_t terracl_registry_source_count(const terracl_registry *multi);
TERRACL_API const char *terracl_registry_source_prefix(const terracl_registry *multi, size_t i);
TERRACL_API terracl_registry *terracl_registry_source(terracl_registry *multi, const char *prefix);

#ifdef __cplusplus
}
#endif
#endif /* TERRACL_REGISTRY_H */

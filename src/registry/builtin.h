/*
 * The built-in components, one static table per top-level registry. They
 * are copied into each registry's "terratorch" source the first time the
 * registry is used (no constructor attributes: static linking keeps every
 * entry of a table that is referenced).
 */
#ifndef TC_REGISTRY_BUILTIN_H
#define TC_REGISTRY_BUILTIN_H

#include "terracl/registry.h"

struct tc_builtin {
    const char *name;
    terracl_constructor ctor;
    int includes_head; /* decoders only */
};

/* The table of a kind, ended by an entry whose name is NULL. */
const struct tc_builtin *tc_builtin_table(enum terracl_registry_kind kind);

/* The backbones of the "timm" source (TerraTorch searches it after
 * "terratorch"): timm model names, reached as "timm_<name>" or, when no
 * terratorch backbone has the name, as plain "<name>". NULL-name ended. */
const struct tc_builtin *tc_builtin_timm_backbones(void);

/* The decoders of the "smp" source (segmentation_models_pytorch class names,
 * reached as "smp_<Name>" or plain "<Name>"). NULL-name ended. */
const struct tc_builtin *tc_builtin_smp_decoders(void);

#endif /* TC_REGISTRY_BUILTIN_H */

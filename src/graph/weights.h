/*
 * Binding a module tree's parameters to device memory from checkpoints.
 *
 * Every parameter that comes from a checkpoint is looked up, type- and
 * shape-checked in all sources BEFORE any device memory is allocated, so a
 * bad file fails fast with the tensor's name and both shapes. Then all
 * parameters are packed into a few large device buffers (each within the
 * device's largest allocation) and uploaded one tensor at a time through a
 * single staging buffer: host memory stays near the largest tensor, not the
 * model.
 */
#ifndef TC_GRAPH_WEIGHTS_H
#define TC_GRAPH_WEIGHTS_H

#include "graph/module.h"
#include "io/checkpoint.h"

/* A place to look for a subtree's tensors: names are `prefix` + the
 * parameter's dotted name relative to `root` (NULL root: the whole tree).
 * A source whose `ck` is NULL supplies random values for every tensor (for
 * benchmarks). */
struct tc_weight_source {
    struct tc_checkpoint *ck;
    const char *prefix;
    const terracl_module *root;
    int adapt; /* parameters with an adapter read their checkpoint form (see module.h) */
};

struct tc_weights; /* the device buffers holding a model's parameters */

/* Looks every checkpoint parameter of `m` up in the sources (the first
 * source that has the name wins), validates it, then allocates and uploads.
 * Fixed (host-computed) parameters are uploaded too. On success the
 * parameters' `value` tensors view the returned buffers, which must outlive
 * every use of the module's forward. */
TC_NODISCARD terracl_status tc_weights_bind(terracl_runtime *rt, terracl_module *m,
                                            const struct tc_weight_source *sources, size_t count,
                                            struct tc_weights **out, terracl_error *err);
void tc_weights_free(struct tc_weights *w); /* NULL is a no-op */
uint64_t tc_weights_bytes(const struct tc_weights *w);

/* The prefix under which a checkpoint stores a Prithvi encoder: the text
 * before the first key ending in "patch_embed.proj.weight" ("" for flat
 * keys, "encoder." for MAE checkpoints). NULL when there is none. The
 * result is copied into buf. */
const char *tc_weights_find_prefix(struct tc_checkpoint *ck, const char *suffix, char *buf,
                                   size_t cap);

#endif /* TC_GRAPH_WEIGHTS_H */

/*
 * Whole models: a TerraTorch config plus a checkpoint, bound to a device.
 *
 * terracl_model_load reads the YAML config (a TerraTorch Lightning config
 * or the same keys at the top level; NULL to use the config stored in the
 * checkpoint), builds the model through the registries, checks every tensor
 * it needs against the checkpoint, and uploads the weights. A config whose
 * model arguments name no decoder is a backbone alone: its output is the
 * backbone's final feature [B, 1+N, D].
 *
 * Ownership: the model borrows the runtime, which must outlive it; the
 * caller owns the model (terracl_model_destroy) and the output arrays
 * terracl_model_run returns (free()). A model is used by one thread at a
 * time.
 */
#ifndef TERRACL_MODEL_H
#define TERRACL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "terracl/export.h"
#include "terracl/module.h"
#include "terracl/runtime.h"
#include "terracl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct terracl_model terracl_model;

/* A host tensor: row-major float32. */
struct terracl_tensor {
    float *data;
    int ndim;
    int64_t dims[5];
};

/* A tensor with a name: one modality of a multimodal input, or one output
 * of terracl_model_run_named. */
struct terracl_named_tensor {
    const char *name;
    struct terracl_tensor tensor;
};

/* The inputs of one forward pass. `temporal_coords` [B, T, 2] (year, day of
 * year) and `location_coords` [B, 2] (lat, lon) are optional (data NULL).
 *
 * Multimodal models (a TerraMind backbone; see terracl_model_modality_name)
 * take either `image`, which is then their first modality (as TerraTorch
 * takes a plain tensor), or `n_modalities` named images, each [B, C_m, H, W]
 * and named exactly as the config's `modalities` list names it; all share
 * B, H and W. A modality left out is absent, as when it is missing from
 * TerraTorch's input dict (mean and max merge the ones given; concat puts
 * missing_mod_token in place of each absent one), and at least one must be
 * given. `image` stays empty (data NULL) when modalities are named. Every
 * array and name is the caller's and only read during the call. */
struct terracl_inputs {
    struct terracl_tensor image; /* [B, C, H, W] or [B, C, T, H, W] */
    struct terracl_tensor temporal_coords;
    struct terracl_tensor location_coords;
    const struct terracl_named_tensor *modalities;
    size_t n_modalities;
};

/* config_path may be NULL when the checkpoint carries its config;
 * weights_path may be NULL when every tensor comes from a backbone's
 * ckpt_path. */
TERRACL_API terracl_status terracl_model_load(terracl_runtime *rt, const char *config_path,
                                              const char *weights_path, terracl_model **out,
                                              terracl_error *err);
/* The same model with random weights instead of a checkpoint, for
 * benchmarks (its outputs mean nothing). */
TERRACL_API terracl_status terracl_model_load_random(terracl_runtime *rt, const char *config_path,
                                                     terracl_model **out, terracl_error *err);
TERRACL_API void terracl_model_destroy(terracl_model *model); /* NULL is a no-op */

/*
 * Checks, before anything is allocated, whether an input of this shape
 * ([B, C, H, W] or [B, C, T, H, W]) can run: each dimension in 1..2^31, and
 * the memory the run needs, estimated from the shapes (the input, the
 * backbone's activations and attention scratch, the weights already on the
 * device), against the device's global memory and maximum allocation and
 * the host's physical memory. The estimate covers the backbone, where
 * almost all of the memory goes, so it is a lower bound: a run that passes
 * can still fail later, but one that fails here could never have run.
 * TERRACL_ERR_NO_MEMORY names the largest buffer and all the sizes.
 * terracl_model_run makes the same check itself.
 */
TERRACL_API terracl_status terracl_model_check_input(terracl_model *model, int ndim,
                                                     const int64_t *dims, terracl_error *err);

/* Runs the model. On success *output holds a malloc'ed array the caller
 * frees, shaped exactly as TerraTorch's ModelOutput.output. */
TERRACL_API terracl_status terracl_model_run(terracl_model *model,
                                             const struct terracl_inputs *inputs,
                                             struct terracl_tensor *output, terracl_error *err);

/* Runs a model whose output is several tensors, and any other model too
 * (then *count is 1 and the one output is named "output"). A TerraMind
 * backbone alone with merge_method dict gives one [B, N, D] token sequence
 * per modality given, in the model's modality order, named by the modality
 * (terracl_model_run refuses such a model). On success outputs[0..*count)
 * hold malloc'ed arrays the caller frees; the names belong to the model and
 * live as long as it does. On failure nothing is left to free. */
TERRACL_API terracl_status terracl_model_run_named(terracl_model *model,
                                                   const struct terracl_inputs *inputs,
                                                   struct terracl_named_tensor *outputs,
                                                   size_t capacity, size_t *count,
                                                   terracl_error *err);

/* A multimodal model's modalities, in its input order, named as its config
 * names them (the names struct terracl_inputs takes): the count is 0 for
 * models with one plain input. The names belong to the model. */
TERRACL_API size_t terracl_model_modality_count(const terracl_model *model);
TERRACL_API const char *terracl_model_modality_name(const terracl_model *model, size_t i);

/* "segmentation", "regression", "classification" or "backbone". */
TERRACL_API const char *terracl_model_task(const terracl_model *model);
/* The built module tree (borrowed). */
TERRACL_API const terracl_module *terracl_model_module(const terracl_model *model);
/* One line listing checkpoint tensors the model did not use ("" if none),
 * leaving out the expected ones: num_batches_tracked counters, the
 * backbone's recomputed pos_embed, MAE decoder tensors and mask_token, and
 * auxiliary heads (they do not contribute to the output). */
TERRACL_API const char *terracl_model_unused_tensors(const terracl_model *model);
/* Device bytes taken by the weights. */
TERRACL_API uint64_t terracl_model_weight_bytes(const terracl_model *model);

#ifdef __cplusplus
}
#endif
#endif /* TERRACL_MODEL_H */

/*
 * Module internals: what constructors fill in and what the executor walks.
 *
 * A module has a type name, its resolved config, its own parameters (named
 * relative to the module, e.g. "weight"), and named children; the full
 * parameter name is the path of child names joined with dots, exactly the
 * PyTorch state_dict key. Behaviour (forward, destroy of private state) is
 * a small vtable plus an `impl` pointer.
 */
#ifndef TC_GRAPH_MODULE_H
#define TC_GRAPH_MODULE_H

#include "core/error.h"
#include "graph/tensor.h"
#include "terracl/module.h"

#define TC_MAX_FEATS 64

/* A list of tensors flowing between components (backbone outputs, pyramid
 * levels, ...). Tensors in it may own their buffers. */
struct tc_feats {
    size_t n;
    struct tc_tensor t[TC_MAX_FEATS];
};
void tc_feats_free(struct tc_feats *f); /* frees owned tensors, sets n = 0 */

struct tc_exec; /* forward-pass context, see graph/exec.h */

struct tc_module_vtable {
    /* Runs the module: reads `in`, fills `out` (out->n == 0 on entry). */
    terracl_status (*forward)(terracl_module *m, struct tc_exec *ex, const struct tc_feats *in,
                              struct tc_feats *out, terracl_error *err);
    void (*destroy_impl)(void *impl); /* may be NULL */
};

struct tc_param {
    char *name;
    int ndim;
    int64_t dims[TC_MAX_DIMS];
    int learnable;          /* counted by param_count; fixed tables are not */
    /* A GEMM weight [N, K] (or [N, ...] flattened to it) used only as
     * tc_op_linear's or tc_op_conv2d's weight: the binder may store it in
     * the GEMM module's packed layout (tc_gemm_pack_weight) where that runs
     * faster; the value is the layout (enum tc_packing). Set with
     * tc_module_mark_gemm_weight. */
    int gemm_weight;
    /* A second form of a weight that the forward pass reads where
     * terracl's own CPU kernels run: for a GEMM weight where the binder
     * packs it, for any other (a depthwise kernel) on CPU devices;
     * derived_numel floats made on the host by derive() from the weight's
     * final plain values, once the bind hooks ran, and stored after it in
     * the same buffer (tc_tensor.derived_offset). NULL: none. derive
     * returns 0, or -1 when out of memory. derived_replaces: the forward
     * pass reads only the derived form, which then takes the weight's
     * place (TC_DERIVED_ONLY) instead of adding to the device memory. */
    int (*derive)(const struct tc_param *p, const float *plain, float *out);
    size_t derived_numel;
    int derived_replaces;
    int from_checkpoint;    /* must be present in the weights */
    struct tc_tensor value; /* device copy once bound; a view into the model's weight buffer */
    float *host;            /* for values computed at build time (fixed tables); owned */
    /* When loaded from a source marked `adapt` (a backbone's ckpt_path), the
     * checkpoint holds this tensor with shape adapt_dims and `adapt` turns it
     * into the parameter (e.g. selecting pretrained band columns). */
    int adapt_ndim;
    int64_t adapt_dims[TC_MAX_DIMS];
    terracl_status (*adapt)(const struct tc_param *p, const float *ckpt, float *out, void *user,
                            terracl_error *err);
    void *adapt_user;
};

struct tc_child {
    char *name;
    terracl_module *module;
};

/* Work done once a module's weights are on the device (tc_weights_bind
 * runs these after every upload): rewriting parameters into the form the
 * forward pass uses, such as a BatchNorm folded into its convolution. The
 * hook reads its parameter indices from `user`, a copy it owns. */
typedef terracl_status (*tc_bind_hook_fn)(terracl_module *m, terracl_runtime *rt,
                                          const void *user, terracl_error *err);
struct tc_bind_hook {
    tc_bind_hook_fn fn;
    void *user;
};

struct terracl_module {
    char *type;
    const struct tc_module_vtable *vt;
    void *impl;
    terracl_value *config;
    struct tc_param *params;
    size_t nparams, params_cap;
    struct tc_child *children;
    size_t nchildren, children_cap;
    int64_t out_channels[TC_MAX_FEATS];
    size_t n_out_channels;
    struct tc_bind_hook *bind_hooks; /* in order of registration */
    size_t n_bind_hooks;
};

/* Creates an empty module that owns `impl` (freed by vt->destroy_impl). On
 * failure impl is freed too, so callers never leak it. */
TC_NODISCARD terracl_status tc_module_create(const char *type, const struct tc_module_vtable *vt,
                                             void *impl, terracl_module **out,
                                             terracl_error *err);
/* Declares a parameter loaded from the checkpoint; *out (may be NULL)
 * points into the module and stays valid until the next add_param. Use the
 * returned index with tc_module_param to reach it later. */
TC_NODISCARD terracl_status tc_module_add_param(terracl_module *m, const char *name, int ndim,
                                                const int64_t *dims, size_t *index,
                                                terracl_error *err);
/* A buffer loaded from the checkpoint but not learnable (BatchNorm running
 * statistics): required in checkpoints, not counted by param_count. */
TC_NODISCARD terracl_status tc_module_add_buffer(terracl_module *m, const char *name, int ndim,
                                                 const int64_t *dims, size_t *index,
                                                 terracl_error *err);
/* A learnable parameter of the PyTorch model that the forward pass never
 * uses (a classifier head kept by a feature extractor): counted by
 * param_count, neither required in nor read from checkpoints. */
TC_NODISCARD terracl_status tc_module_add_counted(terracl_module *m, const char *name, int ndim,
                                                  const int64_t *dims, terracl_error *err);
/* Marks parameter `index` as used only as tc_op_linear's or tc_op_conv2d's
 * weight (see tc_param.gemm_weight): [N, K], or [N, ...] used through its
 * [N, K] flattening (a Conv3d patch embedding, a Conv2d weight). */
void tc_module_mark_gemm_weight(terracl_module *m, size_t index);
/* The same for a Conv2d weight [N, Cin, kh, kw], packed taps-major
 * (TC_PACKED_TAPS). */
void tc_module_mark_conv_weight(terracl_module *m, size_t index);
/* The same for a ConvTranspose2d weight [Cin, Cout, k, k] used only as
 * tc_op_conv_transpose2d's direct GEMM over K = Cin (TC_PACKED_KN). */
void tc_module_mark_conv_transpose_weight(terracl_module *m, size_t index);
/* A parameter computed on the host at build time (not in checkpoints, not
 * learnable); takes ownership of `host` (numel floats). */
TC_NODISCARD terracl_status tc_module_add_fixed(terracl_module *m, const char *name, int ndim,
                                                const int64_t *dims, float *host, size_t *index,
                                                terracl_error *err);
static inline struct tc_param *tc_module_param(terracl_module *m, size_t index)
{
    return &m->params[index];
}
/* Adds a child under `name`; takes ownership of `child` (also on failure). */
TC_NODISCARD terracl_status tc_module_add_child(terracl_module *m, const char *name,
                                                terracl_module *child, terracl_error *err);
/* Replaces the config; takes ownership of cfg. */
void tc_module_set_config(terracl_module *m, terracl_value *cfg);
TC_NODISCARD terracl_status tc_module_set_out_channels(terracl_module *m, const int64_t *channels,
                                                       size_t n, terracl_error *err);

/* Runs m->vt->forward with a context message on failure. */
TC_NODISCARD terracl_status tc_module_forward(terracl_module *m, struct tc_exec *ex,
                                              const struct tc_feats *in, struct tc_feats *out,
                                              terracl_error *err);

/* Registers a bind hook on m with a copy of the user_size bytes at user. */
TC_NODISCARD terracl_status tc_module_add_bind_hook(terracl_module *m, tc_bind_hook_fn fn,
                                                    const void *user, size_t user_size,
                                                    terracl_error *err);
/* Runs the bind hooks of the whole tree (children first, then m's own). */
TC_NODISCARD terracl_status tc_module_run_bind_hooks(terracl_module *m, terracl_runtime *rt,
                                                     terracl_error *err);
void tc_module_free_bind_hooks(terracl_module *m);

/* Visits every parameter of the tree with its full dotted name. */
typedef terracl_status (*tc_param_visitor)(void *user, const char *full_name,
                                           struct tc_param *param, terracl_error *err);
TC_NODISCARD terracl_status tc_module_visit_params(terracl_module *m, tc_param_visitor visit,
                                                   void *user, terracl_error *err);

#endif /* TC_GRAPH_MODULE_H */

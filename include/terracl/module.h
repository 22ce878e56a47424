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

/*
 * Building blocks for your own components (see terracl_registry_register):
 * a sequential module runs its layers in order on one image tensor
 * [B, C, H, W] and returns it as its single output feature, so it can serve
 * as a backbone, neck-free, in front of TerraTorch's decoders. Layers are
 * named like the entries of a torch.nn.Sequential ("0", "1", ...), so a
 * checkpoint of the equivalent PyTorch module loads as is.
 */
TERRACL_API terracl_status terracl_sequential_create(const char *type, terracl_module **out,
                                                     terracl_error *err);
/* nn.Conv2d(in, out, kernel, stride, padding, bias): parameters
 * "<name>.weight" [out, in, kernel, kernel] and "<name>.bias" [out]. */
TERRACL_API terracl_status terracl_sequential_add_conv2d(terracl_module *seq, const char *name,
                                                         int64_t in_channels,
                                                         int64_t out_channels, int64_t kernel,
                                                         int64_t stride, int64_t padding,
                                                         int bias, terracl_error *err);
/* A torch.nn activation by class name: "ReLU", "GELU", "Sigmoid", "Tanh",
 * "SiLU", ... (no parameters). */
TERRACL_API terracl_status terracl_sequential_add_activation(terracl_module *seq,
                                                             const char *activation,
                                                             terracl_error *err);
/* Declares the channels of the module's output features (what decoders
 * receive as their channel list). */
TERRACL_API terracl_status terracl_module_set_out_channels(terracl_module *m,
                                                           const int64_t *channels, size_t n,
                                                           terracl_error *err);
/* Records the module's resolved arguments (taken over) for `terracl info`. */
TERRACL_API void terracl_module_set_config(terracl_module *m, terracl_value *config);

#ifdef __cplusplus
}
#endif
#endif /* TERRACL_MODULE_H */

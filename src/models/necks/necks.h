/*
 * TerraTorch's necks (terratorch/models/necks.py): components between the
 * backbone and the decoder that reshape, select and rescale the list of
 * feature tensors.
 *
 * Every constructor has the registry's signature: `first` is the incoming
 * channel list (a TERRACL_VALUE_LIST of ints, TerraTorch's channel_list),
 * `args` the neck's keyword arguments, `user` is unused. The module records
 * its resolved config and its output channel list (TerraTorch's
 * process_channel_list). Parameters are named as in the neck's state_dict
 * (e.g. "fpn1.0.weight", "bottleneck.weight").
 *
 * Forward maps the list of input features to a new list; every output
 * tensor owns its buffer (pass-through features are copied), so the input
 * list may be freed right after the call.
 */
#ifndef TC_MODELS_NECKS_H
#define TC_MODELS_NECKS_H

#include "graph/module.h"
#include "terracl/registry.h"

/* SelectIndices(indices): [features[i] for i in indices], negatives count
 * from the end. */
terracl_status tc_neck_select_indices(const terracl_value *first, const terracl_value *args,
                                      void *user, terracl_module **out, terracl_error *err);
/* AggregateTokens(pooling, indices/index, drop_cls): each selected feature
 * pooled over its tokens to [B, C] (models/necks/aggregate.c). */
terracl_status tc_neck_aggregate_tokens(const terracl_value *first, const terracl_value *args,
                                        void *user, terracl_module **out, terracl_error *err);
/* PermuteDims(new_order): feature.permute(new_order) for each feature. */
terracl_status tc_neck_permute_dims(const terracl_value *first, const terracl_value *args,
                                    void *user, terracl_module **out, terracl_error *err);
/* ReshapeTokensToImage(remove_cls_token=True, effective_time_dim=1, h=None):
 * [B, (1+)T*h*w, E] -> [B, T*E, h, w]. The row count h is `h` when given,
 * else sqrt(tokens per frame) when that is an integer, else it is inferred
 * from the (padded) image size in the forward context. */
terracl_status tc_neck_reshape_tokens_to_image(const terracl_value *first,
                                               const terracl_value *args, void *user,
                                               terracl_module **out, terracl_error *err);
/* InterpolateToPyramidal(scale_factor=2, mode="nearest"|"bilinear"): with n
 * features, feature i is resized by scale_factor^(n-i). */
terracl_status tc_neck_interpolate_to_pyramidal(const terracl_value *first,
                                                const terracl_value *args, void *user,
                                                terracl_module **out, terracl_error *err);
/* MaxpoolToPyramidal(kernel_size=2): feature i max-pooled by kernel_size^i. */
terracl_status tc_neck_maxpool_to_pyramidal(const terracl_value *first, const terracl_value *args,
                                            void *user, terracl_module **out,
                                            terracl_error *err);
/* LearnedInterpolateToPyramidal: exactly 4 features; x4 (two transposed
 * convolutions with BatchNorm and GELU between), x2, x1 and x1/2.
 * Channels [c0/4, c1/2, c2, c3]. */
terracl_status tc_neck_learned_interpolate_to_pyramidal(const terracl_value *first,
                                                        const terracl_value *args, void *user,
                                                        terracl_module **out,
                                                        terracl_error *err);
/* AddBottleneckLayer: appends Conv2d(c, c/2, 1)(features[-1]) ("bottleneck"). */
terracl_status tc_neck_add_bottleneck_layer(const terracl_value *first, const terracl_value *args,
                                            void *user, terracl_module **out,
                                            terracl_error *err);

#endif /* TC_MODELS_NECKS_H */

/*
 * TerraTorch's heads (terratorch/models/heads/): the last layers of a
 * pixel-wise or scalar-output model, built by the model factory with the
 * decoder's output channels and the config's head_* arguments (prefix
 * stripped). Parameters are named relative to the head module exactly as
 * the head's own state_dict ("head.2.weight", "head.0.1.0.weight", ...);
 * a whole model adds its "head." prefix. Dropout is the identity.
 *
 * Each forward takes one tensor and returns one (owned) tensor.
 */
#ifndef TC_MODELS_HEADS_H
#define TC_MODELS_HEADS_H

#include "graph/module.h"

/* SegmentationHead(in_channels, num_classes, channel_list=None, dropout=0):
 * [B, C, H, W] -> logits [B, num_classes, H, W]. num_classes is required. */
TC_NODISCARD terracl_status tc_segmentation_head(int64_t in_channels,
                                                 const terracl_value *head_args,
                                                 terracl_module **out, terracl_error *err);

/* RegressionHead(in_channels, final_act=None, learned_upscale_layers=0,
 * channel_list=None, batch_norm=True, dropout=0): [B, C, H, W] ->
 * [B, 1, H * 2^learned_upscale_layers, ...]. final_act is None or a torch.nn
 * activation class name ("torch.nn.ReLU", "torch.nn.Sigmoid", ...). */
TC_NODISCARD terracl_status tc_regression_head(int64_t in_channels,
                                               const terracl_value *head_args,
                                               terracl_module **out, terracl_error *err);

/* ClassificationHead(in_dim, num_classes, dim_list=None, dropout=0,
 * linear_after_pool=False): [B, C, ...] (or [B, C]) -> logits
 * [B, num_classes]; the head runs on every position and the result is
 * averaged, or on the averaged input when linear_after_pool. */
TC_NODISCARD terracl_status tc_classification_head(int64_t in_channels,
                                                   const terracl_value *head_args,
                                                   terracl_module **out, terracl_error *err);

#endif /* TC_MODELS_HEADS_H */

/*
 * Checkpoint tensors a model is expected to leave unused, so the "unused
 * tensors" warning names only the surprising ones (DESIGN.md §2.2).
 */
#ifndef TC_MODELS_EXPECTED_UNUSED_H
#define TC_MODELS_EXPECTED_UNUSED_H

#include "io/checkpoint.h"

/*
 * Marks as used (accounted for) every unused tensor that TerraTorch's own
 * loading ignores too:
 *  - BatchNorm's `num_batches_tracked` counters, anywhere (eval mode never
 *    reads them);
 *  - a whole model's `aux_heads.*` (auxiliary heads feed TerraTorch's
 *    training loss, not ModelOutput.output, which is what terracl computes);
 *  - in the backbone's tensors, the way TerraTorch's Prithvi checkpoint
 *    filter treats them: `pos_embed` (recomputed for the input's grid), MAE
 *    decoder tensors (names with "decoder" or "_dec") and `mask_token`, and
 *    `temporal_embed` / `location_embed` of a backbone built without that
 *    encoding.
 * The backbone's tensors are those whose name starts with
 * `backbone_prefix` ("encoder." in a whole model); NULL means every tensor
 * (a checkpoint loaded into a backbone alone, where an MAE checkpoint keeps
 * its decoder beside the "encoder." tensors).
 */
void tc_mark_expected_unused(struct tc_checkpoint *ck, const char *backbone_prefix);

#endif /* TC_MODELS_EXPECTED_UNUSED_H */

/* Model outputs as pictures (the only file that uses libpng). */
#ifndef TC_CLI_OUTPUT_IMAGE_H
#define TC_CLI_OUTPUT_IMAGE_H

#include "terracl/terracl.h"

/*
 * Writes `out` as a PNG at `path` (atomically: temporary file + rename):
 * segmentation [B, K, H, W] as a colour mask of the argmax over K;
 * regression [B, H, W] as a greyscale map scaled from its minimum to its
 * maximum. Batch items are stacked vertically. Other outputs are
 * TERRACL_ERR_UNSUPPORTED.
 */
terracl_status tc_write_output_png(const char *path, const char *task,
                                   const struct terracl_tensor *out, terracl_error *err);

#endif /* TC_CLI_OUTPUT_IMAGE_H */

/*
 * The context of one forward pass: the runtime, and the per-sample side
 * inputs TerraTorch passes as keyword arguments (temporal and location
 * coordinates). Coordinates stay on the host: the encodings made from them
 * are small tables computed there.
 */
#ifndef TC_GRAPH_EXEC_H
#define TC_GRAPH_EXEC_H

#include <stdint.h>

#include "terracl/runtime.h"

struct tc_exec {
    terracl_runtime *rt;
    const float *temporal_coords; /* [B, T, 2] (year, day of year) or NULL */
    int64_t temporal_frames;      /* T of temporal_coords */
    const float *location_coords; /* [B, 2] (lat, lon) or NULL */
    int64_t batch;                /* B of the coordinate arrays */
    int64_t image_h, image_w;     /* the (padded) input size, for necks that need it */
    int final_feature_only;       /* backbones may return just their last output */
};

#endif /* TC_GRAPH_EXEC_H */

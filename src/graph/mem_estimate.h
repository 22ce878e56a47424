/*
 * What a forward pass will need, estimated from shapes before anything is
 * allocated: the bytes on the device, on the host, and the largest single
 * buffer (named, with its shape, for the message when it does not fit).
 * Sums saturate instead of wrapping: an absurd input shape gives an absurd
 * (never a small) estimate.
 */
#ifndef TC_GRAPH_MEM_ESTIMATE_H
#define TC_GRAPH_MEM_ESTIMATE_H

#include <stdint.h>

#include "graph/tensor.h"

struct tc_mem_estimate {
    uint64_t device_bytes; /* live at the same time, at the peak */
    uint64_t host_bytes;
    uint64_t largest_bytes;
    char largest_name[48];
    int largest_ndim;
    int64_t largest_dims[TC_MAX_DIMS];
};

/* Bytes of a float32 tensor of this shape (saturating at UINT64_MAX). */
uint64_t tc_mem_float_bytes(int ndim, const int64_t *dims);

/* Counts a device buffer of float32 `dims` named `name` (`copies` of them
 * live at once), remembering it when it is the largest so far. */
void tc_mem_add_device(struct tc_mem_estimate *e, const char *name, int ndim,
                       const int64_t *dims, uint64_t copies);

/* Counts host bytes (float32 `dims`, `copies` of them). */
void tc_mem_add_host(struct tc_mem_estimate *e, int ndim, const int64_t *dims, uint64_t copies);

/* Saturating uint64 helpers. */
uint64_t tc_mem_sat_add(uint64_t a, uint64_t b);
uint64_t tc_mem_sat_mul(uint64_t a, uint64_t b);

#endif /* TC_GRAPH_MEM_ESTIMATE_H */

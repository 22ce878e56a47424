/* Shape-based memory estimates (see mem_estimate.h). */
#include "graph/mem_estimate.h"

#include <stdio.h>
#include <string.h>

uint64_t tc_mem_sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

uint64_t tc_mem_sat_mul(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

uint64_t tc_mem_float_bytes(int ndim, const int64_t *dims)
{
    uint64_t n = sizeof(float);
    for (int i = 0; i < ndim; i++)
        n = tc_mem_sat_mul(n, dims[i] > 0 ? (uint64_t)dims[i] : 0);
    return n;
}

void tc_mem_add_device(struct tc_mem_estimate *e, const char *name, int ndim,
                       const int64_t *dims, uint64_t copies)
{
    uint64_t bytes = tc_mem_float_bytes(ndim, dims);
    e->device_bytes = tc_mem_sat_add(e->device_bytes, tc_mem_sat_mul(bytes, copies));
    if (bytes > e->largest_bytes && ndim <= TC_MAX_DIMS) {
        e->largest_bytes = bytes;
        snprintf(e->largest_name, sizeof e->largest_name, "%s", name);
        e->largest_ndim = ndim;
        memcpy(e->largest_dims, dims, sizeof(int64_t) * (size_t)ndim);
    }
}

void tc_mem_add_host(struct tc_mem_estimate *e, int ndim, const int64_t *dims, uint64_t copies)
{
    e->host_bytes =
        tc_mem_sat_add(e->host_bytes, tc_mem_sat_mul(tc_mem_float_bytes(ndim, dims), copies));
}

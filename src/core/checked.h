/*
 * Overflow-checked size arithmetic. Every size that comes from a file, a
 * config or a shape product goes through these before it reaches malloc or
 * an OpenCL allocation.
 */
#ifndef TC_CORE_CHECKED_H
#define TC_CORE_CHECKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Each returns true on overflow (and leaves *out unspecified). */
static inline bool tc_mul_overflow(size_t a, size_t b, size_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}

static inline bool tc_add_overflow(size_t a, size_t b, size_t *out)
{
    return __builtin_add_overflow(a, b, out);
}

/* Product of n dimensions; false when any is negative or the product overflows. */
static inline bool tc_shape_count(const int64_t *dims, int n, size_t *out)
{
    size_t total = 1;
    for (int i = 0; i < n; i++) {
        if (dims[i] < 0)
            return false;
        if (tc_mul_overflow(total, (size_t)dims[i], &total))
            return false;
    }
    *out = total;
    return true;
}

#endif /* TC_CORE_CHECKED_H */

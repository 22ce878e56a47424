/*
 * Timing helpers the benchmark programs share: a monotonic clock in
 * milliseconds and the comparison qsort needs to sort times.
 */
#ifndef TERRACL_BENCH_TIME_H
#define TERRACL_BENCH_TIME_H

#include <time.h>

static inline double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif

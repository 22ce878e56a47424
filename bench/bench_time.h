/*
 * Timing helpers the benchmark programs share: a monotonic clock in
 * milliseconds, the comparison qsort needs to sort times, and the note
 * that PoCL's workers were pinned.
 */
#ifndef TERRACL_BENCH_TIME_H
#define TERRACL_BENCH_TIME_H

#include <stdio.h>
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

/* Says on stderr that the program pinned PoCL's workers
 * (cli/pin_workers.h), so that a reader of its figures knows. */
static inline void bench_note_pinned(int pinned)
{
    if (pinned)
        fprintf(stderr, "note: PoCL's worker threads pinned one per core (POCL_AFFINITY=1; "
                        "set POCL_AFFINITY=0 to leave them to the scheduler)\n");
}

#endif

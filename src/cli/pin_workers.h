/*
 * Pinning PoCL's worker threads, for the programs that time one kernel at
 * a time: `terracl tune`, `terracl bench --gemm` and bench/'s
 * microbenchmarks. Header-only, so that the benchmark programs, which do
 * not link the command line's objects, share it.
 *
 * Such a program enqueues one kernel, waits for it, and enqueues the
 * next. Each time, the host thread wakes PoCL's sleeping workers while it
 * still runs on one core, and Linux places both workers on the other one;
 * the second is then too recently run to be moved once the host thread
 * sleeps. For the whole kernel one core works and one idles: on two cores,
 * runs of 30 calls of one shape came out at exactly half speed in about
 * one process in three (bench_conv, 1x1 1024->256 @14x14: 0.50 or 0.92-1.0
 * ms, `perf sched timehist` showing both workers on one core). With
 * POCL_AFFINITY=1 each worker stays on its own core and the halves are
 * gone. A whole model keeps the queue full, the workers never sleep between
 * kernels, and pinning changes nothing there (terracl bench, alternating),
 * so only the programs named above set it.
 *
 * PoCL pins worker i to CPU i, so the variable is set only where that is
 * allowed: the process may run on every online CPU, numbered from 0, and
 * POCL_MAX_PTHREAD_COUNT does not ask for more workers than that. A value
 * the user set is left as it is. Call before the first OpenCL call.
 */
#ifndef TERRACL_CLI_PIN_WORKERS_H
#define TERRACL_CLI_PIN_WORKERS_H

/* sched_getaffinity: the including program is built with _GNU_SOURCE. */
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

/* 1 when it set POCL_AFFINITY=1, 0 when it left the environment alone. */
static inline int tc_pin_driver_threads(void)
{
    if (getenv("POCL_AFFINITY") != NULL)
        return 0;
#ifdef __linux__
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t mask;
    if (online < 1 || online > CPU_SETSIZE || sched_getaffinity(0, sizeof mask, &mask) != 0)
        return 0;
    for (long c = 0; c < online; c++)
        if (!CPU_ISSET((int)c, &mask))
            return 0;
    const char *workers = getenv("POCL_MAX_PTHREAD_COUNT");
    if (workers != NULL && (atol(workers) < 1 || atol(workers) > online))
        return 0;
    return setenv("POCL_AFFINITY", "1", 0) == 0;
#else
    return 0;
#endif
}

#endif

/*
 * Running `terracl predict` on several processes under MPI (mpirun, srun).
 * This file and dist.c are the only places that know about MPI; built
 * without MPI, or started without a launcher, everything here describes a
 * single process and the scene loop is the ordinary sequential one.
 *
 * Scheduling: rank 0 owns the scene list and hands out one scene at a time
 * to whichever rank asks, so big and small scenes balance. Rank 0 predicts
 * scenes too; it answers the other ranks between batches of chips (through
 * tc_dist_serve, called from the progress callback), so a waiting rank
 * waits at most one batch. Every scene is handed out exactly once.
 */
#ifndef TC_CLI_DIST_H
#define TC_CLI_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "terracl/terracl.h"

struct tc_dist {
    int rank, size;
    int local_rank; /* rank among the processes on this node */
    int mpi;        /* 1: MPI was initialised (launched by mpirun or srun) */
};

/* Initialises MPI only when a launcher started this process (its
 * environment says so), so the same binary runs alone without starting
 * any MPI daemon. */
void tc_dist_init(struct tc_dist *d, int *argc, char ***argv);
void tc_dist_finalize(struct tc_dist *d);

/* What became of one scene. */
struct tc_dist_report {
    int64_t index; /* -1: nothing to report */
    int failed, skipped;
    double pixels, seconds;
};

struct tc_dist_rank_totals {
    int64_t scenes, failed, skipped;
    double pixels, seconds; /* pixels predicted, seconds spent predicting */
};

struct tc_dist_totals {
    int64_t scenes, handed_out;
    struct tc_dist_rank_totals *ranks; /* [size], rank 0 only */
};

struct tc_dist_sched;

/* paths[0..n) is the scene list (read on rank 0 only; borrowed). Returns 0
 * when out of memory. */
int tc_dist_sched_create(const struct tc_dist *d, char *const *paths, size_t n,
                         struct tc_dist_sched **out);
/* Reports `last` (may be NULL) and takes the next scene: its index and its
 * path into path[cap]. Returns 0 when no scene is left for this rank. */
int tc_dist_next(struct tc_dist_sched *s, const struct tc_dist_report *last, int64_t *index,
                 char *path, size_t cap);
/* Rank 0: answers ranks that are waiting for a scene. Cheap; no-op
 * elsewhere. */
void tc_dist_serve(struct tc_dist_sched *s);
/* Leaves the schedule: a rank that stops early (its model did not load)
 * says so; rank 0 keeps handing out scenes until every rank has left, then
 * fills *totals. */
void tc_dist_finish(struct tc_dist_sched *s, struct tc_dist_totals *totals);
void tc_dist_sched_free(struct tc_dist_sched *s);

/* Split scenes: every rank runs part of each scene together. */
int64_t tc_dist_bcast_int(const struct tc_dist *d, int64_t v); /* rank 0's v */
void tc_dist_bcast_text(const struct tc_dist *d, char *buf, size_t cap); /* rank 0's text */
int tc_dist_all_ok(const struct tc_dist *d, int ok); /* 1 when ok on every rank */
/* Sums a[0..n) over ranks into a on rank 0. */
void tc_dist_sum(const struct tc_dist *d, double *a, int n);
/* Gathers one value per rank into all[size] on rank 0. */
void tc_dist_gather(const struct tc_dist *d, double v, double *all);
/* Part d->rank of d->size, neighbours talking through MPI. */
void tc_dist_split_init(const struct tc_dist *d, struct terracl_predict_split *sp);
/* Ends every rank (a rank failed half-way through a shared scene). */
void tc_dist_abort(const struct tc_dist *d, int code);

#endif /* TC_CLI_DIST_H */

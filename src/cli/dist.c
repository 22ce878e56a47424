/*
 * The MPI side of `terracl predict` (dist.h). Messages between ranks:
 *   rank r -> 0, TAG_REPORT: 6 doubles {index, failed, skipped, pixels,
 *     seconds, wants_more}: the outcome of r's last scene (index -1: none)
 *     and whether r takes another one.
 *   0 -> rank r, TAG_SCENE: text "INDEX PATH", or "-1" when none is left.
 * A rank that received "-1" or sent wants_more = 0 has left the schedule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/dist.h"

#ifdef TERRACL_HAVE_MPI
#include <mpi.h>
#endif

enum { TAG_REPORT = 1701, TAG_SCENE = 1702 };

struct tc_dist_sched {
    struct tc_dist d;
    char *const *paths;
    size_t n, next; /* rank 0: the scene list and the next one to hand out */
    int active;     /* rank 0: ranks other than 0 still in the schedule */
    int left;       /* this rank has left */
    struct tc_dist_rank_totals *ranks;
};

/* mpirun (OpenMPI), Slurm's srun with PMIx or PMI2, MPICH's hydra. */
static int launched_by_mpi(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i]) != NULL)
            return 1;
    return 0;
}

void tc_dist_init(struct tc_dist *d, int *argc, char ***argv)
{
    memset(d, 0, sizeof *d);
    d->size = 1;
#ifdef TERRACL_HAVE_MPI
    if (!launched_by_mpi())
        return;
    int provided = 0;
    /* Only the main thread calls MPI; the strip reader thread never does. */
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return;
    d->mpi = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, d->rank, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_rank(node, &d->local_rank);
        MPI_Comm_free(&node);
    }
#else
    (void)argc;
    (void)argv;
    if (launched_by_mpi())
        fprintf(stderr, "terracl: warning: started by an MPI launcher, but this terracl was built "
                        "without MPI: every process runs every scene on its own\n");
#endif
}

void tc_dist_finalize(struct tc_dist *d)
{
#ifdef TERRACL_HAVE_MPI
    if (d->mpi)
        MPI_Finalize();
#endif
    d->mpi = 0;
}

int tc_dist_sched_create(const struct tc_dist *d, char *const *paths, size_t n,
                         struct tc_dist_sched **out)
{
    struct tc_dist_sched *s = calloc(1, sizeof *s);
    if (s == NULL)
        return 0;
    s->d = *d;
    s->paths = paths;
    s->n = d->rank == 0 ? n : 0;
    s->active = d->rank == 0 ? d->size - 1 : 0;
    if (d->rank == 0) {
        s->ranks = calloc((size_t)d->size, sizeof *s->ranks);
        if (s->ranks == NULL) {
            free(s);
            return 0;
        }
    }
    *out = s;
    return 1;
}

void tc_dist_sched_free(struct tc_dist_sched *s)
{
    if (s == NULL)
        return;
    free(s->ranks);
    free(s);
}

static void record(struct tc_dist_sched *s, int rank, const struct tc_dist_report *r)
{
    if (r == NULL || r->index < 0 || rank < 0 || rank >= s->d.size)
        return;
    struct tc_dist_rank_totals *t = &s->ranks[rank];
    t->scenes++;
    t->failed += r->failed != 0;
    t->skipped += r->skipped != 0;
    t->pixels += r->pixels;
    t->seconds += r->seconds;
}

#ifdef TERRACL_HAVE_MPI
/* Rank 0: one waiting report, answered. */
static void answer(struct tc_dist_sched *s, MPI_Status *probe)
{
    double msg[6];
    MPI_Status st;
    MPI_Recv(msg, 6, MPI_DOUBLE, probe->MPI_SOURCE, TAG_REPORT, MPI_COMM_WORLD, &st);
    struct tc_dist_report r = {(int64_t)msg[0], msg[1] != 0, msg[2] != 0, msg[3], msg[4]};
    record(s, st.MPI_SOURCE, &r);
    if (msg[5] == 0) {
        s->active--;
        return;
    }
    char text[8192];
    if (s->next < s->n) {
        int w = snprintf(text, sizeof text, "%zu %s", s->next, s->paths[s->next]);
        if (w < 0 || (size_t)w >= sizeof text)
            snprintf(text, sizeof text, "%zu", s->next); /* the rank reports it as failed */
        s->next++;
    } else {
        snprintf(text, sizeof text, "-1");
        s->active--;
    }
    MPI_Send(text, (int)strlen(text) + 1, MPI_CHAR, st.MPI_SOURCE, TAG_SCENE, MPI_COMM_WORLD);
}
#endif

void tc_dist_serve(struct tc_dist_sched *s)
{
#ifdef TERRACL_HAVE_MPI
    if (s == NULL || !s->d.mpi || s->d.rank != 0)
        return;
    for (;;) {
        int flag = 0;
        MPI_Status probe;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_REPORT, MPI_COMM_WORLD, &flag, &probe);
        if (!flag)
            return;
        answer(s, &probe);
    }
#else
    (void)s;
#endif
}

#ifdef TERRACL_HAVE_MPI
/* A rank other than 0: report, and ask for a scene when wants_more. */
static int ask(struct tc_dist_sched *s, const struct tc_dist_report *last, int wants_more,
               int64_t *index, char *path, size_t cap)
{
    double msg[6] = {-1, 0, 0, 0, 0, wants_more};
    if (last != NULL) {
        msg[0] = (double)last->index;
        msg[1] = last->failed;
        msg[2] = last->skipped;
        msg[3] = last->pixels;
        msg[4] = last->seconds;
    }
    MPI_Send(msg, 6, MPI_DOUBLE, 0, TAG_REPORT, MPI_COMM_WORLD);
    if (!wants_more) {
        s->left = 1;
        return 0;
    }
    MPI_Status st;
    int count = 0;
    MPI_Probe(0, TAG_SCENE, MPI_COMM_WORLD, &st);
    MPI_Get_count(&st, MPI_CHAR, &count);
    char *text = malloc(count > 0 ? (size_t)count + 1 : 1);
    if (text == NULL) {
        /* Cannot even hold the answer: take it and leave. */
        char drop[1];
        MPI_Recv(drop, 0, MPI_CHAR, 0, TAG_SCENE, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        s->left = 1;
        return 0;
    }
    MPI_Recv(text, count, MPI_CHAR, 0, TAG_SCENE, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    text[count > 0 ? count : 0] = '\0';
    char *rest = NULL;
    long long i = strtoll(text, &rest, 10);
    if (i < 0) {
        free(text);
        s->left = 1;
        return 0;
    }
    *index = i;
    snprintf(path, cap, "%s", (rest != NULL && *rest == ' ') ? rest + 1 : "");
    free(text);
    return 1;
}
#endif

int tc_dist_next(struct tc_dist_sched *s, const struct tc_dist_report *last, int64_t *index,
                 char *path, size_t cap)
{
    if (s->left)
        return 0;
#ifdef TERRACL_HAVE_MPI
    if (s->d.mpi && s->d.rank != 0)
        return ask(s, last, 1, index, path, cap);
#endif
    record(s, 0, last);
    tc_dist_serve(s);
    if (s->next >= s->n) {
        s->left = 1;
        return 0;
    }
    *index = (int64_t)s->next;
    snprintf(path, cap, "%s", s->paths[s->next]);
    s->next++;
    return 1;
}

void tc_dist_finish(struct tc_dist_sched *s, struct tc_dist_totals *totals)
{
    memset(totals, 0, sizeof *totals);
#ifdef TERRACL_HAVE_MPI
    if (s->d.mpi && s->d.rank != 0) {
        if (!s->left)
            ask(s, NULL, 0, NULL, NULL, 0);
        return;
    }
    s->left = 1;
    /* Rank 0 keeps handing out scenes until every other rank has left. */
    while (s->d.mpi && s->active > 0) {
        MPI_Status probe;
        MPI_Probe(MPI_ANY_SOURCE, TAG_REPORT, MPI_COMM_WORLD, &probe);
        answer(s, &probe);
    }
#endif
    s->left = 1;
    totals->scenes = (int64_t)s->n;
    totals->handed_out = (int64_t)s->next;
    totals->ranks = s->ranks;
}

int64_t tc_dist_bcast_int(const struct tc_dist *d, int64_t v)
{
#ifdef TERRACL_HAVE_MPI
    if (d->mpi) {
        long long x = v;
        MPI_Bcast(&x, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
        v = x;
    }
#else
    (void)d;
#endif
    return v;
}

void tc_dist_bcast_text(const struct tc_dist *d, char *buf, size_t cap)
{
#ifdef TERRACL_HAVE_MPI
    if (d->mpi) {
        long long n = d->rank == 0 ? (long long)strlen(buf) + 1 : 0;
        MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
        char *tmp = malloc((size_t)n);
        if (tmp != NULL && d->rank == 0)
            memcpy(tmp, buf, (size_t)n);
        /* Every rank takes part even without memory, then gets "". */
        char dummy = 0;
        MPI_Bcast(tmp != NULL ? tmp : &dummy, tmp != NULL ? (int)n : 1, MPI_CHAR, 0, MPI_COMM_WORLD);
        if (d->rank != 0)
            snprintf(buf, cap, "%s", tmp != NULL && (size_t)n <= cap ? tmp : "");
        free(tmp);
    }
#else
    (void)d;
    (void)buf;
    (void)cap;
#endif
}

int tc_dist_all_ok(const struct tc_dist *d, int ok)
{
#ifdef TERRACL_HAVE_MPI
    if (d->mpi) {
        int all = 0, mine = ok != 0;
        MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        return all;
    }
#else
    (void)d;
#endif
    return ok != 0;
}

void tc_dist_gather(const struct tc_dist *d, double v, double *all)
{
#ifdef TERRACL_HAVE_MPI
    if (d->mpi) {
        MPI_Gather(&v, 1, MPI_DOUBLE, all, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
        return;
    }
#else
    (void)d;
#endif
    all[0] = v;
}

void tc_dist_sum(const struct tc_dist *d, double *a, int n)
{
#ifdef TERRACL_HAVE_MPI
    if (d->mpi)
        MPI_Reduce(d->rank == 0 ? MPI_IN_PLACE : a, a, n, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
#else
    (void)d;
    (void)a;
    (void)n;
#endif
}

#ifdef TERRACL_HAVE_MPI
enum { TAG_ROWS = 1703 };
/* Large row sets go in pieces that an int count can describe. */
#define TC_DIST_PIECE ((size_t)1 << 30)

static terracl_status send_next(const void *data, size_t bytes, void *user, terracl_error *err)
{
    const struct tc_dist *d = user;
    const char *p = data;
    for (size_t off = 0; off < bytes || off == 0; off += TC_DIST_PIECE) {
        size_t n = bytes - off < TC_DIST_PIECE ? bytes - off : TC_DIST_PIECE;
        if (MPI_Send(p + off, (int)n, MPI_BYTE, d->rank + 1, TAG_ROWS, MPI_COMM_WORLD) != MPI_SUCCESS) {
            if (err != NULL) {
                snprintf(err->message, sizeof err->message, "split scene: sending rows to rank %d failed",
                     d->rank + 1);
                err->status = TERRACL_ERR_IO;
            }
            return TERRACL_ERR_IO;
        }
        if (bytes == 0)
            break;
    }
    return TERRACL_OK;
}

static terracl_status recv_prev(void *data, size_t bytes, void *user, terracl_error *err)
{
    const struct tc_dist *d = user;
    char *p = data;
    for (size_t off = 0; off < bytes || off == 0; off += TC_DIST_PIECE) {
        size_t n = bytes - off < TC_DIST_PIECE ? bytes - off : TC_DIST_PIECE;
        if (MPI_Recv(p + off, (int)n, MPI_BYTE, d->rank - 1, TAG_ROWS, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE) != MPI_SUCCESS) {
            if (err != NULL) {
                snprintf(err->message, sizeof err->message,
                     "split scene: receiving rows from rank %d failed", d->rank - 1);
                err->status = TERRACL_ERR_IO;
            }
            return TERRACL_ERR_IO;
        }
        if (bytes == 0)
            break;
    }
    return TERRACL_OK;
}
#endif

void tc_dist_split_init(const struct tc_dist *d, struct terracl_predict_split *sp)
{
    memset(sp, 0, sizeof *sp);
    sp->parts = d->size;
    sp->part = d->rank;
    sp->user = (void *)d;
#ifdef TERRACL_HAVE_MPI
    sp->send_next = send_next;
    sp->recv_prev = recv_prev;
#endif
}

void tc_dist_abort(const struct tc_dist *d, int code)
{
#ifdef TERRACL_HAVE_MPI
    if (d->mpi)
        MPI_Abort(MPI_COMM_WORLD, code);
#else
    (void)d;
    (void)code;
#endif
}

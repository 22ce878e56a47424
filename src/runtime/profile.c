/*
 * Per-kernel device times from OpenCL profiling events. Events wait in a
 * small list and are folded into per-(kernel, variant) totals whenever the
 * list fills or a caller asks for the profile, so a long run holds at most
 * TC_PROFILE_PENDING events at a time. A launch inside an operation's scope
 * (tc_profile_op_begin) is folded into that operation's row as well.
 */
#include "runtime/profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "terracl/runtime.h"

#define TC_PROFILE_PENDING 1024
#define TC_PROFILE_ROWS 256

struct pending {
    cl_event event;
    int row;
    int op_row; /* -1: launched outside any operation's scope */
};

struct tc_profile {
    struct terracl_profile_row rows[TC_PROFILE_ROWS];
    size_t nrows;
    struct terracl_profile_row ops[TC_PROFILE_ROWS];
    size_t nops;
    int op_depth; /* open operation scopes; the outermost one owns launches */
    int op_row;   /* its row in ops, -1 when the table was full */
    struct pending pending[TC_PROFILE_PENDING];
    size_t npending;
    uint64_t flops_seen; /* rt->flops when the last launch was recorded */
};

terracl_status tc_profile_create(terracl_runtime *rt, terracl_error *err)
{
    rt->profile = calloc(1, sizeof *rt->profile);
    if (rt->profile == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for the kernel profile");
    return TERRACL_OK;
}

static void release_pending(struct tc_profile *p)
{
    for (size_t i = 0; i < p->npending; i++)
        clReleaseEvent(p->pending[i].event);
    p->npending = 0;
}

void tc_profile_destroy(terracl_runtime *rt)
{
    if (rt->profile == NULL)
        return;
    release_pending(rt->profile);
    free(rt->profile);
    rt->profile = NULL;
}

/* The row of (kernel, variant) in rows [*n], added when new; -1 when the
 * table is full. */
static int find_row(struct terracl_profile_row *rows, size_t *n, const char *kernel,
                    const char *variant)
{
    struct terracl_profile_row probe;
    snprintf(probe.kernel, sizeof probe.kernel, "%s", kernel);
    snprintf(probe.variant, sizeof probe.variant, "%s", variant ? variant : "");
    for (size_t i = 0; i < *n; i++)
        if (strcmp(rows[i].kernel, probe.kernel) == 0 &&
            strcmp(rows[i].variant, probe.variant) == 0)
            return (int)i;
    if (*n == TC_PROFILE_ROWS)
        return -1;
    probe.launches = 0;
    probe.device_ms = 0.0;
    probe.flops = 0;
    rows[*n] = probe;
    return (int)(*n)++;
}

/* Waits for the pending events and adds their times to their rows. */
static terracl_status fold_pending(struct tc_profile *p, terracl_error *err)
{
    terracl_status st = TERRACL_OK;
    for (size_t i = 0; i < p->npending && st == TERRACL_OK; i++) {
        cl_ulong start = 0, end = 0;
        cl_event ev = p->pending[i].event;
        cl_int rc = clWaitForEvents(1, &ev);
        if (rc == CL_SUCCESS)
            rc = clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof start, &start,
                                         NULL);
        if (rc == CL_SUCCESS)
            rc = clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL);
        if (rc != CL_SUCCESS) {
            st = tc_cl_fail(err, "clGetEventProfilingInfo", rc);
            break;
        }
        const double ms = end > start ? (double)(end - start) * 1e-6 : 0.0;
        struct terracl_profile_row *row = &p->rows[p->pending[i].row];
        row->launches++;
        row->device_ms += ms;
        if (p->pending[i].op_row >= 0)
            p->ops[p->pending[i].op_row].device_ms += ms;
    }
    release_pending(p);
    return st;
}

terracl_status tc_profile_record(terracl_runtime *rt, const char *kernel, const char *variant,
                                 cl_event event, terracl_error *err)
{
    struct tc_profile *p = rt->profile;
    if (p == NULL || event == NULL) {
        if (event != NULL)
            clReleaseEvent(event);
        return TERRACL_OK;
    }
    int row = find_row(p->rows, &p->nrows, kernel, variant);
    if (row < 0) /* the table is full: lump the rest */
        row = find_row(p->rows, &p->nrows, "(other kernels)", NULL);
    if (row < 0) {
        clReleaseEvent(event);
        return TERRACL_OK;
    }
    /* Operations count their arithmetic just before launching it, so what
     * was counted since the last launch is this one's. */
    p->rows[row].flops += rt->flops - p->flops_seen;
    p->flops_seen = rt->flops;
    if (p->npending == TC_PROFILE_PENDING) {
        terracl_status st = fold_pending(p, err);
        if (st != TERRACL_OK) {
            clReleaseEvent(event);
            return st;
        }
    }
    p->pending[p->npending].event = event;
    p->pending[p->npending].row = row;
    p->pending[p->npending].op_row = p->op_depth > 0 ? p->op_row : -1;
    p->npending++;
    return TERRACL_OK;
}

int tc_profile_active(const terracl_runtime *rt) { return rt->profile != NULL; }

void tc_profile_op_begin(terracl_runtime *rt, const char *op, const char *shape, uint64_t flops)
{
    struct tc_profile *p = rt->profile;
    if (p == NULL || p->op_depth++ > 0)
        return;
    p->op_row = find_row(p->ops, &p->nops, op, shape);
    if (p->op_row < 0)
        p->op_row = find_row(p->ops, &p->nops, "(other operations)", NULL);
    if (p->op_row >= 0) {
        p->ops[p->op_row].launches++;
        p->ops[p->op_row].flops += flops;
    }
}

void tc_profile_op_end(terracl_runtime *rt)
{
    struct tc_profile *p = rt->profile;
    if (p != NULL && p->op_depth > 0)
        p->op_depth--;
}

void tc_profile_gemm_tag(char *buf, size_t cap, size_t m, size_t n, size_t k, size_t batch,
                         int epilogue, float beta)
{
    int len = batch > 1 ? snprintf(buf, cap, "%zux%zux%zu x%zu", m, n, k, batch)
                        : snprintf(buf, cap, "%zux%zux%zu", m, n, k);
    if (len < 0 || (size_t)len >= cap)
        return;
    static const char *const names[5] = {"", " +bias", " +bias+gelu", " +rowbias",
                                         " +rowbias+relu"};
    snprintf(buf + len, cap - (size_t)len, "%s%s", names[epilogue >= 0 && epilogue < 5 ? epilogue : 0],
             beta != 0.0f ? " +C" : "");
}

static int by_time_desc(const void *a, const void *b)
{
    double x = ((const struct terracl_profile_row *)a)->device_ms;
    double y = ((const struct terracl_profile_row *)b)->device_ms;
    return (x < y) - (x > y);
}

/* Folds what is pending, then copies the kernel table or (ops) the
 * operation table, slowest first (sorted in place: rows are found by name,
 * and no operation's scope is open while a caller asks). */
static terracl_status profile_rows(terracl_runtime *rt, const char *fn, int ops,
                                   struct terracl_profile_row *rows, size_t capacity,
                                   size_t *count, terracl_error *err)
{
    if (rt == NULL || count == NULL || (rows == NULL && capacity > 0))
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "%s: NULL argument", fn);
    *count = 0;
    if (rt->profile == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "the runtime was created without profiling (set params.profile)");
    cl_int rc = clFinish(rt->queue);
    if (rc != CL_SUCCESS)
        return tc_cl_fail(err, "clFinish", rc);
    terracl_status st = fold_pending(rt->profile, err);
    if (st != TERRACL_OK)
        return st;
    struct tc_profile *p = rt->profile;
    struct terracl_profile_row *table = ops ? p->ops : p->rows;
    size_t total = ops ? p->nops : p->nrows;
    qsort(table, total, sizeof table[0], by_time_desc);
    size_t n = total < capacity ? total : capacity;
    if (n > 0)
        memcpy(rows, table, n * sizeof rows[0]);
    *count = total;
    return TERRACL_OK;
}

terracl_status terracl_runtime_profile(terracl_runtime *rt, struct terracl_profile_row *rows,
                                       size_t capacity, size_t *count, terracl_error *err)
{
    return profile_rows(rt, "terracl_runtime_profile", 0, rows, capacity, count, err);
}

terracl_status terracl_runtime_profile_ops(terracl_runtime *rt, struct terracl_profile_row *rows,
                                           size_t capacity, size_t *count, terracl_error *err)
{
    return profile_rows(rt, "terracl_runtime_profile_ops", 1, rows, capacity, count, err);
}

void terracl_runtime_profile_reset(terracl_runtime *rt)
{
    if (rt == NULL || rt->profile == NULL)
        return;
    clFinish(rt->queue);
    release_pending(rt->profile);
    rt->profile->nrows = 0;
    rt->profile->nops = 0;
    rt->profile->flops_seen = rt->flops;
}

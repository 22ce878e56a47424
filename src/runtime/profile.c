/*
 * Per-kernel device times from OpenCL profiling events. Events wait in a
 * small list and are folded into per-(kernel, variant) totals whenever the
 * list fills or a caller asks for the profile, so a long run holds at most
 * TC_PROFILE_PENDING events at a time.
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
};

struct tc_profile {
    struct terracl_profile_row rows[TC_PROFILE_ROWS];
    size_t nrows;
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

static int find_row(struct tc_profile *p, const char *kernel, const char *variant)
{
    struct terracl_profile_row probe;
    snprintf(probe.kernel, sizeof probe.kernel, "%s", kernel);
    snprintf(probe.variant, sizeof probe.variant, "%s", variant ? variant : "");
    for (size_t i = 0; i < p->nrows; i++)
        if (strcmp(p->rows[i].kernel, probe.kernel) == 0 &&
            strcmp(p->rows[i].variant, probe.variant) == 0)
            return (int)i;
    if (p->nrows == TC_PROFILE_ROWS)
        return -1;
    probe.launches = 0;
    probe.device_ms = 0.0;
    probe.flops = 0;
    p->rows[p->nrows] = probe;
    return (int)p->nrows++;
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
        struct terracl_profile_row *row = &p->rows[p->pending[i].row];
        row->launches++;
        row->device_ms += end > start ? (double)(end - start) * 1e-6 : 0.0;
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
    int row = find_row(p, kernel, variant);
    if (row < 0)
        row = find_row(p, "(other kernels)", NULL); /* the table is full: lump the rest */
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
    p->npending++;
    return TERRACL_OK;
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

terracl_status terracl_runtime_profile(terracl_runtime *rt, struct terracl_profile_row *rows,
                                       size_t capacity, size_t *count, terracl_error *err)
{
    if (rt == NULL || count == NULL || (rows == NULL && capacity > 0))
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_runtime_profile: NULL argument");
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
    qsort(p->rows, p->nrows, sizeof p->rows[0], by_time_desc);
    size_t n = p->nrows < capacity ? p->nrows : capacity;
    if (n > 0)
        memcpy(rows, p->rows, n * sizeof rows[0]);
    *count = p->nrows;
    return TERRACL_OK;
}

void terracl_runtime_profile_reset(terracl_runtime *rt)
{
    if (rt == NULL || rt->profile == NULL)
        return;
    clFinish(rt->queue);
    release_pending(rt->profile);
    rt->profile->nrows = 0;
    rt->profile->flops_seen = rt->flops;
}

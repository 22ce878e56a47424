/*
 * GEMM through CLBlast (the only file that includes clblast_c.h), or through
 * our own kernels on CPU devices (gemm_pocl.c; TERRACL_GEMM=clblast|native).
 *
 * CLBlast 1.5.3 keeps one process-wide kernel cache and its first use of a
 * routine is not thread-safe (fixed in 1.6.1), so every call into it is
 * serialised by one lock. Calls only enqueue work, so the lock is held
 * briefly except while CLBlast compiles a kernel variant for the first time.
 */
#include <clblast_c.h>
#include <stdio.h>
#include <string.h>

#include "runtime/cl_internal.h"
#include "runtime/gemm_pocl.h"
#include "runtime/profile.h"

static pthread_mutex_t g_clblast_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *clblast_status_name(CLBlastStatusCode code)
{
    switch (code) {
    case CLBlastNotImplemented: return "CLBlastNotImplemented";
    case CLBlastInvalidMatrixA: return "CLBlastInvalidMatrixA";
    case CLBlastInvalidMatrixB: return "CLBlastInvalidMatrixB";
    case CLBlastInvalidMatrixC: return "CLBlastInvalidMatrixC";
    case CLBlastInvalidDimension: return "CLBlastInvalidDimension";
    case CLBlastInvalidLeadDimA: return "CLBlastInvalidLeadDimA";
    case CLBlastInvalidLeadDimB: return "CLBlastInvalidLeadDimB";
    case CLBlastInvalidLeadDimC: return "CLBlastInvalidLeadDimC";
    case CLBlastInsufficientMemoryA: return "CLBlastInsufficientMemoryA (buffer A too small)";
    case CLBlastInsufficientMemoryB: return "CLBlastInsufficientMemoryB (buffer B too small)";
    case CLBlastInsufficientMemoryC: return "CLBlastInsufficientMemoryC (buffer C too small)";
    case CLBlastInsufficientMemoryTemp: return "CLBlastInsufficientMemoryTemp";
    case CLBlastInvalidBatchCount: return "CLBlastInvalidBatchCount";
    case CLBlastInvalidOverrideKernel: return "CLBlastInvalidOverrideKernel";
    case CLBlastMissingOverrideParameter: return "CLBlastMissingOverrideParameter";
    case CLBlastInvalidLocalMemUsage: return "CLBlastInvalidLocalMemUsage";
    case CLBlastNoHalfPrecision: return "CLBlastNoHalfPrecision";
    case CLBlastNoDoublePrecision: return "CLBlastNoDoublePrecision";
    case CLBlastDatabaseError: return "CLBlastDatabaseError";
    case CLBlastUnknownError: return "CLBlastUnknownError";
    case CLBlastUnexpectedError: return "CLBlastUnexpectedError";
    default: break;
    }
    /* The remaining codes are OpenCL's own. */
    return tc_cl_error_name((cl_int)code);
}

static terracl_status gemm_fail(terracl_error *err, const char *what, CLBlastStatusCode code,
                                size_t m, size_t n, size_t k)
{
    terracl_status st = TERRACL_ERR_GEMM;
    if (code == CLBlastOpenCLOutOfResources || code == CLBlastOpenCLOutOfHostMemory ||
        code == CLBlastTempBufferAllocFailure)
        st = TERRACL_ERR_NO_MEMORY;
    return tc_fail(err, st, "%s (m=%zu n=%zu k=%zu) failed: %s (%d)", what, m, n, k,
                   clblast_status_name(code), (int)code);
}

static CLBlastTranspose trans(int t) { return t ? CLBlastTransposeYes : CLBlastTransposeNo; }

/* Remembers a shape for the tuner while recording is on. */
static void record_shape(terracl_runtime *rt, const struct tc_gemm_shape *s)
{
    struct tc_gemm_shape shape = *s;
    if (rt->gemm_recording) {
        size_t i = 0;
        while (i < rt->gemm_nrecorded &&
               memcmp(&rt->gemm_recorded[i], &shape, sizeof shape) != 0)
            i++;
        if (i == rt->gemm_nrecorded && i < sizeof rt->gemm_recorded / sizeof rt->gemm_recorded[0])
            rt->gemm_recorded[rt->gemm_nrecorded++] = shape;
    }
}

/* Picks and applies the parameter set for a shape; records the shape for
 * the tuner. Called with the lock held. */
static terracl_status prepare_locked(terracl_runtime *rt, size_t m, size_t n, size_t k, int ta,
                                     int tb, terracl_error *err)
{
    struct tc_gemm_shape shape = {m, n, k, ta, tb};
    record_shape(rt, &shape);
    const struct tc_gemm_set *set =
        rt->gemm_forced ? &rt->gemm_force_set : tc_gemm_table_pick(rt->gemm_table, &shape);
    return tc_gemm_apply_locked(rt, set, err);
}

/* Our own kernels on CPUs (gemm_pocl.c), unless the tuner is timing a
 * forced CLBlast parameter set. Records the shape for the tuner as well. */
static int use_native(terracl_runtime *rt, int ta, int tb, size_t m, size_t n, size_t k,
                      struct tc_matrix a, size_t sa, struct tc_matrix b, size_t sb,
                      struct tc_matrix c, size_t sc, size_t batch)
{
    if (rt->gemm_forced || !tc_gemm_native_wanted(rt, ta, tb, m, n, k, a, sa, b, sb, c, sc, batch))
        return 0;
    struct tc_gemm_shape shape = {m, n, k, ta, tb};
    record_shape(rt, &shape);
    return 1;
}

/* Files a CLBlast call's event in the kernel profile under its shape. */
static terracl_status record_event(terracl_runtime *rt, const char *kernel, size_t m, size_t n,
                                   size_t k, size_t batch, float beta, cl_event event,
                                   terracl_error *err)
{
    if (event == NULL)
        return TERRACL_OK;
    char tag[96];
    tc_profile_gemm_tag(tag, sizeof tag, m, n, k, batch, 0, beta);
    return tc_profile_record(rt, kernel, tag, event, err);
}

terracl_status tc_sgemm(terracl_runtime *rt, int trans_a, int trans_b, size_t m, size_t n,
                        size_t k, float alpha, struct tc_matrix a, struct tc_matrix b, float beta,
                        struct tc_matrix c, terracl_error *err)
{
    if (m == 0 || n == 0)
        return TERRACL_OK;
    if (use_native(rt, trans_a, trans_b, m, n, k, a, 0, b, 0, c, 0, 1)) {
        rt->flops += 2ull * m * n * k;
        return tc_sgemm_native(rt, trans_a, trans_b, m, n, k, alpha, a, 0, b, 0, beta, c, 0, 1,
                               NULL, err);
    }
    pthread_mutex_lock(&g_clblast_lock);
    terracl_status st = prepare_locked(rt, m, n, k, trans_a, trans_b, err);
    if (st != TERRACL_OK) {
        pthread_mutex_unlock(&g_clblast_lock);
        return st;
    }
    cl_command_queue q = rt->queue;
    cl_event event = NULL;
    CLBlastStatusCode rc = CLBlastSgemm(CLBlastLayoutRowMajor, trans(trans_a), trans(trans_b), m,
                                        n, k, alpha, a.buf->mem, a.offset, a.ld, b.buf->mem,
                                        b.offset, b.ld, beta, c.buf->mem, c.offset, c.ld, &q,
                                        tc_profile_slot(rt, &event));
    pthread_mutex_unlock(&g_clblast_lock);
    rt->flops += 2ull * m * n * k;
    if (rc != CLBlastSuccess)
        return gemm_fail(err, "CLBlastSgemm", rc, m, n, k);
    return record_event(rt, "clblast_sgemm", m, n, k, 1, beta, event, err);
}

terracl_status tc_sgemm_ex(terracl_runtime *rt, int trans_a, int trans_b, size_t m, size_t n,
                           size_t k, float alpha, struct tc_matrix a, struct tc_matrix b,
                           float beta, struct tc_matrix c, const struct tc_gemm_epilogue *ep,
                           int *done, terracl_error *err)
{
    *done = 0;
    if (ep != NULL && ep->bias != NULL && m > 0 && n > 0 && !trans_a &&
        (trans_b || ep->per_row) &&
        use_native(rt, trans_a, trans_b, m, n, k, a, 0, b, 0, c, 0, 1)) {
        rt->flops += 2ull * m * n * k;
        *done = 1;
        return tc_sgemm_native(rt, trans_a, trans_b, m, n, k, alpha, a, 0, b, 0, beta, c, 0, 1,
                               ep, err);
    }
    return tc_sgemm(rt, trans_a, trans_b, m, n, k, alpha, a, b, beta, c, err);
}

terracl_status tc_sgemm_strided_batched(terracl_runtime *rt, int trans_a, int trans_b, size_t m,
                                        size_t n, size_t k, float alpha, struct tc_matrix a,
                                        size_t stride_a, struct tc_matrix b, size_t stride_b,
                                        float beta, struct tc_matrix c, size_t stride_c,
                                        size_t batch, terracl_error *err)
{
    if (m == 0 || n == 0 || batch == 0)
        return TERRACL_OK;
    if (use_native(rt, trans_a, trans_b, m, n, k, a, stride_a, b, stride_b, c, stride_c, batch)) {
        rt->flops += 2ull * m * n * k * batch;
        return tc_sgemm_native(rt, trans_a, trans_b, m, n, k, alpha, a, stride_a, b, stride_b,
                               beta, c, stride_c, batch, NULL, err);
    }
    pthread_mutex_lock(&g_clblast_lock);
    /* Batched GEMMs take the parameters of their single-matrix shape. */
    terracl_status st = prepare_locked(rt, m, n, k, trans_a, trans_b, err);
    if (st != TERRACL_OK) {
        pthread_mutex_unlock(&g_clblast_lock);
        return st;
    }
    cl_command_queue q = rt->queue;
    cl_event event = NULL;
    CLBlastStatusCode rc = CLBlastSgemmStridedBatched(
        CLBlastLayoutRowMajor, trans(trans_a), trans(trans_b), m, n, k, alpha, a.buf->mem,
        a.offset, a.ld, stride_a, b.buf->mem, b.offset, b.ld, stride_b, beta, c.buf->mem, c.offset,
        c.ld, stride_c, batch, &q, tc_profile_slot(rt, &event));
    pthread_mutex_unlock(&g_clblast_lock);
    rt->flops += 2ull * m * n * k * batch;
    if (rc != CLBlastSuccess)
        return gemm_fail(err, "CLBlastSgemmStridedBatched", rc, m, n, k);
    return record_event(rt, "clblast_sgemm_batched", m, n, k, batch, beta, event, err);
}

static int find_value(size_t count, const char *const *names, const size_t *values,
                      const char *name, size_t *out)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0) {
            *out = values[i];
            return 1;
        }
    return 0;
}

terracl_status tc_gemm_override(terracl_runtime *rt, const char *kernel, size_t count,
                                const char *const *names, const size_t *values, terracl_error *err)
{
    if (kernel == NULL || (count > 0 && (names == NULL || values == NULL)))
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "GEMM override: kernel/names/values missing");
    if (strcmp(kernel, "Xgemm") == 0) {
        size_t gemmk = 0, mwg = 0, nwg = 0;
        if (find_value(count, names, values, "GEMMK", &gemmk) && gemmk == 1 &&
            find_value(count, names, values, "MWG", &mwg) &&
            find_value(count, names, values, "NWG", &nwg) && mwg != nwg)
            return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                           "GEMM override refused: GEMMK=1 with MWG=%zu != NWG=%zu gives wrong "
                           "results in CLBlast 1.5.3",
                           mwg, nwg);
    }
    pthread_mutex_lock(&g_clblast_lock);
    CLBlastStatusCode rc = CLBlastOverrideParameters(rt->device, kernel, CLBlastPrecisionSingle,
                                                     count, (const char **)names, values);
    tc_gemm_forget_locked(rt);
    pthread_mutex_unlock(&g_clblast_lock);
    if (rc != CLBlastSuccess)
        return tc_fail(err, TERRACL_ERR_GEMM, "CLBlastOverrideParameters(%s) failed: %s (%d)",
                       kernel, clblast_status_name(rc), (int)rc);
    return TERRACL_OK;
}

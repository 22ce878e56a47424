/* Runtime lifetime, device buffers and logging. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cl_internal.h"
#include "runtime/profile.h"

static void pool_drain(terracl_runtime *rt);

static pthread_mutex_t g_create_lock = PTHREAD_MUTEX_INITIALIZER;

static void default_cache_dir(char *dst, size_t cap)
{
    const char *env = getenv("TERRACL_CACHE_DIR");
    if (env != NULL) {
        snprintf(dst, cap, "%s", env);
        return;
    }
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg != NULL && *xdg != '\0') {
        snprintf(dst, cap, "%s/terracl", xdg);
        return;
    }
    const char *home = getenv("HOME");
    if (home != NULL && *home != '\0')
        snprintf(dst, cap, "%s/.cache/terracl", home);
    else
        dst[0] = '\0';
}

terracl_status terracl_runtime_create(const struct terracl_runtime_params *params,
                                      terracl_runtime **out, terracl_error *err)
{
    if (out == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_runtime_create: out is NULL");
    *out = NULL;
    struct terracl_runtime_params defaults = {0};
    if (params == NULL)
        params = &defaults;

    const char *selector = params->device ? params->device : getenv("TERRACL_DEVICE");
    size_t index = 0;
    terracl_status st = terracl_device_select(selector, &index, err);
    if (st != TERRACL_OK)
        return st;

    terracl_runtime *rt = calloc(1, sizeof *rt);
    if (rt == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory creating the runtime");
    rt->log = params->log;
    rt->log_user = params->log_user;
    if (params->cache_dir != NULL)
        snprintf(rt->cache_dir, sizeof rt->cache_dir, "%s", params->cache_dir);
    else
        default_cache_dir(rt->cache_dir, sizeof rt->cache_dir);
    const char *kdir = params->kernel_dir ? params->kernel_dir : getenv("TERRACL_KERNEL_DIR");
    if (kdir != NULL)
        snprintf(rt->kernel_dir, sizeof rt->kernel_dir, "%s", kdir);

    st = tc_device_lookup(index, &rt->platform, &rt->device, &rt->info, err);
    if (st != TERRACL_OK)
        goto fail;

    cl_int rc = CL_SUCCESS;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)rt->platform, 0};
    const cl_command_queue_properties queue_props =
        params->profile ? CL_QUEUE_PROFILING_ENABLE : 0;
    /* Drivers set a device up on its first context; creation is rare, so
     * it is serialised for every runtime rather than trusted to each
     * driver's own locking. */
    pthread_mutex_lock(&g_create_lock);
    rt->context = clCreateContext(props, 1, &rt->device, NULL, NULL, &rc);
    if (rc != CL_SUCCESS) {
        pthread_mutex_unlock(&g_create_lock);
        st = tc_cl_fail(err, "clCreateContext", rc);
        goto fail;
    }
    rt->queue = clCreateCommandQueue(rt->context, rt->device, queue_props, &rc);
    pthread_mutex_unlock(&g_create_lock);
    if (rc != CL_SUCCESS) {
        st = tc_cl_fail(err, "clCreateCommandQueue", rc);
        goto fail;
    }
    tc_runtime_probe_loop_limit(rt);
    if (params->profile && (st = tc_profile_create(rt, err)) != TERRACL_OK)
        goto fail;
    size_t wg = 0;
    if (clGetDeviceInfo(rt->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL) !=
            CL_SUCCESS ||
        wg == 0)
        wg = 64;
    rt->max_workgroup = wg;
    /* GPUs schedule in warps/wavefronts of 32 or 64; PoCL vectorises across
     * work-items, so 16 lanes fill AVX-512. */
    rt->simd_width = strcmp(rt->info.type, "gpu") == 0 ? 32 : 16;
    rt->gemm_table = tc_gemm_table_load(rt);
    if (rt->gemm_table == NULL) {
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    if (rt->simd_width > rt->max_workgroup)
        rt->simd_width = rt->max_workgroup;
    *out = rt;
    return TERRACL_OK;

fail:
    terracl_runtime_destroy(rt);
    return st;
}

void terracl_runtime_destroy(terracl_runtime *rt)
{
    if (rt == NULL)
        return;
    if (rt->queue)
        clFinish(rt->queue);
    tc_profile_destroy(rt);
    tc_programs_release(rt);
    pool_drain(rt);
    tc_gemm_table_free(rt->gemm_table);
    if (rt->queue)
        clReleaseCommandQueue(rt->queue);
    if (rt->context)
        clReleaseContext(rt->context);
    free(rt);
}

const struct terracl_device_info *terracl_runtime_device(const terracl_runtime *rt)
{
    return rt ? &rt->info : NULL;
}

terracl_status terracl_runtime_finish(terracl_runtime *rt, terracl_error *err)
{
    if (rt == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_runtime_finish: runtime is NULL");
    cl_int rc = clFinish(rt->queue);
    return rc == CL_SUCCESS ? TERRACL_OK : tc_cl_fail(err, "clFinish", rc);
}

void terracl_runtime_memory(const terracl_runtime *rt, uint64_t *current, uint64_t *peak)
{
    if (current)
        *current = rt ? rt->mem_current : 0;
    if (peak)
        *peak = rt ? rt->mem_peak : 0;
}

uint64_t terracl_runtime_flops(const terracl_runtime *rt) { return rt ? rt->flops : 0; }
void tc_runtime_count_flops(terracl_runtime *rt, uint64_t flops) { rt->flops += flops; }

void terracl_runtime_reset_peak(terracl_runtime *rt)
{
    if (rt)
        rt->mem_peak = rt->mem_current;
}

size_t tc_runtime_simd_width(const terracl_runtime *rt) { return rt->simd_width; }
size_t tc_runtime_max_workgroup(const terracl_runtime *rt) { return rt->max_workgroup; }
int tc_runtime_is_cpu(const terracl_runtime *rt) { return strcmp(rt->info.type, "cpu") == 0; }
const char *tc_runtime_cache_dir(const terracl_runtime *rt) { return rt->cache_dir; }

void tc_runtime_log(const terracl_runtime *rt, enum terracl_log_level level, const char *fmt, ...)
{
    if (rt == NULL || rt->log == NULL)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rt->log(rt->log_user, level, msg);
}

/*
 * Freed buffers wait in a pool of at most TC_POOL_SLOTS buffers and
 * TC_POOL_BUDGET bytes and serve the next request they fit (at most a
 * quarter larger): a forward pass frees each activation after its last use
 * and the next layer, or the next run, asks for the same sizes again, so
 * activations reuse a fixed working set instead of going back to the
 * driver, which costs on GPUs and, on CPU drivers, hands out fresh pages
 * that fault on first touch (a ResNet-50 + Unet at 512 took 51 000 faults
 * per run when every miss emptied the pool). A buffer that would overflow
 * the pool evicts the oldest ones first; pooled buffers count as allocated
 * in the memory figures. The queue is in order, so a buffer handed out
 * again is only written after the kernels queued on it before.
 */
#define TC_POOL_BUDGET ((size_t)512 << 20)

static void release_buf(struct tc_buf *b)
{
    b->rt->mem_current -= b->capacity;
    clReleaseMemObject(b->mem);
    free(b);
}

static void pool_drain(terracl_runtime *rt)
{
    for (size_t i = 0; i < rt->npool; i++)
        release_buf(rt->pool[i]);
    rt->npool = 0;
    rt->pool_bytes = 0;
}

/* Removes pool entry i, keeping the others oldest first. */
static struct tc_buf *pool_remove(terracl_runtime *rt, size_t i)
{
    struct tc_buf *b = rt->pool[i];
    memmove(&rt->pool[i], &rt->pool[i + 1], (rt->npool - i - 1) * sizeof rt->pool[0]);
    rt->npool--;
    rt->pool_bytes -= b->capacity;
    return b;
}

static struct tc_buf *pool_take(terracl_runtime *rt, size_t bytes)
{
    size_t best = rt->npool;
    for (size_t i = 0; i < rt->npool; i++) {
        size_t cap = rt->pool[i]->capacity;
        if (cap >= bytes && cap - bytes <= bytes / 4 &&
            (best == rt->npool || cap < rt->pool[best]->capacity))
            best = i;
    }
    if (best == rt->npool)
        return NULL;
    struct tc_buf *b = pool_remove(rt, best);
    b->size = bytes;
    return b;
}

terracl_status tc_buf_create(terracl_runtime *rt, size_t bytes, struct tc_buf **out,
                             terracl_error *err)
{
    *out = NULL;
    if (bytes == 0)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "device buffer of 0 bytes requested");
    if (bytes > rt->info.max_alloc_bytes)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY,
                       "device buffer of %zu bytes exceeds the device's largest allocation "
                       "(%llu bytes)",
                       bytes, (unsigned long long)rt->info.max_alloc_bytes);
    if ((*out = pool_take(rt, bytes)) != NULL)
        return TERRACL_OK;
    struct tc_buf *b = calloc(1, sizeof *b);
    if (b == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of host memory");
    cl_int rc = CL_SUCCESS;
    b->mem = clCreateBuffer(rt->context, CL_MEM_READ_WRITE, bytes, NULL, &rc);
    if (rc != CL_SUCCESS && rt->npool > 0) {
        /* The device may be short of memory: retry with the pool returned. */
        pool_drain(rt);
        b->mem = clCreateBuffer(rt->context, CL_MEM_READ_WRITE, bytes, NULL, &rc);
    }
    if (rc != CL_SUCCESS) {
        free(b);
        return tc_cl_fail(err, "clCreateBuffer", rc);
    }
    b->rt = rt;
    b->size = bytes;
    b->capacity = bytes;
    rt->mem_current += bytes;
    if (rt->mem_current > rt->mem_peak)
        rt->mem_peak = rt->mem_current;
    *out = b;
    return TERRACL_OK;
}

void tc_buf_destroy(struct tc_buf *buf)
{
    if (buf == NULL)
        return;
    terracl_runtime *rt = buf->rt;
    if (buf->capacity > TC_POOL_BUDGET) {
        release_buf(buf);
        return;
    }
    while (rt->npool > 0 &&
           (rt->npool == TC_POOL_SLOTS || rt->pool_bytes + buf->capacity > TC_POOL_BUDGET))
        release_buf(pool_remove(rt, 0));
    rt->pool[rt->npool++] = buf;
    rt->pool_bytes += buf->capacity;
}

size_t tc_buf_size(const struct tc_buf *buf) { return buf->size; }

static terracl_status check_range(const struct tc_buf *buf, size_t offset, size_t bytes,
                                  const char *what, terracl_error *err)
{
    size_t end;
    if (__builtin_add_overflow(offset, bytes, &end) || end > buf->size)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "%s of %zu bytes at offset %zu is outside a %zu-byte device buffer", what,
                       bytes, offset, buf->size);
    return TERRACL_OK;
}

terracl_status tc_buf_write(terracl_runtime *rt, struct tc_buf *buf, size_t offset,
                            const void *src, size_t bytes, terracl_error *err)
{
    terracl_status st = check_range(buf, offset, bytes, "write", err);
    if (st != TERRACL_OK || bytes == 0)
        return st;
    cl_int rc = clEnqueueWriteBuffer(rt->queue, buf->mem, CL_TRUE, offset, bytes, src, 0, NULL, NULL);
    return rc == CL_SUCCESS ? TERRACL_OK : tc_cl_fail(err, "clEnqueueWriteBuffer", rc);
}

terracl_status tc_buf_read(terracl_runtime *rt, const struct tc_buf *buf, size_t offset, void *dst,
                           size_t bytes, terracl_error *err)
{
    terracl_status st = check_range(buf, offset, bytes, "read", err);
    if (st != TERRACL_OK || bytes == 0)
        return st;
    cl_int rc = clEnqueueReadBuffer(rt->queue, buf->mem, CL_TRUE, offset, bytes, dst, 0, NULL, NULL);
    return rc == CL_SUCCESS ? TERRACL_OK : tc_cl_fail(err, "clEnqueueReadBuffer", rc);
}

terracl_status tc_buf_copy(terracl_runtime *rt, const struct tc_buf *src, size_t src_offset,
                           struct tc_buf *dst, size_t dst_offset, size_t bytes, terracl_error *err)
{
    terracl_status st = check_range(src, src_offset, bytes, "copy source", err);
    if (st == TERRACL_OK)
        st = check_range(dst, dst_offset, bytes, "copy destination", err);
    if (st != TERRACL_OK || bytes == 0)
        return st;
    cl_int rc = clEnqueueCopyBuffer(rt->queue, src->mem, dst->mem, src_offset, dst_offset, bytes,
                                    0, NULL, NULL);
    return rc == CL_SUCCESS ? TERRACL_OK : tc_cl_fail(err, "clEnqueueCopyBuffer", rc);
}

/*
 * What the runtime's own files share: the OpenCL headers and the layout of
 * the runtime object. Nothing outside src/runtime/ includes this file.
 */
#ifndef TC_RUNTIME_CL_INTERNAL_H
#define TC_RUNTIME_CL_INTERNAL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <pthread.h>

#include "runtime/gemm_params.h"
#include "runtime/runtime.h"

/* Name of an OpenCL error code, e.g. "CL_INVALID_VALUE". */
const char *tc_cl_error_name(cl_int code);

/* Fails with TERRACL_ERR_OPENCL naming the call and the error. */
terracl_status tc_cl_fail(terracl_error *err, const char *call, cl_int code);

/* Platform/device of a global device index, plus its info. */
terracl_status tc_device_lookup(size_t index, cl_platform_id *platform, cl_device_id *device,
                                struct terracl_device_info *info, terracl_error *err);

struct tc_program_entry; /* program.c's in-memory cache entries */
struct tc_profile;       /* profile.c: per-kernel device times */

#define TC_POOL_SLOTS 64

struct terracl_runtime {
    struct terracl_device_info info;
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    size_t simd_width;
    size_t max_workgroup;
    size_t loop_limit; /* loop passes a work-item gets (0: no limit seen) */
    char cache_dir[1024];
    char kernel_dir[1024];
    terracl_log_fn log;
    void *log_user;
    struct tc_program_entry *programs;
    uint64_t mem_current;
    uint64_t mem_peak;
    uint64_t flops; /* multiply-adds x 2 issued through the GEMM module */
    /* Freed device buffers kept for reuse (see runtime.c). */
    struct tc_buf *pool[TC_POOL_SLOTS]; /* oldest first */
    size_t npool;
    size_t pool_bytes; /* their capacity in all */
    struct tc_gemm_table *gemm_table;
    int gemm_forced;
    struct tc_gemm_set gemm_force_set;
    int native_forced;
    struct tc_native_params native_force;
    int gemm_recording;
    struct tc_gemm_shape gemm_recorded[64];
    size_t gemm_nrecorded;
    struct tc_profile *profile; /* NULL unless created with params.profile */
};

struct tc_buf {
    terracl_runtime *rt;
    cl_mem mem;
    size_t size;     /* bytes asked for: what bounds checks use */
    size_t capacity; /* bytes allocated (a reused buffer may be a little larger) */
};

void tc_programs_release(terracl_runtime *rt);
/* Measures rt->loop_limit (loop_limit.c); at creation, once the queue is up. */
void tc_runtime_probe_loop_limit(terracl_runtime *rt);

#endif /* TC_RUNTIME_CL_INTERNAL_H */

/*
 * terracl runtime: one OpenCL device with its context, queue, compiled
 * kernels and GEMM settings.
 *
 * Ownership: terracl_runtime_create returns a runtime the caller owns and
 * frees with terracl_runtime_destroy. Models borrow a runtime, which must
 * outlive them. A runtime is used by one thread at a time; two runtimes (on
 * the same or different devices) may be used from two threads at once.
 */
#ifndef TERRACL_RUNTIME_H
#define TERRACL_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "terracl/export.h"
#include "terracl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct terracl_runtime terracl_runtime;

enum terracl_log_level {
    TERRACL_LOG_DEBUG = 0,
    TERRACL_LOG_INFO = 1,
    TERRACL_LOG_WARN = 2,
};

/* Receives the library's diagnostics; the library itself never prints. */
typedef void (*terracl_log_fn)(void *user, enum terracl_log_level level, const char *message);

/* Zero-initialise and set what you need; zero/NULL fields mean "default". */
struct terracl_runtime_params {
    /* Device selector: an index from terracl_device_count, "cpu", "gpu",
     * "accelerator", or a substring of the device name; "SEL:K" is the
     * K-th device SEL matches, modulo their number. NULL: the
     * TERRACL_DEVICE environment variable, else the first GPU, else the
     * first device. */
    const char *device;
    /* Folder for compiled program binaries and tuned GEMM parameters. NULL:
     * TERRACL_CACHE_DIR, else $XDG_CACHE_HOME/terracl, else ~/.cache/terracl.
     * The empty string disables the on-disk cache. */
    const char *cache_dir;
    /* Load kernel sources from this folder instead of the embedded copies.
     * NULL: TERRACL_KERNEL_DIR, else embedded. */
    const char *kernel_dir;
    terracl_log_fn log;
    void *log_user;
    /* Non-zero: time every kernel on the device (OpenCL profiling events)
     * for terracl_runtime_profile. Costs a little per launch. */
    int profile;
};

struct terracl_device_info {
    size_t index;          /* global index over all platforms, as selectors use it */
    size_t platform_index;
    char platform_name[128];
    char platform_version[128];
    char name[256];
    char vendor[128];
    char type[16];         /* "cpu", "gpu", "accelerator", "other" */
    uint32_t compute_units;
    uint64_t global_mem_bytes;
    uint64_t max_alloc_bytes;
    int fp16;              /* cl_khr_fp16 */
    int fp64;              /* cl_khr_fp64 */
    char driver_version[128];
    char device_version[128];
};

/* Number of OpenCL devices over all platforms (0 when there is no platform). */
TERRACL_API terracl_status terracl_device_count(size_t *count, terracl_error *err);
/* Facts about device `index` (0 .. count-1). */
TERRACL_API terracl_status terracl_device_get_info(size_t index, struct terracl_device_info *info,
                                                   terracl_error *err);
/* Resolves a selector (see terracl_runtime_params.device) to a device index.
 * A selector that matches nothing is TERRACL_ERR_NO_DEVICE with the devices
 * found listed in the message. */
TERRACL_API terracl_status terracl_device_select(const char *selector, size_t *index,
                                                 terracl_error *err);

TERRACL_API terracl_status terracl_runtime_create(const struct terracl_runtime_params *params,
                                                  terracl_runtime **out, terracl_error *err);
/* NULL is a no-op. Waits for queued work, then frees everything. */
TERRACL_API void terracl_runtime_destroy(terracl_runtime *rt);
TERRACL_API const struct terracl_device_info *terracl_runtime_device(const terracl_runtime *rt);
/* Blocks until all queued work on the runtime's device has finished. */
TERRACL_API terracl_status terracl_runtime_finish(terracl_runtime *rt, terracl_error *err);
/* Device bytes allocated now and at most since creation (or the last reset). */
TERRACL_API void terracl_runtime_memory(const terracl_runtime *rt, uint64_t *current, uint64_t *peak);
TERRACL_API void terracl_runtime_reset_peak(terracl_runtime *rt);
/* Floating-point operations issued through GEMMs since creation (2 per
 * multiply-add); benchmarks take differences of it to report the work of a
 * run. Element-wise kernels are not counted. */
TERRACL_API uint64_t terracl_runtime_flops(const terracl_runtime *rt);

/* Device time per kernel, for runtimes created with params.profile. */
struct terracl_profile_row {
    char kernel[64];   /* OpenCL kernel name, or "clblast_sgemm" / "clblast_sgemm_batched" */
    char variant[96];  /* GEMM shape (MxNxK[xbatch]) or build options, possibly cut short */
    uint64_t launches;
    double device_ms;  /* sum of end - start over the launches */
    uint64_t flops;    /* arithmetic the launches did (0 for data movement) */
};
/* Waits for queued work and writes up to `capacity` rows, slowest first, for
 * everything launched since creation or the last reset; *count receives the
 * number of rows there are (more than capacity when rows were left out). */
TERRACL_API terracl_status terracl_runtime_profile(terracl_runtime *rt,
                                                   struct terracl_profile_row *rows,
                                                   size_t capacity, size_t *count,
                                                   terracl_error *err);
/* Device time per operation (Conv2d, ConvTranspose2d, ...), for runtimes
 * created with params.profile: kernel holds the operation, variant its
 * shape, launches the calls, device_ms the summed time of their kernels
 * and flops the arithmetic the model defines for them (a direct
 * convolution's, also where Winograd executes less), so flops / time is the
 * rate the model runs at. Operations that are one kernel or one GEMM are
 * in terracl_runtime_profile only. Same contract as terracl_runtime_profile. */
TERRACL_API terracl_status terracl_runtime_profile_ops(terracl_runtime *rt,
                                                       struct terracl_profile_row *rows,
                                                       size_t capacity, size_t *count,
                                                       terracl_error *err);
/* Forgets what was profiled so far (no-op without profiling). */
TERRACL_API void terracl_runtime_profile_reset(terracl_runtime *rt);

/*
 * Row-major single-precision GEMM on host arrays: C = alpha*op(A)*op(B) + beta*C
 * with op(X) = X or X^T. Copies to the device, runs the library's GEMM and
 * copies C back. For checks and benchmarks; models keep data on the device.
 */
TERRACL_API terracl_status terracl_sgemm_host(terracl_runtime *rt, int trans_a, int trans_b,
                                              size_t m, size_t n, size_t k, float alpha,
                                              const float *a, size_t lda, const float *b,
                                              size_t ldb, float beta, float *c, size_t ldc,
                                              terracl_error *err);

#ifdef __cplusplus
}
#endif
#endif /* TERRACL_RUNTIME_H */

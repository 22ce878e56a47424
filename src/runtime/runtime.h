/*
 * Internal device API for the rest of the library. It never exposes OpenCL
 * types: buffers and kernels are opaque, kernel arguments are tagged values.
 * Only src/runtime/ includes CL/cl.h and clblast_c.h.
 */
#ifndef TC_RUNTIME_RUNTIME_H
#define TC_RUNTIME_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "terracl/runtime.h"

struct tc_buf;    /* a device allocation, owned by whoever created it */
struct tc_kernel; /* a compiled kernel, owned by the runtime's cache */

/* Device buffers. Creating a zero-byte buffer is an error. */
TC_NODISCARD terracl_status tc_buf_create(terracl_runtime *rt, size_t bytes, struct tc_buf **out,
                                          terracl_error *err);
void tc_buf_destroy(struct tc_buf *buf); /* NULL is a no-op */
size_t tc_buf_size(const struct tc_buf *buf);
/* Blocking host <-> device copies of `bytes` at byte `offset`. */
TC_NODISCARD terracl_status tc_buf_write(terracl_runtime *rt, struct tc_buf *buf, size_t offset,
                                         const void *src, size_t bytes, terracl_error *err);
TC_NODISCARD terracl_status tc_buf_read(terracl_runtime *rt, const struct tc_buf *buf,
                                        size_t offset, void *dst, size_t bytes,
                                        terracl_error *err);
/* Device-side copy (enqueued, not blocking). */
TC_NODISCARD terracl_status tc_buf_copy(terracl_runtime *rt, const struct tc_buf *src,
                                        size_t src_offset, struct tc_buf *dst, size_t dst_offset,
                                        size_t bytes, terracl_error *err);

/*
 * Kernels come from cl_kernels/<program>.cl. `options` are extra build options
 * (e.g. "-DTC_TILE=16"), NULL for none. The runtime compiles each (program,
 * options) pair once, caches the binary on disk and the kernel in memory.
 */
TC_NODISCARD terracl_status tc_kernel_get(terracl_runtime *rt, const char *program,
                                          const char *kernel, const char *options,
                                          struct tc_kernel **out, terracl_error *err);

enum tc_karg_kind { TC_KARG_BUF, TC_KARG_INT, TC_KARG_UINT, TC_KARG_FLOAT, TC_KARG_LOCAL };
struct tc_karg {
    enum tc_karg_kind kind;
    union {
        const struct tc_buf *buf;
        int32_t i;
        uint32_t u;
        float f;
        size_t local_bytes;
    } v;
};
#define TC_KBUF(b) ((struct tc_karg){.kind = TC_KARG_BUF, .v.buf = (b)})
#define TC_KINT(x) ((struct tc_karg){.kind = TC_KARG_INT, .v.i = (int32_t)(x)})
#define TC_KUINT(x) ((struct tc_karg){.kind = TC_KARG_UINT, .v.u = (uint32_t)(x)})
#define TC_KFLOAT(x) ((struct tc_karg){.kind = TC_KARG_FLOAT, .v.f = (float)(x)})
#define TC_KLOCAL(n) ((struct tc_karg){.kind = TC_KARG_LOCAL, .v.local_bytes = (n)})

/* Enqueues a launch. `local` may be NULL (driver's choice). Global sizes are
 * rounded up to a multiple of local sizes by the caller's choice of local. */
TC_NODISCARD terracl_status tc_kernel_launch(terracl_runtime *rt, struct tc_kernel *kernel,
                                             int dims, const size_t *global, const size_t *local,
                                             const struct tc_karg *args, int nargs,
                                             terracl_error *err);
/* The same; `tag` names the launch in kernel profiles (a GEMM shape, say)
 * instead of the build options. */
TC_NODISCARD terracl_status tc_kernel_launch_tagged(terracl_runtime *rt, struct tc_kernel *kernel,
                                                    const char *tag, int dims,
                                                    const size_t *global, const size_t *local,
                                                    const struct tc_karg *args, int nargs,
                                                    terracl_error *err);

/* Adds work done by fused kernels to the count terracl_runtime_flops
 * reports (GEMMs count themselves). */
void tc_runtime_count_flops(terracl_runtime *rt, uint64_t flops);

/* Profiles by operation as well as by kernel: the launches between
 * tc_profile_op_begin and tc_profile_op_end are also filed under the
 * operation `op` with `shape` (free text), which is charged `flops`: the
 * arithmetic the model defines for it (a direct convolution's), whatever
 * its kernels execute (Winograd does less). A scope opened inside another
 * belongs to the outer one. Both are no-ops on an unprofiled runtime. */
void tc_profile_op_begin(terracl_runtime *rt, const char *op, const char *shape, uint64_t flops);
/* Whether rt profiles (callers skip formatting a shape otherwise). */
int tc_profile_active(const terracl_runtime *rt);
void tc_profile_op_end(terracl_runtime *rt);

/* Preferred work-group size multiple (SIMD width on CPUs, warp on GPUs). */
size_t tc_runtime_simd_width(const terracl_runtime *rt);
/* Loop passes one work-item gets before the driver ends its loops, silently
 * (Mesa's llvmpipe: 65535 in all), measured when the runtime was created;
 * 0 where loops run to the end. Kernels that loop long inside a work-item
 * split their launches to stay well under it. */
size_t tc_runtime_loop_limit(const terracl_runtime *rt);
/* The loop passes one work-item may make in a launch: half the limit, the
 * other half spare for the loops a kernel's estimate leaves out; SIZE_MAX
 * where loops run to the end. What the ops that split their work test. */
size_t tc_runtime_loop_budget(const terracl_runtime *rt);
size_t tc_runtime_max_workgroup(const terracl_runtime *rt);
int tc_runtime_is_cpu(const terracl_runtime *rt);

/* Sends a message to the user's log callback, if any. */
void tc_runtime_log(const terracl_runtime *rt, enum terracl_log_level level, const char *fmt, ...)
    TC_PRINTF(3, 4);

/* The cache folder in use ("" when disabled). */
const char *tc_runtime_cache_dir(const terracl_runtime *rt);

/*
 * GEMM on device buffers, row-major, C = alpha*op(A)*op(B) + beta*C.
 * Offsets and leading dimensions are in elements. The strided-batched form
 * repeats it `batch` times, advancing each matrix by its stride.
 */
struct tc_matrix {
    const struct tc_buf *buf;
    size_t offset;
    size_t ld;
};
TC_NODISCARD terracl_status tc_sgemm(terracl_runtime *rt, int trans_a, int trans_b, size_t m,
                                     size_t n, size_t k, float alpha, struct tc_matrix a,
                                     struct tc_matrix b, float beta, struct tc_matrix c,
                                     terracl_error *err);
/*
 * What may follow a GEMM inside its kernel: + bias[col] (bias of n floats)
 * and then exact GELU; or, with per_row, + bias[row] (m floats: a
 * convolution's output channels) and then ReLU when relu is set.
 * tc_sgemm_ex sets *done when it applied the epilogue; otherwise (GPUs,
 * CLBlast) the caller applies it with element-wise ops.
 */
struct tc_gemm_epilogue {
    const struct tc_buf *bias;
    size_t bias_offset;
    int gelu;
    int per_row, relu; /* per_row: bias[row]; relu only with per_row */
    /* C = act(A B + bias + C) (beta 1: a residual the caller left in C):
     * tc_sgemm_packed_a only. */
    int accumulate;
    /* C = silu(C) * (A W^T) (a SwiGLU gate over the C the other half of the
     * MLP wrote): tc_sgemm_packed only, without bias, beta 0. */
    int silu_gate;
};
TC_NODISCARD terracl_status tc_sgemm_ex(terracl_runtime *rt, int trans_a, int trans_b, size_t m,
                                        size_t n, size_t k, float alpha, struct tc_matrix a,
                                        struct tc_matrix b, float beta, struct tc_matrix c,
                                        const struct tc_gemm_epilogue *ep, int *done,
                                        terracl_error *err);
/*
 * Linear weights in a packed layout, for devices where terracl's own GEMM
 * kernels run (CPUs): a weight W [n, k] is stored as n/64 panels of k x 64
 * (columns of W^T), which the packed kernel streams sequentially.
 * tc_gemm_pack_wanted says whether this runtime would use a packed n x k
 * weight; tc_gemm_pack_weight reorders one on the host (out holds n*k
 * floats) and tc_gemm_unpack_weight undoes it; tc_sgemm_packed computes C = A W^T + beta*C with the epilogue
 * (NULL: none) for A [m, k] and the packed weight at packed_offset.
 */
int tc_gemm_pack_wanted(const terracl_runtime *rt, size_t n, size_t k);
void tc_gemm_pack_weight(const float *w, size_t n, size_t k, float *out);
void tc_gemm_unpack_weight(const float *packed, size_t n, size_t k, float *out);
/* `batch` products C_i = A_i W_i^T with packed weights W_i [n, k], the
 * operands of product i a_stride, p_stride and c_stride floats after
 * those of product 0 (the GEMMs of a Winograd convolution). */
TC_NODISCARD terracl_status tc_sgemm_packed_batched(terracl_runtime *rt, size_t m, size_t n,
                                                    size_t k, struct tc_matrix a, size_t a_stride,
                                                    const struct tc_buf *packed,
                                                    size_t packed_offset, size_t p_stride,
                                                    struct tc_matrix c, size_t c_stride,
                                                    size_t batch, terracl_error *err);
/* C [m, n] = W B (+ row bias, ReLU as ep says) for a packed weight W [m, k]
 * (packed by tc_gemm_pack_weight with n = m) at packed_offset and a plain
 * B [k, n]: a 1x1 convolution on a map whose pixels run along B's rows. */
TC_NODISCARD terracl_status tc_sgemm_packed_a(terracl_runtime *rt, size_t m, size_t n, size_t k,
                                              const struct tc_buf *packed, size_t packed_offset,
                                              struct tc_matrix b, struct tc_matrix c,
                                              const struct tc_gemm_epilogue *ep,
                                              terracl_error *err);
TC_NODISCARD terracl_status tc_sgemm_packed(terracl_runtime *rt, size_t m, size_t n, size_t k,
                                            struct tc_matrix a, const struct tc_buf *packed,
                                            size_t packed_offset, float beta, struct tc_matrix c,
                                            const struct tc_gemm_epilogue *ep, terracl_error *err);
TC_NODISCARD terracl_status tc_sgemm_strided_batched(terracl_runtime *rt, int trans_a,
                                                     int trans_b, size_t m, size_t n, size_t k,
                                                     float alpha, struct tc_matrix a,
                                                     size_t stride_a, struct tc_matrix b,
                                                     size_t stride_b, float beta,
                                                     struct tc_matrix c, size_t stride_c,
                                                     size_t batch, terracl_error *err);

/*
 * Tuned CLBlast parameters. `kernel` is a CLBlast kernel family ("Xgemm",
 * "XgemmDirect", "GemmRoutine"); names/values as CLBlast spells them. The set
 * is validated (e.g. GEMMK=1 with MWG != NWG is refused: wrong results in
 * CLBlast 1.5.3) and applies to every later GEMM on this runtime's device.
 */
TC_NODISCARD terracl_status tc_gemm_override(terracl_runtime *rt, const char *kernel,
                                             size_t count, const char *const *names,
                                             const size_t *values, terracl_error *err);

#endif /* TC_RUNTIME_RUNTIME_H */

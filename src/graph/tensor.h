/*
 * Device tensors: float32, row-major, up to 5 dimensions, a view into a
 * device buffer at an element offset. A tensor made by tc_tensor_alloc owns
 * its buffer; views made by hand or by tc_tensor_view borrow it.
 */
#ifndef TC_GRAPH_TENSOR_H
#define TC_GRAPH_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/runtime.h"

#define TC_MAX_DIMS 5

/* Layouts of tc_tensor.gemm_packed. TC_PACKED_TAPS: a Conv2d weight [N,
 * Cin, kh, kw] whose K runs over (ky, kx, ci), channels fastest, before
 * packing: the order in which the packed convolution kernel reads its
 * channels-last input. */
/* TC_DERIVED_ONLY: the buffer holds only the weight's derived form
 * (tc_param.derived_replaces); its own values are gone. TC_PACKED_KN: a
 * ConvTranspose2d weight [Cin, Cout, kh, kw], whose GEMM runs over K = Cin
 * with N = Cout kh kw, packed as the [N, K] weight it is the transpose of. */
enum tc_packing {
    TC_PLAIN = 0,
    TC_PACKED = 1,
    TC_PACKED_TAPS = 2,
    TC_DERIVED_ONLY = 3,
    TC_PACKED_KN = 4
};

struct tc_tensor {
    struct tc_buf *buf;
    size_t offset; /* in elements */
    int ndim;
    int64_t dims[TC_MAX_DIMS];
    int owns_buf;
    /* How the values are stored (enum tc_packing): plain, or a weight
     * [N, ...] used as [N, K] in the GEMM module's packed layout
     * (tc_gemm_pack_weight), readable only by tc_op_linear and
     * tc_op_conv2d; a packed tensor cannot be reshaped, and upload and
     * download convert from and to the plain layout. */
    int gemm_packed;
    /* has_derived: a weight's derived form (tc_param.derive) starts at
     * element derived_offset of buf. */
    int has_derived;
    size_t derived_offset;
};

size_t tc_tensor_numel(const struct tc_tensor *t);
/* "[2, 197, 768]" into buf (at least 96 bytes recommended). */
const char *tc_shape_str(int ndim, const int64_t *dims, char *buf, size_t cap);

/* Allocates a new buffer for the given shape (all dims > 0). */
TC_NODISCARD terracl_status tc_tensor_alloc(terracl_runtime *rt, int ndim, const int64_t *dims,
                                            struct tc_tensor *out, terracl_error *err);
void tc_tensor_free(struct tc_tensor *t); /* frees the buffer only if owned */

/* A borrowed view of the same data with another shape (same element count)
 * or at an element offset. */
TC_NODISCARD terracl_status tc_tensor_reshape(const struct tc_tensor *t, int ndim,
                                              const int64_t *dims, struct tc_tensor *out,
                                              terracl_error *err);

/* The packed form (t->gemm_packed) of t's plain values, into out (numel
 * floats); fails only when out of memory. */
TC_NODISCARD terracl_status tc_tensor_pack_host(const struct tc_tensor *t, const float *plain,
                                                float *out, terracl_error *err);

TC_NODISCARD terracl_status tc_tensor_upload(terracl_runtime *rt, struct tc_tensor *t,
                                             const float *host, terracl_error *err);
TC_NODISCARD terracl_status tc_tensor_download(terracl_runtime *rt, const struct tc_tensor *t,
                                               float *host, terracl_error *err);

/* Fails with TERRACL_ERR_OVERFLOW unless the element count fits the 32-bit
 * indices the kernels use. */
TC_NODISCARD terracl_status tc_check_u32(size_t n, const char *what, terracl_error *err);

#endif /* TC_GRAPH_TENSOR_H */

/* Device tensor helpers. */
#include "graph/tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"

size_t tc_tensor_numel(const struct tc_tensor *t)
{
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= (size_t)t->dims[i];
    return n;
}

const char *tc_shape_str(int ndim, const int64_t *dims, char *buf, size_t cap)
{
    size_t used = 0;
    int w = snprintf(buf, cap, "[");
    used = w > 0 ? (size_t)w : 0;
    for (int i = 0; i < ndim && used < cap; i++) {
        w = snprintf(buf + used, cap - used, "%s%lld", i ? ", " : "", (long long)dims[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (used < cap)
        snprintf(buf + used, cap - used, "]");
    return buf;
}

terracl_status tc_check_u32(size_t n, const char *what, terracl_error *err)
{
    if (n > UINT32_MAX)
        return tc_fail(err, TERRACL_ERR_OVERFLOW,
                       "%s has %zu elements; kernels index at most 2^32-1", what, n);
    return TERRACL_OK;
}

terracl_status tc_tensor_alloc(terracl_runtime *rt, int ndim, const int64_t *dims,
                               struct tc_tensor *out, terracl_error *err)
{
    memset(out, 0, sizeof *out);
    if (ndim < 1 || ndim > TC_MAX_DIMS)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "tensor rank %d outside 1..%d", ndim,
                       TC_MAX_DIMS);
    size_t n, bytes;
    if (!tc_shape_count(dims, ndim, &n) || tc_mul_overflow(n, sizeof(float), &bytes)) {
        char s[128];
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "tensor shape %s is too large",
                       tc_shape_str(ndim, dims, s, sizeof s));
    }
    for (int i = 0; i < ndim; i++)
        if (dims[i] <= 0) {
            char s[128];
            return tc_fail(err, TERRACL_ERR_SHAPE, "tensor shape %s has an empty dimension",
                           tc_shape_str(ndim, dims, s, sizeof s));
        }
    terracl_status st = tc_check_u32(n, "tensor", err);
    if (st != TERRACL_OK)
        return st;
    st = tc_buf_create(rt, bytes, &out->buf, err);
    if (st != TERRACL_OK)
        return st;
    out->ndim = ndim;
    memcpy(out->dims, dims, sizeof(int64_t) * (size_t)ndim);
    out->owns_buf = 1;
    return TERRACL_OK;
}

void tc_tensor_free(struct tc_tensor *t)
{
    if (t == NULL)
        return;
    if (t->owns_buf)
        tc_buf_destroy(t->buf);
    memset(t, 0, sizeof *t);
}

terracl_status tc_tensor_reshape(const struct tc_tensor *t, int ndim, const int64_t *dims,
                                 struct tc_tensor *out, terracl_error *err)
{
    size_t n;
    if (t->gemm_packed)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "a Linear weight in the packed GEMM layout cannot be viewed as another shape");
    if (ndim < 1 || ndim > TC_MAX_DIMS || !tc_shape_count(dims, ndim, &n) ||
        n != tc_tensor_numel(t)) {
        char a[128], b[128];
        return tc_fail(err, TERRACL_ERR_SHAPE, "cannot view tensor %s as %s",
                       tc_shape_str(t->ndim, t->dims, a, sizeof a),
                       tc_shape_str(ndim, dims, b, sizeof b));
    }
    struct tc_tensor v = *t;
    v.ndim = ndim;
    memcpy(v.dims, dims, sizeof(int64_t) * (size_t)ndim);
    v.owns_buf = 0;
    *out = v;
    return TERRACL_OK;
}

/* A packed weight's [N, K]: N is its first dimension, or (TC_PACKED_KN)
 * K is. */
static void packed_dims(const struct tc_tensor *t, size_t *n, size_t *k)
{
    size_t first = t->dims[0] > 0 ? (size_t)t->dims[0] : 1;
    if (t->gemm_packed == TC_PACKED_KN) {
        *k = first;
        *n = tc_tensor_numel(t) / first;
        return;
    }
    *n = first;
    *k = tc_tensor_numel(t) / *n;
}

/* [N, Cin, kh, kw] <-> [N, kh, kw, Cin] (to_taps: the first way). */
static void permute_taps(const struct tc_tensor *t, const float *in, float *out, int to_taps)
{
    size_t n = (size_t)t->dims[0], cin = (size_t)t->dims[1];
    size_t taps = (size_t)(t->dims[2] * t->dims[3]);
    for (size_t o = 0; o < n; o++)
        for (size_t c = 0; c < cin; c++)
            for (size_t k = 0; k < taps; k++) {
                size_t plain = (o * cin + c) * taps + k, tapped = (o * taps + k) * cin + c;
                if (to_taps)
                    out[tapped] = in[plain];
                else
                    out[plain] = in[tapped];
            }
}

/* [K, N] <-> [N, K] (to_nk: the first way). */
static void transpose_kn(size_t n, size_t k, const float *in, float *out, int to_nk)
{
    for (size_t p = 0; p < k; p++)
        for (size_t c = 0; c < n; c++) {
            if (to_nk)
                out[c * k + p] = in[p * n + c];
            else
                out[p * n + c] = in[c * k + p];
        }
}

/* Whether the plain layout is reordered into [N, K] before packing. */
static int reordered(const struct tc_tensor *t)
{
    return (t->gemm_packed == TC_PACKED_TAPS && t->ndim == 4) || t->gemm_packed == TC_PACKED_KN;
}

terracl_status tc_tensor_pack_host(const struct tc_tensor *t, const float *plain, float *out,
                                   terracl_error *err)
{
    size_t n, k;
    packed_dims(t, &n, &k);
    if (!reordered(t)) {
        tc_gemm_pack_weight(plain, n, k, out);
        return TERRACL_OK;
    }
    float *nk = malloc(n * k * sizeof *nk + 1);
    if (nk == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory packing a weight");
    if (t->gemm_packed == TC_PACKED_KN)
        transpose_kn(n, k, plain, nk, 1);
    else
        permute_taps(t, plain, nk, 1);
    tc_gemm_pack_weight(nk, n, k, out);
    free(nk);
    return TERRACL_OK;
}

/* The inverse of tc_tensor_pack_host. */
static terracl_status unpack_host(const struct tc_tensor *t, const float *packed, float *plain,
                                  terracl_error *err)
{
    size_t n, k;
    packed_dims(t, &n, &k);
    if (!reordered(t)) {
        tc_gemm_unpack_weight(packed, n, k, plain);
        return TERRACL_OK;
    }
    float *nk = malloc(n * k * sizeof *nk + 1);
    if (nk == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory unpacking a weight");
    tc_gemm_unpack_weight(packed, n, k, nk);
    if (t->gemm_packed == TC_PACKED_KN)
        transpose_kn(n, k, nk, plain, 0);
    else
        permute_taps(t, nk, plain, 0);
    free(nk);
    return TERRACL_OK;
}

static terracl_status derived_only(terracl_error *err)
{
    return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                   "the weight was replaced by its derived form when bound: its own values "
                   "are no longer on the device");
}

terracl_status tc_tensor_upload(terracl_runtime *rt, struct tc_tensor *t, const float *host,
                                terracl_error *err)
{
    size_t bytes = tc_tensor_numel(t) * sizeof(float);
    if (t->gemm_packed == TC_DERIVED_ONLY)
        return derived_only(err);
    if (!t->gemm_packed)
        return tc_buf_write(rt, t->buf, t->offset * sizeof(float), host, bytes, err);
    float *packed = malloc(bytes > 0 ? bytes : 1);
    if (packed == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory packing a weight");
    terracl_status st = tc_tensor_pack_host(t, host, packed, err);
    if (st == TERRACL_OK)
        st = tc_buf_write(rt, t->buf, t->offset * sizeof(float), packed, bytes, err);
    free(packed);
    return st;
}

terracl_status tc_tensor_download(terracl_runtime *rt, const struct tc_tensor *t, float *host,
                                  terracl_error *err)
{
    size_t bytes = tc_tensor_numel(t) * sizeof(float);
    if (t->gemm_packed == TC_DERIVED_ONLY)
        return derived_only(err);
    if (!t->gemm_packed)
        return tc_buf_read(rt, t->buf, t->offset * sizeof(float), host, bytes, err);
    float *packed = malloc(bytes > 0 ? bytes : 1);
    if (packed == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory unpacking a weight");
    terracl_status st = tc_buf_read(rt, t->buf, t->offset * sizeof(float), packed, bytes, err);
    if (st == TERRACL_OK)
        st = unpack_host(t, packed, host, err);
    free(packed);
    return st;
}

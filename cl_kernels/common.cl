/*
 * Helpers shared by every program: the runtime puts this file in front of
 * each kernel source of cl_kernels/ before building it (see src/runtime/program.c).
 */

/*
 * erf(x) as u P(u^2) / Q(u^2) with u = x clamped to [-3.92, 3.92] (beyond
 * it erf is +-1 in float), P and Q of degree 5 fitted by tools/fit_erf.py:
 * absolute error below 3.4e-7 in float32, the same as a float32 erfc built
 * on exp. Only multiply-adds, one division and a clamp, so it vectorises
 * and costs little next to a GEMM tile (PoCL runs the built-in erf scalar,
 * about ten times slower). Defined for float and the vector widths the
 * kernels use, with the exact GELU built on it.
 */
#define TC_DEFINE_ERF(T)                                                                   \
    static inline T __attribute__((overloadable)) tc_erf(T x)                              \
    {                                                                                      \
        T u = clamp(x, -3.92f, 3.92f);                                                     \
        T s = u * u;                                                                       \
        T p = fma(fma(fma(fma(fma(2.03471677e-06f, s, 0.000287480536f), s, 0.00386839709f), s, \
                          0.0530606993f),                                                  \
                      s, 0.192765728f),                                                    \
                  s, 1.12837899f);                                                         \
        T q = fma(fma(fma(fma(fma(3.80705133e-05f, s, 0.00118813117f), s, 0.0151724378f), s,   \
                          0.115085304f),                                                   \
                      s, 0.504165828f),                                                    \
                  s, 1.0f);                                                                \
        return u * p / q;                                                                  \
    }                                                                                      \
    /* Exact (erf) GELU, PyTorch's default: x/2 (1 + erf(x / sqrt 2)). */                      \
    static inline T __attribute__((overloadable)) tc_gelu_erf(T x)                             \
    {                                                                                      \
        return 0.5f * x * (1.0f + tc_erf(x * 0.70710678118654752f));                           \
    }
TC_DEFINE_ERF(float)
TC_DEFINE_ERF(float4)
TC_DEFINE_ERF(float8)
TC_DEFINE_ERF(float16)
#undef TC_DEFINE_ERF

/* Element `at` of `lanes` (<= 16) channel planes `plane` floats apart,
 * starting at p, as one vector: 0 in the lanes past `lanes`, and in every
 * lane when !inside (the pixel is padding; p[at] is not read then). The
 * convolutions' channels-last copy and Winograd's input transform. */
static inline float16 tc_gather_channels(__global const float *restrict p, size_t plane,
                                         size_t at, int inside, int lanes)
{
    float v[16];
    if (inside && lanes == 16) {
        /* Built in registers: 16 scalar stores into v and one vector load
         * back would stall on store-to-load forwarding. */
        __global const float *q = p + at;
        return (float16)(q[0], q[plane], q[2 * plane], q[3 * plane], q[4 * plane], q[5 * plane],
                         q[6 * plane], q[7 * plane], q[8 * plane], q[9 * plane], q[10 * plane],
                         q[11 * plane], q[12 * plane], q[13 * plane], q[14 * plane],
                         q[15 * plane]);
    } else {
        for (int l = 0; l < 16; l++)
            v[l] = inside && l < lanes ? p[l * plane + at] : 0.0f;
    }
    return vload16(0, v);
}

/* PyTorch's nearest_idx (F.interpolate, mode "nearest"): identity for equal
 * sizes, dst / 2 for exact doubling, else min(floor(dst * scale), in - 1)
 * with scale = in / out (or 1 / scale_factor) in float. */
static inline uint tc_nearest_src(uint dst, uint in, uint out, float scale)
{
    if (out == in)
        return dst;
    if (out == 2 * in)
        return dst >> 1;
    uint s = (uint)floor((float)dst * scale);
    return s < in - 1 ? s : in - 1;
}

/* A hint to bring the line holding *p into the cache before it is used
 * (write = 1: it is about to be written). PoCL compiles OpenCL's prefetch()
 * to nothing, so this takes clang's builtin where the runtime says the
 * driver turns it into prefetch instructions (TC_POCL: PoCL)
 * and is nothing elsewhere. */
#if defined(TC_POCL) && defined(__has_builtin)
#if __has_builtin(__builtin_prefetch)
#define TC_PREFETCH(p, write) __builtin_prefetch((const __global void *)(p), (write), 3)
/* The same for a line needed later, into L2 only (x86's prefetcht1): for
 * far-ahead requests that would otherwise push what the core is working
 * on out of L1. */
#define TC_PREFETCH_L2(p) __builtin_prefetch((const __global void *)(p), 0, 2)
#endif
#endif
#ifndef TC_PREFETCH
#define TC_PREFETCH(p, write) ((void)0)
#define TC_PREFETCH_L2(p) ((void)0)
#endif

/* vstore16(v, i, p) as one instruction. PoCL's vstore16 to an address not
 * known to be 64-byte aligned becomes three stores (16, 16 and 32 bytes:
 * every GEMM and convolution epilogue, every private row of scores); a
 * store through a float16 type aligned to its elements is one unaligned
 * 64-byte store. TC_STORE16 for __global pointers, TC_STORE16_PRIVATE for
 * private arrays. Where the driver is not PoCL (TC_POCL), plain vstore16. */
#if defined(TC_POCL)
typedef float16 __attribute__((aligned(4))) tc_float16_u;
#define TC_STORE16(v, i, p) (*(__global tc_float16_u *)((p) + 16 * (size_t)(i)) = (v))
#define TC_STORE16_PRIVATE(v, i, p) (*(tc_float16_u *)((p) + 16 * (size_t)(i)) = (v))
#else
#define TC_STORE16(v, i, p) vstore16((v), (i), (p))
#define TC_STORE16_PRIVATE(v, i, p) vstore16((v), (i), (p))
#endif

/* A work-item's share of the `floats` floats at `start` (the weight panels
 * its kernel's next strip will read), split by lines among the `parts`
 * work-items of its strip: *next is where its share starts, and the result
 * the share's lines (0: nothing to request). The kernels request one line
 * per step of their sums with TC_PREFETCH_L2. */
static inline int tc_strip_share(__global const float *start, size_t floats, int parts,
                                 int part, __global const float **next)
{
    const size_t lines = floats / 16, share = (lines + parts - 1) / parts;
    const size_t first = (size_t)part * share;
    *next = start + first * 16;
    return first < lines ? (int)min(share, lines - first) : 0;
}

/* Streaming stores: a float16 written around the caches (x86's
 * non-temporal stores, where the driver is PoCL on x86), for results too
 * large to stay in them whose lines would otherwise first be read in. p
 * must be 64-byte aligned. Such stores are weakly ordered, so a work-item
 * that made them ends with TC_STREAM_FENCE before the kernels after it can
 * read them. Elsewhere both are plain: TC_STORE16 and nothing. */
#if defined(TC_POCL) && defined(__has_builtin)
#if __has_builtin(__builtin_nontemporal_store) && __has_builtin(__builtin_ia32_sfence)
#define TC_STREAM_STORES 1
#define TC_STREAM_STORE16(v, p) __builtin_nontemporal_store((v), (__global float16 *)(p))
#define TC_STREAM_FENCE() __builtin_ia32_sfence()
#endif
#endif
#ifndef TC_STREAM_STORES
#define TC_STREAM_STORES 0
#define TC_STREAM_STORE16(v, p) TC_STORE16((v), 0, (p))
#define TC_STREAM_FENCE() ((void)0)
#endif

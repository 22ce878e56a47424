/*
 * Fused multi-head self-attention for CPU devices, on timm's packed qkv
 * [B, L, 3D] (columns [Q | K | V], heads of TC_HD contiguous inside each).
 *
 * Vectors are explicit (PoCL cannot vectorise across work-items through the
 * kernels' inner loops): one work-item owns TC_R query rows of one (batch,
 * head) and walks the keys in blocks of TC_KB = 2 x 16:
 *   scores  s[r][16] += q[r][d] * K^T[d][j..j+16]   (vectors along keys;
 *           K^T comes from tc_attention_kt, padded with zero keys)
 *   online softmax (running max, PyTorch's max subtraction, rescaling of
 *           the partial sums when the max grows)
 *   output  o[r][..] += p[r][j] * V[j][..]           (vectors along head_dim)
 * No barriers, no local memory. Build options: -DTC_HD=<head_dim>
 * -DTC_DV=<16, 8, 4 or 1 dividing TC_HD> -DTC_R=<rows per work-item>.
 */

#ifndef TC_HD
#error "attention.cl needs -DTC_HD=<head_dim>"
#endif
#ifndef TC_DV
#define TC_DV 1
#endif
#ifndef TC_R
#define TC_R 4
#endif
#define TC_ND (TC_HD / TC_DV)
#define TC_KB 32 /* keys per block; K^T rows are padded to a multiple of it */

#if TC_DV == 16
typedef float16 dvec;
#define DLOAD(i, p) vload16((i), (p))
#define DSTORE(v, i, p) TC_STORE16((v), (i), (p))
#elif TC_DV == 8
typedef float8 dvec;
#define DLOAD(i, p) vload8((i), (p))
#define DSTORE(v, i, p) vstore8((v), (i), (p))
#elif TC_DV == 4
typedef float4 dvec;
#define DLOAD(i, p) vload4((i), (p))
#define DSTORE(v, i, p) vstore4((v), (i), (p))
#elif TC_DV == 1
typedef float dvec;
#define DLOAD(i, p) ((p)[(i)])
#define DSTORE(v, i, p) ((p)[(i)] = (v))
#else
#error "TC_DV must be 16, 8, 4 or 1"
#endif

/* K^T[b][h][d][j] = K[b][j][h*TC_HD + d] for j < len, 0 for len <= j < lp.
 * One work-item moves 16 keys, 16 head dims at a time, through private
 * memory: rows of K come in as vectors and rows of K^T go out as vectors.
 * Global size (lp / 16, 1 .. TC_HD / 16, batch*heads); TC_HD % 16 == 0 (the
 * host uses tc_attention_kt1 otherwise). */
#if TC_HD % 16 == 0
__kernel void tc_attention_kt(__global const float *qkv, uint qkv_off, __global float *kt,
                              uint kt_off, uint len, uint lp, uint dim, uint heads)
{
    uint j0 = get_global_id(0) * 16, bh = get_global_id(2);
    if (j0 >= lp)
        return;
    uint b = bh / heads, h = bh - b * heads;
    /* Blocks of 16 head dims from this work-item's first, a stride of the
     * launch's dimension 1 apart (the host launches one: every block). */
    for (uint d0 = get_global_id(1) * 16; d0 < TC_HD; d0 += 16 * (uint)get_global_size(1)) {
        __global const float *src =
            qkv + qkv_off + (size_t)b * len * 3 * dim + dim + h * TC_HD + d0;
        float tile[16][16];
        for (uint j = 0; j < 16; j++) {
            float16 row =
                j0 + j < len ? vload16(0, src + (size_t)(j0 + j) * 3 * dim) : (float16)(0.0f);
            TC_STORE16_PRIVATE(row, 0, tile[j]);
        }
        __global float *dst = kt + kt_off + ((size_t)bh * TC_HD + d0) * lp + j0;
        for (uint d = 0; d < 16; d++) {
            float16 col = (float16)(tile[0][d], tile[1][d], tile[2][d], tile[3][d], tile[4][d],
                                    tile[5][d], tile[6][d], tile[7][d], tile[8][d], tile[9][d],
                                    tile[10][d], tile[11][d], tile[12][d], tile[13][d],
                                    tile[14][d], tile[15][d]);
            TC_STORE16(col, 0, dst + (size_t)d * lp);
        }
    }
}
#endif

/* The same one element per work-item, for any TC_HD. Global size
 * (lp, TC_HD, batch*heads). */
__kernel void tc_attention_kt1(__global const float *qkv, uint qkv_off, __global float *kt,
                               uint kt_off, uint len, uint lp, uint dim, uint heads)
{
    uint j = get_global_id(0), d = get_global_id(1), bh = get_global_id(2);
    if (j >= lp || d >= TC_HD)
        return;
    uint b = bh / heads, h = bh - b * heads;
    float v = 0.0f;
    if (j < len)
        v = qkv[qkv_off + ((size_t)b * len + j) * 3 * dim + dim + h * TC_HD + d];
    kt[kt_off + ((size_t)bh * TC_HD + d) * lp + j] = v;
}

static float hmax16(float16 v)
{
    float8 a = fmax(v.lo, v.hi);
    float4 b = fmax(a.lo, a.hi);
    float2 c = fmax(b.lo, b.hi);
    return fmax(c.x, c.y);
}

static float hsum16(float16 v)
{
    float8 a = v.lo + v.hi;
    float4 b = a.lo + a.hi;
    float2 c = b.lo + b.hi;
    return c.x + c.y;
}

/* The operands of the work-item holding query rows q0 .. q0 + TC_R - 1 of
 * head h of batch item b: its query rows (rows past the end repeat the
 * last one: computed, never stored), the head's first V row and its K^T. */
static inline void att_operands(__global const float *qkv, __global const float *kt, uint len,
                                uint lp, uint dim, uint heads, uint b, uint h, uint q0,
                                __global const float *qrow[TC_R], __global const float **vbase,
                                __global const float **ktb)
{
    const size_t ld = 3 * (size_t)dim;
    __global const float *qbase = qkv + (size_t)b * len * ld + h * TC_HD;
    #pragma unroll
    for (int r = 0; r < TC_R; r++)
        qrow[r] = qbase + (size_t)min(q0 + (uint)r, len - 1) * ld;
    *vbase = qbase + 2 * (size_t)dim;
    *ktb = kt + ((size_t)b * heads + h) * TC_HD * lp;
}

/* The scaled scores of the TC_R query rows against the keys j0 .. j0 + nk
 * - 1 of one block (nk <= TC_KB; kp = K^T at key j0): keys j0 .. j0 + 15
 * in a, the next 16 in c, padded keys at -inf. */
static inline void att_score_block(__global const float *const qrow[TC_R],
                                   __global const float *kp, uint lp, uint nk, float scale,
                                   float16 a[TC_R], float16 c[TC_R])
{
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    float16 s0[TC_R], s1[TC_R];
    #pragma unroll
    for (int r = 0; r < TC_R; r++)
        s0[r] = s1[r] = (float16)(0.0f);
    if (nk > 16) {
        for (int d = 0; d < TC_HD; d++, kp += lp) {
            float16 k0 = vload16(0, kp), k1 = vload16(1, kp);
            #pragma unroll
            for (int r = 0; r < TC_R; r++) {
                float qv = qrow[r][d];
                s0[r] = fma((float16)(qv), k0, s0[r]);
                s1[r] = fma((float16)(qv), k1, s1[r]);
            }
        }
    } else { /* a last block of at most 16 keys: the upper half is padding */
        for (int d = 0; d < TC_HD; d++, kp += lp) {
            float16 k0 = vload16(0, kp);
            #pragma unroll
            for (int r = 0; r < TC_R; r++)
                s0[r] = fma((float16)(qrow[r][d]), k0, s0[r]);
        }
    }
    #pragma unroll
    for (int r = 0; r < TC_R; r++) {
        a[r] = s0[r] * scale;
        c[r] = s1[r] * scale;
        if (nk < TC_KB) { /* padded keys take no weight */
            a[r] = select(a[r], (float16)(-INFINITY), lane >= (int)nk);
            c[r] = select(c[r], (float16)(-INFINITY), lane + 16 >= (int)nk);
        }
    }
}

/* o[r] += sum over the n keys from vp (rows ld apart) of p[r * pstride + j] V[j]. */
static inline void att_accumulate_pv(const float *p, uint pstride, __global const float *vp,
                                     size_t ld, uint n, dvec o[TC_R][TC_ND])
{
    for (uint jj = 0; jj < n; jj++, vp += ld) {
        dvec v[TC_ND];
        #pragma unroll
        for (int k = 0; k < TC_ND; k++)
            v[k] = DLOAD(k, vp);
        #pragma unroll
        for (int r = 0; r < TC_R; r++) {
            dvec pr = (dvec)(p[r * pstride + jj]);
            #pragma unroll
            for (int k = 0; k < TC_ND; k++)
                o[r][k] = fma(pr, v[k], o[r][k]);
        }
    }
}

/* The rows of O that exist (query q0 + r < len), each times inv[r]. */
static inline void att_store_rows(dvec o[TC_R][TC_ND], const float inv[TC_R],
                                  __global float *obase, uint dim, uint q0, uint len)
{
    #pragma unroll
    for (int r = 0; r < TC_R; r++) {
        dvec f = (dvec)(inv[r]);
        if (q0 + (uint)r < len) {
            #pragma unroll
            for (int n = 0; n < TC_ND; n++)
                DSTORE(o[r][n] * f, n, obase + (size_t)r * dim);
        }
    }
}

/* Global size (ceil(len / TC_R), heads, batch). kt holds this launch's
 * batch items from kt_off, [batch][heads][TC_HD][lp]. */
__kernel void tc_attention_fwd(__global const float *qkv, uint qkv_off, __global const float *kt,
                               uint kt_off, __global float *out, uint out_off, uint len, uint lp,
                               uint dim, uint heads, float scale)
{
    uint qb = get_global_id(0), h = get_global_id(1), b = get_global_id(2);
    uint q0 = qb * TC_R;
    if (q0 >= len || h >= heads)
        return;
    size_t ld = 3 * (size_t)dim;
    __global const float *qrow[TC_R], *vbase, *ktb;
    att_operands(qkv + qkv_off, kt + kt_off, len, lp, dim, heads, b, h, q0, qrow, &vbase, &ktb);

    dvec o[TC_R][TC_ND];
    float16 lsum[TC_R];
    float m[TC_R];
    #pragma unroll
    for (int r = 0; r < TC_R; r++) {
        #pragma unroll
        for (int n = 0; n < TC_ND; n++)
            o[r][n] = (dvec)(0.0f);
        lsum[r] = (float16)(0.0f);
        m[r] = -INFINITY;
    }
    float p[TC_R][TC_KB];

    for (uint j0 = 0; j0 < len; j0 += TC_KB) {
        uint nk = min((uint)TC_KB, len - j0);
        float16 sa[TC_R], sc[TC_R];
        att_score_block(qrow, ktb + j0, lp, nk, scale, sa, sc);
        #pragma unroll
        for (int r = 0; r < TC_R; r++) {
            float16 a = sa[r], c = sc[r];
            float mn = fmax(m[r], hmax16(fmax(a, c)));
            float alpha = exp(m[r] - mn); /* 0 on the first block */
            m[r] = mn;
            a = exp(a - mn);
            c = exp(c - mn);
            lsum[r] = lsum[r] * alpha + a + c;
            #pragma unroll
            for (int n = 0; n < TC_ND; n++)
                o[r][n] *= alpha;
            TC_STORE16_PRIVATE(a, 0, p[r]);
            TC_STORE16_PRIVATE(c, 1, p[r]);
        }
        att_accumulate_pv(&p[0][0], TC_KB, vbase + (size_t)j0 * ld, ld, nk, o);
    }

    float inv[TC_R];
    #pragma unroll
    for (int r = 0; r < TC_R; r++)
        inv[r] = 1.0f / hsum16(lsum[r]);
    att_store_rows(o, inv, out + out_off + ((size_t)b * len + q0) * dim + h * TC_HD, dim, q0,
                   len);
}

/* The same for sequences of up to TC_LMAX keys (padded), in two passes
 * over a private row of scores per query row: all the scores and their
 * running maximum first, then one exp per score against the row's
 * maximum (PyTorch's softmax arithmetic) and P V over the whole row. No
 * running rescaling of the partial sums and outputs between key blocks,
 * which in the one-pass kernel above costs as many instructions as the
 * scores themselves. Same launch and arguments as tc_attention_fwd. */
#define TC_LMAX 1056
__kernel void tc_attention_rows(__global const float *qkv, uint qkv_off,
                                __global const float *kt, uint kt_off, __global float *out,
                                uint out_off, uint len, uint lp, uint dim, uint heads,
                                float scale)
{
    uint qb = get_global_id(0), h = get_global_id(1), b = get_global_id(2);
    uint q0 = qb * TC_R;
    if (q0 >= len || h >= heads || lp > TC_LMAX)
        return;
    size_t ld = 3 * (size_t)dim;
    __global const float *qrow[TC_R], *vbase, *ktb;
    att_operands(qkv + qkv_off, kt + kt_off, len, lp, dim, heads, b, h, q0, qrow, &vbase, &ktb);

    /* Pass 1: scaled scores, padded keys at -inf, and each row's maximum. */
    float srow[TC_R][TC_LMAX];
    float16 mx[TC_R];
    #pragma unroll
    for (int r = 0; r < TC_R; r++)
        mx[r] = (float16)(-INFINITY);
    for (uint j0 = 0; j0 < len; j0 += TC_KB) {
        float16 a[TC_R], c[TC_R];
        att_score_block(qrow, ktb + j0, lp, min((uint)TC_KB, len - j0), scale, a, c);
        #pragma unroll
        for (int r = 0; r < TC_R; r++) {
            mx[r] = fmax(mx[r], fmax(a[r], c[r]));
            TC_STORE16_PRIVATE(a[r], 0, srow[r] + j0);
            TC_STORE16_PRIVATE(c[r], 0, srow[r] + j0 + 16);
        }
    }

    /* Pass 2: the row's probabilities, unnormalised, and their sum. */
    const uint nvec = (len + 15) / 16;
    float inv[TC_R];
    #pragma unroll
    for (int r = 0; r < TC_R; r++) {
        const float m = hmax16(mx[r]);
        float16 sum = (float16)(0.0f);
        for (uint v = 0; v < nvec; v++) {
            float16 e = exp(vload16(v, srow[r]) - m);
            TC_STORE16_PRIVATE(e, v, srow[r]);
            sum += e;
        }
        inv[r] = 1.0f / hsum16(sum);
    }

    /* Pass 3: O = P V over all the keys. */
    dvec o[TC_R][TC_ND];
    #pragma unroll
    for (int r = 0; r < TC_R; r++)
        #pragma unroll
        for (int n = 0; n < TC_ND; n++)
            o[r][n] = (dvec)(0.0f);
    att_accumulate_pv(&srow[0][0], TC_LMAX, vbase, ld, len, o);
    att_store_rows(o, inv, out + out_off + ((size_t)b * len + q0) * dim + h * TC_HD, dim, q0,
                   len);
}

/*
 * Row-major SGEMM for CPU OpenCL drivers (PoCL): C = alpha*op(A)*op(B) + beta*C.
 *
 * One work-item per work-group; it computes a register tile with explicit
 * float16 vectors (AVX-512 registers under PoCL) and no __local memory. A
 * work-item walks a strip of GEMM_PANEL tiles along N for one tile of rows,
 * so its rows of A stay in L1 while the strip of B stays in L2 across the
 * work-items that share it (consecutive group ids share the strip).
 *
 * Two kernels:
 *   tc_sgemm_nt  op(A) = A (K-contiguous rows), op(B) = B^T with B [N,K]
 *                (the PyTorch Linear weight): every dot product runs along
 *                contiguous K in both operands; GEMM_MR x GEMM_NR float16
 *                partial sums, folded by a shuffle tree at the end.
 *   tc_sgemm_nn  op(B) = B [K,N] (N-contiguous), A either way: one element
 *                of A broadcast against GEMM_NV float16 vectors of a row of B.
 *
 * Edges need no padding: out-of-range rows/columns are clamped to the last
 * valid one (computed twice, stored once); partial column vectors in the NN
 * kernel take a scalar path. Batches run along dimension 1 of the range.
 */

#ifndef GEMM_MR
#define GEMM_MR 3
#endif
#ifndef GEMM_NR
#define GEMM_NR 8 /* 4 or 8 */
#endif
#ifndef GEMM_NV
#define GEMM_NV 2
#endif
#ifndef GEMM_PANEL
#define GEMM_PANEL 8
#endif
/* Offsets and strides are in elements; the host keeps them below 2^32 and
 * sizes and leading dimensions below 2^31. */

/*
 * Epilogue of tc_sgemm_nt, fixed at build time (what follows a Linear
 * layer, done while the tile is still in registers):
 *   0  C = alpha*AB^T + beta*C
 *   1  ... + bias[j]
 *   2  gelu(... + bias[j])   (exact erf GELU)
 *   3  ... + bias[i]          (a per-row bias: a convolution's output
 *                              channels are the rows of its GEMM)
 *   4  relu(... + bias[i])
 * tc_sgemm_nn takes 0, 3 and 4.
 */
#ifndef GEMM_A_PACKED
#define GEMM_A_PACKED 0 /* 1: A is a packed weight (tc_sgemm_nn) */
#endif
#ifndef GEMM_NN_AHEAD
#define GEMM_NN_AHEAD 1 /* tc_sgemm_nn requests the next strip of B (see there) */
#endif
#ifndef GEMM_EPILOGUE
#define GEMM_EPILOGUE 0
#endif

/* The GELU of the epilogue works on whole row vectors (tc_rowv, defined
 * below with the tile width), with the shared erf of common.cl. */

static inline float tc_hsum16(float16 v)
{
    float8 a = v.lo + v.hi;
    float4 b = a.lo + a.hi;
    float2 c = b.lo + b.hi;
    return c.x + c.y;
}

/* Width of the panels of packed weights (tc_gemm_pack_weight). */
#define TC_PACK_W 64

/* Linear group id -> (row tile, first column tile, column tiles in strip). */
#define TC_GEMM_TILE_INDEX(tiles_m, tiles_n, tm, tn0, tcount)                                  \
    do {                                                                                       \
        int g_ = (int)get_global_id(0);                                                        \
        int strip_ = g_ / (tiles_m);                                                           \
        (tm) = g_ - strip_ * (tiles_m);                                                        \
        (tn0) = strip_ * GEMM_PANEL;                                                           \
        (tcount) = min(GEMM_PANEL, (tiles_n) - (tn0));                                         \
    } while (0)

/* Row pointers of a tile's GEMM_MR rows of A, `step` elements apart; rows
 * past the end repeat the last one (computed, never stored). */
#define TC_GEMM_ROWS_OF_A(arow, A, i0, M, step)                                                \
    do {                                                                                       \
        _Pragma("unroll") for (int i_ = 0; i_ < GEMM_MR; i_++)                                 \
            (arow)[i_] = (A) + (size_t)min((i0) + i_, (M) - 1) * (step);                      \
    } while (0)

#if GEMM_NR == 4
typedef float4 tc_rowv;
#define TC_VLOADR vload4
#define TC_VSTORER vstore4
#elif GEMM_NR == 8
typedef float8 tc_rowv;
#define TC_VLOADR vload8
#define TC_VSTORER vstore8
#else
#error "GEMM_NR must be 4 or 8"
#endif

#if GEMM_EPILOGUE == 2
#define TC_EPILOGUE_VEC(r) tc_gelu_erf(r)
#elif GEMM_EPILOGUE == 4
#define TC_EPILOGUE_VEC(r) fmax((r), 0.0f)
#else
#define TC_EPILOGUE_VEC(r) (r)
#endif
/* Epilogues 3 and 4 add one bias per row of C. */
#define TC_ROW_BIAS (GEMM_EPILOGUE == 3 || GEMM_EPILOGUE == 4)

/* Tree reductions of float16 partial sums: a pair of vectors holding 2^l
 * sums each (16 >> l lanes per sum) folds into one vector of 2^(l+1) sums. */
static inline float16 tc_fold1(float16 u, float16 v)
{
    return shuffle2(u, v, (uint16)(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23)) +
           shuffle2(u, v, (uint16)(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31));
}
static inline float16 tc_fold2(float16 u, float16 v)
{
    return shuffle2(u, v, (uint16)(0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27)) +
           shuffle2(u, v, (uint16)(4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31));
}
static inline float16 tc_fold3(float16 u, float16 v)
{
    return shuffle2(u, v, (uint16)(0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29)) +
           shuffle2(u, v, (uint16)(2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31));
}
/* GEMM_NR partial-sum vectors -> one vector of GEMM_NR sums. */
static inline tc_rowv tc_reduce_row(const float16 *acc)
{
#if GEMM_NR == 4
    float16 w = tc_fold2(tc_fold1(acc[0], acc[1]), tc_fold1(acc[2], acc[3]));
    return w.s048c + w.s159d + w.s26ae + w.s37bf;
#else
    float16 w = tc_fold3(tc_fold2(tc_fold1(acc[0], acc[1]), tc_fold1(acc[2], acc[3])),
                         tc_fold2(tc_fold1(acc[4], acc[5]), tc_fold1(acc[6], acc[7])));
    return w.even + w.odd;
#endif
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_sgemm_nt(int M, int N, int K, float alpha, float beta,
                 __global const float *restrict A, uint a_off, int lda, uint a_stride,
                 __global const float *restrict B, uint b_off, int ldb, uint b_stride,
                 __global float *restrict C, uint c_off, int ldc, uint c_stride,
                 int tiles_m, int tiles_n, __global const float *restrict bias, uint bias_off)
{
    const ulong batch = get_global_id(1);
    A += a_off + batch * a_stride;
    B += b_off + batch * b_stride;
    C += c_off + batch * c_stride;
    bias += bias_off;
    int tm, tn0, tcount;
    TC_GEMM_TILE_INDEX(tiles_m, tiles_n, tm, tn0, tcount);
    const int i0 = tm * GEMM_MR;
    const int kv = K & ~15;

    __global const float *arow[GEMM_MR];
    TC_GEMM_ROWS_OF_A(arow, A, i0, M, lda);

    for (int t = 0; t < tcount; t++) {
        const int j0 = (tn0 + t) * GEMM_NR;
        __global const float *brow[GEMM_NR];
#pragma unroll
        for (int j = 0; j < GEMM_NR; j++)
            brow[j] = B + (size_t)min(j0 + j, N - 1) * ldb;

        float16 acc[GEMM_MR][GEMM_NR];
#pragma unroll
        for (int i = 0; i < GEMM_MR; i++)
#pragma unroll
            for (int j = 0; j < GEMM_NR; j++)
                acc[i][j] = (float16)(0.0f);

        for (int p = 0; p < kv; p += 16) {
            float16 av[GEMM_MR];
#pragma unroll
            for (int i = 0; i < GEMM_MR; i++)
                av[i] = vload16(0, arow[i] + p);
#pragma unroll
            for (int j = 0; j < GEMM_NR; j++) {
                float16 bv = vload16(0, brow[j] + p);
#pragma unroll
                for (int i = 0; i < GEMM_MR; i++)
                    acc[i][j] = fma(av[i], bv, acc[i][j]);
            }
        }

        tc_rowv sum[GEMM_MR];
#pragma unroll
        for (int i = 0; i < GEMM_MR; i++)
            sum[i] = tc_reduce_row(acc[i]);
        for (int p = kv; p < K; p++) {
            float bt[GEMM_NR];
#pragma unroll
            for (int j = 0; j < GEMM_NR; j++)
                bt[j] = brow[j][p];
            tc_rowv bv = TC_VLOADR(0, bt);
#pragma unroll
            for (int i = 0; i < GEMM_MR; i++)
                sum[i] = fma((tc_rowv)(arow[i][p]), bv, sum[i]);
        }

        const int full_n = j0 + GEMM_NR <= N;
#pragma unroll
        for (int i = 0; i < GEMM_MR; i++) {
            if (i0 + i < M) {
                __global float *crow = C + (size_t)(i0 + i) * ldc + j0;
                tc_rowv r = alpha * sum[i];
                if (full_n) {
                    if (beta != 0.0f)
                        r = fma((tc_rowv)(beta), TC_VLOADR(0, crow), r);
#if TC_ROW_BIAS
                    r = TC_EPILOGUE_VEC(r + bias[i0 + i]);
#elif GEMM_EPILOGUE != 0
                    r = TC_EPILOGUE_VEC(r + TC_VLOADR(0, bias + j0));
#endif
                    TC_VSTORER(r, 0, crow);
                } else {
                    /* A partial tile: finish it as a whole vector with the
                     * missing columns padded, store the valid ones. */
                    float rs[GEMM_NR], cs[GEMM_NR], bs[GEMM_NR];
                    for (int j = 0; j < GEMM_NR; j++) {
                        int jj = min(j, N - j0 - 1);
                        cs[j] = crow[jj];
                        bs[j] = GEMM_EPILOGUE != 0 ? bias[TC_ROW_BIAS ? i0 + i : j0 + jj] : 0.0f;
                    }
                    if (beta != 0.0f)
                        r = fma((tc_rowv)(beta), TC_VLOADR(0, cs), r);
#if GEMM_EPILOGUE != 0
                    r = TC_EPILOGUE_VEC(r + TC_VLOADR(0, bs));
#endif
                    TC_VSTORER(r, 0, rs);
                    for (int j = 0; j < N - j0; j++)
                        crow[j] = rs[j];
                }
            }
        }
    }
}

/* One tc_sgemm_nn tile: GEMM_MR rows of C by NV float16 vectors from
 * column j0 (all inside C), with the epilogue; its first `skip` columns
 * (0, or for the vector ending a row, those already stored) are left as
 * they are. */
#define TC_NN_TILE(NV, j0, skip)                                                               \
    do {                                                                                       \
        float16 acc[GEMM_MR][NV];                                                              \
        _Pragma("unroll") for (int i = 0; i < GEMM_MR; i++)                                    \
            _Pragma("unroll") for (int v = 0; v < (NV); v++) acc[i][v] = (float16)(0.0f);      \
        __global const float *bp = B + (j0);                                                   \
        /* With beta, C's tile (a residual written layers ago) requested  \
         * now, read in the epilogue (prefetching the lines only written    \
         * slowed the products down). */                                    \
        if (beta != 0.0f)                                                                      \
            _Pragma("unroll") for (int i = 0; i < GEMM_MR; i++)                                \
                _Pragma("unroll") for (int v = 0; v < (NV); v++)                               \
                    TC_PREFETCH(C + (size_t)min(i0 + i, M - 1) * ldc + (j0) + 16 * v, 0);      \
        for (int p = 0; p < K; p++, bp += ldb) {                                               \
            float16 bv[NV];                                                                    \
            if (ahead_left > 0) {                                                              \
                TC_PREFETCH_L2(B + (size_t)ahead_row * ldb + ahead_col);                       \
                ahead_left--;                                                                  \
                ahead_col += 16;                                                               \
                if (ahead_col >= ahead_end) {                                                  \
                    ahead_col = ahead_begin;                                                   \
                    ahead_row++;                                                               \
                }                                                                              \
            }                                                                                  \
            _Pragma("unroll") for (int v = 0; v < (NV); v++) bv[v] = vload16(v, bp);           \
            _Pragma("unroll") for (int i = 0; i < GEMM_MR; i++) {                              \
                float16 a = (float16)(arow[i][(size_t)p * a_cs]);                              \
                _Pragma("unroll") for (int v = 0; v < (NV); v++) acc[i][v] =                   \
                    fma(a, bv[v], acc[i][v]);                                                  \
            }                                                                                  \
        }                                                                                      \
        _Pragma("unroll") for (int i = 0; i < GEMM_MR; i++) {                                  \
            if (i0 + i < M) {                                                                  \
                __global float *crow = C + (size_t)(i0 + i) * ldc + (j0);                      \
                _Pragma("unroll") for (int v = 0; v < (NV); v++) {                             \
                    float16 r = alpha * acc[i][v];                                             \
                    if ((skip) == 0) {                                                         \
                        if (beta != 0.0f)                                                      \
                            r = fma((float16)(beta), vload16(v, crow), r);                     \
                        r = TC_NN_EPILOGUE(r, i0 + i);                                         \
                        TC_STORE16(r, v, crow);                                                  \
                    } else {                                                                   \
                        float lane[16];                                                        \
                        TC_STORE16_PRIVATE(r, 0, lane);                                        \
                        for (int l = (skip); l < 16; l++) {                                    \
                            float o = beta != 0.0f ? fma(beta, crow[l], lane[l]) : lane[l];    \
                            crow[l] = TC_NN_EPILOGUE(o, i0 + i);                               \
                        }                                                                      \
                    }                                                                          \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    } while (0)
#if TC_ROW_BIAS
#define TC_NN_EPILOGUE(r, row) TC_EPILOGUE_VEC((r) + bias[row])
#else
#define TC_NN_EPILOGUE(r, row) (r)
#endif

/* A(i, p) is A[i * a_rs + p * a_cs]: (lda, 1) plain, (1, lda) transposed. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_sgemm_nn(int M, int N, int K, float alpha, float beta,
                 __global const float *restrict A, uint a_off, int a_rs, int a_cs, uint a_stride,
                 __global const float *restrict B, uint b_off, int ldb, uint b_stride,
                 __global float *restrict C, uint c_off, int ldc, uint c_stride,
                 int tiles_m, int tiles_n, __global const float *restrict bias, uint bias_off)
{
    const ulong batch = get_global_id(1);
    A += a_off + batch * a_stride;
    B += b_off + batch * b_stride;
    C += c_off + batch * c_stride;
    bias += bias_off;
    int tm, tn0, tcount;
    TC_GEMM_TILE_INDEX(tiles_m, tiles_n, tm, tn0, tcount);
    const int i0 = tm * GEMM_MR;

    __global const float *arow[GEMM_MR];
#if GEMM_A_PACKED
    /* A is a packed weight (see tc_sgemm_packed): row r is column r % 64
     * of panel r / 64, its elements 64 floats apart (a_cs). A panel holds
     * a_rs of them, the weight's whole K: a product over one block of K
     * starts inside each panel (A's offset). */
#pragma unroll
    for (int i = 0; i < GEMM_MR; i++) {
        int r = min(i0 + i, M - 1);
        arow[i] = A + (size_t)(r / TC_PACK_W) * a_rs * TC_PACK_W + r % TC_PACK_W;
    }
#else
    TC_GEMM_ROWS_OF_A(arow, A, i0, M, a_rs);
#endif

    /* B is a convolution's input (K channel planes, N pixels each), often
     * written layers ago and cold (DeepLabV3+'s low-level branch reads
     * layer1's output after layer4), and a strip's first row tiles waited
     * on its lines while the strip had few row tiles to share them. Each
     * work-item requests its share of the next strip's block of B (K rows
     * of its columns, split by lines among this strip's row tiles) into
     * L2, one line per step of its sums, from where it walks row by row.
     * bench_ab, alternating in one process: smp DeepLabV3+ at 224 48 x
     * 3136 x 256 0.83-0.86 of the time, 64 x 3136 x 64 and x 256 0.91-1.00;
     * at 512 0.84-0.96 on its 1x1 layers from 256 channels and wall time
     * 0.987; M = 256 and more within 3% either way. */
    int ahead_left = 0, ahead_row = 0, ahead_col = 0, ahead_begin = 0, ahead_end = 0;
#if GEMM_NN_AHEAD
    {
        const int strip_cols = GEMM_PANEL * 16 * GEMM_NV;
        const int jn = (tn0 + GEMM_PANEL) * (16 * GEMM_NV);
        if (tiles_m >= 2 && jn < N) {
            /* Counted in long: K lines of up to 64 per row need not fit an int. */
            const int per_row = (min(strip_cols, N - jn) + 15) / 16;
            const long lines = (long)K * per_row, share = (lines + tiles_m - 1) / tiles_m;
            const long first = (long)tm * share;
            if (first < lines) {
                ahead_left = (int)min(min(share, lines - first), (long)INT_MAX);
                ahead_row = (int)(first / per_row);
                ahead_begin = jn;
                ahead_end = jn + 16 * per_row;
                ahead_col = jn + 16 * (int)(first - (long)ahead_row * per_row);
            }
        }
    }
#endif

    for (int t = 0; t < tcount; t++) {
        const int j0 = (tn0 + t) * (16 * GEMM_NV);
        if (j0 + 16 * GEMM_NV <= N) {
            TC_NN_TILE(GEMM_NV, j0, 0);
        } else {
            /* A partial strip of columns: its whole 16-column vectors one
             * at a time (the 16 last columns of a 28x28 map's 784), then
             * the vector of the row's last 16 columns, storing the ones
             * not stored yet (14x14's 196: 13 vectors, where single
             * columns took a third more time than the 192 others), or for
             * rows under 16 columns single columns. */
            int j = j0;
            for (; j + 16 <= N; j += 16)
                TC_NN_TILE(1, j, 0);
            if (j < N && N >= 16) {
                TC_NN_TILE(1, N - 16, j - (N - 16));
                j = N;
            }
            for (; j < N; j++) {
                float s[GEMM_MR];
#pragma unroll
                for (int i = 0; i < GEMM_MR; i++)
                    s[i] = 0.0f;
                for (int p = 0; p < K; p++) {
                    float b = B[(size_t)p * ldb + j];
#pragma unroll
                    for (int i = 0; i < GEMM_MR; i++)
                        s[i] = fma(arow[i][(size_t)p * a_cs], b, s[i]);
                }
#pragma unroll
                for (int i = 0; i < GEMM_MR; i++)
                    if (i0 + i < M) {
                        __global float *c = C + (size_t)(i0 + i) * ldc + j;
                        float r = beta == 0.0f ? alpha * s[i] : alpha * s[i] + beta * *c;
#if TC_ROW_BIAS
                        r = TC_EPILOGUE_VEC(r + bias[i0 + i]);
#endif
                        *c = r;
                    }
            }
        }
    }
}

/*
 * tc_sgemm_packed: C = A * W^T (+ beta*C, + bias, GELU as GEMM_EPILOGUE
 * says; 5: C = silu(C) * A W^T, the SwiGLU gate) for a Linear weight W [N, K]
 * stored panel-packed by the host (tc_gemm_pack_weight): panel q holds
 * columns q*64 .. q*64+63 of W^T as K rows of 64 contiguous floats, so the
 * tile below streams its B operand sequentially. A tile is GEMM_MR rows by
 * GEMM_PV float16 vectors of one panel (GEMM_PV 4: the whole panel; 2: one
 * half of it). Each step broadcasts one element of each of GEMM_MR rows of
 * A against the tile's GEMM_PV vectors of the panel: no horizontal sums,
 * unlike tc_sgemm_nt.
 * N is a multiple of 64 (the host packs only such weights). Dimension 1
 * of the launch indexes a batch of such products, a_stride, p_stride and
 * c_stride floats apart (Winograd's transformed tiles).
 */
#ifndef GEMM_PV
#define GEMM_PV 4
#endif
#ifndef GEMM_PF_TILES
#define GEMM_PF_TILES 8
#endif
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_sgemm_packed(int M, int N, int K, float beta,
                     __global const float *restrict A, uint a_off, int lda, uint a_stride,
                     __global const float *restrict P, uint p_off, uint p_stride,
                     __global float *restrict C, uint c_off, int ldc, uint c_stride,
                     int tiles_m, int tiles_n, __global const float *restrict bias, uint bias_off)
{
    const size_t batch = get_global_id(1);
    A += a_off + batch * a_stride;
    P += p_off + batch * p_stride;
    C += c_off + batch * c_stride;
    bias += bias_off;
    int tm, tn0, tcount;
    TC_GEMM_TILE_INDEX(tiles_m, tiles_n, tm, tn0, tcount);
    const int i0 = tm * GEMM_MR;

    __global const float *arow[GEMM_MR];
    TC_GEMM_ROWS_OF_A(arow, A, i0, M, lda);

    /* With 2 to GEMM_PF_TILES row tiles (Winograd's products over the tiles
     * of small maps: 16 x 512 x 512 on DeepLabV3+'s dilated 14x14 layers)
     * a strip's panels serve few tiles, so the first tile waits on them
     * from DRAM while the others compute from L2. Each work-item therefore
     * requests its share of the next strip's panels (the next product's
     * first strip after the last one) into L2, one line per step of its
     * sums: the strip after is mostly the same worker's next, and arrives
     * while this one computes. bench_ab, alternating in one process:
     * DeepLabV3+ at 224 16 x 512 x 512 x 36 0.72-0.83 of the time, 16 x 256
     * x 256 0.72-0.79; with one tile per strip (4 x 512 x 512, ResNet-50's
     * 7x7 layer4) it took 1.06x, so single tiles go without. */
    __global const float *next = P;
    int next_lines = 0;
#if GEMM_PV == 4
    if (tiles_m >= 2 && tiles_m <= GEMM_PF_TILES) {
        const int strip = tn0 / GEMM_PANEL, strips = (tiles_n + GEMM_PANEL - 1) / GEMM_PANEL;
        const size_t block = (size_t)GEMM_PANEL * K * TC_PACK_W; /* a strip's floats */
        const int more = strip + 1 < strips;
        if (more || get_global_id(1) + 1 < get_global_size(1)) {
            __global const float *start = more ? P + (size_t)(strip + 1) * block : P + p_stride;
            const size_t avail = more ? min(block, (size_t)N * K - (size_t)(strip + 1) * block)
                                      : min(block, (size_t)N * K);
            next_lines = tc_strip_share(start, avail, tiles_m, tm, &next);
        }
    }
#endif
    int requested = 0;

    for (int t = 0; t < tcount; t++) {
        const int tn = tn0 + t, j0 = tn * (16 * GEMM_PV);
        const int q = j0 / TC_PACK_W;
        __global const float *bp = P + (size_t)q * K * TC_PACK_W + (j0 - q * TC_PACK_W);
        float16 acc[GEMM_MR][GEMM_PV];
#pragma unroll
        for (int i = 0; i < GEMM_MR; i++)
#pragma unroll
            for (int v = 0; v < GEMM_PV; v++)
                acc[i][v] = (float16)(0.0f);
        for (int p = 0; p < K; p++, bp += TC_PACK_W) {
            float16 b[GEMM_PV];
            if (requested < next_lines)
                TC_PREFETCH_L2(next + (size_t)16 * requested++);
#pragma unroll
            for (int v = 0; v < GEMM_PV; v++)
                b[v] = vload16(v, bp);
#pragma unroll
            for (int i = 0; i < GEMM_MR; i++) {
                float16 a = (float16)(arow[i][p]);
#pragma unroll
                for (int v = 0; v < GEMM_PV; v++)
                    acc[i][v] = fma(a, b[v], acc[i][v]);
            }
        }
#pragma unroll
        for (int i = 0; i < GEMM_MR; i++) {
            if (i0 + i < M) {
                __global float *crow = C + (size_t)(i0 + i) * ldc + j0;
#pragma unroll
                for (int v = 0; v < GEMM_PV; v++) {
                    float16 r = acc[i][v];
                    if (beta != 0.0f)
                        r = fma((float16)(beta), vload16(v, crow), r);
#if GEMM_EPILOGUE == 1 || GEMM_EPILOGUE == 2
                    r += vload16(v, bias + j0);
#endif
#if GEMM_EPILOGUE == 2
                    r = tc_gelu_erf(r);
#endif
#if GEMM_EPILOGUE == 5 /* SwiGLU: C = silu(C) * (A W^T) */
                    const float16 gate = vload16(v, crow);
                    r *= gate / (1.0f + exp(-gate));
#endif
                    TC_STORE16(r, v, crow);
                }
            }
        }
    }
}

/*
 * tc_sgemm_packed_kb: the same product as tc_sgemm_packed, blocked along K
 * so that the streamed operand sits in L1: a work-item owns one panel q
 * and a run of row tiles; for each block of GEMM_KC rows of the panel
 * (GEMM_KC x 64 floats, 32 KiB at 128) it sweeps its row tiles, whose rows
 * of A come from L2 as broadcasts. Partial sums go through C between
 * blocks (one load and store of the tile per block, against GEMM_KC steps
 * of 4 GEMM_MR FMAs); the last block adds the epilogue.
 */
#ifndef GEMM_KC
#define GEMM_KC 128
#endif
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tc_sgemm_packed_kb(int M, int N, int K, float beta,
                        __global const float *restrict A, uint a_off, int lda,
                        __global const float *restrict P, uint p_off,
                        __global float *restrict C, uint c_off, int ldc,
                        int tiles_m, int tiles_n, int run, __global const float *restrict bias,
                        uint bias_off)
{
    A += a_off;
    P += p_off;
    C += c_off;
    bias += bias_off;
    const int g = (int)get_global_id(0);
    const int q = g % tiles_n, chunk = g / tiles_n;
    const int tm0 = chunk * run, tm1 = min(tm0 + run, tiles_m);
    const int j0 = q * TC_PACK_W;
    __global const float *panel = P + (size_t)q * K * TC_PACK_W;

    for (int kb = 0; kb < K || kb == 0; kb += GEMM_KC) {
        const int kend = min(kb + GEMM_KC, K), last = kend == K;
        for (int tm = tm0; tm < tm1; tm++) {
            const int i0 = tm * GEMM_MR;
            __global const float *arow[GEMM_MR];
            TC_GEMM_ROWS_OF_A(arow, A, i0, M, lda);
            float16 acc[GEMM_MR][4];
#pragma unroll
            for (int i = 0; i < GEMM_MR; i++) {
                /* Rows past M start from 0 and are never stored. */
                __global const float *crow = C + (size_t)min(i0 + i, M - 1) * ldc + j0;
                const float s = i0 + i >= M ? 0.0f : kb > 0 ? 1.0f : beta;
#pragma unroll
                for (int v = 0; v < 4; v++)
                    acc[i][v] = s == 0.0f ? (float16)(0.0f) : s * vload16(v, crow);
            }
            __global const float *bp = panel + (size_t)kb * TC_PACK_W;
            for (int p = kb; p < kend; p++, bp += TC_PACK_W) {
                float16 b0 = vload16(0, bp), b1 = vload16(1, bp), b2 = vload16(2, bp),
                        b3 = vload16(3, bp);
#pragma unroll
                for (int i = 0; i < GEMM_MR; i++) {
                    float16 a = (float16)(arow[i][p]);
                    acc[i][0] = fma(a, b0, acc[i][0]);
                    acc[i][1] = fma(a, b1, acc[i][1]);
                    acc[i][2] = fma(a, b2, acc[i][2]);
                    acc[i][3] = fma(a, b3, acc[i][3]);
                }
            }
#pragma unroll
            for (int i = 0; i < GEMM_MR; i++) {
                if (i0 + i < M) {
                    __global float *crow = C + (size_t)(i0 + i) * ldc + j0;
#pragma unroll
                    for (int v = 0; v < 4; v++) {
                        float16 r = acc[i][v];
#if GEMM_EPILOGUE >= 1
                        if (last)
                            r += vload16(v, bias + j0);
#endif
#if GEMM_EPILOGUE == 2
                        if (last)
                            r = tc_gelu_erf(r);
#endif
                        TC_STORE16(r, v, crow);
                    }
                }
            }
        }
    }
}

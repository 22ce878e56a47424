/*
 * Native SGEMM for CPU OpenCL drivers: picks a kernel of cl_kernels/gemm.cl,
 * checks the operands and launches one work-item per (row tile, strip of
 * column tiles), batches along dimension 1.
 *
 * Tile sizes were chosen on PoCL 3.1 with AVX-512 (2 cores) with
 * bench/gemm_micro.c: A*B^T 3x8 dot-product tiles in strips of 8 (6x4 for
 * K >= 2048); A*B 6x64 broadcast tiles, two per work-item (216-222 GFLOP/s
 * on 197..784-row shapes with N >= 1024, against 190-217 for the 8x32 tiles
 * used before, same runs). Measured there (best of 5): 205-213
 * GFLOP/s on the ViT-B Linear shapes (CLBlast with the shipped CPU set
 * 107-143, OpenBLAS 172-209 in the same run), 3-3.5x CLBlast on the
 * 197x197x64 / 197x64x197 attention products. Linear layers with packed
 * weights use tc_sgemm_packed (end of this file).
 */
#include "runtime/gemm_pocl.h"

#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cl_internal.h"
#include "runtime/profile.h"

/* A*B^T tiles: 3x8 in general; 6x4 when K is long (K >= 2048, the MLP
 * down-projection 768x3072): fewer B rows streamed per tile, measured
 * 188-204 vs 143-197 GFLOP/s at M = 197 and 589 (same run). */
#define NT_LONG_K 2048
#define NN_MR 6
#define NN_NV 4
#define NN_PANEL 2
/* A packed weight times a short sum (a 1x1 convolution from at most
 * NN_SHORT_K channels on a large map): 8 x 32 tiles. ConvNeXt-T UperNet's
 * lateral 96 -> 256 @56x56 at 224, alone (bench_conv, best of 40, twice):
 * 0.72 ms against 0.78-0.80 with 6 x 64 tiles, 0.80-0.81 against
 * 0.84-0.86 with the caches flushed; in the model (bench_ab, nine runs,
 * both orders) 0.92-0.98 of the time. The same layer at 512 (128x128)
 * and the 64-channel 1x1 layers of ResNet-50 came out even (within 2-3%,
 * either way). Eight rows are an eighth of a weight panel, so a tile's
 * broadcasts never straddle a line or a panel as 6-row tiles do, and its
 * block of the input is half as wide; which of the two the short sums
 * feel, and why only on a 56x56 map, is not established. */
#define NN_SHORT_K 96
/* Below NN_SHORT_PIXELS columns (the 1x1 convolutions from at most 256
 * channels that conv.c sends here on maps of 24x24 to 28x28) 8 x 32 tiles
 * up to NN_MID_K: 6 x 64 tiles took 1.13x the time of the packed
 * convolution kernel on 192 -> 256 @28x28 (bench_conv), whose 13 column
 * tiles split into strips of three, three, three, three and one. */
#define NN_SHORT_PIXELS 1024
#define NN_MID_K 256
#define NN_SHORT_MR 8
#define NN_SHORT_NV 2
#define STR_(x) #x
#define STR(x) STR_(x)
static const struct nt_tiles {
    size_t mr, nr, panel;
} k_nt_tiles[2] = {{3, 8, 8}, {6, 4, 8}};
/* Build options of the NT kernel per tile shape and epilogue (GEMM_EPILOGUE
 * 0 none, 1 + bias, 2 gelu(+ bias), 3 + row bias, 4 relu(+ row bias)). */
#define NT_OPTIONS(mr, nr, e) "-DGEMM_MR=" #mr " -DGEMM_NR=" #nr " -DGEMM_PANEL=8 -DGEMM_EPILOGUE=" #e
static const char *const k_nt_options[2][5] = {
    {NT_OPTIONS(3, 8, 0), NT_OPTIONS(3, 8, 1), NT_OPTIONS(3, 8, 2), NT_OPTIONS(3, 8, 3),
     NT_OPTIONS(3, 8, 4)},
    {NT_OPTIONS(6, 4, 0), NT_OPTIONS(6, 4, 1), NT_OPTIONS(6, 4, 2), NT_OPTIONS(6, 4, 3),
     NT_OPTIONS(6, 4, 4)}};
#define NN_OPTIONS(e)                                                                           \
    "-DGEMM_MR=" STR(NN_MR) " -DGEMM_NV=" STR(NN_NV) " -DGEMM_PANEL=" STR(NN_PANEL)            \
    " -DGEMM_EPILOGUE=" #e
static const char *const k_nn_options[5] = {NN_OPTIONS(0), NULL, NULL, NN_OPTIONS(3),
                                            NN_OPTIONS(4)};
/* The same with A a packed weight (tc_gemm_pack_weight layout). */
static const char *const k_nn_packed_a_options[5] = {
    NN_OPTIONS(0) " -DGEMM_A_PACKED=1", NULL, NULL, NN_OPTIONS(3) " -DGEMM_A_PACKED=1",
    NN_OPTIONS(4) " -DGEMM_A_PACKED=1"};
/* Width of the panels of packed weights (tc_gemm_pack_weight). */
#define PACK_W 64

enum gemm_mode { MODE_AUTO, MODE_CLBLAST, MODE_NATIVE };

static enum gemm_mode gemm_mode(void)
{
    const char *v = getenv("TERRACL_GEMM");
    if (v == NULL)
        return MODE_AUTO;
    if (strcmp(v, "clblast") == 0)
        return MODE_CLBLAST;
    if (strcmp(v, "native") == 0)
        return MODE_NATIVE;
    return MODE_AUTO;
}

/* Elements spanned by one matrix of `rows` x `cols` with leading dimension
 * ld, plus the batch; 0 on overflow (callers treat it as "too big"). */
static size_t span(size_t rows, size_t cols, size_t ld, size_t stride, size_t batch)
{
    if (rows == 0 || cols == 0)
        return 0;
    if ((rows - 1) > (SIZE_MAX - cols) / (ld ? ld : 1))
        return 0;
    size_t one = (rows - 1) * ld + cols;
    if (batch > 1 && (batch - 1) > (SIZE_MAX - one) / (stride ? stride : 1))
        return 0;
    return one + (batch - 1) * stride;
}

static int fits_kernel(size_t m, size_t n, size_t k, struct tc_matrix a, size_t stride_a,
                       struct tc_matrix b, size_t stride_b, struct tc_matrix c, size_t stride_c,
                       size_t batch)
{
    const size_t imax = INT_MAX, umax = UINT32_MAX;
    return m <= imax && n <= imax && k <= imax && a.ld <= imax && b.ld <= imax &&
           c.ld <= imax && a.offset <= umax && b.offset <= umax && c.offset <= umax &&
           stride_a <= umax && stride_b <= umax && stride_c <= umax && batch <= imax;
}

/* Whether this runtime runs terracl's own GEMM kernels at all. */
static int native_enabled(const terracl_runtime *rt)
{
    enum gemm_mode mode = gemm_mode();
    return mode == MODE_NATIVE || (mode == MODE_AUTO && tc_runtime_is_cpu(rt));
}

int tc_gemm_native_wanted(const terracl_runtime *rt, int trans_a, int trans_b, size_t m, size_t n,
                          size_t k, struct tc_matrix a, size_t stride_a, struct tc_matrix b,
                          size_t stride_b, struct tc_matrix c, size_t stride_c, size_t batch)
{
    if (!native_enabled(rt))
        return 0;
    if (trans_a && trans_b)
        return 0; /* no kernel for A^T B^T */
    return fits_kernel(m, n, k, a, stride_a, b, stride_b, c, stride_c, batch);
}

static terracl_status check_operand(const char *name, const struct tc_matrix *x, size_t rows,
                                    size_t cols, size_t stride, size_t batch, terracl_error *err)
{
    if (x->buf == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "GEMM: matrix %s has no buffer", name);
    if (x->ld < cols)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "GEMM: leading dimension of %s (%zu) below its %zu columns", name, x->ld,
                       cols);
    if (rows == 0 || cols == 0)
        return TERRACL_OK;
    size_t need = span(rows, cols, x->ld, stride, batch);
    size_t have = x->buf->size / sizeof(float);
    if (need == 0 || x->offset > have || need > have - x->offset)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "GEMM: matrix %s (%zu x %zu, ld %zu, offset %zu, %zu batches of stride "
                       "%zu) does not fit its buffer of %zu floats",
                       name, rows, cols, x->ld, x->offset, batch, stride, have);
    return TERRACL_OK;
}

/* The kernels' GEMM_EPILOGUE for `ep` (0 none, 1 bias, 2 bias + GELU, 3
 * row bias, 4 row bias + ReLU), after checking that the bias (n floats, or
 * m per row) fits its buffer. */
static terracl_status epilogue_kind(const struct tc_gemm_epilogue *ep, size_t m, size_t n,
                                    int *kind, terracl_error *err)
{
    *kind = 0;
    if (ep == NULL || ep->bias == NULL)
        return TERRACL_OK;
    if (ep->per_row ? ep->gelu : ep->relu)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "GEMM: GELU follows only a column bias, ReLU only a row bias");
    *kind = ep->per_row ? (ep->relu ? 4 : 3) : ep->gelu ? 2 : 1;
    size_t count = ep->per_row ? m : n;
    if (ep->bias_offset > UINT32_MAX || ep->bias_offset + count > ep->bias->size / sizeof(float))
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "GEMM: bias of %zu floats at offset %zu does not fit its buffer", count,
                       ep->bias_offset);
    return TERRACL_OK;
}

/* Column tiles per work-item of the NN and packed kernels for sums of k:
 * `least` (two), or for short sums enough that a work-item takes at least
 * the device's item_steps multiply-add steps (gemm_params.h), at most
 * MAX_TILES_PER_ITEM. PoCL's cost per work-item is fixed; a 1x1
 * convolution from 96 channels, or ConvNeXt's MLP from 96, does 2 x 96
 * steps per work-item in two tiles. Packed, ConvNeXt-T + UperNet
 * (bench_ab, both orders): 3136x384x96 +gelu 0.83x of the time at 224,
 * 16384x384x96 0.88x at 512, K = 192 within the noise (three tiles).
 * NN, on ConvNeXt-T's lateral 1x1 96->256 @56x56 (bench_conv --cold, best
 * of 20, two processes each): 157-159
 * GFLOP/s with two tiles, 182-183 with eight. In the models, one process,
 * runs alternating (bench_ab --a-native/--b-native, 12 rounds, both
 * orders), 512 steps against two tiles: that layer 0.94-0.96x of the time,
 * smp DeepLabV3+'s 1x1 layers from 64 channels 0.83-0.94x, those from 256
 * and 304 channels (three or two tiles) within 3%. Called again and again
 * on warm caches, as `terracl tune` times its candidates, the two tiles
 * were as fast or faster (1.36 against 1.46 ms on both 56x56 layers), so
 * the tuner leaves this value alone. Drivers that end loops early keep
 * two (k_block sizes the blocks of K for two). */
#define MAX_TILES_PER_ITEM 16
static size_t tiles_per_item(const terracl_runtime *rt, size_t k, size_t least)
{
    const size_t steps = tc_runtime_native_params(rt)->item_steps;
    if (steps == 0 || k == 0 || tc_runtime_loop_budget(rt) != SIZE_MAX)
        return least;
    const size_t p = (steps + k - 1) / k;
    return p < least ? least : p > MAX_TILES_PER_ITEM ? MAX_TILES_PER_ITEM : p;
}

/* tc_sgemm_native, or with packed_a the product W B of a packed weight W
 * [m, a.ld] at a.offset through the NN kernel (no transposes, one batch),
 * over its columns [k0, k0 + k). */
static terracl_status native_gemm(terracl_runtime *rt, int trans_a, int trans_b, size_t m,
                                  size_t n, size_t k, float alpha, struct tc_matrix a,
                                  size_t stride_a, struct tc_matrix b, size_t stride_b, float beta,
                                  struct tc_matrix c, size_t stride_c, size_t batch,
                                  const struct tc_gemm_epilogue *ep, int packed_a,
                                  size_t k0, terracl_error *err)
{
    if (m == 0 || n == 0 || batch == 0)
        return TERRACL_OK;
    if (trans_a && trans_b)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "native GEMM: no kernel for A^T B^T");
    if (!fits_kernel(m, n, k, a, stride_a, b, stride_b, c, stride_c, batch))
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "native GEMM: sizes, offsets or strides beyond the kernel's 32-bit range");
    terracl_status st;
    /* A packed weight spans m a.ld floats like the plain one, whichever
     * block of its columns the product covers; the kernel starts at the
     * block's first column inside the first panel. */
    const size_t a_first = a.offset + (packed_a ? k0 * PACK_W : 0);
    if (a_first > UINT32_MAX)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "native GEMM: offsets beyond the kernel's 32-bit range");
    if ((st = check_operand("A", &a, trans_a ? k : m, packed_a ? a.ld : trans_a ? m : k,
                            stride_a, batch, err)) ||
        (st = check_operand("B", &b, trans_b ? n : k, trans_b ? k : n, stride_b, batch, err)) ||
        (st = check_operand("C", &c, m, n, stride_c, batch, err)))
        return st;
    /* K = 0 needs nothing special: the kernels then read no A or B and
     * store beta*C. */

    const int nt = trans_b != 0; /* trans_a is 0 here */
    int epilogue = 0;
    if ((st = epilogue_kind(ep, m, n, &epilogue, err)))
        return st;
    if (!nt && k_nn_options[epilogue] == NULL)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "native GEMM: column-bias epilogues need op(B) = B^T");
    const int long_k = k >= NT_LONG_K;
    const struct nt_tiles *tt = &k_nt_tiles[long_k];
    const int short_k = !nt && packed_a && m % NN_SHORT_MR == 0 &&
                        (k <= NN_SHORT_K || (n < NN_SHORT_PIXELS && k <= NN_MID_K));
    size_t mr = nt ? tt->mr : short_k ? NN_SHORT_MR : NN_MR;
    const int nv = short_k ? NN_SHORT_NV : NN_NV;
    const size_t nr = nt ? tt->nr : 16 * (size_t)nv;
    const char *const *nn_options = packed_a ? k_nn_packed_a_options : k_nn_options;
    const char *options = nt ? k_nt_options[long_k][epilogue] : nn_options[epilogue];
    /* One to four rows (a 1x1 head's classes on a large map): tiles of
     * exactly those rows. The 6-row tile repeats the last row in the
     * others and does 1.5-6 times the arithmetic; with fewer rows each
     * step is two to four times fewer multiply-adds per vector of B read. */
    const size_t panel = nt ? tt->panel : tiles_per_item(rt, k, NN_PANEL);
    const int few_rows = !nt && m < NN_MR && m != 5;
    char nn_built[128];
    if (few_rows || short_k || (!nt && panel != NN_PANEL)) {
        if (few_rows)
            mr = m;
        snprintf(nn_built, sizeof nn_built,
                 "-DGEMM_MR=%zu -DGEMM_NV=%d -DGEMM_PANEL=%zu -DGEMM_EPILOGUE=%d%s", mr, nv,
                 panel, epilogue, packed_a ? " -DGEMM_A_PACKED=1" : "");
        options = nn_built;
    }
    size_t tiles_m = (m + mr - 1) / mr, tiles_n = (n + nr - 1) / nr;
    size_t strips = (tiles_n + panel - 1) / panel;
    if (tiles_m > INT_MAX || tiles_n > INT_MAX || tiles_m * strips > INT_MAX)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "native GEMM: too many tiles");

    struct tc_kernel *kern = NULL;
    st = tc_kernel_get(rt, "gemm", nt ? "tc_sgemm_nt" : "tc_sgemm_nn", options, &kern, err);
    if (st != TERRACL_OK)
        return st;

    struct tc_karg args[24];
    int na = 0;
    args[na++] = TC_KINT(m);
    args[na++] = TC_KINT(n);
    args[na++] = TC_KINT(k);
    args[na++] = TC_KFLOAT(alpha);
    args[na++] = TC_KFLOAT(beta);
    args[na++] = TC_KBUF(a.buf);
    args[na++] = TC_KUINT(a_first);
    if (nt) {
        args[na++] = TC_KINT(a.ld);
    } else {
        /* Step between rows of op(A) (unused for a packed A), along K. */
        args[na++] = TC_KINT(trans_a ? 1 : a.ld);
        args[na++] = TC_KINT(packed_a ? PACK_W : trans_a ? a.ld : 1);
    }
    args[na++] = TC_KUINT(stride_a);
    args[na++] = TC_KBUF(b.buf);
    args[na++] = TC_KUINT(b.offset);
    args[na++] = TC_KINT(b.ld);
    args[na++] = TC_KUINT(stride_b);
    args[na++] = TC_KBUF(c.buf);
    args[na++] = TC_KUINT(c.offset);
    args[na++] = TC_KINT(c.ld);
    args[na++] = TC_KUINT(stride_c);
    args[na++] = TC_KINT(tiles_m);
    args[na++] = TC_KINT(tiles_n);
    args[na++] = TC_KBUF(epilogue ? ep->bias : c.buf);
    args[na++] = TC_KUINT(epilogue ? ep->bias_offset : 0);
    const size_t global[2] = {tiles_m * strips, batch}, local[2] = {1, 1};
    char tag[96]; /* names the launch in kernel profiles */
    tc_profile_gemm_tag(tag, sizeof tag, m, n, k, batch, epilogue, beta);
    return tc_kernel_launch_tagged(rt, kern, tag, 2, global, local, args, na, err);
}

/* Loop passes a work-item makes per element of K, over a strip of tiles
 * (the tile loops count too where a driver keeps them as loops): an upper
 * bound for both kernels' tiles. */
#define PASSES_PER_K_AND_TILE 64

/* The longest sum one launch may take on a driver that ends a work-item's
 * loops early (tc_runtime_loop_budget); 0 for no bound. */
static size_t k_block(const terracl_runtime *rt, int nt)
{
    const size_t budget = tc_runtime_loop_budget(rt);
    if (budget == SIZE_MAX)
        return 0;
    const size_t panel = nt ? k_nt_tiles[0].panel : NN_PANEL;
    const size_t kb = budget / (PASSES_PER_K_AND_TILE * panel) / 16 * 16;
    return kb > 16 ? kb : 16;
}

terracl_status tc_sgemm_native(terracl_runtime *rt, int trans_a, int trans_b, size_t m, size_t n,
                               size_t k, float alpha, struct tc_matrix a, size_t stride_a,
                               struct tc_matrix b, size_t stride_b, float beta,
                               struct tc_matrix c, size_t stride_c, size_t batch,
                               const struct tc_gemm_epilogue *ep, terracl_error *err)
{
    const size_t kc = k_block(rt, trans_b != 0);
    if (kc == 0 || k <= kc)
        return native_gemm(rt, trans_a, trans_b, m, n, k, alpha, a, stride_a, b, stride_b, beta,
                           c, stride_c, batch, ep, 0, 0, err);
    /* Sums in blocks of kc, each adding to C and the last one applying the
     * epilogue: op(A)'s columns k0.. and op(B)'s rows k0.. of each block. */
    terracl_status st = TERRACL_OK;
    for (size_t k0 = 0; k0 < k && st == TERRACL_OK; k0 += kc) {
        const size_t kb = k - k0 < kc ? k - k0 : kc;
        struct tc_matrix ab = a, bb = b;
        ab.offset += trans_a ? k0 * a.ld : k0;
        bb.offset += trans_b ? k0 : k0 * b.ld;
        st = native_gemm(rt, trans_a, trans_b, m, n, kb, alpha, ab, stride_a, bb, stride_b,
                         k0 == 0 ? beta : 1.0f, c, stride_c, batch, k0 + kb == k ? ep : NULL, 0,
                         0, err);
    }
    return st;
}

terracl_status tc_sgemm_packed_a(terracl_runtime *rt, size_t m, size_t n, size_t k,
                                 const struct tc_buf *packed, size_t packed_offset,
                                 struct tc_matrix b, struct tc_matrix c,
                                 const struct tc_gemm_epilogue *ep, terracl_error *err)
{
    if (!tc_gemm_pack_wanted(rt, m, k))
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "packed GEMM: %zu x %zu weight not packable on this device", m, k);
    if (ep != NULL && ep->bias != NULL && !ep->per_row)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "packed GEMM: a packed A takes only a row-bias epilogue");
    const float beta = ep != NULL && ep->accumulate ? 1.0f : 0.0f;
    /* Long sums in blocks of nn_kc (gemm_params.h), each adding to C and
     * the last one applying the epilogue: a work-item's rows of the weight
     * and its strip of B then stay in L2 for the block. One process,
     * runs alternating (bench_ab both ways): smp DeepLabV3+ 512 5.4-8%
     * faster in all, its 1x1 2048->512 @32x32 10-24%, 2048->256 13-15%;
     * blocks of 256 were mixed and of 1024 gained less (bench_conv). */
    const size_t kc = tc_runtime_native_params(rt)->nn_kc;
    if (kc == 0 || k <= kc) {
        tc_runtime_count_flops(rt, 2ull * m * n * k);
        return native_gemm(rt, 0, 0, m, n, k, 1.0f, (struct tc_matrix){packed, packed_offset, k},
                           0, b, 0, beta, c, 0, 1, ep, 1, 0, err);
    }
    terracl_status st = TERRACL_OK;
    for (size_t k0 = 0; k0 < k && st == TERRACL_OK; k0 += kc) {
        const size_t kb = k - k0 < kc ? k - k0 : kc;
        const struct tc_matrix b_rows = {b.buf, b.offset + k0 * b.ld, b.ld};
        /* Counted per launch: the kernel profile credits each with its own. */
        tc_runtime_count_flops(rt, 2ull * m * n * kb);
        st = native_gemm(rt, 0, 0, m, n, kb, 1.0f, (struct tc_matrix){packed, packed_offset, k}, 0,
                         b_rows, 0, k0 == 0 ? beta : 1.0f, c, 0, 1, k0 + kb == k ? ep : NULL, 1,
                         k0, err);
    }
    return st;
}

/* Packed Linear weights: panels of PACK_W columns of W^T (see tc_sgemm_packed
 * in cl_kernels/gemm.cl), 6-row tiles, two panels per work-item: 215-224
 * GFLOP/s on the ViT-B Linear shapes where tc_sgemm_nt reaches 200-210 in
 * the same runs (bench/gemm_micro.c). PoCL compiles its inner loop to 24
 * FMAs, 4 vector loads and 6 broadcasts per step with no spills; per CPU
 * second it ran at 90-96% of an FMA loop timed beside it (a loaded
 * machine); 5- and 7-row tiles and strips of 1 or 4 panels came within a
 * few percent of it either way, 12x32 and 14x32 tiles 5-30% below it once
 * K >= 1024 (bench/gemm_micro.c -p). */
#define PACKED_OPTIONS "-DGEMM_MR=6 -DGEMM_PANEL=2 -DGEMM_EPILOGUE="
#define PACKED_MR 6
#define PACKED_SILU_GATE 5 /* GEMM_EPILOGUE of tc_sgemm_packed's SwiGLU gate */
#define PACKED_PANEL 2

int tc_gemm_pack_wanted(const terracl_runtime *rt, size_t n, size_t k)
{
    /* Not where loops end early: the kernels on packed weights (Linear,
     * convolutions, Winograd) sum each tile's whole K in one launch. */
    return native_enabled(rt) && tc_runtime_loop_limit(rt) == 0 && n > 0 && k > 0 && n % PACK_W == 0 && n <= INT_MAX && k <= INT_MAX &&
           n <= UINT32_MAX / k;
}

void tc_gemm_pack_weight(const float *w, size_t n, size_t k, float *out)
{
    for (size_t q = 0; q < n / PACK_W; q++)
        for (size_t c = 0; c < PACK_W; c++) {
            const float *src = w + (q * PACK_W + c) * k;
            float *dst = out + q * k * PACK_W + c;
            for (size_t p = 0; p < k; p++)
                dst[p * PACK_W] = src[p];
        }
}

void tc_gemm_unpack_weight(const float *packed, size_t n, size_t k, float *out)
{
    for (size_t q = 0; q < n / PACK_W; q++)
        for (size_t c = 0; c < PACK_W; c++) {
            const float *src = packed + q * k * PACK_W + c;
            float *dst = out + (q * PACK_W + c) * k;
            for (size_t p = 0; p < k; p++)
                dst[p] = src[p * PACK_W];
        }
}

/* Packed Linear weights, K-blocked (tc_sgemm_packed_kb) with K blocks of kc
 * rows (the device's native parameters): a work-item owns a panel and a run
 * of row tiles, split so that there are at least KB_MIN_ITEMS work-items. */
#define KB_MIN_ITEMS 32
static terracl_status packed_kb(terracl_runtime *rt, size_t m, size_t n, size_t k,
                                struct tc_matrix a, const struct tc_buf *packed,
                                size_t packed_offset, float beta, struct tc_matrix c,
                                const struct tc_gemm_epilogue *ep, int epilogue, size_t kc,
                                size_t tiles_m, size_t tiles_n, terracl_error *err)
{
    size_t chunks = (KB_MIN_ITEMS + tiles_n - 1) / tiles_n;
    if (chunks > tiles_m)
        chunks = tiles_m;
    size_t run = (tiles_m + chunks - 1) / chunks;
    chunks = (tiles_m + run - 1) / run;
    char options[80];
    snprintf(options, sizeof options, "-DGEMM_MR=6 -DGEMM_KC=%zu -DGEMM_EPILOGUE=%d", kc, epilogue);
    struct tc_kernel *kern = NULL;
    terracl_status st;
    if ((st = tc_kernel_get(rt, "gemm", "tc_sgemm_packed_kb", options, &kern, err)))
        return st;
    struct tc_karg args[] = {TC_KINT(m),
                             TC_KINT(n),
                             TC_KINT(k),
                             TC_KFLOAT(beta),
                             TC_KBUF(a.buf),
                             TC_KUINT(a.offset),
                             TC_KINT(a.ld),
                             TC_KBUF(packed),
                             TC_KUINT(packed_offset),
                             TC_KBUF(c.buf),
                             TC_KUINT(c.offset),
                             TC_KINT(c.ld),
                             TC_KINT(tiles_m),
                             TC_KINT(tiles_n),
                             TC_KINT(run),
                             TC_KBUF(epilogue ? ep->bias : c.buf),
                             TC_KUINT(epilogue ? ep->bias_offset : 0)};
    const size_t global[1] = {tiles_n * chunks}, local[1] = {1};
    char tag[96];
    tc_profile_gemm_tag(tag, sizeof tag, m, n, k, 1, epilogue, beta);
    tc_runtime_count_flops(rt, 2ull * m * n * k);
    return tc_kernel_launch_tagged(rt, kern, tag, 1, global, local, args,
                                   (int)(sizeof args / sizeof args[0]), err);
}

/* Rows of k floats (panel columns or rows of A) that the L2 share
 * strip_kib (gemm_params.h) holds; SIZE_MAX where no share is set. */
static size_t strip_rows(const terracl_runtime *rt, size_t k)
{
    const size_t budget = tc_runtime_native_params(rt)->strip_kib << 10;
    return budget == 0 || k == 0 ? SIZE_MAX : budget / (sizeof(float) * k);
}

/* Whether two panels of k rows alone fill the share: their rows of A
 * cannot stay beside them, so such sums take the K-blocked kernel in
 * blocks of LONG_STRIP_KC rows (32 KiB of a panel, which L1 holds) where
 * no packed_kc is set. On the Xeon the set was measured on (2 MiB), that
 * is ViT-L's fc2, 197 x 1024 x 4096: bench_linear, best of 5, 7.5-8.0 ms
 * against 9.4-10.0 (also 588 x 1024 x 4096 23.9 against 28.5); in Prithvi
 * v2 300M UperNet and burn_scars at 224 (bench_ab, both orders, 5 rounds)
 * the 24 products 0.78-0.87 of their time and the walls 0.87-0.95. ViT-B's
 * fc2 (K = 3072) gained alone (0.85-0.92) but not inside TerraMind (0.93
 * and 1.22), so it stays. */
#define LONG_STRIP_KC 128
static int long_strip(const terracl_runtime *rt, size_t k)
{
    return strip_rows(rt, k) <= PACKED_PANEL * PACK_W;
}

/* Panels of packed weights per work-item: tiles_per_item's, except that
 * few rows with long sums take one where two panels with all m rows of A
 * would overflow the share and one fits. */
static size_t packed_panels(const terracl_runtime *rt, size_t m, size_t k)
{
    const size_t panels = tiles_per_item(rt, k, PACKED_PANEL), rows = strip_rows(rt, k);
    if (rows == SIZE_MAX || panels != PACKED_PANEL || m > rows)
        return panels;
    const int two_fit = PACKED_PANEL * PACK_W <= rows - m, one_fits = PACK_W <= rows - m;
    return !two_fit && one_fits ? 1 : panels;
}

/* tc_sgemm_packed over `batch` products (strides in floats); only a
 * single product may take the K-blocked kernel. */
static terracl_status packed_gemm(terracl_runtime *rt, size_t m, size_t n, size_t k,
                                  struct tc_matrix a, size_t a_stride, const struct tc_buf *packed,
                                  size_t packed_offset, size_t p_stride, float beta,
                                  struct tc_matrix c, size_t c_stride, size_t batch,
                                  const struct tc_gemm_epilogue *ep, terracl_error *err)
{
    if (m == 0 || batch == 0)
        return TERRACL_OK;
    if (!tc_gemm_pack_wanted(rt, n, k))
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "packed GEMM: %zu x %zu weight not packable on this device", n, k);
    struct tc_matrix b = {packed, packed_offset, k};
    if (!fits_kernel(m, n, k, a, a_stride, b, p_stride, c, c_stride, batch))
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "packed GEMM: sizes or offsets beyond the kernel's 32-bit range");
    terracl_status st;
    if ((st = check_operand("A", &a, m, k, a_stride, batch, err)) ||
        (st = check_operand("packed B", &b, n, k, p_stride, batch, err)) ||
        (st = check_operand("C", &c, m, n, c_stride, batch, err)))
        return st;
    int epilogue = 0;
    if ((st = epilogue_kind(ep, m, n, &epilogue, err)))
        return st;
    if (epilogue > 2)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "packed GEMM: no row-bias epilogue");
    if (ep != NULL && ep->silu_gate) {
        if (epilogue != 0 || beta != 0.0f)
            return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                           "packed GEMM: the SwiGLU gate takes no bias and no beta");
        epilogue = PACKED_SILU_GATE;
    }
    const size_t tiles_n = n / PACK_W;
    size_t kc = tc_runtime_native_params(rt)->packed_kc;
    if (kc == 0 && long_strip(rt, k))
        kc = LONG_STRIP_KC;
    /* The K-blocked kernel keeps partial sums in C, where the gate reads;
     * its tiles have PACKED_MR rows. */
    if (kc != 0 && batch == 1 && epilogue != PACKED_SILU_GATE)
        return packed_kb(rt, m, n, k, a, packed, packed_offset, beta, c, ep, epilogue, kc,
                         (m + PACKED_MR - 1) / PACKED_MR, tiles_n, err);
    const size_t mr = tc_packed_row_tile(m), tiles_m = (m + mr - 1) / mr;
    const size_t panel = packed_panels(rt, m, k);
    size_t strips = (tiles_n + panel - 1) / panel;
    if (tiles_m > INT_MAX || tiles_m * strips > INT_MAX)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "packed GEMM: too many tiles");
    const int with_bias = epilogue == 1 || epilogue == 2;
    static const char *const options[PACKED_SILU_GATE + 1] = {
        PACKED_OPTIONS "0", PACKED_OPTIONS "1", PACKED_OPTIONS "2", NULL, NULL,
        PACKED_OPTIONS "5"};
    const char *opt = options[epilogue];
    char wide[96];
    if (panel != PACKED_PANEL || mr != PACKED_MR) {
        snprintf(wide, sizeof wide, "-DGEMM_MR=%zu -DGEMM_PANEL=%zu -DGEMM_EPILOGUE=%d", mr,
                 panel, epilogue);
        opt = wide;
    }
    struct tc_kernel *kern = NULL;
    if ((st = tc_kernel_get(rt, "gemm", "tc_sgemm_packed", opt, &kern, err)))
        return st;
    struct tc_karg args[] = {TC_KINT(m),
                             TC_KINT(n),
                             TC_KINT(k),
                             TC_KFLOAT(beta),
                             TC_KBUF(a.buf),
                             TC_KUINT(a.offset),
                             TC_KINT(a.ld),
                             TC_KUINT(a_stride),
                             TC_KBUF(packed),
                             TC_KUINT(packed_offset),
                             TC_KUINT(p_stride),
                             TC_KBUF(c.buf),
                             TC_KUINT(c.offset),
                             TC_KINT(c.ld),
                             TC_KUINT(c_stride),
                             TC_KINT(tiles_m),
                             TC_KINT(tiles_n),
                             TC_KBUF(with_bias ? ep->bias : c.buf),
                             TC_KUINT(with_bias ? ep->bias_offset : 0)};
    const size_t global[2] = {tiles_m * strips, batch}, local[2] = {1, 1};
    char tag[96];
    tc_profile_gemm_tag(tag, sizeof tag, m, n, k, batch, epilogue, beta);
    tc_runtime_count_flops(rt, 2ull * m * n * k * batch);
    return tc_kernel_launch_tagged(rt, kern, tag, 2, global, local, args,
                                   (int)(sizeof args / sizeof args[0]), err);
}

terracl_status tc_sgemm_packed(terracl_runtime *rt, size_t m, size_t n, size_t k,
                               struct tc_matrix a, const struct tc_buf *packed,
                               size_t packed_offset, float beta, struct tc_matrix c,
                               const struct tc_gemm_epilogue *ep, terracl_error *err)
{
    return packed_gemm(rt, m, n, k, a, 0, packed, packed_offset, 0, beta, c, 0, 1, ep, err);
}

terracl_status tc_sgemm_packed_batched(terracl_runtime *rt, size_t m, size_t n, size_t k,
                                       struct tc_matrix a, size_t a_stride,
                                       const struct tc_buf *packed, size_t packed_offset,
                                       size_t p_stride, struct tc_matrix c, size_t c_stride,
                                       size_t batch, terracl_error *err)
{
    return packed_gemm(rt, m, n, k, a, a_stride, packed, packed_offset, p_stride, 0.0f, c,
                       c_stride, batch, NULL, err);
}

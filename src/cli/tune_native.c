/*
 * terracl tune, second part: the parameters of terracl's own CPU kernels
 * (runtime/gemm_params.h, tc_native_params). Each candidate runs the
 * packed Linear products of a ViT-B block at the tuned token count, or one
 * decoder convolution, best of a few calls after a first one that
 * compiles; its results must match a plain C reference (the Linear
 * products) or the first candidate's (the convolution) before it may win.
 * Every candidate is timed in turn, then again in the same order, and the
 * best time of each counts: on a shared machine that keeps a burst of load
 * from deciding alone. The winner is stored beside the CLBlast sets.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "graph/tensor.h"
#include "ops/conv.h"
#include "runtime/gemm_params.h"

#define ROUNDS 3
#define REPS 3

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double rel_l2(const float *got, const float *want, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - (double)want[i];
        num += d * d;
        den += (double)want[i] * (double)want[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static void fill(float *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(((i + seed) * 2654435761u) % 1000) / 1000.0f - 0.5f;
}

/* One packed Linear product y = x W^T: device buffers and the reference. */
struct linear_case {
    size_t m, n, k;
    struct tc_tensor x, w, y;
    float *ref, *got;
};

static terracl_status linear_setup(terracl_runtime *rt, struct linear_case *c, terracl_error *err)
{
    size_t xs = c->m * c->k, ws = c->n * c->k, ys = c->m * c->n;
    float *x = malloc(xs * sizeof *x), *w = malloc(ws * sizeof *w), *packed = malloc(ws * sizeof *w);
    c->ref = malloc(ys * sizeof *c->ref);
    c->got = malloc(ys * sizeof *c->got);
    terracl_status st = TERRACL_OK;
    if (!x || !w || !packed || !c->ref || !c->got) {
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    fill(x, xs, 1);
    fill(w, ws, 2);
    for (size_t i = 0; i < c->m; i++)
        for (size_t j = 0; j < c->n; j++) {
            double acc = 0;
            for (size_t p = 0; p < c->k; p++)
                acc += (double)x[i * c->k + p] * w[j * c->k + p];
            c->ref[i * c->n + j] = (float)acc;
        }
    tc_gemm_pack_weight(w, c->n, c->k, packed);
    int64_t xd[1] = {(int64_t)xs}, wd[1] = {(int64_t)ws}, yd[1] = {(int64_t)ys};
    if ((st = tc_tensor_alloc(rt, 1, xd, &c->x, err)) || (st = tc_tensor_upload(rt, &c->x, x, err)) ||
        (st = tc_tensor_alloc(rt, 1, wd, &c->w, err)) ||
        (st = tc_tensor_upload(rt, &c->w, packed, err)) ||
        (st = tc_tensor_alloc(rt, 1, yd, &c->y, err)))
        goto done;
done:
    free(x);
    free(w);
    free(packed);
    return st;
}

static void linear_free(struct linear_case *c)
{
    tc_tensor_free(&c->x);
    tc_tensor_free(&c->w);
    tc_tensor_free(&c->y);
    free(c->ref);
    free(c->got);
}

/* Seconds for the cases under the forced parameters (best of REPS each,
 * summed); -1 on a failure or a wrong result. */
static double time_linear(terracl_runtime *rt, struct linear_case *cs, size_t n)
{
    terracl_error err = {0};
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        struct linear_case *c = &cs[i];
        double best = INFINITY;
        for (int r = 0; r <= REPS; r++) {
            double t0 = now_s();
            if (tc_sgemm_packed(rt, c->m, c->n, c->k, (struct tc_matrix){c->x.buf, 0, c->k},
                                c->w.buf, 0, 0.0f, (struct tc_matrix){c->y.buf, 0, c->n}, NULL,
                                &err) ||
                terracl_runtime_finish(rt, &err))
                return -1;
            double dt = now_s() - t0;
            if (r == 0) {
                if (tc_tensor_download(rt, &c->y, c->got, &err) ||
                    !(rel_l2(c->got, c->ref, c->m * c->n) < 1e-5))
                    return -1;
            } else if (dt < best) {
                best = dt;
            }
        }
        total += best;
    }
    return total;
}

/* One convolution the tuner times, with its device buffers: 3x3 with
 * padding 1 and a plain weight (the implicit-GEMM kernel), or with k = 1
 * 1x1 without padding and a packed weight (on a map of 1024 pixels or
 * more, the NN GEMM with the weight as A); stride 1. `want` holds the first
 * accepted candidate's output, the reference of the others (the op itself
 * is tested against naive C). */
struct conv_case {
    int64_t cin, cout, hw, k;
    struct tc_tensor x, w, y;
    float *want, *got;
    int have_ref;
};

static terracl_status conv_setup(terracl_runtime *rt, struct conv_case *c, terracl_error *err)
{
    const int64_t k = c->k == 1 ? 1 : 3;
    int64_t xd[4] = {1, c->cin, c->hw, c->hw}, wd[4] = {c->cout, c->cin, k, k};
    int64_t yd[4] = {1, c->cout, c->hw, c->hw};
    size_t xs = (size_t)(c->cin * c->hw * c->hw), ws = (size_t)(c->cout * c->cin * k * k);
    size_t ys = (size_t)(c->cout * c->hw * c->hw);
    float *hx = malloc(xs * sizeof *hx), *hw = malloc(ws * sizeof *hw);
    c->want = malloc(ys * sizeof *c->want);
    c->got = malloc(ys * sizeof *c->got);
    terracl_status st = TERRACL_OK;
    if (!hx || !hw || !c->want || !c->got)
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK) {
        fill(hx, xs, 3);
        fill(hw, ws, 4);
        if ((st = tc_tensor_alloc(rt, 4, xd, &c->x, err)) == TERRACL_OK &&
            (st = tc_tensor_upload(rt, &c->x, hx, err)) == TERRACL_OK)
            st = tc_tensor_alloc(rt, 4, wd, &c->w, err);
        if (st == TERRACL_OK) {
            /* Packed as the binder packs a model's 1x1 weights. */
            c->w.gemm_packed = k == 1 ? TC_PACKED_TAPS : TC_PLAIN;
            if ((st = tc_tensor_upload(rt, &c->w, hw, err)) == TERRACL_OK)
                st = tc_tensor_alloc(rt, 4, yd, &c->y, err);
        }
    }
    free(hx);
    free(hw);
    return st;
}

static void conv_free(struct conv_case *c)
{
    tc_tensor_free(&c->x);
    tc_tensor_free(&c->w);
    tc_tensor_free(&c->y);
    free(c->want);
    free(c->got);
}

/* Best of REPS calls after a first that compiles and is checked; -1 when
 * the candidate fails or disagrees with the reference. */
static double time_conv(terracl_runtime *rt, struct conv_case *c)
{
    terracl_error err = {0};
    const int pad = c->k == 1 ? 0 : 1;
    const struct tc_conv_geom g = {1, 1, pad, pad, 1, 1};
    double best = INFINITY;
    for (int r = 0; r <= REPS; r++) {
        double t0 = now_s();
        if (tc_op_conv2d(rt, &c->x, &c->w, NULL, &g, &c->y, &err) ||
            terracl_runtime_finish(rt, &err))
            return -1;
        double dt = now_s() - t0;
        if (r == 0) {
            float *dst = c->have_ref ? c->got : c->want;
            if (tc_tensor_download(rt, &c->y, dst, &err))
                return -1;
            if (c->have_ref && !(rel_l2(c->got, c->want, tc_tensor_numel(&c->y)) < 1e-5))
                return -1;
            c->have_ref = 1;
        } else if (dt < best) {
            best = dt;
        }
    }
    return best;
}

/* Times each candidate value of one convolution parameter (`field` of the
 * parameters) on the cases, ROUNDS times in turn; returns the winner's
 * index or -1, with the per-candidate sums in t (-1: rejected). */
static int pick_conv_param(terracl_runtime *rt, struct tc_native_params *best,
                           size_t *field, const size_t *values, int n, struct conv_case *cases,
                           int ncases, double *t)
{
    for (int i = 0; i < n; i++)
        t[i] = INFINITY;
    for (int round = 0; round < ROUNDS; round++)
        for (int i = 0; i < n; i++) {
            size_t keep = *field;
            *field = values[i];
            tc_native_force(rt, best);
            *field = keep;
            double sum = 0;
            for (int j = 0; j < ncases && sum >= 0; j++) {
                double tj = time_conv(rt, &cases[j]);
                sum = tj < 0 ? -1 : sum + tj;
            }
            if (sum < 0)
                t[i] = -1; /* rejected for good */
            else if (t[i] >= 0 && sum < t[i])
                t[i] = sum;
        }
    int win = -1;
    for (int i = 0; i < n; i++)
        if (t[i] >= 0 && (win < 0 || t[i] < t[win]))
            win = i;
    return win;
}

/* The end of a candidate's line: its time, or that it was rejected. */
static void print_time(double seconds)
{
    if (seconds < 0)
        printf("rejected\n");
    else
        printf("%.2f ms\n", seconds * 1e3);
}

int tc_tune_native(terracl_runtime *rt, size_t tokens)
{
    static const size_t kcs[] = {0, 64, 128, 256};
    static const size_t blocks[] = {256, 128, 512, 1024};
    enum { NKC = 4, NBLK = 4, NNKC = 4 };
    terracl_error err = {0};
    struct tc_gemm_table *table = tc_runtime_gemm_table(rt);
    struct tc_native_params best = *tc_runtime_native_params(rt);
    /* A ViT-B block's Linear products at this token count. */
    static const size_t nk[3][2] = {{2304, 768}, {3072, 768}, {768, 3072}};
    struct linear_case cs[3];
    memset(cs, 0, sizeof cs);
    for (int i = 0; i < 3; i++) {
        cs[i].m = tokens;
        cs[i].n = nk[i][0];
        cs[i].k = nk[i][1];
    }
    terracl_status st = TERRACL_OK;
    for (size_t i = 0; i < 3 && st == TERRACL_OK; i++)
        st = linear_setup(rt, &cs[i], &err);
    double t_kc[NKC];
    for (int i = 0; i < NKC; i++)
        t_kc[i] = INFINITY;
    for (int round = 0; round < ROUNDS && st == TERRACL_OK; round++)
        for (int i = 0; i < NKC; i++) {
            struct tc_native_params p = best;
            p.packed_kc = kcs[i];
            tc_native_force(rt, &p);
            double t = time_linear(rt, cs, 3);
            if (t < 0)
                t_kc[i] = -1; /* rejected for good */
            else if (t_kc[i] >= 0 && t < t_kc[i])
                t_kc[i] = t;
        }
    int win = -1;
    for (int i = 0; i < NKC && st == TERRACL_OK; i++) {
        printf("native: packed Linear %s%zu: %s", kcs[i] ? "K blocks of " : "panels, kc=", kcs[i],
               t_kc[i] < 0 ? "rejected\n" : "");
        if (t_kc[i] >= 0)
            printf("%.2f ms\n", t_kc[i] * 1e3);
        if (t_kc[i] >= 0 && (win < 0 || t_kc[i] < t_kc[win]))
            win = i;
    }
    if (win >= 0)
        best.packed_kc = kcs[win];
    for (size_t i = 0; i < 3; i++)
        linear_free(&cs[i]);

    /* The implicit convolution's tile, on the narrow decoder layers that
     * take that kernel (smp Unet's last blocks), then its channel blocks
     * on a wide one (a UNet stage; its 9216-long sums span several blocks). */
    struct conv_case narrow[2] = {{.cin = 128, .cout = 32, .hw = 112},
                                  {.cin = 32, .cout = 16, .hw = 224}};
    struct conv_case wide = {.cin = 1024, .cout = 256, .hw = 28};
    /* 1x1 convolutions of ResNet-50's last stages on 32x32 maps (DeepLab
     * at 512x512), for the blocks of their long sums. */
    struct conv_case pointwise[2] = {{.cin = 2048, .cout = 512, .hw = 32, .k = 1},
                                     {.cin = 1024, .cout = 256, .hw = 32, .k = 1}};
    for (int i = 0; i < 2 && st == TERRACL_OK; i++)
        st = conv_setup(rt, &narrow[i], &err);
    if (st == TERRACL_OK)
        st = conv_setup(rt, &wide, &err);
    const int pointwise_packed = tc_gemm_pack_wanted(rt, 512, 2048);
    for (int i = 0; i < 2 && st == TERRACL_OK && pointwise_packed; i++)
        st = conv_setup(rt, &pointwise[i], &err);
    if (st == TERRACL_OK) {
        static const size_t tiles[TC_CONV_TILES] = {0, 1, 2, 3};
        double t[TC_CONV_TILES];
        win = pick_conv_param(rt, &best, &best.conv_tile, tiles, TC_CONV_TILES, narrow, 2, t);
        for (int i = 0; i < TC_CONV_TILES; i++) {
            printf("native: conv3x3 128->32 @112 + 32->16 @224, tiles of %d x %d: ",
                   tc_conv_implicit_tiles[i][0], 16 * tc_conv_implicit_tiles[i][1]);
            print_time(t[i]);
        }
        if (win >= 0)
            best.conv_tile = tiles[win];
        double tb[NBLK];
        win = pick_conv_param(rt, &best, &best.conv_block_kib, blocks, NBLK, &wide, 1, tb);
        for (int i = 0; i < NBLK; i++) {
            printf("native: conv3x3 1024->256 @28, channel blocks of %zu KiB: ", blocks[i]);
            print_time(tb[i]);
        }
        if (win >= 0)
            best.conv_block_kib = blocks[win];
    }
    if (st == TERRACL_OK && pointwise_packed) {
        static const size_t nn_kcs[NNKC] = {512, 0, 256, 1024};
        double tk[NNKC];
        win = pick_conv_param(rt, &best, &best.nn_kc, nn_kcs, NNKC, pointwise, 2, tk);
        for (int i = 0; i < NNKC; i++) {
            if (nn_kcs[i] == 0)
                printf("native: conv1x1 2048->512 + 1024->256 @32, whole sums: ");
            else
                printf("native: conv1x1 2048->512 + 1024->256 @32, sums in blocks of %zu: ",
                       nn_kcs[i]);
            print_time(tk[i]);
        }
        if (win >= 0)
            best.nn_kc = nn_kcs[win];
    }
    for (int i = 0; i < 2; i++) {
        conv_free(&narrow[i]);
        conv_free(&pointwise[i]);
    }
    conv_free(&wide);
    tc_native_force(rt, NULL);
    if (st == TERRACL_OK)
        st = tc_gemm_table_store_native(rt, table, &best, &err);
    if (st != TERRACL_OK)
        return tc_cli_fail(&err, st);
    char text[128];
    printf("native: stored %s\n", tc_native_str(&best, text, sizeof text));
    return 0;
}

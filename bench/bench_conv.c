/*
 * bench_conv: times the decoder-side ops (Conv2d, ConvTranspose2d,
 * bilinear/nearest resize, depthwise Conv2d) on UperNet-like shapes. Each op: one warm-up
 * call, then the best of N calls, each ended by terracl_runtime_finish.
 *
 *   build/bench/bench_conv [--device D] [--repeat N] [--filter SUBSTRING] [--unpacked]
 *                          [--residual] [--ab] [--cold]
 *
 * Conv2d weights are packed where a model's would be
 * (tc_conv2d_weight_packable on a device that packs GEMM weights);
 * --unpacked keeps them plain, for the other kernels. --residual runs each
 * Conv2d as a ResNet block's last one: y = relu(conv(x) + b + y).
 * --ab times each packable Conv2d with the packed and the plain weight,
 * calls alternating in this one process (what the packed path gains, free
 * of the process-to-process swings of a shared machine): best and median
 * of each, and the packed median over the plain one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"
#include "cli/pin_workers.h"

#include "graph/tensor.h"
#include "ops/conv.h"
#include "ops/dwconv.h"
#include "ops/elementwise.h"
#include "ops/resize.h"
#include "terracl/terracl.h"

enum kind { CONV, CONVT, BILINEAR, NEAREST, DWCONV };
struct cfg {
    const char *name;
    enum kind kind;
    int64_t cin, cout, h, w, k, stride, pad, oh, ow;
};
static const struct cfg k_cfgs[] = {
    {"conv3x3 1024->256 @56", CONV, 1024, 256, 56, 56, 3, 1, 1, 0, 0},
    {"conv3x3 256->256 @56", CONV, 256, 256, 56, 56, 3, 1, 1, 0, 0},
    {"conv3x3 256->256 @28", CONV, 256, 256, 28, 28, 3, 1, 1, 0, 0},
    {"conv3x3 256->256 @14", CONV, 256, 256, 14, 14, 3, 1, 1, 0, 0},
    {"conv3x3 2048->256 @7", CONV, 2048, 256, 7, 7, 3, 1, 1, 0, 0},
    {"conv1x1 1024->256 @56", CONV, 1024, 256, 56, 56, 1, 1, 0, 0, 0},
    {"conv1x1 256->256 @56", CONV, 256, 256, 56, 56, 1, 1, 0, 0, 0},
    {"conv1x1 256->2 @56", CONV, 256, 2, 56, 56, 1, 1, 0, 0, 0},
    /* the same head at a 512 input; a UNet decoder's 16-channel head */
    {"conv1x1 256->2 @128", CONV, 256, 2, 128, 128, 1, 1, 0, 0, 0},
    {"conv1x1 16->2 @112", CONV, 16, 2, 112, 112, 1, 1, 0, 0, 0},
    {"conv3x3 64->64 @224", CONV, 64, 64, 224, 224, 3, 1, 1, 0, 0},
    /* ResNet-50 bottleneck 1x1 convolutions, 224 input */
    {"conv1x1 64->256 @56", CONV, 64, 256, 56, 56, 1, 1, 0, 0, 0},
    /* ResNet-50's layer1 and layer2 block ends at 512 (with --residual) */
    {"conv1x1 64->256 @128", CONV, 64, 256, 128, 128, 1, 1, 0, 0, 0},
    {"conv1x1 128->512 @64", CONV, 128, 512, 64, 64, 1, 1, 0, 0, 0},
    {"conv1x1 256->64 @56", CONV, 256, 64, 56, 56, 1, 1, 0, 0, 0},
    {"conv1x1 512->128 @28", CONV, 512, 128, 28, 28, 1, 1, 0, 0, 0},
    {"conv1x1 128->512 @28", CONV, 128, 512, 28, 28, 1, 1, 0, 0, 0},
    {"conv1x1 1024->256 @14", CONV, 1024, 256, 14, 14, 1, 1, 0, 0, 0},
    /* UperNet's lateral convolutions on ConvNeXt-T's stages */
    {"conv1x1 96->256 @56", CONV, 96, 256, 56, 56, 1, 1, 0, 0, 0},
    {"conv1x1 192->256 @28", CONV, 192, 256, 28, 28, 1, 1, 0, 0, 0},
    {"conv1x1 384->256 @14", CONV, 384, 256, 14, 14, 1, 1, 0, 0, 0},
    /* Short sums on 28x28 and 24x24 maps: the GEMM range in conv.c */
    {"conv1x1 128->256 @28", CONV, 128, 256, 28, 28, 1, 1, 0, 0, 0},
    {"conv1x1 256->512 @28", CONV, 256, 512, 28, 28, 1, 1, 0, 0, 0},
    {"conv1x1 192->512 @28", CONV, 192, 512, 28, 28, 1, 1, 0, 0, 0},
    {"conv1x1 256->256 @28", CONV, 256, 256, 28, 28, 1, 1, 0, 0, 0},
    {"conv1x1 128->512 @24", CONV, 128, 512, 24, 24, 1, 1, 0, 0, 0},
    {"conv1x1 192->256 @24", CONV, 192, 256, 24, 24, 1, 1, 0, 0, 0},
    {"conv1x1 96->256 @128", CONV, 96, 256, 128, 128, 1, 1, 0, 0, 0}, /* the same at 512 */
    /* UperNet's pyramid pooling on its finest pooled map (ConvNeXt-T, Prithvi ViT-L) */
    {"conv1x1 768->256 @6", CONV, 768, 256, 6, 6, 1, 1, 0, 0, 0},
    {"conv1x1 1024->256 @6", CONV, 1024, 256, 6, 6, 1, 1, 0, 0, 0},
    {"conv1x1 256->1024 @14", CONV, 256, 1024, 14, 14, 1, 1, 0, 0, 0},
    /* ResNet-50's layer3 and dilated layer4 at 512 (smp Unet and DeepLabV3+,
     * 32x32 maps: planes 4 KiB apart) */
    {"conv1x1 512->2048 @32", CONV, 512, 2048, 32, 32, 1, 1, 0, 0, 0},
    {"conv1x1 2048->512 @32", CONV, 2048, 512, 32, 32, 1, 1, 0, 0, 0},
    {"conv1x1 2048->256 @32", CONV, 2048, 256, 32, 32, 1, 1, 0, 0, 0},
    {"conv1x1 1024->256 @32", CONV, 1024, 256, 32, 32, 1, 1, 0, 0, 0},
    {"conv1x1 256->1024 @32", CONV, 256, 1024, 32, 32, 1, 1, 0, 0, 0},
    /* UNet decoder shapes (Prithvi ViT-L + LearnedInterpolateToPyramidal, 224) */
    {"conv3x3 3072->256 @14", CONV, 3072, 256, 14, 14, 3, 1, 1, 0, 0},
    {"conv3x3 2048->512 @14", CONV, 2048, 512, 14, 14, 3, 1, 1, 0, 0},
    {"conv3x3 1024->256 @28", CONV, 1024, 256, 28, 28, 3, 1, 1, 0, 0},
    {"conv3x3 512->128 @56", CONV, 512, 128, 56, 56, 3, 1, 1, 0, 0},
    {"conv3x3 128->64 @112", CONV, 128, 64, 112, 112, 3, 1, 1, 0, 0},
    /* Strided convolutions of a ResNet-50 at 224: the stem, the 3x3 and 1x1
     * downsampling. */
    {"conv7x7s2 6->64 @224", CONV, 6, 64, 224, 224, 7, 2, 3, 0, 0},
    {"conv3x3s2 128->128 @56", CONV, 128, 128, 56, 56, 3, 2, 1, 0, 0},
    {"conv3x3s2 512->512 @14", CONV, 512, 512, 14, 14, 3, 2, 1, 0, 0},
    {"conv1x1s2 256->512 @56", CONV, 256, 512, 56, 56, 1, 2, 0, 0, 0},
    {"conv1x1s2 1024->2048 @14", CONV, 1024, 2048, 14, 14, 1, 2, 0, 0, 0},
    /* smp Unet decoder on a ResNet-50 at 224 (skinny channels, many pixels) */
    {"conv3x3 768->128 @28", CONV, 768, 128, 28, 28, 3, 1, 1, 0, 0},
    {"conv3x3 384->64 @56", CONV, 384, 64, 56, 56, 3, 1, 1, 0, 0},
    {"conv3x3 64->64 @56", CONV, 64, 64, 56, 56, 3, 1, 1, 0, 0},
    {"conv3x3 128->32 @112", CONV, 128, 32, 112, 112, 3, 1, 1, 0, 0},
    {"conv3x3 32->32 @112", CONV, 32, 32, 112, 112, 3, 1, 1, 0, 0},
    {"conv3x3 32->16 @224", CONV, 32, 16, 224, 224, 3, 1, 1, 0, 0},
    {"conv3x3 16->16 @224", CONV, 16, 16, 224, 224, 3, 1, 1, 0, 0},
    {"conv3x3 16->2 @224", CONV, 16, 2, 224, 224, 3, 1, 1, 0, 0}, /* smp Unet head */
    {"convT2x2 1024->512 @14", CONVT, 1024, 512, 14, 14, 2, 2, 0, 0, 0},
    {"convT2x2 512->256 @28", CONVT, 512, 256, 28, 28, 2, 2, 0, 0, 0},
    {"bilinear 256 56->112", BILINEAR, 256, 256, 56, 56, 0, 0, 0, 112, 112},
    {"bilinear 256 14->56", BILINEAR, 256, 256, 14, 14, 0, 0, 0, 56, 56},
    {"bilinear 2 56->224", BILINEAR, 2, 2, 56, 56, 0, 0, 0, 224, 224},
    {"nearest 256 56->112", NEAREST, 256, 256, 56, 56, 0, 0, 0, 112, 112},
    /* depthwise, "same" padding (the dilation is pad / ((k - 1) / 2)):
     * DeepLabV3+'s atrous ASPP at 224 (rates 12 and 24 on the 14x14 map)
     * and its decoder's separable 3x3, ConvNeXt-T's 7x7 */
    {"dw3x3 d12 2048 @14", DWCONV, 2048, 2048, 14, 14, 3, 1, 12, 0, 0},
    {"dw3x3 d24 2048 @14", DWCONV, 2048, 2048, 14, 14, 3, 1, 24, 0, 0},
    {"dw3x3 304 @56", DWCONV, 304, 304, 56, 56, 3, 1, 1, 0, 0},
    {"dw7x7 96 @56", DWCONV, 96, 96, 56, 56, 7, 1, 3, 0, 0},
};

static int unpacked, residual, ab, cold;
/* --cold: two 32 MiB tensors added before each timed call, so that the
 * call finds its weight and maps out of the caches, as a model's layers
 * mostly do (the L3 is 32 MiB here). */
static struct tc_tensor flush_a, flush_b;

static terracl_status flush_caches(terracl_runtime *rt, terracl_error *err)
{
    if (!cold)
        return TERRACL_OK;
    terracl_status st = tc_op_add(rt, &flush_a, &flush_b, &flush_b, err);
    return st == TERRACL_OK ? terracl_runtime_finish(rt, err) : st;
}

/* A tensor of deterministic values; packed: in the packed GEMM layout. */
static terracl_status make(terracl_runtime *rt, struct tc_tensor *t, int ndim,
                           const int64_t *dims, int packed, terracl_error *err)
{
    terracl_status st = tc_tensor_alloc(rt, ndim, dims, t, err);
    if (st != TERRACL_OK)
        return st;
    t->gemm_packed = packed ? TC_PACKED_TAPS : TC_PLAIN;
    size_t n = tc_tensor_numel(t);
    float *h = malloc(n * sizeof *h);
    if (h == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < n; i++)
        h[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    st = tc_tensor_upload(rt, t, h, err);
    free(h);
    return st;
}

#define AB_MAX 256

/* --ab: the packed weight w against a plain copy of it, calls alternating
 * (packed first on even rounds, plain first on odd ones). */
static terracl_status ab_conv(terracl_runtime *rt, const struct cfg *c, const struct tc_tensor *x,
                              const struct tc_tensor *w, const struct tc_tensor *b,
                              const struct tc_conv_geom *g, struct tc_tensor *y, int64_t repeat,
                              double flops, terracl_error *err)
{
    struct tc_tensor plain = {0};
    terracl_status st = make(rt, &plain, 4, w->dims, 0, err);
    double ms[2][AB_MAX];
    int n = repeat < AB_MAX ? (int)repeat : AB_MAX;
    for (int r = -1; r < n && st == TERRACL_OK; r++)
        for (int turn = 0; turn < 2 && st == TERRACL_OK; turn++) {
            const int side = (r & 1) ? 1 - turn : turn; /* 0: packed, 1: plain */
            const struct tc_tensor *wk = side == 0 ? w : &plain;
            if ((st = flush_caches(rt, err)) != TERRACL_OK)
                break;
            double t0 = now_ms();
            st = residual ? tc_op_conv2d_accumulate(rt, x, wk, b, g, 1, y, err)
                          : tc_op_conv2d(rt, x, wk, b, g, y, err);
            if (st == TERRACL_OK)
                st = terracl_runtime_finish(rt, err);
            if (r >= 0)
                ms[side][r] = now_ms() - t0;
        }
    if (st == TERRACL_OK && n > 0) {
        qsort(ms[0], (size_t)n, sizeof(double), cmp_double);
        qsort(ms[1], (size_t)n, sizeof(double), cmp_double);
        double mp = ms[0][n / 2], mu = ms[1][n / 2];
        printf("%-26s packed %7.3f (%5.1f) med %7.3f | plain %7.3f (%5.1f) med %7.3f | %.3f\n",
               c->name, ms[0][0], flops * 1e-6 / ms[0][0], mp, ms[1][0], flops * 1e-6 / ms[1][0],
               mu, mp / mu);
    }
    tc_tensor_free(&plain);
    return st;
}

static terracl_status bench(terracl_runtime *rt, const struct cfg *c, int64_t repeat,
                            terracl_error *err)
{
    struct tc_tensor x = {0}, w = {0}, b = {0}, y = {0};
    int64_t xd[4] = {1, c->cin, c->h, c->w}, yd[4] = {1, c->cout, c->oh, c->ow};
    int64_t wd[4] = {c->cout, c->cin, c->k, c->k}, bd[1] = {c->cout};
    double flops = 0;
    if (c->kind == CONV) {
        yd[2] = (c->h + 2 * c->pad - c->k) / c->stride + 1;
        yd[3] = (c->w + 2 * c->pad - c->k) / c->stride + 1;
        flops = 2.0 * (double)(c->cin * c->k * c->k) * (double)c->cout * (double)(yd[2] * yd[3]);
    } else if (c->kind == DWCONV) {
        wd[1] = 1;
        yd[2] = c->h;
        yd[3] = c->w;
        flops = 2.0 * (double)(c->k * c->k) * (double)c->cout * (double)(yd[2] * yd[3]);
    } else if (c->kind == CONVT) {
        wd[0] = c->cin;
        wd[1] = c->cout;
        yd[2] = (c->h - 1) * c->stride - 2 * c->pad + c->k;
        yd[3] = (c->w - 1) * c->stride - 2 * c->pad + c->k;
        flops = 2.0 * (double)c->cin * (double)(c->cout * c->k * c->k) * (double)(c->h * c->w);
    }
    int64_t dil = c->kind == DWCONV ? c->pad / ((c->k - 1) / 2) : 1;
    struct tc_conv_geom g = {c->stride, c->stride, c->pad, c->pad, dil, dil};
    int packed = c->kind == CONV && !unpacked &&
                 tc_conv2d_weight_packable(c->cout, c->cin, c->k, c->k, &g) &&
                 tc_gemm_pack_wanted(rt, (size_t)c->cout, (size_t)(c->cin * c->k * c->k));
    terracl_status st = make(rt, &x, 4, xd, 0, err);
    if (st == TERRACL_OK)
        st = make(rt, &y, 4, yd, 0, err);
    const int weighted = c->kind == CONV || c->kind == CONVT || c->kind == DWCONV;
    if (st == TERRACL_OK && weighted)
        st = make(rt, &w, 4, wd, packed, err);
    if (st == TERRACL_OK && weighted)
        st = make(rt, &b, 1, bd, 0, err);
    const int compare = ab && packed;
    if (st == TERRACL_OK && compare)
        st = ab_conv(rt, c, &x, &w, &b, &g, &y, repeat, flops, err);
    double best = 1e30;
    for (int64_t r = -1; r < repeat && st == TERRACL_OK && !compare; r++) {
        if ((st = flush_caches(rt, err)) != TERRACL_OK)
            break;
        double t0 = now_ms();
        switch (c->kind) {
        case CONV:
            st = residual ? tc_op_conv2d_accumulate(rt, &x, &w, &b, &g, 1, &y, err)
                          : tc_op_conv2d(rt, &x, &w, &b, &g, &y, err);
            break;
        case CONVT: st = tc_op_conv_transpose2d(rt, &x, &w, &b, c->stride, c->pad, 0, &y, err); break;
        case BILINEAR: st = tc_op_resize_bilinear(rt, &x, 0, &y, err); break;
        case NEAREST: st = tc_op_resize_nearest(rt, &x, 2.0, 2.0, &y, err); break;
        case DWCONV: st = tc_op_dwconv2d(rt, &x, &w, &b, &g, 0, &y, err); break;
        }
        if (st == TERRACL_OK)
            st = terracl_runtime_finish(rt, err);
        double dt = now_ms() - t0;
        if (r >= 0 && dt < best)
            best = dt;
    }
    if (st == TERRACL_OK && !compare) {
        if (flops > 0)
            printf("%-26s %10.3f %10.1f\n", c->name, best, flops * 1e-9 / (best * 1e-3));
        else
            printf("%-26s %10.3f %10s\n", c->name, best, "-");
    }
    tc_tensor_free(&x);
    tc_tensor_free(&w);
    tc_tensor_free(&b);
    tc_tensor_free(&y);
    return st;
}

int main(int argc, char **argv)
{
    bench_note_pinned(tc_pin_driver_threads());
    struct terracl_runtime_params params = {0};
    int64_t repeat = 5;
    const char *filter = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
            params.device = argv[++i];
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoll(argv[++i]);
        else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc)
            filter = argv[++i];
        else if (strcmp(argv[i], "--unpacked") == 0)
            unpacked = 1;
        else if (strcmp(argv[i], "--residual") == 0)
            residual = 1;
        else if (strcmp(argv[i], "--ab") == 0)
            ab = 1;
        else if (strcmp(argv[i], "--cold") == 0)
            cold = 1;
        else {
            fprintf(stderr, "usage: bench_conv [--device D] [--repeat N] [--filter S] [--unpacked] "
                            "[--residual] [--ab] [--cold]\n");
            return 2;
        }
    }
    if (repeat < 1) {
        fprintf(stderr, "bench_conv: --repeat >= 1\n");
        return 2;
    }
    terracl_error err = {0};
    terracl_runtime *rt = NULL;
    terracl_status st = terracl_runtime_create(&params, &rt, &err);
    const int64_t flush_dims[1] = {(int64_t)8 << 20};
    if (st == TERRACL_OK && cold && (st = make(rt, &flush_a, 1, flush_dims, 0, &err)) == TERRACL_OK)
        st = make(rt, &flush_b, 1, flush_dims, 0, &err);
    if (st == TERRACL_OK)
        printf("device: %s\n%-26s %10s %10s\n", terracl_runtime_device(rt)->name, "op", "best ms",
               "GFLOP/s");
    for (size_t i = 0; st == TERRACL_OK && i < sizeof k_cfgs / sizeof k_cfgs[0]; i++)
        if (filter == NULL || strstr(k_cfgs[i].name, filter) != NULL)
            st = bench(rt, &k_cfgs[i], repeat, &err);
    if (st != TERRACL_OK)
        fprintf(stderr, "bench_conv: %s\n", err.message);
    tc_tensor_free(&flush_a);
    tc_tensor_free(&flush_b);
    terracl_runtime_destroy(rt);
    return st == TERRACL_OK ? 0 : 1;
}

/*
 * 1x1 convolutions to at most NARROW_MAX_COUT output channels on CPUs: one
 * pass over the input with every output channel in registers
 * (cl_kernels/conv_narrow.cl). The NN GEMM ran the 256 -> 2 heads of
 * UperNet and DeepLabV3+ at 56x56 at 24-32 GFLOP/s, its row tiles mostly
 * empty. Such a layer is bound by reading its input: 2 multiply-adds per
 * class for each 4 bytes read.
 */
#include "ops/conv_narrow.h"

#include <stdio.h>

#include "core/checked.h"
#include "ops/launch.h"

#define NARROW_MAX_COUT 16

/* Loop passes per input channel at most (the output and vector loops), for
 * drivers that end a work-item's loops early (tc_runtime_loop_budget). */
#define LOOP_PASSES_PER_CHANNEL 64

int tc_conv2d_narrow_wanted(const terracl_runtime *rt, const struct tc_tensor *w,
                            const struct tc_conv_geom *g)
{
    if (w->ndim == 4 && (size_t)w->dims[1] * LOOP_PASSES_PER_CHANNEL > tc_runtime_loop_budget(rt))
        return 0;
    return tc_runtime_is_cpu(rt) && !w->gemm_packed && !w->has_derived && w->ndim == 4 &&
           w->dims[0] >= 1 && w->dims[0] <= NARROW_MAX_COUT && w->dims[2] == 1 &&
           w->dims[3] == 1 && g->stride_h == 1 && g->stride_w == 1 && g->pad_h == 0 &&
           g->pad_w == 0 && g->dil_h == 1 && g->dil_w == 1;
}

/* float16 vectors of pixels per work-item: as many as keep the
 * accumulators (cout x vectors) within 16 of the 32 vector registers. On
 * the 256 -> 2 head at 128x128 (bench_conv, best of 40, three rounds) 8
 * vectors took 0.27-0.29 ms, 4 0.32-0.43, 2 0.49-0.89; the NN GEMM
 * 0.59-0.69. */
static int vectors_for(int64_t cout)
{
    return cout <= 2 ? 8 : cout <= 4 ? 4 : cout <= 8 ? 2 : 1;
}

terracl_status tc_conv2d_narrow(terracl_runtime *rt, const struct tc_tensor *x,
                                const struct tc_tensor *w, const struct tc_tensor *b, int relu,
                                struct tc_tensor *y, terracl_error *err)
{
    int64_t B = x->dims[0], Cin = x->dims[1], Cout = w->dims[0];
    size_t P = (size_t)(x->dims[2] * x->dims[3]);
    if (Cout < 1 || Cout > NARROW_MAX_COUT)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "conv2d: the narrow 1x1 kernel takes 1..%d output channels (got %lld)",
                       NARROW_MAX_COUT, (long long)Cout);
    struct tc_karg ox, ow, ob = TC_KUINT(0), oy;
    terracl_status st;
    if ((st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(w, &ow, err)) ||
        (st = tc_offset_arg(y, &oy, err)) || (b && (st = tc_offset_arg(b, &ob, err))) ||
        (st = tc_check_u32(x->offset + tc_tensor_numel(x), "conv2d input", err)) ||
        (st = tc_check_u32(y->offset + tc_tensor_numel(y), "conv2d output", err)))
        return st;
    const int vec = vectors_for(Cout);
    char options[64];
    snprintf(options, sizeof options, "-DNARROW_COUT=%d -DNARROW_V=%d", (int)Cout, vec);
    struct tc_kernel *kern = NULL;
    if ((st = tc_kernel_get(rt, "conv_narrow", "tc_conv1x1_narrow", options, &kern, err)))
        return st;
    struct tc_karg args[] = {TC_KBUF(x->buf),
                             ox,
                             TC_KUINT((size_t)Cin * P),
                             TC_KBUF(w->buf),
                             ow,
                             TC_KBUF(b ? b->buf : w->buf),
                             ob,
                             TC_KINT(b != NULL),
                             TC_KINT(relu != 0),
                             TC_KBUF(y->buf),
                             oy,
                             TC_KUINT((size_t)Cout * P),
                             TC_KUINT(Cin),
                             TC_KUINT(P)};
    const size_t px = 16 * (size_t)vec;
    const size_t global[2] = {(P + px - 1) / px, (size_t)B}, local[2] = {1, 1};
    char tag[64];
    snprintf(tag, sizeof tag, "%lldx%zux%lld k1x1", (long long)Cout, P, (long long)Cin);
    tc_runtime_count_flops(rt, 2ull * (uint64_t)B * (uint64_t)Cout * (uint64_t)P * (uint64_t)Cin);
    return tc_kernel_launch_tagged(rt, kern, tag, 2, global, local, args, 14, err);
}

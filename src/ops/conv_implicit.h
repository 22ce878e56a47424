/* Conv2d with stride 1 as an implicit GEMM on CPU devices (no column
 * matrix); see cl_kernels/conv_implicit.cl. The convolution ops (conv.c,
 * upcat.c, conv_pair.c) call this. */
#ifndef TC_OPS_CONV_IMPLICIT_H
#define TC_OPS_CONV_IMPLICIT_H

#include "ops/conv.h"

/* Whether tc_conv2d_implicit runs this convolution: CPU devices, stride 1,
 * 1x1 or 3x3 kernels, sizes within the kernel's 32-bit indices. */
int tc_conv2d_implicit_wanted(const terracl_runtime *rt, const struct tc_tensor *x,
                              const struct tc_tensor *w, const struct tc_conv_geom *g);

/* y = act(conv(x, w) + b) for shapes the caller has checked; b may be NULL;
 * relu: ReLU after the bias. */
TC_NODISCARD terracl_status tc_conv2d_implicit(terracl_runtime *rt, const struct tc_tensor *x,
                                               const struct tc_tensor *w,
                                               const struct tc_tensor *b,
                                               const struct tc_conv_geom *g, int relu,
                                               struct tc_tensor *y, terracl_error *err);

/* The same for the input torch.cat([interpolate(up, size of skip,
 * "nearest"), skip], 1), joined by the padded copy the kernel reads anyway:
 * up [B, C0, H0, W0], skip [B, Cs, H, W], w [Cout, C0 + Cs, kh, kw]. */
TC_NODISCARD terracl_status tc_conv2d_implicit_upcat(terracl_runtime *rt,
                                                     const struct tc_tensor *up,
                                                     const struct tc_tensor *skip,
                                                     const struct tc_tensor *w,
                                                     const struct tc_tensor *b,
                                                     const struct tc_conv_geom *g, int relu,
                                                     struct tc_tensor *y, terracl_error *err);

/* Two such convolutions in a row (a UNet decoder block's), handed over
 * without the second one's padded copy: the first writes its output
 * straight into that copy's layout. Applies to 3x3 kernels with stride 1,
 * padding 1 and no dilation on plain weights, maps at least 14 wide; x is
 * the first one's input (the joined shape for a join). */
int tc_conv2d_implicit_pair_wanted(const terracl_runtime *rt, const struct tc_tensor *x,
                                   const struct tc_tensor *w1, const struct tc_conv_geom *g1,
                                   const struct tc_tensor *w2, const struct tc_conv_geom *g2);

/* A map in the layout the kernel reads: per batch item, `item` floats
 * apart from `offset` in buf, its channels' planes of (H + 2) x (W + 2)
 * floats with zero borders, then `slack` zeros. The map does not own buf. */
struct tc_padded_map {
    const struct tc_buf *buf;
    size_t offset, item, slack;
};

/* item and slack of a [B, C, H, W] map in that layout for a next
 * convolution to next_cout channels (buf is the caller's to set). */
TC_NODISCARD terracl_status tc_conv2d_implicit_padded_size(const terracl_runtime *rt, int64_t B,
                                                           int64_t C, int64_t H, int64_t W,
                                                           int64_t next_cout,
                                                           struct tc_padded_map *map,
                                                           terracl_error *err);

/* The first of the pair (on x, or on the join of up and x when up is not
 * NULL): its output, of y_shape's shape, goes to `out`, borders and slack
 * included. The second: its input of x_shape's shape read from `in`, its
 * output to y. Shapes checked by the caller. */
TC_NODISCARD terracl_status tc_conv2d_implicit_to_padded(
    terracl_runtime *rt, const struct tc_tensor *up, const struct tc_tensor *x,
    const struct tc_tensor *w, const struct tc_tensor *b, const struct tc_conv_geom *g, int relu,
    const struct tc_tensor *y_shape, const struct tc_padded_map *out, terracl_error *err);
TC_NODISCARD terracl_status tc_conv2d_implicit_from_padded(
    terracl_runtime *rt, const struct tc_tensor *x_shape, const struct tc_padded_map *in,
    const struct tc_tensor *w, const struct tc_tensor *b, const struct tc_conv_geom *g, int relu,
    struct tc_tensor *y, terracl_error *err);

/* ConvTranspose2d with kernel = stride, no padding or output padding, as
 * one GEMM that stores each tap at its output place (no column matrix):
 * whether it runs this one (CPU devices, Cout k k a multiple of 64, 32-bit
 * sizes), and the launch for shapes the caller has checked. */
int tc_conv_transpose2d_direct_wanted(const terracl_runtime *rt, const struct tc_tensor *x,
                                      const struct tc_tensor *w, int64_t stride, int64_t pad,
                                      int64_t output_padding);
TC_NODISCARD terracl_status tc_conv_transpose2d_direct(terracl_runtime *rt,
                                                       const struct tc_tensor *x,
                                                       const struct tc_tensor *w,
                                                       const struct tc_tensor *b,
                                                       struct tc_tensor *y, terracl_error *err);

#endif /* TC_OPS_CONV_IMPLICIT_H */

/* Convolutions on NCHW float32 tensors (groups = 1), PyTorch semantics. */
#ifndef TC_OPS_CONV_H
#define TC_OPS_CONV_H

#include "graph/tensor.h"

struct tc_conv_geom {
    int64_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
};

/* nn.Conv2d: x [B, Cin, H, W], w [Cout, Cin, kh, kw], b [Cout] or NULL;
 * y [B, Cout, Ho, Wo] with Ho = (H + 2 pad - dil (kh - 1) - 1) / stride + 1
 * is allocated by the caller. y must not alias x. */
TC_NODISCARD terracl_status tc_op_conv2d(terracl_runtime *rt, const struct tc_tensor *x,
                                         const struct tc_tensor *w, const struct tc_tensor *b,
                                         const struct tc_conv_geom *g, struct tc_tensor *y,
                                         terracl_error *err);

/* Opens the profile scope (tc_profile_op_begin, closed by
 * tc_profile_op_end) of convolution `op` over x's map with a kh x kw
 * kernel from cin to cout channels: its shape reads "KHxKW CIN->COUT
 * @HxW" (+ " sS" / " dD" for strides and dilations past 1, " xB" for
 * batches); `flops` is the direct convolution's arithmetic. */
void tc_conv_profile_begin(terracl_runtime *rt, const char *op, const struct tc_tensor *x,
                           int64_t cin, int64_t cout, int64_t kh, int64_t kw,
                           const struct tc_conv_geom *g, uint64_t flops);

/* A Conv2d's arithmetic as the model defines it, 2 B Cout Ho Wo Cin kh kw
 * from its 4-D weight and output (unsigned: the profile asks before the
 * shapes are checked). */
uint64_t tc_conv2d_flops(const struct tc_tensor *w, const struct tc_tensor *y);

/* The shape checks every Conv2d op makes: 4-D tensors, channels matching,
 * a valid geometry, y of the output's shape, a bias of Cout floats, x
 * within 32-bit offsets. x may be a stand-in of the input's shape. */
/* The output dims [B, Cout, Ho, Wo] of 4-D x and w under g; 0 when the
 * kernel does not fit the padded input (or a stride is below 1). */
int tc_conv2d_output_dims(const struct tc_tensor *x, const struct tc_tensor *w,
                          const struct tc_conv_geom *g, int64_t dims[4]);

TC_NODISCARD terracl_status tc_conv2d_check(const struct tc_tensor *x, const struct tc_tensor *w,
                                            const struct tc_tensor *b,
                                            const struct tc_conv_geom *g,
                                            const struct tc_tensor *y, terracl_error *err);

/* The same followed by ReLU when relu is set: y = relu(conv(x, w) + b),
 * with bias and ReLU applied while the GEMM tile is in registers where the
 * device's GEMM allows (a convolution with a BatchNorm folded into it). */
TC_NODISCARD terracl_status tc_op_conv2d_act(terracl_runtime *rt, const struct tc_tensor *x,
                                             const struct tc_tensor *w, const struct tc_tensor *b,
                                             const struct tc_conv_geom *g, int relu,
                                             struct tc_tensor *y, terracl_error *err);

/* A residual block's end in one pass where the device allows: y =
 * act(conv(x, w) + b + y), y holding the residual on entry (same shape as
 * the output). The packed kernels add it in their epilogue; other paths
 * convolve into scratch and add. */
TC_NODISCARD terracl_status tc_op_conv2d_accumulate(terracl_runtime *rt,
                                                    const struct tc_tensor *x,
                                                    const struct tc_tensor *w,
                                                    const struct tc_tensor *b,
                                                    const struct tc_conv_geom *g, int relu,
                                                    struct tc_tensor *y, terracl_error *err);

/* Whether a Conv2d weight [out, in, kh, kw] with this geometry may be
 * stored packed (tc_param.gemm_weight): tc_op_conv2d then runs it with the
 * pixel-major packed kernel on devices that pack GEMM weights. */
int tc_conv2d_weight_packable(int64_t out, int64_t in, int64_t kh, int64_t kw,
                              const struct tc_conv_geom *g);

/* Whether a ConvTranspose2d weight [in, out, k, k] with this geometry may
 * be stored packed as TC_PACKED_KN: kernel = stride, no padding, out k k a
 * multiple of 64 (tc_op_conv_transpose2d's direct kernel, whose 64-tap
 * tiles are the packed panels). */
int tc_conv_transpose2d_weight_packable(int64_t in, int64_t out, int64_t k, int64_t stride,
                                        int64_t pad, int64_t output_padding);

/* nn.ConvTranspose2d (dilation 1): w [Cin, Cout, kh, kw]; y [B, Cout, Ho, Wo]
 * with Ho = (H - 1) stride - 2 pad + kh + output_padding. */
TC_NODISCARD terracl_status tc_op_conv_transpose2d(terracl_runtime *rt,
                                                   const struct tc_tensor *x,
                                                   const struct tc_tensor *w,
                                                   const struct tc_tensor *b, int64_t stride,
                                                   int64_t pad, int64_t output_padding,
                                                   struct tc_tensor *y, terracl_error *err);

/* nn.PixelShuffle(r): [B, C r^2, H, W] -> [B, C, H r, W r]. */
TC_NODISCARD terracl_status tc_op_pixel_shuffle(terracl_runtime *rt, const struct tc_tensor *x,
                                                int64_t r, struct tc_tensor *y,
                                                terracl_error *err);

/* BatchNorm2d in eval mode: y = (x - mean) / sqrt(var + eps) * gamma + beta
 * per channel of [B, C, H, W] (also [B, C]); y may alias x. */
TC_NODISCARD terracl_status tc_op_batchnorm(terracl_runtime *rt, const struct tc_tensor *x,
                                            const struct tc_tensor *mean,
                                            const struct tc_tensor *var,
                                            const struct tc_tensor *gamma,
                                            const struct tc_tensor *beta, float eps,
                                            struct tc_tensor *y, terracl_error *err);

/* The same followed by ReLU, in one pass (mmseg's ConvModule tail). */
TC_NODISCARD terracl_status tc_op_batchnorm_relu(terracl_runtime *rt, const struct tc_tensor *x,
                                                 const struct tc_tensor *mean,
                                                 const struct tc_tensor *var,
                                                 const struct tc_tensor *gamma,
                                                 const struct tc_tensor *beta, float eps,
                                                 struct tc_tensor *y, terracl_error *err);

/* Element-wise torch.nn activations with their default arguments. */
enum tc_activation {
    TC_ACT_IDENTITY,
    TC_ACT_RELU,
    TC_ACT_GELU, /* exact (erf) */
    TC_ACT_SIGMOID,
    TC_ACT_TANH,
    TC_ACT_SILU,
    TC_ACT_LEAKY_RELU, /* negative_slope 0.01 */
    TC_ACT_ELU,        /* alpha 1 */
    TC_ACT_MISH,
    TC_ACT_SOFTPLUS,
    TC_ACT_RELU6,
    TC_ACT_HARDSWISH,
    TC_ACT_HARDSIGMOID,
};
/* The activation for a torch.nn class name ("ReLU", "GELU", "Identity", ...);
 * returns 0 when the name is not one of them. */
int tc_activation_from_name(const char *name, enum tc_activation *out);
/* y = act(x), element-wise; y may alias x. */
TC_NODISCARD terracl_status tc_op_activation(terracl_runtime *rt, const struct tc_tensor *x,
                                             enum tc_activation act, struct tc_tensor *y,
                                             terracl_error *err);

/* smp's SCSE attention gate: y = x * sigmoid(cse) + x * sigmoid(sse) for
 * x [B, C, H, W], channel logits cse [B, C, 1, 1], spatial logits sse
 * [B, 1, H, W]. y may alias x. */
TC_NODISCARD terracl_status tc_op_scse_gate(terracl_runtime *rt, const struct tc_tensor *x,
                                            const struct tc_tensor *cse,
                                            const struct tc_tensor *sse, struct tc_tensor *y,
                                            terracl_error *err);

#endif /* TC_OPS_CONV_H */

/*
 * Reusable PyTorch layers for model code: each declares its parameters on a
 * module under a name prefix (exactly the state_dict sub-keys, e.g.
 * "convs.0.1" declares "convs.0.1.weight" and "convs.0.1.bias") and runs on
 * the device once the module's weights are bound. The structs only hold
 * parameter indices and hyper-parameters; they live inside a component's
 * private state.
 *
 * Forward functions allocate their output tensor (the caller frees it).
 */
#ifndef TC_MODELS_LAYERS_H
#define TC_MODELS_LAYERS_H

#include "graph/module.h"
#include "ops/conv.h"

struct tc_conv2d {
    size_t w, b; /* parameter indices; b valid when has_bias */
    int has_bias;
    int64_t in, out, kh, kw;
    struct tc_conv_geom geom;
};

struct tc_conv_transpose2d {
    size_t w, b;
    int has_bias;
    int64_t in, out, k, stride, pad, output_padding;
};

struct tc_batchnorm2d {
    size_t w, b, mean, var; /* weight/bias learnable; running stats are buffers */
    int64_t channels;
    float eps;
};

/* mmseg-style ConvModule: Conv2d(bias=False) "conv" -> BatchNorm2d "norm" -> ReLU. */
struct tc_conv_module {
    struct tc_conv2d conv;
    struct tc_batchnorm2d norm;
};

struct tc_linear {
    size_t w, b;
    int has_bias;
    int64_t in, out;
};

/* Changes a built convolution's geometry (smp's dilated encoder stages)
 * and with it what the binder may store for its weight; before binding. */
void tc_layer_conv2d_set_geometry(terracl_module *m, struct tc_conv2d *c,
                                  struct tc_conv_geom geom);
TC_NODISCARD terracl_status tc_layer_conv2d(terracl_module *m, const char *prefix, int64_t in,
                                            int64_t out, int64_t k, int64_t stride, int64_t pad,
                                            int64_t dilation, int bias, struct tc_conv2d *c,
                                            terracl_error *err);
TC_NODISCARD terracl_status tc_layer_conv2d_run(terracl_module *m, terracl_runtime *rt,
                                                const struct tc_conv2d *c,
                                                const struct tc_tensor *x, struct tc_tensor *y,
                                                terracl_error *err);

TC_NODISCARD terracl_status tc_layer_conv_transpose2d(terracl_module *m, const char *prefix,
                                                      int64_t in, int64_t out, int64_t k,
                                                      int64_t stride, int64_t pad,
                                                      int64_t output_padding, int bias,
                                                      struct tc_conv_transpose2d *c,
                                                      terracl_error *err);
TC_NODISCARD terracl_status tc_layer_conv_transpose2d_run(terracl_module *m, terracl_runtime *rt,
                                                          const struct tc_conv_transpose2d *c,
                                                          const struct tc_tensor *x,
                                                          struct tc_tensor *y, terracl_error *err);

TC_NODISCARD terracl_status tc_layer_batchnorm2d(terracl_module *m, const char *prefix,
                                                 int64_t channels, float eps,
                                                 struct tc_batchnorm2d *bn, terracl_error *err);
/* In place. */
TC_NODISCARD terracl_status tc_layer_batchnorm2d_run(terracl_module *m, terracl_runtime *rt,
                                                     const struct tc_batchnorm2d *bn,
                                                     struct tc_tensor *x, terracl_error *err);

/*
 * Conv2d followed by BatchNorm2d in eval mode, with the BatchNorm folded
 * into the convolution when the weights are bound: the convolution's
 * weight becomes w * scale per output channel and the BatchNorm's bias
 * the shift beta + (conv bias - mean) * scale, scale = gamma / sqrt(var +
 * eps). Call tc_layer_fold_batchnorm once both are declared; from then on
 * the pair runs only through tc_layer_conv2d_bn_run (the BatchNorm's own
 * run would normalise twice), which adds the shift and the optional ReLU
 * in the convolution's GEMM epilogue.
 */
TC_NODISCARD terracl_status tc_layer_fold_batchnorm(terracl_module *m, const struct tc_conv2d *c,
                                                    const struct tc_batchnorm2d *bn,
                                                    terracl_error *err);
TC_NODISCARD terracl_status tc_layer_conv2d_bn_run(terracl_module *m, terracl_runtime *rt,
                                                   const struct tc_conv2d *c,
                                                   const struct tc_batchnorm2d *bn, int relu,
                                                   const struct tc_tensor *x, struct tc_tensor *y,
                                                   terracl_error *err);
/* The same into y allocated by the caller with the output's shape (a
 * view into a larger buffer, such as a slice of a concatenation). */
TC_NODISCARD terracl_status tc_layer_conv2d_bn_run_into(terracl_module *m, terracl_runtime *rt,
                                                        const struct tc_conv2d *c,
                                                        const struct tc_batchnorm2d *bn, int relu,
                                                        const struct tc_tensor *x,
                                                        struct tc_tensor *y, terracl_error *err);
/* The same ending a residual block: y = act(BN(conv(x)) + y), y holding
 * the residual (the output's shape) on entry; one pass on CPU devices. */
TC_NODISCARD terracl_status tc_layer_conv2d_bn_accumulate(terracl_module *m, terracl_runtime *rt,
                                                          const struct tc_conv2d *c,
                                                          const struct tc_batchnorm2d *bn,
                                                          int relu, const struct tc_tensor *x,
                                                          struct tc_tensor *y,
                                                          terracl_error *err);

/* Two such layers in a row with ReLU after each (a UNet decoder block's
 * Conv2dReLU pair), on x or, with up not NULL, on torch.cat([interpolate(up,
 * size of x, "nearest"), x], 1) without making the joined map where the
 * device can read it in place; the second layer takes its input without a
 * padded copy where the device allows it (tc_op_conv2d_pair). y is
 * allocated here. */
TC_NODISCARD terracl_status tc_layer_conv2d_bn_relu_pair(
    terracl_module *m, terracl_runtime *rt, const struct tc_conv2d *c1,
    const struct tc_batchnorm2d *bn1, const struct tc_conv2d *c2, const struct tc_batchnorm2d *bn2,
    const struct tc_tensor *up, const struct tc_tensor *x, struct tc_tensor *y, terracl_error *err);

/* The same for ConvTranspose2d followed by BatchNorm2d (a neck's upsampling
 * unit): weight [in, out, k, k] scaled per output channel. */
TC_NODISCARD terracl_status tc_layer_fold_batchnorm_transpose(terracl_module *m,
                                                              const struct tc_conv_transpose2d *c,
                                                              const struct tc_batchnorm2d *bn,
                                                              terracl_error *err);
TC_NODISCARD terracl_status tc_layer_conv_transpose2d_bn_run(terracl_module *m,
                                                             terracl_runtime *rt,
                                                             const struct tc_conv_transpose2d *c,
                                                             const struct tc_batchnorm2d *bn,
                                                             const struct tc_tensor *x,
                                                             struct tc_tensor *y,
                                                             terracl_error *err);

TC_NODISCARD terracl_status tc_layer_conv_module(terracl_module *m, const char *prefix,
                                                 int64_t in, int64_t out, int64_t k, int64_t pad,
                                                 int64_t dilation, struct tc_conv_module *c,
                                                 terracl_error *err);
TC_NODISCARD terracl_status tc_layer_conv_module_run(terracl_module *m, terracl_runtime *rt,
                                                     const struct tc_conv_module *c,
                                                     const struct tc_tensor *x,
                                                     struct tc_tensor *y, terracl_error *err);
/* The same into y allocated by the caller (tc_layer_conv2d_bn_run_into). */
TC_NODISCARD terracl_status tc_layer_conv_module_run_into(terracl_module *m, terracl_runtime *rt,
                                                          const struct tc_conv_module *c,
                                                          const struct tc_tensor *x,
                                                          struct tc_tensor *y, terracl_error *err);

TC_NODISCARD terracl_status tc_layer_linear(terracl_module *m, const char *prefix, int64_t in,
                                            int64_t out, int bias, struct tc_linear *l,
                                            terracl_error *err);
/* x [..., in] -> y [..., out] */
TC_NODISCARD terracl_status tc_layer_linear_run(terracl_module *m, terracl_runtime *rt,
                                                const struct tc_linear *l,
                                                const struct tc_tensor *x, struct tc_tensor *y,
                                                terracl_error *err);

/* A layer scale gamma [out] (a parameter index) after Linear l, folded into
 * l when the weights are bound: the weight's rows and the bias times gamma.
 * From then on l computes gamma * (x W^T + b), which differs from scaling
 * the sums afterwards only by float rounding; gamma is not applied again. */
TC_NODISCARD terracl_status tc_layer_fold_layer_scale(terracl_module *m, const struct tc_linear *l,
                                                      size_t gamma, terracl_error *err);

#endif /* TC_MODELS_LAYERS_H */

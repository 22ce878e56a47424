/*
 * Building blocks shared by the smp decoders (internal): smp's convolutions,
 * plain or separable (depthwise k x k without bias, then pointwise 1 x 1:
 * keys "<name>.0" and "<name>.1"), and Conv -> BatchNorm -> ReLU sequences.
 */
#ifndef TC_MODELS_DECODERS_SMP_BLOCKS_H
#define TC_MODELS_DECODERS_SMP_BLOCKS_H

#include "graph/exec.h"
#include "graph/module.h"
#include "models/layers.h"

struct smp_conv {
    int separable;
    size_t dw;               /* depthwise weight [in, 1, k, k] when separable */
    struct tc_conv_geom dw_geom;
    struct tc_conv2d conv;   /* the whole conv, or the pointwise half */
};

struct smp_cbr {
    struct smp_conv conv;
    struct tc_batchnorm2d bn;
};

/* "%s%s" into buf, failing when it does not fit. */
TC_NODISCARD terracl_status smp_name(char *buf, size_t cap, const char *prefix, const char *name,
                                     terracl_error *err);

TC_NODISCARD terracl_status smp_conv_declare(terracl_module *m, const char *name, int64_t in,
                                             int64_t out, int64_t k, int64_t pad,
                                             int64_t dilation, int bias, int separable,
                                             struct smp_conv *c, terracl_error *err);
TC_NODISCARD terracl_status smp_conv_run(terracl_module *m, terracl_runtime *rt,
                                         const struct smp_conv *c, const struct tc_tensor *x,
                                         struct tc_tensor *y, terracl_error *err);

/* Conv (no bias) named conv_name, BatchNorm2d named bn_name; the BatchNorm
 * is folded into the (pointwise) convolution when the weights are bound, so
 * the pair runs only through smp_cbr_run. */
TC_NODISCARD terracl_status smp_cbr_declare(terracl_module *m, const char *conv_name,
                                            const char *bn_name, int64_t in, int64_t out,
                                            int64_t k, int64_t pad, int64_t dilation,
                                            int separable, struct smp_cbr *c,
                                            terracl_error *err);
/* y = ReLU(BN(conv(x))), allocated here: bias and ReLU in the convolution's
 * epilogue. */
TC_NODISCARD terracl_status smp_cbr_run(terracl_module *m, terracl_runtime *rt,
                                        const struct smp_cbr *c, const struct tc_tensor *x,
                                        struct tc_tensor *y, terracl_error *err);
/* The same into y allocated by the caller with the output's shape (a slice
 * of a concatenation, say). */
TC_NODISCARD terracl_status smp_cbr_run_into(terracl_module *m, terracl_runtime *rt,
                                             const struct smp_cbr *c, const struct tc_tensor *x,
                                             struct tc_tensor *y, terracl_error *err);

/* Marks the smp model arguments that only shape parts TerraTorch throws
 * away (the segmentation head's activation and upsampling, the aux_
 * classification head) as read. */
void smp_accept_head_args(const terracl_value *args, int has_upsampling);



/* smp's Conv2dReLU: Conv2d "<name>.0" (bias only without a norm), then
 * BatchNorm2d "<name>.1" (folded into the conv at bind time; ReLU in the
 * conv's epilogue) or nothing, then ReLU. */
struct smp_conv_relu {
    struct tc_conv2d conv;
    struct tc_batchnorm2d bn;
    int batchnorm;
};

TC_NODISCARD terracl_status smp_conv_relu_declare(terracl_module *m, const char *name, int64_t in,
                                                  int64_t out, int64_t k, int64_t pad,
                                                  int batchnorm, struct smp_conv_relu *c,
                                                  terracl_error *err);
TC_NODISCARD terracl_status smp_conv_relu_run(terracl_module *m, terracl_runtime *rt,
                                              const struct smp_conv_relu *c,
                                              const struct tc_tensor *x, struct tc_tensor *y,
                                              terracl_error *err);

/* smp's use_norm argument under `key` (or its deprecated name `old_key`,
 * which wins when given): True/"batchnorm" -> 1, False/"identity" -> 0;
 * smp's other norms are refused as unsupported. */
TC_NODISCARD terracl_status smp_read_use_norm(const terracl_value *args, const char *key,
                                              const char *old_key, int *batchnorm,
                                              terracl_error *err);

#endif /* TC_MODELS_DECODERS_SMP_BLOCKS_H */

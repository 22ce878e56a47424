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

/* Conv (no bias) named conv_name, BatchNorm2d named bn_name. */
TC_NODISCARD terracl_status smp_cbr_declare(terracl_module *m, const char *conv_name,
                                            const char *bn_name, int64_t in, int64_t out,
                                            int64_t k, int64_t pad, int64_t dilation,
                                            int separable, struct smp_cbr *c,
                                            terracl_error *err);
/* y = ReLU(BN(conv(x))), allocated here. */
TC_NODISCARD terracl_status smp_cbr_run(terracl_module *m, terracl_runtime *rt,
                                        const struct smp_cbr *c, const struct tc_tensor *x,
                                        struct tc_tensor *y, terracl_error *err);

/* Marks the smp model arguments that only shape parts TerraTorch throws
 * away (the segmentation head's activation and upsampling, the aux_
 * classification head) as read. */
void smp_accept_head_args(const terracl_value *args, int has_upsampling);

#endif /* TC_MODELS_DECODERS_SMP_BLOCKS_H */

/* BatchNorm2d in eval mode, torch.nn activations and the SCSE gate; kernels in cl_kernels/conv.cl. */
#include <string.h>

#include "ops/conv.h"
#include "ops/launch.h"

static terracl_status batchnorm(terracl_runtime *rt, const struct tc_tensor *x,
                                const struct tc_tensor *mean, const struct tc_tensor *var,
                                const struct tc_tensor *gamma, const struct tc_tensor *beta,
                                float eps, int relu, struct tc_tensor *y, terracl_error *err)
{
    char s1[128], s2[128];
    if (x->ndim < 2 || tc_tensor_numel(x) != tc_tensor_numel(y))
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "batchnorm: input %s must be [B, C, ...] and match output %s",
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1),
                       tc_shape_str(y->ndim, y->dims, s2, sizeof s2));
    size_t channels = (size_t)x->dims[1];
    size_t n = tc_tensor_numel(x), pixels = n / ((size_t)x->dims[0] * channels);
    const struct tc_tensor *stats[4] = {mean, var, gamma, beta};
    static const char *const names[4] = {"running_mean", "running_var", "weight", "bias"};
    for (int i = 0; i < 4; i++)
        if (tc_tensor_numel(stats[i]) != channels)
            return tc_fail(err, TERRACL_ERR_SHAPE, "batchnorm: %s %s does not match %zu channels",
                           names[i], tc_shape_str(stats[i]->ndim, stats[i]->dims, s1, sizeof s1),
                           channels);
    struct tc_karg ox, oy, om, ov, og, ob;
    terracl_status st;
    if ((st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(y, &oy, err)) ||
        (st = tc_offset_arg(mean, &om, err)) || (st = tc_offset_arg(var, &ov, err)) ||
        (st = tc_offset_arg(gamma, &og, err)) || (st = tc_offset_arg(beta, &ob, err)))
        return st;
    struct tc_karg args[] = {TC_KBUF(x->buf),     ox, TC_KBUF(y->buf),    oy,
                             TC_KBUF(mean->buf),  om, TC_KBUF(var->buf),  ov,
                             TC_KBUF(gamma->buf), og, TC_KBUF(beta->buf), ob,
                             TC_KUINT(channels),  TC_KUINT(pixels),       TC_KUINT(n),
                             TC_KFLOAT(eps),      TC_KINT(relu)};
    return tc_launch_1d(rt, "conv", "tc_batchnorm", n, args, 17, err);
}

terracl_status tc_op_batchnorm(terracl_runtime *rt, const struct tc_tensor *x,
                               const struct tc_tensor *mean, const struct tc_tensor *var,
                               const struct tc_tensor *gamma, const struct tc_tensor *beta,
                               float eps, struct tc_tensor *y, terracl_error *err)
{
    return batchnorm(rt, x, mean, var, gamma, beta, eps, 0, y, err);
}

terracl_status tc_op_batchnorm_relu(terracl_runtime *rt, const struct tc_tensor *x,
                                    const struct tc_tensor *mean, const struct tc_tensor *var,
                                    const struct tc_tensor *gamma, const struct tc_tensor *beta,
                                    float eps, struct tc_tensor *y, terracl_error *err)
{
    return batchnorm(rt, x, mean, var, gamma, beta, eps, 1, y, err);
}

static const struct {
    const char *name;
    enum tc_activation act;
} k_activations[] = {
    {"Identity", TC_ACT_IDENTITY}, {"ReLU", TC_ACT_RELU},
    {"GELU", TC_ACT_GELU},         {"Sigmoid", TC_ACT_SIGMOID},
    {"Tanh", TC_ACT_TANH},         {"SiLU", TC_ACT_SILU},
    {"LeakyReLU", TC_ACT_LEAKY_RELU}, {"ELU", TC_ACT_ELU},
    {"Mish", TC_ACT_MISH},         {"Softplus", TC_ACT_SOFTPLUS},
    {"ReLU6", TC_ACT_RELU6},       {"Hardswish", TC_ACT_HARDSWISH},
    {"Hardsigmoid", TC_ACT_HARDSIGMOID},
};

int tc_activation_from_name(const char *name, enum tc_activation *out)
{
    for (size_t i = 0; name && i < sizeof k_activations / sizeof k_activations[0]; i++)
        if (strcmp(name, k_activations[i].name) == 0) {
            *out = k_activations[i].act;
            return 1;
        }
    return 0;
}

terracl_status tc_op_activation(terracl_runtime *rt, const struct tc_tensor *x,
                                enum tc_activation act, struct tc_tensor *y, terracl_error *err)
{
    char s1[128], s2[128];
    if (tc_tensor_numel(x) != tc_tensor_numel(y))
        return tc_fail(err, TERRACL_ERR_SHAPE, "activation: input %s and output %s differ in size",
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1),
                       tc_shape_str(y->ndim, y->dims, s2, sizeof s2));
    if (act == TC_ACT_IDENTITY && x->buf == y->buf && x->offset == y->offset)
        return TERRACL_OK;
    float param = act == TC_ACT_LEAKY_RELU ? 0.01f : 1.0f;
    struct tc_karg ox, oy;
    terracl_status st;
    if ((st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(y, &oy, err)))
        return st;
    size_t n = tc_tensor_numel(x);
    struct tc_karg args[] = {TC_KBUF(x->buf), ox, TC_KBUF(y->buf), oy, TC_KUINT(n),
                             TC_KINT((int)act), TC_KFLOAT(param)};
    return tc_launch_1d(rt, "conv", "tc_activation", n, args, 7, err);
}

terracl_status tc_op_scse_gate(terracl_runtime *rt, const struct tc_tensor *x,
                               const struct tc_tensor *cse, const struct tc_tensor *sse,
                               struct tc_tensor *y, terracl_error *err)
{
    char s1[128], s2[128], s3[128];
    if (x->ndim != 4 || tc_tensor_numel(y) != tc_tensor_numel(x) ||
        tc_tensor_numel(cse) != (size_t)(x->dims[0] * x->dims[1]) ||
        tc_tensor_numel(sse) != (size_t)(x->dims[0] * x->dims[2] * x->dims[3]))
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "scse: input %s does not fit channel gate %s and spatial gate %s",
                       tc_shape_str(x->ndim, x->dims, s1, sizeof s1),
                       tc_shape_str(cse->ndim, cse->dims, s2, sizeof s2),
                       tc_shape_str(sse->ndim, sse->dims, s3, sizeof s3));
    struct tc_karg ox, oc, os, oy;
    terracl_status st;
    if ((st = tc_offset_arg(x, &ox, err)) || (st = tc_offset_arg(cse, &oc, err)) ||
        (st = tc_offset_arg(sse, &os, err)) || (st = tc_offset_arg(y, &oy, err)))
        return st;
    size_t n = tc_tensor_numel(x);
    struct tc_karg args[] = {TC_KBUF(x->buf), ox, TC_KBUF(cse->buf), oc, TC_KBUF(sse->buf), os,
                             TC_KBUF(y->buf), oy, TC_KUINT(x->dims[1]),
                             TC_KUINT(x->dims[2] * x->dims[3]), TC_KUINT(n)};
    return tc_launch_1d(rt, "conv", "tc_scse_gate", n, args, 11, err);
}

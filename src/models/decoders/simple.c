/*
 * The small TerraTorch decoders:
 *   IdentityDecoder  input out_index, unchanged;
 *   LinearDecoder    ConvTranspose2d(C, num_classes, k = stride =
 *                    upsampling_size) on input in_index; includes the head;
 *   MLPDecoder       all inputs concatenated over channels, a Linear over
 *                    the channels of every pixel ("hidden_layer", run as a
 *                    1x1 convolution: the same GEMM without the two
 *                    permutes), then an activation.
 */
#include <stdlib.h>
#include <string.h>

#include "models/decoders/common.h"
#include "models/decoders/decoders.h"
#include "models/layers.h"
#include "ops/layout.h"

/* ---- IdentityDecoder --------------------------------------------------- */

struct identity {
    struct tc_dec_channels ch;
    size_t index;
    int64_t out_index; /* as given: TerraTorch indexes the features it receives */
};

static terracl_status identity_forward(terracl_module *m, struct tc_exec *ex,
                                       const struct tc_feats *in, struct tc_feats *out,
                                       terracl_error *err)
{
    struct identity *p = m->impl;
    /* x[out_index] of whatever list arrives: a neck such as AggregateTokens
     * may pass fewer features than its channel list has entries. */
    int64_t k = p->out_index < 0 ? p->out_index + (int64_t)in->n : p->out_index;
    if (k < 0 || k >= (int64_t)in->n)
        return tc_fail(err, TERRACL_ERR_SHAPE, "IdentityDecoder: out_index %lld, but %zu features arrived",
                       (long long)p->out_index, in->n);
    terracl_status st = TERRACL_OK;
    struct tc_tensor y = {0};
    /* A copy: the caller may free its inputs before using the output. */
    if (st == TERRACL_OK)
        st = tc_dec_clone(ex->rt, &in->t[k], &y, err);
    if (st == TERRACL_OK)
        tc_dec_output(out, &y);
    return st;
}

static const struct tc_module_vtable k_identity_vt = {identity_forward, free};

terracl_status tc_identity_decoder(const terracl_value *first, const terracl_value *args,
                                   void *user, terracl_module **out, terracl_error *err)
{
    (void)user;
    *out = NULL;
    struct identity *p = calloc(1, sizeof *p);
    terracl_module *m = NULL;
    int64_t out_index = -1;
    terracl_status st = p ? TERRACL_OK : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK)
        st = tc_dec_read_channels(first, &p->ch, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "out_index", -1, &out_index, err);
    if (st == TERRACL_OK)
        st = tc_dec_index("out_index", out_index, p->ch.n, &p->index, err);
    if (p != NULL)
        p->out_index = out_index;
    if (st != TERRACL_OK) {
        free(p);
        return tc_fail_context(err, st, "IdentityDecoder");
    }
    st = tc_module_create("IdentityDecoder", &k_identity_vt, p, &m, err);
    if (st == TERRACL_OK) {
        terracl_value *cfg = terracl_value_new_map();
        tc_value_set_chained(cfg, "embed_dim", tc_value_int_list(p->ch.c, p->ch.n), &st, err);
        tc_value_set_chained(cfg, "out_index", terracl_value_new_int(out_index), &st, err);
        if (st == TERRACL_OK)
            st = tc_dec_finish(m, cfg, p->ch.c[p->index], err);
        else
            terracl_value_free(cfg);
    }
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "IdentityDecoder");
    }
    *out = m;
    return TERRACL_OK;
}

/* ---- LinearDecoder ----------------------------------------------------- */

struct linear_dec {
    struct tc_dec_channels ch;
    size_t index;
    struct tc_conv_transpose2d conv;
};

static terracl_status linear_forward(terracl_module *m, struct tc_exec *ex,
                                     const struct tc_feats *in, struct tc_feats *out,
                                     terracl_error *err)
{
    struct linear_dec *p = m->impl;
    terracl_status st = tc_dec_check_inputs(&p->ch, in, err);
    struct tc_tensor y = {0};
    if (st == TERRACL_OK)
        st = tc_layer_conv_transpose2d_run(m, ex->rt, &p->conv, &in->t[p->index], &y, err);
    if (st == TERRACL_OK)
        tc_dec_output(out, &y);
    return st;
}

static const struct tc_module_vtable k_linear_vt = {linear_forward, free};

terracl_status tc_linear_decoder(const terracl_value *first, const terracl_value *args,
                                 void *user, terracl_module **out, terracl_error *err)
{
    (void)user;
    *out = NULL;
    struct linear_dec *p = calloc(1, sizeof *p);
    terracl_module *m = NULL;
    int64_t in_index = -1, classes = 0, size = 0;
    terracl_status st = p ? TERRACL_OK : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK)
        st = tc_dec_read_channels(first, &p->ch, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "num_classes", 0, &classes, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "upsampling_size", 0, &size, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "in_index", -1, &in_index, err);
    if (st == TERRACL_OK)
        st = tc_dec_index("in_index", in_index, p->ch.n, &p->index, err);
    if (st == TERRACL_OK && (classes < 1 || classes > (1 << 20)))
        st = tc_fail(err, TERRACL_ERR_CONFIG, "num_classes is required and must be positive%s",
                     classes == 0 ? " (pass num_classes)" : "");
    if (st == TERRACL_OK && (size < 1 || size > 4096))
        st = tc_fail(err, TERRACL_ERR_CONFIG,
                     "upsampling_size is required and must be positive%s",
                     size == 0 ? " (pass decoder_upsampling_size)" : "");
    if (st != TERRACL_OK) {
        free(p);
        return tc_fail_context(err, st, "LinearDecoder");
    }
    st = tc_module_create("LinearDecoder", &k_linear_vt, p, &m, err);
    if (st == TERRACL_OK)
        st = tc_layer_conv_transpose2d(m, "conv", p->ch.c[p->index], classes, size, size, 0, 0, 1,
                                       &p->conv, err);
    if (st == TERRACL_OK) {
        terracl_value *cfg = terracl_value_new_map();
        tc_value_set_chained(cfg, "embed_dim", tc_value_int_list(p->ch.c, p->ch.n), &st, err);
        tc_value_set_chained(cfg, "num_classes", terracl_value_new_int(classes), &st, err);
        tc_value_set_chained(cfg, "upsampling_size", terracl_value_new_int(size), &st, err);
        tc_value_set_chained(cfg, "in_index", terracl_value_new_int(in_index), &st, err);
        tc_value_set_chained(cfg, "includes_head", terracl_value_new_bool(1), &st, err);
        if (st == TERRACL_OK)
            st = tc_dec_finish(m, cfg, classes, err);
        else
            terracl_value_free(cfg);
    }
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "LinearDecoder");
    }
    *out = m;
    return TERRACL_OK;
}

/* ---- MLPDecoder -------------------------------------------------------- */

struct mlp {
    struct tc_dec_channels ch;
    size_t index;
    int64_t out_channels;
    enum tc_activation act;
    struct tc_linear hidden;
};

static terracl_status mlp_forward_maps(terracl_module *m, struct tc_exec *ex,
                                       const struct tc_feats *in, struct tc_feats *out,
                                       terracl_error *err);

/* TerraTorch 1.2 also takes vectors [B, C] (pooled tokens): they run as
 * 1x1 maps and come back as [B, out]. */
static terracl_status mlp_forward(terracl_module *m, struct tc_exec *ex, const struct tc_feats *in,
                                  struct tc_feats *out, terracl_error *err)
{
    if (in->n == 0 || in->t[0].ndim != 2)
        return mlp_forward_maps(m, ex, in, out, err);
    struct tc_feats maps = {0};
    for (size_t i = 0; i < in->n; i++) {
        char s[128];
        const struct tc_tensor *t = &in->t[i];
        if (t->ndim != 2)
            return tc_fail(err, TERRACL_ERR_SHAPE, "MLPDecoder: input %zu is %s; input 0 is a vector [B, C]",
                           i, tc_shape_str(t->ndim, t->dims, s, sizeof s));
        int64_t d4[4] = {t->dims[0], t->dims[1], 1, 1};
        terracl_status st = tc_tensor_reshape(t, 4, d4, &maps.t[i], err);
        if (st != TERRACL_OK)
            return st;
        maps.t[i].owns_buf = 0;
        maps.n = i + 1;
    }
    terracl_status st = mlp_forward_maps(m, ex, &maps, out, err);
    if (st == TERRACL_OK)
        out->t[0].ndim = 2; /* [B, out, 1, 1] -> [B, out] */
    return st;
}

static terracl_status mlp_forward_maps(terracl_module *m, struct tc_exec *ex,
                                       const struct tc_feats *in, struct tc_feats *out,
                                       terracl_error *err)
{
    struct mlp *p = m->impl;
    terracl_runtime *rt = ex->rt;
    terracl_status st = tc_dec_check_inputs(&p->ch, in, err);
    if (st != TERRACL_OK)
        return st;
    const struct tc_tensor *x0 = &in->t[0];
    int64_t total = 0;
    for (size_t i = 0; i < in->n; i++) {
        const struct tc_tensor *t = &in->t[i];
        if (t->dims[2] != x0->dims[2] || t->dims[3] != x0->dims[3])
            return tc_fail(err, TERRACL_ERR_SHAPE,
                           "input %zu is %lldx%lld, input 0 is %lldx%lld: concatenation needs "
                           "equal sizes",
                           i, (long long)t->dims[2], (long long)t->dims[3], (long long)x0->dims[2],
                           (long long)x0->dims[3]);
        total += t->dims[1];
    }
    if (total != p->hidden.in)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "the inputs have %lld channels together; hidden_layer expects %lld "
                       "(out_channels %lld x %zu inputs)",
                       (long long)total, (long long)p->hidden.in, (long long)p->out_channels,
                       in->n);
    struct tc_tensor cat = {0}, y = {0};
    const struct tc_tensor *x = x0;
    if (in->n > 1) {
        st = tc_dec_alloc(rt, x0->dims[0], total, x0->dims[2], x0->dims[3], &cat, err);
        if (st == TERRACL_OK)
            st = tc_op_concat(rt, in->t, in->n, 1, &cat, err);
        x = &cat;
    }
    /* Linear over channels == 1x1 convolution with the weight [out, in, 1, 1]. */
    struct tc_tensor w = *tc_dec_param(m, p->hidden.w);
    w.owns_buf = 0;
    w.ndim = 4;
    w.dims[0] = p->hidden.out;
    w.dims[1] = p->hidden.in;
    w.dims[2] = w.dims[3] = 1;
    struct tc_conv_geom g = {1, 1, 0, 0, 1, 1};
    if (st == TERRACL_OK)
        st = tc_dec_alloc(rt, x0->dims[0], p->hidden.out, x0->dims[2], x0->dims[3], &y, err);
    if (st == TERRACL_OK)
        st = tc_op_conv2d(rt, x, &w, tc_dec_param(m, p->hidden.b), &g, &y, err);
    if (st == TERRACL_OK)
        st = tc_op_activation(rt, &y, p->act, &y, err);
    tc_tensor_free(&cat);
    if (st != TERRACL_OK) {
        tc_tensor_free(&y);
        return st;
    }
    tc_dec_output(out, &y);
    return TERRACL_OK;
}

static const struct tc_module_vtable k_mlp_vt = {mlp_forward, free};

terracl_status tc_mlp_decoder(const terracl_value *first, const terracl_value *args, void *user,
                              terracl_module **out, terracl_error *err)
{
    (void)user;
    *out = NULL;
    struct mlp *p = calloc(1, sizeof *p);
    terracl_module *m = NULL;
    int64_t out_index = -1, channels = 100, out_dim = 100;
    const char *activation = "ReLU";
    terracl_status st = p ? TERRACL_OK : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK)
        st = tc_dec_read_channels(first, &p->ch, err);
    /* channels and out_dim are accepted and unused, as in TerraTorch. */
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "channels", 100, &channels, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "out_dim", 100, &out_dim, err);
    if (st == TERRACL_OK)
        st = terracl_args_string(args, "activation", "ReLU", &activation, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "out_index", -1, &out_index, err);
    if (st == TERRACL_OK)
        st = tc_dec_index("out_index", out_index, p->ch.n, &p->index, err);
    if (st == TERRACL_OK && !tc_activation_from_name(activation, &p->act))
        st = tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                     "activation '%s' is not supported (ReLU, GELU, Identity, Sigmoid, Tanh, "
                     "SiLU, LeakyReLU, ELU, Mish, Softplus, ReLU6, Hardswish, Hardsigmoid)",
                     activation);
    if (st != TERRACL_OK) {
        free(p);
        return tc_fail_context(err, st, "MLPDecoder");
    }
    p->out_channels = p->ch.c[p->index];
    st = tc_module_create("MLPDecoder", &k_mlp_vt, p, &m, err);
    if (st == TERRACL_OK)
        st = tc_layer_linear(m, "hidden_layer", p->out_channels * (int64_t)p->ch.n,
                             p->out_channels, 1, &p->hidden, err);
    if (st == TERRACL_OK) /* mlp_forward runs it as a 1x1 convolution: keep it unpacked */
        tc_module_param(m, p->hidden.w)->gemm_weight = TC_PLAIN;
    if (st == TERRACL_OK) {
        terracl_value *cfg = terracl_value_new_map();
        tc_value_set_chained(cfg, "embed_dim", tc_value_int_list(p->ch.c, p->ch.n), &st, err);
        tc_value_set_chained(cfg, "channels", terracl_value_new_int(channels), &st, err);
        tc_value_set_chained(cfg, "out_dim", terracl_value_new_int(out_dim), &st, err);
        tc_value_set_chained(cfg, "activation", terracl_value_new_string(activation), &st, err);
        tc_value_set_chained(cfg, "out_index", terracl_value_new_int(out_index), &st, err);
        if (st == TERRACL_OK)
            st = tc_dec_finish(m, cfg, p->out_channels, err);
        else
            terracl_value_free(cfg);
    }
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "MLPDecoder");
    }
    *out = m;
    return TERRACL_OK;
}

/* ---- includes_head ----------------------------------------------------- */

int tc_decoder_name_includes_head(const char *name)
{
    return name != NULL && strcmp(name, "LinearDecoder") == 0;
}

int tc_decoder_includes_head(const terracl_module *m)
{
    return m != NULL && m->vt == &k_linear_vt;
}

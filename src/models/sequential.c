/*
 * Sequential modules: the public building blocks for users' own components
 * (include/terracl/module.h). Layers run in order on one [B, C, H, W]
 * tensor; the result is the module's single output feature.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/exec.h"
#include "models/layers.h"
#include "ops/conv.h"

#define MAX_LAYERS 64

enum layer_kind { LAYER_CONV, LAYER_ACT };

struct layer {
    enum layer_kind kind;
    struct tc_conv2d conv;
    enum tc_activation act;
};

struct sequential {
    struct layer layers[MAX_LAYERS];
    size_t n;
};

static terracl_status sequential_forward(terracl_module *m, struct tc_exec *ex,
                                         const struct tc_feats *in, struct tc_feats *out,
                                         terracl_error *err)
{
    struct sequential *s = m->impl;
    if (in->n < 1 || in->t[0].ndim != 4)
        return tc_fail(err, TERRACL_ERR_SHAPE, "%s expects one [B, C, H, W] input", m->type);
    struct tc_tensor cur = in->t[0];
    cur.owns_buf = 0;
    terracl_status st = TERRACL_OK;
    for (size_t i = 0; i < s->n && st == TERRACL_OK; i++) {
        const struct layer *l = &s->layers[i];
        if (l->kind == LAYER_CONV) {
            struct tc_tensor next;
            st = tc_layer_conv2d_run(m, ex->rt, &l->conv, &cur, &next, err);
            tc_tensor_free(&cur);
            cur = next;
        } else {
            if (!cur.owns_buf) { /* never write into the caller's input */
                struct tc_tensor copy;
                st = tc_tensor_alloc(ex->rt, cur.ndim, cur.dims, &copy, err);
                if (st == TERRACL_OK)
                    st = tc_buf_copy(ex->rt, cur.buf, cur.offset * sizeof(float), copy.buf, 0,
                                     tc_tensor_numel(&cur) * sizeof(float), err);
                cur = copy;
            }
            if (st == TERRACL_OK)
                st = tc_op_activation(ex->rt, &cur, l->act, &cur, err);
        }
    }
    if (st != TERRACL_OK) {
        tc_tensor_free(&cur);
        return tc_fail_context(err, st, "%s", m->type);
    }
    if (!cur.owns_buf) { /* no layers: hand out a copy */
        struct tc_tensor copy;
        st = tc_tensor_alloc(ex->rt, cur.ndim, cur.dims, &copy, err);
        if (st == TERRACL_OK)
            st = tc_buf_copy(ex->rt, cur.buf, cur.offset * sizeof(float), copy.buf, 0,
                             tc_tensor_numel(&cur) * sizeof(float), err);
        if (st != TERRACL_OK)
            return st;
        cur = copy;
    }
    out->t[0] = cur;
    out->n = 1;
    return TERRACL_OK;
}

static const struct tc_module_vtable k_sequential_vt = {sequential_forward, free};

terracl_status terracl_sequential_create(const char *type, terracl_module **out,
                                         terracl_error *err)
{
    if (type == NULL || out == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_sequential_create: NULL argument");
    struct sequential *s = calloc(1, sizeof *s);
    if (s == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    return tc_module_create(type, &k_sequential_vt, s, out, err);
}

static terracl_status next_layer(terracl_module *seq, struct layer **out, terracl_error *err)
{
    if (seq == NULL || seq->vt != &k_sequential_vt)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "not a sequential module");
    struct sequential *s = seq->impl;
    if (s->n == MAX_LAYERS)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "%s: at most %d layers", seq->type, MAX_LAYERS);
    *out = &s->layers[s->n];
    memset(*out, 0, sizeof **out);
    return TERRACL_OK;
}

terracl_status terracl_sequential_add_conv2d(terracl_module *seq, const char *name,
                                             int64_t in_channels, int64_t out_channels,
                                             int64_t kernel, int64_t stride, int64_t padding,
                                             int bias, terracl_error *err)
{
    struct layer *l = NULL;
    terracl_status st = next_layer(seq, &l, err);
    if (st != TERRACL_OK)
        return st;
    if (name == NULL || in_channels <= 0 || out_channels <= 0 || kernel <= 0 || stride <= 0 ||
        padding < 0)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "%s: conv2d needs a name, positive channels, kernel and stride",
                       seq->type);
    l->kind = LAYER_CONV;
    st = tc_layer_conv2d(seq, name, in_channels, out_channels, kernel, stride, padding, 1, bias,
                         &l->conv, err);
    if (st == TERRACL_OK)
        ((struct sequential *)seq->impl)->n++;
    return st;
}

terracl_status terracl_sequential_add_activation(terracl_module *seq, const char *activation,
                                                 terracl_error *err)
{
    struct layer *l = NULL;
    terracl_status st = next_layer(seq, &l, err);
    if (st != TERRACL_OK)
        return st;
    if (activation == NULL || !tc_activation_from_name(activation, &l->act))
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "%s: unknown activation '%s' (expected a torch.nn name such as ReLU or GELU)",
                       seq->type, activation ? activation : "(null)");
    l->kind = LAYER_ACT;
    ((struct sequential *)seq->impl)->n++;
    return TERRACL_OK;
}

terracl_status terracl_module_set_out_channels(terracl_module *m, const int64_t *channels,
                                               size_t n, terracl_error *err)
{
    if (m == NULL || (n > 0 && channels == NULL))
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_module_set_out_channels: NULL argument");
    return tc_module_set_out_channels(m, channels, n, err);
}

void terracl_module_set_config(terracl_module *m, terracl_value *config)
{
    if (m == NULL)
        terracl_value_free(config);
    else
        tc_module_set_config(m, config);
}

/*
 * TerraTorch's FCNDecoder: num_convs upscaling blocks on one input, each
 *   ConvTranspose2d(k 2, stride 2) -> Conv2d(3x3, pad 1) -> LayerNorm over
 *   channels (eps 1e-6) -> GELU,
 * so the output is 2^num_convs times larger. Keys convs.{i}.0 (transposed
 * conv), convs.{i}.1 (conv), convs.{i}.2.ln (norm).
 */
#include <stdio.h>
#include <stdlib.h>

#include "models/decoders/common.h"
#include "models/decoders/decoders.h"
#include "models/layers.h"
#include "ops/elementwise.h"
#include "ops/norm.h"

#define FCN_MAX_CONVS 16
#define FCN_LN_EPS 1e-6f

struct fcn_block {
    struct tc_conv_transpose2d up;
    struct tc_conv2d conv;
    size_t ln_w, ln_b;
};

struct fcn {
    struct tc_dec_channels ch;
    size_t in_index;
    int64_t channels, num_convs;
    struct fcn_block blocks[FCN_MAX_CONVS];
};

static terracl_status fcn_forward(terracl_module *m, struct tc_exec *ex, const struct tc_feats *in,
                                  struct tc_feats *out, terracl_error *err)
{
    struct fcn *p = m->impl;
    terracl_status st = tc_dec_check_inputs(&p->ch, in, err);
    if (st != TERRACL_OK)
        return st;
    const struct tc_tensor *x = &in->t[p->in_index];
    struct tc_tensor cur = {0}, up = {0};
    for (int64_t i = 0; i < p->num_convs && st == TERRACL_OK; i++) {
        const struct fcn_block *b = &p->blocks[i];
        st = tc_layer_conv_transpose2d_run(m, ex->rt, &b->up, i == 0 ? x : &cur, &up, err);
        tc_tensor_free(&cur);
        if (st == TERRACL_OK)
            st = tc_layer_conv2d_run(m, ex->rt, &b->conv, &up, &cur, err);
        tc_tensor_free(&up);
        if (st == TERRACL_OK)
            st = tc_op_layernorm_channels(ex->rt, &cur, tc_dec_param(m, b->ln_w),
                                          tc_dec_param(m, b->ln_b), FCN_LN_EPS, &cur, err);
        if (st == TERRACL_OK)
            st = tc_op_gelu(ex->rt, &cur, &cur, err);
    }
    if (st != TERRACL_OK) {
        tc_tensor_free(&cur);
        return st;
    }
    tc_dec_output(out, &cur);
    return TERRACL_OK;
}

static const struct tc_module_vtable k_fcn_vt = {fcn_forward, free};

static terracl_status declare(terracl_module *m, struct fcn *p, terracl_error *err)
{
    terracl_status st = TERRACL_OK;
    for (int64_t i = 0; i < p->num_convs && st == TERRACL_OK; i++) {
        struct fcn_block *b = &p->blocks[i];
        int64_t cin = i == 0 ? p->ch.c[p->in_index] : p->channels;
        char name[64];
        snprintf(name, sizeof name, "convs.%lld.0", (long long)i);
        st = tc_layer_conv_transpose2d(m, name, cin, p->channels, 2, 2, 0, 0, 1, &b->up, err);
        snprintf(name, sizeof name, "convs.%lld.1", (long long)i);
        if (st == TERRACL_OK)
            st = tc_layer_conv2d(m, name, p->channels, p->channels, 3, 1, 1, 1, 1, &b->conv, err);
        snprintf(name, sizeof name, "convs.%lld.2.ln.weight", (long long)i);
        if (st == TERRACL_OK)
            st = tc_module_add_param(m, name, 1, &p->channels, &b->ln_w, err);
        snprintf(name, sizeof name, "convs.%lld.2.ln.bias", (long long)i);
        if (st == TERRACL_OK)
            st = tc_module_add_param(m, name, 1, &p->channels, &b->ln_b, err);
    }
    return st;
}

terracl_status tc_fcn_decoder(const terracl_value *first, const terracl_value *args, void *user,
                              terracl_module **out, terracl_error *err)
{
    (void)user;
    *out = NULL;
    struct fcn *p = calloc(1, sizeof *p);
    terracl_module *m = NULL;
    int64_t in_index = -1;
    terracl_status st = p ? TERRACL_OK : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK)
        st = tc_dec_read_channels(first, &p->ch, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "channels", 256, &p->channels, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "num_convs", 4, &p->num_convs, err);
    if (st == TERRACL_OK)
        st = terracl_args_int(args, "in_index", -1, &in_index, err);
    if (st == TERRACL_OK)
        st = tc_dec_index("in_index", in_index, p->ch.n, &p->in_index, err);
    if (st == TERRACL_OK && p->num_convs < 1)
        st = tc_fail(err, TERRACL_ERR_CONFIG, "num_convs must be >= 1 (got %lld)",
                     (long long)p->num_convs);
    if (st == TERRACL_OK && p->num_convs > FCN_MAX_CONVS)
        st = tc_fail(err, TERRACL_ERR_CONFIG, "num_convs %lld is above the supported %d",
                     (long long)p->num_convs, FCN_MAX_CONVS);
    if (st == TERRACL_OK && (p->channels < 1 || p->channels > (1 << 20)))
        st = tc_fail(err, TERRACL_ERR_CONFIG, "channels must be a positive count (got %lld)",
                     (long long)p->channels);
    if (st != TERRACL_OK) {
        free(p);
        return tc_fail_context(err, st, "FCNDecoder");
    }
    st = tc_module_create("FCNDecoder", &k_fcn_vt, p, &m, err);
    if (st == TERRACL_OK)
        st = declare(m, p, err);
    if (st == TERRACL_OK) {
        terracl_value *cfg = terracl_value_new_map();
        tc_value_set_chained(cfg, "embed_dim", tc_value_int_list(p->ch.c, p->ch.n), &st, err);
        tc_value_set_chained(cfg, "channels", terracl_value_new_int(p->channels), &st, err);
        tc_value_set_chained(cfg, "num_convs", terracl_value_new_int(p->num_convs), &st, err);
        tc_value_set_chained(cfg, "in_index", terracl_value_new_int(in_index), &st, err);
        if (st == TERRACL_OK)
            st = tc_dec_finish(m, cfg, p->channels, err);
        else
            terracl_value_free(cfg);
    }
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "FCNDecoder");
    }
    *out = m;
    return TERRACL_OK;
}

/*
 * smp's Linknet decoder (LinknetDecoder): n - 1 blocks from the last
 * feature up; block i maps channels[i] to channels[i + 1] (the features'
 * channels from the last to the second, then 32) through Conv2dReLU 1x1 to
 * C/4, ConvTranspose2d 4x4 stride 2 padding 1 (bias) + BatchNorm + ReLU
 * (2x up), Conv2dReLU 1x1 to the block's output, then adds the next finer
 * feature (every block but the last). The 2x steps need each feature twice
 * the next one's size, as in PyTorch. Keys blocks.{i}.block.{0,1,2}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/decoders/common.h"
#include "models/decoders/smp.h"
#include "models/decoders/smp_blocks.h"
#include "ops/conv.h"
#include "ops/elementwise.h"

#define LINKNET_PREFINAL 32 /* smp's fixed width before the head */

struct link_block {
    struct smp_conv_relu reduce, expand;
    struct tc_conv_transpose2d up;
    struct tc_batchnorm2d up_bn;
};

struct linknet {
    struct tc_dec_channels ch;
    const char *prefix;
    int batchnorm;
    size_t nblocks;
    struct link_block blocks[TC_DEC_MAX_INPUTS];
};

static terracl_status block_run(terracl_module *m, terracl_runtime *rt, const struct linknet *p,
                                const struct link_block *b, const struct tc_tensor *x,
                                struct tc_tensor *y, terracl_error *err)
{
    struct tc_tensor r = {0}, u = {0};
    terracl_status st = smp_conv_relu_run(m, rt, &b->reduce, x, &r, err);
    /* The upsampling's BatchNorm is folded into the ConvTranspose2d. */
    if (st == TERRACL_OK)
        st = p->batchnorm ? tc_layer_conv_transpose2d_bn_run(m, rt, &b->up, &b->up_bn, &r, &u, err)
                          : tc_layer_conv_transpose2d_run(m, rt, &b->up, &r, &u, err);
    if (st == TERRACL_OK)
        st = tc_op_relu(rt, &u, &u, err);
    if (st == TERRACL_OK)
        st = smp_conv_relu_run(m, rt, &b->expand, &u, y, err);
    tc_tensor_free(&r);
    tc_tensor_free(&u);
    return st;
}

static terracl_status linknet_forward(terracl_module *m, struct tc_exec *ex,
                                      const struct tc_feats *in, struct tc_feats *out,
                                      terracl_error *err)
{
    struct linknet *p = m->impl;
    terracl_runtime *rt = ex->rt;
    terracl_status st = tc_dec_check_inputs(&p->ch, in, err);
    if (st != TERRACL_OK)
        return st;
    size_t n = p->ch.n;
    struct tc_tensor x = {0};
    const struct tc_tensor *cur = &in->t[n - 1];
    for (size_t i = 0; i < p->nblocks && st == TERRACL_OK; i++) {
        struct tc_tensor y = {0};
        st = block_run(m, rt, p, &p->blocks[i], cur, &y, err);
        const struct tc_tensor *skip = i + 2 < n ? &in->t[n - 2 - i] : NULL;
        if (st == TERRACL_OK && skip != NULL) {
            if (skip->dims[2] != y.dims[2] || skip->dims[3] != y.dims[3])
                st = tc_fail(err, TERRACL_ERR_SHAPE,
                             "block %zu doubles its input to %lldx%lld, feature %zu is %lldx%lld "
                             "(smp's Linknet needs each feature twice the next one's size)",
                             i, (long long)y.dims[2], (long long)y.dims[3], n - 2 - i,
                             (long long)skip->dims[2], (long long)skip->dims[3]);
            else
                st = tc_op_add(rt, &y, skip, &y, err);
        }
        tc_tensor_free(&x);
        x = y;
        cur = &x;
    }
    if (st != TERRACL_OK) {
        tc_tensor_free(&x);
        return st;
    }
    tc_dec_output(out, &x);
    return TERRACL_OK;
}

static const struct tc_module_vtable k_linknet_vt = {linknet_forward, free};

static terracl_status declare(terracl_module *m, struct linknet *p, terracl_error *err)
{
    size_t n = p->ch.n;
    int64_t chans[TC_DEC_MAX_INPUTS + 1];
    for (size_t i = 0; i + 1 < n; i++)
        chans[i] = p->ch.c[n - 1 - i]; /* features[1:] reversed */
    chans[n - 1] = LINKNET_PREFINAL;
    char name[256], sub[64];
    terracl_status st = TERRACL_OK;
    for (size_t i = 0; i < p->nblocks && st == TERRACL_OK; i++) {
        struct link_block *b = &p->blocks[i];
        int64_t in = chans[i], q = chans[i] / 4, outc = chans[i + 1];
        if (q < 1)
            return tc_fail(err, TERRACL_ERR_CONFIG,
                           "block %zu has %lld input channels; smp's Linknet needs at least 4", i,
                           (long long)in);
        snprintf(sub, sizeof sub, "blocks.%zu.block.0", i);
        st = smp_name(name, sizeof name, p->prefix, sub, err);
        if (st == TERRACL_OK)
            st = smp_conv_relu_declare(m, name, in, q, 1, 0, p->batchnorm, &b->reduce, err);
        snprintf(sub, sizeof sub, "blocks.%zu.block.1.0", i);
        if (st == TERRACL_OK)
            st = smp_name(name, sizeof name, p->prefix, sub, err);
        if (st == TERRACL_OK)
            st = tc_layer_conv_transpose2d(m, name, q, q, 4, 2, 1, 0, 1, &b->up, err);
        snprintf(sub, sizeof sub, "blocks.%zu.block.1.1", i);
        if (st == TERRACL_OK && p->batchnorm &&
            (st = smp_name(name, sizeof name, p->prefix, sub, err)) == TERRACL_OK)
            st = tc_layer_batchnorm2d(m, name, q, 1e-5f, &b->up_bn, err);
        if (st == TERRACL_OK && p->batchnorm)
            st = tc_layer_fold_batchnorm_transpose(m, &b->up, &b->up_bn, err);
        snprintf(sub, sizeof sub, "blocks.%zu.block.2", i);
        if (st == TERRACL_OK)
            st = smp_name(name, sizeof name, p->prefix, sub, err);
        if (st == TERRACL_OK)
            st = smp_conv_relu_declare(m, name, q, outc, 1, 0, p->batchnorm, &b->expand, err);
    }
    return st;
}

terracl_status tc_smp_linknet_decoder_at(const terracl_value *first, const terracl_value *args,
                                         const char *prefix, terracl_module **out,
                                         terracl_error *err)
{
    *out = NULL;
    struct linknet *p = calloc(1, sizeof *p);
    terracl_module *m = NULL;
    terracl_status st = p ? tc_dec_read_channels(first, &p->ch, err)
                          : tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (st == TERRACL_OK && p->ch.n < 2)
        st = tc_fail(err, TERRACL_ERR_CONFIG, "smp's Linknet needs at least 2 feature maps");
    if (st == TERRACL_OK)
        st = smp_read_use_norm(args, "decoder_use_norm", "decoder_use_batchnorm", &p->batchnorm,
                               err);
    if (st != TERRACL_OK) {
        free(p);
        return tc_fail_context(err, st, "smp Linknet");
    }
    smp_accept_head_args(args, 0);
    p->prefix = prefix;
    p->nblocks = p->ch.n - 1; /* smp's encoder_depth */
    st = tc_module_create("LinknetDecoder", &k_linknet_vt, p, &m, err);
    if (st == TERRACL_OK)
        st = declare(m, p, err);
    if (st == TERRACL_OK) {
        terracl_value *cfg = terracl_value_new_map();
        tc_value_set_chained(cfg, "embed_dim", tc_value_int_list(p->ch.c, p->ch.n), &st, err);
        tc_value_set_chained(cfg, "decoder_use_norm",
                             terracl_value_new_string(p->batchnorm ? "batchnorm" : "identity"),
                             &st, err);
        if (st == TERRACL_OK)
            st = tc_dec_finish(m, cfg, LINKNET_PREFINAL, err);
        else
            terracl_value_free(cfg);
    }
    if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        return tc_fail_context(err, st, "smp Linknet");
    }
    *out = m;
    return TERRACL_OK;
}

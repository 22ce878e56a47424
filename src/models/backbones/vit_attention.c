/* The attention half of a pre-norm ViT block (see vit_attention.h). */
#include "models/backbones/vit_attention.h"

#include <math.h>

#include "ops/attention.h"
#include "ops/linear.h"
#include "ops/norm.h"

terracl_status tc_vit_attention_residual(terracl_runtime *rt,
                                         const struct tc_vit_attention_weights *w, int64_t heads,
                                         float ln_eps, struct tc_tensor *x, struct tc_tensor *h,
                                         struct tc_tensor *qkv, struct tc_tensor *scores,
                                         struct tc_tensor *attn, terracl_error *err)
{
    int64_t dim = x->dims[x->ndim - 1];
    float scale = 1.0f / sqrtf((float)(dim / heads));
    terracl_status st;
    /* The residual add rides inside the output projection's GEMM. */
    if ((st = tc_op_layernorm(rt, x, w->norm_w, w->norm_b, ln_eps, h, err)) ||
        (st = tc_op_linear(rt, h, w->qkv_w, w->qkv_b, qkv, err)) ||
        (st = tc_op_attention(rt, qkv, heads, scale, scores, attn, err)) ||
        (st = tc_op_linear_ex(rt, attn, w->proj_w, w->proj_b, 0, 1, x, err)))
        return st;
    return TERRACL_OK;
}

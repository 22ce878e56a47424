/*
 * A UNet decoder block's two convolutions. Its second convolution's
 * implicit kernel reads a zero-padded copy of its input, which costs a
 * pass over the map (16 channels at 224x224: 3.3 MB read and written);
 * here the first convolution writes that copy itself, borders and all,
 * so the pass goes, and its stores become whole vectors (the padding
 * columns it computes land on the copy's borders, stored as zeros).
 */
#include "ops/conv_pair.h"

#include "ops/conv_implicit.h"
#include "ops/resize.h"
#include "ops/upcat.h"

static terracl_status join_shape(const struct tc_tensor *up, const struct tc_tensor *x,
                                 struct tc_tensor *joined, terracl_error *err)
{
    *joined = *x;
    joined->owns_buf = 0;
    if (up == NULL)
        return TERRACL_OK;
    if (up->ndim != 4 || x->ndim != 4 || up->dims[0] != x->dims[0]) {
        char s1[128], s2[128];
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "conv2d pair: cannot join %s with %s (expected 4-D maps of one batch)",
                       tc_shape_str(up->ndim, up->dims, s1, sizeof s1),
                       tc_shape_str(x->ndim, x->dims, s2, sizeof s2));
    }
    joined->dims[1] = up->dims[1] + x->dims[1];
    return TERRACL_OK;
}

/* The intermediate map's shape: the first convolution's output on `in`. */
static terracl_status mid_shape(const struct tc_tensor *in, const struct tc_tensor *w,
                                const struct tc_conv_geom *g, struct tc_tensor *mid,
                                terracl_error *err)
{
    *mid = (struct tc_tensor){0};
    mid->ndim = 4;
    if (in->ndim != 4 || w->ndim != 4)
        return tc_fail(err, TERRACL_ERR_SHAPE, "conv2d pair: expected 4-D input and weight");
    if (!tc_conv2d_output_dims(in, w, g, mid->dims))
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "conv2d pair: the first kernel does not fit its input");
    return TERRACL_OK;
}

static void profile_begin(terracl_runtime *rt, const char *op, const struct tc_tensor *x,
                          const struct tc_tensor *w, const struct tc_conv_geom *g,
                          const struct tc_tensor *y)
{
    tc_conv_profile_begin(rt, op, x, w->dims[1], w->dims[0], w->dims[2], w->dims[3], g,
                          tc_conv2d_flops(w, y));
}

static terracl_status handed_over(terracl_runtime *rt, const struct tc_tensor *up,
                                  const struct tc_tensor *x, const struct tc_tensor *joined,
                                  const struct tc_tensor *w1, const struct tc_tensor *b1,
                                  const struct tc_conv_geom *g1, const struct tc_tensor *w2,
                                  const struct tc_tensor *b2, const struct tc_conv_geom *g2,
                                  int relu, const struct tc_tensor *mid, struct tc_tensor *y,
                                  terracl_error *err)
{
    terracl_status st;
    if ((st = tc_conv2d_check(joined, w1, b1, g1, mid, err)) ||
        (st = tc_conv2d_check(mid, w2, b2, g2, y, err)))
        return st;
    struct tc_padded_map map;
    if ((st = tc_conv2d_implicit_padded_size(rt, mid->dims[0], mid->dims[1], mid->dims[2],
                                             mid->dims[3], w2->dims[0], &map, err)))
        return st;
    struct tc_tensor padded = {0};
    int64_t n[1] = {(int64_t)(map.item * (size_t)mid->dims[0])};
    if ((st = tc_tensor_alloc(rt, 1, n, &padded, err)))
        return st;
    map.buf = padded.buf;
    map.offset = padded.offset;
    /* The scopes name the layers as the one-by-one path does (a join's
     * shape is its skip's map with the joined channels). */
    profile_begin(rt, up ? "Conv2d +join" : "Conv2d", x, w1, g1, mid);
    st = tc_conv2d_implicit_to_padded(rt, up, x, w1, b1, g1, relu, mid, &map, err);
    tc_profile_op_end(rt);
    if (st == TERRACL_OK) {
        profile_begin(rt, "Conv2d", mid, w2, g2, y);
        st = tc_conv2d_implicit_from_padded(rt, mid, &map, w2, b2, g2, relu, y, err);
        tc_profile_op_end(rt);
    }
    tc_tensor_free(&padded);
    return st;
}

terracl_status tc_op_conv2d_pair(terracl_runtime *rt, const struct tc_tensor *up,
                                 const struct tc_tensor *x, const struct tc_tensor *w1,
                                 const struct tc_tensor *b1, const struct tc_conv_geom *g1,
                                 const struct tc_tensor *w2, const struct tc_tensor *b2,
                                 const struct tc_conv_geom *g2, int relu, struct tc_tensor *y,
                                 terracl_error *err)
{
    struct tc_tensor joined, mid;
    terracl_status st = join_shape(up, x, &joined, err);
    if (st == TERRACL_OK)
        st = mid_shape(&joined, w1, g1, &mid, err);
    if (st != TERRACL_OK)
        return st;
    if (tc_conv2d_implicit_pair_wanted(rt, &joined, w1, g1, w2, g2))
        return handed_over(rt, up, x, &joined, w1, b1, g1, w2, b2, g2, relu, &mid, y, err);
    struct tc_tensor m = {0}, r = {0};
    if ((st = tc_tensor_alloc(rt, 4, mid.dims, &m, err)))
        return st;
    if (up != NULL && x->dims[1] == 0) { /* the join is up resized alone */
        st = tc_tensor_alloc(rt, 4, joined.dims, &r, err);
        if (st == TERRACL_OK)
            st = tc_op_resize_nearest(rt, up, 0.0, 0.0, &r, err);
        if (st == TERRACL_OK)
            st = tc_op_conv2d_act(rt, &r, w1, b1, g1, relu, &m, err);
    } else {
        st = up ? tc_op_conv2d_upcat(rt, up, x, w1, b1, g1, relu, &m, err)
                : tc_op_conv2d_act(rt, x, w1, b1, g1, relu, &m, err);
    }
    tc_tensor_free(&r);
    if (st == TERRACL_OK)
        st = tc_op_conv2d_act(rt, &m, w2, b2, g2, relu, y, err);
    tc_tensor_free(&m);
    return st;
}

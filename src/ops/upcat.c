/* UNet decoders' upsample-and-join, made or read in place; see upcat.h. */
#include "ops/upcat.h"

#include "ops/conv_implicit.h"
#include "ops/conv_winograd.h"
#include "ops/layout.h"
#include "ops/resize.h"

static terracl_status join_error(const char *what, const struct tc_tensor *up,
                                 const struct tc_tensor *skip, terracl_error *err)
{
    char s1[128], s2[128];
    return tc_fail(err, TERRACL_ERR_SHAPE, "upsample and join: %s (%s with skip %s)", what,
                   tc_shape_str(up->ndim, up->dims, s1, sizeof s1),
                   tc_shape_str(skip->ndim, skip->dims, s2, sizeof s2));
}

terracl_status tc_op_upsample_concat(terracl_runtime *rt, const struct tc_tensor *up,
                                     const struct tc_tensor *skip, int bilinear,
                                     struct tc_tensor *cat, terracl_error *err)
{
    if (up->ndim != 4 || skip->ndim != 4 || cat->ndim != 4 || up->dims[0] != skip->dims[0] ||
        cat->dims[0] != skip->dims[0] || cat->dims[1] != up->dims[1] + skip->dims[1] ||
        cat->dims[2] != skip->dims[2] || cat->dims[3] != skip->dims[3])
        return join_error("the joined map does not fit", up, skip, err);
    int64_t B = cat->dims[0], C = up->dims[1], Cs = skip->dims[1];
    size_t out_px = (size_t)(cat->dims[2] * cat->dims[3]);
    size_t in_px = (size_t)(up->dims[2] * up->dims[3]);
    terracl_status st = TERRACL_OK;
    /* The upsampled channels go straight into their slice of cat, batch
     * item by batch item. */
    for (int64_t b = 0; b < B && st == TERRACL_OK; b++) {
        struct tc_tensor src = *up, dst = *cat;
        src.owns_buf = dst.owns_buf = 0;
        src.dims[0] = dst.dims[0] = 1;
        dst.dims[1] = C;
        src.offset = up->offset + (size_t)b * (size_t)C * in_px;
        dst.offset = cat->offset + (size_t)b * (size_t)(C + Cs) * out_px;
        st = bilinear ? tc_op_resize_bilinear(rt, &src, 0, &dst, err)
                      : tc_op_resize_nearest(rt, &src, 0.0, 0.0, &dst, err);
    }
    if (st == TERRACL_OK)
        st = tc_op_copy2d(rt, skip->buf, skip->offset, (size_t)Cs * out_px, cat->buf,
                          cat->offset + (size_t)C * out_px, (size_t)(C + Cs) * out_px, (size_t)B,
                          (size_t)Cs * out_px, err);
    return st;
}

static terracl_status conv2d_upcat_run(terracl_runtime *rt, const struct tc_tensor *up,
                                       const struct tc_tensor *skip, const struct tc_tensor *w,
                                       const struct tc_tensor *b, const struct tc_conv_geom *g,
                                       int relu, struct tc_tensor *y, terracl_error *err)
{
    if (up->ndim != 4 || skip->ndim != 4 || w->ndim != 4 || y->ndim != 4 ||
        up->dims[0] != skip->dims[0])
        return join_error("expected 4-D maps of one batch", up, skip, err);
    int64_t C0 = up->dims[1], Cin = C0 + skip->dims[1], kh = w->dims[2], kw = w->dims[3];
    if (w->dims[1] != Cin)
        return join_error("the weight's input channels differ from the joined map's", up, skip,
                          err);
    /* The joined map is read in place by Winograd's input transform, or
     * joined by the implicit kernel's padded copy (which it makes anyway);
     * its shape checks are the convolution's own, on a stand-in of the
     * joined shape (skip's buffer and offset, so the 32-bit check is
     * skip's). */
    struct tc_tensor joined = *skip;
    joined.dims[1] = Cin;
    joined.owns_buf = 0;
    terracl_status st = tc_conv2d_check(&joined, w, b, g, y, err);
    if (st != TERRACL_OK)
        return st;
    const int winograd =
        w->has_derived && C0 % 16 == 0 && tc_conv2d_winograd_eligible(w->dims[0], Cin, kh, kw, g);
    const int implicit = !w->gemm_packed && !(kh == 1 && kw == 1) &&
                         tc_conv2d_implicit_wanted(rt, &joined, w, g);
    if (winograd)
        return tc_conv2d_winograd_upcat(rt, up, skip, w, b, g, relu, y, err);
    if (implicit)
        return tc_conv2d_implicit_upcat(rt, up, skip, w, b, g, relu, y, err);
    struct tc_tensor cat = {0};
    st = tc_tensor_alloc(rt, 4, joined.dims, &cat, err);
    if (st == TERRACL_OK)
        st = tc_op_upsample_concat(rt, up, skip, 0, &cat, err);
    if (st == TERRACL_OK)
        st = tc_op_conv2d_act(rt, &cat, w, b, g, relu, y, err);
    tc_tensor_free(&cat);
    return st;
}

terracl_status tc_op_conv2d_upcat(terracl_runtime *rt, const struct tc_tensor *up,
                                  const struct tc_tensor *skip, const struct tc_tensor *w,
                                  const struct tc_tensor *b, const struct tc_conv_geom *g, int relu,
                                  struct tc_tensor *y, terracl_error *err)
{
    if (skip->ndim == 4 && w->ndim == 4 && y->ndim == 4)
        tc_conv_profile_begin(rt, "Conv2d +join", skip, w->dims[1], w->dims[0], w->dims[2],
                              w->dims[3], g, tc_conv2d_flops(w, y));
    else
        tc_profile_op_begin(rt, "Conv2d +join", "(not 4-D)", 0);
    terracl_status st = conv2d_upcat_run(rt, up, skip, w, b, g, relu, y, err);
    tc_profile_op_end(rt);
    return st;
}

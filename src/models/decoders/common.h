/* Helpers shared by the decoder constructors and forwards (internal). */
#ifndef TC_MODELS_DECODERS_COMMON_H
#define TC_MODELS_DECODERS_COMMON_H

#include "core/value.h"
#include "graph/exec.h"
#include "graph/module.h"
#include "terracl/value.h"

#define TC_DEC_MAX_INPUTS 32

/* The channel list a decoder is built for. */
struct tc_dec_channels {
    size_t n;
    int64_t c[TC_DEC_MAX_INPUTS];
};

/* Reads `first` (a non-empty list of positive ints). */
TC_NODISCARD terracl_status tc_dec_read_channels(const terracl_value *first,
                                                 struct tc_dec_channels *out, terracl_error *err);
/* A Python list index (negative counts from the end) into n entries. */
TC_NODISCARD terracl_status tc_dec_index(const char *key, int64_t index, size_t n, size_t *out,
                                         terracl_error *err);
/* The inputs must be as many as the channel list, 4-D, with the declared
 * channels and one batch size. */
TC_NODISCARD terracl_status tc_dec_check_inputs(const struct tc_dec_channels *ch,
                                                const struct tc_feats *in, terracl_error *err);
/* Sets the config (taking ownership of cfg, also on failure) and the one
 * out_channels entry. */
TC_NODISCARD terracl_status tc_dec_finish(terracl_module *m, terracl_value *cfg,
                                          int64_t out_channels, terracl_error *err);
/* Allocates y [B, C, H, W]. */
TC_NODISCARD terracl_status tc_dec_alloc(terracl_runtime *rt, int64_t b, int64_t c, int64_t h,
                                         int64_t w, struct tc_tensor *y, terracl_error *err);
/* y = a new copy of x (same shape). */
TC_NODISCARD terracl_status tc_dec_clone(terracl_runtime *rt, const struct tc_tensor *x,
                                         struct tc_tensor *y, terracl_error *err);
/* A borrowed view of channels [c0, c0 + c) of cat [1, C, H, W]: for one
 * batch item a run of channels is contiguous, so producers can write a
 * concatenation's parts in place. */
struct tc_tensor tc_dec_channel_slice(const struct tc_tensor *cat, int64_t c0, int64_t c);
/* x's values into y, which the caller allocated with as many elements. */
TC_NODISCARD terracl_status tc_dec_copy(terracl_runtime *rt, const struct tc_tensor *x,
                                        struct tc_tensor *y, terracl_error *err);
/* Hands y to out as its only (owned) tensor. */
void tc_dec_output(struct tc_feats *out, struct tc_tensor *y);
/* Borrowed view of parameter `index`'s device tensor. */
static inline struct tc_tensor *tc_dec_param(terracl_module *m, size_t index)
{
    return &tc_module_param(m, index)->value;
}

#endif /* TC_MODELS_DECODERS_COMMON_H */

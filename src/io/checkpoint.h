/*
 * Checkpoints: read-only access to a model's state dict stored as HDF5
 * (terracl's layout, DESIGN.md §2.2) or as safetensors.
 *
 * Opening a checkpoint builds an index of every tensor (name with dots,
 * dtype, shape) without reading any tensor data; tensors are then read one
 * at a time and converted to float32, so a large model never sits whole in
 * host memory. The model loader marks the entries it uses; the rest can be
 * listed in one warning line.
 *
 * A checkpoint handle is not safe to use from two threads at once; two
 * handles (even on the same file) are independent.
 */
#ifndef TC_IO_CHECKPOINT_H
#define TC_IO_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Float tensors a checkpoint may hand out have at most this many dims. */
#define TC_CHECKPOINT_MAX_DIMS 5

enum tc_dtype {
    TC_DTYPE_F16,
    TC_DTYPE_BF16,
    TC_DTYPE_F32,
    TC_DTYPE_F64,
    TC_DTYPE_F8_E4M3, /* safetensors only; indexed but not readable */
    TC_DTYPE_F8_E5M2,
    TC_DTYPE_BOOL,
    TC_DTYPE_I8,
    TC_DTYPE_U8,
    TC_DTYPE_I16,
    TC_DTYPE_U16,
    TC_DTYPE_I32,
    TC_DTYPE_U32,
    TC_DTYPE_I64,
    TC_DTYPE_U64,
    TC_DTYPE_OTHER /* strings, compounds, odd float layouts... */
};

/* "f32", "int64", ... Static string. */
const char *tc_dtype_name(enum tc_dtype dtype);
/* True for the dtypes tc_checkpoint_read_f32 converts: f16, bf16, f32, f64. */
bool tc_dtype_is_float(enum tc_dtype dtype);

enum tc_checkpoint_format { TC_CHECKPOINT_HDF5, TC_CHECKPOINT_SAFETENSORS };

struct tc_checkpoint_entry {
    const char *name;  /* "encoder.blocks.0.attn.qkv.weight"; owned by the checkpoint */
    enum tc_dtype dtype;
    int ndim;          /* rank as stored (may exceed TC_CHECKPOINT_MAX_DIMS when !valid) */
    int64_t dims[TC_CHECKPOINT_MAX_DIMS]; /* the first min(ndim, MAX) dims */
    size_t numel;      /* element count (valid entries only) */
    /* False when the tensor cannot be handed out (rank above the maximum,
     * null dataspace...); `problem` says why. Such entries are only an error
     * when a loader asks for them. */
    bool valid;
    const char *problem; /* static string, NULL when valid */
    bool used;           /* set by the model loader (or tc_checkpoint_expect) */
};

struct tc_checkpoint;

/*
 * Opens `path`, detects its format from its first bytes and indexes its
 * tensors. Errors: TERRACL_ERR_IO (missing, unreadable, a directory),
 * TERRACL_ERR_FORMAT (neither format, truncated, malformed header, bad
 * offsets, duplicate names), TERRACL_ERR_NO_MEMORY. Messages name the file.
 * On success *out must be released with tc_checkpoint_close.
 */
TC_NODISCARD terracl_status tc_checkpoint_open(const char *path, struct tc_checkpoint **out,
                                               terracl_error *err);
/* Closes the file and frees the index and config. NULL is a no-op. */
void tc_checkpoint_close(struct tc_checkpoint *ck);

const char *tc_checkpoint_path(const struct tc_checkpoint *ck);
enum tc_checkpoint_format tc_checkpoint_format(const struct tc_checkpoint *ck);

/* Number of tensors; entries are sorted by name. */
size_t tc_checkpoint_count(const struct tc_checkpoint *ck);
/* Entry i (< count), owned by the checkpoint; callers may set `used`. */
struct tc_checkpoint_entry *tc_checkpoint_entry(struct tc_checkpoint *ck, size_t i);
/* Index of the tensor named `name` (dots), or -1. O(log n). */
ptrdiff_t tc_checkpoint_find(const struct tc_checkpoint *ck, const char *name);

/*
 * The YAML config stored with the checkpoint: the root string attribute
 * "config" (HDF5) or the "config" entry of safetensors' __metadata__.
 * NULL when absent (or, for HDF5, when the attribute is not a string).
 * Owned by the checkpoint.
 */
const char *tc_checkpoint_config(const struct tc_checkpoint *ck);

/*
 * Reads tensor `index` into dst as float32, converting f16, bf16 and f64.
 * `count` must equal the entry's numel. Errors: TERRACL_ERR_INVALID_ARG (bad
 * index), TERRACL_ERR_SHAPE (count mismatch), TERRACL_ERR_TYPE (not a float
 * dtype), TERRACL_ERR_UNSUPPORTED (invalid entry, e.g. rank > 5),
 * TERRACL_ERR_IO / TERRACL_ERR_FORMAT (read failures). Messages name the
 * file and the tensor. Does not change `used`.
 */
TC_NODISCARD terracl_status tc_checkpoint_read_f32(struct tc_checkpoint *ck, size_t index,
                                                   float *dst, size_t count, terracl_error *err);

/*
 * What a model loader calls for each tensor it needs: finds `name`, marks it
 * used and checks that it is a readable float tensor of exactly the shape
 * (ndim, dims). Errors: TERRACL_ERR_NOT_FOUND (missing), TERRACL_ERR_TYPE
 * (integer/bool/other dtype), TERRACL_ERR_UNSUPPORTED (invalid entry),
 * TERRACL_ERR_SHAPE ("expected [768, 768], found [768, 512]"). On success
 * *index (may be NULL) receives the entry index.
 */
TC_NODISCARD terracl_status tc_checkpoint_expect(struct tc_checkpoint *ck, const char *name,
                                                 int ndim, const int64_t *dims, size_t *index,
                                                 terracl_error *err);
/* tc_checkpoint_expect followed by tc_checkpoint_read_f32 into dst (which
 * holds the product of dims floats). */
TC_NODISCARD terracl_status tc_checkpoint_load_f32(struct tc_checkpoint *ck, const char *name,
                                                   int ndim, const int64_t *dims, float *dst,
                                                   terracl_error *err);

/*
 * Writes "N unused tensors: a, b, c, ... (and M more)" (names in sorted
 * order, at most `max_names` of them and never more than fit in `cap`) for
 * the entries whose `used` flag is unset. Returns N; writes "" when N is 0.
 * buf is always NUL-terminated when cap > 0.
 */
size_t tc_checkpoint_unused_summary(const struct tc_checkpoint *ck, size_t max_names, char *buf,
                                    size_t cap);

/* "[768, 768]" into buf (NUL-terminated, cut if cap is small). */
const char *tc_dims_str(int ndim, const int64_t *dims, char *buf, size_t cap);

#endif /* TC_IO_CHECKPOINT_H */

/*
 * HDF5 helpers shared by the checkpoint reader and the tensor files: quiet
 * error handling with our own messages, opening files read-only, describing
 * a dataset's type and shape, and reading one as float32.
 *
 * Only files under src/io/ include this header (it includes hdf5.h).
 */
#ifndef TC_IO_H5_UTIL_H
#define TC_IO_H5_UTIL_H

#include <hdf5.h>

#include "io/checkpoint.h"

/* Initialises HDF5 once and turns its automatic error printing off for the
 * calling thread (thread-safe HDF5 keeps one error stack per thread). Call
 * before any other HDF5 call in a public entry point. */
void tc_h5_quiet(void);

/* The deepest message on the calling thread's HDF5 error stack (where the
 * failure was detected), or "unknown HDF5 error". Call right after the
 * failing HDF5 call: the next API call clears the stack. */
const char *tc_h5_error_text(char *buf, size_t cap);

/* Opens `path` read-only. `what` ("checkpoint", "input file") starts the
 * messages. Errors: TERRACL_ERR_IO (missing, unreadable, a directory),
 * TERRACL_ERR_FORMAT (not HDF5, truncated, corrupt). */
TC_NODISCARD terracl_status tc_h5_open_read(const char *path, const char *what, hid_t *out,
                                            terracl_error *err);

/* What a dataset holds. `problem` is NULL when the dataset can be handed
 * out as a float tensor of rank <= TC_CHECKPOINT_MAX_DIMS, else a static
 * reason (the dtype is not checked here). */
struct tc_h5_info {
    enum tc_dtype dtype;
    int ndim;
    int64_t dims[TC_CHECKPOINT_MAX_DIMS];
    size_t numel;
    const char *problem;
};

/* Fails only when HDF5 cannot answer (TERRACL_ERR_FORMAT naming file and
 * dataset). */
TC_NODISCARD terracl_status tc_h5_describe(hid_t dset, const char *file, const char *name,
                                           struct tc_h5_info *info, terracl_error *err);

/* Reads the whole dataset into dst (info->numel floats), converting
 * f16/bf16/f64. The dataset must have passed tc_h5_describe with no
 * problem and a float dtype. */
TC_NODISCARD terracl_status tc_h5_read_f32(hid_t dset, const char *file, const char *name,
                                           const struct tc_h5_info *info, float *dst,
                                           terracl_error *err);

#endif /* TC_IO_H5_UTIL_H */

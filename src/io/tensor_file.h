/*
 * Tensor files for `terracl run`: HDF5 files holding named float32
 * datasets ("input" [B, C, H, W] or [B, C, T, H, W], "temporal_coords",
 * "location_coords" in; "output" out). Reads convert float16/bfloat16/float64
 * to float32. Writes are atomic: the data goes to a temporary file in the
 * destination's folder which is renamed into place only when complete, so a
 * failed write never leaves a partial file or clobbers an existing one.
 */
#ifndef TC_IO_TENSOR_FILE_H
#define TC_IO_TENSOR_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define TC_TENSOR_FILE_MAX_DIMS 5

/* A host tensor read from a file; owns `data` (free with
 * tc_host_tensor_free). */
struct tc_host_tensor {
    int ndim;
    int64_t dims[TC_TENSOR_FILE_MAX_DIMS];
    size_t count; /* product of dims */
    float *data;
};

void tc_host_tensor_free(struct tc_host_tensor *t); /* NULL-safe; resets *t */

/*
 * Reads dataset `name` (may contain '/' for nested groups) from the HDF5
 * file `path`. The dataset must be a float dataset of rank 1..5.
 * Errors (messages name the file and dataset):
 *   TERRACL_ERR_NOT_FOUND  the file has no such dataset (callers may treat
 *                          an optional dataset's absence as fine)
 *   TERRACL_ERR_IO         missing/unreadable file, a directory
 *   TERRACL_ERR_FORMAT     not HDF5, truncated, unreadable dataset
 *   TERRACL_ERR_TYPE       not a float dataset (integers, strings), or a group
 *   TERRACL_ERR_SHAPE      rank 0 or above 5
 *   TERRACL_ERR_NO_MEMORY
 * On failure *out is left empty.
 */
TC_NODISCARD terracl_status tc_tensor_file_read(const char *path, const char *name,
                                                struct tc_host_tensor *out, terracl_error *err);

/* The same checks as tc_tensor_file_read, without reading the data: *out
 * gets ndim, dims and count, and no data. For checking what a run would
 * need before reading a (possibly huge) input. */
TC_NODISCARD terracl_status tc_tensor_file_shape(const char *path, const char *name,
                                                 struct tc_host_tensor *out, terracl_error *err);

/* One dataset to write: `data` holds the product of dims floats (borrowed). */
struct tc_tensor_file_item {
    const char *name; /* may contain '/' for nested groups */
    int ndim;         /* 0..5 */
    const int64_t *dims;
    const float *data;
};

/* The permission bits an output written to `path` gets: those of the
 * regular file it replaces, else 0666 minus the umask (what a plain
 * open(O_CREAT) would give; mkstemp's temporary files start at 0600). */
unsigned tc_output_file_mode(const char *path);

/*
 * Writes the items as float32 datasets into a new HDF5 file at `path`,
 * replacing any existing file only once the new one is complete. Errors:
 * TERRACL_ERR_IO (the folder does not exist or is not writable, rename
 * failed; the message names the folder or file), TERRACL_ERR_INVALID_ARG
 * (bad or duplicate names, negative dims, no items), TERRACL_ERR_FORMAT
 * (HDF5 failed writing), TERRACL_ERR_OVERFLOW.
 */
TC_NODISCARD terracl_status tc_tensor_file_write(const char *path,
                                                 const struct tc_tensor_file_item *items,
                                                 size_t count, terracl_error *err);

#endif /* TC_IO_TENSOR_FILE_H */

/*
 * HDF5 plumbing for src/io/: silence HDF5's own error printing, turn its
 * error stack into one line, open files defensively and read datasets as
 * float32. HDF5 1.10 has no native half type, so 16-bit floats are read as
 * raw bits and widened here.
 */
#include "io/h5_util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/checked.h"
#include "io/checkpoint_internal.h"

_Static_assert(sizeof(hid_t) == sizeof(int64_t), "hid_t is stored as int64_t in checkpoints");

static pthread_once_t h5_once = PTHREAD_ONCE_INIT;
static _Thread_local int h5_thread_quiet;

static void h5_init(void)
{
    H5open();
}

void tc_h5_quiet(void)
{
    pthread_once(&h5_once, h5_init);
    if (!h5_thread_quiet) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        h5_thread_quiet = 1;
    }
}

struct walk_state {
    char *buf;
    size_t cap;
    int found;
};

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    struct walk_state *w = data;
    /* Walking upward, entry 0 is the innermost frame: where HDF5 noticed
     * the problem, which is the most specific description. */
    if (n == 0 && e->desc && e->desc[0]) {
        snprintf(w->buf, w->cap, "%s", e->desc);
        w->found = 1;
    }
    return 0;
}

const char *tc_h5_error_text(char *buf, size_t cap)
{
    struct walk_state w = {buf, cap, 0};
    if (cap == 0)
        return buf;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &w);
    if (!w.found)
        snprintf(buf, cap, "unknown HDF5 error");
    H5Eclear2(H5E_DEFAULT);
    return buf;
}

terracl_status tc_h5_open_read(const char *path, const char *what, hid_t *out,
                               terracl_error *err)
{
    tc_h5_quiet();
    *out = H5I_INVALID_HID;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
     * writer forever; after fstat only regular files go on to HDF5. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return tc_fail(err, TERRACL_ERR_IO, "cannot open %s '%s': %s", what, path,
                       strerror(errno));
    struct stat sb;
    int stat_rc = fstat(fd, &sb);
    int saved = errno;
    close(fd);
    if (stat_rc != 0)
        return tc_fail(err, TERRACL_ERR_IO, "cannot open %s '%s': %s", what, path,
                       strerror(saved));
    if (S_ISDIR(sb.st_mode))
        return tc_fail(err, TERRACL_ERR_IO, "%s '%s' is a directory, not a file", what, path);
    if (!S_ISREG(sb.st_mode))
        return tc_fail(err, TERRACL_ERR_IO,
                       "%s '%s' is not a regular file (a FIFO, socket or device)", what, path);
    if (sb.st_size == 0)
        return tc_fail(err, TERRACL_ERR_FORMAT, "%s '%s' is empty (expected an HDF5 file)", what,
                       path);
    if (H5Fis_hdf5(path) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return tc_fail(err, TERRACL_ERR_FORMAT, "%s '%s' is not an HDF5 file", what, path);
    }

    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) {
        char why[256];
        return tc_fail(err, TERRACL_ERR_INTERNAL, "%s '%s': H5Pcreate failed: %s", what, path,
                       tc_h5_error_text(why, sizeof why));
    }
    /* Closing the file closes anything still open in it. */
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    char why[512];
    if (f < 0)
        tc_h5_error_text(why, sizeof why);
    H5Pclose(fapl);
    if (f < 0)
        return tc_fail(err, TERRACL_ERR_FORMAT, "cannot open %s '%s' as HDF5: %s", what, path,
                       why);
    *out = f;
    return TERRACL_OK;
}

static enum tc_dtype classify(hid_t type)
{
    size_t size = H5Tget_size(type);
    switch (H5Tget_class(type)) {
    case H5T_FLOAT: {
        if (size == 4)
            return TC_DTYPE_F32;
        if (size == 8)
            return TC_DTYPE_F64;
        if (size != 2)
            return TC_DTYPE_OTHER;
        size_t spos, epos, esize, mpos, msize;
        if (H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0)
            return TC_DTYPE_OTHER;
        size_t bias = H5Tget_ebias(type);
        if (spos != 15 || mpos != 0 || H5Tget_norm(type) != H5T_NORM_IMPLIED)
            return TC_DTYPE_OTHER;
        if (esize == 5 && msize == 10 && bias == 15)
            return TC_DTYPE_F16;
        if (esize == 8 && msize == 7 && bias == 127)
            return TC_DTYPE_BF16;
        return TC_DTYPE_OTHER;
    }
    case H5T_INTEGER: {
        bool sign = H5Tget_sign(type) == H5T_SGN_2;
        switch (size) {
        case 1: return sign ? TC_DTYPE_I8 : TC_DTYPE_U8;
        case 2: return sign ? TC_DTYPE_I16 : TC_DTYPE_U16;
        case 4: return sign ? TC_DTYPE_I32 : TC_DTYPE_U32;
        case 8: return sign ? TC_DTYPE_I64 : TC_DTYPE_U64;
        default: return TC_DTYPE_OTHER;
        }
    }
    case H5T_ENUM:
        /* h5py stores numpy bools as a two-member 8-bit enum. */
        if (size == 1 && H5Tget_nmembers(type) == 2)
            return TC_DTYPE_BOOL;
        return TC_DTYPE_OTHER;
    default:
        return TC_DTYPE_OTHER;
    }
}

/* Filters a checkpoint or input may use: those h5py and PyTorch tooling
 * write. Anything else (a plugin filter) is refused before reading. */
static bool filter_allowed(H5Z_filter_t id)
{
    switch (id) {
    case H5Z_FILTER_DEFLATE:
    case H5Z_FILTER_SHUFFLE:
    case H5Z_FILTER_FLETCHER32:
    case H5Z_FILTER_NBIT:
    case H5Z_FILTER_SCALEOFFSET:
    case H5Z_FILTER_SZIP:
        return H5Zfilter_avail(id) > 0;
    default:
        return false;
    }
}

/* Largest chunk HDF5 itself can store (its chunk sizes are 32-bit). */
#define TC_H5_MAX_CHUNK_BYTES ((uint64_t)0xffffffffu)

/* NULL when the dataset's storage lies in the file itself in a layout we
 * read (contiguous, compact, or chunked with sane chunk dimensions and
 * known filters), else a static reason. External storage and virtual
 * datasets are refused: they read other files on the machine (and a FIFO
 * named as external storage blocks forever). */
static const char *storage_problem(hid_t dset, int rank, size_t type_size)
{
    hid_t dcpl = H5Dget_create_plist(dset);
    if (dcpl < 0)
        return "cannot read its storage properties";
    const char *problem = NULL;
    H5D_layout_t layout = H5Pget_layout(dcpl);
    switch (layout) {
    case H5D_COMPACT:
        break;
    case H5D_CONTIGUOUS: {
        int n_external = H5Pget_external_count(dcpl);
        if (n_external != 0)
            problem = n_external < 0 ? "cannot read its storage properties"
                                     : "its data is stored in external files (not supported)";
        break;
    }
    case H5D_CHUNKED: {
        hsize_t chunk[H5S_MAX_RANK];
        int crank = H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk);
        if (crank != rank || crank < 1) {
            problem = "its chunk rank does not match its rank";
            break;
        }
        uint64_t bytes = type_size ? type_size : 1;
        for (int d = 0; d < crank && problem == NULL; d++) {
            if (chunk[d] == 0 || chunk[d] > TC_H5_MAX_CHUNK_BYTES ||
                __builtin_mul_overflow(bytes, (uint64_t)chunk[d], &bytes) ||
                bytes > TC_H5_MAX_CHUNK_BYTES)
                problem = "its chunk dimensions are zero or too large";
        }
        int nfilters = H5Pget_nfilters(dcpl);
        if (problem == NULL && (nfilters < 0 || nfilters > 32))
            problem = "cannot read its filter pipeline";
        for (int i = 0; i < nfilters && problem == NULL; i++) {
            unsigned flags = 0, cd[16];
            size_t ncd = sizeof cd / sizeof cd[0];
            char fname[64];
            unsigned config = 0;
            H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof fname,
                                             fname, &config);
            if (id < 0 || !filter_allowed(id))
                problem = "it uses a compression filter terracl does not read (deflate, shuffle, "
                          "fletcher32, n-bit, scale-offset and szip are read)";
        }
        break;
    }
    case H5D_VIRTUAL:
        problem = "it is a virtual dataset (data mapped from other files; not supported)";
        break;
    default:
        problem = "its storage layout is unknown";
        break;
    }
    H5Pclose(dcpl);
    H5Eclear2(H5E_DEFAULT);
    return problem;
}

terracl_status tc_h5_describe(hid_t dset, const char *file, const char *name,
                              struct tc_h5_info *info, terracl_error *err)
{
    memset(info, 0, sizeof *info);
    char why[512];
    hid_t type = H5Dget_type(dset);
    if (type < 0)
        return tc_fail(err, TERRACL_ERR_FORMAT, "'%s': dataset '%s': cannot read its type: %s",
                       file, name, tc_h5_error_text(why, sizeof why));
    info->dtype = classify(type);
    size_t type_size = H5Tget_size(type);
    H5Tclose(type);

    hid_t space = H5Dget_space(dset);
    if (space < 0)
        return tc_fail(err, TERRACL_ERR_FORMAT, "'%s': dataset '%s': cannot read its shape: %s",
                       file, name, tc_h5_error_text(why, sizeof why));
    terracl_status st = TERRACL_OK;
    H5S_class_t cls = H5Sget_simple_extent_type(space);
    if (cls == H5S_NULL) {
        info->problem = "the dataset has a null dataspace (no data)";
    } else if (cls == H5S_SCALAR) {
        info->ndim = 0;
        info->numel = 1;
    } else if (cls == H5S_SIMPLE) {
        hsize_t dims[H5S_MAX_RANK];
        int n = H5Sget_simple_extent_dims(space, dims, NULL);
        if (n < 0 || n > H5S_MAX_RANK) {
            st = tc_fail(err, TERRACL_ERR_FORMAT, "'%s': dataset '%s': cannot read its shape: %s",
                         file, name, tc_h5_error_text(why, sizeof why));
        } else {
            info->ndim = n;
            size_t numel = 1;
            bool overflow = false;
            for (int d = 0; d < n; d++) {
                if (dims[d] > (hsize_t)INT64_MAX || dims[d] > (hsize_t)SIZE_MAX ||
                    tc_mul_overflow(numel, (size_t)dims[d], &numel))
                    overflow = true;
                if (d < TC_CHECKPOINT_MAX_DIMS)
                    info->dims[d] = dims[d] > (hsize_t)INT64_MAX ? -1 : (int64_t)dims[d];
            }
            info->numel = overflow ? 0 : numel;
            if (n > TC_CHECKPOINT_MAX_DIMS)
                info->problem = "rank is above the maximum of 5";
            else if (overflow)
                info->problem = "the element count overflows";
        }
    } else {
        st = tc_fail(err, TERRACL_ERR_FORMAT, "'%s': dataset '%s': cannot read its shape: %s",
                     file, name, tc_h5_error_text(why, sizeof why));
    }
    H5Sclose(space);
    if (st == TERRACL_OK && info->problem == NULL && cls == H5S_SIMPLE)
        info->problem = storage_problem(dset, info->ndim, type_size);
    else if (st == TERRACL_OK && info->problem == NULL && cls == H5S_SCALAR)
        info->problem = storage_problem(dset, 0, type_size);
    return st;
}

terracl_status tc_h5_read_f32(hid_t dset, const char *file, const char *name,
                              const struct tc_h5_info *info, float *dst, terracl_error *err)
{
    char why[512];
    size_t n = info->numel;
    if (n == 0)
        return TERRACL_OK;
    if (info->dtype == TC_DTYPE_F32 || info->dtype == TC_DTYPE_F64) {
        /* HDF5 converts f64 (and any byte order) to native float itself. */
        if (H5Dread(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0)
            return tc_fail(err, TERRACL_ERR_FORMAT, "'%s': cannot read dataset '%s': %s", file,
                           name, tc_h5_error_text(why, sizeof why));
        return TERRACL_OK;
    }
    if (info->dtype != TC_DTYPE_F16 && info->dtype != TC_DTYPE_BF16)
        return tc_fail(err, TERRACL_ERR_TYPE, "'%s': dataset '%s' has dtype %s, not a float type",
                       file, name, tc_dtype_name(info->dtype));

    /* Read the 16-bit patterns (in native byte order) into the upper half of
     * dst, then widen front to back: element i is written to bytes
     * [4i, 4i+4), which never reaches a pattern not yet converted (at
     * 2n + 2j, j > i). */
    hid_t ftype = H5Dget_type(dset);
    hid_t mtype = ftype >= 0 ? H5Tcopy(ftype) : H5I_INVALID_HID;
    if (ftype >= 0)
        H5Tclose(ftype);
    if (mtype < 0 || H5Tset_order(mtype, H5Tget_order(H5T_NATIVE_FLOAT)) < 0) {
        tc_h5_error_text(why, sizeof why);
        if (mtype >= 0)
            H5Tclose(mtype);
        return tc_fail(err, TERRACL_ERR_FORMAT, "'%s': dataset '%s': cannot set up its type: %s",
                       file, name, why);
    }
    unsigned char *raw = (unsigned char *)dst + 2 * n;
    herr_t rc = H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw);
    if (rc < 0)
        tc_h5_error_text(why, sizeof why);
    H5Tclose(mtype);
    if (rc < 0)
        return tc_fail(err, TERRACL_ERR_FORMAT, "'%s': cannot read dataset '%s': %s", file, name,
                       why);
    bool bf16 = info->dtype == TC_DTYPE_BF16;
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, raw + 2 * i, sizeof h);
        dst[i] = bf16 ? tc_bf16_to_f32(h) : tc_f16_to_f32(h);
    }
    return TERRACL_OK;
}

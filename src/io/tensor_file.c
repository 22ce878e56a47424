/*
 * Input and output tensor files (HDF5). Reading distinguishes "no such
 * dataset" from every other failure so optional inputs stay optional.
 * Writing goes through a temporary file plus rename() so readers of the
 * destination see either the old file or the complete new one.
 */
#include "io/tensor_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/checked.h"
#include "io/h5_util.h"

void tc_host_tensor_free(struct tc_host_tensor *t)
{
    if (t == NULL)
        return;
    free(t->data);
    memset(t, 0, sizeof *t);
}

/* Whether every prefix of `name` ("a", "a/b", "a/b/c") is a link in the
 * file (H5Lexists only answers for the last component): 1 when all are
 * hard links, 0 when one is missing, -1 when one is a soft or external
 * link, which could lead to another file on the machine. */
static int dataset_path_status(hid_t file, const char *name)
{
    char *copy = strdup(name);
    if (copy == NULL)
        return 0;
    int status = 1;
    for (char *p = copy;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            H5L_info_t li;
            if (H5Lexists(file, copy, H5P_DEFAULT) <= 0)
                status = 0;
            else if (H5Lget_info(file, copy, &li, H5P_DEFAULT) < 0 || li.type != H5L_TYPE_HARD)
                status = -1;
            *p = saved;
            if (status != 1 || saved == '\0')
                break;
        }
    }
    H5Eclear2(H5E_DEFAULT);
    free(copy);
    return status;
}

/* Reads (or, when !with_data, only describes) one dataset. */
static terracl_status read_dataset(const char *path, const char *name, int with_data,
                                   struct tc_host_tensor *out, terracl_error *err)
{
    if (out == NULL || path == NULL || name == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "tc_tensor_file_read: NULL argument");
    memset(out, 0, sizeof *out);
    while (*name == '/')
        name++;
    if (*name == '\0' || strstr(name, "//") != NULL || name[strlen(name) - 1] == '/')
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "'%s' is not a valid dataset name", name);

    hid_t file;
    terracl_status st = tc_h5_open_read(path, "file", &file, err);
    if (st != TERRACL_OK)
        return st;
    char why[512];
    hid_t obj = H5I_INVALID_HID;
    float *data = NULL;
    int where = dataset_path_status(file, name);
    if (where == 0) {
        st = tc_fail(err, TERRACL_ERR_NOT_FOUND, "file '%s' has no dataset '%s'", path, name);
        goto out;
    }
    if (where < 0) {
        st = tc_fail(err, TERRACL_ERR_FORMAT,
                     "file '%s': '%s' is reached through a soft or external link (only datasets "
                     "stored in the file itself are read)",
                     path, name);
        goto out;
    }
    obj = H5Oopen(file, name, H5P_DEFAULT);
    if (obj < 0) {
        st = tc_fail(err, TERRACL_ERR_FORMAT, "file '%s': cannot open '%s': %s", path, name,
                     tc_h5_error_text(why, sizeof why));
        goto out;
    }
    if (H5Iget_type(obj) != H5I_DATASET) {
        st = tc_fail(err, TERRACL_ERR_TYPE, "file '%s': '%s' is not a dataset", path, name);
        goto out;
    }
    struct tc_h5_info info;
    st = tc_h5_describe(obj, path, name, &info, err);
    if (st != TERRACL_OK)
        goto out;
    if (!tc_dtype_is_float(info.dtype)) {
        st = tc_fail(err, TERRACL_ERR_TYPE, "file '%s': dataset '%s' has dtype %s, expected float32",
                     path, name, tc_dtype_name(info.dtype));
        goto out;
    }
    if (info.problem != NULL || info.ndim < 1) {
        st = tc_fail(err, TERRACL_ERR_SHAPE, "file '%s': dataset '%s': %s", path, name,
                     info.problem ? info.problem : "a scalar, expected rank 1 to 5");
        goto out;
    }
    size_t bytes;
    if (tc_mul_overflow(info.numel, sizeof(float), &bytes)) {
        st = tc_fail(err, TERRACL_ERR_OVERFLOW, "file '%s': dataset '%s' is too large", path, name);
        goto out;
    }
    if (!with_data) {
        out->ndim = info.ndim;
        memcpy(out->dims, info.dims, sizeof out->dims);
        out->count = info.numel;
        goto out;
    }
    /* A small compressed file can declare a huge dataset: never try to
     * hold more than the machine has. */
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0 && bytes / (size_t)page >= (size_t)pages) {
        char shape[128];
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY,
                     "file '%s': dataset '%s' %s would take %.1f GiB, more than this machine's "
                     "%.1f GiB of memory",
                     path, name, tc_dims_str(info.ndim, info.dims, shape, sizeof shape),
                     (double)bytes / (double)(1ull << 30),
                     (double)pages * (double)page / (double)(1ull << 30));
        goto out;
    }
    data = malloc(bytes ? bytes : 1);
    if (data == NULL) {
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "file '%s': out of memory reading '%s' (%zu bytes)",
                     path, name, bytes);
        goto out;
    }
    st = tc_h5_read_f32(obj, path, name, &info, data, err);
    if (st != TERRACL_OK)
        goto out;
    out->ndim = info.ndim;
    memcpy(out->dims, info.dims, sizeof out->dims);
    out->count = info.numel;
    out->data = data;
    data = NULL;
out:
    free(data);
    if (obj >= 0)
        H5Oclose(obj);
    H5Fclose(file);
    return st;
}

terracl_status tc_tensor_file_read(const char *path, const char *name, struct tc_host_tensor *out,
                                   terracl_error *err)
{
    return read_dataset(path, name, 1, out, err);
}

terracl_status tc_tensor_file_shape(const char *path, const char *name, struct tc_host_tensor *out,
                                    terracl_error *err)
{
    return read_dataset(path, name, 0, out, err);
}

static bool valid_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n > 0 && name[0] != '/' && name[n - 1] != '/' && strstr(name, "//") == NULL &&
           strcmp(name, ".") != 0;
}

static terracl_status check_items(const struct tc_tensor_file_item *items, size_t count,
                                  const char *path, terracl_error *err)
{
    if (items == NULL || count == 0)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "writing '%s': no datasets to write", path);
    for (size_t i = 0; i < count; i++) {
        const struct tc_tensor_file_item *it = &items[i];
        if (!valid_name(it->name))
            return tc_fail(err, TERRACL_ERR_INVALID_ARG, "writing '%s': invalid dataset name '%s'",
                           path, it->name ? it->name : "(null)");
        if (it->ndim < 0 || it->ndim > TC_TENSOR_FILE_MAX_DIMS || (it->ndim > 0 && !it->dims))
            return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                           "writing '%s': dataset '%s' has rank %d (0 to 5 allowed)", path,
                           it->name, it->ndim);
        size_t n;
        if (!tc_shape_count(it->dims, it->ndim, &n) || tc_mul_overflow(n, sizeof(float), &n))
            return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                           "writing '%s': dataset '%s' has a negative or too large shape", path,
                           it->name);
        if (n > 0 && it->data == NULL)
            return tc_fail(err, TERRACL_ERR_INVALID_ARG, "writing '%s': dataset '%s' has no data",
                           path, it->name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(items[j].name, it->name) == 0)
                return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                               "writing '%s': dataset '%s' given twice", path, it->name);
    }
    return TERRACL_OK;
}

/* The mode a freshly created file would get (0666 minus the umask), read
 * without calling umask(), which would race with other threads. */
static unsigned new_file_mode(void)
{
    mode_t mask = 022;
    FILE *f = fopen("/proc/self/status", "r");
    if (f != NULL) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            unsigned int m;
            if (sscanf(line, "Umask: %o", &m) == 1) {
                mask = (mode_t)(m & 0777);
                break;
            }
        }
        fclose(f);
    }
    return 0666u & ~(unsigned)mask;
}

static terracl_status write_h5(const char *tmp, const char *path,
                               const struct tc_tensor_file_item *items, size_t count,
                               terracl_error *err)
{
    char why[512];
    tc_h5_quiet();
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0)
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    hid_t file = fapl >= 0 ? H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl) : H5I_INVALID_HID;
    if (file < 0)
        tc_h5_error_text(why, sizeof why);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (file < 0)
        return tc_fail(err, TERRACL_ERR_IO, "writing '%s': cannot create HDF5 file '%s': %s", path,
                       tmp, why);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    terracl_status st = TERRACL_OK;
    if (lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0)
        st = tc_fail(err, TERRACL_ERR_INTERNAL, "writing '%s': H5P setup failed: %s", path,
                     tc_h5_error_text(why, sizeof why));
    for (size_t i = 0; i < count && st == TERRACL_OK; i++) {
        const struct tc_tensor_file_item *it = &items[i];
        hsize_t dims[TC_TENSOR_FILE_MAX_DIMS];
        size_t n = 1;
        for (int d = 0; d < it->ndim; d++) {
            dims[d] = (hsize_t)it->dims[d];
            n *= (size_t)it->dims[d]; /* checked in check_items */
        }
        hid_t space = it->ndim == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(it->ndim, dims, NULL);
        hid_t dset = space >= 0 ? H5Dcreate2(file, it->name, H5T_IEEE_F32LE, space, lcpl,
                                             H5P_DEFAULT, H5P_DEFAULT)
                                : H5I_INVALID_HID;
        herr_t rc = dset < 0 ? -1 : 0;
        if (rc == 0 && n > 0)
            rc = H5Dwrite(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, it->data);
        if (rc < 0)
            st = tc_fail(err, TERRACL_ERR_FORMAT, "writing '%s': dataset '%s': %s", path, it->name,
                         tc_h5_error_text(why, sizeof why));
        if (dset >= 0)
            H5Dclose(dset);
        if (space >= 0)
            H5Sclose(space);
    }
    if (lcpl >= 0)
        H5Pclose(lcpl);
    /* Closing flushes: a full disk shows up here. */
    if (H5Fclose(file) < 0 && st == TERRACL_OK)
        st = tc_fail(err, TERRACL_ERR_IO, "writing '%s': closing '%s' failed: %s", path, tmp,
                     tc_h5_error_text(why, sizeof why));
    return st;
}

unsigned tc_output_file_mode(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
        return sb.st_mode & 07777;
    return new_file_mode();
}

terracl_status tc_tensor_file_write(const char *path, const struct tc_tensor_file_item *items,
                                    size_t count, terracl_error *err)
{
    if (path == NULL || path[0] == '\0')
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "tc_tensor_file_write: empty output path");
    terracl_status st = check_items(items, count, path, err);
    if (st != TERRACL_OK)
        return st;

    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "output path '%s' does not name a file", path);
    size_t dir_len = slash ? (size_t)(slash - path) : 1;
    char *dir = malloc(dir_len + 1);
    size_t tmp_len = dir_len + strlen(base) + 16;
    char *tmp = malloc(tmp_len);
    if (dir == NULL || tmp == NULL) {
        free(dir);
        free(tmp);
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "writing '%s': out of memory", path);
    }
    if (slash == NULL)
        memcpy(dir, ".", 2);
    else if (slash == path)
        memcpy(dir, "/", 2);
    else {
        memcpy(dir, path, dir_len);
        dir[dir_len] = '\0';
    }

    int fd = -1;
    bool have_tmp = false;
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        st = tc_fail(err, TERRACL_ERR_IO, "cannot write '%s': output folder '%s' %s", path, dir,
                     errno == ENOENT ? "does not exist" : strerror(errno));
        goto out;
    }
    if (!S_ISDIR(sb.st_mode)) {
        st = tc_fail(err, TERRACL_ERR_IO, "cannot write '%s': '%s' is not a folder", path, dir);
        goto out;
    }
    /* A hidden name in the same folder: rename() is atomic only within one
     * file system. */
    snprintf(tmp, tmp_len, "%s/.%s.tmp-XXXXXX", dir, base);
    fd = mkstemp(tmp);
    if (fd < 0) {
        st = tc_fail(err, TERRACL_ERR_IO, "cannot write '%s': cannot create a file in folder '%s': %s",
                     path, dir, strerror(errno));
        goto out;
    }
    have_tmp = true;
    /* mkstemp makes 0600 files; give the output the mode the user expects:
     * the replaced file's, or the umask's default. */
    fchmod(fd, (mode_t)tc_output_file_mode(path));
    close(fd);
    fd = -1;

    st = write_h5(tmp, path, items, count, err);
    if (st != TERRACL_OK)
        goto out;
    fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        st = tc_fail(err, TERRACL_ERR_IO, "writing '%s': cannot flush '%s': %s", path, tmp,
                     strerror(errno));
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) != 0) {
        st = tc_fail(err, TERRACL_ERR_IO, "cannot move the finished output into place as '%s': %s",
                     path, strerror(errno));
        goto out;
    }
    have_tmp = false;
    /* Make the rename itself durable; failure here loses nothing. */
    int dfd = open(dir, O_RDONLY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
out:
    if (fd >= 0)
        close(fd);
    if (have_tmp)
        unlink(tmp);
    free(tmp);
    free(dir);
    return st;
}

/*
 * Checkpoint front end: format detection, the sorted tensor index, name
 * lookup, shape checks for model loaders and the unused-tensor summary.
 * The formats themselves live in checkpoint_h5.c and
 * checkpoint_safetensors.c.
 */
#include "io/checkpoint_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/checked.h"

static const char hdf5_signature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};

const char *tc_dtype_name(enum tc_dtype dtype)
{
    switch (dtype) {
    case TC_DTYPE_F16: return "float16";
    case TC_DTYPE_BF16: return "bfloat16";
    case TC_DTYPE_F32: return "float32";
    case TC_DTYPE_F64: return "float64";
    case TC_DTYPE_F8_E4M3: return "float8_e4m3";
    case TC_DTYPE_F8_E5M2: return "float8_e5m2";
    case TC_DTYPE_BOOL: return "bool";
    case TC_DTYPE_I8: return "int8";
    case TC_DTYPE_U8: return "uint8";
    case TC_DTYPE_I16: return "int16";
    case TC_DTYPE_U16: return "uint16";
    case TC_DTYPE_I32: return "int32";
    case TC_DTYPE_U32: return "uint32";
    case TC_DTYPE_I64: return "int64";
    case TC_DTYPE_U64: return "uint64";
    case TC_DTYPE_OTHER: break;
    }
    return "unsupported type";
}

bool tc_dtype_is_float(enum tc_dtype dtype)
{
    return dtype == TC_DTYPE_F16 || dtype == TC_DTYPE_BF16 || dtype == TC_DTYPE_F32 ||
           dtype == TC_DTYPE_F64;
}

size_t tc_dtype_size(enum tc_dtype dtype)
{
    switch (dtype) {
    case TC_DTYPE_F8_E4M3:
    case TC_DTYPE_F8_E5M2:
    case TC_DTYPE_BOOL:
    case TC_DTYPE_I8:
    case TC_DTYPE_U8: return 1;
    case TC_DTYPE_F16:
    case TC_DTYPE_BF16:
    case TC_DTYPE_I16:
    case TC_DTYPE_U16: return 2;
    case TC_DTYPE_F32:
    case TC_DTYPE_I32:
    case TC_DTYPE_U32: return 4;
    case TC_DTYPE_F64:
    case TC_DTYPE_I64:
    case TC_DTYPE_U64: return 8;
    case TC_DTYPE_OTHER: break;
    }
    return 0;
}

const char *tc_dims_str(int ndim, const int64_t *dims, char *buf, size_t cap)
{
    if (cap == 0)
        return buf;
    size_t len = 0;
    buf[0] = '\0';
    for (int i = -1; i <= ndim && len < cap; i++) {
        int n;
        if (i == -1)
            n = snprintf(buf + len, cap - len, "[");
        else if (i == ndim)
            n = snprintf(buf + len, cap - len, "]");
        else if (i >= TC_CHECKPOINT_MAX_DIMS)
            n = snprintf(buf + len, cap - len, i == TC_CHECKPOINT_MAX_DIMS ? ", ..." : "");
        else
            n = snprintf(buf + len, cap - len, "%s%lld", i ? ", " : "", (long long)dims[i]);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    return buf;
}

terracl_status tc_ck_add_item(struct tc_checkpoint *ck, const char *name, size_t name_len,
                              struct tc_ck_item **out, terracl_error *err)
{
    if (ck->count == ck->cap) {
        size_t cap = ck->cap ? ck->cap * 2 : 64;
        size_t bytes;
        if (tc_mul_overflow(cap, sizeof *ck->items, &bytes))
            return tc_fail(err, TERRACL_ERR_OVERFLOW, "checkpoint '%s': too many tensors",
                           ck->path);
        struct tc_ck_item *items = realloc(ck->items, bytes);
        if (items == NULL)
            return tc_fail(err, TERRACL_ERR_NO_MEMORY, "checkpoint '%s': out of memory indexing",
                           ck->path);
        ck->items = items;
        ck->cap = cap;
    }
    char *copy = malloc(name_len + 1);
    if (copy == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "checkpoint '%s': out of memory indexing",
                       ck->path);
    memcpy(copy, name, name_len);
    copy[name_len] = '\0';
    struct tc_ck_item *it = &ck->items[ck->count++];
    memset(it, 0, sizeof *it);
    it->name = copy;
    it->pub.name = copy;
    it->pub.valid = true;
    *out = it;
    return TERRACL_OK;
}

static int item_cmp(const void *a, const void *b)
{
    return strcmp(((const struct tc_ck_item *)a)->name, ((const struct tc_ck_item *)b)->name);
}

/* Sorts the index for binary search; two tensors with the same name make
 * the lookup ambiguous, so they are an error. */
static terracl_status finish_index(struct tc_checkpoint *ck, terracl_error *err)
{
    if (ck->count > 1)
        qsort(ck->items, ck->count, sizeof *ck->items, item_cmp);
    for (size_t i = 1; i < ck->count; i++) {
        if (strcmp(ck->items[i - 1].name, ck->items[i].name) == 0)
            return tc_fail(err, TERRACL_ERR_FORMAT,
                           "checkpoint '%s': two tensors are named '%s'", ck->path,
                           ck->items[i].name);
    }
    return TERRACL_OK;
}

void tc_checkpoint_close(struct tc_checkpoint *ck)
{
    if (ck == NULL)
        return;
    tc_ck_h5_close(ck);
    if (ck->fd >= 0)
        close(ck->fd);
    for (size_t i = 0; i < ck->count; i++) {
        free(ck->items[i].name);
        free(ck->items[i].h5_path);
    }
    free(ck->items);
    free(ck->config);
    free(ck->path);
    free(ck);
}

terracl_status tc_checkpoint_open(const char *path, struct tc_checkpoint **out, terracl_error *err)
{
    if (out == NULL || path == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "tc_checkpoint_open: NULL argument");
    *out = NULL;
    struct tc_checkpoint *ck = calloc(1, sizeof *ck);
    if (ck == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "checkpoint '%s': out of memory", path);
    ck->fd = -1;
    ck->h5_file = -1;
    ck->path = strdup(path);
    if (ck->path == NULL) {
        free(ck);
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "checkpoint '%s': out of memory", path);
    }

    terracl_status st;
    /* O_NONBLOCK: a FIFO must be refused below, not waited on here. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        st = tc_fail(err, TERRACL_ERR_IO, "cannot open checkpoint '%s': %s", path,
                     strerror(errno));
        goto fail;
    }
    ck->fd = fd;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        st = tc_fail(err, TERRACL_ERR_IO, "cannot stat checkpoint '%s': %s", path,
                     strerror(errno));
        goto fail;
    }
    if (S_ISDIR(sb.st_mode)) {
        st = tc_fail(err, TERRACL_ERR_IO, "checkpoint '%s' is a directory, not a file", path);
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = tc_fail(err, TERRACL_ERR_IO, "checkpoint '%s' is not a regular file (a FIFO, socket or device)", path);
        goto fail;
    }
    if (sb.st_size == 0) {
        st = tc_fail(err, TERRACL_ERR_FORMAT,
                     "checkpoint '%s' is empty (expected an HDF5 or safetensors file)", path);
        goto fail;
    }

    unsigned char head[9] = {0};
    ssize_t got;
    do {
        got = pread(fd, head, sizeof head, 0);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
        st = tc_fail(err, TERRACL_ERR_IO, "cannot read checkpoint '%s': %s", path,
                     strerror(errno));
        goto fail;
    }

    if (got >= 8 && memcmp(head, hdf5_signature, 8) == 0) {
        ck->format = TC_CHECKPOINT_HDF5;
    } else if (got == 9 && head[8] == '{') {
        ck->format = TC_CHECKPOINT_SAFETENSORS;
    } else if (tc_ck_h5_probe(path)) {
        /* An HDF5 file with a user block: the superblock sits at 512, 1024... */
        ck->format = TC_CHECKPOINT_HDF5;
    } else {
        st = tc_fail(err, TERRACL_ERR_FORMAT,
                     "checkpoint '%s' is not an HDF5 or safetensors file (expected the HDF5 "
                     "signature, or an 8-byte header length followed by a JSON object)",
                     path);
        goto fail;
    }

    if (ck->format == TC_CHECKPOINT_HDF5) {
        /* HDF5 opens the file itself. */
        close(ck->fd);
        ck->fd = -1;
        st = tc_ck_h5_open(ck, err);
    } else {
        st = tc_ck_st_open(ck, (uint64_t)sb.st_size, err);
    }
    if (st != TERRACL_OK)
        goto fail;
    st = finish_index(ck, err);
    if (st != TERRACL_OK)
        goto fail;
    *out = ck;
    return TERRACL_OK;

fail:
    tc_checkpoint_close(ck);
    return st;
}

const char *tc_checkpoint_path(const struct tc_checkpoint *ck)
{
    return ck->path;
}

enum tc_checkpoint_format tc_checkpoint_format(const struct tc_checkpoint *ck)
{
    return ck->format;
}

size_t tc_checkpoint_count(const struct tc_checkpoint *ck)
{
    return ck ? ck->count : 0;
}

struct tc_checkpoint_entry *tc_checkpoint_entry(struct tc_checkpoint *ck, size_t i)
{
    if (ck == NULL || i >= ck->count)
        return NULL;
    return &ck->items[i].pub;
}

ptrdiff_t tc_checkpoint_find(const struct tc_checkpoint *ck, const char *name)
{
    if (ck == NULL || name == NULL)
        return -1;
    size_t lo = 0, hi = ck->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ck->items[mid].name, name);
        if (c == 0)
            return (ptrdiff_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

const char *tc_checkpoint_config(const struct tc_checkpoint *ck)
{
    return ck ? ck->config : NULL;
}

terracl_status tc_checkpoint_read_f32(struct tc_checkpoint *ck, size_t index, float *dst,
                                      size_t count, terracl_error *err)
{
    if (ck == NULL || index >= ck->count)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "checkpoint '%s': no tensor #%zu",
                       ck ? ck->path : "(null)", index);
    const struct tc_ck_item *it = &ck->items[index];
    if (!it->pub.valid)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "checkpoint '%s': tensor '%s': %s",
                       ck->path, it->name, it->pub.problem);
    if (!tc_dtype_is_float(it->pub.dtype))
        return tc_fail(err, TERRACL_ERR_TYPE,
                       "checkpoint '%s': tensor '%s' has dtype %s, expected a float type",
                       ck->path, it->name, tc_dtype_name(it->pub.dtype));
    if (count != it->pub.numel)
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "checkpoint '%s': tensor '%s' has %zu elements, the caller expects %zu",
                       ck->path, it->name, it->pub.numel, count);
    if (count == 0)
        return TERRACL_OK;
    if (dst == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "checkpoint '%s': tensor '%s': NULL buffer",
                       ck->path, it->name);
    if (ck->format == TC_CHECKPOINT_HDF5)
        return tc_ck_h5_read(ck, it, dst, err);
    return tc_ck_st_read(ck, it, dst, err);
}

terracl_status tc_checkpoint_expect(struct tc_checkpoint *ck, const char *name, int ndim,
                                    const int64_t *dims, size_t *index, terracl_error *err)
{
    if (ck == NULL || name == NULL || ndim < 0 || ndim > TC_CHECKPOINT_MAX_DIMS ||
        (ndim > 0 && dims == NULL))
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "tc_checkpoint_expect: bad argument");
    ptrdiff_t i = tc_checkpoint_find(ck, name);
    if (i < 0)
        return tc_fail(err, TERRACL_ERR_NOT_FOUND, "checkpoint '%s': tensor '%s' is missing",
                       ck->path, name);
    struct tc_ck_item *it = &ck->items[i];
    it->pub.used = true;
    if (!it->pub.valid)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "checkpoint '%s': tensor '%s': %s",
                       ck->path, name, it->pub.problem);
    if (!tc_dtype_is_float(it->pub.dtype))
        return tc_fail(err, TERRACL_ERR_TYPE,
                       "checkpoint '%s': tensor '%s' has dtype %s, expected a float type",
                       ck->path, name, tc_dtype_name(it->pub.dtype));
    bool same = it->pub.ndim == ndim;
    for (int d = 0; same && d < ndim; d++)
        same = it->pub.dims[d] == dims[d];
    if (!same) {
        char want[160], have[160];
        return tc_fail(err, TERRACL_ERR_SHAPE,
                       "checkpoint '%s': tensor '%s': expected %s, found %s", ck->path, name,
                       tc_dims_str(ndim, dims, want, sizeof want),
                       tc_dims_str(it->pub.ndim, it->pub.dims, have, sizeof have));
    }
    if (index)
        *index = (size_t)i;
    return TERRACL_OK;
}

terracl_status tc_checkpoint_load_f32(struct tc_checkpoint *ck, const char *name, int ndim,
                                      const int64_t *dims, float *dst, terracl_error *err)
{
    size_t index;
    terracl_status st = tc_checkpoint_expect(ck, name, ndim, dims, &index, err);
    if (st != TERRACL_OK)
        return st;
    return tc_checkpoint_read_f32(ck, index, dst, ck->items[index].pub.numel, err);
}

size_t tc_checkpoint_unused_summary(const struct tc_checkpoint *ck, size_t max_names, char *buf,
                                    size_t cap)
{
    size_t unused = 0;
    for (size_t i = 0; ck && i < ck->count; i++)
        unused += !ck->items[i].pub.used;
    if (cap == 0)
        return unused;
    buf[0] = '\0';
    if (unused == 0)
        return 0;

    int n = snprintf(buf, cap, "%zu unused tensor%s: ", unused, unused == 1 ? "" : "s");
    if (n < 0 || (size_t)n >= cap)
        return unused;
    size_t len = (size_t)n;
    size_t listed = 0;
    /* Keep room for the longest possible tail, so a cut list still says how
     * many names it left out. */
    char tail[64];
    size_t tail_room = (size_t)snprintf(tail, sizeof tail, ", ... (and %zu more)", unused);
    for (size_t i = 0; i < ck->count && listed < max_names; i++) {
        const struct tc_ck_item *it = &ck->items[i];
        if (it->pub.used)
            continue;
        size_t need = strlen(it->name) + (listed ? 2 : 0);
        bool last = listed + 1 == unused;
        if (len + need + (last ? 0 : tail_room) >= cap)
            break;
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", listed ? ", " : "", it->name);
        listed++;
    }
    if (listed < unused) {
        if (listed == 0)
            snprintf(buf + len, cap - len, "... (%zu not listed)", unused);
        else
            snprintf(buf + len, cap - len, ", ... (and %zu more)", unused - listed);
    }
    return unused;
}

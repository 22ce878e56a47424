/*
 * safetensors checkpoints: an 8-byte little-endian header length N, N bytes
 * of JSON ({"name": {"dtype", "shape", "data_offsets"}, "__metadata__":
 * {...}}), then the data buffer, which the tensors must cover exactly, with
 * no holes and no overlaps. The header is validated in full at open; tensor
 * data is read with pread when asked for, never mapped or loaded whole.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/checked.h"
#include "io/checkpoint_internal.h"
#include "io/safetensors_json.h"

/* The reference implementation's limit; a bigger header is hostile. */
#define ST_MAX_HEADER 100000000u
/* Conversions go through a bounce buffer of this many bytes. */
#define ST_CHUNK (1u << 20)

static const struct {
    const char *name;
    enum tc_dtype dtype;
} st_dtypes[] = {
    {"F16", TC_DTYPE_F16},        {"BF16", TC_DTYPE_BF16},      {"F32", TC_DTYPE_F32},
    {"F64", TC_DTYPE_F64},        {"F8_E4M3", TC_DTYPE_F8_E4M3}, {"F8_E5M2", TC_DTYPE_F8_E5M2},
    {"BOOL", TC_DTYPE_BOOL},      {"I8", TC_DTYPE_I8},          {"U8", TC_DTYPE_U8},
    {"I16", TC_DTYPE_I16},        {"U16", TC_DTYPE_U16},        {"I32", TC_DTYPE_I32},
    {"U32", TC_DTYPE_U32},        {"I64", TC_DTYPE_I64},        {"U64", TC_DTYPE_U64},
};

/* Reads exactly n bytes at offset; a short read means the file shrank. */
static terracl_status pread_full(struct tc_checkpoint *ck, void *dst, size_t n, uint64_t offset,
                                 const char *what, terracl_error *err)
{
    unsigned char *p = dst;
    while (n > 0) {
        if (offset > (uint64_t)INT64_MAX)
            return tc_fail(err, TERRACL_ERR_FORMAT, "checkpoint '%s': %s: offset out of range",
                           ck->path, what);
        ssize_t got = pread(ck->fd, p, n, (off_t)offset);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return tc_fail(err, TERRACL_ERR_IO, "checkpoint '%s': reading %s: %s", ck->path, what,
                           strerror(errno));
        if (got == 0)
            return tc_fail(err, TERRACL_ERR_FORMAT,
                           "checkpoint '%s': reading %s: unexpected end of file (truncated?)",
                           ck->path, what);
        p += got;
        n -= (size_t)got;
        offset += (uint64_t)got;
    }
    return TERRACL_OK;
}

static bool key_is(const struct tc_json_node *m, const char *s)
{
    size_t n = strlen(s);
    return m->key_len == n && memcmp(m->key, s, n) == 0;
}

static terracl_status read_metadata(struct tc_checkpoint *ck, const struct tc_json *js,
                                    const struct tc_json_node *meta, terracl_error *err)
{
    if (meta->type != TC_JSON_OBJECT)
        return tc_fail(err, TERRACL_ERR_FORMAT,
                       "checkpoint '%s': safetensors __metadata__ is not a JSON object", ck->path);
    for (const struct tc_json_node *m = tc_json_at(js, meta->child); m; m = tc_json_at(js, m->next)) {
        if (m->type != TC_JSON_STRING)
            return tc_fail(err, TERRACL_ERR_FORMAT,
                           "checkpoint '%s': safetensors __metadata__ entry '%.200s' is not a string",
                           ck->path, m->key);
        if (key_is(m, "config")) {
            ck->config = strdup(m->str);
            if (ck->config == NULL)
                return tc_fail(err, TERRACL_ERR_NO_MEMORY, "checkpoint '%s': out of memory",
                               ck->path);
        }
    }
    return TERRACL_OK;
}

/* One "name": {...} entry of the header. */
static terracl_status add_tensor(struct tc_checkpoint *ck, const struct tc_json *js,
                                 const struct tc_json_node *t, uint64_t data_start,
                                 uint64_t data_size, terracl_error *err)
{
    const char *name = t->key;
    if (t->type != TC_JSON_OBJECT)
        return tc_fail(err, TERRACL_ERR_FORMAT,
                       "checkpoint '%s': tensor '%s': header entry is not a JSON object", ck->path,
                       name);
    const struct tc_json_node *dtype = tc_json_member(js, t, "dtype");
    const struct tc_json_node *shape = tc_json_member(js, t, "shape");
    const struct tc_json_node *offs = tc_json_member(js, t, "data_offsets");
    if (dtype == NULL || shape == NULL || offs == NULL)
        return tc_fail(err, TERRACL_ERR_FORMAT,
                       "checkpoint '%s': tensor '%s': header entry lacks \"%s\"", ck->path, name,
                       dtype == NULL ? "dtype" : shape == NULL ? "shape" : "data_offsets");
    if (dtype->type != TC_JSON_STRING)
        return tc_fail(err, TERRACL_ERR_FORMAT, "checkpoint '%s': tensor '%s': dtype is not a string",
                       ck->path, name);
    enum tc_dtype dt = TC_DTYPE_OTHER;
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (strcmp(dtype->str, st_dtypes[i].name) == 0)
            dt = st_dtypes[i].dtype;
    if (dt == TC_DTYPE_OTHER)
        return tc_fail(err, TERRACL_ERR_FORMAT, "checkpoint '%s': tensor '%s': unknown dtype '%.40s'",
                       ck->path, name, dtype->str);

    if (shape->type != TC_JSON_ARRAY)
        return tc_fail(err, TERRACL_ERR_FORMAT, "checkpoint '%s': tensor '%s': shape is not an array",
                       ck->path, name);
    struct tc_ck_item *it;
    terracl_status st = tc_ck_add_item(ck, name, t->key_len, &it, err);
    if (st != TERRACL_OK)
        return st;
    it->pub.dtype = dt;
    it->pub.ndim = (int)shape->count; /* <= TC_JSON_MAX_NODES */
    uint64_t numel = 1;
    int d = 0;
    for (const struct tc_json_node *n = tc_json_at(js, shape->child); n; n = tc_json_at(js, n->next), d++) {
        if (n->type != TC_JSON_NUMBER || !n->is_uint || n->u64 > (uint64_t)INT64_MAX)
            return tc_fail(err, TERRACL_ERR_FORMAT,
                           "checkpoint '%s': tensor '%s': shape entries must be non-negative integers",
                           ck->path, name);
        if (__builtin_mul_overflow(numel, n->u64, &numel))
            return tc_fail(err, TERRACL_ERR_FORMAT,
                           "checkpoint '%s': tensor '%s': the element count overflows", ck->path,
                           name);
        if (d < TC_CHECKPOINT_MAX_DIMS)
            it->pub.dims[d] = (int64_t)n->u64;
    }
    if (shape->count > TC_CHECKPOINT_MAX_DIMS) {
        it->pub.valid = false;
        it->pub.problem = "rank is above the maximum of 5";
    }

    const struct tc_json_node *b = tc_json_at(js, offs->child);
    const struct tc_json_node *e = b ? tc_json_at(js, b->next) : NULL;
    if (offs->type != TC_JSON_ARRAY || offs->count != 2 || b->type != TC_JSON_NUMBER ||
        !b->is_uint || e->type != TC_JSON_NUMBER || !e->is_uint)
        return tc_fail(err, TERRACL_ERR_FORMAT,
                       "checkpoint '%s': tensor '%s': data_offsets must be two non-negative integers",
                       ck->path, name);
    uint64_t begin = b->u64, end = e->u64;
    if (begin > end || end > data_size)
        return tc_fail(err, TERRACL_ERR_FORMAT,
                       "checkpoint '%s': tensor '%s': data_offsets [%llu, %llu] lie outside the "
                       "data buffer of %llu bytes",
                       ck->path, name, (unsigned long long)begin, (unsigned long long)end,
                       (unsigned long long)data_size);
    uint64_t nbytes;
    if (__builtin_mul_overflow(numel, (uint64_t)tc_dtype_size(dt), &nbytes) ||
        nbytes != end - begin)
        return tc_fail(err, TERRACL_ERR_FORMAT,
                       "checkpoint '%s': tensor '%s': data_offsets [%llu, %llu] hold %llu bytes, "
                       "but %s with %llu elements needs %llu",
                       ck->path, name, (unsigned long long)begin, (unsigned long long)end,
                       (unsigned long long)(end - begin), dtype->str, (unsigned long long)numel,
                       (unsigned long long)numel * tc_dtype_size(dt));
    if (numel > SIZE_MAX)
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "checkpoint '%s': tensor '%s' is too large",
                       ck->path, name);
    it->pub.numel = (size_t)numel;
    it->offset = data_start + begin;
    it->nbytes = nbytes;
    return TERRACL_OK;
}

static int by_offset(const void *a, const void *b)
{
    const struct tc_ck_item *x = *(const struct tc_ck_item *const *)a;
    const struct tc_ck_item *y = *(const struct tc_ck_item *const *)b;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return (x->nbytes > y->nbytes) - (x->nbytes < y->nbytes);
}

/* The format requires the tensors to tile the data buffer exactly. */
static terracl_status check_coverage(struct tc_checkpoint *ck, uint64_t data_start,
                                     uint64_t data_size, terracl_error *err)
{
    if (ck->count == 0) {
        if (data_size != 0)
            return tc_fail(err, TERRACL_ERR_FORMAT,
                           "checkpoint '%s': %llu data bytes but no tensors", ck->path,
                           (unsigned long long)data_size);
        return TERRACL_OK;
    }
    struct tc_ck_item **order = malloc(ck->count * sizeof *order);
    if (order == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "checkpoint '%s': out of memory", ck->path);
    for (size_t i = 0; i < ck->count; i++)
        order[i] = &ck->items[i];
    qsort(order, ck->count, sizeof *order, by_offset);
    terracl_status st = TERRACL_OK;
    uint64_t expect = data_start;
    for (size_t i = 0; i < ck->count && st == TERRACL_OK; i++) {
        const struct tc_ck_item *it = order[i];
        if (it->offset > expect)
            st = tc_fail(err, TERRACL_ERR_FORMAT,
                         "checkpoint '%s': data bytes [%llu, %llu) before tensor '%s' belong to "
                         "no tensor",
                         ck->path, (unsigned long long)(expect - data_start),
                         (unsigned long long)(it->offset - data_start), it->name);
        else if (it->offset < expect)
            st = tc_fail(err, TERRACL_ERR_FORMAT,
                         "checkpoint '%s': tensor '%s' overlaps tensor '%s' in the data buffer",
                         ck->path, it->name, order[i - 1]->name);
        expect = it->offset + it->nbytes;
    }
    if (st == TERRACL_OK && expect != data_start + data_size)
        st = tc_fail(err, TERRACL_ERR_FORMAT,
                     "checkpoint '%s': the data buffer has %llu bytes but the tensors cover %llu",
                     ck->path, (unsigned long long)data_size,
                     (unsigned long long)(expect - data_start));
    free(order);
    return st;
}

terracl_status tc_ck_st_open(struct tc_checkpoint *ck, uint64_t file_size, terracl_error *err)
{
    unsigned char lenbuf[8];
    terracl_status st = pread_full(ck, lenbuf, sizeof lenbuf, 0, "the header length", err);
    if (st != TERRACL_OK)
        return st;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | lenbuf[i];
    if (n > ST_MAX_HEADER)
        return tc_fail(err, TERRACL_ERR_FORMAT,
                       "checkpoint '%s': safetensors header length %llu is above the limit of %u "
                       "bytes",
                       ck->path, (unsigned long long)n, ST_MAX_HEADER);
    if (n > file_size - 8)
        return tc_fail(err, TERRACL_ERR_FORMAT,
                       "checkpoint '%s': safetensors header length %llu goes beyond the end of "
                       "the file (%llu bytes; truncated?)",
                       ck->path, (unsigned long long)n, (unsigned long long)file_size);
    char *header = malloc(n ? (size_t)n : 1);
    if (header == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "checkpoint '%s': out of memory", ck->path);
    st = pread_full(ck, header, (size_t)n, 8, "the header", err);
    struct tc_json js = {0};
    if (st == TERRACL_OK) {
        st = tc_json_parse(header, (size_t)n, &js, err);
        if (st != TERRACL_OK)
            tc_fail_context(err, st, "checkpoint '%s': safetensors header", ck->path);
    }
    free(header);
    if (st != TERRACL_OK)
        return st;

    const struct tc_json_node *root = tc_json_at(&js, 0);
    uint64_t data_start = 8 + n;
    uint64_t data_size = file_size - data_start;
    if (root->type != TC_JSON_OBJECT) {
        st = tc_fail(err, TERRACL_ERR_FORMAT,
                     "checkpoint '%s': safetensors header is not a JSON object", ck->path);
        goto out;
    }
    for (const struct tc_json_node *m = tc_json_at(&js, root->child); m && st == TERRACL_OK;
         m = tc_json_at(&js, m->next)) {
        if (key_is(m, "__metadata__"))
            st = read_metadata(ck, &js, m, err);
        else
            st = add_tensor(ck, &js, m, data_start, data_size, err);
    }
    if (st == TERRACL_OK)
        st = check_coverage(ck, data_start, data_size, err);
out:
    tc_json_free(&js);
    return st;
}

static bool host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

terracl_status tc_ck_st_read(struct tc_checkpoint *ck, const struct tc_ck_item *it, float *dst,
                             terracl_error *err)
{
    size_t n = it->pub.numel;
    enum tc_dtype dt = it->pub.dtype;
    if (dt == TC_DTYPE_F32 && host_is_little_endian())
        return pread_full(ck, dst, n * sizeof(float), it->offset, it->name, err);

    size_t esize = tc_dtype_size(dt);
    unsigned char *chunk = malloc(ST_CHUNK);
    if (chunk == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "checkpoint '%s': out of memory reading '%s'",
                       ck->path, it->name);
    size_t per_chunk = ST_CHUNK / esize;
    terracl_status st = TERRACL_OK;
    for (size_t done = 0; done < n && st == TERRACL_OK;) {
        size_t m = n - done < per_chunk ? n - done : per_chunk;
        st = pread_full(ck, chunk, m * esize, it->offset + (uint64_t)done * esize, it->name, err);
        if (st != TERRACL_OK)
            break;
        /* Bytes are assembled explicitly: safetensors is little-endian
         * whatever the host is. */
        for (size_t i = 0; i < m; i++) {
            const unsigned char *b = chunk + i * esize;
            uint64_t bits = 0;
            for (size_t k = esize; k-- > 0;)
                bits = (bits << 8) | b[k];
            float f;
            if (dt == TC_DTYPE_F16) {
                f = tc_f16_to_f32((uint16_t)bits);
            } else if (dt == TC_DTYPE_BF16) {
                f = tc_bf16_to_f32((uint16_t)bits);
            } else if (dt == TC_DTYPE_F32) {
                uint32_t u = (uint32_t)bits;
                memcpy(&f, &u, sizeof f);
            } else {
                double v;
                memcpy(&v, &bits, sizeof v);
                f = (float)v;
            }
            dst[done + i] = f;
        }
        done += m;
    }
    free(chunk);
    return st;
}

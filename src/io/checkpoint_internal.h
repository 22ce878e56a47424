/*
 * What the checkpoint front end (checkpoint.c) shares with its two format
 * back ends (checkpoint_h5.c, checkpoint_safetensors.c). Not for use outside
 * src/io/.
 */
#ifndef TC_IO_CHECKPOINT_INTERNAL_H
#define TC_IO_CHECKPOINT_INTERNAL_H

#include <string.h>

#include "io/checkpoint.h"

struct tc_ck_item {
    struct tc_checkpoint_entry pub; /* pub.name points at name */
    char *name;                     /* owned */
    char *h5_path;                  /* HDF5: the dataset's path; owned */
    uint64_t offset;                /* safetensors: absolute file offset of the data */
    uint64_t nbytes;                /* safetensors: data size in bytes */
};

struct tc_checkpoint {
    char *path;
    enum tc_checkpoint_format format;
    struct tc_ck_item *items;
    size_t count, cap;
    char *config; /* owned, NULL when absent */
    int64_t h5_file; /* hid_t of the open HDF5 file, or -1 */
    int fd;          /* safetensors: the open file, or -1 */
};

/* Appends an entry named `name` (copied); *out points at it until the next
 * append. Fills nothing but the name and valid = true. */
TC_NODISCARD terracl_status tc_ck_add_item(struct tc_checkpoint *ck, const char *name,
                                           size_t name_len, struct tc_ck_item **out,
                                           terracl_error *err);

/* Bytes per element, 0 for TC_DTYPE_OTHER. */
size_t tc_dtype_size(enum tc_dtype dtype);

/* HDF5 back end (checkpoint_h5.c). */
bool tc_ck_h5_probe(const char *path);
TC_NODISCARD terracl_status tc_ck_h5_open(struct tc_checkpoint *ck, terracl_error *err);
TC_NODISCARD terracl_status tc_ck_h5_read(struct tc_checkpoint *ck, const struct tc_ck_item *it,
                                          float *dst, terracl_error *err);
void tc_ck_h5_close(struct tc_checkpoint *ck);

/* safetensors back end (checkpoint_safetensors.c); ck->fd is open. */
TC_NODISCARD terracl_status tc_ck_st_open(struct tc_checkpoint *ck, uint64_t file_size,
                                          terracl_error *err);
TC_NODISCARD terracl_status tc_ck_st_read(struct tc_checkpoint *ck, const struct tc_ck_item *it,
                                          float *dst, terracl_error *err);

/* IEEE binary16 and bfloat16 bit patterns to float, exact (NaN stays NaN). */
static inline float tc_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112u) << 23) | (mant << 13); /* rebias 15 -> 127 */
    } else if (mant == 0) {
        bits = sign;
    } else {
        /* Subnormal half: shift the mantissa up until its leading one
         * becomes the implicit bit of a normal float. */
        uint32_t e = 113; /* 127 - 14 */
        while ((mant & 0x400u) == 0) {
            mant <<= 1;
            e--;
        }
        bits = sign | (e << 23) | ((mant & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline float tc_bf16_to_f32(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

#endif /* TC_IO_CHECKPOINT_INTERNAL_H */

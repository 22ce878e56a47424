/*
 * Checkpoint reader: HDF5 checkpoints written here with the HDF5 API and
 * safetensors files written byte by byte; names, shapes, values and dtype
 * conversions, then every kind of bad input, each checked for the status
 * code and for a message that names the file and the tensor.
 */
#include "test_common.h"

#include <dirent.h>
#include <fcntl.h>
#include <hdf5.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/checkpoint.h"
#include "io/safetensors_json.h"

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    if (n)
        assert_int_equal(fwrite(data, 1, n, fp), n);
    fclose(fp);
}

static unsigned char *read_bytes(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)len + 1);
    assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    *n = (size_t)len;
    return buf;
}

/* Fails unless st == code and the message contains each non-NULL needle. */
static void expect_error(terracl_status st, const terracl_error *err, terracl_status code,
                         const char *needle1, const char *needle2)
{
    if (st != code)
        fail_msg("expected %s, got %s: %s", terracl_status_name(code), terracl_status_name(st),
                 err->message);
    if (needle1 && strstr(err->message, needle1) == NULL)
        fail_msg("message lacks '%s': %s", needle1, err->message);
    if (needle2 && strstr(err->message, needle2) == NULL)
        fail_msg("message lacks '%s': %s", needle2, err->message);
}

/* ---- HDF5 checkpoints written with the HDF5 API ------------------------ */

/* 16-bit float file types, built the way h5py builds its float16. */
static hid_t h5_small_float(size_t epos, size_t esize, size_t msize, size_t bias)
{
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(t, 15, epos, esize, 0, msize);
    H5Tset_size(t, 2);
    H5Tset_ebias(t, bias);
    return t;
}

static void h5_put(hid_t file, const char *name, hid_t ftype, hid_t mtype, int ndim,
                   const hsize_t *dims, const void *data, hid_t dcpl)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t space = ndim == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(ndim, dims, NULL);
    hid_t d = H5Dcreate2(file, name, ftype, space, lcpl, dcpl, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(d);
    H5Sclose(space);
    H5Pclose(lcpl);
}

static const uint16_t f16_bits[8] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x7e00, 0x3800, 0x8000};
static const uint16_t bf16_bits[3] = {0x3f80, 0xc040, 0x4049};
static const char yaml_text[] = "model:\n  init_args:\n    model_factory: EncoderDecoderFactory\n";

/* The checkpoint most tests read: every dtype and layout of DESIGN.md §2.2. */
static void write_h5_checkpoint(const char *path, bool vlen_config)
{
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(file >= 0);

    float qkv[12];
    for (int i = 0; i < 12; i++)
        qkv[i] = 0.5f * (float)i - 1.0f;
    hsize_t d43[2] = {4, 3};
    h5_put(file, "encoder/blocks/0/attn/qkv/weight", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d43, qkv,
           H5P_DEFAULT);

    hid_t half = h5_small_float(10, 5, 10, 15);
    hsize_t d24[2] = {2, 4};
    h5_put(file, "encoder/blocks/0/attn/qkv/bias", half, half, 2, d24, f16_bits, H5P_DEFAULT);
    H5Tclose(half);

    hid_t bf = h5_small_float(7, 8, 7, 127);
    hsize_t d3[1] = {3};
    h5_put(file, "encoder/blocks/0/norm1/weight", bf, bf, 1, d3, bf16_bits, H5P_DEFAULT);
    H5Tclose(bf);

    double norm[3] = {0.001, -2.5, 3.0};
    h5_put(file, "encoder/norm/weight", H5T_IEEE_F64BE, H5T_NATIVE_DOUBLE, 1, d3, norm,
           H5P_DEFAULT);

    /* Chunked and gzip-compressed, as the converter's --compress writes. */
    float conv[120];
    for (int i = 0; i < 120; i++)
        conv[i] = (float)(i % 7) * 0.25f;
    hsize_t d4[4] = {2, 3, 4, 5}, chunk[4] = {1, 3, 4, 5};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 4, chunk);
    H5Pset_deflate(dcpl, 6);
    h5_put(file, "decoder/conv/weight", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 4, d4, conv, dcpl);
    H5Pclose(dcpl);

    int64_t tracked = 42;
    h5_put(file, "encoder/bn/num_batches_tracked", H5T_STD_I64LE, H5T_NATIVE_INT64, 0, NULL,
           &tracked, H5P_DEFAULT);

    float six[2] = {1, 2};
    hsize_t d6[6] = {1, 1, 1, 1, 1, 2};
    h5_put(file, "head/rank6", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 6, d6, six, H5P_DEFAULT);

    float scalar = 7.5f;
    h5_put(file, "head/scale", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 0, NULL, &scalar, H5P_DEFAULT);

    /* The root "config" attribute, variable-length or fixed-length UTF-8. */
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_cset(st, H5T_CSET_UTF8);
    hid_t space = H5Screate(H5S_SCALAR);
    if (vlen_config) {
        H5Tset_size(st, H5T_VARIABLE);
        hid_t a = H5Acreate2(file, "config", st, space, H5P_DEFAULT, H5P_DEFAULT);
        const char *p = yaml_text;
        assert_true(H5Awrite(a, st, &p) >= 0);
        H5Aclose(a);
    } else {
        H5Tset_size(st, sizeof yaml_text + 8);
        H5Tset_strpad(st, H5T_STR_NULLPAD);
        char fixed[sizeof yaml_text + 8] = {0};
        memcpy(fixed, yaml_text, sizeof yaml_text - 1);
        hid_t a = H5Acreate2(file, "config", st, space, H5P_DEFAULT, H5P_DEFAULT);
        assert_true(H5Awrite(a, st, fixed) >= 0);
        H5Aclose(a);
    }
    H5Sclose(space);
    H5Tclose(st);
    H5Fclose(file);
}

static struct tc_checkpoint *open_ok(const char *path)
{
    terracl_error err = {0};
    struct tc_checkpoint *ck = NULL;
    TC_ASSERT_OK(tc_checkpoint_open(path, &ck, &err), err);
    assert_non_null(ck);
    return ck;
}

static const struct tc_checkpoint_entry *entry_named(struct tc_checkpoint *ck, const char *name)
{
    ptrdiff_t i = tc_checkpoint_find(ck, name);
    if (i < 0)
        fail_msg("tensor %s not indexed", name);
    return tc_checkpoint_entry(ck, (size_t)i);
}

static void test_h5_index(void **state)
{
    char path[512];
    write_h5_checkpoint(tc_test_in_tmpdir(state, "index.h5", path, sizeof path), true);
    struct tc_checkpoint *ck = open_ok(path);
    assert_int_equal(tc_checkpoint_format(ck), TC_CHECKPOINT_HDF5);
    assert_int_equal(tc_checkpoint_count(ck), 8);
    /* Sorted by name. */
    for (size_t i = 1; i < tc_checkpoint_count(ck); i++)
        assert_true(strcmp(tc_checkpoint_entry(ck, i - 1)->name, tc_checkpoint_entry(ck, i)->name) < 0);

    const struct tc_checkpoint_entry *e = entry_named(ck, "encoder.blocks.0.attn.qkv.weight");
    assert_int_equal(e->dtype, TC_DTYPE_F32);
    assert_int_equal(e->ndim, 2);
    assert_int_equal(e->dims[0], 4);
    assert_int_equal(e->dims[1], 3);
    assert_int_equal(e->numel, 12);
    assert_true(e->valid);
    assert_false(e->used);

    assert_int_equal(entry_named(ck, "encoder.blocks.0.attn.qkv.bias")->dtype, TC_DTYPE_F16);
    assert_int_equal(entry_named(ck, "encoder.blocks.0.norm1.weight")->dtype, TC_DTYPE_BF16);
    assert_int_equal(entry_named(ck, "encoder.norm.weight")->dtype, TC_DTYPE_F64);
    e = entry_named(ck, "decoder.conv.weight");
    assert_int_equal(e->ndim, 4);
    assert_int_equal(e->dims[3], 5);
    e = entry_named(ck, "encoder.bn.num_batches_tracked");
    assert_int_equal(e->dtype, TC_DTYPE_I64);
    assert_false(tc_dtype_is_float(e->dtype));
    assert_int_equal(e->ndim, 0);
    e = entry_named(ck, "head.rank6");
    assert_false(e->valid);
    assert_int_equal(e->ndim, 6);
    assert_non_null(e->problem);
    e = entry_named(ck, "head.scale");
    assert_int_equal(e->ndim, 0);
    assert_int_equal(e->numel, 1);

    assert_int_equal(tc_checkpoint_find(ck, "encoder.blocks.0"), -1);
    assert_int_equal(tc_checkpoint_find(ck, "nope"), -1);
    assert_int_equal(tc_checkpoint_find(ck, ""), -1);
    assert_null(tc_checkpoint_entry(ck, 8));
    assert_string_equal(tc_checkpoint_config(ck), yaml_text);
    tc_checkpoint_close(ck);
    tc_checkpoint_close(NULL);
}

static void test_h5_values_and_conversions(void **state)
{
    char path[512];
    write_h5_checkpoint(tc_test_in_tmpdir(state, "values.h5", path, sizeof path), false);
    struct tc_checkpoint *ck = open_ok(path);
    terracl_error err = {0};
    float buf[120];

    ptrdiff_t i = tc_checkpoint_find(ck, "encoder.blocks.0.attn.qkv.weight");
    TC_ASSERT_OK(tc_checkpoint_read_f32(ck, (size_t)i, buf, 12, &err), err);
    for (int k = 0; k < 12; k++)
        assert_true(buf[k] == 0.5f * (float)k - 1.0f);

    i = tc_checkpoint_find(ck, "encoder.blocks.0.attn.qkv.bias");
    TC_ASSERT_OK(tc_checkpoint_read_f32(ck, (size_t)i, buf, 8, &err), err);
    assert_true(buf[0] == 1.0f);
    assert_true(buf[1] == -2.0f);
    assert_true(buf[2] == 65504.0f);
    assert_true(buf[3] == ldexpf(1.0f, -24));
    assert_true(isinf(buf[4]) && buf[4] > 0);
    assert_true(isnan(buf[5]));
    assert_true(buf[6] == 0.5f);
    assert_true(buf[7] == 0.0f && signbit(buf[7]));

    i = tc_checkpoint_find(ck, "encoder.blocks.0.norm1.weight");
    TC_ASSERT_OK(tc_checkpoint_read_f32(ck, (size_t)i, buf, 3, &err), err);
    assert_true(buf[0] == 1.0f && buf[1] == -3.0f && buf[2] == 3.140625f);

    i = tc_checkpoint_find(ck, "encoder.norm.weight");
    TC_ASSERT_OK(tc_checkpoint_read_f32(ck, (size_t)i, buf, 3, &err), err);
    assert_true(buf[0] == 0.001f && buf[1] == -2.5f && buf[2] == 3.0f);

    i = tc_checkpoint_find(ck, "decoder.conv.weight");
    TC_ASSERT_OK(tc_checkpoint_read_f32(ck, (size_t)i, buf, 120, &err), err);
    for (int k = 0; k < 120; k++)
        assert_true(buf[k] == (float)(k % 7) * 0.25f);

    float s = 0;
    TC_ASSERT_OK(tc_checkpoint_load_f32(ck, "head.scale", 0, NULL, &s, &err), err);
    assert_true(s == 7.5f);

    /* Fixed-length config attribute, NUL-padded. */
    assert_string_equal(tc_checkpoint_config(ck), yaml_text);
    tc_checkpoint_close(ck);
}

static void test_h5_f16_every_pattern(void **state)
{
    /* All 65536 half patterns against an independent reference (ldexp). */
    char path[512];
    tc_test_in_tmpdir(state, "allhalf.h5", path, sizeof path);
    uint16_t *bits = malloc(65536 * sizeof *bits);
    for (uint32_t k = 0; k < 65536; k++)
        bits[k] = (uint16_t)k;
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t half = h5_small_float(10, 5, 10, 15);
    hsize_t n[1] = {65536};
    h5_put(file, "h", half, half, 1, n, bits, H5P_DEFAULT);
    H5Tclose(half);
    H5Fclose(file);

    struct tc_checkpoint *ck = open_ok(path);
    float *got = malloc(65536 * sizeof *got);
    terracl_error err = {0};
    TC_ASSERT_OK(tc_checkpoint_read_f32(ck, 0, got, 65536, &err), err);
    for (uint32_t k = 0; k < 65536; k++) {
        int e = (int)((k >> 10) & 0x1f), m = (int)(k & 0x3ff);
        float want;
        if (e == 31)
            want = m ? NAN : INFINITY;
        else if (e == 0)
            want = ldexpf((float)m, -24);
        else
            want = ldexpf((float)(1024 + m), e - 25);
        if (k & 0x8000)
            want = -want;
        if (isnan(want))
            assert_true(isnan(got[k]));
        else if (got[k] != want || signbit(got[k]) != signbit(want))
            fail_msg("half 0x%04x: got %g, want %g", k, (double)got[k], (double)want);
    }
    free(got);
    free(bits);
    tc_checkpoint_close(ck);
}

static void test_h5_usage_errors(void **state)
{
    char path[512];
    write_h5_checkpoint(tc_test_in_tmpdir(state, "usage.h5", path, sizeof path), true);
    struct tc_checkpoint *ck = open_ok(path);
    terracl_error err = {0};
    float buf[16];

    /* Wrong element count. */
    ptrdiff_t i = tc_checkpoint_find(ck, "encoder.blocks.0.attn.qkv.weight");
    expect_error(tc_checkpoint_read_f32(ck, (size_t)i, buf, 16, &err), &err, TERRACL_ERR_SHAPE,
                 "encoder.blocks.0.attn.qkv.weight", "usage.h5");
    /* Integer buffer read as float. */
    i = tc_checkpoint_find(ck, "encoder.bn.num_batches_tracked");
    expect_error(tc_checkpoint_read_f32(ck, (size_t)i, buf, 1, &err), &err, TERRACL_ERR_TYPE,
                 "encoder.bn.num_batches_tracked", "int64");
    /* Rank 6 is only an error when used. */
    i = tc_checkpoint_find(ck, "head.rank6");
    expect_error(tc_checkpoint_read_f32(ck, (size_t)i, buf, 2, &err), &err,
                 TERRACL_ERR_UNSUPPORTED, "head.rank6", "rank");
    expect_error(tc_checkpoint_read_f32(ck, 99, buf, 2, &err), &err, TERRACL_ERR_INVALID_ARG,
                 "usage.h5", NULL);

    /* What a model loader sees. */
    int64_t want[2] = {4, 4};
    expect_error(tc_checkpoint_expect(ck, "encoder.blocks.0.attn.qkv.weight", 2, want, NULL, &err),
                 &err, TERRACL_ERR_SHAPE, "expected [4, 4], found [4, 3]",
                 "encoder.blocks.0.attn.qkv.weight");
    expect_error(tc_checkpoint_expect(ck, "encoder.blocks.1.attn.qkv.weight", 2, want, NULL, &err),
                 &err, TERRACL_ERR_NOT_FOUND, "encoder.blocks.1.attn.qkv.weight", "usage.h5");
    int64_t one = 1;
    expect_error(tc_checkpoint_load_f32(ck, "encoder.bn.num_batches_tracked", 0, &one, buf, &err),
                 &err, TERRACL_ERR_TYPE, "num_batches_tracked", NULL);
    int64_t want3[3] = {2, 4, 1};
    expect_error(tc_checkpoint_load_f32(ck, "encoder.blocks.0.attn.qkv.bias", 3, want3, buf, &err),
                 &err, TERRACL_ERR_SHAPE, "expected [2, 4, 1], found [2, 4]", NULL);
    tc_checkpoint_close(ck);
}

static void test_unused_summary(void **state)
{
    char path[512];
    write_h5_checkpoint(tc_test_in_tmpdir(state, "unused.h5", path, sizeof path), true);
    struct tc_checkpoint *ck = open_ok(path);
    terracl_error err = {0};
    float buf[12];
    int64_t dims[2] = {4, 3};
    TC_ASSERT_OK(tc_checkpoint_load_f32(ck, "encoder.blocks.0.attn.qkv.weight", 2, dims, buf, &err),
                 err);
    for (size_t i = 0; i < tc_checkpoint_count(ck); i++) {
        struct tc_checkpoint_entry *e = tc_checkpoint_entry(ck, i);
        if (strncmp(e->name, "head.", 5) != 0 && strcmp(e->name, "decoder.conv.weight") != 0)
            e->used = true;
    }
    char line[256];
    assert_int_equal(tc_checkpoint_unused_summary(ck, 10, line, sizeof line), 3);
    assert_string_equal(line, "3 unused tensors: decoder.conv.weight, head.rank6, head.scale");
    assert_int_equal(tc_checkpoint_unused_summary(ck, 1, line, sizeof line), 3);
    assert_string_equal(line, "3 unused tensors: decoder.conv.weight, ... (and 2 more)");
    /* A small buffer cuts the list but still says how many are left out. */
    char small[64];
    assert_int_equal(tc_checkpoint_unused_summary(ck, 10, small, sizeof small), 3);
    assert_string_equal(small, "3 unused tensors: decoder.conv.weight, ... (and 2 more)");
    char tiny[40];
    assert_int_equal(tc_checkpoint_unused_summary(ck, 10, tiny, sizeof tiny), 3);
    assert_string_equal(tiny, "3 unused tensors: ... (3 not listed)");
    assert_int_equal(tc_checkpoint_unused_summary(ck, 10, tiny, 10), 3);
    assert_int_equal(strlen(tiny), 9);
    tc_checkpoint_entry(ck, (size_t)tc_checkpoint_find(ck, "head.scale"))->used = true;
    tc_checkpoint_entry(ck, (size_t)tc_checkpoint_find(ck, "head.rank6"))->used = true;
    assert_int_equal(tc_checkpoint_unused_summary(ck, 10, line, sizeof line), 1);
    assert_string_equal(line, "1 unused tensor: decoder.conv.weight");
    tc_checkpoint_entry(ck, (size_t)tc_checkpoint_find(ck, "decoder.conv.weight"))->used = true;
    assert_int_equal(tc_checkpoint_unused_summary(ck, 10, line, sizeof line), 0);
    assert_string_equal(line, "");
    tc_checkpoint_close(ck);
}

static void test_h5_no_config_and_odd_config(void **state)
{
    char path[512];
    tc_test_in_tmpdir(state, "noconfig.h5", path, sizeof path);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    float x = 1;
    hsize_t d1[1] = {1};
    h5_put(file, "w", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, d1, &x, H5P_DEFAULT);
    /* A soft link and an empty group are not tensors. */
    H5Lcreate_soft("/w", file, "alias", H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(H5Gcreate2(file, "empty", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Fclose(file);
    struct tc_checkpoint *ck = open_ok(path);
    assert_null(tc_checkpoint_config(ck));
    assert_int_equal(tc_checkpoint_count(ck), 1);
    tc_checkpoint_close(ck);

    /* A non-string "config" is ignored, not fatal. */
    file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(file, "config", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT);
    int v = 3;
    H5Awrite(a, H5T_NATIVE_INT, &v);
    H5Aclose(a);
    H5Sclose(space);
    H5Fclose(file);
    ck = open_ok(path);
    assert_null(tc_checkpoint_config(ck));
    tc_checkpoint_close(ck);
}

static void test_h5_name_collision(void **state)
{
    /* "/a.b" and "/a/b" both become "a.b": ambiguous, so an error. */
    char path[512];
    tc_test_in_tmpdir(state, "collide.h5", path, sizeof path);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    float x = 1;
    hsize_t d1[1] = {1};
    h5_put(file, "a.b", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, d1, &x, H5P_DEFAULT);
    h5_put(file, "a/b", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, d1, &x, H5P_DEFAULT);
    H5Fclose(file);
    terracl_error err = {0};
    struct tc_checkpoint *ck = NULL;
    expect_error(tc_checkpoint_open(path, &ck, &err), &err, TERRACL_ERR_FORMAT, "collide.h5",
                 "'a.b'");
    assert_null(ck);
}

/* Files written by tools/terracl_h5.py (see tests/data/io/make_io_data.py):
 * the layout the converter really produces, plain and --compress. */
static void test_h5_converter_files(void **state)
{
    (void)state;
    const char *src = getenv("TERRACL_SOURCE_DIR");
    if (src == NULL)
        skip();
    static const char *files[] = {"converter_plain.h5", "converter_gzip.h5"};
    for (size_t f = 0; f < 2; f++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/tests/data/io/%s", src, files[f]);
        struct tc_checkpoint *ck = open_ok(path);
        assert_int_equal(tc_checkpoint_count(ck), 6);
        assert_string_equal(tc_checkpoint_config(ck),
                            "model_args:\n  backbone: prithvi_eo_v2_300  # r\xc3\xa9sum\xc3\xa9\n");
        assert_int_equal(entry_named(ck, "encoder.blocks.0.norm1.bias")->dtype, TC_DTYPE_F16);
        assert_int_equal(entry_named(ck, "decoder.head.weight")->dtype, TC_DTYPE_F64);
        assert_int_equal(entry_named(ck, "encoder.bn.num_batches_tracked")->dtype, TC_DTYPE_I64);
        assert_int_equal(entry_named(ck, "mask")->dtype, TC_DTYPE_U8);

        static const struct {
            const char *name;
            int ndim;
            int64_t dims[5];
        } want[] = {
            {"encoder.patch_embed.proj.weight", 5, {4, 2, 1, 2, 2}},
            {"encoder.blocks.0.norm1.bias", 1, {16}},
            {"encoder.big", 2, {20, 15}},
            {"decoder.head.weight", 1, {3}},
        };
        float buf[300];
        for (size_t t = 0; t < sizeof want / sizeof want[0]; t++) {
            terracl_error err = {0};
            TC_ASSERT_OK(tc_checkpoint_load_f32(ck, want[t].name, want[t].ndim, want[t].dims, buf,
                                                &err),
                         err);
            size_t n = entry_named(ck, want[t].name)->numel;
            for (size_t i = 0; i < n; i++)
                if (buf[i] != (float)(i % 13) * 0.125f - 0.5f)
                    fail_msg("%s %s[%zu] = %g", files[f], want[t].name, i, (double)buf[i]);
        }
        char line[256];
        assert_int_equal(tc_checkpoint_unused_summary(ck, 8, line, sizeof line), 2);
        assert_string_equal(line, "2 unused tensors: encoder.bn.num_batches_tracked, mask");
        tc_checkpoint_close(ck);
    }
}

/* ---- bad files ------------------------------------------------------------ */

static void test_open_bad_paths(void **state)
{
    char path[512];
    terracl_error err = {0};
    struct tc_checkpoint *ck = (struct tc_checkpoint *)&err; /* must be reset to NULL */

    tc_test_in_tmpdir(state, "does-not-exist.h5", path, sizeof path);
    expect_error(tc_checkpoint_open(path, &ck, &err), &err, TERRACL_ERR_IO, "does-not-exist.h5",
                 "No such file");
    assert_null(ck);

    const char *dir = tc_test_tmpdir(state);
    expect_error(tc_checkpoint_open(dir, &ck, &err), &err, TERRACL_ERR_IO, dir,
                 "directory");

    write_bytes(tc_test_in_tmpdir(state, "empty.h5", path, sizeof path), "", 0);
    expect_error(tc_checkpoint_open(path, &ck, &err), &err, TERRACL_ERR_FORMAT, "empty.h5",
                 "empty");

    unsigned char junk[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (unsigned char)(x >> 16);
    }
    junk[8] = 'x'; /* not '{' */
    write_bytes(tc_test_in_tmpdir(state, "random.bin", path, sizeof path), junk, sizeof junk);
    expect_error(tc_checkpoint_open(path, &ck, &err), &err, TERRACL_ERR_FORMAT, "random.bin",
                 "not an HDF5 or safetensors file");
    write_bytes(path, "hello", 5);
    expect_error(tc_checkpoint_open(path, &ck, &err), &err, TERRACL_ERR_FORMAT, "random.bin",
                 "not an HDF5 or safetensors file");
    assert_null(ck);
}

static void test_open_truncated_h5(void **state)
{
    char good[512], cut[512];
    write_h5_checkpoint(tc_test_in_tmpdir(state, "whole.h5", good, sizeof good), true);
    size_t n;
    unsigned char *bytes = read_bytes(good, &n);
    tc_test_in_tmpdir(state, "cut.h5", cut, sizeof cut);

    terracl_error err = {0};
    struct tc_checkpoint *ck = NULL;
    write_bytes(cut, bytes, n / 2);
    expect_error(tc_checkpoint_open(cut, &ck, &err), &err, TERRACL_ERR_FORMAT, "cut.h5", NULL);
    assert_null(ck);

    /* Every cut point, coarse: open fails cleanly or the index is usable
     * and every read either works or fails cleanly. */
    for (size_t len = 1; len < n; len += n / 37 + 1) {
        write_bytes(cut, bytes, len);
        terracl_status st = tc_checkpoint_open(cut, &ck, &err);
        if (st != TERRACL_OK) {
            assert_true(st == TERRACL_ERR_FORMAT);
            assert_non_null(strstr(err.message, "cut.h5"));
            continue;
        }
        for (size_t i = 0; i < tc_checkpoint_count(ck); i++) {
            const struct tc_checkpoint_entry *e = tc_checkpoint_entry(ck, i);
            if (!e->valid || !tc_dtype_is_float(e->dtype))
                continue;
            float *buf = malloc(e->numel * sizeof *buf + 1);
            terracl_status rs = tc_checkpoint_read_f32(ck, i, buf, e->numel, &err);
            assert_true(rs == TERRACL_OK || rs == TERRACL_ERR_FORMAT);
            free(buf);
        }
        tc_checkpoint_close(ck);
    }
    free(bytes);
}

struct thread_job {
    const char *good, *bad;
    int ok;
};

static void *thread_main(void *arg)
{
    struct thread_job *job = arg;
    terracl_error err = {0};
    struct tc_checkpoint *ck = NULL;
    job->ok = tc_checkpoint_open(job->bad, &ck, &err) == TERRACL_ERR_FORMAT;
    for (int k = 0; k < 20 && job->ok; k++) {
        job->ok = tc_checkpoint_open(job->good, &ck, &err) == TERRACL_OK;
        if (!job->ok)
            break;
        float buf[120];
        ptrdiff_t i = tc_checkpoint_find(ck, "decoder.conv.weight");
        job->ok = tc_checkpoint_read_f32(ck, (size_t)i, buf, 120, &err) == TERRACL_OK &&
                  buf[8] == 0.25f;
        tc_checkpoint_close(ck);
    }
    return NULL;
}

/* Thread-safe HDF5 keeps one error stack per thread: failures in a fresh
 * thread must stay silent too, and handles in two threads are independent. */
static void test_threads_quiet(void **state)
{
    char good[512], bad[512], log[512];
    write_h5_checkpoint(tc_test_in_tmpdir(state, "thr.h5", good, sizeof good), true);
    size_t n;
    unsigned char *bytes = read_bytes(good, &n);
    write_bytes(tc_test_in_tmpdir(state, "thr-cut.h5", bad, sizeof bad), bytes, n / 3);
    free(bytes);

    fflush(stderr);
    int saved = dup(2);
    int fd = open(tc_test_in_tmpdir(state, "stderr.log", log, sizeof log), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    struct thread_job jobs[3];
    pthread_t th[3];
    for (int t = 0; t < 3; t++) {
        jobs[t] = (struct thread_job){good, bad, 0};
        assert_int_equal(pthread_create(&th[t], NULL, thread_main, &jobs[t]), 0);
    }
    for (int t = 0; t < 3; t++)
        pthread_join(th[t], NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    for (int t = 0; t < 3; t++)
        assert_true(jobs[t].ok);
    struct stat sb;
    assert_int_equal(stat(log, &sb), 0);
    if (sb.st_size != 0)
        fail_msg("HDF5 printed %lld bytes to stderr from a worker thread", (long long)sb.st_size);
}

/* ---- safetensors ------------------------------------------------------------ */

static void write_st(const char *path, const char *header, const void *data, size_t data_len)
{
    size_t hlen = strlen(header);
    unsigned char *buf = malloc(8 + hlen + data_len + 1);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    memcpy(buf + 8, header, hlen);
    if (data_len)
        memcpy(buf + 8 + hlen, data, data_len);
    write_bytes(path, buf, 8 + hlen + data_len);
    free(buf);
}

/* 16 bytes f32 [2,2] + 4 bytes f16 [2] + 6 bytes bf16 [3] + 8 bytes f64 [1]
 * + 16 bytes i64 [2] + 4 bytes f32 rank 6 = 54 bytes. */
static const char st_header[] =
    "{\"__metadata__\":{\"format\":\"pt\",\"config\":\"model:\\n  x: 1\\n\"},"
    "\"a.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
    "\"a.bias\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[16,20]},"
    "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[20,26]},"
    "\"c\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[26,34]},"
    "\"idx\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[34,50]},"
    "\"deep\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1],\"data_offsets\":[50,54]}}    ";

static void st_data(unsigned char data[54])
{
    const float w[4] = {1.5f, -2.0f, 0.25f, 8.0f};
    memcpy(data, w, 16);
    const uint16_t h[2] = {0x3c00, 0xbc00};
    memcpy(data + 16, h, 4);
    memcpy(data + 20, bf16_bits, 6);
    const double c = -0.125;
    memcpy(data + 26, &c, 8);
    const int64_t idx[2] = {3, 4};
    memcpy(data + 34, idx, 16);
    const float deep = 9.0f;
    memcpy(data + 50, &deep, 4);
}

static void test_st_valid(void **state)
{
    char path[512];
    unsigned char data[54];
    st_data(data);
    write_st(tc_test_in_tmpdir(state, "ok.safetensors", path, sizeof path), st_header, data, sizeof data);
    struct tc_checkpoint *ck = open_ok(path);
    assert_int_equal(tc_checkpoint_format(ck), TC_CHECKPOINT_SAFETENSORS);
    assert_int_equal(tc_checkpoint_count(ck), 6);
    assert_string_equal(tc_checkpoint_config(ck), "model:\n  x: 1\n");

    terracl_error err = {0};
    float buf[4];
    int64_t d22[2] = {2, 2};
    TC_ASSERT_OK(tc_checkpoint_load_f32(ck, "a.weight", 2, d22, buf, &err), err);
    assert_true(buf[0] == 1.5f && buf[1] == -2.0f && buf[2] == 0.25f && buf[3] == 8.0f);
    int64_t d2 = 2, d3 = 3, d1 = 1;
    TC_ASSERT_OK(tc_checkpoint_load_f32(ck, "a.bias", 1, &d2, buf, &err), err);
    assert_true(buf[0] == 1.0f && buf[1] == -1.0f);
    TC_ASSERT_OK(tc_checkpoint_load_f32(ck, "b", 1, &d3, buf, &err), err);
    assert_true(buf[0] == 1.0f && buf[1] == -3.0f && buf[2] == 3.140625f);
    TC_ASSERT_OK(tc_checkpoint_load_f32(ck, "c", 1, &d1, buf, &err), err);
    assert_true(buf[0] == -0.125f);
    assert_int_equal(entry_named(ck, "a.bias")->dtype, TC_DTYPE_F16);
    assert_int_equal(entry_named(ck, "b")->dtype, TC_DTYPE_BF16);

    const struct tc_checkpoint_entry *e = entry_named(ck, "idx");
    assert_int_equal(e->dtype, TC_DTYPE_I64);
    expect_error(tc_checkpoint_read_f32(ck, (size_t)tc_checkpoint_find(ck, "idx"), buf, 2, &err),
                 &err, TERRACL_ERR_TYPE, "'idx'", "ok.safetensors");
    e = entry_named(ck, "deep");
    assert_false(e->valid);
    expect_error(tc_checkpoint_read_f32(ck, (size_t)tc_checkpoint_find(ck, "deep"), buf, 1, &err),
                 &err, TERRACL_ERR_UNSUPPORTED, "'deep'", "rank");
    expect_error(tc_checkpoint_read_f32(ck, (size_t)tc_checkpoint_find(ck, "a.weight"), buf, 3, &err),
                 &err, TERRACL_ERR_SHAPE, "'a.weight'", "ok.safetensors");

    char line[200];
    assert_int_equal(tc_checkpoint_unused_summary(ck, 8, line, sizeof line), 2);
    assert_string_equal(line, "2 unused tensors: deep, idx");
    tc_checkpoint_close(ck);

    /* Empty safetensors (no tensors at all) is valid. */
    write_st(path, "{}", NULL, 0);
    ck = open_ok(path);
    assert_int_equal(tc_checkpoint_count(ck), 0);
    assert_null(tc_checkpoint_config(ck));
    tc_checkpoint_close(ck);
}

static void test_st_large_tensor_chunks(void **state)
{
    /* F16 and F64 tensors bigger than the reader's bounce buffer. */
    enum { N = 300000 };
    char path[512], header[256];
    uint16_t *h = malloc(N * sizeof *h);
    double *d = malloc(N * sizeof *d);
    unsigned char *data = malloc(N * 10);
    for (int i = 0; i < N; i++) {
        h[i] = (uint16_t)(0x3c00 + (i % 1024)); /* 1 + k/1024 */
        d[i] = (double)i * 0.5;
    }
    memcpy(data, d, N * 8);
    memcpy(data + N * 8, h, N * 2);
    snprintf(header, sizeof header,
             "{\"d\":{\"dtype\":\"F64\",\"shape\":[%d],\"data_offsets\":[0,%d]},"
             "\"h\":{\"dtype\":\"F16\",\"shape\":[%d],\"data_offsets\":[%d,%d]}}",
             N, N * 8, N, N * 8, N * 10);
    write_st(tc_test_in_tmpdir(state, "big.safetensors", path, sizeof path), header, data, N * 10);
    struct tc_checkpoint *ck = open_ok(path);
    float *got = malloc(N * sizeof *got);
    terracl_error err = {0};
    int64_t dims = N;
    TC_ASSERT_OK(tc_checkpoint_load_f32(ck, "d", 1, &dims, got, &err), err);
    for (int i = 0; i < N; i++)
        assert_true(got[i] == (float)((double)i * 0.5));
    TC_ASSERT_OK(tc_checkpoint_load_f32(ck, "h", 1, &dims, got, &err), err);
    for (int i = 0; i < N; i++)
        assert_true(got[i] == 1.0f + (float)(i % 1024) / 1024.0f);
    tc_checkpoint_close(ck);
    free(got);
    free(data);
    free(d);
    free(h);
}

struct st_case {
    const char *header;
    size_t data_len;
    terracl_status code;
    const char *needle; /* besides the file name */
};

static void test_st_bad_headers(void **state)
{
    static const struct st_case cases[] = {
        /* malformed JSON */
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4, TERRACL_ERR_FORMAT,
         "malformed JSON"},
        {"{\"a\" {}}", 0, TERRACL_ERR_FORMAT, "expected ':'"},
        {"{'a':1}", 0, TERRACL_ERR_FORMAT, "malformed JSON"},
        {"{\"a\":[1,]}", 0, TERRACL_ERR_FORMAT, "malformed JSON"},
        {"{\"a\":tru}", 0, TERRACL_ERR_FORMAT, "malformed JSON"},
        {"{\"a\":01}", 0, TERRACL_ERR_FORMAT, "malformed JSON"},
        {"{\"a\":\"\\x\"}", 0, TERRACL_ERR_FORMAT, "escape"},
        {"{} {}", 0, TERRACL_ERR_FORMAT, "after the value"},
        {"{\"a\":1}", 0, TERRACL_ERR_FORMAT, "'a'"},
        /* schema */
        {"{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, TERRACL_ERR_FORMAT, "dtype"},
        {"{\"w\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, TERRACL_ERR_FORMAT,
         "unknown dtype 'Q7'"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
         TERRACL_ERR_FORMAT, "'w'"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4,
         TERRACL_ERR_FORMAT, "'w'"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, TERRACL_ERR_FORMAT,
         "'w'"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999,99999999999,99999999999],"
         "\"data_offsets\":[0,4]}}",
         4, TERRACL_ERR_FORMAT, "overflows"},
        {"{\"__metadata__\":{\"config\":3}}", 0, TERRACL_ERR_FORMAT, "__metadata__"},
        {"[1,2]", 0, TERRACL_ERR_FORMAT, "not an HDF5 or safetensors file"},
        /* offsets */
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, TERRACL_ERR_FORMAT,
         "outside the data buffer"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, TERRACL_ERR_FORMAT,
         "'w'"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, TERRACL_ERR_FORMAT,
         "needs 8"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"v\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}",
         8, TERRACL_ERR_FORMAT, "overlaps"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"v\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
         12, TERRACL_ERR_FORMAT, "belong to no tensor"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, TERRACL_ERR_FORMAT,
         "cover 4"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
         8, TERRACL_ERR_FORMAT, "duplicate key 'w'"},
    };
    char path[512];
    tc_test_in_tmpdir(state, "bad.safetensors", path, sizeof path);
    unsigned char zeros[16] = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_st(path, cases[i].header, zeros, cases[i].data_len);
        terracl_error err = {0};
        struct tc_checkpoint *ck = NULL;
        terracl_status st = tc_checkpoint_open(path, &ck, &err);
        if (st != cases[i].code || !strstr(err.message, "bad.safetensors") ||
            !strstr(err.message, cases[i].needle))
            fail_msg("case %zu (%s): got %s: %s", i, cases[i].header, terracl_status_name(st),
                     err.message);
        assert_null(ck);
    }
}

static void test_st_bad_framing(void **state)
{
    char path[512];
    terracl_error err = {0};
    struct tc_checkpoint *ck = NULL;
    tc_test_in_tmpdir(state, "frame.safetensors", path, sizeof path);
    unsigned char data[54];
    st_data(data);

    /* Truncated data: the last tensor's bytes are missing. */
    write_st(path, st_header, data, 50);
    expect_error(tc_checkpoint_open(path, &ck, &err), &err, TERRACL_ERR_FORMAT,
                 "frame.safetensors", "'deep'");

    /* Header length beyond the file. */
    unsigned char buf[64] = {0};
    buf[0] = 200;
    buf[8] = '{';
    write_bytes(path, buf, 20);
    expect_error(tc_checkpoint_open(path, &ck, &err), &err, TERRACL_ERR_FORMAT,
                 "frame.safetensors", "beyond the end of the file");

    /* Header length above the 100 MB limit. */
    memset(buf, 0, sizeof buf);
    buf[4] = 1; /* 2^32 */
    buf[8] = '{';
    write_bytes(path, buf, 20);
    expect_error(tc_checkpoint_open(path, &ck, &err), &err, TERRACL_ERR_FORMAT,
                 "frame.safetensors", "limit");

    /* Header cut inside the JSON. */
    write_st(path, st_header, data, sizeof data);
    size_t n;
    unsigned char *whole = read_bytes(path, &n);
    write_bytes(path, whole, 8 + 40);
    expect_error(tc_checkpoint_open(path, &ck, &err), &err, TERRACL_ERR_FORMAT,
                 "frame.safetensors", NULL);
    free(whole);
    assert_null(ck);
}

/* Random corruption of a valid file must never crash: open fails with a
 * format error or succeeds and reads stay in bounds (ASan checks that). */
static void test_st_fuzz(void **state)
{
    char path[512];
    tc_test_in_tmpdir(state, "fuzz.safetensors", path, sizeof path);
    unsigned char data[54];
    st_data(data);
    write_st(path, st_header, data, sizeof data);
    size_t n;
    unsigned char *orig = read_bytes(path, &n);
    unsigned char *mut = malloc(n);
    uint32_t x = 2024;
    for (int iter = 0; iter < 400; iter++) {
        memcpy(mut, orig, n);
        size_t len = n;
        int edits = 1 + iter % 4;
        for (int k = 0; k < edits; k++) {
            x = x * 1664525u + 1013904223u;
            size_t pos = 8 + (x >> 8) % (n - 8);
            x = x * 1664525u + 1013904223u;
            static const char alphabet[] = "{}[]\":,0123456789-eE.\\u \x01\xff";
            mut[pos] = (unsigned char)alphabet[(x >> 8) % (sizeof alphabet - 1)];
        }
        if (iter % 5 == 0) {
            x = x * 1664525u + 1013904223u;
            len = 9 + (x >> 8) % (n - 9);
        }
        write_bytes(path, mut, len);
        terracl_error err = {0};
        struct tc_checkpoint *ck = NULL;
        terracl_status st = tc_checkpoint_open(path, &ck, &err);
        if (st != TERRACL_OK) {
            assert_true(st == TERRACL_ERR_FORMAT || st == TERRACL_ERR_NO_MEMORY);
            assert_non_null(strstr(err.message, "fuzz.safetensors"));
            continue;
        }
        float buf[8];
        for (size_t i = 0; i < tc_checkpoint_count(ck); i++) {
            const struct tc_checkpoint_entry *e = tc_checkpoint_entry(ck, i);
            if (e->valid && tc_dtype_is_float(e->dtype) && e->numel <= 8)
            {
                terracl_status rs = tc_checkpoint_read_f32(ck, i, buf, e->numel, &err);
                assert_true(rs == TERRACL_OK || rs == TERRACL_ERR_FORMAT);
            }
        }
        tc_checkpoint_close(ck);
    }
    free(mut);
    free(orig);
}

/* ---- the JSON parser on its own ---------------------------------------- */

static void test_json_values(void **state)
{
    (void)state;
    static const char text[] =
        " {\"s\":\"a\\\"b\\\\c\\/\\n\\t\\u00e9\\u20ac\\ud83d\\ude00\", \"n\":[0,18446744073709551615,"
        "18446744073709551616,-1,1.5e3,2E-2],\"t\":true,\"f\":false,\"z\":null,\"e\":{},"
        "\"a\":[], \"\xc3\xa9\":\"\xe2\x82\xac\"} \n";
    struct tc_json js;
    terracl_error err = {0};
    TC_ASSERT_OK(tc_json_parse(text, sizeof text - 1, &js, &err), err);
    const struct tc_json_node *root = tc_json_at(&js, 0);
    assert_int_equal(root->type, TC_JSON_OBJECT);
    assert_int_equal(root->count, 8);
    const struct tc_json_node *s = tc_json_member(&js, root, "s");
    assert_string_equal(s->str, "a\"b\\c/\n\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_int_equal(s->str_len, strlen(s->str));
    const struct tc_json_node *n = tc_json_member(&js, root, "n");
    assert_int_equal(n->count, 6);
    const struct tc_json_node *v = tc_json_at(&js, n->child);
    assert_true(v->is_uint && v->u64 == 0);
    v = tc_json_at(&js, v->next);
    assert_true(v->is_uint && v->u64 == UINT64_MAX);
    v = tc_json_at(&js, v->next);
    assert_false(v->is_uint); /* too big for u64, still a number */
    assert_int_equal(v->type, TC_JSON_NUMBER);
    v = tc_json_at(&js, v->next);
    assert_false(v->is_uint);
    assert_true(tc_json_member(&js, root, "t")->boolean);
    assert_false(tc_json_member(&js, root, "f")->boolean);
    assert_int_equal(tc_json_member(&js, root, "z")->type, TC_JSON_NULL);
    assert_int_equal(tc_json_member(&js, root, "e")->count, 0);
    assert_string_equal(tc_json_member(&js, root, "\xc3\xa9")->str, "\xe2\x82\xac");
    assert_null(tc_json_member(&js, root, "missing"));
    tc_json_free(&js);
}

static void test_json_rejects(void **state)
{
    (void)state;
    static const char *bad[] = {
        "", " ", "{", "}", "[", "[1 2]", "{\"a\":}", "{\"a\"}", "{,}", "[,1]", "{\"a\":1,}",
        "\"abc", "\"\\u12\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
        "\"a\x01\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"",
        "-", "1.", "1e", "+1", ".5", "00", "nul", "truex", "{\"a\":1,\"a\":2}",
        "{\"k\":{\"x\":1,\"y\":2,\"x\":3}}", "[1]x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct tc_json js;
        terracl_error err = {0};
        terracl_status st = tc_json_parse(bad[i], strlen(bad[i]), &js, &err);
        if (st != TERRACL_ERR_FORMAT)
            fail_msg("accepted bad JSON #%zu '%s'", i, bad[i]);
        assert_null(js.nodes);
    }
    /* Nesting: 64 levels parse, 65 do not. */
    char deep[200];
    for (int depth = 64; depth <= 65; depth++) {
        memset(deep, '[', (size_t)depth);
        memset(deep + depth, ']', (size_t)depth);
        struct tc_json js;
        terracl_error err = {0};
        terracl_status st = tc_json_parse(deep, (size_t)depth * 2, &js, &err);
        if (depth == 64) {
            TC_ASSERT_OK(st, err);
            tc_json_free(&js);
        } else {
            assert_int_equal(st, TERRACL_ERR_FORMAT);
            assert_non_null(strstr(err.message, "nesting"));
        }
    }
}

/* Mutations of a real header: closer to valid JSON than random text, so
 * the parser gets deep into strings, escapes and numbers. */
static void test_json_fuzz_mutations(void **state)
{
    (void)state;
    static const char alphabet[] = "{}[]\":,0123456789-eE.\\u \x01\x7f\xc3\xa9\xed\xff";
    const size_t n = sizeof st_header - 1;
    char *text = malloc(n);
    uint32_t x = 99;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(text, st_header, n);
        int edits = 1 + iter % 3;
        for (int k = 0; k < edits; k++) {
            x = x * 1664525u + 1013904223u;
            size_t pos = (x >> 8) % n;
            x = x * 1664525u + 1013904223u;
            text[pos] = alphabet[(x >> 8) % (sizeof alphabet - 1)];
        }
        x = x * 1664525u + 1013904223u;
        size_t len = iter % 4 == 0 ? (x >> 8) % n : n;
        struct tc_json js;
        terracl_error err = {0};
        terracl_status st = tc_json_parse(text, len, &js, &err);
        assert_true(st == TERRACL_OK || st == TERRACL_ERR_FORMAT);
        if (st == TERRACL_OK)
            tc_json_free(&js);
    }
    free(text);
}

static void test_json_fuzz(void **state)
{
    (void)state;
    static const char alphabet[] = "{}[]\":,0123456789-+eE.\\u tfnrlsa \x01\xc3\xa9\xff";
    char text[96];
    uint32_t x = 7;
    for (int iter = 0; iter < 20000; iter++) {
        x = x * 1664525u + 1013904223u;
        size_t len = (x >> 8) % sizeof text;
        for (size_t i = 0; i < len; i++) {
            x = x * 1664525u + 1013904223u;
            text[i] = alphabet[(x >> 8) % (sizeof alphabet - 1)];
        }
        struct tc_json js;
        terracl_error err = {0};
        terracl_status st = tc_json_parse(text, len, &js, &err);
        assert_true(st == TERRACL_OK || st == TERRACL_ERR_FORMAT);
        if (st == TERRACL_OK) {
            /* Every string is NUL-terminated within its own length. */
            for (uint32_t i = 0; i < js.count; i++)
                if (js.nodes[i].type == TC_JSON_STRING)
                    assert_int_equal(strlen(js.nodes[i].str), js.nodes[i].str_len);
            tc_json_free(&js);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h5_index),
        cmocka_unit_test(test_h5_values_and_conversions),
        cmocka_unit_test(test_h5_f16_every_pattern),
        cmocka_unit_test(test_h5_usage_errors),
        cmocka_unit_test(test_unused_summary),
        cmocka_unit_test(test_h5_no_config_and_odd_config),
        cmocka_unit_test(test_h5_name_collision),
        cmocka_unit_test(test_h5_converter_files),
        cmocka_unit_test(test_open_bad_paths),
        cmocka_unit_test(test_open_truncated_h5),
        cmocka_unit_test(test_threads_quiet),
        cmocka_unit_test(test_st_valid),
        cmocka_unit_test(test_st_large_tensor_chunks),
        cmocka_unit_test(test_st_bad_headers),
        cmocka_unit_test(test_st_bad_framing),
        cmocka_unit_test(test_st_fuzz),
        cmocka_unit_test(test_json_values),
        cmocka_unit_test(test_json_rejects),
        cmocka_unit_test(test_json_fuzz),
        cmocka_unit_test(test_json_fuzz_mutations),
    };
    return cmocka_run_group_tests(tests, tc_test_tmpdir_setup, tc_test_tmpdir_teardown);
}

/* Core: status names, error records, SHA-256, checked arithmetic, shapes. */
#include "test_common.h"

#include <string.h>

#include "core/checked.h"
#include "core/error.h"
#include "core/sha256.h"
#include "graph/tensor.h"

static void test_status_names_and_text(void **state)
{
    (void)state;
    assert_string_equal(terracl_status_name(TERRACL_OK), "TERRACL_OK");
    assert_string_equal(terracl_status_name(TERRACL_ERR_SHAPE), "TERRACL_ERR_SHAPE");
    assert_string_equal(terracl_status_name((terracl_status)12345), "TERRACL_UNKNOWN");
    assert_string_equal(terracl_status_text(TERRACL_ERR_NO_DEVICE), "no OpenCL device");
}

static void test_fail_and_context(void **state)
{
    (void)state;
    terracl_error err = {0};
    assert_int_equal(tc_fail(&err, TERRACL_ERR_SHAPE, "tensor %s is %d-D", "x", 3),
                     TERRACL_ERR_SHAPE);
    assert_string_equal(err.message, "tensor x is 3-D");
    assert_int_equal(tc_fail_context(&err, TERRACL_ERR_IO, "loading %s", "w.h5"),
                     TERRACL_ERR_SHAPE);
    assert_string_equal(err.message, "loading w.h5: tensor x is 3-D");
    assert_int_equal(tc_fail(NULL, TERRACL_ERR_IO, "ignored"), TERRACL_ERR_IO);
    /* A very long message is cut, never overflowed. */
    char big[8000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tc_fail(&err, TERRACL_ERR_IO, "%s", big);
    assert_int_equal(strlen(err.message), TERRACL_ERROR_MESSAGE_SIZE - 1);
    tc_fail_context(&err, TERRACL_ERR_IO, "ctx");
    assert_int_equal(strlen(err.message), TERRACL_ERROR_MESSAGE_SIZE - 1);
    assert_memory_equal(err.message, "ctx: aaa", 8);
}

static void sha_hex(const char *msg, size_t repeat, char hex[65])
{
    struct tc_sha256 s;
    uint8_t d[32];
    tc_sha256_init(&s);
    for (size_t i = 0; i < repeat; i++)
        tc_sha256_update(&s, msg, strlen(msg));
    tc_sha256_final(&s, d);
    tc_sha256_hex(d, hex);
}

static void test_sha256_vectors(void **state)
{
    (void)state;
    char hex[65];
    sha_hex("", 1, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha_hex("abc", 1, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    sha_hex("a", 1000000, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_checked_arithmetic(void **state)
{
    (void)state;
    size_t out;
    assert_false(tc_mul_overflow(1u << 20, 1u << 10, &out));
    assert_int_equal(out, (size_t)1 << 30);
    assert_true(tc_mul_overflow(SIZE_MAX / 2 + 1, 2, &out));
    assert_true(tc_add_overflow(SIZE_MAX, 1, &out));
    int64_t ok[3] = {2, 197, 768}, neg[2] = {3, -1}, huge[3] = {INT64_MAX, INT64_MAX, 4};
    assert_true(tc_shape_count(ok, 3, &out));
    assert_int_equal(out, 2 * 197 * 768);
    assert_false(tc_shape_count(neg, 2, &out));
    assert_false(tc_shape_count(huge, 3, &out));
}

static void test_shape_string(void **state)
{
    (void)state;
    char buf[64];
    int64_t d[3] = {2, 197, 768};
    assert_string_equal(tc_shape_str(3, d, buf, sizeof buf), "[2, 197, 768]");
    assert_string_equal(tc_shape_str(0, d, buf, sizeof buf), "[]");
    char tiny[6];
    tc_shape_str(3, d, tiny, sizeof tiny);
    assert_int_equal(strlen(tiny), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names_and_text),
        cmocka_unit_test(test_fail_and_context),
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_checked_arithmetic),
        cmocka_unit_test(test_shape_string),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}

/* SHA-256 (FIPS 180-4), used to key the on-disk program cache. */
#ifndef TC_CORE_SHA256_H
#define TC_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct tc_sha256 {
    uint32_t state[8];
    uint64_t length;
    uint8_t block[64];
    size_t fill;
};

void tc_sha256_init(struct tc_sha256 *s);
void tc_sha256_update(struct tc_sha256 *s, const void *data, size_t n);
void tc_sha256_final(struct tc_sha256 *s, uint8_t digest[32]);
/* Lower-case hex of the digest, 65 bytes with the terminator. */
void tc_sha256_hex(const uint8_t digest[32], char hex[65]);

#endif /* TC_CORE_SHA256_H */

/* sha256.h — SHA-256 (FIPS 180-4) for content hashes: cache keys, source identity. */
#ifndef KGRADE_SHA256_H
#define KGRADE_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
    uint32_t h[8];
    uint64_t len;          /* bytes hashed so far */
    unsigned char buf[64];
    size_t fill;
};

/* Incremental use: init, update any number of times, final writes 32 bytes. */
void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t n);
void sha256_final(struct sha256 *c, unsigned char out[32]);

/* One call: hex digest of data (65 bytes with the NUL). */
void sha256_hex(const void *data, size_t n, char hex[65]);

/* Finish c and write its hex digest. */
void sha256_final_hex(struct sha256 *c, char hex[65]);

#endif

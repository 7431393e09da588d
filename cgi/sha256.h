/*
 * sha256.h - SHA-256 (FIPS 180-4), used to store session tokens as hashes: a copy of the
 * database then holds nothing a browser could replay.
 */
#ifndef PTS_CGI_SHA256_H
#define PTS_CGI_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_HEX_LEN (2 * SHA256_LEN + 1)

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	unsigned char buf[64];
	size_t used;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, unsigned char out[SHA256_LEN]);
/* One-shot: lowercase hex digest plus NUL into hex. */
void sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN]);

#endif

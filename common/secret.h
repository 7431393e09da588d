/*
 * secret.h - random tokens and password hashes.
 */
#ifndef PTS_SECRET_H
#define PTS_SECRET_H

#include <stddef.h>

/* Fill buf with n random bytes from the kernel. 0 or -1. */
int pts_secret_random(void *buf, size_t n);
/* Write 2*nbytes hex characters + NUL of fresh randomness into out (size >= 2*nbytes+1). */
int pts_secret_hex(char *out, size_t nbytes);

/* Hash a password with a fresh salt (crypt(3), the system's preferred method). malloc'd. */
char *pts_secret_hash_password(const char *password);
/* 1 when password matches the stored hash, else 0. Constant-time compare. */
int pts_secret_check_password(const char *password, const char *hash);
/* Constant-time string equality (lengths are not secret). */
int pts_secret_equal(const char *a, const char *b);

#endif

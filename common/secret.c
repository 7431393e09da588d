/*
 * secret.c - random tokens and password hashes.
 */
#include "secret.h"

#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"

int
pts_secret_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			pts_log_raw(PTS_LOG_ERROR, "getrandom: %s", strerror(errno));
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

int
pts_secret_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[64];
	size_t i;

	if (nbytes > sizeof(raw) || pts_secret_random(raw, nbytes) != 0)
		return -1;
	for (i = 0; i < nbytes; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * nbytes] = '\0';
	return 0;
}

char *
pts_secret_hash_password(const char *password)
{
	char rnd[16], setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	char *hash, *out = NULL;

	if (pts_secret_random(rnd, sizeof(rnd)) != 0)
		return NULL;
	/* NULL prefix: the library's preferred method (yescrypt on Debian). */
	if (crypt_gensalt_rn(NULL, 0, rnd, sizeof(rnd), setting, sizeof(setting)) == NULL) {
		pts_log_raw(PTS_LOG_ERROR, "crypt_gensalt: %s", strerror(errno));
		return NULL;
	}
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return NULL;
	hash = crypt_r(password, setting, cd);
	if (hash == NULL || hash[0] == '*')
		pts_log_raw(PTS_LOG_ERROR, "crypt: cannot hash password");
	else
		out = strdup(hash);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return out;
}

int
pts_secret_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char diff = 0;

	if (la != lb)
		return 0;
	for (i = 0; i < la; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

int
pts_secret_check_password(const char *password, const char *hash)
{
	struct crypt_data *cd;
	char *got;
	int ok = 0;

	if (hash == NULL || hash[0] == '\0')
		return 0;
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return 0;
	got = crypt_r(password, hash, cd);
	if (got != NULL && got[0] != '*')
		ok = pts_secret_equal(got, hash);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

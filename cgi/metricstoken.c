/*
 * metricstoken.c - the metrics token's check against the stored setting.
 */
#include "metricstoken.h"

#include <stdlib.h>
#include <string.h>

#include "edge.h"
#include "settings.h"
#include "sha256.h"

/*
 * Equal tokens have equal digests, and comparing the two digests takes the same time
 * whatever the tokens' lengths or first differing byte: neither leaks through timing.
 */
static int
mtoken_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char da[SHA256_LEN], db[SHA256_LEN], diff = 0;
	struct sha256 s;
	size_t i;

	sha256_init(&s);
	sha256_update(&s, a, alen);
	sha256_final(&s, da);
	sha256_init(&s);
	sha256_update(&s, b, blen);
	sha256_final(&s, db);
	for (i = 0; i < SHA256_LEN; i++)
		diff |= (unsigned char)(da[i] ^ db[i]);
	explicit_bzero(&s, sizeof(s));
	explicit_bzero(da, sizeof(da));
	explicit_bzero(db, sizeof(db));
	return diff == 0;
}

int
mtoken_check(sqlite3 *db, const char *authorization)
{
	const char *tok;
	char *stored = NULL;
	size_t len;
	int ok;

	if ((tok = edge_bearer(authorization, &len)) == NULL)
		return 0;
	if (pts_settings_read(db, PTS_KEY_METRICS_TOKEN, &stored) != 0)
		return -1;
	if (stored == NULL)
		return 0;
	ok = *stored != '\0' && mtoken_equal(stored, strlen(stored), tok, len);
	explicit_bzero(stored, strlen(stored));
	free(stored);
	return ok;
}

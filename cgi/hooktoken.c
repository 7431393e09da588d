/*
 * hooktoken.c - the webhook URL's token in the meta table.
 */
#include "hooktoken.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "secret.h"

/* Copy a stored token into out. 0, or -1 when it is not a token of ours. */
static int
hooktoken_copy(const char *v, char *out, size_t outlen)
{
	if (v == NULL || strlen(v) != HOOKTOKEN_HEX || outlen < HOOKTOKEN_HEX + 1)
		return -1;
	memcpy(out, v, HOOKTOKEN_HEX + 1);
	return 0;
}

int
hooktoken_get(sqlite3 *db, char *out, size_t outlen)
{
	char fresh[HOOKTOKEN_HEX + 1], *v = NULL;
	int rc;

	if (pts_secret_hex(fresh, HOOKTOKEN_BYTES) != 0)
		return -1;
	/* Two responders asking at once must agree: the first insert wins, both read it back. */
	if (pts_db_run(db, "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO NOTHING",
	    "ss", HOOKTOKEN_META_KEY, fresh) != 0 ||
	    pts_db_text(db, &v, "SELECT value FROM meta WHERE key = ?", "s",
	    HOOKTOKEN_META_KEY) != 0) {
		explicit_bzero(fresh, sizeof(fresh));
		return -1;
	}
	explicit_bzero(fresh, sizeof(fresh));
	rc = hooktoken_copy(v, out, outlen);
	if (rc != 0)
		pts_log(PTS_LOG_ERROR, "webhook: the stored token is malformed; rotate it");
	free(v);
	return rc;
}

int
hooktoken_rotate(sqlite3 *db, char *out, size_t outlen)
{
	char fresh[HOOKTOKEN_HEX + 1];
	int rc;

	if (outlen < HOOKTOKEN_HEX + 1 || pts_secret_hex(fresh, HOOKTOKEN_BYTES) != 0)
		return -1;
	rc = pts_db_meta_set(db, HOOKTOKEN_META_KEY, fresh);
	if (rc == 0) {
		memcpy(out, fresh, HOOKTOKEN_HEX + 1);
		pts_log(PTS_LOG_INFO, "webhook: token rotated; the old webhook URL no longer works");
	}
	explicit_bzero(fresh, sizeof(fresh));
	return rc;
}

int
hooktoken_check(sqlite3 *db, const char *presented)
{
	char *v = NULL;
	int ok;

	if (pts_db_text(db, &v, "SELECT value FROM meta WHERE key = ?", "s",
	    HOOKTOKEN_META_KEY) != 0)
		return -1;
	/* Lengths are not secret (always HOOKTOKEN_HEX); the bytes are compared in full. */
	ok = v != NULL && strlen(v) == HOOKTOKEN_HEX && presented != NULL &&
	    pts_secret_equal(v, presented);
	if (v != NULL) {
		explicit_bzero(v, strlen(v));
		free(v);
	}
	return ok;
}

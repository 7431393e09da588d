/*
 * session.c - login sessions.
 */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cookie.h"
#include "db.h"
#include "log.h"
#include "secret.h"
#include "settings.h"
#include "sha256.h"

int
session_password_hash(sqlite3 *db, char **hash)
{
	if (pts_settings_read(db, PTS_KEY_DASHBOARD_PASSWORD, hash) != 0)
		return -1;
	if (*hash != NULL && **hash == '\0') {
		free(*hash);
		*hash = NULL;
	}
	return 0;
}

int
session_token(const char *cookie_header, int nth, char *token)
{
	char v[SESSION_TOKEN_HEX + 1];
	size_t i;

	if (cookie_get(cookie_header, SESSION_COOKIE, nth, v, sizeof(v)) != 0 ||
	    strlen(v) != SESSION_TOKEN_HEX)
		return -1;
	for (i = 0; i < SESSION_TOKEN_HEX; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
			return -1;
	memcpy(token, v, sizeof(v));
	return 0;
}

/* Is this token a live session? 1, 0, or -1 on error. */
static int
session_live(sqlite3 *db, const char *token)
{
	char hash[SHA256_HEX_LEN];
	int64_t n = 0;

	sha256_hex(token, strlen(token), hash);
	if (pts_db_int(db, &n, 0, "SELECT COUNT(*) FROM sessions WHERE token_hash = ?"
	    " AND expires_at > ?", "si", hash, pts_now()) != 0)
		return -1;
	return n > 0;
}

int
session_allowed(sqlite3 *db, const char *cookie_header)
{
	char token[SESSION_TOKEN_HEX + 1], *hash = NULL;
	int i, rc;

	if (session_password_hash(db, &hash) != 0)
		return -1;
	if (hash == NULL)
		return 1;
	free(hash);
	/* Look at each cookie of our name: a live one may sit next to a stale or malformed one. */
	for (i = 0; i < SESSION_MAX_COOKIES; i++) {
		if (session_token(cookie_header, i, token) != 0)
			continue;
		rc = session_live(db, token);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
session_create(sqlite3 *db, char *token)
{
	char hash[SHA256_HEX_LEN];
	int64_t now = pts_now();

	if (pts_secret_hex(token, SESSION_TOKEN_HEX / 2) != 0)
		return -1;
	sha256_hex(token, strlen(token), hash);
	if (pts_db_begin(db) != 0)
		return -1;
	if (pts_db_run(db, "DELETE FROM sessions WHERE expires_at <= ?", "i", now) != 0 ||
	    pts_db_run(db, "DELETE FROM sessions WHERE token_hash IN (SELECT token_hash"
	    " FROM sessions ORDER BY created_at DESC LIMIT -1 OFFSET ?)", "i",
	    (int64_t)(SESSION_MAX - 1)) != 0 ||
	    pts_db_run(db, "INSERT INTO sessions(token_hash, created_at, expires_at)"
	    " VALUES(?, ?, ?)", "sii", hash, now, now + SESSION_TTL_S) != 0 ||
	    pts_db_commit(db) != 0) {
		pts_db_rollback(db);
		explicit_bzero(token, SESSION_TOKEN_HEX);
		return -1;
	}
	return 0;
}

int
session_delete(sqlite3 *db, const char *cookie_header)
{
	char token[SESSION_TOKEN_HEX + 1], hash[SHA256_HEX_LEN];
	int i;

	for (i = 0; i < SESSION_MAX_COOKIES; i++) {
		if (session_token(cookie_header, i, token) != 0)
			continue;
		sha256_hex(token, strlen(token), hash);
		if (pts_db_run(db, "DELETE FROM sessions WHERE token_hash = ?", "s", hash) != 0)
			return -1;
	}
	return 0;
}

int
session_delete_others(sqlite3 *db, const char *cookie_header)
{
	char token[SESSION_TOKEN_HEX + 1], keep[SESSION_MAX_COOKIES][SHA256_HEX_LEN];
	int i;

	_Static_assert(SESSION_MAX_COOKIES == 4, "the NOT IN list below has four slots");
	for (i = 0; i < SESSION_MAX_COOKIES; i++) {
		/* An unmatchable placeholder when this cookie is absent or malformed. */
		snprintf(keep[i], sizeof(keep[i]), "-");
		if (session_token(cookie_header, i, token) == 0)
			sha256_hex(token, strlen(token), keep[i]);
	}
	return pts_db_run(db, "DELETE FROM sessions WHERE token_hash NOT IN (?, ?, ?, ?)", "ssss",
	    keep[0], keep[1], keep[2], keep[3]);
}

void
session_cookie(char *buf, size_t len, const char *token, int secure)
{
	snprintf(buf, len, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
	    SESSION_COOKIE, token ? token : "", token ? SESSION_TTL_S : 0,
	    secure ? "; Secure" : "");
}

/*
 * hooktoken.h - the secret in the Plex webhook URL (POST /api/webhooks/plex?token=...).
 *
 * Plex can send neither a session cookie nor our CSRF header, so the URL itself carries a
 * random token: 32 bytes from the kernel as 64 hex characters, kept in the meta table under
 * HOOKTOKEN_META_KEY. It is made on the first GET of the webhook URL (Settings shows it) and
 * replaced by a rotation; a POST never creates one. Every function logs its own database
 * failures.
 */
#ifndef PTS_CGI_HOOKTOKEN_H
#define PTS_CGI_HOOKTOKEN_H

#include <sqlite3.h>
#include <stddef.h>

#define HOOKTOKEN_META_KEY "webhook_token"
/* Random bytes per token; the token is twice as many hex characters. */
#define HOOKTOKEN_BYTES 32
#define HOOKTOKEN_HEX (2 * HOOKTOKEN_BYTES)

/* The token, made now when there is none, into out (>= HOOKTOKEN_HEX + 1). 0 or -1. */
int hooktoken_get(sqlite3 *db, char *out, size_t outlen);

/* Replace the token with a fresh one (the old URL stops working) and write it to out. 0 or -1. */
int hooktoken_rotate(sqlite3 *db, char *out, size_t outlen);

/*
 * 1 when presented equals the stored token (compared in constant time), 0 when it does not
 * or no token was ever made, -1 on a database error.
 */
int hooktoken_check(sqlite3 *db, const char *presented);

#endif

/*
 * session.h - the dashboard password's login sessions (docs/API.md, login rule).
 *
 * A session is a random 64-hex token in the pts_session cookie (HttpOnly, SameSite=Strict);
 * the sessions table keeps only its SHA-256, so the database holds nothing replayable.
 * Every function logs its own database failures.
 */
#ifndef PTS_CGI_SESSION_H
#define PTS_CGI_SESSION_H

#include <sqlite3.h>
#include <stddef.h>

#define SESSION_COOKIE "pts_session"
/* Token length in hex characters (32 random bytes). */
#define SESSION_TOKEN_HEX 64
/* A session lasts this long (the cookie's Max-Age). */
#define SESSION_TTL_S (30 * 24 * 3600)
/* Most live sessions kept; logging in past it drops the oldest. */
#define SESSION_MAX 64
/* Cookies of our name looked at per request (stale duplicates from other paths). */
#define SESSION_MAX_COOKIES 4

/* The stored password hash: *hash malloc'd or NULL when no password is set. 0 or -1. */
int session_password_hash(sqlite3 *db, char **hash);

/*
 * The login rule: 1 when the request may go on (no password set, or the Cookie header
 * carries a live session), 0 when it needs a login, -1 on a database error.
 */
int session_allowed(sqlite3 *db, const char *cookie_header);

/*
 * The session token from the Cookie header, when well formed, into token (size
 * SESSION_TOKEN_HEX + 1). nth picks among duplicates. 0 or -1.
 */
int session_token(const char *cookie_header, int nth, char *token);

/* Start a session: a fresh token into token (size SESSION_TOKEN_HEX + 1). 0 or -1. */
int session_create(sqlite3 *db, char *token);

/* End the sessions the Cookie header names (none is fine). 0 or -1. */
int session_delete(sqlite3 *db, const char *cookie_header);

/* End every session except the ones the Cookie header names (password changed). 0 or -1. */
int session_delete_others(sqlite3 *db, const char *cookie_header);

/* The Set-Cookie value for token, or for clearing the cookie when token is NULL. */
void session_cookie(char *buf, size_t len, const char *token, int secure);

#endif

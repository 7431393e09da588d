/*
 * trakt_auth.h - the Trakt client's sign-in: settings, tokens, device flow, refresh, revoke.
 *
 * Every call sends Content-Type: application/json, trakt-api-version: 2, trakt-api-key (the
 * trakt_client_id setting) and, when authenticated, Authorization: Bearer. OAuth endpoints
 * go to PTS_TRAKT_AUTH_URL, the rest to PTS_TRAKT_API_URL.
 *
 * Tokens (docs/UPSTREAM.md): expiry = created_at + expires_in, never an assumed lifetime.
 * Refresh tokens are single-use, so a new pair is written to the 'trakt' auth row in one
 * transaction BEFORE it is used. A refresh refused with invalid_grant marks the row
 * 'expired' (the dashboard asks the person to sign in again). A 401 on a call refreshes once
 * and retries it once (pts_trakt_call).
 *
 * Ownership: pts_trakt_open() returns a client freed by pts_trakt_close() (NULL safe).
 * Tokens and the client secret are never logged.
 */
#ifndef PTS_TRAKT_AUTH_H
#define PTS_TRAKT_AUTH_H

#include <json-c/json.h>
#include <stdint.h>

#include "http.h"
#include "wctx.h"

/* Refresh ahead when less than this is left (or a tenth of the lifetime, if shorter). */
#define PTS_TRAKT_REFRESH_MARGIN_S 86400
#define PTS_TRAKT_REDIRECT_URI "urn:ietf:wg:oauth:2.0:oob"
/* Longest token, code or secret accepted from Trakt or the settings. */
#define PTS_TRAKT_TOKEN_MAX 512
#define PTS_TRAKT_USER_CODE_LEN 32
#define PTS_TRAKT_URL_LEN 256
/* Device-flow bounds: Trakt says 600 s and 5 s. */
#define PTS_TRAKT_DEVICE_MAX_S 3600
#define PTS_TRAKT_POLL_MIN_S 1
#define PTS_TRAKT_POLL_MAX_S 60

struct pts_trakt {
	struct pts_wctx *w;
	char *client_id;
	char *client_secret;     /* may be NULL (only OAuth needs it) */
	char *access_token;      /* NULL when not signed in */
	char *refresh_token;
	int64_t token_expires_at;
	int64_t token_lifetime;  /* seconds, 0 when unknown */
	int64_t auth_gen;        /* auth.gen when the tokens were read (worker/core/authgen.h) */
};

/* ==== Client ==== */

/*
 * A client with the trakt_client_id/secret settings and the stored tokens (if signed in).
 * NULL with the cause logged when the client id is not set.
 */
struct pts_trakt *pts_trakt_open(struct pts_wctx *w);
void pts_trakt_close(struct pts_trakt *t);

/* ==== Device sign-in ==== */

struct pts_trakt_device {
	char device_code[PTS_TRAKT_TOKEN_MAX];
	char user_code[PTS_TRAKT_USER_CODE_LEN];
	char verification_url[PTS_TRAKT_URL_LEN];
	int64_t expires_at;      /* epoch seconds */
	int interval;            /* seconds between polls */
};

enum pts_trakt_poll {
	PTS_TRAKT_POLL_PENDING,      /* 400: not yet approved (or a transient failure) */
	PTS_TRAKT_POLL_AUTHORIZED,   /* 200: tokens stored */
	PTS_TRAKT_POLL_SLOW_DOWN,    /* 429: interval doubled */
	PTS_TRAKT_POLL_EXPIRED,      /* 410 */
	PTS_TRAKT_POLL_DENIED,       /* 418 */
	PTS_TRAKT_POLL_INVALID,      /* 404: bad device code */
	PTS_TRAKT_POLL_USED,         /* 409: code already used */
	PTS_TRAKT_POLL_ERROR,        /* anything else (cause logged) */
	PTS_TRAKT_POLL_CANCELLED
};

/* POST /oauth/device/code. Needs the client secret set (the poll does). */
enum pts_http_result pts_trakt_device_start(struct pts_trakt *t, struct pts_trakt_device *d);
/* One POST /oauth/device/token. On 200 the tokens are stored (auth row 'authorized'). */
enum pts_trakt_poll pts_trakt_device_poll(struct pts_trakt *t, struct pts_trakt_device *d);
/* Parse a device-code answer (pure). 0 or -1 when malformed. */
int pts_trakt_parse_device(json_object *j, int64_t now, struct pts_trakt_device *d);

/* ==== Tokens ==== */

struct pts_trakt_token {
	char *access_token;      /* malloc'd */
	char *refresh_token;     /* malloc'd */
	int64_t expires_at;      /* created_at + expires_in; 0 when not given */
	int64_t lifetime;        /* expires_in; 0 when not given */
};

/* Parse a token answer (pure). 0 or -1 when malformed. */
int pts_trakt_parse_token(json_object *j, int64_t now, struct pts_trakt_token *tok);
void pts_trakt_token_clear(struct pts_trakt_token *tok);

/*
 * Store a new pair in the auth row ('authorized', flow fields cleared) in one transaction,
 * then adopt it in t (ownership of tok's strings moves to t). 0, or -1 when the database
 * refused (tok is left to the caller). Only while the auth row's generation is still the one
 * read at pts_trakt_open(): after a sign-out (or a new sign-in) nothing is stored, the new
 * pair is revoked on Trakt at once (nobody else knows it), the job is marked cancelled, and
 * 1 is returned (tok cleared).
 */
int pts_trakt_store_tokens(struct pts_trakt *t, struct pts_trakt_token *tok);

/*
 * Before a sync: refresh when less than the margin is left. OK when a usable token is
 * there; HTTP_ERROR when not signed in or the refresh was refused (row now 'expired').
 */
enum pts_http_result pts_trakt_ensure_token(struct pts_trakt *t);
/* Refresh now (POST /oauth/token, grant_type refresh_token). */
enum pts_http_result pts_trakt_refresh(struct pts_trakt *t);
/* Revoke a token (POST /oauth/revoke). Best effort: the caller logs and goes on. */
enum pts_http_result pts_trakt_revoke(struct pts_trakt *t, const char *token);

/* ==== Requests ==== */

/*
 * One authenticated API call for the modules built on this client (trakt.c, trakt_lists.c):
 * path on PTS_TRAKT_API_URL, query pairs (may be NULL), body (may be NULL; borrowed),
 * PTS_HTTP_* flags. Trakt's headers and the Bearer token go with it; nothing is sent once the
 * person signed out since the tokens were read (CANCELLED). A 401 refreshes the token once and
 * tries again. The caller frees resp.
 */
enum pts_http_result pts_trakt_call(struct pts_trakt *t, const char *method, const char *path,
    const char *const *query, json_object *body, unsigned flags, struct pts_http_resp *resp);

#endif

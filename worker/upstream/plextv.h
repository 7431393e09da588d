/*
 * plextv.h - plex.tv: the PIN sign-in flow, the account's user name, and the headers every
 * Plex request carries (plex.c uses them for the Media Server too).
 *
 * Flow (docs/UPSTREAM.md): POST /api/v2/pins?strong=true gives {id, code, expiresIn}; the
 * person opens pts_plextv_auth_url() and approves; GET /api/v2/pins/{id} about once a second
 * until authToken is set or the PIN expires.
 *
 * The client identifier is made once per installation (16 random bytes, hex) and kept in the
 * meta table under "plex_client_id": plex.tv ties the token to it.
 * Ownership: strings returned are malloc'd and the caller's; pins are cleared with
 * pts_plextv_pin_clear(). Tokens are never logged.
 */
#ifndef PTS_PLEXTV_H
#define PTS_PLEXTV_H

#include <curl/curl.h>
#include <json-c/json.h>
#include <sqlite3.h>
#include <stdint.h>

#include "http.h"
#include "wctx.h"

#define PTS_PLEXTV_PRODUCT "Plex-Trakt Sync"
#define PTS_PLEXTV_APP_URL "https://app.plex.tv/auth"
/* 16 random bytes as hex, plus NUL; larger ids from older installs still fit. */
#define PTS_PLEXTV_CLIENT_ID_LEN 65
/* A PIN code is 25 characters with strong=true, 4 without. */
#define PTS_PLEXTV_CODE_LEN 64
/* Longest PIN lifetime we wait for even if plex.tv says more (it says 900 s, or 1800). */
#define PTS_PLEXTV_PIN_MAX_S 3600
/* Poll interval for the PIN. */
#define PTS_PLEXTV_POLL_MS 1000
/* Longest token or user name accepted. */
#define PTS_PLEXTV_TOKEN_MAX 512

struct pts_plextv_pin {
	int64_t id;
	char code[PTS_PLEXTV_CODE_LEN];
	int64_t expires_at;     /* epoch seconds */
	char *auth_token;       /* set (malloc'd) once the person approved */
};

/* The installation's client identifier into out (made and stored on first use). 0 or -1. */
int pts_plextv_client_id(sqlite3 *db, char *out, size_t len);

/*
 * The X-Plex-* headers (and Accept: application/json) for plex.tv and the Media Server.
 * token may be NULL. The caller frees the list with curl_slist_free_all(); NULL on OOM.
 */
struct curl_slist *pts_plextv_headers(const char *client_id, const char *token);
/* The same asking for XML (plex.tv's older endpoints answer nothing else: plexusers.h). */
struct curl_slist *pts_plextv_headers_xml(const char *client_id, const char *token);

/* Create a PIN. */
enum pts_http_result pts_plextv_pin_create(struct pts_wctx *w, const char *client_id,
    struct pts_plextv_pin *pin);

/*
 * Check a PIN once: sets pin->auth_token when approved. *status is the HTTP status of the
 * last answer (0: none); PTS_HTTP_HTTP_ERROR with 404 means plex.tv forgot the PIN (expired).
 */
enum pts_http_result pts_plextv_pin_check(struct pts_wctx *w, const char *client_id,
    struct pts_plextv_pin *pin, long *status);

/* Parse a pin answer into pin (pure; now = the current epoch). 0 or -1 when malformed. */
int pts_plextv_parse_pin(json_object *j, int64_t now, struct pts_plextv_pin *pin);

void pts_plextv_pin_clear(struct pts_plextv_pin *pin);

/* The page the person opens to approve the PIN. malloc'd; NULL on OOM. */
char *pts_plextv_auth_url(const char *client_id, const char *code);

/* The account's user name (GET /api/v2/user) into *username (malloc'd). */
enum pts_http_result pts_plextv_user(struct pts_wctx *w, const char *client_id,
    const char *token, char **username);

#endif

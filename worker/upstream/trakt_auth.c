/*
 * trakt_auth.c - the Trakt client's sign-in: its settings and stored tokens, the device flow,
 * token storage, refresh and revoke, and the request every Trakt call goes through.
 */
#include "trakt_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authgen.h"
#include "db.h"
#include "jsonx.h"
#include "log.h"
#include "settings.h"
#include "timefmt.h"

/* Attempts to store a new token pair (the old refresh token is already dead). */
#define TRAKT_STORE_TRIES 5
#define TRAKT_STORE_RETRY_MS 500
#define TRAKT_NUM_LEN 24
/* Latest epoch believed from Trakt (9999-12-31T23:59:59Z). */
#define TRAKT_EPOCH_MAX 253402300799LL

/* ==== Client ==== */

/* A string setting, NULL when unset or empty or too long. */
static char *
trakt_setting(sqlite3 *db, enum pts_setting_key key)
{
	char *v = pts_settings_get_str(db, key);

	if (v != NULL && (v[0] == '\0' || strlen(v) > PTS_TRAKT_TOKEN_MAX)) {
		free(v);
		v = NULL;
	}
	return v;
}

struct pts_trakt *
pts_trakt_open(struct pts_wctx *w)
{
	struct pts_trakt *t = calloc(1, sizeof(*t));
	sqlite3_stmt *st;
	char *life;

	if (t == NULL)
		return NULL;
	t->w = w;
	t->client_id = trakt_setting(w->db, PTS_KEY_TRAKT_CLIENT_ID);
	t->client_secret = trakt_setting(w->db, PTS_KEY_TRAKT_CLIENT_SECRET);
	if (t->client_id == NULL) {
		PTS_ERROR("Trakt client id (setting trakt_client_id) is not set: set it in Settings");
		pts_trakt_close(t);
		return NULL;
	}
	/* Read before the tokens: a sign-out between the two reads then stops every use. */
	t->auth_gen = pts_authgen_read(w, "trakt");
	st = pts_db_prepare(w->db, "SELECT access_token, refresh_token,"
	    " COALESCE(token_expires_at, 0) FROM auth WHERE service = 'trakt' AND"
	    " state = 'authorized'");
	if (st == NULL) {
		pts_trakt_close(t);
		return NULL;
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(st, 0);
		const char *r = (const char *)sqlite3_column_text(st, 1);

		t->access_token = a != NULL && a[0] != '\0' ? strdup(a) : NULL;
		t->refresh_token = r != NULL && r[0] != '\0' ? strdup(r) : NULL;
		t->token_expires_at = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	life = pts_db_meta_get(w->db, "trakt_token_lifetime");
	if (life != NULL)
		t->token_lifetime = strtoll(life, NULL, 10);
	free(life);
	return t;
}

void
pts_trakt_close(struct pts_trakt *t)
{
	if (t == NULL)
		return;
	free(t->client_id);
	free(t->client_secret);
	free(t->access_token);
	free(t->refresh_token);
	free(t);
}

/* Append "name: value" to *list. 0 or -1. */
static int
trakt_header(struct curl_slist **list, const char *name, const char *value)
{
	char line[PTS_TRAKT_TOKEN_MAX + 64];
	struct curl_slist *n;
	int r = snprintf(line, sizeof(line), "%s: %s", name, value);

	if (r < 0 || (size_t)r >= sizeof(line) || strpbrk(value, "\r\n") != NULL)
		return -1;
	if ((n = curl_slist_append(*list, line)) == NULL)
		return -1;
	*list = n;
	return 0;
}

/*
 * One request to base + path + query with Trakt's headers, body (a JSON object, may be NULL),
 * Bearer when auth. The caller frees resp.
 */
static enum pts_http_result
trakt_request(struct pts_trakt *t, const char *base, const char *method, const char *path,
    const char *const *query, json_object *body, int auth, unsigned flags,
    struct pts_http_resp *resp)
{
	struct pts_http_req req = { .w = t->w, .svc = PTS_HTTP_TRAKT, .method = method,
	    .flags = flags };
	struct curl_slist *h = NULL;
	enum pts_http_result r;
	char *url, bearer[PTS_TRAKT_TOKEN_MAX + 16];

	memset(resp, 0, sizeof(*resp));
	/* Signed out since the token was read: it is not sent again (the job stops). */
	if (auth && !pts_authgen_current(t->w, "trakt", t->auth_gen)) {
		snprintf(resp->error, sizeof(resp->error), "signed out of Trakt");
		return PTS_HTTP_CANCELLED;
	}
	if (auth && t->access_token == NULL) {
		snprintf(resp->error, sizeof(resp->error), "not signed in to Trakt");
		PTS_ERROR("Trakt %s %s: not signed in", method, path);
		resp->status = 401;
		return PTS_HTTP_HTTP_ERROR;
	}
	url = pts_http_url(base, path, query);
	if (url == NULL)
		return PTS_HTTP_NETWORK;
	snprintf(bearer, sizeof(bearer), "Bearer %s", auth ? t->access_token : "");
	if (trakt_header(&h, "Content-Type", "application/json") != 0 ||
	    trakt_header(&h, "Accept", "application/json") != 0 ||
	    trakt_header(&h, "trakt-api-version", "2") != 0 ||
	    trakt_header(&h, "trakt-api-key", t->client_id) != 0 ||
	    (auth && trakt_header(&h, "Authorization", bearer) != 0)) {
		PTS_ERROR("Trakt: cannot build request headers");
		curl_slist_free_all(h);
		free(url);
		return PTS_HTTP_NETWORK;
	}
	req.url = url;
	req.headers = h;
	req.body = body != NULL ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : NULL;
	r = pts_http_do(&req, resp);
	explicit_bzero(bearer, sizeof(bearer));
	curl_slist_free_all(h);
	free(url);
	return r;
}

enum pts_http_result
pts_trakt_call(struct pts_trakt *t, const char *method, const char *path,
    const char *const *query, json_object *body, unsigned flags, struct pts_http_resp *resp)
{
	enum pts_http_result r;

	r = trakt_request(t, pts_http_base(PTS_HTTP_TRAKT), method, path, query, body, 1, flags,
	    resp);
	if (r != PTS_HTTP_HTTP_ERROR || resp->status != 401 || t->refresh_token == NULL)
		return r;
	PTS_INFO("Trakt refused the access token (401): refreshing it once");
	pts_http_resp_free(resp);
	if ((r = pts_trakt_refresh(t)) != PTS_HTTP_OK) {
		memset(resp, 0, sizeof(*resp));
		if (r == PTS_HTTP_CANCELLED) {
			snprintf(resp->error, sizeof(resp->error), "signed out of Trakt");
			return r;
		}
		resp->status = 401;
		snprintf(resp->error, sizeof(resp->error), "Trakt sign-in is no longer valid");
		return PTS_HTTP_HTTP_ERROR;
	}
	return trakt_request(t, pts_http_base(PTS_HTTP_TRAKT), method, path, query, body, 1, flags,
	    resp);
}

/* ==== Tokens ==== */

void
pts_trakt_token_clear(struct pts_trakt_token *tok)
{
	if (tok == NULL)
		return;
	if (tok->access_token != NULL)
		explicit_bzero(tok->access_token, strlen(tok->access_token));
	if (tok->refresh_token != NULL)
		explicit_bzero(tok->refresh_token, strlen(tok->refresh_token));
	free(tok->access_token);
	free(tok->refresh_token);
	memset(tok, 0, sizeof(*tok));
}

static int
trakt_token_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	return n > 0 && n <= PTS_TRAKT_TOKEN_MAX && strpbrk(s, "\r\n \t") == NULL;
}

int
pts_trakt_parse_token(json_object *j, int64_t now, struct pts_trakt_token *tok)
{
	const char *a = pts_json_str(j, "access_token"), *r = pts_json_str(j, "refresh_token");
	int64_t created = pts_json_int(j, "created_at", 0), in = pts_json_int(j, "expires_in", 0);

	memset(tok, 0, sizeof(*tok));
	if (!trakt_token_ok(a) || !trakt_token_ok(r))
		return -1;
	/* A created_at past year 9999 is not a time (found by fuzzing: it overflowed below). */
	if (created <= 0 || created > TRAKT_EPOCH_MAX)
		created = now;
	if (in > 0 && in < 100LL * 365 * 86400) {
		tok->lifetime = in;
		tok->expires_at = created + in;
	}
	tok->access_token = strdup(a);
	tok->refresh_token = strdup(r);
	if (tok->access_token == NULL || tok->refresh_token == NULL) {
		pts_trakt_token_clear(tok);
		return -1;
	}
	return 0;
}

/*
 * A pair Trakt issued after the person signed out: revoke it now, or it stays valid with
 * nobody able to revoke it. The job is already cancelled, so the request goes out under a
 * context without the cancel flag (a revoke is short and safe to send).
 */
static void
trakt_revoke_orphan(struct pts_trakt *t, const char *token)
{
	struct pts_wctx quiet, *saved = t->w;
	enum pts_http_result r;

	memset(&quiet, 0, sizeof(quiet));
	quiet.db = saved->db;
	t->w = &quiet;
	r = pts_trakt_revoke(t, token);
	t->w = saved;
	if (r == PTS_HTTP_OK)
		PTS_INFO("Trakt: the token issued after the sign-out was revoked");
	else
		PTS_WARN("Trakt: the token issued after the sign-out could not be revoked (%s)",
		    pts_http_result_name(r));
}

int
pts_trakt_store_tokens(struct pts_trakt *t, struct pts_trakt_token *tok)
{
	sqlite3 *db = t->w->db;
	char life[TRAKT_NUM_LEN];
	int i;

	snprintf(life, sizeof(life), "%lld", (long long)tok->lifetime);
	for (i = 0; i < TRAKT_STORE_TRIES; i++) {
		if (i > 0) {
			/* Not cancel-aware on purpose: losing this pair means signing in again. */
			struct timespec ts = { 0, TRAKT_STORE_RETRY_MS * 1000000L };

			nanosleep(&ts, NULL);
		}
		if (pts_db_begin(db) != 0)
			continue;
		if (pts_db_run(db, "UPDATE auth SET state = 'authorized', access_token = ?,"
		    " refresh_token = ?, token_expires_at = ?, error = NULL, code = NULL, url = NULL,"
		    " flow_id = NULL, poll_interval = NULL, flow_expires_at = NULL, updated_at = ?"
		    " WHERE service = 'trakt' AND gen = ?", "ssiii", tok->access_token,
		    tok->refresh_token, tok->expires_at, pts_now(), t->auth_gen) != 0) {
			pts_db_rollback(db);
			continue;
		}
		if (sqlite3_changes(db) == 0) {
			pts_db_rollback(db);
			PTS_WARN("Trakt: signed out while new tokens were being issued: not stored");
			trakt_revoke_orphan(t, tok->access_token);
			pts_trakt_token_clear(tok);
			t->w->cancelled = 1;
			return 1;
		}
		if (pts_db_meta_set(db, "trakt_token_lifetime", life) != 0 ||
		    pts_db_commit(db) != 0) {
			pts_db_rollback(db);
			continue;
		}
		free(t->access_token);
		free(t->refresh_token);
		t->access_token = tok->access_token;
		t->refresh_token = tok->refresh_token;
		t->token_expires_at = tok->expires_at;
		t->token_lifetime = tok->lifetime;
		tok->access_token = tok->refresh_token = NULL;
		return 0;
	}
	PTS_ERROR("Trakt: could not store the new tokens after %d tries: sign in again if Trakt"
	    " refuses the next request", TRAKT_STORE_TRIES);
	return -1;
}

/* The refresh token was refused: the auth row becomes 'expired' so the UI asks again. */
static void
trakt_mark_expired(struct pts_trakt *t, const char *why)
{
	/* Only the sign-in this job read: a sign-out (state 'none') stays a sign-out. */
	(void)pts_db_run(t->w->db, "UPDATE auth SET state = 'expired', error = ?,"
	    " access_token = NULL, refresh_token = NULL, updated_at = ? WHERE service = 'trakt'"
	    " AND gen = ?", "sii", why, pts_now(), t->auth_gen);
	free(t->access_token);
	free(t->refresh_token);
	t->access_token = t->refresh_token = NULL;
	t->token_expires_at = 0;
}

enum pts_http_result
pts_trakt_refresh(struct pts_trakt *t)
{
	struct pts_http_resp resp;
	struct pts_trakt_token tok;
	enum pts_http_result r;
	json_object *body;
	int stored;

	if (t->refresh_token == NULL) {
		PTS_ERROR("Trakt: no refresh token: sign in to Trakt again");
		return PTS_HTTP_HTTP_ERROR;
	}
	if (t->client_secret == NULL) {
		PTS_ERROR("Trakt client secret (setting trakt_client_secret) is not set: cannot"
		    " refresh the sign-in");
		return PTS_HTTP_HTTP_ERROR;
	}
	body = json_object_new_object();
	pts_json_add_str(body, "refresh_token", t->refresh_token);
	pts_json_add_str(body, "client_id", t->client_id);
	pts_json_add_str(body, "client_secret", t->client_secret);
	pts_json_add_str(body, "redirect_uri", PTS_TRAKT_REDIRECT_URI);
	pts_json_add_str(body, "grant_type", "refresh_token");
	/* Not idempotent: once Trakt issued a pair, the old refresh token is dead. */
	r = trakt_request(t, pts_http_trakt_auth_base(), "POST", "/oauth/token", NULL, body, 0,
	    PTS_HTTP_NON_IDEMPOTENT, &resp);
	json_object_put(body);
	if (r == PTS_HTTP_OK) {
		if (pts_trakt_parse_token(resp.json, pts_now(), &tok) != 0) {
			PTS_ERROR("Trakt: token refresh answer has no usable tokens");
			r = PTS_HTTP_BAD_RESPONSE;
		} else if ((stored = pts_trakt_store_tokens(t, &tok)) != 0) {
			pts_trakt_token_clear(&tok);
			r = stored > 0 ? PTS_HTTP_CANCELLED : PTS_HTTP_BAD_RESPONSE;
		} else {
			char when[PTS_TIME_ISO_LEN];

			pts_time_iso(t->token_expires_at, when, sizeof(when));
			PTS_INFO("Trakt sign-in refreshed (valid until %s)",
			    t->token_expires_at ? when : "unknown");
		}
	} else if (r == PTS_HTTP_HTTP_ERROR && (resp.status == 400 || resp.status == 401)) {
		PTS_ERROR("Trakt refused the refresh token (%s): sign in to Trakt again", resp.error);
		trakt_mark_expired(t, "Trakt sign-in expired: sign in again");
	}
	pts_http_resp_free(&resp);
	return r;
}

enum pts_http_result
pts_trakt_ensure_token(struct pts_trakt *t)
{
	int64_t margin = PTS_TRAKT_REFRESH_MARGIN_S, now = pts_now();

	if (t->access_token == NULL) {
		PTS_ERROR("not signed in to Trakt: sign in first");
		return PTS_HTTP_HTTP_ERROR;
	}
	if (t->token_lifetime > 0 && t->token_lifetime / 10 < margin)
		margin = t->token_lifetime / 10;
	/* Still valid only with more than the margin left: at its expiry second it is dead. */
	if (t->token_expires_at == 0 || t->token_expires_at - now > margin)
		return PTS_HTTP_OK;
	PTS_INFO("Trakt sign-in %s: refreshing it",
	    t->token_expires_at <= now ? "has expired" : "expires soon");
	return pts_trakt_refresh(t);
}

enum pts_http_result
pts_trakt_revoke(struct pts_trakt *t, const char *token)
{
	struct pts_http_resp resp;
	enum pts_http_result r;
	json_object *body = json_object_new_object();

	pts_json_add_str(body, "token", token);
	pts_json_add_str(body, "client_id", t->client_id);
	pts_json_add_str(body, "client_secret", t->client_secret);
	r = trakt_request(t, pts_http_trakt_auth_base(), "POST", "/oauth/revoke", NULL, body, 0,
	    0, &resp);
	json_object_put(body);
	pts_http_resp_free(&resp);
	return r;
}

/* ==== Device flow ==== */

int
pts_trakt_parse_device(json_object *j, int64_t now, struct pts_trakt_device *d)
{
	const char *dc = pts_json_str(j, "device_code"), *uc = pts_json_str(j, "user_code");
	const char *url = pts_json_str(j, "verification_url");
	int64_t in = pts_json_int(j, "expires_in", 600), iv = pts_json_int(j, "interval", 5);

	memset(d, 0, sizeof(*d));
	if (!trakt_token_ok(dc) || strlen(dc) >= sizeof(d->device_code) ||
	    uc == NULL || uc[0] == '\0' || strlen(uc) >= sizeof(d->user_code) ||
	    url == NULL || strlen(url) >= sizeof(d->verification_url) ||
	    (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0))
		return -1;
	if (in < 1 || in > PTS_TRAKT_DEVICE_MAX_S)
		in = in < 1 ? 600 : PTS_TRAKT_DEVICE_MAX_S;
	if (iv < PTS_TRAKT_POLL_MIN_S)
		iv = PTS_TRAKT_POLL_MIN_S;
	if (iv > PTS_TRAKT_POLL_MAX_S)
		iv = PTS_TRAKT_POLL_MAX_S;
	snprintf(d->device_code, sizeof(d->device_code), "%s", dc);
	snprintf(d->user_code, sizeof(d->user_code), "%s", uc);
	snprintf(d->verification_url, sizeof(d->verification_url), "%s", url);
	d->expires_at = now + in;
	d->interval = (int)iv;
	return 0;
}

enum pts_http_result
pts_trakt_device_start(struct pts_trakt *t, struct pts_trakt_device *d)
{
	struct pts_http_resp resp;
	enum pts_http_result r;
	json_object *body = json_object_new_object();

	memset(d, 0, sizeof(*d));
	pts_json_add_str(body, "client_id", t->client_id);
	r = trakt_request(t, pts_http_trakt_auth_base(), "POST", "/oauth/device/code", NULL, body,
	    0, 0, &resp);
	json_object_put(body);
	if (r == PTS_HTTP_OK && pts_trakt_parse_device(resp.json, pts_now(), d) != 0) {
		PTS_ERROR("Trakt: device code answer has an unexpected shape");
		r = PTS_HTTP_BAD_RESPONSE;
	}
	pts_http_resp_free(&resp);
	return r;
}

enum pts_trakt_poll
pts_trakt_device_poll(struct pts_trakt *t, struct pts_trakt_device *d)
{
	struct pts_http_resp resp;
	struct pts_trakt_token tok;
	enum pts_http_result r;
	enum pts_trakt_poll p;
	json_object *body = json_object_new_object();
	int stored;

	pts_json_add_str(body, "code", d->device_code);
	pts_json_add_str(body, "client_id", t->client_id);
	pts_json_add_str(body, "client_secret", t->client_secret);
	r = trakt_request(t, pts_http_trakt_auth_base(), "POST", "/oauth/device/token", NULL, body,
	    0, PTS_HTTP_ONCE | PTS_HTTP_QUIET_4XX, &resp);
	json_object_put(body);
	switch (r) {
	case PTS_HTTP_OK:
		if (pts_trakt_parse_token(resp.json, pts_now(), &tok) != 0) {
			PTS_ERROR("Trakt: token answer has no usable tokens");
			p = PTS_TRAKT_POLL_ERROR;
		} else if ((stored = pts_trakt_store_tokens(t, &tok)) != 0) {
			pts_trakt_token_clear(&tok);
			p = stored > 0 ? PTS_TRAKT_POLL_CANCELLED : PTS_TRAKT_POLL_ERROR;
		} else {
			p = PTS_TRAKT_POLL_AUTHORIZED;
		}
		break;
	case PTS_HTTP_CANCELLED:
		p = PTS_TRAKT_POLL_CANCELLED;
		break;
	case PTS_HTTP_HTTP_ERROR:
		switch (resp.status) {
		case 400: p = PTS_TRAKT_POLL_PENDING; break;
		case 404: p = PTS_TRAKT_POLL_INVALID; break;
		case 409: p = PTS_TRAKT_POLL_USED; break;
		case 410: p = PTS_TRAKT_POLL_EXPIRED; break;
		case 418: p = PTS_TRAKT_POLL_DENIED; break;
		case 429:
			p = PTS_TRAKT_POLL_SLOW_DOWN;
			if (d->interval < PTS_TRAKT_POLL_MAX_S)
				d->interval = d->interval * 2 > PTS_TRAKT_POLL_MAX_S ?
				    PTS_TRAKT_POLL_MAX_S : d->interval * 2;
			break;
		default:
			/* 5xx and the like: transient; the expiry bounds the polling. */
			PTS_WARN("%s: polling on", resp.error);
			p = resp.status >= 500 ? PTS_TRAKT_POLL_PENDING : PTS_TRAKT_POLL_ERROR;
			break;
		}
		break;
	case PTS_HTTP_NETWORK:
		p = PTS_TRAKT_POLL_PENDING;   /* logged; try again at the next interval */
		break;
	case PTS_HTTP_UNKNOWN:
	case PTS_HTTP_BAD_RESPONSE:
	default:
		p = PTS_TRAKT_POLL_ERROR;
		break;
	}
	pts_http_resp_free(&resp);
	return p;
}

/*
 * plextv.c - plex.tv PIN flow, user name and the X-Plex-* headers.
 */
#include "plextv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "jsonx.h"
#include "log.h"
#include "secret.h"
#include "timefmt.h"

#ifndef PTS_VERSION
#define PTS_VERSION "0"
#endif

/* Bytes of randomness in a new client identifier. */
#define PLEXTV_CLIENT_ID_BYTES 16
/* Longest header line we build (a token is ~20 characters; be generous). */
#define PLEXTV_HEADER_MAX 768

int
pts_plextv_client_id(sqlite3 *db, char *out, size_t len)
{
	char *v = pts_db_meta_get(db, "plex_client_id");

	if (v != NULL && v[0] != '\0' && strlen(v) < len && strlen(v) < PTS_PLEXTV_CLIENT_ID_LEN) {
		snprintf(out, len, "%s", v);
		free(v);
		return 0;
	}
	free(v);
	if (len < PLEXTV_CLIENT_ID_BYTES * 2 + 1 || pts_secret_hex(out, PLEXTV_CLIENT_ID_BYTES) != 0) {
		PTS_ERROR("cannot make a Plex client identifier");
		return -1;
	}
	if (pts_db_meta_set(db, "plex_client_id", out) != 0)
		return -1;
	PTS_INFO("made this installation's Plex client identifier");
	return 0;
}

/* Append "name: value" to *list. 0 or -1. */
static int
plextv_add(struct curl_slist **list, const char *name, const char *value)
{
	char line[PLEXTV_HEADER_MAX];
	struct curl_slist *n;
	int r = snprintf(line, sizeof(line), "%s: %s", name, value);

	if (r < 0 || (size_t)r >= sizeof(line) || strpbrk(value, "\r\n") != NULL)
		return -1;
	n = curl_slist_append(*list, line);
	if (n == NULL)
		return -1;
	*list = n;
	return 0;
}

static struct curl_slist *
plextv_headers(const char *accept, const char *client_id, const char *token)
{
	struct curl_slist *h = NULL;

	if (plextv_add(&h, "Accept", accept) != 0 ||
	    plextv_add(&h, "X-Plex-Product", PTS_PLEXTV_PRODUCT) != 0 ||
	    plextv_add(&h, "X-Plex-Version", PTS_VERSION) != 0 ||
	    plextv_add(&h, "X-Plex-Client-Identifier", client_id) != 0 ||
	    (token != NULL && plextv_add(&h, "X-Plex-Token", token) != 0)) {
		curl_slist_free_all(h);
		PTS_ERROR("cannot build the Plex request headers");
		return NULL;
	}
	return h;
}

struct curl_slist *
pts_plextv_headers(const char *client_id, const char *token)
{
	return plextv_headers("application/json", client_id, token);
}

struct curl_slist *
pts_plextv_headers_xml(const char *client_id, const char *token)
{
	return plextv_headers("application/xml", client_id, token);
}

void
pts_plextv_pin_clear(struct pts_plextv_pin *pin)
{
	if (pin == NULL)
		return;
	free(pin->auth_token);
	memset(pin, 0, sizeof(*pin));
}

int
pts_plextv_parse_pin(json_object *j, int64_t now, struct pts_plextv_pin *pin)
{
	const char *code, *token, *at;
	int64_t id, in, exp = 0;
	size_t n;

	if (j == NULL || !json_object_is_type(j, json_type_object))
		return -1;
	id = pts_json_int(j, "id", 0);
	code = pts_json_str(j, "code");
	if (id <= 0 || code == NULL || (n = strlen(code)) == 0 || n >= sizeof(pin->code) ||
	    strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != n)
		return -1;
	/* Trust the relative lifetime over expiresAt: our clock may differ from plex.tv's. */
	in = pts_json_int(j, "expiresIn", -1);
	at = pts_json_str(j, "expiresAt");
	if (in > 0)
		exp = now + (in > PTS_PLEXTV_PIN_MAX_S ? PTS_PLEXTV_PIN_MAX_S : in);
	else if (at == NULL || pts_time_parse(at, &exp) != 0)
		exp = now + 900;
	if (exp > now + PTS_PLEXTV_PIN_MAX_S)
		exp = now + PTS_PLEXTV_PIN_MAX_S;
	token = pts_json_str(j, "authToken");
	free(pin->auth_token);
	pin->auth_token = NULL;
	if (token != NULL && token[0] != '\0') {
		if (strlen(token) > PTS_PLEXTV_TOKEN_MAX || strpbrk(token, "\r\n") != NULL)
			return -1;
		if ((pin->auth_token = strdup(token)) == NULL)
			return -1;
	}
	pin->id = id;
	snprintf(pin->code, sizeof(pin->code), "%s", code);
	pin->expires_at = exp;
	return 0;
}

enum pts_http_result
pts_plextv_pin_create(struct pts_wctx *w, const char *client_id, struct pts_plextv_pin *pin)
{
	static const char *const q[] = { "strong", "true", NULL };
	struct pts_http_req req = { .w = w, .svc = PTS_HTTP_PLEXTV, .method = "POST" };
	struct pts_http_resp resp;
	enum pts_http_result r;
	char *url = pts_http_url(pts_http_base(PTS_HTTP_PLEXTV), "/api/v2/pins", q);

	memset(pin, 0, sizeof(*pin));
	req.url = url;
	req.headers = pts_plextv_headers(client_id, NULL);
	if (url == NULL || req.headers == NULL) {
		free(url);
		curl_slist_free_all(req.headers);
		return PTS_HTTP_NETWORK;
	}
	r = pts_http_do(&req, &resp);
	if (r == PTS_HTTP_OK && pts_plextv_parse_pin(resp.json, pts_now(), pin) != 0) {
		PTS_ERROR("plex.tv answered the PIN request with an unexpected shape");
		pts_plextv_pin_clear(pin);
		r = PTS_HTTP_BAD_RESPONSE;
	}
	pts_http_resp_free(&resp);
	curl_slist_free_all(req.headers);
	free(url);
	return r;
}

enum pts_http_result
pts_plextv_pin_check(struct pts_wctx *w, const char *client_id, struct pts_plextv_pin *pin,
    long *status)
{
	struct pts_http_req req = { .w = w, .svc = PTS_HTTP_PLEXTV, .method = "GET",
	    .flags = PTS_HTTP_QUIET_4XX };
	struct pts_http_resp resp;
	struct pts_plextv_pin got;
	enum pts_http_result r;
	char path[64], *url;

	*status = 0;
	snprintf(path, sizeof(path), "/api/v2/pins/%lld", (long long)pin->id);
	url = pts_http_url(pts_http_base(PTS_HTTP_PLEXTV), path, NULL);
	req.url = url;
	req.headers = pts_plextv_headers(client_id, NULL);
	if (url == NULL || req.headers == NULL) {
		free(url);
		curl_slist_free_all(req.headers);
		return PTS_HTTP_NETWORK;
	}
	memset(&got, 0, sizeof(got));
	r = pts_http_do(&req, &resp);
	*status = resp.status;
	if (r == PTS_HTTP_OK) {
		if (pts_plextv_parse_pin(resp.json, pts_now(), &got) != 0 || got.id != pin->id) {
			PTS_ERROR("plex.tv answered the PIN check with an unexpected shape");
			r = PTS_HTTP_BAD_RESPONSE;
		} else if (got.auth_token != NULL) {
			free(pin->auth_token);
			pin->auth_token = got.auth_token;
			got.auth_token = NULL;
		}
	}
	pts_plextv_pin_clear(&got);
	pts_http_resp_free(&resp);
	curl_slist_free_all(req.headers);
	free(url);
	return r;
}

char *
pts_plextv_auth_url(const char *client_id, const char *code)
{
	char *id = pts_http_escape(client_id), *c = pts_http_escape(code);
	char *product = pts_http_escape(PTS_PLEXTV_PRODUCT), *out = NULL;
	size_t len;

	if (id == NULL || c == NULL || product == NULL)
		goto done;
	len = strlen(PTS_PLEXTV_APP_URL) + strlen(id) + strlen(c) + strlen(product) + 64;
	if ((out = malloc(len)) == NULL)
		goto done;
	snprintf(out, len, "%s#?clientID=%s&code=%s&context%%5Bdevice%%5D%%5Bproduct%%5D=%s",
	    PTS_PLEXTV_APP_URL, id, c, product);
done:
	free(id);
	free(c);
	free(product);
	return out;
}

enum pts_http_result
pts_plextv_user(struct pts_wctx *w, const char *client_id, const char *token, char **username)
{
	struct pts_http_req req = { .w = w, .svc = PTS_HTTP_PLEXTV, .method = "GET" };
	struct pts_http_resp resp;
	enum pts_http_result r;
	char *url = pts_http_url(pts_http_base(PTS_HTTP_PLEXTV), "/api/v2/user", NULL);

	*username = NULL;
	req.url = url;
	req.headers = pts_plextv_headers(client_id, token);
	if (url == NULL || req.headers == NULL) {
		free(url);
		curl_slist_free_all(req.headers);
		return PTS_HTTP_NETWORK;
	}
	r = pts_http_do(&req, &resp);
	if (r == PTS_HTTP_OK) {
		const char *u = pts_json_str(resp.json, "username");

		if (u == NULL || u[0] == '\0')
			u = pts_json_str(resp.json, "title");
		if (u == NULL || u[0] == '\0' || strlen(u) > PTS_PLEXTV_TOKEN_MAX) {
			PTS_ERROR("plex.tv user answer has no user name");
			r = PTS_HTTP_BAD_RESPONSE;
		} else if ((*username = strdup(u)) == NULL) {
			r = PTS_HTTP_NETWORK;
		}
	}
	pts_http_resp_free(&resp);
	curl_slist_free_all(req.headers);
	free(url);
	return r;
}

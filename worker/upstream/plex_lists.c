/*
 * plex_lists.c - Plex ratings, resume points and collections.
 */
#include "plex_lists.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonx.h"
#include "log.h"
#include "str.h"

#define PLEXL_LIBRARY "com.plexapp.plugins.library"
/* Longest rating key or section key put in a path. */
#define PLEXL_KEY_MAX 32
/* Collection children asked for per page, and pages before we call it a loop. */
#define PLEXL_PAGE_SIZE 1000
#define PLEXL_MAX_PAGES 1000
#define PLEXL_NUM_LEN 32

/* A key we put in a path: letters, digits, '-' and '_' only. */
static int
plexl_key_ok(const char *k)
{
	size_t n = k ? strlen(k) : 0;

	return n > 0 && n <= PLEXL_KEY_MAX && strspn(k, "0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_") == n;
}

/* One request with the client's headers; no body. The caller frees resp. */
static enum pts_http_result
plexl_do(struct pts_plex *c, const char *method, const char *path, const char *const *query,
    unsigned flags, struct pts_http_resp *resp)
{
	struct pts_http_req req = { .w = c->w, .svc = PTS_HTTP_PLEX, .method = method,
	    .flags = flags };
	struct curl_slist *h = NULL, *it, *n;
	enum pts_http_result r;
	char *url;

	memset(resp, 0, sizeof(*resp));
	if (!pts_plex_still_signed_in(c)) {
		snprintf(resp->error, sizeof(resp->error), "signed out of Plex");
		return PTS_HTTP_CANCELLED;
	}
	for (it = c->headers; it != NULL; it = it->next) {
		if ((n = curl_slist_append(h, it->data)) == NULL) {
			curl_slist_free_all(h);
			return PTS_HTTP_NETWORK;
		}
		h = n;
	}
	if ((url = pts_http_url(c->base, path, query)) == NULL) {
		curl_slist_free_all(h);
		return PTS_HTTP_NETWORK;
	}
	req.url = url;
	req.headers = h;
	r = pts_http_do(&req, resp);
	free(url);
	curl_slist_free_all(h);
	return r;
}

/* A body-less write answered 2xx (the body, if any, is not looked at). */
static enum pts_http_result
plexl_write(struct pts_plex *c, const char *method, const char *path, const char *const *q,
    unsigned flags)
{
	struct pts_http_resp resp;
	enum pts_http_result r = plexl_do(c, method, path, q, flags | PTS_HTTP_RAW, &resp);

	pts_http_resp_free(&resp);
	return r;
}

enum pts_http_result
pts_plexl_rate(struct pts_plex *c, const char *rating_key, double rating)
{
	char v[PLEXL_NUM_LEN];
	const char *q[] = { "key", rating_key, "identifier", PLEXL_LIBRARY, "rating", v, NULL };

	if (!plexl_key_ok(rating_key) || !(rating == -1 || (rating >= 0 && rating <= 10)))
		return PTS_HTTP_BAD_RESPONSE;
	if (rating == (double)(int)rating)
		snprintf(v, sizeof(v), "%d", (int)rating);
	else
		snprintf(v, sizeof(v), "%.1f", rating);
	return plexl_write(c, "PUT", "/:/rate", q, 0);
}

enum pts_http_result
pts_plexl_progress(struct pts_plex *c, const char *rating_key, int64_t ms)
{
	char v[PLEXL_NUM_LEN];
	const char *q[] = { "key", rating_key, "identifier", PLEXL_LIBRARY, "time", v, "state",
	    "stopped", NULL };

	if (!plexl_key_ok(rating_key) || ms < 0)
		return PTS_HTTP_BAD_RESPONSE;
	snprintf(v, sizeof(v), "%lld", (long long)ms);
	return plexl_write(c, "PUT", "/:/progress", q, 0);
}

static json_object *
plexl_container(json_object *root)
{
	json_object *mc;

	if (root == NULL || !json_object_object_get_ex(root, "MediaContainer", &mc) ||
	    !json_object_is_type(mc, json_type_object))
		return NULL;
	return mc;
}

static json_object *
plexl_metadata(json_object *mc)
{
	json_object *md;

	if (mc == NULL || !json_object_object_get_ex(mc, "Metadata", &md) ||
	    !json_object_is_type(md, json_type_array))
		return NULL;
	return md;
}

/* A ratingKey given as a string or a number, copied to buf when it is a usable key. */
static int
plexl_rating_key(json_object *m, char *buf, size_t len)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(m, "ratingKey", &v) || v == NULL ||
	    !(json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int)))
		return -1;
	s = json_object_get_string(v);
	if (!plexl_key_ok(s) || strlen(s) >= len)
		return -1;
	snprintf(buf, len, "%s", s);
	return 0;
}

enum pts_http_result
pts_plexl_machine_id(struct pts_plex *c, char *buf, size_t len)
{
	struct pts_http_resp resp;
	enum pts_http_result r;
	const char *id;

	buf[0] = '\0';
	r = plexl_do(c, "GET", "/identity", NULL, 0, &resp);
	if (r == PTS_HTTP_OK) {
		id = pts_json_str(plexl_container(resp.json), "machineIdentifier");
		if (id == NULL || id[0] == '\0' || strlen(id) >= len || strlen(id) >=
		    PTS_PLEXL_MACHINE_LEN || strspn(id, PTS_STR_ID_CHARS) != strlen(id)) {
			PTS_ERROR("Plex: /identity has no usable machineIdentifier");
			r = PTS_HTTP_BAD_RESPONSE;
		} else {
			snprintf(buf, len, "%s", id);
		}
	}
	pts_http_resp_free(&resp);
	return r;
}

enum pts_http_result
pts_plexl_collection_find(struct pts_plex *c, const char *section, const char *title,
    char *rk, size_t len)
{
	char path[96], ssize[PLEXL_NUM_LEN];
	const char *q[] = { "X-Plex-Container-Start", "0", "X-Plex-Container-Size", ssize, NULL };
	struct pts_http_resp resp;
	enum pts_http_result r;
	json_object *md;
	size_t i, n;

	rk[0] = '\0';
	if (!plexl_key_ok(section))
		return PTS_HTTP_BAD_RESPONSE;
	snprintf(path, sizeof(path), "/library/sections/%s/collections", section);
	snprintf(ssize, sizeof(ssize), "%d", PTS_PLEXL_MAX_COLLECTIONS);
	r = plexl_do(c, "GET", path, q, 0, &resp);
	if (r != PTS_HTTP_OK)
		goto done;
	if (plexl_container(resp.json) == NULL) {
		PTS_ERROR("Plex: the collections of library %s are not a MediaContainer", section);
		r = PTS_HTTP_BAD_RESPONSE;
		goto done;
	}
	md = plexl_metadata(plexl_container(resp.json));
	n = md ? json_object_array_length(md) : 0;
	for (i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(md, i);
		const char *t = pts_json_str(m, "title");

		if (t != NULL && strcasecmp(t, title) == 0 && plexl_rating_key(m, rk, len) == 0)
			break;
	}
done:
	pts_http_resp_free(&resp);
	return r;
}

enum pts_http_result
pts_plexl_collection_items(struct pts_plex *c, const char *collection, pts_plex_item_fn fn,
    void *ctx)
{
	char path[96], sstart[PLEXL_NUM_LEN], ssize[PLEXL_NUM_LEN];
	const char *q[] = { "includeGuids", "1", "X-Plex-Container-Start", sstart,
	    "X-Plex-Container-Size", ssize, NULL };
	int64_t start = 0, count, total;
	int pages = 0;

	if (!plexl_key_ok(collection))
		return PTS_HTTP_BAD_RESPONSE;
	snprintf(path, sizeof(path), "/library/collections/%s/children", collection);
	snprintf(ssize, sizeof(ssize), "%d", PLEXL_PAGE_SIZE);
	for (;;) {
		struct pts_http_resp resp;
		enum pts_http_result r;
		int pr;

		if (++pages > PLEXL_MAX_PAGES)
			return PTS_HTTP_BAD_RESPONSE;
		snprintf(sstart, sizeof(sstart), "%lld", (long long)start);
		r = plexl_do(c, "GET", path, q, 0, &resp);
		if (r != PTS_HTTP_OK) {
			pts_http_resp_free(&resp);
			return r;
		}
		pr = pts_plex_parse_page(resp.json, fn, ctx, &count, &total);
		pts_http_resp_free(&resp);
		if (pr < 0) {
			PTS_ERROR("Plex: collection %s is not a MediaContainer", collection);
			return PTS_HTTP_BAD_RESPONSE;
		}
		if (pr > 0)
			return PTS_HTTP_CANCELLED;
		start += count;
		if (count == 0 || total < 0 || start >= total)
			return PTS_HTTP_OK;
	}
}

/* "server://<machine>/com.plexapp.plugins.library/library/metadata/<rk>,<rk>..." (malloc'd). */
static char *
plexl_uri(const char *machine, const char *const *rks, size_t n)
{
	size_t i, len = strlen(machine) + 80, off;
	char *s;

	if (n == 0 || n > PTS_PLEXL_ADD_BATCH)
		return NULL;
	for (i = 0; i < n; i++) {
		if (!plexl_key_ok(rks[i]))
			return NULL;
		len += strlen(rks[i]) + 1;
	}
	if ((s = malloc(len)) == NULL)
		return NULL;
	off = (size_t)snprintf(s, len, "server://%s/%s/library/metadata/", machine, PLEXL_LIBRARY);
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(s + off, len - off, "%s%s", i ? "," : "", rks[i]);
	return s;
}

enum pts_http_result
pts_plexl_collection_create(struct pts_plex *c, const char *section, int type,
    const char *title, const char *machine, const char *const *rks, size_t n, char *rk,
    size_t len)
{
	char stype[PLEXL_NUM_LEN];
	char *uri = plexl_uri(machine, rks, n);
	const char *q[] = { "type", stype, "title", title, "smart", "0", "sectionId", section,
	    "uri", uri, NULL };
	struct pts_http_resp resp;
	enum pts_http_result r;
	json_object *md;

	rk[0] = '\0';
	if (uri == NULL || !plexl_key_ok(section)) {
		free(uri);
		return PTS_HTTP_BAD_RESPONSE;
	}
	snprintf(stype, sizeof(stype), "%d", type);
	r = plexl_do(c, "POST", "/library/collections", q, PTS_HTTP_NON_IDEMPOTENT, &resp);
	free(uri);
	if (r == PTS_HTTP_OK) {
		md = plexl_metadata(plexl_container(resp.json));
		if (md == NULL || json_object_array_length(md) < 1 ||
		    plexl_rating_key(json_object_array_get_idx(md, 0), rk, len) != 0) {
			PTS_ERROR("Plex: a new collection came back without a ratingKey");
			r = PTS_HTTP_UNKNOWN;
		}
	} else if (r == PTS_HTTP_BAD_RESPONSE && resp.status >= 200 && resp.status < 300) {
		r = PTS_HTTP_UNKNOWN;
	}
	pts_http_resp_free(&resp);
	return r;
}

enum pts_http_result
pts_plexl_collection_add(struct pts_plex *c, const char *collection, const char *machine,
    const char *const *rks, size_t n)
{
	char path[96];
	char *uri = plexl_uri(machine, rks, n);
	const char *q[] = { "uri", uri, NULL };
	enum pts_http_result r;

	if (uri == NULL || !plexl_key_ok(collection)) {
		free(uri);
		return PTS_HTTP_BAD_RESPONSE;
	}
	snprintf(path, sizeof(path), "/library/collections/%s/items", collection);
	r = plexl_write(c, "PUT", path, q, 0);
	free(uri);
	return r;
}

enum pts_http_result
pts_plexl_collection_remove(struct pts_plex *c, const char *collection, const char *rating_key)
{
	char path[128];

	if (!plexl_key_ok(collection) || !plexl_key_ok(rating_key))
		return PTS_HTTP_BAD_RESPONSE;
	snprintf(path, sizeof(path), "/library/collections/%s/items/%s", collection, rating_key);
	return plexl_write(c, "DELETE", path, NULL, 0);
}

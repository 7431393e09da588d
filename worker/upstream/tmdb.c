/*
 * tmdb.c - posters from TMDb with a cache in meta_cache, their images kept on the box.
 */
#include "tmdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "jsonx.h"
#include "log.h"
#include "paths.h"
#include "posters.h"
#include "settings.h"

/* v3 API keys are short; longer ones are v4 read access tokens sent as a Bearer token. */
#define TMDB_V3_KEY_MAX 64
#define TMDB_CACHE_KEY_LEN 64

struct pts_tmdb *
pts_tmdb_open(struct pts_wctx *w)
{
	struct pts_tmdb *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->w = w;
	t->key = pts_settings_get_str(w->db, PTS_KEY_TMDB_API_KEY);
	if (t->key != NULL && (t->key[0] == '\0' || strlen(t->key) > PTS_TMDB_KEY_MAX ||
	    strpbrk(t->key, "\r\n") != NULL)) {
		free(t->key);
		t->key = NULL;
	}
	return t;
}

void
pts_tmdb_close(struct pts_tmdb *t)
{
	if (t == NULL)
		return;
	if (t->calls > 0)
		PTS_DEBUG("TMDb: %lld poster lookups, %lld from the cache, %lld images fetched",
		    (long long)(t->calls + t->hits), (long long)t->hits, (long long)t->images);
	if (t->calls + t->hits > 0)
		(void)pts_posters_prune(pts_now(), PTS_POSTERS_TOTAL_MAX);
	free(t->key);
	free(t);
}

char *
pts_tmdb_image_url(const char *poster_path)
{
	const char *api = pts_env("PTS_TMDB_API_URL", NULL);
	const char *base = api != NULL && strcmp(api, PTS_TMDB_DEFAULT_API) != 0 ? api :
	    PTS_TMDB_IMAGE_BASE;
	size_t blen = strlen(base), len;
	char *out;

	if (poster_path == NULL || poster_path[0] != '/' ||
	    strlen(poster_path) > PTS_TMDB_PATH_MAX ||
	    strspn(poster_path, "/ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
	    != strlen(poster_path))
		return NULL;
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	len = blen + strlen(poster_path) + sizeof("/t/p/" PTS_TMDB_POSTER_SIZE);
	if ((out = malloc(len)) == NULL)
		return NULL;
	snprintf(out, len, "%.*s/t/p/%s%s", (int)blen, base, PTS_TMDB_POSTER_SIZE, poster_path);
	return out;
}

/*
 * Look the key up in the cache: 1 with *path (malloc'd or NULL for "no poster") when a fresh
 * entry is there, 0 when not, -1 on a database error.
 */
static int
tmdb_cache_get(struct pts_tmdb *t, const char *key, char **path)
{
	sqlite3_stmt *st;
	int rc = 0;

	*path = NULL;
	st = pts_db_prepare(t->w->db, "SELECT value FROM meta_cache WHERE kind = 'tmdb_poster'"
	    " AND key = ? AND fetched_at >= CASE WHEN value IS NULL THEN ? ELSE ? END");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, pts_now() - PTS_TMDB_NEG_TTL_S);
	sqlite3_bind_int64(st, 3, pts_now() - PTS_TMDB_TTL_S);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);

		rc = 1;
		if (v != NULL && (*path = strdup(v)) == NULL)
			rc = -1;
	}
	sqlite3_finalize(st);
	return rc;
}

static void
tmdb_cache_put(struct pts_tmdb *t, const char *key, const char *path)
{
	(void)pts_db_run(t->w->db, "INSERT INTO meta_cache(kind, key, value, fetched_at)"
	    " VALUES('tmdb_poster', ?, ?, ?) ON CONFLICT(kind, key) DO UPDATE SET"
	    " value = excluded.value, fetched_at = excluded.fetched_at", "ssi", key, path,
	    pts_now());
}

/* poster_path of an object, when it is a usable path. */
static const char *
tmdb_poster_of(json_object *o)
{
	const char *p = pts_json_str(o, "poster_path");

	return p != NULL && p[0] == '/' && strlen(p) <= PTS_TMDB_PATH_MAX ? p : NULL;
}

/* The first poster among the entries of a /3/find result list. */
static const char *
tmdb_first_poster(json_object *root, const char *list)
{
	json_object *arr;
	size_t i, n;

	if (!json_object_object_get_ex(root, list, &arr) || !json_object_is_type(arr, json_type_array))
		return NULL;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		const char *p = tmdb_poster_of(json_object_array_get_idx(arr, i));

		if (p != NULL)
			return p;
	}
	return NULL;
}

/*
 * Ask TMDb. 1 with *path set (malloc'd, NULL for none: cache that), 0 when it could not be
 * asked (nothing to cache).
 */
static int
tmdb_fetch(struct pts_tmdb *t, const char *path, const char *const *extra, enum pts_tmdb_kind kind,
    int is_find, char **out)
{
	struct pts_http_req req = { .w = t->w, .svc = PTS_HTTP_TMDB, .method = "GET",
	    .flags = PTS_HTTP_QUIET_4XX };
	const char *q[8];
	struct curl_slist *h = NULL, *n;
	struct pts_http_resp resp;
	enum pts_http_result r;
	char *url, auth[PTS_TMDB_KEY_MAX + 32];
	size_t k = 0;
	int v4 = strlen(t->key) > TMDB_V3_KEY_MAX, rc = 0;

	*out = NULL;
	for (; extra != NULL && extra[0] != NULL && k < 4; extra += 2) {
		q[k++] = extra[0];
		q[k++] = extra[1];
	}
	if (!v4) {
		q[k++] = "api_key";
		q[k++] = t->key;
	}
	q[k] = NULL;
	if ((url = pts_http_url(pts_http_base(PTS_HTTP_TMDB), path, q)) == NULL)
		return 0;
	if ((n = curl_slist_append(h, "Accept: application/json")) == NULL)
		goto done;
	h = n;
	if (v4) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", t->key);
		n = curl_slist_append(h, auth);
		explicit_bzero(auth, sizeof(auth));
		if (n == NULL)
			goto done;
		h = n;
	}
	req.url = url;
	req.headers = h;
	t->calls++;
	r = pts_http_do(&req, &resp);
	if (r == PTS_HTTP_OK) {
		const char *p = is_find ? tmdb_first_poster(resp.json, kind == PTS_TMDB_MOVIE ?
		    "movie_results" : "tv_results") : tmdb_poster_of(resp.json);

		if (p == NULL && is_find)
			p = tmdb_first_poster(resp.json, kind == PTS_TMDB_MOVIE ? "tv_results" :
			    "movie_results");
		rc = 1;
		if (p != NULL && (*out = strdup(p)) == NULL)
			rc = 0;
	} else if (r == PTS_HTTP_HTTP_ERROR && resp.status == 404) {
		rc = 1;   /* no such title: remember "no poster" */
	} else if (r == PTS_HTTP_HTTP_ERROR && (resp.status == 401 || resp.status == 403)) {
		PTS_WARN("TMDb refused the API key (HTTP %ld): no posters until it is fixed",
		    resp.status);
		t->failed = 1;
	} else if (r != PTS_HTTP_CANCELLED) {
		PTS_WARN("TMDb lookup failed (%s): no more posters in this job", resp.error);
		t->failed = 1;
	}
	pts_http_resp_free(&resp);
done:
	curl_slist_free_all(h);
	free(url);
	return rc;
}

/*
 * Download the image of a poster path and keep it as STEM.EXT; its name into name. 0, or -1
 * when there is no usable image (logged; a network failure stops images for this job).
 */
static int
tmdb_image(struct pts_tmdb *t, const char *poster_path, const char *stem, char *name,
    size_t nlen)
{
	struct pts_http_req req = { .w = t->w, .svc = PTS_HTTP_TMDB, .method = "GET",
	    .max_bytes = PTS_POSTERS_FILE_MAX, .flags = PTS_HTTP_RAW | PTS_HTTP_QUIET_4XX };
	struct pts_http_resp resp;
	enum pts_http_result r;
	const char *ext;
	char *url = pts_tmdb_image_url(poster_path);
	int rc = -1;

	if (url == NULL)
		return -1;
	req.url = url;
	r = pts_http_do(&req, &resp);
	if (r == PTS_HTTP_OK) {
		ext = pts_posters_check(resp.content_type, resp.body, resp.len);
		if (ext == NULL)
			PTS_WARN("TMDb poster %s is not a JPEG, PNG or WebP image of at most %ld bytes"
			    " (Content-Type \"%s\", %zu bytes): not kept", stem, PTS_POSTERS_FILE_MAX,
			    resp.content_type, resp.len);
		else if (pts_posters_put(stem, ext, resp.body, resp.len, name, nlen) == 0) {
			t->images++;
			rc = 0;
		}
	} else if (r == PTS_HTTP_HTTP_ERROR && resp.status >= 400 && resp.status < 500) {
		PTS_DEBUG("TMDb has no image for poster %s (HTTP %ld)", stem, resp.status);
	} else if (resp.oversized) {
		/* Logged by the HTTP layer; only this image is refused. */
	} else if (r != PTS_HTTP_CANCELLED) {
		PTS_WARN("TMDb poster image not fetched (%s): no more posters in this job",
		    resp.error);
		t->failed = 1;
	}
	pts_http_resp_free(&resp);
	free(url);
	return rc;
}

/* "/posters/NAME" for a TMDb poster path, fetching its image when it is not kept yet. */
static char *
tmdb_local_poster(struct pts_tmdb *t, const char *poster_path)
{
	char stem[PTS_POSTERS_STEM_MAX + 1], name[PTS_POSTERS_NAME_MAX + 1];
	char out[sizeof(PTS_POSTERS_URL_PREFIX) + PTS_POSTERS_NAME_MAX];
	int have;

	if (poster_path == NULL || pts_posters_stem(poster_path, stem, sizeof(stem)) != 0)
		return NULL;
	if ((have = pts_posters_find(stem, name, sizeof(name))) < 0)
		return NULL;
	if (have == 0 && (t->failed || pts_wctx_cancelled(t->w) ||
	    tmdb_image(t, poster_path, stem, name, sizeof(name)) != 0))
		return NULL;
	snprintf(out, sizeof(out), "%s%s", PTS_POSTERS_URL_PREFIX, name);
	return strdup(out);
}

char *
pts_tmdb_poster(struct pts_tmdb *t, enum pts_tmdb_kind kind, const struct pts_ids *ids)
{
	static const char *const find_imdb[] = { "external_source", "imdb_id", NULL };
	static const char *const find_tvdb[] = { "external_source", "tvdb_id", NULL };
	const char *const *find = NULL;
	const char *kname = kind == PTS_TMDB_MOVIE ? "movie" : "tv";
	char key[TMDB_CACHE_KEY_LEN], path[TMDB_CACHE_KEY_LEN], *poster = NULL, *url;
	int have;

	if (t == NULL || t->key == NULL || ids == NULL)
		return NULL;
	if (ids->tmdb > 0) {
		snprintf(key, sizeof(key), "%s:tmdb:%lld", kname, (long long)ids->tmdb);
		snprintf(path, sizeof(path), "/3/%s/%lld", kname, (long long)ids->tmdb);
	} else if (pts_guid_imdb_valid(ids->imdb)) {
		snprintf(key, sizeof(key), "imdb:%s", ids->imdb);
		snprintf(path, sizeof(path), "/3/find/%s", ids->imdb);
		find = find_imdb;
	} else if (kind == PTS_TMDB_TV && ids->tvdb > 0) {
		/* Legacy TheTVDB-agent shows carry nothing else. */
		snprintf(key, sizeof(key), "tvdb:%lld", (long long)ids->tvdb);
		snprintf(path, sizeof(path), "/3/find/%lld", (long long)ids->tvdb);
		find = find_tvdb;
	} else {
		return NULL;
	}
	have = tmdb_cache_get(t, key, &poster);
	if (have < 0)
		return NULL;
	if (have == 0) {
		if (t->failed || pts_wctx_cancelled(t->w))
			return NULL;
		if (!tmdb_fetch(t, path, find, kind, find != NULL, &poster))
			return NULL;
		tmdb_cache_put(t, key, poster);
	} else {
		t->hits++;
	}
	url = tmdb_local_poster(t, poster);
	free(poster);
	return url;
}

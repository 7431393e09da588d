/*
 * plexdisc.c - the Plex account watchlist (discover service) and its ids (metadata service).
 */
#include "plexdisc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "jsonx.h"
#include "log.h"
#include "paths.h"
#include "str.h"

#define PDISC_DISCOVER_DEFAULT "https://discover.provider.plex.tv"
#define PDISC_METADATA_DEFAULT "https://metadata.provider.plex.tv"
/* Most entries one watchlist read keeps (PAGE_SIZE * MAX_PAGES). */
#define PDISC_MAX_ENTRIES ((size_t)PTS_PDISC_PAGE_SIZE * PTS_PDISC_MAX_PAGES)
#define PDISC_NUM_LEN 32

/* An id we put in a path or query: letters and digits only. */
static int
pdisc_id_ok(const char *k)
{
	size_t n = k ? strlen(k) : 0;

	return n > 0 && n < PTS_PDISC_ID_LEN && strspn(k, "0123456789abcdefABCDEF"
	    "ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ") == n;
}

int
pts_pdisc_usable(const struct pts_plex *c, char *why, size_t len)
{
	if (c->acct_headers != NULL)
		return 1;
	if (!c->has_token)
		snprintf(why, len, "not signed in to Plex (the account token is needed)");
	else
		snprintf(why, len, "%s has no Plex account token: a friend's or PIN-protected Home"
		    " user's account watchlist cannot be read; choose watchlist_plex_side ="
		    " collection", c->person[0] != '\0' ? c->person : "this profile");
	return 0;
}

/* One request with the account headers to base + path. The caller frees resp. */
static enum pts_http_result
pdisc_do(struct pts_plex *c, const char *base, const char *method, const char *path,
    const char *const *query, unsigned flags, struct pts_http_resp *resp)
{
	struct pts_http_req req = { .w = c->w, .svc = PTS_HTTP_PLEXTV, .method = method,
	    .headers = c->acct_headers, .flags = flags };
	enum pts_http_result r;
	char why[PTS_PDISC_WHY_LEN];
	char *url;

	memset(resp, 0, sizeof(*resp));
	if (!pts_plex_still_signed_in(c)) {
		snprintf(resp->error, sizeof(resp->error), "signed out of Plex");
		return PTS_HTTP_CANCELLED;
	}
	if (!pts_pdisc_usable(c, why, sizeof(why))) {
		snprintf(resp->error, sizeof(resp->error), "no Plex account token");
		PTS_ERROR("Plex account watchlist: %s", why);
		return PTS_HTTP_HTTP_ERROR;
	}
	if ((url = pts_http_url(base, path, query)) == NULL)
		return PTS_HTTP_NETWORK;
	req.url = url;
	r = pts_http_do(&req, resp);
	free(url);
	return r;
}

static const char *
pdisc_discover(void)
{
	return pts_env("PTS_PLEX_DISCOVER_URL", PDISC_DISCOVER_DEFAULT);
}

static const char *
pdisc_metadata(void)
{
	return pts_env("PTS_PLEX_METADATA_URL", PDISC_METADATA_DEFAULT);
}

void
pts_pdisc_list_free(struct pts_pdisc_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free(l->v[i].title);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* One watchlist entry into l (movies and shows only; others skipped). 0, or -1 no memory. */
static int
pdisc_entry(struct pts_pdisc_list *l, json_object *m)
{
	struct pts_pdisc_entry *e;
	const char *type = pts_json_str(m, "type");
	const char *guid = pts_json_str(m, "guid");
	const char *rk = pts_json_str(m, "ratingKey");
	int is_show;

	if (type == NULL || guid == NULL || rk == NULL || !pdisc_id_ok(rk))
		return 0;
	if (strcmp(type, "movie") == 0)
		is_show = 0;
	else if (strcmp(type, "show") == 0)
		is_show = 1;
	else
		return 0;
	if (strncmp(guid, "plex://", 7) != 0 || strlen(guid) >= sizeof(e->guid))
		return 0;
	if (pts_array_grow(&l->v, &l->cap, l->n, sizeof(*l->v), PDISC_MAX_ENTRIES,
	    "Plex account watchlist") != 0)
		return -1;
	e = &l->v[l->n];
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", rk);
	snprintf(e->guid, sizeof(e->guid), "%s", guid);
	e->is_show = is_show;
	e->year = (int)pts_json_int(m, "year", 0);
	e->title = pts_str_dup(pts_json_str(m, "title"));
	e->watchlisted_at = pts_json_int(m, "watchlistedAt", 0);
	if (e->watchlisted_at > l->newest)
		l->newest = e->watchlisted_at;
	l->n++;
	return 0;
}

enum pts_http_result
pts_pdisc_watchlist(struct pts_plex *c, size_t size, size_t max_pages,
    struct pts_pdisc_list *out)
{
	char start[PDISC_NUM_LEN], sz[PDISC_NUM_LEN];
	const char *q[] = { "includeCollections", "0", "includeExternalMedia", "0",
	    "sort", "watchlistedAt:desc", "X-Plex-Container-Start", start,
	    "X-Plex-Container-Size", sz, NULL };
	size_t page, off = 0;

	memset(out, 0, sizeof(*out));
	if (size == 0 || size > PTS_PDISC_PAGE_SIZE)
		size = PTS_PDISC_PAGE_SIZE;
	if (max_pages == 0 || max_pages > PTS_PDISC_MAX_PAGES)
		max_pages = PTS_PDISC_MAX_PAGES;
	snprintf(sz, sizeof(sz), "%zu", size);
	for (page = 0; page < max_pages; page++) {
		struct pts_http_resp resp;
		json_object *mc, *md;
		enum pts_http_result r;
		size_t i, n;

		snprintf(start, sizeof(start), "%zu", off);
		r = pdisc_do(c, pdisc_discover(), "GET", "/library/sections/watchlist/all", q, 0,
		    &resp);
		if (r != PTS_HTTP_OK) {
			PTS_ERROR("Plex account watchlist: cannot read entries from %zu (%s)", off,
			    resp.error[0] ? resp.error : pts_http_result_name(r));
			pts_http_resp_free(&resp);
			return r;
		}
		if ((mc = pts_json_obj(resp.json, "MediaContainer")) == NULL) {
			PTS_ERROR("Plex account watchlist: answer without a MediaContainer");
			pts_http_resp_free(&resp);
			return PTS_HTTP_BAD_RESPONSE;
		}
		out->total = pts_json_int(mc, "totalSize", pts_json_int(mc, "size", 0));
		md = pts_json_arr(mc, "Metadata");
		n = md ? json_object_array_length(md) : 0;
		for (i = 0; i < n; i++) {
			if (pdisc_entry(out, json_object_array_get_idx(md, i)) != 0) {
				pts_http_resp_free(&resp);
				return PTS_HTTP_NETWORK;
			}
		}
		pts_http_resp_free(&resp);
		off += n;
		if (n == 0 || off >= (size_t)(out->total > 0 ? out->total : 0))
			return PTS_HTTP_OK;
	}
	if (max_pages == PTS_PDISC_MAX_PAGES) {
		PTS_ERROR("Plex account watchlist: more than %d pages; stopped",
		    PTS_PDISC_MAX_PAGES);
		return PTS_HTTP_BAD_RESPONSE;
	}
	return PTS_HTTP_OK;
}

/* Guid[] of a metadata object merged into ids; 1 when some id was found. */
static int
pdisc_guids(json_object *m, struct pts_ids *ids)
{
	json_object *g = pts_json_arr(m, "Guid");
	size_t i, n = g ? json_object_array_length(g) : 0;
	int found = 0;

	for (i = 0; i < n; i++) {
		const char *id = pts_json_str(json_object_array_get_idx(g, i), "id");

		if (id != NULL && pts_guid_merge(id, ids) > 0)
			found = 1;
	}
	return found || !pts_ids_empty(ids);
}

enum pts_http_result
pts_pdisc_ids(struct pts_plex *c, const char *id, struct pts_ids *ids)
{
	const char *q[] = { "includeGuids", "1", NULL };
	char path[PTS_PDISC_ID_LEN + 32];
	struct pts_http_resp resp;
	enum pts_http_result r;
	json_object *md;

	if (!pdisc_id_ok(id))
		return PTS_HTTP_BAD_RESPONSE;
	snprintf(path, sizeof(path), "/library/metadata/%s", id);
	r = pdisc_do(c, pdisc_metadata(), "GET", path, q, 0, &resp);
	if (r != PTS_HTTP_OK) {
		PTS_ERROR("Plex metadata: cannot read the ids of %s (%s)", id,
		    resp.error[0] ? resp.error : pts_http_result_name(r));
		pts_http_resp_free(&resp);
		return r;
	}
	md = pts_json_arr(pts_json_obj(resp.json, "MediaContainer"), "Metadata");
	if (md != NULL && json_object_array_length(md) > 0)
		(void)pdisc_guids(json_object_array_get_idx(md, 0), ids);
	pts_http_resp_free(&resp);
	return PTS_HTTP_OK;
}

/* Does the search result m (type wanted) carry ids that match want? */
static int
pdisc_result_matches(json_object *m, int is_show, const struct pts_ids *want)
{
	struct pts_ids got;
	const char *type = pts_json_str(m, "type");

	if (type == NULL || strcmp(type, is_show ? "show" : "movie") != 0)
		return 0;
	memset(&got, 0, sizeof(got));
	return pdisc_guids(m, &got) && pts_ids_match(&got, want);
}

enum pts_http_result
pts_pdisc_search(struct pts_plex *c, const char *title, int is_show,
    const struct pts_ids *want, char *id, size_t len)
{
	const char *q[] = { "query", title, "searchTypes", is_show ? "tv" : "movies",
	    "searchProviders", "discover", "includeMetadata", "1", "includeGuids", "1", NULL };
	struct pts_http_resp resp;
	enum pts_http_result r;
	json_object *groups;
	size_t i, j, seen = 0;

	id[0] = '\0';
	if (title == NULL || title[0] == '\0')
		return PTS_HTTP_OK;
	r = pdisc_do(c, pdisc_discover(), "GET", "/library/search", q, 0, &resp);
	if (r != PTS_HTTP_OK) {
		PTS_ERROR("Plex discover: cannot search (%s)",
		    resp.error[0] ? resp.error : pts_http_result_name(r));
		pts_http_resp_free(&resp);
		return r;
	}
	/* MediaContainer.SearchResults[].SearchResult[].Metadata */
	groups = pts_json_arr(pts_json_obj(resp.json, "MediaContainer"), "SearchResults");
	for (i = 0; groups && i < json_object_array_length(groups) && id[0] == '\0'; i++) {
		json_object *rs = pts_json_arr(json_object_array_get_idx(groups, i),
		    "SearchResult");

		for (j = 0; rs && j < json_object_array_length(rs) && seen < PTS_PDISC_SEARCH_MAX;
		    j++, seen++) {
			json_object *m = pts_json_obj(json_object_array_get_idx(rs, j), "Metadata");
			const char *rk = pts_json_str(m, "ratingKey");

			if (m != NULL && rk != NULL && pdisc_id_ok(rk) &&
			    pdisc_result_matches(m, is_show, want)) {
				snprintf(id, len, "%s", rk);
				break;
			}
		}
	}
	pts_http_resp_free(&resp);
	return PTS_HTTP_OK;
}

enum pts_http_result
pts_pdisc_set(struct pts_plex *c, const char *id, int remove)
{
	const char *q[] = { "ratingKey", id, NULL };
	struct pts_http_resp resp;
	enum pts_http_result r;

	if (!pdisc_id_ok(id))
		return PTS_HTTP_BAD_RESPONSE;
	r = pdisc_do(c, pdisc_discover(), "PUT", remove ? "/actions/removeFromWatchlist" :
	    "/actions/addToWatchlist", q, PTS_HTTP_RAW | PTS_HTTP_QUIET_4XX, &resp);
	if (r == PTS_HTTP_HTTP_ERROR && (resp.status == 400 || resp.status == 404 ||
	    resp.status == 409)) {
		PTS_INFO("Plex account watchlist: %s was %s there (%ld): done", id,
		    remove ? "not" : "already", resp.status);
		r = PTS_HTTP_OK;
	}
	pts_http_resp_free(&resp);
	return r;
}

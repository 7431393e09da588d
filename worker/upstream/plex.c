/*
 * plex.c - the Plex Media Server client: sections, counts, paged listings, Continue
 * Watching, scrobble.
 */
#include "plex.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authgen.h"
#include "db.h"
#include "dbprofile.h"
#include "jsonx.h"
#include "log.h"
#include "settings.h"
#include "utf8.h"

/* Query pairs a listing may carry (type, includeGuids, 3 filters, 2 paging) + NULL. */
#define PLEX_MAX_QUERY 20
/* Longest string we accept for a number given as text. */
#define PLEX_NUM_LEN 24
/* Numbers a listing query carries: type and one per filter of struct pts_plex_filter. */
#define PLEX_FILTER_NUMS 5
/* Latest time taken from Plex (9999-12-31T23:59:59Z). */
#define PLEX_EPOCH_MAX 253402300799LL

/* ==== Field helpers: Plex sends numbers as numbers in JSON, but be lenient ==== */

/* A string field, or the text of a number field (ratingKey is sometimes an int). */
static const char *
plex_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	if (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int))
		return json_object_get_string(v);
	return NULL;
}

/* An integer field given as an int, a double or a decimal string; dflt otherwise. */
static int64_t
plex_int(json_object *o, const char *key, int64_t dflt)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return dflt;
	switch (json_object_get_type(v)) {
	case json_type_int:
		return json_object_get_int64(v);
	case json_type_double: {
		double d = json_object_get_double(v);

		return d > -9e15 && d < 9e15 ? (int64_t)d : dflt;
	}
	case json_type_string: {
		const char *s = json_object_get_string(v);
		char *end;
		long long n;

		if (strlen(s) == 0 || strlen(s) >= PLEX_NUM_LEN)
			return dflt;
		errno = 0;
		n = strtoll(s, &end, 10);
		return errno == 0 && *end == '\0' ? n : dflt;
	}
	default:
		return dflt;
	}
}

/*
 * A time field: epoch seconds within 0..PLEX_EPOCH_MAX, else 0 (absent). Times feed the
 * ledger's minute arithmetic; a wild value from the wire must not overflow it.
 */
static int64_t
plex_epoch(json_object *o, const char *key)
{
	int64_t v = plex_int(o, key, 0);

	return v > 0 && v <= PLEX_EPOCH_MAX ? v : 0;
}

static double
plex_double(json_object *o, const char *key, double dflt)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return dflt;
	if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))
		return json_object_get_double(v);
	return dflt;
}

/* ==== Parsing ==== */

int
pts_plex_parse_item(json_object *m, struct pts_plex_item *it)
{
	json_object *guids;
	struct pts_guid g;
	int64_t v;

	memset(it, 0, sizeof(*it));
	it->season = it->episode = -1;
	it->user_rating = -1;
	if (m == NULL || !json_object_is_type(m, json_type_object))
		return -1;
	it->rating_key = plex_str(m, "ratingKey");
	if (it->rating_key == NULL || it->rating_key[0] == '\0')
		return -1;
	it->title = pts_json_str(m, "title");
	it->type = pts_json_str(m, "type");
	it->guid = pts_json_str(m, "guid");
	it->grandparent_title = pts_json_str(m, "grandparentTitle");
	it->grandparent_guid = pts_json_str(m, "grandparentGuid");
	it->grandparent_rating_key = plex_str(m, "grandparentRatingKey");
	it->parent_rating_key = plex_str(m, "parentRatingKey");
	it->parent_title = pts_json_str(m, "parentTitle");
	it->thumb = pts_json_str(m, "thumb");
	v = plex_int(m, "year", 0);
	it->year = v > 0 && v < 10000 ? (int)v : 0;
	v = plex_int(m, "parentIndex", -1);
	it->season = v >= 0 && v <= PTS_GUID_SEASON_MAX ? (int)v : -1;
	v = plex_int(m, "index", -1);
	it->episode = v >= 0 && v <= PTS_GUID_EPISODE_MAX ? (int)v : -1;
	/* A season's own number is its index. */
	if (it->type != NULL && strcmp(it->type, "season") == 0) {
		it->season = v >= 0 && v <= PTS_GUID_SEASON_MAX ? (int)v : -1;
		it->episode = -1;
	}
	it->view_count = plex_int(m, "viewCount", 0);
	if (it->view_count < 0)
		it->view_count = 0;
	it->last_viewed_at = plex_epoch(m, "lastViewedAt");
	it->view_offset = plex_int(m, "viewOffset", 0);
	it->duration = plex_int(m, "duration", 0);
	if (it->view_offset < 0 || it->duration < 0)
		it->view_offset = it->duration = 0;
	it->added_at = plex_epoch(m, "addedAt");
	it->updated_at = plex_epoch(m, "updatedAt");
	it->user_rating = plex_double(m, "userRating", -1);
	if (it->user_rating < 0 || it->user_rating > 10)
		it->user_rating = -1;
	it->last_rated_at = plex_epoch(m, "lastRatedAt");

	/* New agents: the Guid array holds the item's own ids. */
	if (json_object_object_get_ex(m, "Guid", &guids) &&
	    json_object_is_type(guids, json_type_array)) {
		size_t i, n = json_object_array_length(guids);

		for (i = 0; i < n; i++)
			(void)pts_guid_merge(pts_json_str(json_object_array_get_idx(guids, i), "id"),
			    &it->ids);
	}
	/* Legacy agents: the id is in guid itself (for episodes: the show's id + numbers). */
	it->guid_kind = pts_guid_parse(it->guid, &g);
	if (g.kind == PTS_GUID_IMDB || g.kind == PTS_GUID_TMDB || g.kind == PTS_GUID_TVDB) {
		int is_ep = it->type != NULL && strcmp(it->type, "episode") == 0;

		if (g.legacy && is_ep) {
			if (g.season >= 0 && g.episode >= 0) {
				(void)pts_guid_merge(it->guid, &it->show_ids);
				if (it->season < 0)
					it->season = g.season;
				if (it->episode < 0)
					it->episode = g.episode;
			} else if (g.kind == PTS_GUID_IMDB) {
				(void)pts_guid_merge(it->guid, &it->ids);
			}
		} else if (g.season < 0) {
			(void)pts_guid_merge(it->guid, &it->ids);
		}
	}
	if (it->grandparent_guid != NULL)
		(void)pts_guid_merge(it->grandparent_guid, &it->show_ids);
	if (it->type != NULL && strcmp(it->type, "episode") == 0)
		it->matched = !pts_ids_empty(&it->ids) ||
		    (!pts_ids_empty(&it->show_ids) && it->season >= 0 && it->episode >= 0);
	else
		it->matched = !pts_ids_empty(&it->ids);
	return 0;
}

int
pts_plex_parse_page(json_object *root, pts_plex_item_fn fn, void *ctx, int64_t *count,
    int64_t *total)
{
	json_object *mc, *md;
	size_t i, n;

	*count = 0;
	*total = -1;
	if (root == NULL || !json_object_object_get_ex(root, "MediaContainer", &mc) ||
	    !json_object_is_type(mc, json_type_object))
		return -1;
	*total = plex_int(mc, "totalSize", -1);
	if (*total > PTS_PLEX_TOTAL_MAX)
		*total = PTS_PLEX_TOTAL_MAX;   /* summed over libraries: no overflow */
	if (!json_object_object_get_ex(mc, "Metadata", &md))
		return 0;   /* an empty container has no Metadata at all */
	if (!json_object_is_type(md, json_type_array))
		return -1;
	n = json_object_array_length(md);
	*count = (int64_t)n;
	for (i = 0; i < n; i++) {
		struct pts_plex_item it;

		if (pts_plex_parse_item(json_object_array_get_idx(md, i), &it) != 0) {
			PTS_DEBUG("Plex: skipped a listing entry without a ratingKey");
			continue;
		}
		if (fn != NULL && fn(ctx, &it) != 0)
			return 1;
	}
	return 0;
}

/* ==== Client ==== */

static void
plex_free_token(char *token)
{
	if (token != NULL)
		explicit_bzero(token, strlen(token));
	free(token);
}

/*
 * The headers for plex.tv's discover and metadata services: the owner's sign-in token (token,
 * read by the caller) is their plex.tv account token; a profile N > 1 has the one its
 * plex_users job stored (profauth.h), or none, and then its person's name is kept for the
 * reason pts_pdisc_usable() gives. 0, or -1 (logged) when the database or memory fails.
 */
static int
plex_open_account(struct pts_plex *c, const char *token)
{
	char *acct = NULL, *user = NULL;
	const char *use = token;
	int rc = 0;

	if (pts_db_profile(c->w->db) != PTS_PROFILE_OWNER) {
		if (pts_db_text(c->w->db, &acct, "SELECT account_token FROM auth WHERE service ="
		    " 'plex' AND state = 'authorized'", "") != 0)
			return -1;
		use = acct;
	}
	if (use == NULL || use[0] == '\0') {
		if (pts_db_text(c->w->db, &user, "SELECT user FROM auth WHERE service = 'plex'",
		    "") != 0)
			rc = -1;
		else if (user != NULL)
			pts_utf8_copy(c->person, sizeof(c->person), user);
		free(user);
	} else if ((c->acct_headers = pts_plextv_headers(c->client_id, use)) == NULL) {
		PTS_ERROR("Plex: cannot build the plex.tv account request headers");
		rc = -1;
	}
	plex_free_token(acct);
	return rc;
}

struct pts_plex *
pts_plex_open(struct pts_wctx *w)
{
	struct pts_plex *c = calloc(1, sizeof(*c));
	char *token = NULL;
	size_t n;

	if (c == NULL)
		return NULL;
	c->w = w;
	c->base = pts_settings_get_str(w->db, PTS_KEY_PLEX_URL);
	if (c->base == NULL || (strncmp(c->base, "http://", 7) != 0 &&
	    strncmp(c->base, "https://", 8) != 0)) {
		PTS_ERROR("Plex server URL (setting plex_url) is not set: set it in Settings");
		goto fail;
	}
	n = strlen(c->base);
	while (n > 0 && c->base[n - 1] == '/')
		c->base[--n] = '\0';
	if (pts_plextv_client_id(w->db, c->client_id, sizeof(c->client_id)) != 0)
		goto fail;
	c->auth_gen = pts_authgen_read(w, "plex");
	if (pts_db_text(w->db, &token, "SELECT access_token FROM auth WHERE service = 'plex'"
	    " AND state = 'authorized'", "") != 0)
		goto fail;
	c->has_token = token != NULL && token[0] != '\0';
	if (!c->has_token)
		PTS_WARN("not signed in to Plex: trying the server without a token");
	c->headers = pts_plextv_headers(c->client_id, c->has_token ? token : NULL);
	if (c->headers == NULL || (c->has_token && plex_open_account(c, token) != 0))
		goto fail;
	plex_free_token(token);
	return c;
fail:
	plex_free_token(token);
	pts_plex_close(c);
	return NULL;
}

void
pts_plex_close(struct pts_plex *c)
{
	if (c == NULL)
		return;
	free(c->base);
	curl_slist_free_all(c->headers);
	curl_slist_free_all(c->acct_headers);
	free(c);
}

/*
 * GET base + path + query with the client's headers, plus the container window when
 * size >= 0. The caller frees resp.
 */
int
pts_plex_still_signed_in(struct pts_plex *c)
{
	return !c->has_token || pts_authgen_current(c->w, "plex", c->auth_gen);
}

static enum pts_http_result
plex_get(struct pts_plex *c, const char *path, const char *const *query, int64_t start,
    int64_t size, long timeout_s, long max_bytes, unsigned flags, struct pts_http_resp *resp)
{
	struct pts_http_req req = { .w = c->w, .svc = PTS_HTTP_PLEX, .method = "GET",
	    .timeout_s = timeout_s, .max_bytes = max_bytes, .flags = flags };
	const char *q[PLEX_MAX_QUERY + 1];
	char sstart[PLEX_NUM_LEN], ssize[PLEX_NUM_LEN], line[64];
	struct curl_slist *h = NULL, *it, *n;
	enum pts_http_result r = PTS_HTTP_NETWORK;
	size_t k = 0;
	char *url = NULL;

	memset(resp, 0, sizeof(*resp));
	/* Signed out since the token was read: not sent (marks and lists alike). */
	if (!pts_plex_still_signed_in(c)) {
		snprintf(resp->error, sizeof(resp->error), "signed out of Plex");
		return PTS_HTTP_CANCELLED;
	}
	for (; query != NULL && query[0] != NULL && k + 2 <= PLEX_MAX_QUERY - 4; query += 2) {
		q[k++] = query[0];
		q[k++] = query[1];
	}
	for (it = c->headers; it != NULL; it = it->next) {
		if ((n = curl_slist_append(h, it->data)) == NULL)
			goto done;
		h = n;
	}
	if (size >= 0) {
		snprintf(sstart, sizeof(sstart), "%lld", (long long)start);
		snprintf(ssize, sizeof(ssize), "%lld", (long long)size);
		q[k++] = "X-Plex-Container-Start";
		q[k++] = sstart;
		q[k++] = "X-Plex-Container-Size";
		q[k++] = ssize;
		snprintf(line, sizeof(line), "X-Plex-Container-Start: %s", sstart);
		if ((n = curl_slist_append(h, line)) == NULL)
			goto done;
		h = n;
		snprintf(line, sizeof(line), "X-Plex-Container-Size: %s", ssize);
		if ((n = curl_slist_append(h, line)) == NULL)
			goto done;
		h = n;
	}
	q[k] = NULL;
	if ((url = pts_http_url(c->base, path, q)) == NULL)
		goto done;
	req.url = url;
	req.headers = h;
	r = pts_http_do(&req, resp);
	free(url);
	curl_slist_free_all(h);
	return r;
done:
	memset(resp, 0, sizeof(*resp));
	free(url);
	curl_slist_free_all(h);
	return r;
}

/* Section listing path and query (type, filters); section NULL: every library
 * (/library/all). bufs hold the numbers' text. */
static int
plex_listing_query(const char *section, int type, const struct pts_plex_filter *f,
    int guids, char *path, size_t plen, const char **q, char bufs[PLEX_FILTER_NUMS][PLEX_NUM_LEN])
{
	size_t k = 0;
	int r = section == NULL ? snprintf(path, plen, "/library/all") :
	    snprintf(path, plen, "/library/sections/%s/all", section);

	if (section == NULL)
		section = "all";
	if (r < 0 || (size_t)r >= plen || section[0] == '\0' ||
	    strspn(section, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_") !=
	    strlen(section)) {
		PTS_ERROR("Plex: bad section key");
		return -1;
	}
	snprintf(bufs[0], PLEX_NUM_LEN, "%d", type);
	q[k++] = "type";
	q[k++] = bufs[0];
	if (guids) {
		q[k++] = "includeGuids";
		q[k++] = "1";
	}
	if (f != NULL && f->watched_only) {
		q[k++] = "viewCount>";   /* viewCount>=1 */
		q[k++] = "1";
	}
	if (f != NULL && f->viewed_since > 0) {
		snprintf(bufs[1], PLEX_NUM_LEN, "%lld", (long long)f->viewed_since);
		q[k++] = "lastViewedAt>>";   /* lastViewedAt>>=EPOCH */
		q[k++] = bufs[1];
	}
	if (f != NULL && f->updated_since > 0) {
		snprintf(bufs[2], PLEX_NUM_LEN, "%lld", (long long)f->updated_since);
		q[k++] = "updatedAt>>";
		q[k++] = bufs[2];
	}
	if (f != NULL && f->rated_since > 0) {
		snprintf(bufs[3], PLEX_NUM_LEN, "%lld", (long long)f->rated_since);
		q[k++] = "lastRatedAt>>";
		q[k++] = bufs[3];
	}
	q[k] = NULL;
	return 0;
}

enum pts_http_result
pts_plex_sections(struct pts_plex *c, struct pts_plex_section **out, size_t *n)
{
	struct pts_http_resp resp;
	enum pts_http_result r;
	json_object *mc, *dirs;
	size_t i, len;

	*out = NULL;
	*n = 0;
	r = plex_get(c, "/library/sections", NULL, 0, -1, 0, 0, 0, &resp);
	if (r != PTS_HTTP_OK)
		goto done;
	if (!json_object_object_get_ex(resp.json, "MediaContainer", &mc) ||
	    !json_object_is_type(mc, json_type_object)) {
		PTS_ERROR("Plex: /library/sections answer is not a MediaContainer");
		r = PTS_HTTP_BAD_RESPONSE;
		goto done;
	}
	if (!json_object_object_get_ex(mc, "Directory", &dirs))
		goto done;   /* a server with no libraries */
	if (!json_object_is_type(dirs, json_type_array)) {
		PTS_ERROR("Plex: /library/sections Directory is not an array");
		r = PTS_HTTP_BAD_RESPONSE;
		goto done;
	}
	len = json_object_array_length(dirs);
	if (len > PTS_PLEX_MAX_SECTIONS) {
		PTS_WARN("Plex: %zu libraries; only the first %d are used", len, PTS_PLEX_MAX_SECTIONS);
		len = PTS_PLEX_MAX_SECTIONS;
	}
	if (len > 0 && (*out = calloc(len, sizeof(**out))) == NULL) {
		r = PTS_HTTP_NETWORK;
		goto done;
	}
	for (i = 0; i < len; i++) {
		json_object *d = json_object_array_get_idx(dirs, i);
		const char *key = plex_str(d, "key"), *title = pts_json_str(d, "title");
		const char *type = pts_json_str(d, "type"), *agent = pts_json_str(d, "agent");
		struct pts_plex_section *s = &(*out)[*n];

		if (key == NULL || key[0] == '\0' || strlen(key) >= sizeof(s->key) || type == NULL) {
			PTS_WARN("Plex: skipped a library entry without a usable key or type");
			continue;
		}
		snprintf(s->key, sizeof(s->key), "%s", key);
		pts_utf8_copy(s->title, sizeof(s->title), title ? title : key);
		snprintf(s->type, sizeof(s->type), "%s", type);
		snprintf(s->agent, sizeof(s->agent), "%s", agent ? agent : "");
		(*n)++;
	}
done:
	pts_http_resp_free(&resp);
	return r;
}

enum pts_http_result
pts_plex_count(struct pts_plex *c, const char *section, int type,
    const struct pts_plex_filter *filter, int64_t *total)
{
	char path[128], bufs[PLEX_FILTER_NUMS][PLEX_NUM_LEN];
	const char *q[PLEX_MAX_QUERY];
	struct pts_http_resp resp;
	enum pts_http_result r;
	int64_t count;

	*total = -1;
	if (plex_listing_query(section, type, filter, 0, path, sizeof(path), q, bufs) != 0)
		return PTS_HTTP_BAD_RESPONSE;
	r = plex_get(c, path, q, 0, 0, 0, 0, 0, &resp);
	if (r == PTS_HTTP_OK && (pts_plex_parse_page(resp.json, NULL, NULL, &count, total) != 0 ||
	    *total < 0)) {
		PTS_ERROR("Plex: count of %s%s (type %d) has no totalSize",
		    section != NULL ? "library " : "every library", section != NULL ? section : "",
		    type);
		r = PTS_HTTP_BAD_RESPONSE;
	}
	pts_http_resp_free(&resp);
	return r;
}

enum pts_http_result
pts_plex_count_all(struct pts_plex *c, int type, const struct pts_plex_filter *filter,
    int64_t *total)
{
	return pts_plex_count(c, NULL, type, filter, total);
}

enum pts_http_result
pts_plex_list(struct pts_plex *c, const char *section, int type,
    const struct pts_plex_filter *filter, pts_plex_item_fn fn, void *ctx, int64_t *total)
{
	char path[128], bufs[PLEX_FILTER_NUMS][PLEX_NUM_LEN];
	const char *q[PLEX_MAX_QUERY];
	int64_t start = 0, count, tsize = -1;
	int pages = 0;

	if (total != NULL)
		*total = -1;
	if (plex_listing_query(section, type, filter, 1, path, sizeof(path), q, bufs) != 0)
		return PTS_HTTP_BAD_RESPONSE;
	for (;;) {
		struct pts_http_resp resp;
		enum pts_http_result r;
		int64_t page_total;
		int pr;

		if (++pages > PTS_PLEX_MAX_PAGES) {
			PTS_ERROR("Plex: library %s listing passed %d pages: stopped", section,
			    PTS_PLEX_MAX_PAGES);
			return PTS_HTTP_BAD_RESPONSE;
		}
		r = plex_get(c, path, q, start, PTS_PLEX_PAGE_SIZE, PTS_PLEX_PAGE_TIMEOUT_S,
		    PTS_HTTP_MAX_BYTES_LARGE, 0, &resp);
		if (r != PTS_HTTP_OK) {
			pts_http_resp_free(&resp);
			return r;
		}
		pr = pts_plex_parse_page(resp.json, fn, ctx, &count, &page_total);
		pts_http_resp_free(&resp);
		if (pr < 0) {
			PTS_ERROR("Plex: library %s page at %lld is not a MediaContainer", section,
			    (long long)start);
			return PTS_HTTP_BAD_RESPONSE;
		}
		if (pages == 1) {
			tsize = page_total;
			if (total != NULL)
				*total = tsize;
		}
		if (pr > 0)
			return PTS_HTTP_CANCELLED;
		/* Fewer than asked is normal; none at all ends it (no loop on a miscount). */
		if (count == 0)
			break;
		start += count;
		if (tsize >= 0 && start >= tsize)
			break;
		if (pts_wctx_cancelled(c->w))
			return PTS_HTTP_CANCELLED;
	}
	return PTS_HTTP_OK;
}

enum pts_http_result
pts_plex_continue_watching(struct pts_plex *c, pts_plex_item_fn fn, void *ctx)
{
	static const char *const q[] = { "includeGuids", "1", NULL };
	struct pts_http_resp resp;
	enum pts_http_result r;
	int64_t count, total;
	int pr;

	r = plex_get(c, "/hubs/continueWatching/items", q, 0, PTS_PLEX_CONTINUE_MAX, 0, 0,
	    PTS_HTTP_QUIET_4XX, &resp);
	if (r == PTS_HTTP_HTTP_ERROR && resp.status == 404) {
		/* Older servers have no Continue Watching hub. */
		PTS_INFO("Plex has no Continue Watching hub: using On Deck");
		pts_http_resp_free(&resp);
		r = plex_get(c, "/library/onDeck", q, 0, PTS_PLEX_CONTINUE_MAX, 0, 0, 0, &resp);
	} else if (r == PTS_HTTP_HTTP_ERROR) {
		PTS_WARN("%s", resp.error);
	}
	if (r == PTS_HTTP_OK) {
		pr = pts_plex_parse_page(resp.json, fn, ctx, &count, &total);
		if (pr < 0) {
			PTS_ERROR("Plex: Continue Watching answer is not a MediaContainer");
			r = PTS_HTTP_BAD_RESPONSE;
		} else if (pr > 0) {
			r = PTS_HTTP_CANCELLED;
		}
	}
	pts_http_resp_free(&resp);
	return r;
}

/* Remember the first delivered item's ids. */
static int
plex_take_ids(void *ctx, const struct pts_plex_item *it)
{
	*(struct pts_ids *)ctx = it->ids;
	return 1;
}

struct plex_ids_want {
	const char *guid;
	struct pts_ids *ids;
	int match;
};

static int
plex_take_ids_if(void *ctx, const struct pts_plex_item *it)
{
	struct plex_ids_want *want = ctx;

	want->match = it->guid != NULL && strcmp(it->guid, want->guid) == 0;
	if (want->match)
		*want->ids = it->ids;
	return 1;
}

enum pts_http_result
pts_plex_item_ids_if(struct pts_plex *c, const char *rating_key, const char *expect_guid,
    struct pts_ids *ids, int *match)
{
	struct plex_ids_want want = { expect_guid, ids, 0 };
	struct pts_http_resp resp;
	enum pts_http_result r;
	char path[96];
	int64_t count, total;

	memset(ids, 0, sizeof(*ids));
	*match = 0;
	if (rating_key == NULL || rating_key[0] == '\0' || strlen(rating_key) > 32 ||
	    strspn(rating_key, "0123456789") != strlen(rating_key) || expect_guid == NULL) {
		PTS_WARN("Plex: bad ratingKey or no guid for a metadata lookup");
		return PTS_HTTP_BAD_RESPONSE;
	}
	snprintf(path, sizeof(path), "/library/metadata/%s", rating_key);
	r = plex_get(c, path, NULL, 0, -1, 0, 0, PTS_HTTP_QUIET_4XX, &resp);
	if (r == PTS_HTTP_OK && pts_plex_parse_page(resp.json, plex_take_ids_if, &want, &count,
	    &total) < 0)
		r = PTS_HTTP_BAD_RESPONSE;
	/* An item gone from here (404) is simply not the same item. */
	if (r == PTS_HTTP_HTTP_ERROR && resp.status == 404)
		r = PTS_HTTP_OK;
	pts_http_resp_free(&resp);
	*match = want.match;
	return r;
}

enum pts_http_result
pts_plex_item_ids(struct pts_plex *c, const char *rating_key, struct pts_ids *ids)
{
	struct pts_http_resp resp;
	enum pts_http_result r;
	char path[96];
	int64_t count, total;

	memset(ids, 0, sizeof(*ids));
	if (rating_key == NULL || rating_key[0] == '\0' || strlen(rating_key) > 32 ||
	    strspn(rating_key, "0123456789") != strlen(rating_key)) {
		PTS_WARN("Plex: bad ratingKey for a metadata lookup");
		return PTS_HTTP_BAD_RESPONSE;
	}
	snprintf(path, sizeof(path), "/library/metadata/%s", rating_key);
	r = plex_get(c, path, NULL, 0, -1, 0, 0, PTS_HTTP_QUIET_4XX, &resp);
	if (r == PTS_HTTP_OK && pts_plex_parse_page(resp.json, plex_take_ids, ids, &count,
	    &total) < 0)
		r = PTS_HTTP_BAD_RESPONSE;
	pts_http_resp_free(&resp);
	return r;
}

enum pts_http_result
pts_plex_scrobble(struct pts_plex *c, const char *rating_key, int watched)
{
	const char *q[] = { "key", rating_key, "identifier", "com.plexapp.plugins.library", NULL };
	struct pts_http_resp resp;
	enum pts_http_result r;

	r = plex_get(c, watched ? "/:/scrobble" : "/:/unscrobble", q, 0, -1, 0, 0, PTS_HTTP_RAW,
	    &resp);
	pts_http_resp_free(&resp);
	return r;
}

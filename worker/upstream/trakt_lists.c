/*
 * trakt_lists.c - Trakt's ratings, watchlist and playback lists.
 */
#include "trakt_lists.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "jsonx.h"
#include "log.h"
#include "timefmt.h"

#define TLIST_NUM_LEN 24

/* ==== Reading ==== */

static int64_t
tlist_time(json_object *o, const char *key)
{
	const char *s = pts_json_str(o, key);
	int64_t t;

	return s != NULL && pts_time_parse(s, &t) == 0 ? t : 0;
}

static int
tlist_small(json_object *o, const char *key, int max)
{
	int64_t v = pts_json_int(o, key, -1);

	return v >= 0 && v <= max ? (int)v : -1;
}

int
pts_tlist_parse(json_object *page, struct pts_tlist *out)
{
	size_t i, n;
	int got = 0;

	if (page == NULL || !json_object_is_type(page, json_type_array))
		return -1;
	n = json_object_array_length(page);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(page, i), *pr;
		const char *type = pts_json_str(e, "type");
		struct pts_tlist_entry x;

		if (type == NULL)
			continue;
		memset(&x, 0, sizeof(x));
		x.season = x.episode = -1;
		if (strcmp(type, "movie") == 0) {
			x.kind = PTS_TLIST_MOVIE;
			pts_trakt_parse_ids(pts_json_obj(pts_json_obj(e, "movie"), "ids"), &x.ids);
		} else if (strcmp(type, "show") == 0) {
			x.kind = PTS_TLIST_SHOW;
			pts_trakt_parse_ids(pts_json_obj(pts_json_obj(e, "show"), "ids"), &x.ids);
		} else if (strcmp(type, "season") == 0) {
			x.kind = PTS_TLIST_SEASON;
			pts_trakt_parse_ids(pts_json_obj(pts_json_obj(e, "show"), "ids"), &x.ids);
			x.season = tlist_small(pts_json_obj(e, "season"), "number", PTS_GUID_SEASON_MAX);
		} else if (strcmp(type, "episode") == 0) {
			json_object *ep = pts_json_obj(e, "episode");

			x.kind = PTS_TLIST_EPISODE;
			pts_trakt_parse_ids(pts_json_obj(pts_json_obj(e, "show"), "ids"), &x.ids);
			x.season = tlist_small(ep, "season", PTS_GUID_SEASON_MAX);
			x.episode = tlist_small(ep, "number", PTS_GUID_EPISODE_MAX);
			if (x.season < 0 || x.episode < 0)
				continue;
		} else {
			continue;   /* people, lists: not ours */
		}
		if (pts_ids_empty(&x.ids))
			continue;
		x.rating = tlist_small(e, "rating", 10);
		if (x.rating < 0)
			x.rating = 0;
		if (json_object_object_get_ex(e, "progress", &pr) && (json_object_is_type(pr,
		    json_type_double) || json_object_is_type(pr, json_type_int))) {
			x.progress = json_object_get_double(pr);
			if (x.progress < 0 || x.progress > 100)
				x.progress = 0;
		}
		x.at = tlist_time(e, "rated_at");
		if (x.at == 0)
			x.at = tlist_time(e, "listed_at");
		if (x.at == 0)
			x.at = tlist_time(e, "paused_at");
		x.id = pts_json_int(e, "id", 0);
		if (x.kind == PTS_TLIST_MOVIE || x.kind == PTS_TLIST_SHOW) {
			json_object *m = pts_json_obj(e, x.kind == PTS_TLIST_MOVIE ? "movie" : "show");
			const char *t = pts_json_str(m, "title");

			snprintf(x.title, sizeof(x.title), "%s", t ? t : "");
			x.year = (int)pts_json_int(m, "year", 0);
		}
		if (pts_array_grow(&out->v, &out->cap, out->n, sizeof(*out->v), PTS_TLIST_MAX_ENTRIES,
		    "Trakt list") != 0)
			return -1;
		out->v[out->n++] = x;
		got++;
	}
	return got;
}

void
pts_tlist_free(struct pts_tlist *l)
{
	if (l == NULL)
		return;
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Every page of a list (one when there is no X-Pagination-Page-Count). */
static enum pts_http_result
tlist_get(struct pts_trakt *t, const char *path, int paged, struct pts_tlist *out)
{
	char spage[TLIST_NUM_LEN], slimit[TLIST_NUM_LEN];
	const char *q[] = { "page", spage, "limit", slimit, NULL };
	int page = 1;

	memset(out, 0, sizeof(*out));
	snprintf(slimit, sizeof(slimit), "%d", PTS_TRAKT_PAGE_LIMIT);
	while (page > 0) {
		struct pts_http_resp resp;
		enum pts_http_result r;
		int got;

		snprintf(spage, sizeof(spage), "%d", page);
		r = pts_trakt_call(t, "GET", path, paged ? q : NULL, NULL, 0, &resp);
		if (r != PTS_HTTP_OK) {
			pts_http_resp_free(&resp);
			pts_tlist_free(out);
			return r;
		}
		got = pts_tlist_parse(resp.json, out);
		if (got < 0) {
			PTS_ERROR("Trakt: %s page %d has an unexpected shape", path, page);
			pts_http_resp_free(&resp);
			pts_tlist_free(out);
			return PTS_HTTP_BAD_RESPONSE;
		}
		page = paged ? pts_trakt_next_page(page, resp.page_count, (size_t)got) : 0;
		pts_http_resp_free(&resp);
	}
	return PTS_HTTP_OK;
}

enum pts_http_result
pts_tlist_ratings(struct pts_trakt *t, struct pts_tlist *out)
{
	return tlist_get(t, "/sync/ratings", 1, out);
}

enum pts_http_result
pts_tlist_watchlist(struct pts_trakt *t, struct pts_tlist *out)
{
	return tlist_get(t, "/sync/watchlist", 1, out);
}

enum pts_http_result
pts_tlist_playback(struct pts_trakt *t, struct pts_tlist *out)
{
	return tlist_get(t, "/sync/playback", 0, out);
}

/* ==== Writing ==== */

static int
tlist_ids_equal(const struct pts_ids *a, const struct pts_ids *b)
{
	return a->trakt == b->trakt && a->tmdb == b->tmdb && a->tvdb == b->tvdb &&
	    strcmp(a->imdb, b->imdb) == 0;
}

/* rating and rated_at of an item onto o. */
static void
tlist_add_extra(json_object *o, const struct pts_tlist_item *it)
{
	char when[PTS_TIME_ISO_LEN];

	if (it->rating >= 1 && it->rating <= 10)
		pts_json_add_int(o, "rating", it->rating);
	if (it->at > 0) {
		pts_time_iso(it->at, when, sizeof(when));
		pts_json_add_str(o, "rated_at", when);
	}
}

/* A season object with no episodes stands for the season itself (a season rating). */
static void
tlist_drop_empty_episodes(json_object *shows)
{
	size_t i, k;

	for (i = 0; i < json_object_array_length(shows); i++) {
		json_object *seasons = pts_json_arr(json_object_array_get_idx(shows, i), "seasons");

		for (k = 0; seasons != NULL && k < json_object_array_length(seasons); k++) {
			json_object *season = json_object_array_get_idx(seasons, k);
			json_object *eps = pts_json_arr(season, "episodes");

			if (eps != NULL && json_object_array_length(eps) == 0)
				json_object_object_del(season, "episodes");
		}
	}
}

/* Episodes grouped under one show object per show. */
struct tlist_group {
	const struct pts_ids *ids;
	json_object *show;           /* borrowed from the shows array */
};

/* The episode-holding show object for ids (created and appended to shows when new). */
static json_object *
tlist_show_of(json_object *shows, struct tlist_group *g, size_t *ng, const struct pts_ids *ids)
{
	size_t i;
	json_object *s;

	for (i = 0; i < *ng; i++)
		if (tlist_ids_equal(g[i].ids, ids))
			return g[i].show;
	s = json_object_new_object();
	json_object_object_add(s, "ids", pts_ids_json(ids));
	json_object_object_add(s, "seasons", json_object_new_array());
	json_object_array_add(shows, s);
	g[*ng].ids = ids;
	g[(*ng)++].show = s;
	return s;
}

static json_object *
tlist_season_of(json_object *show, int number)
{
	json_object *seasons = pts_json_arr(show, "seasons"), *s;
	size_t i;

	for (i = 0; i < json_object_array_length(seasons); i++) {
		s = json_object_array_get_idx(seasons, i);
		if (pts_json_int(s, "number", -1) == number)
			return s;
	}
	s = json_object_new_object();
	pts_json_add_int(s, "number", number);
	json_object_object_add(s, "episodes", json_object_new_array());
	json_object_array_add(seasons, s);
	return s;
}

json_object *
pts_tlist_body(struct pts_tlist_item *items, size_t n)
{
	json_object *body = json_object_new_object(), *movies = json_object_new_array();
	json_object *shows = json_object_new_array();
	struct tlist_group *g = calloc(n > 0 ? n : 1, sizeof(*g));
	size_t i, ng = 0;

	if (body == NULL || movies == NULL || shows == NULL || g == NULL) {
		json_object_put(body);
		json_object_put(movies);
		json_object_put(shows);
		free(g);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		struct pts_tlist_item *it = &items[i];
		json_object *o;

		it->not_found = 0;
		if (pts_ids_empty(&it->ids) || (it->kind == PTS_TLIST_EPISODE &&
		    (it->season < 0 || it->episode < 0)) || (it->kind == PTS_TLIST_SEASON &&
		    it->season < 0)) {
			it->not_found = 1;
			continue;
		}
		if (it->kind == PTS_TLIST_SEASON) {
			/* shows[] {ids, seasons: [{number, rating, ...}]}: the season itself. */
			json_object *season = tlist_season_of(tlist_show_of(shows, g, &ng, &it->ids),
			    it->season);

			tlist_add_extra(season, it);
			continue;
		}
		if (it->kind == PTS_TLIST_EPISODE) {
			json_object *season = tlist_season_of(tlist_show_of(shows, g, &ng, &it->ids),
			    it->season);

			o = json_object_new_object();
			pts_json_add_int(o, "number", it->episode);
			tlist_add_extra(o, it);
			json_object_array_add(pts_json_arr(season, "episodes"), o);
			continue;
		}
		o = json_object_new_object();
		json_object_object_add(o, "ids", pts_ids_json(&it->ids));
		tlist_add_extra(o, it);
		json_object_array_add(it->kind == PTS_TLIST_MOVIE ? movies : shows, o);
	}
	free(g);
	tlist_drop_empty_episodes(shows);
	pts_json_add_nonempty(body, "movies", movies);
	pts_json_add_nonempty(body, "shows", shows);
	return body;
}

/*
 * Flag the items an entry of not_found names. kind: the list it came from. Show objects with
 * seasons stand for their episodes; without, for the show itself.
 */
static void
tlist_flag(json_object *list, enum pts_tlist_kind kind, struct pts_tlist_item *items, size_t n)
{
	size_t i, k, len = list ? json_object_array_length(list) : 0;

	for (k = 0; k < len; k++) {
		json_object *e = json_object_array_get_idx(list, k);
		struct pts_ids nf;
		int whole = kind == PTS_TLIST_SHOW && pts_json_arr(e, "seasons") == NULL;

		pts_trakt_parse_ids(pts_json_obj(e, "ids"), &nf);
		if (pts_ids_empty(&nf))
			continue;
		for (i = 0; i < n; i++) {
			struct pts_tlist_item *it = &items[i];
			int hit;

			if (kind == PTS_TLIST_MOVIE)
				hit = it->kind == PTS_TLIST_MOVIE;
			else
				hit = whole ? it->kind == PTS_TLIST_SHOW : it->kind == PTS_TLIST_EPISODE ||
				    it->kind == PTS_TLIST_SEASON;
			if (hit && pts_ids_match(&it->ids, &nf))
				it->not_found = 1;
		}
	}
}

/*
 * Episodes sent under a known show come back without ids: not_found.seasons [{number}] (every
 * episode item of that season number is flagged) and not_found.episodes [{number}] (the first
 * unflagged episode item with that number). Trakt does not say which show, so a batch mixing
 * shows may flag the wrong one; at worst an item is tried again on the next sync.
 */
static void
tlist_flag_numbered(json_object *nf, struct pts_tlist_item *items, size_t n)
{
	json_object *seasons = pts_json_arr(nf, "seasons"), *eps = pts_json_arr(nf, "episodes");
	size_t i, k;

	for (k = 0; seasons != NULL && k < json_object_array_length(seasons); k++) {
		int64_t num = pts_json_int(json_object_array_get_idx(seasons, k), "number", -1);

		for (i = 0; i < n; i++)
			if ((items[i].kind == PTS_TLIST_EPISODE || items[i].kind == PTS_TLIST_SEASON) &&
			    !items[i].not_found && items[i].season == num)
				items[i].not_found = 1;
	}
	for (k = 0; eps != NULL && k < json_object_array_length(eps); k++) {
		json_object *e = json_object_array_get_idx(eps, k);
		int64_t num = pts_json_int(e, "number", -1);

		if (pts_json_obj(e, "ids") != NULL)
			continue;
		for (i = 0; i < n; i++)
			if (items[i].kind == PTS_TLIST_EPISODE && !items[i].not_found &&
			    items[i].episode == num) {
				items[i].not_found = 1;
				break;
			}
	}
}

int
pts_tlist_parse_result(json_object *j, const char *count_key, struct pts_tlist_item *items,
    size_t n)
{
	json_object *nf = pts_json_obj(j, "not_found");

	if (pts_json_obj(j, count_key) == NULL)
		return -1;
	if (nf != NULL) {
		tlist_flag(pts_json_arr(nf, "movies"), PTS_TLIST_MOVIE, items, n);
		tlist_flag(pts_json_arr(nf, "shows"), PTS_TLIST_SHOW, items, n);
		tlist_flag_numbered(nf, items, n);
	}
	return 0;
}

enum pts_http_result
pts_tlist_write(struct pts_trakt *t, const char *list, int remove,
    struct pts_tlist_item *items, size_t n, long *status)
{
	struct pts_http_resp resp;
	enum pts_http_result r;
	json_object *body;
	char path[48];

	if (status != NULL)
		*status = 0;
	if (n == 0)
		return PTS_HTTP_OK;
	if (n > PTS_TLIST_BATCH || (strcmp(list, "ratings") != 0 && strcmp(list, "watchlist") != 0))
		return PTS_HTTP_BAD_RESPONSE;
	body = pts_tlist_body(items, n);
	if (body == NULL)
		return PTS_HTTP_NETWORK;
	if (json_object_object_length(body) == 0) {
		json_object_put(body);
		return PTS_HTTP_OK;   /* every item already flagged */
	}
	snprintf(path, sizeof(path), "/sync/%s%s", list, remove ? "/remove" : "");
	r = pts_trakt_call(t, "POST", path, NULL, body, 0, &resp);
	json_object_put(body);
	if (status != NULL)
		*status = resp.status;
	if (r == PTS_HTTP_OK && pts_tlist_parse_result(resp.json, remove ? "deleted" : "added",
	    items, n) != 0) {
		PTS_ERROR("Trakt: %s answer has no counts: outcome unknown", path);
		r = PTS_HTTP_UNKNOWN;
	}
	pts_http_resp_free(&resp);
	return r;
}

enum pts_http_result
pts_tlist_playback_remove(struct pts_trakt *t, int64_t id, long *status)
{
	struct pts_http_resp resp;
	enum pts_http_result r;
	char path[48];

	*status = 0;
	if (id <= 0)
		return PTS_HTTP_BAD_RESPONSE;
	snprintf(path, sizeof(path), "/sync/playback/%lld", (long long)id);
	r = pts_trakt_call(t, "DELETE", path, NULL, NULL, PTS_HTTP_RAW, &resp);
	*status = resp.status;
	pts_http_resp_free(&resp);
	return r;
}

int
pts_tlist_refused(long status)
{
	return status == PTS_TLIST_ACCOUNT_LIMIT || status == PTS_TLIST_LOCKED ||
	    status == PTS_TLIST_VIP_ONLY;
}

int64_t
pts_tlist_parse_limit(json_object *settings, const char *list)
{
	json_object *limits, *l, *count;

	if (!json_object_object_get_ex(settings, "limits", &limits) ||
	    !json_object_object_get_ex(limits, list, &l) ||
	    !json_object_object_get_ex(l, "item_count", &count) ||
	    !json_object_is_type(count, json_type_int))
		return 0;
	return json_object_get_int64(count) > 0 ? json_object_get_int64(count) : 0;
}

enum pts_http_result
pts_tlist_limit(struct pts_trakt *t, const char *list, int64_t *cap)
{
	struct pts_http_resp resp;
	enum pts_http_result r;

	*cap = 0;
	r = pts_trakt_call(t, "GET", "/users/settings", NULL, NULL, 0, &resp);
	if (r == PTS_HTTP_OK)
		*cap = pts_tlist_parse_limit(resp.json, list);
	pts_http_resp_free(&resp);
	return r;
}

enum pts_http_result
pts_tlist_pause(struct pts_trakt *t, const struct pts_tlist_item *it, double progress,
    long *status)
{
	struct pts_http_resp resp;
	enum pts_http_result r;
	json_object *body, *o;

	*status = 0;
	if (pts_ids_empty(&it->ids) || (it->kind != PTS_TLIST_MOVIE &&
	    it->kind != PTS_TLIST_EPISODE) || progress < 0 || progress > 100)
		return PTS_HTTP_BAD_RESPONSE;
	body = json_object_new_object();
	if (it->kind == PTS_TLIST_MOVIE) {
		o = json_object_new_object();
		json_object_object_add(o, "ids", pts_ids_json(&it->ids));
		json_object_object_add(body, "movie", o);
	} else {
		o = json_object_new_object();
		json_object_object_add(o, "ids", pts_ids_json(&it->ids));
		json_object_object_add(body, "show", o);
		o = json_object_new_object();
		pts_json_add_int(o, "season", it->season);
		pts_json_add_int(o, "number", it->episode);
		json_object_object_add(body, "episode", o);
	}
	/* Two decimals, as Trakt keeps it. */
	json_object_object_add(body, "progress",
	    json_object_new_double((double)(int64_t)(progress * 100 + 0.5) / 100));
	r = pts_trakt_call(t, "POST", "/scrobble/pause", NULL, body, PTS_HTTP_QUIET_4XX, &resp);
	json_object_put(body);
	*status = resp.status;
	pts_http_resp_free(&resp);
	return r;
}

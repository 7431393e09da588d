/*
 * trakt.c - the Trakt API's data: watched state, history, last activities, history writes.
 */
#include "trakt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "jsonx.h"
#include "log.h"
#include "timefmt.h"
#include "utf8.h"

/* Query pairs a paged request carries (extra + page + limit) + NULL. */
#define TRAKT_MAX_QUERY 16
#define TRAKT_NUM_LEN 24

/* ==== Small helpers ==== */

/* A copy of at most PTS_TRAKT_TITLE_MAX bytes, cut at a character boundary; NULL stays NULL. */
static char *
trakt_title(const char *s)
{
	return pts_utf8_dup(s, PTS_TRAKT_TITLE_MAX);
}

/* An ISO time field as epoch seconds; 0 when absent, null or malformed. */
static int64_t
trakt_time(json_object *o, const char *key)
{
	const char *s = pts_json_str(o, key);
	int64_t t;

	return s != NULL && pts_time_parse(s, &t) == 0 ? t : 0;
}

/* An int field bounded to 0..max; dflt otherwise. */
static int
trakt_small(json_object *o, const char *key, int max, int dflt)
{
	int64_t v = pts_json_int(o, key, dflt);

	return v >= 0 && v <= max ? (int)v : dflt;
}

void
pts_trakt_parse_ids(json_object *ids, struct pts_ids *out)
{
	const char *imdb;
	int64_t v;

	memset(out, 0, sizeof(*out));
	if (ids == NULL)
		return;
	v = pts_json_int(ids, "trakt", 0);
	out->trakt = v > 0 && v <= PTS_ID_MAX ? v : 0;
	v = pts_json_int(ids, "tmdb", 0);
	out->tmdb = v > 0 && v <= PTS_ID_MAX ? v : 0;
	v = pts_json_int(ids, "tvdb", 0);
	out->tvdb = v > 0 && v <= PTS_ID_MAX ? v : 0;
	imdb = pts_json_str(ids, "imdb");
	if (pts_guid_imdb_valid(imdb))
		snprintf(out->imdb, sizeof(out->imdb), "%s", imdb);
}

/* ==== Reads ==== */

enum pts_http_result
pts_trakt_user(struct pts_trakt *t, char **username)
{
	struct pts_http_resp resp;
	enum pts_http_result r;

	*username = NULL;
	r = pts_trakt_call(t, "GET", "/users/settings", NULL, NULL, 0, &resp);
	if (r == PTS_HTTP_OK) {
		const char *u = pts_json_str(pts_json_obj(resp.json, "user"), "username");

		if (u == NULL || u[0] == '\0' || strlen(u) > PTS_TRAKT_TOKEN_MAX) {
			PTS_ERROR("Trakt: /users/settings has no user name");
			r = PTS_HTTP_BAD_RESPONSE;
		} else if ((*username = strdup(u)) == NULL) {
			r = PTS_HTTP_NETWORK;
		}
	}
	pts_http_resp_free(&resp);
	return r;
}

/* A last_activities stamp in epoch milliseconds (changes within a second tell apart). */
static int64_t
trakt_stamp(json_object *o, const char *key)
{
	const char *s = pts_json_str(o, key);
	int64_t t;

	return s != NULL && pts_time_parse_ms(s, &t) == 0 ? t : 0;
}

int
pts_trakt_parse_last_activities(json_object *j, struct pts_trakt_activities *a)
{
	json_object *m = pts_json_obj(j, "movies"), *e = pts_json_obj(j, "episodes");
	json_object *s = pts_json_obj(j, "shows"), *se = pts_json_obj(j, "seasons");
	json_object *wl = pts_json_obj(j, "watchlist");

	memset(a, 0, sizeof(*a));
	if (j == NULL || !json_object_is_type(j, json_type_object))
		return -1;
	a->all = trakt_stamp(j, "all");
	a->movies_watched_at = trakt_stamp(m, "watched_at");
	a->movies_rated_at = trakt_stamp(m, "rated_at");
	a->movies_watchlisted_at = trakt_stamp(m, "watchlisted_at");
	a->movies_collected_at = trakt_stamp(m, "collected_at");
	a->movies_paused_at = trakt_stamp(m, "paused_at");
	a->episodes_watched_at = trakt_stamp(e, "watched_at");
	a->episodes_rated_at = trakt_stamp(e, "rated_at");
	a->episodes_watchlisted_at = trakt_stamp(e, "watchlisted_at");
	a->episodes_collected_at = trakt_stamp(e, "collected_at");
	a->episodes_paused_at = trakt_stamp(e, "paused_at");
	a->shows_rated_at = trakt_stamp(s, "rated_at");
	a->shows_watchlisted_at = trakt_stamp(s, "watchlisted_at");
	a->seasons_rated_at = trakt_stamp(se, "rated_at");
	a->seasons_watchlisted_at = trakt_stamp(se, "watchlisted_at");
	a->watchlist_updated_at = trakt_stamp(wl, "updated_at");
	return 0;
}

enum pts_http_result
pts_trakt_last_activities(struct pts_trakt *t, struct pts_trakt_activities *a)
{
	struct pts_http_resp resp;
	enum pts_http_result r;

	memset(a, 0, sizeof(*a));
	r = pts_trakt_call(t, "GET", "/sync/last_activities", NULL, NULL, 0, &resp);
	if (r == PTS_HTTP_OK && pts_trakt_parse_last_activities(resp.json, a) != 0) {
		PTS_ERROR("Trakt: /sync/last_activities is not an object");
		r = PTS_HTTP_BAD_RESPONSE;
	}
	pts_http_resp_free(&resp);
	return r;
}

int
pts_trakt_next_page(int page, int64_t page_count, size_t items)
{
	if (page_count < 0)
		return 0;               /* no header: one page */
	if (items == 0)
		return 0;               /* an empty page ends it whatever the count says */
	if (page >= page_count || page >= PTS_TRAKT_MAX_PAGES)
		return 0;
	return page + 1;
}

/* Parses one page into the caller's arrays; returns the entries on the page, or -1. */
typedef int (*trakt_page_fn)(void *ctx, json_object *page);

/*
 * GET every page of a list: the extra query plus page and limit (0: PTS_TRAKT_PAGE_LIMIT).
 * When have is not NULL, paging also ends once *have reaches stop_after.
 */
static enum pts_http_result
trakt_get_paged(struct pts_trakt *t, const char *path, const char *const *extra, int limit,
    trakt_page_fn fn, void *ctx, const size_t *have, size_t stop_after)
{
	const char *q[TRAKT_MAX_QUERY + 1];
	char spage[TRAKT_NUM_LEN], slimit[TRAKT_NUM_LEN];
	size_t k = 0;
	int page = 1;

	for (; extra != NULL && extra[0] != NULL && k + 2 <= TRAKT_MAX_QUERY - 4; extra += 2) {
		q[k++] = extra[0];
		q[k++] = extra[1];
	}
	snprintf(slimit, sizeof(slimit), "%d", limit > 0 ? limit : PTS_TRAKT_PAGE_LIMIT);
	q[k++] = "page";
	q[k++] = spage;
	q[k++] = "limit";
	q[k++] = slimit;
	q[k] = NULL;
	while (page > 0) {
		struct pts_http_resp resp;
		enum pts_http_result r;
		int got;

		snprintf(spage, sizeof(spage), "%d", page);
		r = pts_trakt_call(t, "GET", path, q, NULL, 0, &resp);
		if (r != PTS_HTTP_OK) {
			pts_http_resp_free(&resp);
			return r;
		}
		got = fn(ctx, resp.json);
		if (got < 0) {
			PTS_ERROR("Trakt: %s page %d has an unexpected shape", path, page);
			pts_http_resp_free(&resp);
			return PTS_HTTP_BAD_RESPONSE;
		}
		if (page == 1 && resp.page_count > 1)
			PTS_DEBUG("Trakt: %s has %lld pages (%lld items)", path,
			    (long long)resp.page_count, (long long)resp.item_count);
		page = pts_trakt_next_page(page, resp.page_count, (size_t)got);
		pts_http_resp_free(&resp);
		if (have != NULL && *have >= stop_after)
			break;
	}
	return PTS_HTTP_OK;
}

int
pts_trakt_parse_watched_movies(json_object *page, struct pts_trakt_movies *out)
{
	size_t i, n;

	if (page == NULL || !json_object_is_type(page, json_type_array))
		return -1;
	n = json_object_array_length(page);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(page, i), *m = pts_json_obj(e, "movie");
		struct pts_trakt_movie *mv;

		if (m == NULL)
			continue;
		if (pts_array_grow(&out->v, &out->cap, out->n, sizeof(*out->v),
		    PTS_TRAKT_ENTRIES_MAX, "Trakt listing") != 0)
			return -1;
		mv = &out->v[out->n++];
		memset(mv, 0, sizeof(*mv));
		pts_trakt_parse_ids(pts_json_obj(m, "ids"), &mv->ids);
		mv->title = trakt_title(pts_json_str(m, "title"));
		mv->year = trakt_small(m, "year", 9999, 0);
		mv->plays = trakt_small(e, "plays", 1000000, 0);
		mv->last_watched_at = trakt_time(e, "last_watched_at");
	}
	return (int)n;
}

int
pts_trakt_parse_watched_shows(json_object *page, struct pts_trakt_shows *out)
{
	size_t i, n;

	if (page == NULL || !json_object_is_type(page, json_type_array))
		return -1;
	n = json_object_array_length(page);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(page, i), *s = pts_json_obj(e, "show");
		json_object *seasons = pts_json_arr(e, "seasons");
		struct pts_trakt_show *sh;
		size_t si, sn = seasons ? json_object_array_length(seasons) : 0;

		if (s == NULL)
			continue;
		if (pts_array_grow(&out->v, &out->cap, out->n, sizeof(*out->v),
		    PTS_TRAKT_ENTRIES_MAX, "Trakt listing") != 0)
			return -1;
		sh = &out->v[out->n++];
		memset(sh, 0, sizeof(*sh));
		pts_trakt_parse_ids(pts_json_obj(s, "ids"), &sh->ids);
		sh->title = trakt_title(pts_json_str(s, "title"));
		sh->year = trakt_small(s, "year", 9999, 0);
		sh->plays = trakt_small(e, "plays", 100000000, 0);
		sh->last_watched_at = trakt_time(e, "last_watched_at");
		sh->reset_at = trakt_time(e, "reset_at");
		sh->ep_first = out->neps;
		for (si = 0; si < sn; si++) {
			json_object *season = json_object_array_get_idx(seasons, si);
			json_object *eps = pts_json_arr(season, "episodes");
			int snum = trakt_small(season, "number", PTS_GUID_SEASON_MAX, -1);
			size_t ei, en = eps ? json_object_array_length(eps) : 0;

			if (snum < 0)
				continue;
			for (ei = 0; ei < en; ei++) {
				json_object *ep = json_object_array_get_idx(eps, ei);
				int enr = trakt_small(ep, "number", PTS_GUID_EPISODE_MAX, -1);
				struct pts_trakt_ep *te;

				if (enr < 0)
					continue;
				if (pts_array_grow(&out->eps, &out->epcap, out->neps,
				    sizeof(*out->eps), PTS_TRAKT_EPISODES_MAX, "Trakt episodes") != 0)
					return -1;
				te = &out->eps[out->neps++];
				te->season = snum;
				te->number = enr;
				te->plays = trakt_small(ep, "plays", 1000000, 0);
				te->last_watched_at = trakt_time(ep, "last_watched_at");
				sh->ep_count++;
			}
		}
	}
	return (int)n;
}

void
pts_trakt_movies_free(struct pts_trakt_movies *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		free(m->v[i].title);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

void
pts_trakt_shows_free(struct pts_trakt_shows *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		free(s->v[i].title);
	free(s->v);
	free(s->eps);
	memset(s, 0, sizeof(*s));
}

static int
trakt_movies_page(void *ctx, json_object *page)
{
	return pts_trakt_parse_watched_movies(page, ctx);
}

static int
trakt_shows_page(void *ctx, json_object *page)
{
	return pts_trakt_parse_watched_shows(page, ctx);
}

enum pts_http_result
pts_trakt_watched_movies(struct pts_trakt *t, struct pts_trakt_movies *out)
{
	enum pts_http_result r;

	memset(out, 0, sizeof(*out));
	r = trakt_get_paged(t, "/sync/watched/movies", NULL, 0, trakt_movies_page, out, NULL, 0);
	if (r != PTS_HTTP_OK)
		pts_trakt_movies_free(out);
	return r;
}

enum pts_http_result
pts_trakt_watched_shows(struct pts_trakt *t, struct pts_trakt_shows *out)
{
	static const char *const q[] = { "extended", "progress", NULL };
	enum pts_http_result r;

	memset(out, 0, sizeof(*out));
	r = trakt_get_paged(t, "/sync/watched/shows", q, 0, trakt_shows_page, out, NULL, 0);
	if (r != PTS_HTTP_OK)
		pts_trakt_shows_free(out);
	return r;
}

int
pts_trakt_parse_history(json_object *page, size_t max_items, struct pts_trakt_plays *out)
{
	size_t i, n;

	if (page == NULL || !json_object_is_type(page, json_type_array))
		return -1;
	n = json_object_array_length(page);
	for (i = 0; i < n && (max_items == 0 || out->n < max_items); i++) {
		json_object *e = json_object_array_get_idx(page, i);
		json_object *m = pts_json_obj(e, "movie"), *ep = pts_json_obj(e, "episode");
		json_object *sh = pts_json_obj(e, "show");
		const char *action = pts_json_str(e, "action");
		struct pts_trakt_play *p;

		if (m == NULL && (ep == NULL || sh == NULL))
			continue;   /* a type we do not show */
		if (pts_array_grow(&out->v, &out->cap, out->n, sizeof(*out->v),
		    PTS_TRAKT_ENTRIES_MAX, "Trakt listing") != 0)
			return -1;
		p = &out->v[out->n++];
		memset(p, 0, sizeof(*p));
		p->history_id = pts_json_int(e, "id", 0);
		p->watched_at = trakt_time(e, "watched_at");
		snprintf(p->action, sizeof(p->action), "%s", action ? action : "");
		p->season = p->episode = -1;
		if (m != NULL) {
			pts_trakt_parse_ids(pts_json_obj(m, "ids"), &p->ids);
			p->title = trakt_title(pts_json_str(m, "title"));
			p->year = trakt_small(m, "year", 9999, 0);
		} else {
			p->is_episode = 1;
			pts_trakt_parse_ids(pts_json_obj(ep, "ids"), &p->ids);
			pts_trakt_parse_ids(pts_json_obj(sh, "ids"), &p->show_ids);
			p->title = trakt_title(pts_json_str(ep, "title"));
			p->show_title = trakt_title(pts_json_str(sh, "title"));
			p->year = trakt_small(sh, "year", 9999, 0);
			p->season = trakt_small(ep, "season", PTS_GUID_SEASON_MAX, -1);
			p->episode = trakt_small(ep, "number", PTS_GUID_EPISODE_MAX, -1);
		}
	}
	return (int)n;
}

void
pts_trakt_plays_free(struct pts_trakt_plays *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		free(p->v[i].title);
		free(p->v[i].show_title);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

struct trakt_hist_ctx {
	struct pts_trakt_plays *out;
	size_t max_items;
};

static int
trakt_history_page(void *ctx, json_object *page)
{
	struct trakt_hist_ctx *c = ctx;

	return pts_trakt_parse_history(page, c->max_items, c->out);
}

enum pts_http_result
pts_trakt_history(struct pts_trakt *t, const char *kind, int64_t start_at, int64_t end_at,
    size_t max_items, struct pts_trakt_plays *out)
{
	char path[64], s1[PTS_TIME_ISO_LEN], s2[PTS_TIME_ISO_LEN];
	const char *q[5];
	struct trakt_hist_ctx c = { out, max_items };
	enum pts_http_result r;
	size_t k = 0;
	int limit = max_items > 0 && max_items < PTS_TRAKT_PAGE_LIMIT ? (int)max_items : 0;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/sync/history%s%s", kind ? "/" : "", kind ? kind : "");
	if (start_at > 0) {
		pts_time_iso(start_at, s1, sizeof(s1));
		q[k++] = "start_at";
		q[k++] = s1;
	}
	if (end_at > 0) {
		pts_time_iso(end_at, s2, sizeof(s2));
		q[k++] = "end_at";
		q[k++] = s2;
	}
	q[k] = NULL;
	r = trakt_get_paged(t, path, q, limit, trakt_history_page, &c, max_items > 0 ? &out->n : NULL,
	    max_items);
	if (r != PTS_HTTP_OK)
		pts_trakt_plays_free(out);
	return r;
}

/* ==== Writes ==== */

static int
trakt_ids_equal(const struct pts_ids *a, const struct pts_ids *b)
{
	return a->trakt == b->trakt && a->tmdb == b->tmdb && a->tvdb == b->tvdb &&
	    strcmp(a->imdb, b->imdb) == 0;
}

static void
trakt_add_watched_at(json_object *o, int64_t watched_at)
{
	char when[PTS_TIME_ISO_LEN];

	if (watched_at <= 0)
		return;
	pts_time_iso(watched_at, when, sizeof(when));
	pts_json_add_str(o, "watched_at", when);
}

/* Episodes sent by show ids + numbers (no own ids). */
static int
trakt_by_show(const struct pts_trakt_hist_item *it)
{
	return it->kind == PTS_TRAKT_EPISODE && pts_ids_empty(&it->ids);
}

json_object *
pts_trakt_history_body(struct pts_trakt_hist_item *items, size_t n)
{
	json_object *body = json_object_new_object(), *movies = json_object_new_array();
	json_object *shows = json_object_new_array(), *episodes = json_object_new_array();
	size_t i, j;

	for (i = 0; i < n; i++) {
		struct pts_trakt_hist_item *it = &items[i];
		json_object *o;

		it->not_found = 0;
		if (it->kind == PTS_TRAKT_MOVIE || !trakt_by_show(it)) {
			if (pts_ids_empty(&it->ids)) {
				it->not_found = 1;
				continue;
			}
			o = json_object_new_object();
			json_object_object_add(o, "ids", pts_ids_json(&it->ids));
			trakt_add_watched_at(o, it->watched_at);
			json_object_array_add(it->kind == PTS_TRAKT_MOVIE ? movies : episodes, o);
			continue;
		}
		if (pts_ids_empty(&it->show_ids) || it->season < 0 || it->episode < 0) {
			it->not_found = 1;
			continue;
		}
		/* The first episode of its show builds the whole show entry. */
		for (j = 0; j < i; j++)
			if (trakt_by_show(&items[j]) && !items[j].not_found &&
			    trakt_ids_equal(&items[j].show_ids, &it->show_ids))
				break;
		if (j < i)
			continue;
		{
			json_object *show = json_object_new_object(), *seasons = json_object_new_array();
			size_t k, m;

			json_object_object_add(show, "ids", pts_ids_json(&it->show_ids));
			for (k = i; k < n; k++) {
				struct pts_trakt_hist_item *a = &items[k];
				json_object *season = NULL, *eps, *ep;

				if (!trakt_by_show(a) || a->season < 0 || a->episode < 0 ||
				    !trakt_ids_equal(&a->show_ids, &it->show_ids))
					continue;
				/* Find this season among those already added. */
				for (m = 0; m < json_object_array_length(seasons); m++) {
					json_object *s = json_object_array_get_idx(seasons, m);

					if (pts_json_int(s, "number", -1) == a->season) {
						season = s;
						break;
					}
				}
				if (season == NULL) {
					season = json_object_new_object();
					pts_json_add_int(season, "number", a->season);
					json_object_object_add(season, "episodes",
					    json_object_new_array());
					json_object_array_add(seasons, season);
				}
				json_object_object_get_ex(season, "episodes", &eps);
				ep = json_object_new_object();
				pts_json_add_int(ep, "number", a->episode);
				trakt_add_watched_at(ep, a->watched_at);
				json_object_array_add(eps, ep);
			}
			json_object_object_add(show, "seasons", seasons);
			json_object_array_add(shows, show);
		}
	}
	pts_json_add_nonempty(body, "movies", movies);
	pts_json_add_nonempty(body, "shows", shows);
	pts_json_add_nonempty(body, "episodes", episodes);
	return body;
}

/* Flag items whose ids match an entry of a not_found list. */
static void
trakt_flag_not_found(json_object *list, struct pts_trakt_hist_item *items, size_t n,
    int kind, int by_show)
{
	size_t i, k, len = list ? json_object_array_length(list) : 0;

	for (k = 0; k < len; k++) {
		struct pts_ids nf;

		pts_trakt_parse_ids(pts_json_obj(json_object_array_get_idx(list, k), "ids"), &nf);
		if (pts_ids_empty(&nf))
			continue;
		for (i = 0; i < n; i++) {
			struct pts_trakt_hist_item *it = &items[i];

			if ((int)it->kind != kind || trakt_by_show(it) != by_show)
				continue;
			if (pts_ids_match(by_show ? &it->show_ids : &it->ids, &nf))
				it->not_found = 1;
		}
	}
}

/*
 * Episodes sent under a known show that Trakt could not find come back without ids: as
 * not_found.seasons [{number}] (no such season) or not_found.episodes [{number, watched_at}]
 * (no such episode). Match them by season/episode number (and minute, when given) among the
 * show-grouped items, flagging no more than Trakt's own count leaves unaccounted for.
 */
static void
trakt_flag_numbered(json_object *nf, struct pts_trakt_hist_item *items, size_t n,
    int64_t added_episodes)
{
	json_object *seasons = pts_json_arr(nf, "seasons"), *eps = pts_json_arr(nf, "episodes");
	int64_t sent = 0, flagged = 0, budget;
	size_t i, k;

	for (i = 0; i < n; i++)
		if (items[i].kind == PTS_TRAKT_EPISODE) {
			sent++;
			flagged += items[i].not_found != 0;
		}
	budget = sent - added_episodes - flagged;
	for (k = 0; budget > 0 && eps && k < json_object_array_length(eps); k++) {
		json_object *e = json_object_array_get_idx(eps, k);
		struct pts_ids ids;
		const char *wa = pts_json_str(e, "watched_at");
		int64_t num = pts_json_int(e, "number", -1), t = 0;

		pts_trakt_parse_ids(pts_json_obj(e, "ids"), &ids);
		if (!pts_ids_empty(&ids) || num < 0)
			continue;
		if (wa != NULL && pts_time_parse(wa, &t) != 0)
			t = 0;
		for (i = 0; i < n; i++) {
			struct pts_trakt_hist_item *it = &items[i];

			if (it->kind != PTS_TRAKT_EPISODE || !trakt_by_show(it) || it->not_found ||
			    it->episode != num || (t && it->watched_at / 60 != t / 60))
				continue;
			it->not_found = 1;
			budget--;
			break;
		}
	}
	for (k = 0; budget > 0 && seasons && k < json_object_array_length(seasons); k++) {
		int64_t num = pts_json_int(json_object_array_get_idx(seasons, k), "number", -1);

		for (i = 0; i < n && budget > 0; i++) {
			struct pts_trakt_hist_item *it = &items[i];

			if (it->kind == PTS_TRAKT_EPISODE && trakt_by_show(it) && !it->not_found &&
			    it->season == num) {
				it->not_found = 1;
				budget--;
			}
		}
	}
}

/*
 * A count of a write's answer, kept within 0..PTS_TRAKT_COUNT_MAX: a negative or absurd number
 * from the wire must not drive the arithmetic of trakt_flag_numbered() (found by fuzzing:
 * "episodes": -9e18 overflowed it).
 */
static int64_t
trakt_count(json_object *counts, const char *key)
{
	int64_t v = pts_json_int(counts, key, 0);

	return v < 0 ? 0 : v > PTS_TRAKT_COUNT_MAX ? PTS_TRAKT_COUNT_MAX : v;
}

int64_t
pts_trakt_count_sum(json_object *counts)
{
	return trakt_count(counts, "movies") + trakt_count(counts, "episodes");
}

int
pts_trakt_parse_sync_result(json_object *j, const char *count_key,
    struct pts_trakt_hist_item *items, size_t n, struct pts_trakt_hist_result *res)
{
	json_object *counts = pts_json_obj(j, count_key), *nf = pts_json_obj(j, "not_found");
	size_t i;

	memset(res, 0, sizeof(*res));
	if (counts == NULL)
		return -1;
	res->movies = trakt_count(counts, "movies");
	res->episodes = trakt_count(counts, "episodes");
	if (nf != NULL) {
		trakt_flag_not_found(pts_json_arr(nf, "movies"), items, n, PTS_TRAKT_MOVIE, 0);
		trakt_flag_not_found(pts_json_arr(nf, "episodes"), items, n, PTS_TRAKT_EPISODE, 0);
		trakt_flag_not_found(pts_json_arr(nf, "shows"), items, n, PTS_TRAKT_EPISODE, 1);
	}
	trakt_flag_numbered(nf, items, n, res->episodes);
	for (i = 0; i < n; i++)
		res->not_found += items[i].not_found != 0;
	return 0;
}

static enum pts_http_result
trakt_history_write(struct pts_trakt *t, const char *path, const char *count_key,
    struct pts_trakt_hist_item *items, size_t n, struct pts_trakt_hist_result *res)
{
	struct pts_http_resp resp;
	enum pts_http_result r;
	json_object *body;

	memset(res, 0, sizeof(*res));
	if (n > PTS_TRAKT_BATCH_MAX) {
		PTS_ERROR("Trakt: a history batch of %zu items is over %d", n, PTS_TRAKT_BATCH_MAX);
		return PTS_HTTP_BAD_RESPONSE;
	}
	body = pts_trakt_history_body(items, n);
	if (body == NULL)
		return PTS_HTTP_NETWORK;
	if (json_object_object_length(body) == 0) {
		/* Nothing sendable: every item is already flagged. */
		json_object_put(body);
		res->not_found = n;
		return PTS_HTTP_OK;
	}
	r = pts_trakt_call(t, "POST", path, NULL, body, PTS_HTTP_NON_IDEMPOTENT, &resp);
	json_object_put(body);
	if (r == PTS_HTTP_OK &&
	    pts_trakt_parse_sync_result(resp.json, count_key, items, n, res) != 0) {
		/* It was applied (2xx) but we cannot tell what was found: treat as unknown. */
		PTS_ERROR("Trakt: %s answer has no '%s' counts: outcome unknown", path, count_key);
		r = PTS_HTTP_UNKNOWN;
	} else if (r == PTS_HTTP_BAD_RESPONSE && resp.status >= 200 && resp.status < 300) {
		r = PTS_HTTP_UNKNOWN;
	}
	res->status = resp.status;
	pts_http_resp_free(&resp);
	return r;
}

enum pts_http_result
pts_trakt_history_add(struct pts_trakt *t, struct pts_trakt_hist_item *items, size_t n,
    struct pts_trakt_hist_result *res)
{
	return trakt_history_write(t, "/sync/history", "added", items, n, res);
}

enum pts_http_result
pts_trakt_history_remove(struct pts_trakt *t, struct pts_trakt_hist_item *items, size_t n,
    struct pts_trakt_hist_result *res)
{
	return trakt_history_write(t, "/sync/history/remove", "deleted", items, n, res);
}

enum pts_http_result
pts_trakt_history_remove_ids(struct pts_trakt *t, const int64_t *ids, size_t n,
    int64_t *deleted)
{
	return pts_trakt_history_remove_ids_nf(t, ids, n, deleted, NULL);
}

enum pts_http_result
pts_trakt_history_remove_ids_nf(struct pts_trakt *t, const int64_t *ids, size_t n,
    int64_t *deleted, unsigned char *missing)
{
	struct pts_http_resp resp;
	enum pts_http_result r;
	json_object *body, *arr;
	size_t i, k;

	*deleted = 0;
	if (missing != NULL && n > 0)
		memset(missing, 0, n);
	if (n == 0)
		return PTS_HTTP_OK;
	if (n > PTS_TRAKT_BATCH_MAX)
		return PTS_HTTP_BAD_RESPONSE;
	body = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_int64(ids[i]));
	json_object_object_add(body, "ids", arr);
	/* Removing a play by its id is idempotent (a second time it is not_found): retry. */
	r = pts_trakt_call(t, "POST", "/sync/history/remove", NULL, body, 0, &resp);
	json_object_put(body);
	if (r == PTS_HTTP_OK) {
		json_object *d = pts_json_obj(resp.json, "deleted");
		json_object *nf = pts_json_arr(pts_json_obj(resp.json, "not_found"), "ids");

		if (d == NULL)
			r = PTS_HTTP_UNKNOWN;
		else
			*deleted = pts_trakt_count_sum(d);   /* clamped: no overflow */
		for (k = 0; r == PTS_HTTP_OK && missing != NULL && nf != NULL &&
		    k < json_object_array_length(nf); k++) {
			int64_t id = json_object_get_int64(json_object_array_get_idx(nf, k));

			for (i = 0; i < n; i++)
				if (ids[i] == id)
					missing[i] = 1;
		}
	}
	pts_http_resp_free(&resp);
	return r;
}

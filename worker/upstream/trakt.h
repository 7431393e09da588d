/*
 * trakt.h - the Trakt API's data: watched state, history, last activities, history writes.
 *
 * The client, its tokens and the request every call goes through are in trakt_auth.h;
 * this module is the data on top of them.
 *
 * Lists (/sync/watched/..., /sync/history) are read page by page (limit 250, the maximum) for
 * as many pages as X-Pagination-Page-Count says (one when absent), and parsed into compact
 * arrays; no JSON is kept after its page is parsed.
 *
 * History writes are not idempotent (Trakt does not de-duplicate): a timeout, a dropped
 * answer or a 5xx answers PTS_HTTP_UNKNOWN and is never re-sent here. Items Trakt could not
 * find are flagged on the caller's items (not_found = 1).
 *
 * Ownership: result arrays are the caller's, freed with their *_free() (NULL safe, zeroed after).
 */
#ifndef PTS_TRAKT_H
#define PTS_TRAKT_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "guid.h"
#include "http.h"
#include "trakt_auth.h"

/* Items per page asked for (Trakt's maximum since 2026; larger values are clamped). */
#define PTS_TRAKT_PAGE_LIMIT 250
/* Pages per listing before we call it a loop (250 * 4000 = 1M entries). */
#define PTS_TRAKT_MAX_PAGES 4000
/* Most movies, shows or plays kept from one listing (what those pages can hold). */
#define PTS_TRAKT_ENTRIES_MAX ((size_t)PTS_TRAKT_PAGE_LIMIT * PTS_TRAKT_MAX_PAGES)
/* Most watched episodes kept across the shows of one listing (a few per show and more). */
#define PTS_TRAKT_EPISODES_MAX ((size_t)4 * PTS_TRAKT_ENTRIES_MAX)
/* Titles longer than this are cut (they are shown and logged, never matched on). */
#define PTS_TRAKT_TITLE_MAX 512
/* Largest added/deleted count believed from a write's answer (far above any account's plays). */
#define PTS_TRAKT_COUNT_MAX 100000000
/* Most items in one history write (callers send about 100; see UPSTREAM.md). */
#define PTS_TRAKT_BATCH_MAX 1000


/* ==== Reads ==== */

/* GET /users/settings → user.username (malloc'd). */
enum pts_http_result pts_trakt_user(struct pts_trakt *t, char **username);

/* GET /sync/last_activities: epoch milliseconds (Trakt's stamps have them), 0 when absent. */
struct pts_trakt_activities {
	int64_t all;
	int64_t movies_watched_at, movies_rated_at, movies_watchlisted_at, movies_collected_at,
	    movies_paused_at;
	int64_t episodes_watched_at, episodes_rated_at, episodes_watchlisted_at,
	    episodes_collected_at, episodes_paused_at;
	int64_t shows_rated_at, shows_watchlisted_at, seasons_rated_at, seasons_watchlisted_at;
	int64_t watchlist_updated_at;        /* watchlist.updated_at: moves on removals too */
};
enum pts_http_result pts_trakt_last_activities(struct pts_trakt *t,
    struct pts_trakt_activities *a);
int pts_trakt_parse_last_activities(json_object *j, struct pts_trakt_activities *a);

struct pts_trakt_movie {
	struct pts_ids ids;
	char *title;             /* malloc'd, may be NULL */
	int year;
	int plays;
	int64_t last_watched_at;
};
struct pts_trakt_movies {
	struct pts_trakt_movie *v;
	size_t n, cap;
};

struct pts_trakt_ep {
	int season;
	int number;
	int plays;
	int64_t last_watched_at;
};
struct pts_trakt_show {
	struct pts_ids ids;
	char *title;
	int year;
	int plays;
	int64_t last_watched_at;
	int64_t reset_at;        /* 0 when null */
	size_t ep_first;         /* its episodes: eps[ep_first .. ep_first + ep_count) */
	size_t ep_count;
};
struct pts_trakt_shows {
	struct pts_trakt_show *v;
	size_t n, cap;
	struct pts_trakt_ep *eps;
	size_t neps, epcap;
};

/* GET /sync/watched/movies, every page. */
enum pts_http_result pts_trakt_watched_movies(struct pts_trakt *t, struct pts_trakt_movies *out);
/* GET /sync/watched/shows?extended=progress, every page. */
enum pts_http_result pts_trakt_watched_shows(struct pts_trakt *t, struct pts_trakt_shows *out);
/* Append one page (pure). 0 or -1 when it is not an array of the right shape. */
int pts_trakt_parse_watched_movies(json_object *page, struct pts_trakt_movies *out);
int pts_trakt_parse_watched_shows(json_object *page, struct pts_trakt_shows *out);
void pts_trakt_movies_free(struct pts_trakt_movies *m);
void pts_trakt_shows_free(struct pts_trakt_shows *s);

/* One play from /sync/history. */
struct pts_trakt_play {
	int64_t history_id;
	int64_t watched_at;
	int is_episode;
	char action[12];         /* "scrobble", "checkin", "watch" */
	char *title;             /* movie or episode title (malloc'd, may be NULL) */
	char *show_title;        /* episodes */
	int year;                /* movie's, or the show's */
	int season, episode;     /* -1 for movies */
	struct pts_ids ids;      /* movie's or episode's */
	struct pts_ids show_ids;
};
struct pts_trakt_plays {
	struct pts_trakt_play *v;
	size_t n, cap;
};

/*
 * GET /sync/history[/movies|/episodes] (kind NULL, "movies" or "episodes"), newest first,
 * between start_at and end_at (0: unbounded). max_items > 0 stops after that many (and asks
 * for pages of that size when smaller than the limit); 0 reads every page.
 */
enum pts_http_result pts_trakt_history(struct pts_trakt *t, const char *kind, int64_t start_at,
    int64_t end_at, size_t max_items, struct pts_trakt_plays *out);
int pts_trakt_parse_history(json_object *page, size_t max_items, struct pts_trakt_plays *out);
void pts_trakt_plays_free(struct pts_trakt_plays *p);

/*
 * The page after `page` given the X-Pagination-Page-Count header (-1: absent, one page) and
 * the items that page held; 0 when the listing is complete.
 */
int pts_trakt_next_page(int page, int64_t page_count, size_t items);

/* ==== Writes ==== */

enum pts_trakt_kind {
	PTS_TRAKT_MOVIE,
	PTS_TRAKT_EPISODE
};

struct pts_trakt_hist_item {
	enum pts_trakt_kind kind;
	struct pts_ids ids;      /* the movie's, or the episode's own (sent as episodes[]) */
	struct pts_ids show_ids; /* episodes without own ids: sent as shows[].seasons[].episodes[] */
	int season, episode;
	int64_t watched_at;      /* epoch; 0: not sent (a remove then takes every play) */
	int not_found;           /* out: Trakt did not find it, or it had no ids to send */
};

struct pts_trakt_hist_result {
	int64_t movies;          /* added (or deleted) */
	int64_t episodes;
	size_t not_found;        /* items flagged */
	long status;             /* the last HTTP status of the write, 0 when none arrived */
};

/*
 * The body for POST /sync/history[/remove] (pure): movies[] with ids (+ watched_at as
 * "YYYY-MM-DDTHH:MM:SSZ"), episodes with own ids in episodes[], the rest grouped under
 * shows[].seasons[].episodes[] by show ids in first-seen order. Items with nothing to send
 * are flagged not_found. Returns a new object (caller puts it); NULL on OOM.
 */
json_object *pts_trakt_history_body(struct pts_trakt_hist_item *items, size_t n);

/* Add plays. UNKNOWN: may have been applied; look at the history before sending again. */
enum pts_http_result pts_trakt_history_add(struct pts_trakt *t, struct pts_trakt_hist_item *items,
    size_t n, struct pts_trakt_hist_result *res);
/* Remove plays of the items (every play of an item when its watched_at is 0). */
enum pts_http_result pts_trakt_history_remove(struct pts_trakt *t,
    struct pts_trakt_hist_item *items, size_t n, struct pts_trakt_hist_result *res);
/* Remove plays by history id. */
enum pts_http_result pts_trakt_history_remove_ids(struct pts_trakt *t, const int64_t *ids,
    size_t n, int64_t *deleted);
/*
 * The same, and missing[i] (n bytes, may be NULL) = 1 for each id Trakt listed in
 * not_found.ids (already gone). Removing by id is idempotent, so failed attempts are retried.
 */
enum pts_http_result pts_trakt_history_remove_ids_nf(struct pts_trakt *t, const int64_t *ids,
    size_t n, int64_t *deleted, unsigned char *missing);

/*
 * Read an add/remove answer (pure): count_key "added" or "deleted"; flags items named in
 * not_found. 0 or -1 when malformed.
 */
int pts_trakt_parse_sync_result(json_object *j, const char *count_key,
    struct pts_trakt_hist_item *items, size_t n, struct pts_trakt_hist_result *res);

/*
 * movies + episodes of a write answer's counts object ("added" / "deleted") (pure), each
 * clamped to 0..PTS_TRAKT_COUNT_MAX first, so numbers from the wire cannot overflow the sum.
 */
int64_t pts_trakt_count_sum(json_object *counts);

/* Parse a Trakt ids object (pure): bad or empty imdb ids are dropped. */
void pts_trakt_parse_ids(json_object *ids, struct pts_ids *out);


#endif

/*
 * trakt_lists.h - Trakt's ratings, watchlist and playback progress (on the trakt.h client).
 *
 *   GET  /sync/ratings, /sync/watchlist   every page, as compact entries
 *   GET  /sync/playback                   resume points (percent + paused_at)
 *   POST /sync/ratings[/remove], /sync/watchlist[/remove]   batches of items
 *   POST /scrobble/pause                  one resume point (Trakt stamps paused_at "now")
 *
 * These writes are idempotent (an item has one rating, one watchlist entry, one resume point),
 * so unlike history writes they are retried like reads, and an unknown outcome only means the
 * next sync decides again from what Trakt then shows.
 *
 * Ownership: lists are the caller's, freed with pts_tlist_free() (NULL safe, zeroed after).
 */
#ifndef PTS_TRAKT_LISTS_H
#define PTS_TRAKT_LISTS_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "guid.h"
#include "http.h"
#include "trakt.h"

/* Entries read from one list before we call it a runaway (an account's lists are small). */
#define PTS_TLIST_MAX_ENTRIES 200000
/* Items per ratings / watchlist POST (the history batch size; see UPSTREAM.md). */
#define PTS_TLIST_BATCH 100

enum pts_tlist_kind {
	PTS_TLIST_MOVIE,
	PTS_TLIST_SHOW,
	PTS_TLIST_SEASON,
	PTS_TLIST_EPISODE
};

/* Longest movie or show title kept from a list entry (a discover search needs it). */
#define PTS_TLIST_TITLE_LEN 128

struct pts_tlist_entry {
	enum pts_tlist_kind kind;
	struct pts_ids ids;          /* the movie's or the show's (seasons, episodes: their show) */
	int season, episode;         /* -1 when not given */
	int rating;                  /* ratings: 1..10; else 0 */
	double progress;             /* playback: percent 0..100; else 0 */
	int64_t at;                  /* rated_at, listed_at or paused_at (epoch); 0 when absent */
	int64_t id;                  /* playback or watchlist entry id; 0 when absent */
	char title[PTS_TLIST_TITLE_LEN]; /* movies and shows: the title ("" when absent) */
	int year;                    /* movies and shows: 0 when absent */
};

struct pts_tlist {
	struct pts_tlist_entry *v;
	size_t n, cap;
};

/* GET /sync/ratings (every type, every page). */
enum pts_http_result pts_tlist_ratings(struct pts_trakt *t, struct pts_tlist *out);
/* GET /sync/watchlist (every type, every page). */
enum pts_http_result pts_tlist_watchlist(struct pts_trakt *t, struct pts_tlist *out);
/* GET /sync/playback. */
enum pts_http_result pts_tlist_playback(struct pts_trakt *t, struct pts_tlist *out);

/* Append one page of any of the three lists (pure). Entries of unknown types are skipped.
 * Returns the entries on the page, or -1 when it is not an array. */
int pts_tlist_parse(json_object *page, struct pts_tlist *out);
void pts_tlist_free(struct pts_tlist *l);

/* ==== Writes ==== */

/* One item of a ratings / watchlist write. */
struct pts_tlist_item {
	enum pts_tlist_kind kind;    /* MOVIE, SHOW or EPISODE */
	struct pts_ids ids;          /* the movie's or the show's (episodes: their show's) */
	int season, episode;         /* episodes */
	int rating;                  /* ratings add: 1..10; 0 = not sent */
	int64_t at;                  /* rated_at; 0 = not sent (Trakt takes "now") */
	int not_found;               /* out: Trakt did not find it (or there was nothing to send) */
};

/*
 * The body (pure): movies[] {ids, rating?, rated_at?}; shows[] {ids, ...} for whole shows;
 * episodes under shows[] {ids, seasons: [{number, episodes: [{number, ...}]}]}, one show
 * object per show. Items without ids are flagged not_found. New object, or NULL on OOM.
 */
json_object *pts_tlist_body(struct pts_tlist_item *items, size_t n);

/* Flag items named in an answer's not_found (pure). 0, or -1 when count_key is missing. */
int pts_tlist_parse_result(json_object *j, const char *count_key, struct pts_tlist_item *items,
    size_t n);

/*
 * POST /sync/<list> or /sync/<list>/remove (list "ratings" or "watchlist", remove 0/1) with at
 * most PTS_TLIST_BATCH items. OK: items not found are flagged; anything else: nothing known.
 * *status (may be NULL) gets the last HTTP status, 0 when none arrived.
 */
enum pts_http_result pts_tlist_write(struct pts_trakt *t, const char *list, int remove,
    struct pts_tlist_item *items, size_t n, long *status);

/* The statuses that refuse a kind of data for the account: never retried, the run goes on. */
#define PTS_TLIST_ACCOUNT_LIMIT 420     /* a cap of a free account was reached */
#define PTS_TLIST_LOCKED 423            /* the account is locked */
#define PTS_TLIST_VIP_ONLY 426          /* VIP only */
/* 1 when status is one of the three above. */
int pts_tlist_refused(long status);

/*
 * The account's cap for list ("watchlist", "ratings", ...): limits.<list>.item_count of
 * GET /users/settings into *cap (0 when the answer names none). PTS_HTTP_OK or the failure.
 */
enum pts_http_result pts_tlist_limit(struct pts_trakt *t, const char *list, int64_t *cap);

/* The limit's item_count in a /users/settings answer (pure): the count, or 0 when absent. */
int64_t pts_tlist_parse_limit(json_object *settings, const char *list);

/*
 * DELETE /sync/playback/{id}: remove one resume point (idempotent: retried like a read).
 * *status gets the last HTTP status (404: it is gone already).
 */
enum pts_http_result pts_tlist_playback_remove(struct pts_trakt *t, int64_t id, long *status);

/* POST /scrobble/pause: the item's resume point becomes progress (percent). 404: not found. */
enum pts_http_result pts_tlist_pause(struct pts_trakt *t, const struct pts_tlist_item *it,
    double progress, long *status);

#endif

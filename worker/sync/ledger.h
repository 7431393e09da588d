/*
 * ledger.h - what a run changed (or, in a dry run, would change), and the no-duplicate
 * ledger of every write to Trakt and Plex.
 *
 * A write to Trakt is a batch: the batch row and one `changes` row per item are stored as
 * 'pending' BEFORE the request is sent, and settled ('done', 'not_found', 'failed') after,
 * in the caller's transaction that also advances progress. A batch whose answer never came
 * (crash, timeout, 5xx) stays 'pending' or becomes 'unknown' until the engine has checked
 * Trakt's history for its plays; until then its items are never planned again.
 *
 * The functions here only read and write rows; transactions are the caller's.
 */
#ifndef PTS_LEDGER_H
#define PTS_LEDGER_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "guid.h"

#define PTS_ACT_ADD_PLAY_TRAKT "add_play_trakt"
#define PTS_ACT_MARK_WATCHED_PLEX "mark_watched_plex"

/* Longest canonical item key ("episode:tvdb:81189:1:1", "movie:imdb:tt0111161", ...). */
#define PTS_LEDGER_KEY_LEN 96

struct pts_change {
	const char *action;      /* PTS_ACT_* */
	const char *type;        /* "movie" | "episode" */
	const char *item_key;    /* canonical identity; see pts_ledger_key_* */
	const char *title;       /* episode title or movie title */
	const char *show;        /* episodes: the show's title; else NULL */
	int season, episode;     /* -1 when not an episode */
	int year;                /* 0 when unknown */
	int64_t watched_at;      /* epoch seconds; 0 when none */
	const char *ids;         /* JSON text: the ids sent upstream (movie or show ids) */
};

/* Open a batch for a service ("trakt"). *batch_id set. 0 or -1. */
int pts_ledger_open_batch(sqlite3 *db, int64_t run_id, const char *service, int64_t *batch_id);

/* Record one change with a result ('planned', 'pending', 'done', ...). batch_id 0: none. */
int pts_ledger_record(sqlite3 *db, int64_t run_id, int64_t batch_id, const struct pts_change *c,
    const char *result, int64_t *change_id);

/* Set one change's result (and settled_at). 0 or -1. */
int pts_ledger_set_result(sqlite3 *db, int64_t change_id, const char *result);

/* Set every still-pending change of a batch to result, and the batch to state. 0 or -1. */
int pts_ledger_settle_batch(sqlite3 *db, int64_t batch_id, const char *result, const char *state);

/*
 * 1 when this action on this item at this minute was already done, or is in a batch whose
 * outcome is not known yet (pending/unknown) — either way it must not be sent again. A change
 * an undo took back (undone_by set) no longer counts. 0 when not, -1 on a database error.
 */
int pts_ledger_blocked(sqlite3 *db, const char *action, const char *item_key, int64_t watched_at);

/* Canonical keys: "movie:imdb:tt..." (imdb, then tmdb, then trakt) and
 * "episode:<show id>:S:E" (tvdb, then imdb, then tmdb, then trakt). 0, or -1 with no id. */
int pts_ledger_key_movie(const struct pts_ids *ids, char *buf, size_t len);
int pts_ledger_key_episode(const struct pts_ids *show, int season, int episode, char *buf,
    size_t len);

/* Round an epoch down to the minute (Trakt stores watched_at to the minute). */
int64_t pts_ledger_minute(int64_t t);

#endif

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
 * The row functions only read and write rows; transactions are the caller's. The batch
 * functions (pts_ledger_batch_*) are the one way a write goes out: each holds its own
 * transaction.
 */
#ifndef PTS_LEDGER_H
#define PTS_LEDGER_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "guid.h"
#include "run.h"

#define PTS_ACT_ADD_PLAY_TRAKT "add_play_trakt"
#define PTS_ACT_MARK_WATCHED_PLEX "mark_watched_plex"

/* Longest canonical item key ("episode:tvdb:81189:1:1", "movie:imdb:tt0111161", ...). */
#define PTS_LEDGER_KEY_LEN 96

/* changes.result: what became of one change. */
enum pts_ledger_result {
	PTS_LEDGER_PLANNED,      /* a dry run's: never sent */
	PTS_LEDGER_PENDING,      /* stored before the request; its answer not yet known */
	PTS_LEDGER_DONE,
	PTS_LEDGER_NOT_FOUND,    /* the service does not know the item */
	PTS_LEDGER_FAILED,       /* not applied: may be planned again */
	PTS_LEDGER_UNKNOWN       /* the answer was lost: check before sending again */
};

/* batches.state. */
enum pts_batch_state {
	PTS_BATCH_PENDING,       /* stored, being sent */
	PTS_BATCH_UNKNOWN,       /* no answer came: reconcile.c looks it up */
	PTS_BATCH_SETTLED
};

/* The stored names ("pending", "not_found", ...), from the one table in ledger.c. */
const char *pts_ledger_result_name(enum pts_ledger_result r);
const char *pts_batch_state_name(enum pts_batch_state s);
/* A stored name back to its value. 0, or -1 when s is no result (or batch state). */
int pts_ledger_result_parse(const char *s, enum pts_ledger_result *out);
int pts_batch_state_parse(const char *s, enum pts_batch_state *out);

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
	const char *detail;      /* JSON text kept with it (a rating's value...), or NULL */
};

/* Open a batch for a service ("trakt"). *batch_id set. 0 or -1. */
int pts_ledger_open_batch(sqlite3 *db, int64_t run_id, const char *service, int64_t *batch_id);

/* Record one change with a result. batch_id 0: none. *change_id (may be NULL) set. 0 or -1. */
int pts_ledger_record(sqlite3 *db, int64_t run_id, int64_t batch_id, const struct pts_change *c,
    enum pts_ledger_result result, int64_t *change_id);

/* Set one change's result (and settled_at). 0 or -1. */
int pts_ledger_set_result(sqlite3 *db, int64_t change_id, enum pts_ledger_result result);

/* One change's result into *out. 0, 1 when there is no such change, -1 on error. */
int pts_ledger_get_result(sqlite3 *db, int64_t change_id, enum pts_ledger_result *out);

/* Set every still-pending (or unknown) change of a batch to result, the batch to state. */
int pts_ledger_settle_batch(sqlite3 *db, int64_t batch_id, enum pts_ledger_result result,
    enum pts_batch_state state);

/* Set the batch's state alone (PTS_BATCH_UNKNOWN when its answer was lost). 0 or -1. */
int pts_ledger_batch_state(sqlite3 *db, int64_t batch_id, enum pts_batch_state state);

/* ==== Writing a batch ==== */

/*
 * Before the request: in one transaction, a pending batch of service for run and one
 * pending change per c[0..n), their ids into *batch_id and change_ids[0..n). 0 or -1.
 */
int pts_ledger_batch_open(sqlite3 *db, const struct pts_run *run, const char *service,
    const struct pts_change *c, size_t n, int64_t *batch_id, int64_t *change_ids);

/*
 * After the service answered: in one transaction, change i done, or not_found when
 * not_found[i] (NULL: none), anything else of the batch failed, the batch settled; the
 * run counts the items (done ones in *done, e.g. &run->added_to_trakt, or NULL; not found
 * ones in run->not_found) and its counters are saved with them. 0, or -1 (rolled back,
 * counters untouched).
 */
int pts_ledger_batch_settle(sqlite3 *db, struct pts_run *run, int64_t batch_id,
    const int64_t *change_ids, const unsigned char *not_found, size_t n, int64_t *done);

/*
 * No usable answer: the batch's changes get result (PTS_LEDGER_FAILED when the service
 * refused it or it never got there, PTS_LEDGER_UNKNOWN when it may have been applied), the
 * batch is settled, run->errors grows by n and is saved. 0 or -1.
 */
int pts_ledger_batch_fail(sqlite3 *db, struct pts_run *run, int64_t batch_id,
    enum pts_ledger_result result, size_t n);

/* A batch that was never sent (cancelled while waiting its turn): forgotten with its changes. */
void pts_ledger_batch_drop(sqlite3 *db, int64_t batch_id);

/*
 * 1 when this action on this item at this minute was already done, or is in a batch whose
 * outcome is not known yet (pending/unknown) — either way it must not be sent again. A change
 * an undo took back (undone_by set) no longer counts. 0 when not, -1 on a database error.
 */
int pts_ledger_blocked(sqlite3 *db, const char *action, const char *item_key, int64_t watched_at);

/*
 * How long Trakt's "not_found" for a play stands: the same item and minute is not sent again
 * before then (Trakt's catalog does not learn an id overnight, and a resend is a write that
 * counts against the account's pace); a --full run sends it anyway.
 */
#define PTS_LEDGER_NOT_FOUND_HOLD_S (7 * 86400)

/*
 * 1 when Trakt answered not_found for this action on this item at this minute at or after
 * since (a settled change), 0 when not, -1 on a database error.
 */
int pts_ledger_not_found_since(sqlite3 *db, const char *action, const char *item_key,
    int64_t watched_at, int64_t since);

/*
 * The "same viewing" window after a play of an item: its running time plus a quarter of it
 * (pauses; Plex stamps its view a few minutes after the last session poll), at least
 * PTS_LEDGER_SAME_MIN_S when the running time is unknown or short. A play of the same item
 * reported inside it (by the live scrobbler or a webhook) is the same viewing; a rewatch
 * hours later is not.
 */
#define PTS_LEDGER_SAME_MIN_S (30 * 60)
#define PTS_LEDGER_SAME_VIEWING_S(run_s) \
	((run_s) + (run_s) / 4 > PTS_LEDGER_SAME_MIN_S ? (run_s) + (run_s) / 4 : \
	PTS_LEDGER_SAME_MIN_S)

/*
 * 1 when the ledger holds a play (done, or not known yet, not undone) of item_key within the
 * same-viewing window of an item of run_s seconds before or after t: either may be reported
 * first (Plex stamps its view minutes after the live stop; a sync may record Plex's view
 * before the scrobbler sees the session end). 0 when not, -1 on a database error.
 */
int pts_ledger_same_viewing(sqlite3 *db, const char *item_key, int64_t t, int64_t run_s);

/*
 * 1 when a play at play_at (0: none) and a view reported at t of an item of run_s seconds
 * are the same viewing: play_at within PTS_LEDGER_SAME_VIEWING_S(run_s) before or after t.
 * Pure: the sync asks it of Trakt's last play of an
 * item (the watched state it has read) before it adds a later Plex view as a rewatch.
 */
int pts_ledger_same_viewing_at(int64_t play_at, int64_t t, int64_t run_s);

/*
 * pts_ledger_batch_open for plays to Trakt (action add_play_trakt), with the same-viewing
 * check inside the same write transaction: BEGIN IMMEDIATE holds SQLite's write lock from
 * the check to the record, so of two writers (the live scrobbler's stop, a webhook, a
 * sync's batch) reporting one viewing at the same moment, the second always sees the
 * first's pending play. A play c[i] whose item the ledger already holds within the window
 * of run_s[i] seconds around c[i].watched_at (pts_ledger_same_viewing) is not recorded:
 * skipped[i] = 1 and change_ids[i] = 0. *batch_id is 0 when every play was skipped (no
 * batch is stored then). 0 or -1.
 */
int pts_ledger_batch_open_plays(sqlite3 *db, const struct pts_run *run,
    const struct pts_change *c, const int64_t *run_s, size_t n, int64_t *batch_id,
    int64_t *change_ids, unsigned char *skipped);

/*
 * 1 when the ledger holds a mark of Plex item rating_key as watched (done) settled at or after
 * t - PTS_LEDGER_MARK_SLACK_S: Plex's view stamped at t was ours, not a viewing. 0 when not,
 * -1 on a database error.
 */
#define PTS_LEDGER_MARK_SLACK_S 60
int pts_ledger_plex_marked(sqlite3 *db, const char *rating_key, int64_t t);

/* Canonical keys: "movie:imdb:tt..." (imdb, then tmdb, then trakt) and
 * "episode:<show id>:S:E" (tvdb, then imdb, then tmdb, then trakt). 0, or -1 with no id. */
int pts_ledger_key_movie(const struct pts_ids *ids, char *buf, size_t len);
int pts_ledger_key_episode(const struct pts_ids *show, int season, int episode, char *buf,
    size_t len);

/* Round an epoch down to the minute (Trakt stores watched_at to the minute). */
int64_t pts_ledger_minute(int64_t t);

#endif

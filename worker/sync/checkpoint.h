/*
 * checkpoint.h - what the last good sync saw, so a resync with nothing new can skip the
 * heavy reads (the incremental run).
 *
 * Stored as JSON in meta `sync_checkpoint` after a successful non-dry run: Trakt's
 * watched timestamps (from /sync/last_activities, read after our own writes), the Plex time
 * from which views count as new, the libraries and direction it covered, and when the last
 * full read happened (a full read is forced at least every PTS_CKPT_FULL_EVERY_S, which also
 * catches items added to Plex that nothing else would show).
 *
 * Each kind of data (watched, ratings, watchlist, playback) is in step on its own: `kinds`
 * says which were when the checkpoint was stored, with the marks their quick check compares
 * (incremental.h): Trakt's last_activities stamps per kind (epoch ms), and for the account
 * watchlist its size and newest watchlistedAt. A kind not in `kinds` is read in full.
 */
#ifndef PTS_CHECKPOINT_H
#define PTS_CHECKPOINT_H

#include <sqlite3.h>
#include <stdint.h>

#define PTS_CKPT_FULL_EVERY_S (24 * 3600)
#define PTS_CKPT_LIBS_LEN 1024
/* The features' settings as one text ("newest|account|Watchlist|50"): a change reads all. */
#define PTS_CKPT_CFG_LEN 512

/* The kinds of data, as bits of pts_ckpt.kinds. */
#define PTS_CKPT_WATCHED 0x1u
#define PTS_CKPT_RATINGS 0x2u
#define PTS_CKPT_WATCHLIST 0x4u
#define PTS_CKPT_PLAYBACK 0x8u

struct pts_ckpt {
	unsigned kinds;                   /* PTS_CKPT_* in step (an old checkpoint: watched) */
	int64_t movies_watched_at;
	int64_t episodes_watched_at;
	int64_t ratings_at, watchlist_at, playback_at;   /* Trakt's stamps per kind (ms) */
	int64_t pwl_total, pwl_newest;    /* the account watchlist: totalSize, newest entry */
	char feat_cfg[PTS_CKPT_CFG_LEN];  /* the features' settings then (incremental.h) */
	int64_t plex_since;
	int64_t full_at;
	char libs[PTS_CKPT_LIBS_LEN];     /* selected library keys, comma-separated */
	char direction[32];
};

/* Load it: 1 when there is one, 0 when none (or unreadable), -1 on a database error. */
int pts_ckpt_load(sqlite3 *db, struct pts_ckpt *c);
int pts_ckpt_store(sqlite3 *db, const struct pts_ckpt *c);
/* Forget it (settings or libraries changed in a way that needs a full read). */
int pts_ckpt_clear(sqlite3 *db);

#endif

/*
 * incremental.h - which kinds of data moved since the last sync that left them in step,
 * asked in a handful of calls (docs/DESIGN.md, "The sync, in API calls"; the marks are kept
 * in the checkpoint, checkpoint.h):
 *
 *   Trakt    GET /sync/last_activities: each kind's stamps (ms) against the checkpoint's
 *   Plex     GET /library/all?type=1|4&lastViewedAt>>=SINCE, size 0: views and resume points
 *            GET /library/all?type=1|2|3|4&lastRatedAt>>=SINCE, size 0: ratings
 *   plex.tv  the account watchlist's newest entry (one page of one): its totalSize and
 *            watchlistedAt against the checkpoint's
 *
 * A kind whose marks moved on neither side is left out of the run. A kind turned on since,
 * one the last run did not leave in step, other features' settings, or (checked by the
 * engine) other libraries, another direction or a checkpoint older than
 * PTS_CKPT_FULL_EVERY_S read everything. The watchlist as a server collection has no cheap
 * mark: with that setting it is read every time.
 */
#ifndef PTS_INCREMENTAL_H
#define PTS_INCREMENTAL_H

#include <sqlite3.h>
#include <stdint.h>

#include "checkpoint.h"
#include "http.h"
#include "plex.h"
#include "trakt.h"

/* The features' settings as one text into buf (pts_ckpt.feat_cfg). */
void pts_incr_feat_cfg(sqlite3 *db, char *buf, size_t len);

/* 1 when the watchlist's Plex side is the account's (it has cheap marks), else 0. */
int pts_incr_account_watchlist(sqlite3 *db);

/*
 * The kinds of want (PTS_CKPT_* bits) that moved since ck into *moved, asking only what is
 * needed (a kind known to have moved asks nothing more). *acts gets Trakt's stamps (zeroed
 * when they were not needed). PTS_HTTP_OK, or the failing call's result (*moved = want).
 */
enum pts_http_result pts_incr_moved(sqlite3 *db, struct pts_plex *plex,
    struct pts_trakt *trakt, const struct pts_ckpt *ck, unsigned want,
    struct pts_trakt_activities *acts, unsigned *moved);

/* Trakt's stamp (ms) of one kind (a PTS_CKPT_* bit but watched): the newest of its parts. */
int64_t pts_incr_trakt_mark(const struct pts_trakt_activities *a, unsigned kind);

/* The account watchlist's marks now: totalSize and the newest watchlistedAt (one call). */
enum pts_http_result pts_incr_pwl_marks(struct pts_plex *plex, int64_t *total,
    int64_t *newest);

#endif

/*
 * reconcile.h - settle Trakt batches whose outcome is not known, from Trakt's history.
 *
 * A history POST that crashed mid-way, timed out or got a 5xx may or may not have been
 * applied. Before any of its items can be sent again, their plays are looked up in
 * GET /sync/history between start_at and end_at around their watched_at times (grouped into
 * short windows so an account's whole history is never read): a play of the same item at
 * the same minute means 'done', none means 'failed' (safe to plan again).
 */
#ifndef PTS_RECONCILE_H
#define PTS_RECONCILE_H

#include <stdint.h>

#include "run.h"
#include "trakt.h"
#include "wctx.h"

/* Longest span of watched_at times read with one history query. */
#define PTS_RECONCILE_WINDOW_S (3 * 86400)

/*
 * Settle one batch. run (may be NULL) gets the plays found counted when they belong to it.
 * 0 settled, 1 could not reach Trakt (batch left 'unknown'), -1 database error.
 */
int pts_reconcile_batch(struct pts_wctx *w, struct pts_trakt *t, int64_t batch_id,
    struct pts_run *run);

/*
 * A pending batch of another run that is still running (the live scrobbler's stop, a
 * webhook's play) and younger than this is in flight, not lost: its answer has not come
 * yet, so looking it up now would find nothing and free its items to be sent twice. Longer
 * than any one call with its retries; an older one is taken for a crashed process's.
 */
#define PTS_RECONCILE_INFLIGHT_S (15 * 60)

/*
 * Settle every pending/unknown Trakt batch from earlier runs (not one in flight, above).
 * Same returns.
 */
int pts_reconcile_all(struct pts_wctx *w, struct pts_trakt *t, struct pts_run *run);

#endif

/*
 * playwrite.h - the watched-state writes of one sync run, after the engine made its plan.
 *
 * Plays go to Trakt's history in batches through the ledger (ledger.h: stored pending,
 * sent, settled from the answer in the transaction that saves the run's counters). A batch
 * whose answer was lost is looked up in Trakt's history at once (reconcile.h) and the plays
 * it did not apply are sent again at the end, a bounded number of times. Plex marks go one
 * by one, each recorded pending first. A dry run records the plan as 'planned' instead.
 *
 * Everything in struct pts_pw is borrowed from the engine for the call.
 */
#ifndef PTS_PLAYWRITE_H
#define PTS_PLAYWRITE_H

#include <stdint.h>

#include "plan.h"
#include "plex.h"
#include "run.h"
#include "trakt.h"
#include "wctx.h"

struct pts_pw {
	struct pts_wctx *w;
	struct pts_run *run;         /* counts what is written; its counters saved as it goes */
	struct pts_trakt *trakt;
	struct pts_plex *plex;
	struct pts_plan *add_trakt;  /* grows when plays are sent again */
	struct pts_plan *mark_plex;
};

/* A dry run: the first plans recorded 'planned' (the rest counted). 0 or -1. */
int pts_pw_record_planned(const struct pts_pw *pw);

/* Drop plays of plan the ledger says were sent (or may have been). 0 or -1. */
int pts_pw_filter_blocked(const struct pts_pw *pw, struct pts_plan *plan);

/*
 * Send add_trakt to Trakt's history. An enum pts_job_result (wctx.h). When Trakt refuses the
 * history for the account (420 limit, 423 locked, 426 VIP only: trakt_lists.h) the batch is
 * settled failed without counting errors, the run gets a warning (history, the cap from
 * /users/settings, the plays left undone), no further batch is sent, *refused is set to 1
 * and the result is PTS_JOB_DONE: the other kinds go on.
 */
int pts_pw_write_trakt(const struct pts_pw *pw, int *refused);

/* Mark mark_plex watched in Plex; *last_mark gets the time of the last mark. Same returns. */
int pts_pw_write_plex(const struct pts_pw *pw, int64_t *last_mark);

#endif

/*
 * run.h - the run record: one row of `runs` from the moment a job takes it to its final status.
 *
 * A sync, a webhook's play, a live scrobble's play and an undo each own one run. The job calls pts_run_begin() (the
 * row goes to 'running', its progress row is made, log lines carry the run), counts into the
 * struct as it goes (pts_run_save_counts() writes the counters, inside the caller's
 * transaction when it has one), and ends it with pts_run_end(), the one place a run's final
 * status is written:
 *
 *   PTS_JOB_DONE       'ok'
 *   PTS_JOB_FAILED     'failed' (a failure while the job was being cancelled: as cancelled)
 *   PTS_JOB_CANCELLED  'cancelled', or back to 'queued' when the worker is stopping (SIGTERM):
 *                      the next start runs it again, the ledger makes that safe
 *
 * and every ending stores a message: run->message when the job set one, else the status's
 * own. The struct is the caller's (usually on its stack); it owns no heap memory. Pruning the
 * history after a run ended is the runner's (jobs/retention.c), which knows when a job ended.
 */
#ifndef PTS_RUN_H
#define PTS_RUN_H

#include <stdint.h>

#include "progress.h"
#include "wctx.h"

/* Longest message kept on a run (a failure's cause, an undo's summary). */
#define PTS_RUN_MESSAGE_MAX 256
/* Longest trigger name read from the run row ("manual", "schedule", "webhook", ...). */
#define PTS_RUN_TRIGGER_MAX 32

/* Warnings a run keeps (runs.warnings); later ones are logged only. */
#define PTS_RUN_WARN_MAX 8

/* What the run is: names it in log lines and says which counters it keeps. */
enum pts_run_kind {
	PTS_RUN_SYNC,
	PTS_RUN_WEBHOOK,
	PTS_RUN_UNDO,
	PTS_RUN_SCROBBLE   /* a play scrobbled live (jobs/scrobble.c): the sync's counters */
};

struct pts_run {
	int64_t id;
	enum pts_run_kind kind;
	int dry_run, full;
	char trigger[PTS_RUN_TRIGGER_MAX];
	/* Sync and webhook counters. */
	int64_t added_to_trakt, added_to_plex, unmatched;
	/* Undo counters: plays removed, ratings and watchlist entries taken back. */
	int64_t removed_from_trakt, ratings_changed, watchlist_changed;
	/* Every kind. */
	int64_t not_found, errors;
	struct pts_progress progress;
	/* The closing note for the runs row (a failure's first cause, a summary); "" for none. */
	char message[PTS_RUN_MESSAGE_MAX];
	/* What went wrong without failing the run (a kind Trakt refused): runs.warnings. */
	char warnings[PTS_RUN_WARN_MAX][PTS_RUN_MESSAGE_MAX];
	size_t nwarnings;
};

/*
 * Take the job's run (w->run_id): zero *run, read its trigger and dry_run flag, mark it
 * running, create its progress row, tag log lines with it. 0, or -1 (logged) when the job
 * has no run or the database fails; then nothing needs ending.
 */
int pts_run_begin(struct pts_run *run, struct pts_wctx *w, enum pts_run_kind kind);

/* Write the kind's counters to the runs row now. 0 or -1. */
int pts_run_save_counts(struct pts_run *run);

/* Set run->message (printf-style), cut to PTS_RUN_MESSAGE_MAX. */
void pts_run_message(struct pts_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Add a warning (printf-style, cut to PTS_RUN_MESSAGE_MAX): logged as WARN and written to
 * runs.warnings (a JSON array of texts) at once, so /api/runs shows it while the run goes
 * on. The run's status is not changed by it. 0, or -1 when it could not be stored (logged).
 */
int pts_run_warn(struct pts_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Close the run for the job's result rc (see the table above): flush progress, save the
 * counters, write status and message, log the ending, untag log lines. Returns the result
 * the job ends with (rc, or PTS_JOB_CANCELLED for a failure during a cancel).
 */
int pts_run_end(struct pts_run *run, struct pts_wctx *w, int rc);

/* The runs.status an ending writes: "ok", "failed", "cancelled" or "queued". */
const char *pts_run_status(struct pts_wctx *w, int rc);

#endif

/*
 * syncrun.h - the life of one sync run: claim the run row, run the engine, record the end.
 *
 * The run row is created with the job (common/jobs.c). This module moves it to running,
 * owns its progress row, hands the engine a struct pts_run to count into, and writes the
 * final status: ok, failed or cancelled. A SIGTERM mid-run puts the job back in the queue so
 * the next start finishes it (the engine's ledger makes that safe).
 */
#ifndef PTS_SYNCRUN_H
#define PTS_SYNCRUN_H

#include <json-c/json.h>
#include <stdint.h>

#include "progress.h"
#include "wctx.h"

/* Longest failure message kept on a run. */
#define PTS_RUN_MESSAGE_MAX 256

/* Counters of one run, written to the runs row at the end (and as it goes). */
struct pts_run {
	int64_t id;
	int dry_run, full;
	const char *trigger;
	int64_t added_to_trakt, added_to_plex, not_found, unmatched, errors;
	struct pts_progress progress;
	/* Why a failed run failed, for the runs row (the first cause the engine met). */
	char message[PTS_RUN_MESSAGE_MAX];
};

/* Job handler for PTS_JOB_SYNC (args: {"dry_run": bool, "full": bool}). */
int pts_syncrun_job(struct pts_wctx *w, json_object *args);

/* Write the run's counters now (the engine calls this after each settled batch). 0 or -1. */
int pts_syncrun_save_counts(struct pts_run *run);

#endif

/*
 * jobs.h - the job queue both programs share.
 *
 * pts-cgi only ever inserts jobs (and sets their cancel flag); pts-worker claims and
 * finishes them. A sync job owns one run row, created with it so POST /api/sync can answer
 * the run id at once.
 *
 * Job kinds (the `kind` column): see PTS_JOB_* below.
 */
#ifndef PTS_JOBS_H
#define PTS_JOBS_H

#include <sqlite3.h>
#include <stdint.h>

#define PTS_JOB_SYNC "sync"
#define PTS_JOB_LIBRARIES_REFRESH "libraries_refresh"
#define PTS_JOB_AUTH_PLEX "auth_plex"
#define PTS_JOB_AUTH_TRAKT "auth_trakt"
#define PTS_JOB_SIGNOUT_PLEX "signout_plex"
#define PTS_JOB_SIGNOUT_TRAKT "signout_trakt"
#define PTS_JOB_TRAKT_HISTORY_REFRESH "trakt_history_refresh"
#define PTS_JOB_PLEX_IN_PROGRESS_REFRESH "plex_in_progress_refresh"

/* What GET /api/status reports for the sync. */
enum pts_sync_state {
	PTS_SYNC_IDLE,
	PTS_SYNC_QUEUED,
	PTS_SYNC_RUNNING,
	PTS_SYNC_STOPPING
};

const char *pts_sync_state_name(enum pts_sync_state s);

/* Insert a queued job. args is a JSON object text (NULL → "{}"). 0 or -1. */
int pts_jobs_enqueue(sqlite3 *db, const char *kind, const char *args, int64_t *job_id);

/*
 * Enqueue a job unless one of the same kind is already queued (not running): avoids piling
 * up identical refreshes. *job_id gets the new or existing job. 0 or -1.
 */
int pts_jobs_enqueue_once(sqlite3 *db, const char *kind, const char *args, int64_t *job_id);

/*
 * Queue a sync: a job and its run row in one transaction. trigger is "manual" or "schedule".
 * Returns 0 with *run_id set, 1 when a sync is already queued or running (*run_id = that
 * run), -1 on a database error.
 */
int pts_jobs_request_sync(sqlite3 *db, const char *trigger, int dry_run, int full,
    int64_t *run_id);

/* Ask the queued or running sync to stop. 0 done, 1 when there is none, -1 on error. */
int pts_jobs_stop_sync(sqlite3 *db);

/* The sync's state and run id (0 when idle). 0 or -1. */
int pts_jobs_sync_state(sqlite3 *db, enum pts_sync_state *state, int64_t *run_id);

#endif

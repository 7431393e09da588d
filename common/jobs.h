/*
 * jobs.h - the job queue both programs share.
 *
 * pts-cgi only ever inserts jobs (and sets their cancel flag); pts-worker claims and
 * finishes them. A sync job owns one run row, created with it so POST /api/sync can answer
 * the run id at once.
 *
 * Job kinds (the `kind` column): see PTS_JOB_* below.
 *
 * Households: a job belongs to a profile (jobs.profile). Every function here works on the
 * jobs of the connection's profile (pts_profile(), dbprofile.h): it enqueues for it and
 * sees, stops and counts only its jobs; jobs of other profiles are invisible to it.
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
/* One Plex play reported by webhook (cgi/plexhook.h has its args); owns a run, trigger 'webhook'. */
#define PTS_JOB_WEBHOOK_SCROBBLE "webhook_scrobble"
/* Undo a run (owns a run row with trigger 'undo'); it counts as "the sync" for the state. */
#define PTS_JOB_UNDO "undo"
/* The live scrobbler (worker/jobs/scrobble.h): polls Plex's sessions until the worker stops. */
#define PTS_JOB_SCROBBLE "scrobble"
/* Posters of the streams the scrobbler saw (worker/jobs/np_posters.h), lane "posters". */
#define PTS_JOB_NOW_PLAYING_POSTERS "now_playing_posters"
#define PTS_JOB_TRAKT_DUPES_SCAN "trakt_dupes_scan"
#define PTS_JOB_TRAKT_DUPES_REMOVE "trakt_dupes_remove"
/* The server's people and their Plex tokens from plex.tv (worker/jobs/job_plexusers.h). */
#define PTS_JOB_PLEX_USERS "plex_users"

/*
 * The change actions an undo takes back (SQL list): plays added to Trakt, ratings set and
 * watchlist entries added on Trakt. Plex marks are not undone (Plex cannot drop one view).
 */
#define PTS_UNDO_ACTIONS_SQL "('add_play_trakt','rate_trakt','watchlist_add_trakt')"

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
/* The same inside a transaction the caller holds (no BEGIN/COMMIT here). 0 or -1. */
int pts_jobs_enqueue_once_in(sqlite3 *db, const char *kind, const char *args, int64_t *job_id);

/*
 * Queue a sync: a job and its run row in one transaction. trigger is "manual" or "schedule".
 * Returns 0 with *run_id set, 1 when a sync (or an undo) is already queued or running
 * (*run_id = that run), -1 on a database error.
 */
int pts_jobs_request_sync(sqlite3 *db, const char *trigger, int dry_run, int full,
    int64_t *run_id);

/* Why an undo was not queued (pts_jobs_request_undo). */
enum pts_undo_refusal {
	PTS_UNDO_QUEUED = 0,
	PTS_UNDO_NO_RUN,         /* no such run */
	PTS_UNDO_BUSY,           /* a sync or undo is queued or running (*other = its run) */
	PTS_UNDO_ALREADY,        /* an undo of it ended ok (*other = that undo run) */
	PTS_UNDO_DRY_RUN,        /* a dry run changed nothing */
	PTS_UNDO_IS_UNDO,        /* an undo is not undone */
	PTS_UNDO_NOTHING         /* no change of it is left to take back */
};

/*
 * Queue an undo of run `target`: a job and its run row (trigger 'undo', undo_of = target) in
 * one transaction, after the checks above. Returns the refusal (PTS_UNDO_QUEUED with *run_id
 * set), or -1 on a database error. *other is set for BUSY and ALREADY.
 */
int pts_jobs_request_undo(sqlite3 *db, int64_t target, int dry_run, int64_t *run_id,
    int64_t *other);

/*
 * Ask the queued or running sync (or undo) to stop. 0 done, 1 when there is none, -1 on
 * error. "The sync" in this function and the two around it is a job of kind sync or undo:
 * both write to Trakt from the one run row they own, so they never run side by side.
 */
int pts_jobs_stop_sync(sqlite3 *db);

/* The sync's state and run id (0 when idle). 0 or -1. */
int pts_jobs_sync_state(sqlite3 *db, enum pts_sync_state *state, int64_t *run_id);

#endif

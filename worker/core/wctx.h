/*
 * wctx.h - the worker's context: the database, the job being run, and the cancel check
 * every long step (network waits, rate-limit sleeps, item loops) must honour.
 *
 * One context exists for the whole process (pts-worker is single-threaded); job code gets a
 * pointer to it and never frees it.
 */
#ifndef PTS_WCTX_H
#define PTS_WCTX_H

#include <json-c/json.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>

/* How often (at most) the cancel flag of the current job is read from the database. */
#define PTS_WCTX_CANCEL_POLL_MS 200
/* Longest single sleep slice: a cancel or SIGTERM is noticed within this. */
#define PTS_WCTX_SLEEP_SLICE_MS 100

struct pts_wctx {
	sqlite3 *db;
	int64_t job_id;          /* job being run; 0 when none */
	int64_t run_id;          /* run of the current sync job; 0 otherwise */
	volatile sig_atomic_t *term; /* set by SIGTERM/SIGINT: finish the step and exit */
	int64_t cancel_read_ms;  /* when the cancel flag was last read */
	int cancelled;           /* sticky once seen */
	int64_t yield_at_ms;     /* --cron: a sign-in flow pauses after this (0 = never) */
};

/* The process-wide context (set up by main). */
extern struct pts_wctx pts_wctx_global;

/* 1 when the current job must stop (its cancel flag, or SIGTERM), else 0. Cheap to call often. */
int pts_wctx_cancelled(struct pts_wctx *w);

/*
 * 1 when a job that can pause (a sign-in flow waiting for the person) should hand back now
 * and continue at the next --cron run: it then returns PTS_JOB_YIELD. Never in the daemon.
 */
int pts_wctx_yield_due(const struct pts_wctx *w);

/* Sleep ms in short slices; returns 1 as soon as the job is cancelled, else 0. */
int pts_wctx_sleep(struct pts_wctx *w, int64_t ms);

/*
 * Show a waiting state on the current run's progress (rate limit, Retry-After): until is an
 * epoch (0 clears it), reason a short text like "Trakt rate limit". No-op outside a sync.
 */
void pts_wctx_set_waiting(struct pts_wctx *w, int64_t until, const char *reason);

/*
 * How a job (and most steps inside one) ended. The values are the ones handlers have always
 * returned, so a step may still pass its own 0 / 1 / -1 through unchanged.
 */
enum pts_job_result {
	PTS_JOB_FAILED = -1,     /* the cause already logged */
	PTS_JOB_DONE = 0,
	PTS_JOB_CANCELLED = 1,   /* on request, or by SIGTERM (then the job is queued again) */
	PTS_JOB_YIELD = 2        /* not finished: queue it again (see pts_wctx_yield_due()) */
};

/*
 * Job handlers: run one job of a kind; args is the job's JSON arguments (borrowed).
 * Return an enum pts_job_result.
 */
typedef int (*pts_job_fn)(struct pts_wctx *w, json_object *args);

#endif

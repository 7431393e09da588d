/*
 * runner.c - job dispatch: lanes, child processes, outcomes and recovery.
 */
#include "runner.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "dbprofile.h"
#include "dupes.h"
#include "jobs.h"
#include "job_auth.h"
#include "job_cache.h"
#include "job_plexusers.h"
#include "job_webhook.h"
#include "jsonx.h"
#include "log.h"
#include "logdb.h"
#include "paths.h"
#include "profiles.h"
#include "retention.h"
#include "np_posters.h"
#include "scrobble.h"
#include "syncrun.h"
#include "undo.h"
#include "wctx.h"

/* Children at once: one per lane, and there are few lanes. */
#define RUNNER_MAX_CHILDREN 8
/* How long shutdown waits for children to finish their step before killing them. */
#define RUNNER_SHUTDOWN_WAIT_MS 20000
/* Longest job args we accept from the table. */
#define RUNNER_MAX_ARGS 65536

struct runner_kind {
	const char *kind;
	const char *lane;
	pts_job_fn fn;
};

static const struct runner_kind runner_kinds[] = {
	{ PTS_JOB_SYNC, "trakt", pts_syncrun_job },
	{ PTS_JOB_AUTH_TRAKT, "trakt", pts_job_auth_trakt },
	{ PTS_JOB_SIGNOUT_TRAKT, "trakt", pts_job_signout_trakt },
	{ PTS_JOB_TRAKT_HISTORY_REFRESH, "trakt", pts_job_trakt_history_refresh },
	{ PTS_JOB_UNDO, "trakt", pts_undo_job },
	{ PTS_JOB_TRAKT_DUPES_SCAN, "trakt", pts_dupes_scan_job },
	{ PTS_JOB_TRAKT_DUPES_REMOVE, "trakt", pts_dupes_remove_job },
	{ PTS_JOB_WEBHOOK_SCROBBLE, "trakt", pts_job_webhook_scrobble },
	{ PTS_JOB_AUTH_PLEX, "plex_auth", pts_job_auth_plex },
	{ PTS_JOB_LIBRARIES_REFRESH, "plex", pts_job_libraries_refresh },
	{ PTS_JOB_PLEX_IN_PROGRESS_REFRESH, "plex", pts_job_plex_in_progress_refresh },
	{ PTS_JOB_PLEX_USERS, "plex", pts_job_plex_users },
	/* Its own lane: the live scrobbler never waits for a sync, nor a sync for it. */
	{ PTS_JOB_SCROBBLE, "scrobble", pts_job_scrobble },
	/* TMDb never holds up the scrobbler's lane nor a Plex refresh. */
	{ PTS_JOB_NOW_PLAYING_POSTERS, "posters", pts_np_posters_job },
	{ NULL, NULL, NULL }
};

struct runner_child {
	pid_t pid;
	int64_t job_id;
	const char *lane;
};

static struct runner_child runner_children[RUNNER_MAX_CHILDREN];
static int64_t runner_yield_budget_ms;

static const struct runner_kind *
runner_find(const char *kind)
{
	const struct runner_kind *k;

	for (k = runner_kinds; k->kind != NULL; k++)
		if (strcmp(k->kind, kind) == 0)
			return k;
	return NULL;
}

int
pts_runner_active(void)
{
	int i, n = 0;

	for (i = 0; i < RUNNER_MAX_CHILDREN; i++)
		if (runner_children[i].pid > 0)
			n++;
	return n;
}

static int
runner_lane_busy(const char *lane)
{
	int i;

	for (i = 0; i < RUNNER_MAX_CHILDREN; i++)
		if (runner_children[i].pid > 0 && strcmp(runner_children[i].lane, lane) == 0)
			return 1;
	return 0;
}

/*
 * A job that was running when its process died: back to the queue, or failed after too many
 * attempts. Its sync run follows it.
 */
static void
runner_requeue_or_fail(sqlite3 *inst, int64_t job_id, const char *why)
{
	int64_t attempts = 0, profile = 1;
	sqlite3 *db = NULL;
	int rc;

	if (pts_db_int(inst, &attempts, 0, "SELECT attempts FROM jobs WHERE id = ?", "i",
	    job_id) != 0 || pts_db_int(inst, &profile, 1, "SELECT profile FROM jobs WHERE id = ?",
	    "i", job_id) != 0)
		return;
	/* Its run is in its profile's file: work on that profile's connection. */
	if ((rc = pts_wprof_get(inst, profile, &db)) != 0) {
		if (rc == 1)
			(void)pts_db_run(inst, "DELETE FROM jobs WHERE id = ?", "i", job_id);
		return;
	}
	if (pts_db_begin(db) != 0)
		return;
	if (attempts >= PTS_RUNNER_MAX_ATTEMPTS) {
		PTS_ERROR("job %lld failed: %s (%lld attempts)", (long long)job_id, why,
		    (long long)attempts);
		if (pts_db_run(db, "UPDATE jobs SET state = 'failed', finished_at = ?, error = ?"
		    " WHERE id = ?", "isi", pts_now(), why, job_id) != 0 ||
		    pts_db_run(db, "UPDATE runs SET status = 'failed', finished_at = ?, message = ?"
		    " WHERE id = (SELECT run_id FROM jobs WHERE id = ?) AND status IN"
		    " ('queued','running')", "isi", pts_now(), why, job_id) != 0)
			goto fail;
	} else {
		PTS_WARN("job %lld was interrupted (%s): queued again", (long long)job_id, why);
		if (pts_db_run(db, "UPDATE jobs SET state = 'queued' WHERE id = ?", "i", job_id) != 0 ||
		    pts_db_run(db, "UPDATE runs SET status = 'queued' WHERE id = (SELECT run_id FROM"
		    " jobs WHERE id = ?) AND status = 'running'", "i", job_id) != 0)
			goto fail;
	}
	if (pts_db_commit(db) == 0)
		return;
fail:
	pts_db_rollback(db);
}

/* Runs of one profile whose job is gone or finished cannot still be running. */
static int
runner_recover_runs(sqlite3 *pdb, int64_t id, void *arg)
{
	(void)id;
	(void)arg;
	return pts_db_run(pdb, "UPDATE runs SET status = 'failed', finished_at = ?, message ="
	    " 'interrupted' WHERE status = 'running' AND NOT EXISTS (SELECT 1 FROM jobs WHERE"
	    " jobs.id = runs.job_id AND jobs.state IN ('queued','running'))", "i", pts_now());
}

/* Jobs of a deleted profile that are not running (DELETE /api/profiles/{id} stops those). */
static void
runner_forget_orphans(sqlite3 *db)
{
	(void)pts_db_run(db, "DELETE FROM jobs WHERE state != 'running' AND profile NOT IN"
	    " (SELECT id FROM profiles)", "");
}

int
pts_runner_recover(sqlite3 *db)
{
	sqlite3_stmt *st = pts_db_prepare(db, "SELECT id FROM jobs WHERE state = 'running'");
	int64_t ids[64];
	int n = 0, i;

	if (st == NULL)
		return -1;
	while (n < 64 && sqlite3_step(st) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	for (i = 0; i < n; i++)
		runner_requeue_or_fail(db, ids[i], "the worker stopped while it ran");
	runner_forget_orphans(db);
	return pts_wprof_each(db, runner_recover_runs, NULL);
}

#if defined(__SANITIZE_ADDRESS__)
#define RUNNER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RUNNER_ASAN 1
#endif
#endif

/* The memory ceiling of a job child (see PTS_RUNNER_MEM_MAX_MB). Logged when it cannot be set. */
static void
runner_mem_limit(void)
{
	const char *env = pts_env("PTS_JOB_MEM_MAX_MB", NULL);
	unsigned long long mb = PTS_RUNNER_MEM_MAX_MB;

	if (env != NULL) {
		char *end;

		errno = 0;
		mb = strtoull(env, &end, 10);
		if (errno != 0 || end == env || *end != '\0' || mb > (1ULL << 40)) {
			PTS_WARN("PTS_JOB_MEM_MAX_MB=%s is not a number of MiB: using %d",
			    env, PTS_RUNNER_MEM_MAX_MB);
			mb = PTS_RUNNER_MEM_MAX_MB;
		}
	}
	if (mb == 0)
		return;
#ifdef RUNNER_ASAN
	/* ASan reserves terabytes of address space up front: no limit can hold there. */
#else
	struct rlimit rl;

	if (getrlimit(RLIMIT_AS, &rl) != 0) {
		PTS_WARN("getrlimit(RLIMIT_AS): %s", strerror(errno));
		return;
	}
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)(mb << 20))
		return;   /* already tighter */
	rl.rlim_cur = (rlim_t)(mb << 20);
	if (setrlimit(RLIMIT_AS, &rl) != 0)
		PTS_WARN("setrlimit(RLIMIT_AS, %llu MiB): %s", mb, strerror(errno));
#endif
}

static void
runner_child_main(const char *dbpath, int64_t profile, int64_t job_id,
    volatile sig_atomic_t *term)
{
	sqlite3 *db = NULL;
	int rc;

	/*
	 * The parent's handle must not be used (or closed) after fork: open our own, the
	 * connection of the job's profile (its runs, settings and tokens; jobs stay pts.db's).
	 */
	pts_logdb_attach(NULL);
	if (profile == PTS_PROFILE_OWNER ? pts_db_open(dbpath, &db) != 0 :
	    pts_db_open_profile(pts_paths_data_dir(), profile, &db) != 0)
		_exit(3);
	pts_logdb_attach(db);
	runner_mem_limit();   /* logs through our own handle */
	rc = pts_runner_run_job(db, job_id, term);
	pts_logdb_attach(NULL);
	pts_db_close(db);
	exit(rc == PTS_JOB_DONE || rc == PTS_JOB_CANCELLED || rc == PTS_JOB_YIELD ? 0 : 1);
}

int
pts_runner_start_ready(sqlite3 *db, const char *dbpath, volatile sig_atomic_t *term)
{
	/*
	 * Webhook plays last: a manual or scheduled sync (or a sign-out's revocation) queued
	 * behind a burst of them starts as soon as its lane is free.
	 */
	sqlite3_stmt *st = pts_db_prepare(db, "SELECT id, kind, profile FROM jobs WHERE state ="
	    " 'queued' ORDER BY kind = '" PTS_JOB_WEBHOOK_SCROBBLE "', id LIMIT 32");
	struct { int64_t id, profile; const struct runner_kind *k; } ready[32];
	int n = 0, i, started = 0;

	if (st == NULL)
		return 0;
	while (n < 32 && sqlite3_step(st) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 1);

		ready[n].id = sqlite3_column_int64(st, 0);
		ready[n].profile = sqlite3_column_int64(st, 2);
		ready[n].k = runner_find(kind);
		if (ready[n].k == NULL) {
			PTS_ERROR("job %lld has an unknown kind '%s'", (long long)ready[n].id, kind);
			(void)pts_db_run(db, "UPDATE jobs SET state = 'failed', error = 'unknown kind'"
			    " WHERE id = ?", "i", ready[n].id);
			continue;
		}
		n++;
	}
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		int slot;
		pid_t pid;

		if (runner_lane_busy(ready[i].k->lane))
			continue;
		for (slot = 0; slot < RUNNER_MAX_CHILDREN && runner_children[slot].pid > 0; slot++)
			;
		if (slot == RUNNER_MAX_CHILDREN)
			break;
		/* Claim it before forking, so a restart never runs it twice at once. */
		if (pts_runner_claim(db, ready[i].id) != 0)
			continue;
		/*
		 * A child opens its own connections; SQLite's per-process record of the open
		 * files and their locks must then hold only the parent's main handle, which the
		 * child never touches: the profiles' handles are closed (reopened on need).
		 */
		pts_wprof_close_all();
		pid = fork();
		if (pid < 0) {
			PTS_ERROR("fork: %s", strerror(errno));
			(void)pts_db_run(db, "UPDATE jobs SET state = 'queued', attempts = attempts - 1"
			    " WHERE id = ?", "i", ready[i].id);
			break;
		}
		if (pid == 0)
			runner_child_main(dbpath, ready[i].profile, ready[i].id, term);
		runner_children[slot].pid = pid;
		runner_children[slot].job_id = ready[i].id;
		runner_children[slot].lane = ready[i].k->lane;
		started++;
	}
	return started;
}

int
pts_runner_claim(sqlite3 *db, int64_t job_id)
{
	if (pts_db_run(db, "UPDATE jobs SET state = 'running', started_at = ?,"
	    " attempts = attempts + 1 WHERE id = ? AND state = 'queued'", "ii", pts_now(),
	    job_id) != 0)
		return -1;
	return sqlite3_changes(db) == 1 ? 0 : 1;
}

void
pts_runner_set_yield_budget(int64_t budget_ms)
{
	runner_yield_budget_ms = budget_ms;
}

void
pts_runner_reap(sqlite3 *db)
{
	int status, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < RUNNER_MAX_CHILDREN; i++) {
			int64_t still = 0;

			if (runner_children[i].pid != pid)
				continue;
			runner_children[i].pid = 0;
			runner_forget_orphans(db);
			/* A child that recorded its outcome left the job out of 'running'. */
			if (pts_db_int(db, &still, 0, "SELECT state = 'running' FROM jobs WHERE id = ?",
			    "i", runner_children[i].job_id) == 0 && still) {
				char why[64];

				if (WIFSIGNALED(status))
					snprintf(why, sizeof(why), "its process died (signal %d)",
					    WTERMSIG(status));
				else
					snprintf(why, sizeof(why), "its process exited (status %d)",
					    WEXITSTATUS(status));
				runner_requeue_or_fail(db, runner_children[i].job_id, why);
			}
		}
	}
}

void
pts_runner_shutdown(sqlite3 *db)
{
	int64_t deadline = pts_now_ms() + RUNNER_SHUTDOWN_WAIT_MS;
	int i;

	for (i = 0; i < RUNNER_MAX_CHILDREN; i++)
		if (runner_children[i].pid > 0)
			kill(runner_children[i].pid, SIGTERM);
	while (pts_runner_active() > 0 && pts_now_ms() < deadline) {
		struct timespec ts = { 0, 50 * 1000000L };

		nanosleep(&ts, NULL);
		pts_runner_reap(db);
	}
	for (i = 0; i < RUNNER_MAX_CHILDREN; i++)
		if (runner_children[i].pid > 0) {
			PTS_WARN("job %lld did not stop in time: killing it",
			    (long long)runner_children[i].job_id);
			kill(runner_children[i].pid, SIGKILL);
		}
	while (pts_runner_active() > 0) {
		struct timespec ts = { 0, 20 * 1000000L };

		nanosleep(&ts, NULL);
		pts_runner_reap(db);
	}
}

/* The jobs.state a job result leaves. */
static const char *
runner_state(int rc)
{
	switch (rc) {
	case PTS_JOB_DONE:
		return "done";
	case PTS_JOB_CANCELLED:
		return "cancelled";
	default:
		return "failed";
	}
}

/* Record how a job ended. */
static void
runner_record(sqlite3 *db, int64_t job_id, int rc, int term)
{
	const char *state = runner_state(rc);

	if ((rc == PTS_JOB_CANCELLED && term) || rc == PTS_JOB_YIELD) {
		/*
		 * Interrupted by a shutdown, or paused until the next --cron run: it runs again
		 * then; not an attempt.
		 */
		(void)pts_db_run(db, "UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0)"
		    " WHERE id = ?", "i", job_id);
		return;
	}
	(void)pts_db_run(db, "UPDATE jobs SET state = ?, finished_at = ?,"
	    " error = CASE WHEN ? THEN 'failed: see the log' END WHERE id = ?", "siii",
	    state, pts_now(), (int64_t)(rc != PTS_JOB_DONE && rc != PTS_JOB_CANCELLED), job_id);
}

int
pts_runner_run_job(sqlite3 *db, int64_t job_id, volatile sig_atomic_t *term)
{
	struct pts_wctx *w = &pts_wctx_global;
	sqlite3_stmt *st;
	const struct runner_kind *k = NULL;
	json_object *args = NULL;
	int64_t run_id = 0;
	int rc = PTS_JOB_FAILED;

	st = pts_db_prepare(db, "SELECT kind, args, COALESCE(run_id, 0) FROM jobs WHERE id = ?");
	if (st == NULL)
		return PTS_JOB_FAILED;
	sqlite3_bind_int64(st, 1, job_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(st, 1);

		k = runner_find((const char *)sqlite3_column_text(st, 0));
		args = pts_json_parse(a, strlen(a), RUNNER_MAX_ARGS, NULL);
		run_id = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (k == NULL) {
		PTS_ERROR("job %lld: not found or of an unknown kind", (long long)job_id);
		(void)pts_db_run(db, "UPDATE jobs SET state = 'failed', finished_at = ?, error ="
		    " 'unknown kind' WHERE id = ?", "ii", pts_now(), job_id);
		json_object_put(args);
		return PTS_JOB_FAILED;
	}
	(void)pts_db_run(db, "UPDATE jobs SET state = 'running', started_at = COALESCE(started_at, ?)"
	    " WHERE id = ?", "ii", pts_now(), job_id);
	memset(w, 0, sizeof(*w));
	w->db = db;
	w->job_id = job_id;
	w->run_id = run_id;
	w->term = term;
	if (runner_yield_budget_ms > 0)
		w->yield_at_ms = pts_now_ms() + runner_yield_budget_ms;
	rc = k->fn(w, args ? args : NULL);
	runner_record(db, job_id, rc, term != NULL && *term);
	/* A run ended (not merely paused or interrupted): the history beyond the limit goes. */
	if (run_id != 0 && rc != PTS_JOB_YIELD &&
	    !(rc == PTS_JOB_CANCELLED && term != NULL && *term))
		(void)pts_retention_prune(db, 0);
	json_object_put(args);
	w->job_id = w->run_id = 0;
	return rc;
}

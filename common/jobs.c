/*
 * jobs.c - the job queue both programs share.
 */
#include "jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "log.h"

static const char *const sync_state_names[] = { "idle", "queued", "running", "stopping" };

const char *
pts_sync_state_name(enum pts_sync_state s)
{
	return (unsigned)s <= PTS_SYNC_STOPPING ? sync_state_names[s] : "idle";
}

int
pts_jobs_enqueue(sqlite3 *db, const char *kind, const char *args, int64_t *job_id)
{
	if (pts_db_run(db, "INSERT INTO jobs(kind, args, created_at, profile) VALUES(?, ?, ?,"
	    " pts_profile())", "ssi",
	    kind, args ? args : "{}", pts_now()) != 0)
		return -1;
	if (job_id != NULL)
		*job_id = sqlite3_last_insert_rowid(db);
	return 0;
}

int
pts_jobs_enqueue_once_in(sqlite3 *db, const char *kind, const char *args, int64_t *job_id)
{
	int64_t id = 0;

	if (pts_db_int(db, &id, 0, "SELECT id FROM jobs WHERE kind = ? AND state = 'queued'"
	    " AND profile = pts_profile() ORDER BY id LIMIT 1", "s", kind) != 0)
		return -1;
	if (id == 0 && pts_jobs_enqueue(db, kind, args, &id) != 0)
		return -1;
	if (job_id != NULL)
		*job_id = id;
	return 0;
}

int
pts_jobs_enqueue_once(sqlite3 *db, const char *kind, const char *args, int64_t *job_id)
{
	if (pts_db_begin(db) != 0)
		return -1;
	if (pts_jobs_enqueue_once_in(db, kind, args, job_id) != 0 || pts_db_commit(db) != 0) {
		pts_db_rollback(db);
		return -1;
	}
	return 0;
}

int
pts_jobs_request_sync(sqlite3 *db, const char *trigger, int dry_run, int full, int64_t *run_id)
{
	int64_t existing = 0, job_id = 0;
	char args[96];

	if (pts_db_begin(db) != 0)
		return -1;
	if (pts_db_int(db, &existing, 0, "SELECT COALESCE(run_id, -1) FROM jobs WHERE kind IN"
	    " ('sync','undo') AND state IN ('queued','running') AND profile = pts_profile()"
	    " ORDER BY id LIMIT 1", "") != 0)
		goto fail;
	if (existing != 0) {
		pts_db_rollback(db);
		*run_id = existing > 0 ? existing : 0;
		return 1;
	}
	snprintf(args, sizeof(args), "{\"dry_run\": %s, \"full\": %s}", dry_run ? "true" : "false",
	    full ? "true" : "false");
	if (pts_jobs_enqueue(db, PTS_JOB_SYNC, args, &job_id) != 0)
		goto fail;
	if (pts_db_run(db, "INSERT INTO runs(job_id, trigger, status, created_at, started_at,"
	    " dry_run, full) VALUES(?, ?, 'queued', ?, ?, ?, ?)", "isiiii", job_id, trigger,
	    pts_now(), pts_now(), (int64_t)(dry_run != 0), (int64_t)(full != 0)) != 0)
		goto fail;
	*run_id = sqlite3_last_insert_rowid(db);
	if (pts_db_run(db, "UPDATE jobs SET run_id = ? WHERE id = ?", "ii", *run_id, job_id) != 0 ||
	    pts_db_commit(db) != 0)
		goto fail;
	return 0;
fail:
	pts_db_rollback(db);
	return -1;
}

int
pts_jobs_stop_sync(sqlite3 *db)
{
	if (pts_db_run(db, "UPDATE jobs SET cancel = 1 WHERE kind IN ('sync','undo')"
	    " AND state IN ('queued','running') AND profile = pts_profile()", "") != 0)
		return -1;
	return sqlite3_changes(db) > 0 ? 0 : 1;
}

int
pts_jobs_sync_state(sqlite3 *db, enum pts_sync_state *state, int64_t *run_id)
{
	sqlite3_stmt *st = pts_db_cached(db, "SELECT state, cancel, COALESCE(run_id, 0) FROM jobs"
	    " WHERE kind IN ('sync','undo') AND state IN ('queued','running')"
	    " AND profile = pts_profile() ORDER BY id LIMIT 1");
	int rc;

	*state = PTS_SYNC_IDLE;
	*run_id = 0;
	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int running = sqlite3_column_text(st, 0)[0] == 'r';

		if (sqlite3_column_int(st, 1))
			*state = PTS_SYNC_STOPPING;
		else
			*state = running ? PTS_SYNC_RUNNING : PTS_SYNC_QUEUED;
		*run_id = sqlite3_column_int64(st, 2);
	} else if (rc != SQLITE_DONE) {
		pts_log_raw(PTS_LOG_ERROR, "db: sync state: %s", sqlite3_errmsg(db));
		pts_db_done(st);
		return -1;
	}
	pts_db_done(st);
	return 0;
}

int
pts_jobs_request_undo(sqlite3 *db, int64_t target, int dry_run, int64_t *run_id, int64_t *other)
{
	sqlite3_stmt *st;
	int64_t job_id = 0, left = 0, t_dry = 0, t_undone = 0, busy = 0;
	char args[96], *trigger = NULL;
	int rc, found;

	*run_id = *other = 0;
	if (pts_db_begin(db) != 0)
		return -1;
	st = pts_db_prepare(db, "SELECT trigger, dry_run, COALESCE(undone_by, 0) FROM runs"
	    " WHERE id = ?");
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, target);
	found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		const char *t = (const char *)sqlite3_column_text(st, 0);

		trigger = strdup(t ? t : "");
		t_dry = sqlite3_column_int64(st, 1);
		t_undone = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (!found) {
		rc = PTS_UNDO_NO_RUN;
		goto refuse;
	}
	if (trigger == NULL)
		goto fail;
	if (pts_db_int(db, &busy, 0, "SELECT COALESCE(run_id, -1) FROM jobs WHERE kind IN"
	    " ('sync','undo') AND state IN ('queued','running') AND profile = pts_profile()"
	    " ORDER BY id LIMIT 1", "") != 0 ||
	    pts_db_int(db, &left, 0, "SELECT COUNT(*) FROM changes WHERE run_id = ? AND result ="
	    " 'done' AND undone_by IS NULL AND action IN " PTS_UNDO_ACTIONS_SQL, "i", target) != 0)
		goto fail;
	if (busy != 0) {
		*other = busy > 0 ? busy : 0;
		rc = PTS_UNDO_BUSY;
	} else if (strcmp(trigger, "undo") == 0) {
		rc = PTS_UNDO_IS_UNDO;
	} else if (t_dry) {
		rc = PTS_UNDO_DRY_RUN;
	} else if (t_undone) {
		*other = t_undone;
		rc = PTS_UNDO_ALREADY;
	} else if (left == 0) {
		rc = PTS_UNDO_NOTHING;
	} else {
		rc = PTS_UNDO_QUEUED;
	}
	if (rc != PTS_UNDO_QUEUED)
		goto refuse;
	snprintf(args, sizeof(args), "{\"undo_of\": %lld, \"dry_run\": %s}", (long long)target,
	    dry_run ? "true" : "false");
	if (pts_jobs_enqueue(db, PTS_JOB_UNDO, args, &job_id) != 0 ||
	    pts_db_run(db, "INSERT INTO runs(job_id, trigger, status, created_at, started_at,"
	    " dry_run, undo_of) VALUES(?, 'undo', 'queued', ?, ?, ?, ?)", "iiiii", job_id, pts_now(),
	    pts_now(), (int64_t)(dry_run != 0), target) != 0)
		goto fail;
	*run_id = sqlite3_last_insert_rowid(db);
	if (pts_db_run(db, "UPDATE jobs SET run_id = ? WHERE id = ?", "ii", *run_id, job_id) != 0 ||
	    pts_db_commit(db) != 0)
		goto fail;
	free(trigger);
	return PTS_UNDO_QUEUED;
refuse:
	pts_db_rollback(db);
	free(trigger);
	return rc;
fail:
	pts_db_rollback(db);
	free(trigger);
	*run_id = 0;
	return -1;
}

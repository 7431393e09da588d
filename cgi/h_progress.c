/*
 * h_progress.c - GET /api/progress: the running sync's progress row, or the last run.
 */
#include "handler.h"

#include "clock.h"
#include "db.h"
#include "jobs.h"
#include "jsonx.h"
#include "rows.h"

/* Rate samples returned for the speed graph (the most recent ones). */
#define PROGRESS_MAX_SAMPLES 120

/* {"state": "idle", "last_run": run|null} */
static void
progress_idle(struct hctx *ctx)
{
	sqlite3_stmt *st = pts_db_cached(ctx->db, "SELECT " ROWS_RUN_COLUMNS
	    " FROM runs ORDER BY id DESC LIMIT 1");
	json_object *o;
	int rc;

	if (st == NULL || (rc = rows_step(ctx->db, st)) < 0) {
		pts_db_done(st);
		resp_internal(ctx->resp);
		return;
	}
	o = json_object_new_object();
	pts_json_add_str(o, "state", "idle");
	json_object_object_add(o, "last_run", rc == SQLITE_ROW ? rows_run(st) : NULL);
	pts_db_done(st);
	resp_json(ctx->resp, 200, o);
}

/*
 * The samples array last built by this process, and what it was built from. The worker
 * appends a sample a second while the dashboard polls several times a second, so most polls
 * reuse it (shared by reference count) instead of reading and formatting 120 rows again.
 * Samples are only ever appended to a run, or all deleted when it restarts: the newest
 * sample's id and time name the whole set.
 */
static struct {
	int64_t run_id, last_id;
	double last_t;
	json_object *samples;
} progress_cache;

/* The newest sample of run_id: *id 0 when there is none. 0 or -1. */
static int
progress_newest(sqlite3 *db, int64_t run_id, int64_t *id, double *t)
{
	sqlite3_stmt *st = pts_db_cached(db, "SELECT id, t FROM rate_samples WHERE run_id = ?"
	    " ORDER BY id DESC LIMIT 1");
	int rc;

	*id = 0;
	*t = 0;
	if (st == NULL || sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK) {
		pts_db_done(st);
		return -1;
	}
	rc = rows_step(db, st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*t = sqlite3_column_double(st, 1);
	}
	pts_db_done(st);
	return rc < 0 ? -1 : 0;
}

static json_object *progress_samples_read(sqlite3 *db, int64_t run_id);

/* The last PROGRESS_MAX_SAMPLES samples, oldest first (a new reference). NULL on error. */
static json_object *
progress_samples(sqlite3 *db, int64_t run_id)
{
	json_object *a;
	int64_t id;
	double t;

	if (progress_newest(db, run_id, &id, &t) != 0)
		return NULL;
	if (progress_cache.samples != NULL && progress_cache.run_id == run_id &&
	    progress_cache.last_id == id && progress_cache.last_t == t)
		return json_object_get(progress_cache.samples);
	if ((a = progress_samples_read(db, run_id)) == NULL)
		return NULL;
	json_object_put(progress_cache.samples);
	progress_cache.samples = json_object_get(a);
	progress_cache.run_id = run_id;
	progress_cache.last_id = id;
	progress_cache.last_t = t;
	return a;
}

/* Read and format the samples (see progress_samples). NULL on a db error. */
static json_object *
progress_samples_read(sqlite3 *db, int64_t run_id)
{
	sqlite3_stmt *st = pts_db_cached(db, "SELECT t, rate FROM (SELECT id, t, rate"
	    " FROM rate_samples WHERE run_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id");
	json_object *a;
	int rc;

	if (st == NULL)
		return NULL;
	if (sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, PROGRESS_MAX_SAMPLES) != SQLITE_OK) {
		pts_db_done(st);
		return NULL;
	}
	a = json_object_new_array();
	while ((rc = rows_step(db, st)) == SQLITE_ROW) {
		json_object *s = json_object_new_object();

		rows_add_real_col(s, "t", st, 0, 1);
		rows_add_real_col(s, "rate", st, 1, 2);
		json_object_array_add(a, s);
	}
	pts_db_done(st);
	if (rc < 0) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

/* {"done", "total"[, "title"]} */
static json_object *
progress_counts(int64_t done, int64_t total)
{
	json_object *o = json_object_new_object();

	pts_json_add_int(o, "done", done);
	pts_json_add_int(o, "total", total);
	return o;
}

/* Fill o from the progress row in st, or zeros and dflt_phase when there is none yet. */
static void
progress_fill(json_object *o, sqlite3_stmt *st, int have, const char *dflt_phase)
{
	int64_t now_ms = pts_now_ms(), done = 0, total = 0, started_ms = 0, wait_until = 0;
	json_object *lib, *overall, *wait;
	double rate = 0;

	if (have) {
		done = sqlite3_column_int64(st, 4);
		total = sqlite3_column_int64(st, 5);
		rate = sqlite3_column_double(st, 7);
		started_ms = sqlite3_column_int64(st, 8);
		wait_until = sqlite3_column_int64(st, 9);
	}
	pts_json_add_str(o, "phase", have ? (const char *)sqlite3_column_text(st, 0) : dflt_phase);
	lib = progress_counts(have ? sqlite3_column_int64(st, 2) : 0,
	    have ? sqlite3_column_int64(st, 3) : 0);
	if (have)
		rows_add_text(lib, "title", st, 1);
	else
		json_object_object_add(lib, "title", NULL);
	json_object_object_add(o, "library", lib);
	overall = progress_counts(done, total);
	/* Rounded to one decimal in integers: no binary-fraction noise in the JSON. */
	rows_add_real(overall, "percent", total > 0 ?
	    (double)((done * 1000 + total / 2) / total) / 10.0 : 0.0, 1);
	json_object_object_add(o, "overall", overall);
	if (have)
		rows_add_text(o, "current_item", st, 6);
	else
		json_object_object_add(o, "current_item", NULL);
	rows_add_real(o, "rate_per_s", rate, 2);
	pts_json_add_int(o, "elapsed_s", have && started_ms > 0 && now_ms > started_ms ?
	    (now_ms - started_ms) / 1000 : 0);
	if (rate > 0 && total > 0)
		pts_json_add_int(o, "eta_s", total > done ? (int64_t)((double)(total - done) / rate
		    + 0.5) : 0);
	else
		json_object_object_add(o, "eta_s", NULL);
	if (wait_until > 0 && wait_until * 1000 > now_ms) {
		wait = json_object_new_object();
		pts_json_add_time(wait, "until", wait_until);
		rows_add_text(wait, "reason", st, 10);
		json_object_object_add(o, "waiting", wait);
	} else {
		json_object_object_add(o, "waiting", NULL);
	}
}

void
h_progress_get(struct hctx *ctx)
{
	enum pts_sync_state state;
	sqlite3_stmt *st;
	json_object *o, *samples;
	int64_t run_id;
	int rc;

	if (pts_jobs_sync_state(ctx->db, &state, &run_id) != 0) {
		resp_internal(ctx->resp);
		return;
	}
	if (state == PTS_SYNC_IDLE) {
		progress_idle(ctx);
		return;
	}
	st = pts_db_cached(ctx->db, "SELECT phase, lib_title, lib_done, lib_total, overall_done,"
	    " overall_total, current_item, rate_per_s, started_ms, wait_until, wait_reason"
	    " FROM progress WHERE run_id = ?");
	if (st == NULL || sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK ||
	    (rc = rows_step(ctx->db, st)) < 0 ||
	    (samples = progress_samples(ctx->db, run_id)) == NULL) {
		pts_db_done(st);
		resp_internal(ctx->resp);
		return;
	}
	o = json_object_new_object();
	if (run_id > 0)
		pts_json_add_int(o, "run_id", run_id);
	else
		json_object_object_add(o, "run_id", NULL);
	pts_json_add_str(o, "state", pts_sync_state_name(state));
	progress_fill(o, st, rc == SQLITE_ROW, state == PTS_SYNC_QUEUED ? "queued" : "starting");
	pts_db_done(st);
	json_object_object_add(o, "samples", samples);
	resp_json(ctx->resp, 200, o);
}

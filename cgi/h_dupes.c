/*
 * h_dupes.c - the duplicate cleaner (worker/jobs/dupes.c does the work):
 *   GET  /api/trakt/duplicates          the last scan's groups and the cleaner's state
 *   POST /api/trakt/duplicates/scan     queue a scan of the whole Trakt history
 *   POST /api/trakt/duplicates/remove   queue the removal of the extras the last scan found
 */
#include "handler.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "jobs.h"
#include "jsonx.h"
#include "rows.h"
#include "settings.h"

/* Groups listed in one answer (the count of extras covers them all; "truncated" says so). */
#define DUPES_MAX_GROUPS_OUT 2000
/* Longest history_ids text parsed per group (1000 ids). */
#define DUPES_IDS_TEXT_MAX 32768

/* "scanning", "removing" or "idle", from the queue. NULL on a db error. */
static const char *
dupes_state(sqlite3 *db)
{
	char *kind = NULL;
	const char *state;

	if (pts_db_text(db, &kind, "SELECT kind FROM jobs WHERE kind IN (?, ?) AND state IN"
	    " ('queued','running') AND profile = pts_profile() ORDER BY id DESC LIMIT 1", "ss",
	    PTS_JOB_TRAKT_DUPES_SCAN, PTS_JOB_TRAKT_DUPES_REMOVE) != 0)
		return NULL;
	state = kind == NULL ? "idle" : strcmp(kind, PTS_JOB_TRAKT_DUPES_SCAN) == 0 ? "scanning" :
	    "removing";
	free(kind);
	return state;
}

/* The history_ids column as an array ([] when unreadable). */
static json_object *
dupes_ids(sqlite3_stmt *st, int col)
{
	const char *text = (const char *)sqlite3_column_text(st, col);
	json_object *a = text ? pts_json_parse(text, strlen(text), DUPES_IDS_TEXT_MAX, NULL) : NULL;

	if (a == NULL || !json_object_is_type(a, json_type_array)) {
		json_object_put(a);
		a = json_object_new_array();
	}
	return a;
}

/*
 * Walk the stored groups: *extra = plays beyond the first of each, *groups = their number;
 * when out is not NULL, the first DUPES_MAX_GROUPS_OUT go into it (*truncated if more).
 * 0 or -1.
 */
static int
dupes_walk(sqlite3 *db, json_object *out, int64_t *groups, int64_t *extra, int *truncated)
{
	sqlite3_stmt *st = pts_db_prepare(db, "SELECT type, title, show, season, episode, year,"
	    " watched_at, history_ids, keep FROM trakt_dupes ORDER BY watched_at DESC, id");
	int rc;

	*groups = *extra = 0;
	*truncated = 0;
	if (st == NULL)
		return -1;
	while ((rc = rows_step(db, st)) == SQLITE_ROW) {
		json_object *ids = dupes_ids(st, 7), *g;
		size_t n = json_object_array_length(ids);

		(*groups)++;
		*extra += n > 1 ? (int64_t)n - 1 : 0;
		if (out == NULL || *groups > DUPES_MAX_GROUPS_OUT) {
			*truncated = out != NULL;
			json_object_put(ids);
			continue;
		}
		g = json_object_new_object();
		rows_add_text(g, "type", st, 0);
		rows_add_text(g, "title", st, 1);
		rows_add_text(g, "show", st, 2);
		rows_add_int(g, "season", st, 3);
		rows_add_int(g, "episode", st, 4);
		rows_add_int(g, "year", st, 5);
		rows_add_time(g, "watched_at", st, 6);
		json_object_object_add(g, "history_ids", ids);
		rows_add_int(g, "keep", st, 8);
		json_object_array_add(out, g);
	}
	sqlite3_finalize(st);
	return rc < 0 ? -1 : 0;
}

void
h_trakt_dupes_get(struct hctx *ctx)
{
	json_object *o, *a = json_object_new_array();
	int64_t groups, extra, scanned = 0, removed_at = 0, plays = -1, removed = -1;
	const char *state = dupes_state(ctx->db);
	char *error = NULL;
	int truncated;

	if (state == NULL || dupes_walk(ctx->db, a, &groups, &extra, &truncated) != 0 ||
	    rows_meta_epoch(ctx->db, "trakt_dupes_scanned_at", &scanned) != 0 ||
	    rows_meta_epoch(ctx->db, "trakt_dupes_removed_at", &removed_at) != 0 ||
	    pts_db_int(ctx->db, &plays, -1, "SELECT CAST(value AS INTEGER) FROM meta WHERE key ="
	    " 'trakt_dupes_plays'", "") != 0 ||
	    pts_db_int(ctx->db, &removed, -1, "SELECT CAST(value AS INTEGER) FROM meta WHERE key ="
	    " 'trakt_dupes_removed'", "") != 0 ||
	    pts_db_text(ctx->db, &error, "SELECT value FROM meta WHERE key = 'trakt_dupes_error'",
	    "") != 0) {
		json_object_put(a);
		resp_internal(ctx->resp);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "groups", a);
	pts_json_add_int(o, "extra", extra);
	if (truncated)
		pts_json_add_bool(o, "truncated", 1);
	pts_json_add_time(o, "scanned_at", scanned);
	if (scanned > 0 && plays >= 0)
		pts_json_add_int(o, "plays_scanned", plays);
	else
		json_object_object_add(o, "plays_scanned", NULL);
	pts_json_add_str(o, "state", state);
	pts_json_add_time(o, "removed_at", removed_at);
	if (removed_at > 0 && removed >= 0)
		pts_json_add_int(o, "removed", removed);
	else
		json_object_object_add(o, "removed", NULL);
	pts_json_add_str(o, "error", error);
	free(error);
	resp_json(ctx->resp, 200, o);
}

void
h_trakt_dupes_scan_post(struct hctx *ctx)
{
	int64_t job_id = 0, removing = 0;

	if (pts_db_begin(ctx->db) != 0)
		goto fail;
	if (pts_db_int(ctx->db, &removing, 0, "SELECT COUNT(*) FROM jobs WHERE kind = ? AND state"
	    " IN ('queued','running') AND profile = pts_profile()", "s", PTS_JOB_TRAKT_DUPES_REMOVE) != 0)
		goto fail;
	if (removing > 0) {
		pts_db_rollback(ctx->db);
		resp_conflict(ctx->resp, "busy", "duplicate plays are being removed: scan when that"
		    " ends", NULL, 0);
		return;
	}
	if (pts_jobs_enqueue_once_in(ctx->db, PTS_JOB_TRAKT_DUPES_SCAN, NULL, &job_id) != 0 ||
	    pts_db_commit(ctx->db) != 0)
		goto fail;
	resp_job(ctx->resp, job_id);
	return;
fail:
	pts_db_rollback(ctx->db);
	resp_internal(ctx->resp);
}

void
h_trakt_dupes_remove_post(struct hctx *ctx)
{
	int64_t busy = 0, groups = 0, extra = 0, scanned = 0, job_id = 0;
	int dry_run, truncated;
	json_object *o;

	if (h_body_dry_run(ctx, &dry_run) != 0)
		return;
	if (dry_run < 0)
		dry_run = pts_settings_get_bool(ctx->db, PTS_KEY_DRY_RUN);
	if (pts_db_begin(ctx->db) != 0)
		goto fail;
	if (pts_db_int(ctx->db, &busy, 0, "SELECT COUNT(*) FROM jobs WHERE kind IN (?, ?) AND"
	    " state IN ('queued','running') AND profile = pts_profile()", "ss", PTS_JOB_TRAKT_DUPES_SCAN,
	    PTS_JOB_TRAKT_DUPES_REMOVE) != 0 ||
	    rows_meta_epoch(ctx->db, "trakt_dupes_scanned_at", &scanned) != 0 ||
	    dupes_walk(ctx->db, NULL, &groups, &extra, &truncated) != 0)
		goto fail;
	if (busy > 0 || scanned == 0 || extra == 0) {
		pts_db_rollback(ctx->db);
		if (busy > 0)
			resp_conflict(ctx->resp, "busy", "a duplicate scan or removal is queued or"
			    " running", NULL, 0);
		else if (scanned == 0)
			resp_conflict(ctx->resp, "no_scan", "no duplicate scan yet: scan first", NULL,
			    0);
		else
			resp_conflict(ctx->resp, "nothing_to_remove", "the last scan found no"
			    " duplicate plays", NULL, 0);
		return;
	}
	if (!dry_run && pts_jobs_enqueue(ctx->db, PTS_JOB_TRAKT_DUPES_REMOVE, NULL, &job_id) != 0)
		goto fail;
	if (pts_db_commit(ctx->db) != 0)
		goto fail;
	o = json_object_new_object();
	if (dry_run)
		pts_json_add_bool(o, "dry_run", 1);
	else
		pts_json_add_int(o, "job_id", job_id);
	pts_json_add_int(o, "groups", groups);
	pts_json_add_int(o, "extra", extra);
	resp_json(ctx->resp, dry_run ? 200 : 202, o);
	return;
fail:
	pts_db_rollback(ctx->db);
	resp_internal(ctx->resp);
}

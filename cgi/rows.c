/*
 * rows.c - SQLite columns as JSON.
 */
#include "rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "jsonx.h"
#include "log.h"
#include "query.h"
#include "settings.h"
#include "timefmt.h"

void
rows_add_int(json_object *obj, const char *key, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		json_object_object_add(obj, key, NULL);
	else
		pts_json_add_int(obj, key, sqlite3_column_int64(st, col));
}

void
rows_add_text(json_object *obj, const char *key, sqlite3_stmt *st, int col)
{
	pts_json_add_str(obj, key, (const char *)sqlite3_column_text(st, col));
}

void
rows_add_time(json_object *obj, const char *key, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		json_object_object_add(obj, key, NULL);
	else
		pts_json_add_time(obj, key, sqlite3_column_int64(st, col));
}

void
rows_add_real(json_object *obj, const char *key, double v, int decimals)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	json_object_object_add(obj, key, json_object_new_double_s(v, buf));
}

void
rows_add_real_col(json_object *obj, const char *key, sqlite3_stmt *st, int col, int decimals)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		json_object_object_add(obj, key, NULL);
	else
		rows_add_real(obj, key, sqlite3_column_double(st, col), decimals);
}

/* Longest runs.warnings text read (the worker keeps PTS_RUN_WARN_MAX short texts). */
#define ROWS_WARNINGS_MAX 4096

void
rows_add_warnings(json_object *o, sqlite3_stmt *st, int col)
{
	const char *text = (const char *)sqlite3_column_text(st, col);
	json_object *w = NULL, *a = json_object_new_array();
	size_t i;

	if (text != NULL)
		w = pts_json_parse(text, (size_t)sqlite3_column_bytes(st, col), ROWS_WARNINGS_MAX,
		    NULL);
	for (i = 0; w != NULL && json_object_is_type(w, json_type_array) &&
	    i < json_object_array_length(w); i++) {
		json_object *e = json_object_array_get_idx(w, i);

		if (json_object_is_type(e, json_type_string))
			json_object_array_add(a, json_object_get(e));
	}
	json_object_put(w);
	json_object_object_add(o, "warnings", a);
}

json_object *
rows_run(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object();
	const char *status = (const char *)sqlite3_column_text(st, 4);

	if (o == NULL)
		return NULL;
	rows_add_int(o, "id", st, 0);
	rows_add_time(o, "started_at", st, 1);
	rows_add_time(o, "finished_at", st, 2);
	if (sqlite3_column_type(st, 1) != SQLITE_NULL && sqlite3_column_type(st, 2) != SQLITE_NULL)
		pts_json_add_int(o, "duration_s",
		    sqlite3_column_int64(st, 2) - sqlite3_column_int64(st, 1));
	else
		json_object_object_add(o, "duration_s", NULL);
	rows_add_text(o, "trigger", st, 3);
	/* A queued run has not started yet, but to the dashboard it is the current one. */
	pts_json_add_str(o, "status", status && strcmp(status, "queued") == 0 ? "running" : status);
	rows_add_int(o, "items_scanned", st, 5);
	rows_add_int(o, "items_total", st, 6);
	rows_add_int(o, "added_to_trakt", st, 7);
	rows_add_int(o, "added_to_plex", st, 8);
	rows_add_int(o, "not_found", st, 9);
	rows_add_int(o, "unmatched", st, 10);
	rows_add_int(o, "errors", st, 11);
	pts_json_add_bool(o, "dry_run", sqlite3_column_int(st, 12));
	rows_add_text(o, "message", st, 13);
	rows_add_int(o, "undo_of", st, 14);
	rows_add_int(o, "undone_by", st, 15);
	rows_add_int(o, "removed_from_trakt", st, 16);
	rows_add_int(o, "ratings_changed", st, 17);
	rows_add_int(o, "watchlist_changed", st, 18);
	rows_add_int(o, "playback_changed", st, 19);
	rows_add_warnings(o, st, 20);
	/* Households: the profile whose file holds the run (the connection's). */
	rows_add_int(o, "profile", st, 21);
	return o;
}

int
rows_meta_epoch(sqlite3 *db, const char *key, int64_t *out)
{
	char *v = NULL;

	*out = 0;
	if (pts_db_text(db, &v, "SELECT value FROM meta WHERE key = ?", "s", key) != 0)
		return -1;
	if (v != NULL && query_int(v, 0, INT64_MAX, out) != 0 && pts_time_parse(v, out) != 0) {
		char *end;
		double d = strtod(v, &end);

		/* Fractional seconds are fine too; anything else is ignored, not fatal. */
		if (end != v && *end == '\0' && d >= 0 && d < 1e15) {
			*out = (int64_t)d;
		} else {
			pts_log(PTS_LOG_WARN, "meta %s: not a time: %.40s", key, v);
			*out = 0;
		}
	}
	free(v);
	return 0;
}

int
rows_add_job_state(sqlite3 *db, const char *kind, json_object *obj)
{
	sqlite3_stmt *st = pts_db_prepare(db, "SELECT state, error FROM jobs WHERE kind = ?"
	    " AND profile = pts_profile() ORDER BY id DESC LIMIT 1");
	const char *state = NULL;
	int rc;

	if (st == NULL)
		return -1;
	if (sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC) != SQLITE_OK ||
	    (rc = rows_step(db, st)) < 0) {
		sqlite3_finalize(st);
		return -1;
	}
	if (rc == SQLITE_ROW)
		state = (const char *)sqlite3_column_text(st, 0);
	pts_json_add_bool(obj, "refreshing", state != NULL &&
	    (strcmp(state, "queued") == 0 || strcmp(state, "running") == 0));
	if (state != NULL && strcmp(state, "failed") == 0 && sqlite3_column_text(st, 1) != NULL)
		rows_add_text(obj, "error", st, 1);
	else
		json_object_object_add(obj, "error", NULL);
	sqlite3_finalize(st);
	return 0;
}

int
rows_step(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	pts_log(PTS_LOG_ERROR, "db: %s", sqlite3_errmsg(db));
	return -1;
}

json_object *
rows_array(sqlite3 *db, sqlite3_stmt *st, rows_item_fn fn, void *arg, int max, int *truncated)
{
	json_object *a = json_object_new_array();
	int rc, n = 0;

	if (truncated != NULL)
		*truncated = 0;
	while ((rc = rows_step(db, st)) == SQLITE_ROW) {
		if (max > 0 && ++n > max) {
			if (truncated != NULL)
				*truncated = 1;
			rc = SQLITE_DONE;
			break;
		}
		json_object_array_add(a, fn(st, arg));
	}
	sqlite3_finalize(st);
	if (rc < 0) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

/*
 * The schedule: the interval setting and the worker's next due time (meta next_run_at).
 * The worker stores the interval that time was computed for (next_run_interval); while it
 * differs from the setting (just changed, the worker has not caught up), the time is
 * unknown: 0. 0, or -1 on a database error.
 */
int
rows_next_run(sqlite3 *db, int64_t *interval, int64_t *next)
{
	int64_t for_interval = 0;
	char *was = NULL;

	*interval = pts_settings_get_int(db, PTS_KEY_SYNC_INTERVAL_HOURS);
	*next = 0;
	if (*interval <= 0)
		return 0;
	if (rows_meta_epoch(db, "next_run_at", next) != 0 ||
	    pts_db_text(db, &was, "SELECT value FROM meta WHERE key = 'next_run_interval'", "") != 0)
		return -1;
	if (was != NULL && (query_int(was, 0, INT64_MAX, &for_interval) != 0 ||
	    for_interval != *interval))
		*next = 0;
	free(was);
	return 0;
}

/*
 * rows.h - JSON values from SQLite columns, shared by the handlers: NULL columns become JSON
 * null, epoch columns ISO-8601 UTC times, and the one run object /runs and /progress share.
 * Every add_* function adds to obj (owned by the caller).
 */
#ifndef PTS_CGI_ROWS_H
#define PTS_CGI_ROWS_H

#include <json-c/json.h>
#include <sqlite3.h>
#include <stdint.h>

/* The columns rows_run() reads, in its order: SELECT ROWS_RUN_COLUMNS FROM runs ... */
#define ROWS_RUN_COLUMNS "id, COALESCE(started_at, created_at), finished_at, trigger, status," \
	" items_scanned, items_total, added_to_trakt, added_to_plex, not_found, unmatched, errors," \
	" dry_run, message, undo_of, undone_by, removed_from_trakt, ratings_changed," \
	" watchlist_changed, playback_changed, warnings, pts_profile()"

/* Integer column or null. */
void rows_add_int(json_object *obj, const char *key, sqlite3_stmt *st, int col);
/* Text column or null. */
void rows_add_text(json_object *obj, const char *key, sqlite3_stmt *st, int col);
/* Epoch-seconds column as a time, or null (NULL or <= 0). */
void rows_add_time(json_object *obj, const char *key, sqlite3_stmt *st, int col);
/* Real column or null, printed with this many decimals. */
void rows_add_real_col(json_object *obj, const char *key, sqlite3_stmt *st, int col, int decimals);
/* A number printed with this many decimals (0.1 stays "0.1", not 0.10000000000000001). */
void rows_add_real(json_object *obj, const char *key, double v, int decimals);

/* runs.warnings (a JSON array of texts, or NULL) as "warnings": always an array. */
void rows_add_warnings(json_object *o, sqlite3_stmt *st, int col);

/*
 * The schedule: the interval setting and the worker's next due time (meta next_run_at).
 * The worker stores the interval that time was computed for (next_run_interval); while it
 * differs from the setting (just changed, the worker has not caught up), the time is
 * unknown: 0. 0, or -1 on a database error.
 */
int rows_next_run(sqlite3 *db, int64_t *interval, int64_t *next);

/* The run object of GET /api/runs from a row of ROWS_RUN_COLUMNS. NULL when out of memory. */
json_object *rows_run(sqlite3_stmt *st);

/*
 * An epoch kept as text in the meta table (written by the worker): *out = 0 when absent or
 * unreadable. Decimal seconds, or an ISO-8601 time. 0, or -1 on a database error.
 */
int rows_meta_epoch(sqlite3 *db, const char *key, int64_t *out);

/*
 * How the newest job of `kind` stands, for a cache the dashboard shows: adds "refreshing"
 * (queued or running) and "error" (its error text when it failed, else null) to obj.
 * 0, or -1 on a database error (logged; obj untouched).
 */
int rows_add_job_state(sqlite3 *db, const char *kind, json_object *obj);

/* sqlite3_step() that logs a failure: SQLITE_ROW or SQLITE_DONE, or -1 on an error. */
int rows_step(sqlite3 *db, sqlite3_stmt *st);

/* Make the JSON element for the current row of st (arg passed through). */
typedef json_object *(*rows_item_fn)(sqlite3_stmt *st, void *arg);

/*
 * Step st to its end and collect fn(st, arg) for each row into a new array (the caller's).
 * At most max rows (0: no limit); *truncated (may be NULL) says whether more were there.
 * st is finalized either way. NULL on a database error (logged).
 */
json_object *rows_array(sqlite3 *db, sqlite3_stmt *st, rows_item_fn fn, void *arg, int max,
    int *truncated);

#endif

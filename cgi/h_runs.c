/*
 * h_runs.c - GET /api/runs?limit=N (history, newest first) and GET /api/runs/{id}/changes.
 */
#include "handler.h"

#include "db.h"
#include "jsonx.h"
#include "rows.h"

/* Most changes returned for one run; a longer list says "truncated": true. */
#define RUNS_MAX_CHANGES 5000

static json_object *
runs_item(sqlite3_stmt *st, void *arg)
{
	(void)arg;
	return rows_run(st);
}

void
h_runs_get(struct hctx *ctx)
{
	sqlite3_stmt *st = pts_db_prepare(ctx->db, "SELECT " ROWS_RUN_COLUMNS
	    " FROM runs ORDER BY id DESC LIMIT ?");
	json_object *o, *a;

	if (st == NULL || sqlite3_bind_int64(st, 1, query_get(&ctx->q, "limit")) != SQLITE_OK) {
		sqlite3_finalize(st);
		resp_internal(ctx->resp);
		return;
	}
	if ((a = rows_array(ctx->db, st, runs_item, NULL, 0, NULL)) == NULL) {
		resp_internal(ctx->resp);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "runs", a);
	resp_json(ctx->resp, 200, o);
}

/* Longest changes.detail accepted (the worker writes a short object, {"rating": 8, ...}). */
#define RUNS_DETAIL_MAX 1024

/* What a feature change set (changes.detail, a JSON object) as "detail"; absent when none. */
static void
runs_detail(json_object *c, sqlite3_stmt *st, int col)
{
	const char *text = (const char *)sqlite3_column_text(st, col);
	json_object *d;

	if (text == NULL)
		return;
	d = pts_json_parse(text, (size_t)sqlite3_column_bytes(st, col), RUNS_DETAIL_MAX, NULL);
	if (d != NULL && json_object_is_type(d, json_type_object))
		json_object_object_add(c, "detail", d);
	else
		json_object_put(d);
}

/* One change row as JSON. */
static json_object *
runs_change(sqlite3_stmt *st, void *arg)
{
	json_object *c = json_object_new_object();

	(void)arg;
	rows_add_text(c, "action", st, 0);
	rows_add_text(c, "type", st, 1);
	rows_add_text(c, "title", st, 2);
	rows_add_text(c, "show", st, 3);
	rows_add_int(c, "season", st, 4);
	rows_add_int(c, "episode", st, 5);
	rows_add_int(c, "year", st, 6);
	rows_add_time(c, "watched_at", st, 7);
	rows_add_text(c, "result", st, 8);
	rows_add_int(c, "undone_by", st, 9);
	runs_detail(c, st, 10);
	return c;
}

void
h_runs_changes_get(struct hctx *ctx)
{
	sqlite3_stmt *st;
	json_object *o, *a;
	int64_t exists = 0;
	int truncated = 0;

	if (pts_db_int(ctx->db, &exists, 0, "SELECT COUNT(*) FROM runs WHERE id = ?", "i",
	    ctx->id) != 0) {
		resp_internal(ctx->resp);
		return;
	}
	if (exists == 0) {
		resp_error(ctx->resp, 404, "not_found", "no such run", NULL);
		return;
	}
	st = pts_db_prepare(ctx->db, "SELECT action, type, title, show, season, episode, year,"
	    " watched_at, result, undone_by, detail FROM changes WHERE run_id = ? ORDER BY id"
	    " LIMIT ?");
	if (st == NULL || sqlite3_bind_int64(st, 1, ctx->id) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, RUNS_MAX_CHANGES + 1) != SQLITE_OK) {
		sqlite3_finalize(st);
		resp_internal(ctx->resp);
		return;
	}
	a = rows_array(ctx->db, st, runs_change, NULL, RUNS_MAX_CHANGES, &truncated);
	if (a == NULL) {
		resp_internal(ctx->resp);
		return;
	}
	o = json_object_new_object();
	pts_json_add_int(o, "run_id", ctx->id);
	json_object_object_add(o, "changes", a);
	if (truncated)
		pts_json_add_bool(o, "truncated", 1);
	resp_json(ctx->resp, 200, o);
}

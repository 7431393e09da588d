/*
 * h_trakt.c - GET /api/trakt/history (the cached recent plays) and
 * POST /api/trakt/history/refresh (ask the worker to fetch them again).
 */
#include "handler.h"

#include <string.h>

#include "db.h"
#include "jobs.h"
#include "jsonx.h"
#include "rows.h"

/* Largest ids document parsed per item (a handful of ids is ~200 bytes). */
#define TRAKT_IDS_MAX 4096

/* The ids column (JSON text written by the worker) as an object; {} when unreadable. */
static json_object *
trakt_ids(sqlite3_stmt *st, int col)
{
	const char *text = (const char *)sqlite3_column_text(st, col);
	json_object *ids = NULL;

	if (text != NULL)
		ids = pts_json_parse(text, strlen(text), TRAKT_IDS_MAX, NULL);
	if (ids == NULL || !json_object_is_type(ids, json_type_object)) {
		json_object_put(ids);
		ids = json_object_new_object();
	}
	return ids;
}

/* One play of the trakt_history cache. */
static json_object *
trakt_item(sqlite3_stmt *st, void *arg)
{
	json_object *i = json_object_new_object();

	(void)arg;
	rows_add_time(i, "watched_at", st, 0);
	rows_add_text(i, "type", st, 1);
	rows_add_text(i, "title", st, 2);
	rows_add_text(i, "show", st, 3);
	rows_add_int(i, "season", st, 4);
	rows_add_int(i, "episode", st, 5);
	rows_add_int(i, "year", st, 6);
	json_object_object_add(i, "ids", trakt_ids(st, 7));
	rows_add_text(i, "poster", st, 8);
	return i;
}

void
h_trakt_history_get(struct hctx *ctx)
{
	/* Posters are same-origin paths; an older version's TMDb URL (the CSP refuses it) is null. */
	sqlite3_stmt *st = pts_db_prepare(ctx->db, "SELECT watched_at, type, title, show, season,"
	    " episode, year, ids, CASE WHEN substr(poster, 1, 9) = '/posters/' THEN poster END"
	    " FROM trakt_history ORDER BY pos LIMIT ?");
	json_object *o, *a;
	int64_t fetched = 0;

	if (st == NULL || sqlite3_bind_int64(st, 1, query_get(&ctx->q, "limit")) != SQLITE_OK ||
	    rows_meta_epoch(ctx->db, "trakt_history_fetched_at", &fetched) != 0) {
		sqlite3_finalize(st);
		resp_internal(ctx->resp);
		return;
	}
	if ((a = rows_array(ctx->db, st, trakt_item, NULL, 0, NULL)) == NULL) {
		resp_internal(ctx->resp);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "items", a);
	pts_json_add_time(o, "fetched_at", fetched);
	if (rows_add_job_state(ctx->db, PTS_JOB_TRAKT_HISTORY_REFRESH, o) != 0) {
		json_object_put(o);
		resp_internal(ctx->resp);
		return;
	}
	resp_json(ctx->resp, 200, o);
}

void
h_trakt_history_refresh_post(struct hctx *ctx)
{
	h_refresh_post(ctx, PTS_JOB_TRAKT_HISTORY_REFRESH);
}

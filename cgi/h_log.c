/*
 * h_log.c - GET /api/log?after=ID&limit=N[&run_id=R][&level=L]: log lines after an id.
 */
#include "handler.h"

#include "db.h"
#include "jsonx.h"
#include "rows.h"
#include "timefmt.h"

/* One log line as JSON; *arg (int64_t) follows the last id seen. */
static json_object *
log_entry(sqlite3_stmt *st, void *arg)
{
	json_object *e = json_object_new_object();
	char ts[PTS_TIME_ISO_LEN];
	int64_t *last = arg;

	*last = sqlite3_column_int64(st, 0);
	pts_json_add_int(e, "id", *last);
	pts_time_iso_ms(sqlite3_column_int64(st, 1), ts, sizeof(ts));
	pts_json_add_str(e, "ts", ts);
	rows_add_text(e, "level", st, 2);
	rows_add_int(e, "run_id", st, 3);
	rows_add_text(e, "message", st, 4);
	return e;
}

void
h_log_get(struct hctx *ctx)
{
	int64_t after = query_get(&ctx->q, "after"), last = after, run_id = 0;
	sqlite3_stmt *st;
	json_object *o, *a;

	if (query_isset(&ctx->q, "run_id"))
		run_id = query_get(&ctx->q, "run_id");
	/* Levels rank as in common/log.h; an unknown stored level counts as info. */
	st = pts_db_prepare(ctx->db, "SELECT id, ts_ms, level, run_id, message FROM log"
	    " WHERE id > ?1 AND (?2 = 0 OR run_id = ?2) AND (CASE level WHEN 'debug' THEN 0"
	    " WHEN 'info' THEN 1 WHEN 'warn' THEN 2 WHEN 'error' THEN 3 ELSE 1 END) >= ?3"
	    " ORDER BY id LIMIT ?4");
	if (st == NULL || sqlite3_bind_int64(st, 1, after) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, run_id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, query_get(&ctx->q, "level")) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, query_get(&ctx->q, "limit")) != SQLITE_OK) {
		sqlite3_finalize(st);
		resp_internal(ctx->resp);
		return;
	}
	if ((a = rows_array(ctx->db, st, log_entry, &last, 0, NULL)) == NULL) {
		resp_internal(ctx->resp);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "entries", a);
	pts_json_add_int(o, "last_id", last);
	resp_json(ctx->resp, 200, o);
}

/*
 * h_status.c - GET /api/status: the sync state, the schedule, who is signed in, the version.
 */
#include "handler.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "jobs.h"
#include "jsonx.h"
#include "rows.h"
#include "settings.h"

#ifndef PTS_VERSION
#define PTS_VERSION "unknown"
#endif

/* {"authorized", "state", "user"[, "expires_at"]} from the auth row. NULL on a db error. */
static json_object *
status_auth(sqlite3 *db, const char *service, int with_expiry)
{
	sqlite3_stmt *st = pts_db_cached(db, "SELECT state, user, token_expires_at FROM auth"
	    " WHERE service = ?");
	json_object *o;
	int rc;

	if (st == NULL)
		return NULL;
	if (sqlite3_bind_text(st, 1, service, -1, SQLITE_STATIC) != SQLITE_OK ||
	    (rc = rows_step(db, st)) < 0) {
		pts_db_done(st);
		return NULL;
	}
	o = json_object_new_object();
	if (rc == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(st, 0);

		pts_json_add_bool(o, "authorized", state != NULL && strcmp(state, "authorized") == 0);
		pts_json_add_str(o, "state", state);
		rows_add_text(o, "user", st, 1);
		if (with_expiry)
			rows_add_time(o, "expires_at", st, 2);
	} else {
		pts_json_add_bool(o, "authorized", 0);
		pts_json_add_str(o, "state", "none");
		json_object_object_add(o, "user", NULL);
		if (with_expiry)
			json_object_object_add(o, "expires_at", NULL);
	}
	pts_db_done(st);
	return o;
}

void
h_status_get(struct hctx *ctx)
{
	json_object *o, *sync, *sched, *auth, *plex, *trakt;
	enum pts_sync_state state;
	int64_t run_id, interval, next = 0;

	if (pts_jobs_sync_state(ctx->db, &state, &run_id) != 0 ||
	    rows_next_run(ctx->db, &interval, &next) != 0) {
		resp_internal(ctx->resp);
		return;
	}
	plex = status_auth(ctx->db, "plex", 0);
	trakt = status_auth(ctx->db, "trakt", 1);
	if (plex == NULL || trakt == NULL) {
		json_object_put(plex);
		json_object_put(trakt);
		resp_internal(ctx->resp);
		return;
	}
	o = json_object_new_object();
	sync = json_object_new_object();
	pts_json_add_str(sync, "state", pts_sync_state_name(state));
	if (run_id > 0)
		pts_json_add_int(sync, "run_id", run_id);
	else
		json_object_object_add(sync, "run_id", NULL);
	json_object_object_add(o, "sync", sync);
	sched = json_object_new_object();
	pts_json_add_int(sched, "interval_hours", interval);
	pts_json_add_time(sched, "next_run_at", next);
	json_object_object_add(o, "schedule", sched);
	auth = json_object_new_object();
	json_object_object_add(auth, "plex", plex);
	json_object_object_add(auth, "trakt", trakt);
	json_object_object_add(o, "auth", auth);
	pts_json_add_str(o, "version", PTS_VERSION);
	resp_json(ctx->resp, 200, o);
}

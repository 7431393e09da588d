/*
 * h_plexusers.c - GET /api/plex/users (the server's people as plex.tv lists them for the
 * owner, with the profile each one has) and POST /api/plex/users/refresh (the worker's
 * plex_users job reads them). The owner's alone: no ?profile=. Server tokens never leave.
 */
#include "handler.h"

#include "db.h"
#include "jobs.h"
#include "jsonx.h"
#include "rows.h"

/* People answered at most (the worker keeps PTS_PUSERS_MAX = 100 of them). */
#define PLEXUSERS_MAX_ROWS 1000

static json_object *
plexusers_item(sqlite3_stmt *st, void *arg)
{
	json_object *i = json_object_new_object();

	(void)arg;
	rows_add_text(i, "id", st, 0);
	rows_add_text(i, "title", st, 1);
	rows_add_text(i, "kind", st, 2);
	rows_add_int(i, "profile_id", st, 3);
	return i;
}

void
h_plex_users_get(struct hctx *ctx)
{
	/* The owner's profile is 1 whatever plex.tv id it has; the others are found by user. */
	sqlite3_stmt *st = pts_db_prepare(ctx->db, "SELECT u.id, u.title, u.kind,"
	    " CASE WHEN u.kind = 'owner' THEN 1 ELSE p.id END, u.fetched_at"
	    " FROM plex_users u LEFT JOIN profiles p ON p.plex_user_id = u.id AND p.id > 1"
	    " ORDER BY CASE u.kind WHEN 'owner' THEN 0 WHEN 'home' THEN 1 WHEN 'managed' THEN 2"
	    " ELSE 3 END, u.title COLLATE NOCASE, u.id");
	json_object *o, *a;
	int64_t fetched = 0;

	if (st == NULL || pts_db_int(ctx->db, &fetched, 0, "SELECT COALESCE(MAX(fetched_at), 0)"
	    " FROM plex_users", "") != 0) {
		sqlite3_finalize(st);
		resp_internal(ctx->resp);
		return;
	}
	if ((a = rows_array(ctx->db, st, plexusers_item, NULL, PLEXUSERS_MAX_ROWS, NULL)) == NULL) {
		resp_internal(ctx->resp);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "users", a);
	pts_json_add_time(o, "fetched_at", fetched);
	if (rows_add_job_state(ctx->db, PTS_JOB_PLEX_USERS, o) != 0) {
		json_object_put(o);
		resp_internal(ctx->resp);
		return;
	}
	resp_json(ctx->resp, 200, o);
}

void
h_plex_users_refresh_post(struct hctx *ctx)
{
	h_refresh_post(ctx, PTS_JOB_PLEX_USERS);
}

/*
 * h_nowplaying.c - GET /api/now-playing: the Plex sessions the live scrobbler saw last.
 *
 * Read from the now_playing table the worker replaces on each poll of Plex's
 * /status/sessions (schema steps 8, 9); "updated_at" is the time of that poll (meta
 * 'now_playing_at'), null before the first; "poster" the same-origin path of the item's
 * poster or null. Nothing here touches the network.
 */
#include "handler.h"

#include "clock.h"
#include "db.h"
#include "jsonx.h"
#include "rows.h"

/* meta key the worker writes after each poll (epoch seconds). */
#define NOWPLAYING_META_AT "now_playing_at"
/* Most sessions listed (a home server has a handful; the table is bounded by Plex's list). */
#define NOWPLAYING_MAX 50

static json_object *
nowplaying_item(sqlite3_stmt *st, void *arg)
{
	json_object *o = json_object_new_object();

	(void)arg;
	rows_add_text(o, "type", st, 0);
	rows_add_text(o, "title", st, 1);
	rows_add_text(o, "show", st, 2);
	rows_add_int(o, "season", st, 3);
	rows_add_int(o, "episode", st, 4);
	rows_add_int(o, "year", st, 5);
	rows_add_text(o, "user", st, 6);
	rows_add_text(o, "player", st, 7);
	rows_add_text(o, "state", st, 8);
	rows_add_real_col(o, "progress", st, 9, 1);
	rows_add_text(o, "trakt", st, 10);
	rows_add_int(o, "profile", st, 11);   /* households: whose Trakt it goes to, or null */
	rows_add_text(o, "poster", st, 12);
	return o;
}

void
h_nowplaying_get(struct hctx *ctx)
{
	sqlite3_stmt *st;
	json_object *o, *arr;
	int64_t at = 0;

	/* A stream that ended scrobbled is listed until its shown_until (the worker drops the
	 * row at its next poll after that). */
	st = pts_db_prepare(ctx->db, "SELECT type, title, show, season, episode, year, user,"
	    " player, state, progress, trakt, profile, poster FROM now_playing"
	    " WHERE shown_until IS NULL OR shown_until > ? ORDER BY seen_at, session_key");
	if (st != NULL)
		sqlite3_bind_int64(st, 1, pts_now());
	if (st == NULL || (arr = rows_array(ctx->db, st, nowplaying_item, NULL, NOWPLAYING_MAX,
	    NULL)) == NULL || rows_meta_epoch(ctx->db, NOWPLAYING_META_AT, &at) != 0) {
		resp_error(ctx->resp, 500, "internal", "database error", NULL);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "sessions", arr);
	pts_json_add_time(o, "updated_at", at);
	resp_json(ctx->resp, 200, o);
}

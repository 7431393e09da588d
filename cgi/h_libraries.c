/*
 * h_libraries.c - GET/PUT /api/libraries (which Plex libraries a sync covers) and
 * POST /api/libraries/refresh (ask the worker to fetch the list from Plex).
 */
#include "handler.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "jobs.h"
#include "jsonx.h"
#include "rows.h"

/* Most keys one PUT may select (a Plex server has a handful of libraries). */
#define LIBRARIES_MAX_SELECTED 1000

static json_object *
libraries_item(sqlite3_stmt *st, void *arg)
{
	json_object *l = json_object_new_object();

	(void)arg;
	rows_add_text(l, "key", st, 0);
	rows_add_text(l, "title", st, 1);
	rows_add_text(l, "type", st, 2);
	rows_add_int(l, "count", st, 3);
	pts_json_add_bool(l, "selected", sqlite3_column_int(st, 4));
	return l;
}

/* Answer the list: {"libraries": [...], "fetched_at"}. */
static void
libraries_answer(struct hctx *ctx)
{
	sqlite3_stmt *st = pts_db_prepare(ctx->db, "SELECT key, title, type, count, selected"
	    " FROM libraries WHERE present = 1 ORDER BY CAST(key AS INTEGER), key");
	json_object *o, *a;
	int64_t fetched = 0;

	if (st == NULL || rows_meta_epoch(ctx->db, "libraries_fetched_at", &fetched) != 0) {
		sqlite3_finalize(st);
		resp_internal(ctx->resp);
		return;
	}
	if ((a = rows_array(ctx->db, st, libraries_item, NULL, 0, NULL)) == NULL) {
		resp_internal(ctx->resp);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "libraries", a);
	pts_json_add_time(o, "fetched_at", fetched);
	resp_json(ctx->resp, 200, o);
}

void
h_libraries_get(struct hctx *ctx)
{
	libraries_answer(ctx);
}

/*
 * Check {"selected": ["key", ...]}: every key a string naming a present library.
 * Returns the array (borrowed) or NULL with reasons in fields; *dberr on a database error.
 */
static json_object *
libraries_check(sqlite3 *db, json_object *body, json_object *fields, int *dberr)
{
	json_object *sel = NULL;
	char why[160];
	size_t i, n;

	*dberr = 0;
	if (!json_object_is_type(body, json_type_object)) {
		json_object_object_add(fields, "body", json_object_new_string("must be a JSON object"));
		return NULL;
	}
	json_object_object_foreach(body, key, val) {
		if (strcmp(key, "selected") == 0)
			sel = val;
		else
			json_object_object_add(fields, key, json_object_new_string("unknown key"));
	}
	if (sel == NULL || !json_object_is_type(sel, json_type_array)) {
		json_object_object_add(fields, "selected",
		    json_object_new_string("must be an array of library keys"));
		return NULL;
	}
	n = json_object_array_length(sel);
	if (n > LIBRARIES_MAX_SELECTED) {
		json_object_object_add(fields, "selected", json_object_new_string("has too many keys"));
		return NULL;
	}
	for (i = 0; i < n; i++) {
		json_object *k = json_object_array_get_idx(sel, i);
		int64_t found = 0;

		if (!json_object_is_type(k, json_type_string)) {
			snprintf(why, sizeof(why), "item %zu is not a string", i);
			json_object_object_add(fields, "selected", json_object_new_string(why));
			return NULL;
		}
		if (pts_db_int(db, &found, 0, "SELECT COUNT(*) FROM libraries WHERE key = ?"
		    " AND present = 1", "s", json_object_get_string(k)) != 0) {
			*dberr = 1;
			return NULL;
		}
		if (found == 0) {
			/* The index, not the key: the key is the client's text, echoed nowhere. */
			snprintf(why, sizeof(why), "item %zu is not a known library key", i);
			json_object_object_add(fields, "selected", json_object_new_string(why));
			return NULL;
		}
	}
	return json_object_object_length(fields) > 0 ? NULL : sel;
}

void
h_libraries_put(struct hctx *ctx)
{
	json_object *fields = json_object_new_object(), *sel;
	size_t i, n;
	int dberr;

	sel = libraries_check(ctx->db, ctx->body, fields, &dberr);
	if (sel == NULL) {
		if (dberr) {
			json_object_put(fields);
			resp_internal(ctx->resp);
		} else {
			resp_error(ctx->resp, 400, "bad_request", "invalid library selection", fields);
		}
		return;
	}
	json_object_put(fields);
	if (pts_db_begin(ctx->db) != 0 ||
	    pts_db_run(ctx->db, "UPDATE libraries SET selected = 0", "") != 0)
		goto fail;
	n = json_object_array_length(sel);
	for (i = 0; i < n; i++)
		if (pts_db_run(ctx->db, "UPDATE libraries SET selected = 1 WHERE key = ?", "s",
		    json_object_get_string(json_object_array_get_idx(sel, i))) != 0)
			goto fail;
	if (pts_db_commit(ctx->db) != 0)
		goto fail;
	libraries_answer(ctx);
	return;
fail:
	pts_db_rollback(ctx->db);
	resp_internal(ctx->resp);
}

void
h_libraries_refresh_post(struct hctx *ctx)
{
	h_refresh_post(ctx, PTS_JOB_LIBRARIES_REFRESH);
}

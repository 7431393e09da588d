/*
 * h_sync.c - POST /api/sync (start a sync now) and POST /api/sync/stop.
 */
#include "handler.h"

#include <string.h>

#include "jobs.h"
#include "jsonx.h"
#include "settings.h"

/* Check the optional body {"dry_run": bool, "full": bool}. Fields of bad keys go to fields. */
static int
sync_check_body(json_object *body, json_object *fields)
{
	int bad = 0;

	if (body == NULL)
		return 0;
	if (!json_object_is_type(body, json_type_object)) {
		json_object_object_add(fields, "body", json_object_new_string("must be a JSON object"));
		return 1;
	}
	json_object_object_foreach(body, key, val) {
		const char *why = NULL;

		if (strcmp(key, "dry_run") != 0 && strcmp(key, "full") != 0)
			why = "unknown key";
		else if (!json_object_is_type(val, json_type_boolean))
			why = "must be true or false";
		if (why != NULL) {
			json_object_object_add(fields, key, json_object_new_string(why));
			bad++;
		}
	}
	return bad;
}

void
h_sync_post(struct hctx *ctx)
{
	json_object *fields = json_object_new_object(), *o;
	int64_t run_id = 0;
	int dry_run, full, rc;

	if (sync_check_body(ctx->body, fields) > 0) {
		resp_error(ctx->resp, 400, "bad_request", "invalid sync options", fields);
		return;
	}
	json_object_put(fields);
	dry_run = pts_json_bool(ctx->body, "dry_run", -1);
	if (dry_run < 0)
		dry_run = pts_settings_get_bool(ctx->db, PTS_KEY_DRY_RUN);
	full = pts_json_bool(ctx->body, "full", 0);
	rc = pts_jobs_request_sync(ctx->db, "manual", dry_run, full, &run_id);
	if (rc < 0) {
		resp_internal(ctx->resp);
		return;
	}
	if (rc > 0) {
		resp_conflict(ctx->resp, NULL, "a sync (or an undo) is already queued or running",
		    "run_id", run_id);
		return;
	}
	o = json_object_new_object();
	pts_json_add_int(o, "run_id", run_id);
	resp_json(ctx->resp, 202, o);
}

void
h_sync_stop_post(struct hctx *ctx)
{
	json_object *o;
	int rc = pts_jobs_stop_sync(ctx->db);

	if (rc < 0) {
		resp_internal(ctx->resp);
		return;
	}
	if (rc > 0) {
		resp_conflict(ctx->resp, NULL, "no sync is queued or running", NULL, 0);
		return;
	}
	o = json_object_new_object();
	pts_json_add_bool(o, "ok", 1);
	resp_json(ctx->resp, 202, o);
}

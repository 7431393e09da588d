/*
 * h_undo.c - POST /api/runs/{id}/undo: queue an undo of a run (a run of its own, trigger
 * 'undo'), or say why not. The checks and the insert are one transaction
 * (pts_jobs_request_undo); the worker does the rest (worker/jobs/undo.c).
 */
#include "handler.h"

#include <stdio.h>
#include <string.h>

#include "jobs.h"
#include "jsonx.h"
#include "settings.h"

/*
 * The optional body {"dry_run": bool}. 0 with *dry_run set (-1: not given), or 1 after
 * answering 400.
 */
int
h_body_dry_run(struct hctx *ctx, int *dry_run)
{
	json_object *fields;
	int bad = 0;

	*dry_run = -1;
	if (ctx->body == NULL)
		return 0;
	fields = json_object_new_object();
	if (!json_object_is_type(ctx->body, json_type_object)) {
		json_object_object_add(fields, "body", json_object_new_string("must be a JSON object"));
		bad = 1;
	} else {
		json_object_object_foreach(ctx->body, key, val) {
			const char *why = NULL;

			if (strcmp(key, "dry_run") != 0)
				why = "unknown key";
			else if (!json_object_is_type(val, json_type_boolean))
				why = "must be true or false";
			else
				*dry_run = json_object_get_boolean(val);
			if (why != NULL) {
				json_object_object_add(fields, key, json_object_new_string(why));
				bad = 1;
			}
		}
	}
	if (bad) {
		resp_error(ctx->resp, 400, "bad_request", "invalid options", fields);
		return 1;
	}
	json_object_put(fields);
	return 0;
}

void
h_runs_undo_post(struct hctx *ctx)
{
	char msg[128];
	int64_t run_id = 0, other = 0;
	int dry_run, rc;
	json_object *o;

	if (h_body_dry_run(ctx, &dry_run) != 0)
		return;
	if (dry_run < 0)
		dry_run = pts_settings_get_bool(ctx->db, PTS_KEY_DRY_RUN);
	rc = pts_jobs_request_undo(ctx->db, ctx->id, dry_run, &run_id, &other);
	switch (rc) {
	case PTS_UNDO_QUEUED:
		o = json_object_new_object();
		pts_json_add_int(o, "run_id", run_id);
		resp_json(ctx->resp, 202, o);
		return;
	case PTS_UNDO_NO_RUN:
		resp_error(ctx->resp, 404, "not_found", "no such run", NULL);
		return;
	case PTS_UNDO_BUSY:
		/* The run in the way is named when the queue knows it. */
		resp_conflict(ctx->resp, "busy", "a sync or an undo is queued or running: wait for"
		    " it to end", other > 0 ? "run_id" : NULL, other);
		return;
	case PTS_UNDO_ALREADY:
		snprintf(msg, sizeof(msg), "run %lld was already undone (by run %lld)",
		    (long long)ctx->id, (long long)other);
		resp_conflict(ctx->resp, "already_undone", msg, other > 0 ? "undone_by" : NULL,
		    other);
		return;
	case PTS_UNDO_DRY_RUN:
		snprintf(msg, sizeof(msg), "run %lld was a dry run: it changed nothing to undo",
		    (long long)ctx->id);
		resp_conflict(ctx->resp, "dry_run", msg, NULL, 0);
		return;
	case PTS_UNDO_IS_UNDO:
		snprintf(msg, sizeof(msg), "run %lld is an undo: it cannot be undone itself",
		    (long long)ctx->id);
		resp_conflict(ctx->resp, "is_undo", msg, NULL, 0);
		return;
	case PTS_UNDO_NOTHING:
		snprintf(msg, sizeof(msg), "run %lld added nothing to Trakt that is left to undo",
		    (long long)ctx->id);
		resp_conflict(ctx->resp, "nothing_to_undo", msg, NULL, 0);
		return;
	default:
		resp_internal(ctx->resp);
		return;
	}
}

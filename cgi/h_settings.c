/*
 * h_settings.c - GET and PUT /api/settings (the table and its rules live in common/settings.c).
 */
#include "handler.h"

#include "jsonx.h"
#include "log.h"
#include "session.h"
#include "settings.h"

void
h_settings_get(struct hctx *ctx)
{
	json_object *o = pts_settings_to_json(ctx->db);

	if (o == NULL)
		resp_internal(ctx->resp);
	else
		resp_json(ctx->resp, 200, o);
}

/* Does this PUT body change the dashboard password (not just echo its mask)? */
static int
settings_password_changed(json_object *body)
{
	json_object *v;

	if (!json_object_object_get_ex(body, "dashboard_password", &v))
		return 0;
	return !pts_json_bool(v, "set", 0);
}

void
h_settings_put(struct hctx *ctx)
{
	json_object *fields = json_object_new_object(), *o;
	int rc = pts_settings_apply(ctx->db, ctx->body, fields);

	if (rc > 0) {
		resp_error(ctx->resp, 400, "invalid_settings", "some settings are invalid; nothing"
		    " was saved", fields);
		return;
	}
	json_object_put(fields);
	if (rc < 0) {
		resp_internal(ctx->resp);
		return;
	}
	/* A new password ends every other session; the one that changed it stays. */
	if (settings_password_changed(ctx->body) &&
	    session_delete_others(ctx->db, ctx->req->cookie) != 0)
		pts_log(PTS_LOG_WARN, "settings: password changed but old sessions remain");
	o = pts_settings_to_json(ctx->db);
	if (o == NULL)
		resp_internal(ctx->resp);
	else
		resp_json(ctx->resp, 200, o);
}

/*
 * h_settings.c - GET and PUT /api/settings (the table and its rules live in common/settings.c).
 */
#include "handler.h"

#include <stdlib.h>
#include <string.h>

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

/*
 * The password rule (docs/API.md): changing or removing a dashboard password that is set
 * needs the right "current_password" in the same body, checked under the login throttle.
 * cur is that member (taken out of the body: it is not a setting), NULL when absent.
 * Runs only on an otherwise valid body. 0 to go on, -1 when ctx->resp holds the answer.
 */
static int
settings_password_rule(struct hctx *ctx, json_object *cur)
{
	char *hash = NULL;
	int rc;

	if (!settings_password_changed(ctx->body))
		return 0;
	if (session_password_hash(ctx->db, &hash) != 0) {
		resp_internal(ctx->resp);
		return -1;
	}
	if (hash == NULL)
		return 0; /* none set yet: anyone who may change settings may choose one */
	rc = cur != NULL ? h_password_check(ctx, json_object_get_string(cur), hash) : 0;
	explicit_bzero(hash, strlen(hash));
	free(hash);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		pts_log(PTS_LOG_WARN, "settings: dashboard password change refused: %s",
		    cur != NULL ? "wrong current password" : "no current password");
		resp_error(ctx->resp, 403, "forbidden", cur != NULL ? "the current password is wrong;"
		    " nothing was saved" : "changing or removing the dashboard password needs"
		    " \"current_password\"; nothing was saved", NULL);
		return -1;
	}
	return 0;
}

void
h_settings_put(struct hctx *ctx)
{
	json_object *fields = json_object_new_object(), *o, *cur = NULL;
	int rc;

	if (json_object_is_type(ctx->body, json_type_object) &&
	    json_object_object_get_ex(ctx->body, "current_password", &cur)) {
		cur = json_object_get(cur);
		json_object_object_del(ctx->body, "current_password");
		if (!json_object_is_type(cur, json_type_string)) {
			json_object_put(cur);
			json_object_object_add(fields, "current_password",
			    json_object_new_string("must be a string"));
			resp_error(ctx->resp, 400, "invalid_settings", "some settings are invalid;"
			    " nothing was saved", fields);
			return;
		}
	}
	rc = pts_settings_validate(ctx->body, fields) == 0 ? settings_password_rule(ctx, cur) : 0;
	json_object_put(cur);
	if (rc != 0) {
		json_object_put(fields);
		return;
	}
	json_object_put(fields);
	fields = json_object_new_object();
	rc = pts_settings_apply(ctx->db, ctx->body, fields);

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

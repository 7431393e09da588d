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
 * Take "current_password" out of a PUT body (it is not a setting) into *cur (a reference the
 * caller puts; NULL when absent). 0, or -1 when ctx->resp holds the 400 (not a string).
 */
static int
settings_take_current(struct hctx *ctx, json_object **cur)
{
	*cur = NULL;
	if (!json_object_is_type(ctx->body, json_type_object) ||
	    !json_object_object_get_ex(ctx->body, "current_password", cur))
		return 0;
	*cur = json_object_get(*cur);
	json_object_object_del(ctx->body, "current_password");
	if (json_object_is_type(*cur, json_type_string))
		return 0;
	json_object_put(*cur);
	*cur = NULL;
	resp_bad_field(ctx->resp, "invalid_settings", "current_password", "must be a string");
	return -1;
}

/*
 * The password rule (docs/API.md): changing or removing a dashboard password that is set
 * needs the right "current_password" in the same body, checked under the login throttle.
 * A body that fails validation is left to pts_settings_apply (400 before 403).
 * 0 to go on, -1 when ctx->resp holds the answer (400, 403, 429 or 500).
 */
static int
settings_password_rule(struct hctx *ctx)
{
	json_object *cur, *fields;
	char *hash = NULL;
	int bad, rc;

	if (settings_take_current(ctx, &cur) != 0)
		return -1;
	fields = json_object_new_object();
	bad = pts_settings_validate(ctx->body, fields);
	json_object_put(fields);
	if (bad != 0 || !settings_password_changed(ctx->body)) {
		json_object_put(cur);
		return 0;
	}
	if (session_password_hash(ctx->db, &hash) != 0) {
		json_object_put(cur);
		resp_internal(ctx->resp);
		return -1;
	}
	if (hash == NULL) {
		json_object_put(cur);
		return 0; /* none set yet: anyone who may change settings may choose one */
	}
	rc = cur != NULL ? h_password_check(ctx, json_object_get_string(cur), hash) : 0;
	explicit_bzero(hash, strlen(hash));
	free(hash);
	if (rc == 0) {
		pts_log(PTS_LOG_WARN, "settings: dashboard password change refused: %s",
		    cur != NULL ? "wrong current password" : "no current password");
		resp_error(ctx->resp, 403, "forbidden", cur != NULL ? "the current password is wrong;"
		    " nothing was saved" : "changing or removing the dashboard password needs"
		    " \"current_password\"; nothing was saved", NULL);
	}
	json_object_put(cur);
	return rc > 0 ? 0 : -1;
}

void
h_settings_put(struct hctx *ctx)
{
	json_object *fields, *o;
	int rc;

	if (settings_password_rule(ctx) != 0)
		return;
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

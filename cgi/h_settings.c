/*
 * h_settings.c - GET and PUT /api/settings (the table and its rules live in common/settings.c).
 */
#include "handler.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "db.h"
#include "jsonx.h"
#include "log.h"
#include "profauth.h"
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

/* Longest "scheme://host:port" compared (the setting itself is bounded by PTS_SETTING_URL_MAX). */
#define SETTINGS_ORIGIN_MAX 320

/*
 * The origin of an http(s) URL as "scheme://host:port": scheme and host in lower case, user
 * info dropped, the default port filled in. "" for an empty or unreadable URL.
 */
static void
settings_url_origin(const char *url, char *out, size_t len)
{
	const char *auth, *end, *at, *host_end, *port = NULL;
	int https = strncasecmp(url, "https://", 8) == 0;
	long pnum;
	size_t i, n;

	out[0] = '\0';
	if (!https && strncasecmp(url, "http://", 7) != 0)
		return;
	auth = url + (https ? 8 : 7);
	end = auth + strcspn(auth, "/?#");
	for (at = auth; at < end; at++)   /* user info ends at the last '@' */
		if (*at == '@')
			auth = at + 1;
	if (*auth == '[') {
		host_end = memchr(auth, ']', (size_t)(end - auth));
		if (host_end == NULL)
			return;
		host_end++;
	} else {
		host_end = memchr(auth, ':', (size_t)(end - auth));
		if (host_end == NULL)
			host_end = end;
	}
	if (host_end < end && *host_end == ':')
		port = host_end + 1;
	pnum = port != NULL && port < end ? strtol(port, NULL, 10) : (https ? 443 : 80);
	n = (size_t)(host_end - auth);
	if (n + 32 > len)
		return;
	i = (size_t)snprintf(out, len, "%s://", https ? "https" : "http");
	for (; auth < host_end; auth++)
		out[i++] = (char)tolower((unsigned char)*auth);
	snprintf(out + i, len - i, ":%ld", pnum);
}

/*
 * The Plex sign-in belongs to the server it was used with. When a valid PUT moves plex_url to
 * another server (scheme, host or port differ) or clears it, the stored Plex token is forgotten
 * first, in its own transaction, before the new URL is saved: pts_plex_open (worker) reads the
 * URL and then the token for each job, so no job can pair the new URL with the old token. A
 * job already running keeps the URL it started with, and the generation moving on
 * (worker/core/authgen.h) stops it at its next Plex request. The same server (a path or a trailing
 * "/" changed) keeps the sign-in. 0, or -1 on a database error.
 */
static int
settings_plex_url_guard(sqlite3 *db, json_object *body)
{
	json_object *v, *scratch;
	char *old;
	char a[SETTINGS_ORIGIN_MAX], b[SETTINGS_ORIGIN_MAX];
	int bad, rc = 0;

	if (!json_object_object_get_ex(body, "plex_url", &v) ||
	    !json_object_is_type(v, json_type_string))
		return 0;
	scratch = json_object_new_object();
	bad = pts_settings_validate(body, scratch);
	json_object_put(scratch);
	if (bad != 0)
		return 0;   /* refused below: nothing changes */
	if ((old = pts_settings_get_str(db, PTS_KEY_PLEX_URL)) == NULL)
		return -1;
	settings_url_origin(old, a, sizeof(a));
	settings_url_origin(json_object_get_string(v), b, sizeof(b));
	if (old[0] != '\0' && strcmp(a, b) != 0) {
		rc = pts_db_run(db, "UPDATE auth SET state = 'none', code = NULL, url = NULL,"
		    " flow_id = NULL, poll_interval = NULL, flow_expires_at = NULL,"
		    " access_token = NULL, refresh_token = NULL, token_expires_at = NULL,"
		    " user = NULL, error = 'The Plex server changed: sign in to Plex again',"
		    " gen = gen + 1, updated_at = ? WHERE service = 'plex'"
		    " AND access_token IS NOT NULL", "i",
		    pts_now());
		if (rc == 0 && sqlite3_changes(db) > 0)
			pts_log(PTS_LOG_INFO, "settings: plex_url now names another server: the Plex"
			    " sign-in was forgotten");
		/* The other profiles' tokens were for the old server. */
		if (rc == 0 && pts_profauth_forget_plex(db, "The Plex server changed: the owner"
		    " signs in to Plex again, then the profile's Plex access is read anew") != 0)
			pts_log(PTS_LOG_WARN, "settings: plex_url changed, but a profile's Plex token"
			    " remains");
	}
	free(old);
	return rc;
}

void
h_settings_put(struct hctx *ctx)
{
	json_object *fields, *o;
	int rc;

	if (settings_password_rule(ctx) != 0)
		return;
	fields = json_object_new_object();
	/* The guard goes right before the save: no check may refuse the PUT after it. */
	rc = settings_plex_url_guard(ctx->db, ctx->body) != 0 ? -1 :
	    pts_settings_apply(ctx->db, ctx->body, fields);

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

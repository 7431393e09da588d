/*
 * handler.h - what every API handler receives, and the handlers themselves (one file per
 * resource, h_<resource>.c, named h_<resource>_<method>).
 *
 * By the time a handler runs, app.c has done every edge check: the route and its {id}, the
 * login and CSRF rules, the body size and type, the JSON parse and the query parameters.
 * A handler only reads typed values and sets ctx->resp; it never exits, and it reports a
 * database failure with resp_internal() (the cause is logged where it happened).
 */
#ifndef PTS_CGI_HANDLER_H
#define PTS_CGI_HANDLER_H

#include <json-c/json.h>
#include <sqlite3.h>
#include <stdint.h>

#include "query.h"
#include "req.h"
#include "resp.h"

struct hctx {
	const struct req *req;
	struct resp *resp;
	sqlite3 *db;           /* NULL only for ROUTE_NODB routes while the database is down */
	json_object *body;     /* the parsed JSON body, NULL when none was sent (borrowed) */
	int64_t id;            /* the {id} path segment, 0 when the route has none */
	struct query_vals q;   /* validated query parameters (query_get) */
	int64_t profile;       /* ROUTE_PROFILE routes: the profile db belongs to; else 1 */
};

typedef void (*handler_fn)(struct hctx *ctx);

/*
 * The optional body {"dry_run": bool} of the undo and duplicate-removal POSTs (h_undo.c):
 * 0 with *dry_run set (-1 when not given), or 1 after answering 400 bad_request.
 */
int h_body_dry_run(struct hctx *ctx, int *dry_run);

/*
 * Check a password against the stored hash under the login throttle (h_login.c, throttle.h):
 * 1 right, 0 wrong (counted; nothing answered yet), -1 when ctx->resp holds the answer
 * (429 rate_limited with Retry-After while logins are refused, or 500).
 */
int h_password_check(struct hctx *ctx, const char *password, const char *hash);

/*
 * The refresh POSTs (h_refresh.c): queue a job of kind (PTS_JOB_*) unless one is queued or
 * running, and answer 202 {"job_id"} naming the job the client waits for, or 500.
 */
void h_refresh_post(struct hctx *ctx, const char *kind);

void h_health_get(struct hctx *ctx);
void h_status_get(struct hctx *ctx);
void h_settings_get(struct hctx *ctx);
void h_settings_put(struct hctx *ctx);
void h_sync_post(struct hctx *ctx);
void h_sync_stop_post(struct hctx *ctx);
void h_progress_get(struct hctx *ctx);
void h_nowplaying_get(struct hctx *ctx);
void h_log_get(struct hctx *ctx);
void h_runs_get(struct hctx *ctx);
void h_runs_changes_get(struct hctx *ctx);
void h_runs_undo_post(struct hctx *ctx);
void h_libraries_get(struct hctx *ctx);
void h_libraries_put(struct hctx *ctx);
void h_libraries_refresh_post(struct hctx *ctx);
void h_auth_plex_get(struct hctx *ctx);
void h_auth_plex_post(struct hctx *ctx);
void h_auth_plex_delete(struct hctx *ctx);
void h_auth_trakt_get(struct hctx *ctx);
void h_auth_trakt_post(struct hctx *ctx);
void h_auth_trakt_delete(struct hctx *ctx);
void h_trakt_history_get(struct hctx *ctx);
void h_trakt_history_refresh_post(struct hctx *ctx);
void h_trakt_dupes_get(struct hctx *ctx);
void h_trakt_dupes_scan_post(struct hctx *ctx);
void h_trakt_dupes_remove_post(struct hctx *ctx);
void h_plex_in_progress_get(struct hctx *ctx);
/* h_plexusers.c: the server's people (the owner's alone). */
void h_plex_users_get(struct hctx *ctx);
void h_plex_users_refresh_post(struct hctx *ctx);
void h_login_post(struct hctx *ctx);
void h_logout_post(struct hctx *ctx);
void h_metrics_get(struct hctx *ctx);
void h_profiles_get(struct hctx *ctx);
void h_profiles_post(struct hctx *ctx);
void h_profiles_delete(struct hctx *ctx);
void h_posters_get(struct hctx *ctx);
void h_webhook_plex_post(struct hctx *ctx);
void h_webhook_plex_get(struct hctx *ctx);
void h_webhook_plex_rotate_post(struct hctx *ctx);

#endif

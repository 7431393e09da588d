/*
 * h_auth.c - /api/auth/plex and /api/auth/trakt: start a sign-in flow (POST), show its
 * state (GET), sign out (DELETE). The flows themselves run in the worker; this file only
 * queues jobs and edits the auth row. Tokens never leave the database through here.
 */
#include "handler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "jobs.h"
#include "jsonx.h"
#include "log.h"
#include "profauth.h"
#include "rows.h"

/*
 * Every flow and token column back to "nothing": a sign-out. The generation moves on, so a
 * job still holding the old token neither uses it again nor writes the row (worker/core/authgen.h).
 */
#define AUTH_CLEAR_SQL "UPDATE auth SET state = 'none', code = NULL, url = NULL," \
	" flow_id = NULL, poll_interval = NULL, flow_expires_at = NULL, access_token = NULL," \
	" account_token = NULL, refresh_token = NULL, token_expires_at = NULL, user = NULL," \
	" error = NULL," \
	" gen = gen + 1, updated_at = ? WHERE service = ?"

/*
 * The job kinds that use a service's sign-in (SQL lists): a sign-out ends them. A sync and a
 * webhook play use both services; the sign-out's own revocation job is not in either.
 */
#define AUTH_TRAKT_JOBS "('sync','undo','auth_trakt','trakt_history_refresh'," \
	"'trakt_dupes_scan','trakt_dupes_remove','webhook_scrobble')"
#define AUTH_PLEX_JOBS "('sync','auth_plex','libraries_refresh','plex_in_progress_refresh'," \
	"'webhook_scrobble')"

/* Names of the GET answer's members, per service. */
struct auth_names {
	const char *service;
	const char *job_kind;
	const char *jobs_sql;   /* AUTH_*_JOBS */
	const char *code;   /* "code" / "user_code" */
	const char *url;    /* "auth_url" / "verification_url" */
};

static const struct auth_names auth_plex = { "plex", PTS_JOB_AUTH_PLEX, AUTH_PLEX_JOBS, "code",
	"auth_url" };
static const struct auth_names auth_trakt = { "trakt", PTS_JOB_AUTH_TRAKT, AUTH_TRAKT_JOBS,
	"user_code", "verification_url" };

/* Ask running or queued flows of this kind to stop (inside the caller's transaction). */
static int
auth_cancel_flows(sqlite3 *db, const char *kind)
{
	return pts_db_run(db, "UPDATE jobs SET cancel = 1 WHERE kind = ?"
	    " AND state IN ('queued','running') AND profile = pts_profile()", "s", kind);
}

/*
 * A sign-out ends every job of the service (inside the caller's transaction): queued ones
 * (and their runs) end 'cancelled' here and now; running ones get the cancel flag and stop at
 * their next step, which the generation check makes come before any use of the old token.
 */
static int
auth_end_jobs(sqlite3 *db, const struct auth_names *n)
{
	char sql[512];
	int64_t now = pts_now();

	snprintf(sql, sizeof(sql), "UPDATE runs SET status = 'cancelled', finished_at = ?,"
	    " message = 'signed out of %s' WHERE status = 'queued' AND job_id IN (SELECT id FROM"
	    " jobs WHERE state = 'queued' AND profile = pts_profile() AND kind IN %s)",
	    n->service, n->jobs_sql);
	if (pts_db_run(db, sql, "i", now) != 0)
		return -1;
	snprintf(sql, sizeof(sql), "UPDATE jobs SET state = 'cancelled', cancel = 1,"
	    " finished_at = ? WHERE state = 'queued' AND profile = pts_profile() AND kind IN %s",
	    n->jobs_sql);
	if (pts_db_run(db, sql, "i", now) != 0)
		return -1;
	snprintf(sql, sizeof(sql), "UPDATE jobs SET cancel = 1 WHERE state = 'running'"
	    " AND profile = pts_profile() AND kind IN %s", n->jobs_sql);
	return pts_db_run(db, sql, "");
}

static void
auth_get(struct hctx *ctx, const struct auth_names *n)
{
	sqlite3_stmt *st = pts_db_prepare(ctx->db, "SELECT state, code, url, flow_expires_at,"
	    " token_expires_at, user, error FROM auth WHERE service = ?");
	const char *state;
	json_object *o;
	int rc;

	if (st == NULL || sqlite3_bind_text(st, 1, n->service, -1, SQLITE_STATIC) != SQLITE_OK ||
	    (rc = rows_step(ctx->db, st)) < 0) {
		sqlite3_finalize(st);
		resp_internal(ctx->resp);
		return;
	}
	o = json_object_new_object();
	if (rc != SQLITE_ROW) {
		/* The schema creates both rows; a missing one reads as signed out. */
		sqlite3_finalize(st);
		pts_json_add_str(o, "state", "none");
		pts_json_add_str(o, n->code, NULL);
		pts_json_add_str(o, n->url, NULL);
		pts_json_add_str(o, "expires_at", NULL);
		pts_json_add_str(o, "user", NULL);
		resp_json(ctx->resp, 200, o);
		return;
	}
	state = (const char *)sqlite3_column_text(st, 0);
	pts_json_add_str(o, "state", state);
	rows_add_text(o, n->code, st, 1);
	rows_add_text(o, n->url, st, 2);
	/* While a flow is pending its code expires; once signed in, the token does. */
	if (state != NULL && strcmp(state, "pending") == 0)
		rows_add_time(o, "expires_at", st, 3);
	else if (state != NULL && strcmp(state, "authorized") == 0)
		rows_add_time(o, "expires_at", st, 4);
	else
		json_object_object_add(o, "expires_at", NULL);
	rows_add_text(o, "user", st, 5);
	if (sqlite3_column_type(st, 6) != SQLITE_NULL)
		rows_add_text(o, "error", st, 6);
	sqlite3_finalize(st);
	resp_json(ctx->resp, 200, o);
}

/* POST: cancel older flows, queue a new one and mark the row pending, in one transaction. */
static void
auth_start(struct hctx *ctx, const struct auth_names *n)
{
	int64_t job_id = 0;

	if (pts_db_begin(ctx->db) != 0)
		goto fail;
	if (auth_cancel_flows(ctx->db, n->job_kind) != 0 ||
	    pts_jobs_enqueue(ctx->db, n->job_kind, NULL, &job_id) != 0 ||
	    pts_db_run(ctx->db, "UPDATE auth SET state = 'pending', code = NULL, url = NULL,"
	    " flow_id = NULL, flow_expires_at = NULL, error = NULL, gen = gen + 1, updated_at = ?"
	    " WHERE service = ?", "is", pts_now(), n->service) != 0 ||
	    pts_db_commit(ctx->db) != 0)
		goto fail;
	resp_job(ctx->resp, job_id);
	return;
fail:
	pts_db_rollback(ctx->db);
	resp_internal(ctx->resp);
}

/*
 * DELETE: end the service's jobs and forget the tokens, in one transaction; for Trakt also
 * queue the revocation of the token current now (pts-cgi does no network I/O), which needs
 * the token the row is about to lose (the worker scrubs it from the job's args once done).
 * Plex has no documented way to revoke a token: it is forgotten, and no job uses it again.
 */
static void
auth_delete(struct hctx *ctx, const struct auth_names *n, int revoke)
{
	char *token = NULL;
	json_object *o;

	if (pts_db_begin(ctx->db) != 0)
		goto fail;
	if (revoke && pts_db_text(ctx->db, &token, "SELECT access_token FROM auth"
	    " WHERE service = ?", "s", n->service) != 0)
		goto fail;
	if (token != NULL && *token != '\0') {
		json_object *args = json_object_new_object();
		int rc;

		pts_json_add_str(args, "access_token", token);
		rc = pts_jobs_enqueue(ctx->db, PTS_JOB_SIGNOUT_TRAKT, json_object_to_json_string_ext(
		    args, JSON_C_TO_STRING_PLAIN), NULL);
		json_object_put(args);
		if (rc != 0)
			goto fail;
	}
	if (auth_end_jobs(ctx->db, n) != 0 ||
	    pts_db_run(ctx->db, AUTH_CLEAR_SQL, "is", pts_now(), n->service) != 0 ||
	    pts_db_commit(ctx->db) != 0)
		goto fail;
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	pts_log(PTS_LOG_INFO, "signed out of %s", n->service);
	/* The other profiles' Plex tokens came from the owner's sign-in: they go with it. */
	if (n == &auth_plex && pts_profauth_forget_plex(ctx->db, "The owner signed out of Plex:"
	    " the owner signs in again, then the profile's Plex access is read anew") != 0)
		pts_log(PTS_LOG_WARN, "signed out of plex, but a profile's Plex token remains");
	o = json_object_new_object();
	pts_json_add_str(o, "state", "none");
	resp_json(ctx->resp, 200, o);
	return;
fail:
	pts_db_rollback(ctx->db);
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	resp_internal(ctx->resp);
}

void
h_auth_plex_get(struct hctx *ctx)
{
	auth_get(ctx, &auth_plex);
}

void
h_auth_plex_post(struct hctx *ctx)
{
	auth_start(ctx, &auth_plex);
}

void
h_auth_plex_delete(struct hctx *ctx)
{
	auth_delete(ctx, &auth_plex, 0);
}

void
h_auth_trakt_get(struct hctx *ctx)
{
	auth_get(ctx, &auth_trakt);
}

void
h_auth_trakt_post(struct hctx *ctx)
{
	auth_start(ctx, &auth_trakt);
}

void
h_auth_trakt_delete(struct hctx *ctx)
{
	auth_delete(ctx, &auth_trakt, 1);
}

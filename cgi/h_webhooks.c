/*
 * h_webhooks.c - the Plex webhook: POST /api/webhooks/plex?token=... (Plex posts each event
 * there), and for the dashboard GET /api/webhooks/plex (the URL to paste into Plex) and
 * POST /api/webhooks/plex/rotate (a new token; the old URL stops working).
 *
 * By the time the POST handler runs, app.c has checked the token and turned the multipart
 * body's "payload" part into ctx->body. A media.scrobble of a movie or an episode becomes a
 * webhook_scrobble job with its own run (trigger 'webhook'), both in one transaction: 202.
 * A repeat of the same item within WEBHOOK_MERGE_S joins the earlier job (202, "merged":
 * true); with WEBHOOK_QUEUE_MAX webhook jobs waiting, 503 busy. Every other event is
 * answered 200 and forgotten.
 */
#include "handler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "dbconn.h"
#include "dbprofile.h"
#include "hooktoken.h"
#include "jobs.h"
#include "jsonx.h"
#include "log.h"
#include "plexhook.h"
#include "settings.h"

#define WEBHOOK_PATH "/api/webhooks/plex"
/*
 * Scrobbles of the same item (same server, same ratingKey, same dry_run) within this many
 * seconds are one play: Plex (or a flaky proxy) repeating an event must not make one job
 * each. The earlier job may be queued, running or done (a failed or cancelled one is not
 * joined: the new event gets its chance); past the window the ledger still refuses a second
 * copy of a play.
 */
#define WEBHOOK_MERGE_S 300
/*
 * Webhook jobs queued at once. Past it the event is refused with 503 busy and Retry-After
 * (and a log line): a flood never grows the queue without bound. Plays refused this way are
 * still picked up by the next sync (they are watched in Plex).
 */
#define WEBHOOK_QUEUE_MAX 50
#define WEBHOOK_BUSY_RETRY_S "60"

enum webhook_outcome {
	WEBHOOK_QUEUED,
	WEBHOOK_MERGED,   /* the ids are those of the earlier job of the same item */
	WEBHOOK_BUSY      /* WEBHOOK_QUEUE_MAX webhook jobs are waiting */
};

/*
 * Merge into a recent job of the same item, refuse when the queue is full, or queue the job
 * and its run; all in one transaction. The outcome with the ids set, or -1.
 */
static int
webhook_queue(sqlite3 *db, json_object *args, int dry_run, int64_t *job_id, int64_t *run_id)
{
	int64_t now = pts_now(), same = 0, queued = 0;
	json_object *meta = pts_json_obj(args, "metadata");
	const char *key = pts_json_str(meta, "ratingKey"), *server = pts_json_str(args,
	    "server_uuid");

	pts_json_add_bool(args, "dry_run", dry_run);
	if (pts_db_begin(db) != 0)
		return -1;
	if (pts_db_int(db, &same, 0, "SELECT id FROM jobs WHERE kind = '" PTS_JOB_WEBHOOK_SCROBBLE
	    "' AND state IN ('queued','running','done') AND created_at >= ? AND"
	    " json_extract(args, '$.metadata.ratingKey') = ? AND"
	    " COALESCE(json_extract(args, '$.server_uuid'), '') = ? AND"
	    " json_extract(args, '$.dry_run') = ? AND profile = pts_profile()"
	    " ORDER BY id DESC LIMIT 1", "issi",
	    now - WEBHOOK_MERGE_S, key ? key : "", server ? server : "",
	    (int64_t)(dry_run != 0)) != 0)
		goto fail;
	if (same != 0) {
		*job_id = same;
		if (pts_db_int(db, run_id, 0, "SELECT COALESCE(run_id, 0) FROM jobs WHERE id = ?",
		    "i", same) != 0)
			goto fail;
		pts_db_rollback(db);
		return WEBHOOK_MERGED;
	}
	if (pts_db_int(db, &queued, 0, "SELECT COUNT(*) FROM jobs WHERE kind = '"
	    PTS_JOB_WEBHOOK_SCROBBLE "' AND state = 'queued'", "") != 0)
		goto fail;
	if (queued >= WEBHOOK_QUEUE_MAX) {
		pts_db_rollback(db);
		return WEBHOOK_BUSY;
	}
	if (pts_jobs_enqueue(db, PTS_JOB_WEBHOOK_SCROBBLE, json_object_to_json_string_ext(args,
	    JSON_C_TO_STRING_PLAIN), job_id) != 0 ||
	    pts_db_run(db, "INSERT INTO runs(job_id, trigger, status, created_at, started_at,"
	    " dry_run) VALUES(?, 'webhook', 'queued', ?, ?, ?)", "iiii", *job_id, now, now,
	    (int64_t)(dry_run != 0)) != 0)
		goto fail;
	*run_id = sqlite3_last_insert_rowid(db);
	if (pts_db_run(db, "UPDATE jobs SET run_id = ? WHERE id = ?", "ii", *run_id, *job_id) != 0 ||
	    pts_db_commit(db) != 0)
		goto fail;
	return WEBHOOK_QUEUED;
fail:
	pts_db_rollback(db);
	return -1;
}

/*
 * Households: the profile paired with the play's account (Account.id), else 1. 0, or -1 on a
 * database error. *pdb is that profile's connection (dbconn.h's, cached: not closed here) or
 * NULL for 1.
 */
static int
webhook_profile(struct hctx *ctx, int64_t *profile, sqlite3 **pdb)
{
	char acct[PLEXHOOK_KEY_MAX + 1];
	int64_t id = 0;
	int rc;

	*profile = PTS_PROFILE_OWNER;
	*pdb = NULL;
	if (plexhook_account_id(ctx->body, acct, sizeof(acct)) != 0)
		return 0;
	if (pts_db_int(ctx->db, &id, 0, "SELECT id FROM profiles WHERE id > 1 AND plex_user_id = ?",
	    "s", acct) != 0)
		return -1;
	if (id <= 1)
		return 0;
	rc = dbc_profile(id, pdb);
	if (rc < 0)
		return -1;
	if (rc > 0) {            /* deleted meanwhile: no pairing any more */
		*pdb = NULL;
		return 0;
	}
	*profile = id;
	return 0;
}

/* scrobble_users is "all": plays of accounts without a profile go to the owner's Trakt too. */
static int
webhook_all_users(sqlite3 *db)
{
	char *users = pts_settings_get_str(db, PTS_KEY_SCROBBLE_USERS);
	int all = users != NULL && strcmp(users, "all") == 0;

	free(users);
	return all;
}

void
h_webhook_plex_post(struct hctx *ctx)
{
	json_object *args = NULL, *o;
	const char *why = NULL;
	int64_t job_id = 0, run_id = 0, profile;
	sqlite3 *pdb = NULL, *db;
	int rc;

	if (webhook_profile(ctx, &profile, &pdb) != 0) {
		resp_internal(ctx->resp);
		return;
	}
	/* A paired account's play is queued on its profile's connection: its job, its run. */
	db = pdb != NULL ? pdb : ctx->db;
	/*
	 * Whose plays are taken (docs/API.md, "Households"): a paired account's go to its
	 * profile; anyone else's follow scrobble_users, as for the live scrobbler.
	 */
	switch (plexhook_read_as(ctx->body, pts_now(), profile > 1 || webhook_all_users(ctx->db),
	    &args, &why)) {
	case PLEXHOOK_IGNORE:
		o = json_object_new_object();
		pts_json_add_bool(o, "ok", 1);
		pts_json_add_str(o, "ignored", why);
		resp_json(ctx->resp, 200, o);
		return;
	case PLEXHOOK_BAD:
		pts_log(PTS_LOG_WARN, "webhook: unusable Plex payload: %s", why);
		resp_bad_field(ctx->resp, "bad_request", "payload", why);
		return;
	case PLEXHOOK_QUEUE:
		break;
	}
	rc = webhook_queue(db, args, pts_settings_get_bool(db, PTS_KEY_DRY_RUN), &job_id, &run_id);
	json_object_put(args);
	if (rc < 0) {
		resp_internal(ctx->resp);
		return;
	}
	if (rc == WEBHOOK_BUSY) {
		pts_log(PTS_LOG_WARN, "webhook: %d plays are already waiting: this one is refused"
		    " (the next sync adds it)", WEBHOOK_QUEUE_MAX);
		(void)resp_header(ctx->resp, "Retry-After", WEBHOOK_BUSY_RETRY_S);
		resp_error(ctx->resp, 503, "busy", "too many webhook plays are waiting", NULL);
		return;
	}
	o = json_object_new_object();
	pts_json_add_int(o, "job_id", job_id);
	pts_json_add_int(o, "run_id", run_id);
	if (rc == WEBHOOK_MERGED)
		pts_json_add_bool(o, "merged", 1);
	resp_json(ctx->resp, 202, o);
}

/* {"url_path": "/api/webhooks/plex?token=...", "token": "..."} */
static void
webhook_answer(struct hctx *ctx, const char *token)
{
	char path[sizeof(WEBHOOK_PATH) + HOOKTOKEN_HEX + 16];
	json_object *o = json_object_new_object();

	snprintf(path, sizeof(path), "%s?token=%s", WEBHOOK_PATH, token);
	pts_json_add_str(o, "url_path", path);
	pts_json_add_str(o, "token", token);
	resp_json(ctx->resp, 200, o);
	explicit_bzero(path, sizeof(path));
}

void
h_webhook_plex_get(struct hctx *ctx)
{
	char token[HOOKTOKEN_HEX + 1];

	if (hooktoken_get(ctx->db, token, sizeof(token)) != 0) {
		resp_internal(ctx->resp);
		return;
	}
	webhook_answer(ctx, token);
	explicit_bzero(token, sizeof(token));
}

void
h_webhook_plex_rotate_post(struct hctx *ctx)
{
	char token[HOOKTOKEN_HEX + 1];

	if (hooktoken_rotate(ctx->db, token, sizeof(token)) != 0) {
		resp_internal(ctx->resp);
		return;
	}
	webhook_answer(ctx, token);
	explicit_bzero(token, sizeof(token));
}

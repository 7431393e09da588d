/*
 * job_auth.c - the sign-in jobs: Plex's PIN and Trakt's device code, and Trakt sign-out.
 *
 * Sign-in jobs write the auth row as they go; once a flow has its id (flow_id), later writes
 * are guarded by it, so a flow the person has since restarted or abandoned in the dashboard is
 * never overwritten by a stale job. A sign-in that ends because the code expired or the person
 * said no is a normal end (0): the auth row carries the outcome. No token or secret is logged.
 */
#include "job_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authgen.h"
#include "db.h"
#include "http.h"
#include "job_end.h"
#include "jobs.h"
#include "jsonx.h"
#include "log.h"
#include "plextv.h"
#include "str.h"
#include "trakt.h"
#include "utf8.h"

/* Consecutive failed polls after which a sign-in gives up (network down for that long). */
#define JOB_AUTH_MAX_POLL_FAILURES 30

/* Describe a failed call for the auth row's error text (shown to the person). */
static void
job_why(enum pts_http_result r, const char *service, char *buf, size_t len)
{
	switch (r) {
	case PTS_HTTP_NETWORK:
		snprintf(buf, len, "Could not reach %s: check the network and try again", service);
		break;
	case PTS_HTTP_HTTP_ERROR:
		if (pts_http_last_was_redirect())   /* the cause itself: it names the target */
			pts_utf8_copy(buf, len, pts_http_last_error());
		else
			snprintf(buf, len, "%s refused the request: check the settings and the log",
			    service);
		break;
	case PTS_HTTP_BAD_RESPONSE:
	case PTS_HTTP_UNKNOWN:
		snprintf(buf, len, "%s sent an unexpected answer: see the log", service);
		break;
	case PTS_HTTP_OK:
	case PTS_HTTP_CANCELLED:
		snprintf(buf, len, "Sign-in stopped");
		break;
	}
}

/*
 * Set state + error on an auth row, only while its generation is still gen (the one the flow
 * started with: a sign-out or a newer sign-in since leaves the row alone); when flow_id is
 * given also only if it is still that flow.
 */
static void
job_auth_state(struct pts_wctx *w, int64_t gen, const char *service, const char *flow_id,
    const char *state, const char *error)
{
	if (flow_id != NULL)
		(void)pts_db_run(w->db, "UPDATE auth SET state = ?, error = ?, code = NULL, url = NULL,"
		    " poll_interval = NULL, updated_at = ? WHERE service = ? AND flow_id = ?"
		    " AND gen = ?", "ssissi", state, error, pts_now(), service, flow_id, gen);
	else
		(void)pts_db_run(w->db, "UPDATE auth SET state = ?, error = ?, code = NULL, url = NULL,"
		    " flow_id = NULL, poll_interval = NULL, flow_expires_at = NULL, updated_at = ?"
		    " WHERE service = ? AND gen = ?", "ssisi", state, error, pts_now(), service, gen);
}

/* ==== Sign-in flows that outlive their job ==== */

/* A pending flow as the auth row keeps it (malloc'd strings; job_flow_clear frees). */
struct job_flow {
	char *flow_id;
	char *code;
	char *url;
	int64_t interval;
	int64_t expires_at;
};

static void
job_flow_clear(struct job_flow *f)
{
	free(f->flow_id);
	free(f->code);
	free(f->url);
	memset(f, 0, sizeof(*f));
}

/*
 * The flow a previous run of this job left waiting (the worker stopped, or a --cron run
 * paused it) when it has not expired: 1 with f filled, 0 when there is none (start a new
 * one), -1 on a database error. A new sign-in from the dashboard clears flow_id, so a fresh
 * job never picks up an old code.
 */
static int
job_flow_resume(struct pts_wctx *w, const char *service, struct job_flow *f)
{
	sqlite3_stmt *st = pts_db_prepare(w->db, "SELECT flow_id, code, url,"
	    " COALESCE(poll_interval, 0), flow_expires_at FROM auth WHERE service = ? AND state ="
	    " 'pending' AND flow_id IS NOT NULL AND code IS NOT NULL AND flow_expires_at > ?");
	int rc;

	memset(f, 0, sizeof(*f));
	if (st == NULL)
		return -1;
	if (sqlite3_bind_text(st, 1, service, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, pts_now()) != SQLITE_OK) {
		sqlite3_finalize(st);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		f->flow_id = pts_str_dup((const char *)sqlite3_column_text(st, 0));
		f->code = pts_str_dup((const char *)sqlite3_column_text(st, 1));
		f->url = pts_str_dup((const char *)sqlite3_column_text(st, 2));
		f->interval = sqlite3_column_int64(st, 3);
		f->expires_at = sqlite3_column_int64(st, 4);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		PTS_ERROR("reading the %s sign-in state: %s", service, sqlite3_errmsg(w->db));
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW || f->flow_id == NULL || f->code == NULL) {
		job_flow_clear(f);
		return -1;
	}
	return 1;
}

/* ==== Plex sign-in (PIN) ==== */

int
pts_job_auth_plex(struct pts_wctx *w, json_object *args)
{
	char client_id[PTS_PLEXTV_CLIENT_ID_LEN], flow[32], why[256];
	struct pts_plextv_pin pin;
	struct job_flow f;
	enum pts_http_result r;
	char *url = NULL, *user = NULL;
	int failures = 0, polled = 0, rc = -1;
	int64_t gen = pts_authgen_read(w, "plex");
	long status;

	(void)args;
	memset(&pin, 0, sizeof(pin));
	if (pts_wctx_cancelled(w))
		return pts_job_end(w, 1);
	if (pts_plextv_client_id(w->db, client_id, sizeof(client_id)) != 0) {
		job_auth_state(w, gen, "plex", NULL, "error", "Internal error: see the log");
		return pts_job_end(w, -1);
	}
	switch (job_flow_resume(w, "plex", &f)) {
	case 1:
		pin.id = strtoll(f.flow_id, NULL, 10);
		snprintf(pin.code, sizeof(pin.code), "%s", f.code);
		pin.expires_at = f.expires_at;
		snprintf(flow, sizeof(flow), "%s", f.flow_id);
		job_flow_clear(&f);
		PTS_DEBUG("Plex sign-in: still waiting for approval of code %s", pin.code);
		goto poll;
	case 0:
		break;
	default:
		job_auth_state(w, gen, "plex", NULL, "error", "Internal error: see the log");
		return pts_job_end(w, -1);
	}
	PTS_INFO("Plex sign-in: asking plex.tv for a PIN");
	r = pts_plextv_pin_create(w, client_id, &pin);
	if (r != PTS_HTTP_OK) {
		if (r == PTS_HTTP_CANCELLED)
			return pts_job_end(w, 1);
		job_why(r, "plex.tv", why, sizeof(why));
		job_auth_state(w, gen, "plex", NULL, "error", why);
		PTS_ERROR("Plex sign-in failed: no PIN (%s)", pts_http_result_name(r));
		return pts_job_end(w, -1);
	}
	snprintf(flow, sizeof(flow), "%lld", (long long)pin.id);
	if ((url = pts_plextv_auth_url(client_id, pin.code)) == NULL)
		goto fail_internal;
	if (pts_wctx_cancelled(w)) {
		rc = 1;
		goto done;
	}
	if (pts_db_run(w->db, "UPDATE auth SET state = 'pending', code = ?, url = ?, flow_id = ?,"
	    " poll_interval = ?, flow_expires_at = ?, error = NULL, updated_at = ?"
	    " WHERE service = 'plex' AND gen = ?", "sssiiii", pin.code, url, flow,
	    (int64_t)(PTS_PLEXTV_POLL_MS / 1000), pin.expires_at, pts_now(), gen) != 0)
		goto fail_internal;
	if (sqlite3_changes(w->db) == 0) {
		PTS_INFO("Plex sign-in: signed out (or started again) meanwhile: this flow stops");
		rc = 1;
		goto done;
	}
	PTS_INFO("Plex sign-in: waiting for approval of code %s (expires in %lld s)", pin.code,
	    (long long)(pin.expires_at - pts_now()));

poll:
	for (;;) {
		if (polled++ > 0 && pts_wctx_yield_due(w)) {
			rc = PTS_JOB_YIELD; /* the next --cron run polls on */
			goto done;
		}
		if (pts_wctx_sleep(w, PTS_PLEXTV_POLL_MS) != 0) {
			PTS_INFO("Plex sign-in stopped");
			rc = 1;
			goto done;
		}
		if (pts_now() >= pin.expires_at) {
			PTS_INFO("Plex sign-in: the code expired before it was approved");
			job_auth_state(w, gen, "plex", flow, "expired", "The code expired: start again");
			rc = 0;
			goto done;
		}
		r = pts_plextv_pin_check(w, client_id, &pin, &status);
		if (r == PTS_HTTP_CANCELLED) {
			rc = 1;
			goto done;
		}
		if (r == PTS_HTTP_OK && pin.auth_token != NULL)
			break;
		if (r == PTS_HTTP_OK) {
			failures = 0;
			continue;
		}
		/* plex.tv forgets an expired PIN: 404. */
		if (r == PTS_HTTP_HTTP_ERROR && status == 404) {
			PTS_INFO("Plex sign-in: plex.tv no longer knows the PIN: it expired");
			job_auth_state(w, gen, "plex", flow, "expired", "The code expired: start again");
			rc = 0;
			goto done;
		}
		/* Any other refusal (a redirect too) repeats on every check: say so now. 5xx and
		 * 429 pass. */
		if (r == PTS_HTTP_HTTP_ERROR && status >= 300 && status < 500 && status != 429) {
			job_why(r, "plex.tv", why, sizeof(why));
			job_auth_state(w, gen, "plex", flow, "error", why);
			PTS_ERROR("Plex sign-in: plex.tv refused the PIN check (HTTP %ld)", status);
			goto done;
		}
		if (++failures >= JOB_AUTH_MAX_POLL_FAILURES) {
			job_why(r, "plex.tv", why, sizeof(why));
			job_auth_state(w, gen, "plex", flow, "error", why);
			PTS_ERROR("Plex sign-in: %d checks in a row failed: giving up", failures);
			goto done;
		}
	}

	/* Approved: the account's name, then the token, in one write. */
	r = pts_plextv_user(w, client_id, pin.auth_token, &user);
	if (r == PTS_HTTP_CANCELLED) {
		rc = 1;
		goto done;
	}
	if (r != PTS_HTTP_OK)
		PTS_WARN("Plex sign-in: approved, but the user name could not be read (%s)",
		    pts_http_result_name(r));
	if (pts_db_run(w->db, "UPDATE auth SET state = 'authorized', access_token = ?, user = ?,"
	    " code = NULL, url = NULL, flow_id = NULL, poll_interval = NULL, flow_expires_at = NULL,"
	    " token_expires_at = NULL, refresh_token = NULL, error = NULL, updated_at = ?"
	    " WHERE service = 'plex' AND flow_id = ? AND gen = ?", "ssisi", pin.auth_token, user,
	    pts_now(), flow, gen) != 0)
		goto fail_internal;
	if (sqlite3_changes(w->db) == 0)
		PTS_WARN("Plex sign-in: approved, but the dashboard started another sign-in since:"
		    " this one is dropped");
	else {
		PTS_INFO("signed in to Plex as %s", user ? user : "(unknown user)");
		/* The other people's tokens come from this sign-in: read them now. */
		if (pts_jobs_enqueue_once(w->db, PTS_JOB_PLEX_USERS, NULL, NULL) != 0)
			PTS_WARN("Plex sign-in: the server's people could not be queued for a refresh");
	}
	rc = 0;
	goto done;
fail_internal:
	job_auth_state(w, gen, "plex", NULL, "error", "Internal error: see the log");
	rc = -1;
done:
	if (pin.auth_token != NULL)
		explicit_bzero(pin.auth_token, strlen(pin.auth_token));
	pts_plextv_pin_clear(&pin);
	free(url);
	free(user);
	return pts_job_end(w, rc);
}

/* ==== Trakt sign-in (device code) ==== */

int
pts_job_auth_trakt(struct pts_wctx *w, json_object *args)
{
	struct pts_trakt_device d;
	struct pts_trakt *t;
	enum pts_http_result r;
	enum pts_trakt_poll p;
	struct job_flow f;
	char why[256], *user = NULL;
	int failures = 0, polled = 0, rc = -1;
	int64_t gen = pts_authgen_read(w, "trakt");

	(void)args;
	memset(&d, 0, sizeof(d));
	if (pts_wctx_cancelled(w))
		return pts_job_end(w, 1);
	t = pts_trakt_open(w);
	if (t == NULL || t->client_secret == NULL) {
		job_auth_state(w, gen, "trakt", NULL, "error", "Set the Trakt client id and client secret"
		    " in Settings first");
		if (t != NULL)
			PTS_ERROR("Trakt client secret (setting trakt_client_secret) is not set");
		pts_trakt_close(t);
		return pts_job_end(w, -1);
	}
	switch (job_flow_resume(w, "trakt", &f)) {
	case 1:
		snprintf(d.device_code, sizeof(d.device_code), "%s", f.flow_id);
		snprintf(d.user_code, sizeof(d.user_code), "%s", f.code);
		snprintf(d.verification_url, sizeof(d.verification_url), "%s", f.url ? f.url : "");
		d.interval = f.interval > 0 && f.interval < 3600 ? (int)f.interval : 5;
		d.expires_at = f.expires_at;
		job_flow_clear(&f);
		PTS_DEBUG("Trakt sign-in: still waiting for code %s", d.user_code);
		goto poll;
	case 0:
		break;
	default:
		job_auth_state(w, gen, "trakt", NULL, "error", "Internal error: see the log");
		goto done;
	}
	PTS_INFO("Trakt sign-in: asking Trakt for a device code");
	r = pts_trakt_device_start(t, &d);
	if (r != PTS_HTTP_OK) {
		if (r == PTS_HTTP_CANCELLED) {
			rc = 1;
			goto done;
		}
		job_why(r, "Trakt", why, sizeof(why));
		if (r == PTS_HTTP_HTTP_ERROR && !pts_http_last_was_redirect())
			snprintf(why, sizeof(why), "Trakt refused the client id: check it in Settings");
		job_auth_state(w, gen, "trakt", NULL, "error", why);
		PTS_ERROR("Trakt sign-in failed: no device code (%s)", pts_http_result_name(r));
		goto done;
	}
	if (pts_wctx_cancelled(w)) {
		rc = 1;
		goto done;
	}
	if (pts_db_run(w->db, "UPDATE auth SET state = 'pending', code = ?, url = ?, flow_id = ?,"
	    " poll_interval = ?, flow_expires_at = ?, error = NULL, updated_at = ?"
	    " WHERE service = 'trakt' AND gen = ?", "sssiiii", d.user_code, d.verification_url,
	    d.device_code, (int64_t)d.interval, d.expires_at, pts_now(), gen) != 0) {
		job_auth_state(w, gen, "trakt", NULL, "error", "Internal error: see the log");
		goto done;
	}
	if (sqlite3_changes(w->db) == 0) {
		PTS_INFO("Trakt sign-in: signed out (or started again) meanwhile: this flow stops");
		rc = 1;
		goto done;
	}
	PTS_INFO("Trakt sign-in: enter code %s at %s (expires in %lld s)", d.user_code,
	    d.verification_url, (long long)(d.expires_at - pts_now()));

poll:
	for (;;) {
		if (polled++ > 0 && pts_wctx_yield_due(w)) {
			rc = PTS_JOB_YIELD; /* the next --cron run polls on */
			goto done;
		}
		if (pts_wctx_sleep(w, (int64_t)d.interval * 1000) != 0) {
			PTS_INFO("Trakt sign-in stopped");
			rc = 1;
			goto done;
		}
		if (pts_now() >= d.expires_at) {
			PTS_INFO("Trakt sign-in: the code expired before it was approved");
			job_auth_state(w, gen, "trakt", d.device_code, "expired",
			    "The code expired: start again");
			rc = 0;
			goto done;
		}
		p = pts_trakt_device_poll(t, &d);
		switch (p) {
		case PTS_TRAKT_POLL_PENDING:
			continue;
		case PTS_TRAKT_POLL_SLOW_DOWN:
			PTS_INFO("Trakt asked to poll more slowly: every %d s", d.interval);
			(void)pts_db_run(w->db, "UPDATE auth SET poll_interval = ? WHERE service ="
			    " 'trakt' AND flow_id = ?", "is", (int64_t)d.interval, d.device_code);
			continue;
		case PTS_TRAKT_POLL_AUTHORIZED:
			break;
		case PTS_TRAKT_POLL_EXPIRED:
			PTS_INFO("Trakt sign-in: the code expired");
			job_auth_state(w, gen, "trakt", d.device_code, "expired",
			    "The code expired: start again");
			rc = 0;
			goto done;
		case PTS_TRAKT_POLL_DENIED:
			PTS_INFO("Trakt sign-in: the request was denied on Trakt");
			job_auth_state(w, gen, "trakt", d.device_code, "error",
			    "The sign-in was declined on Trakt: start again");
			rc = 0;
			goto done;
		case PTS_TRAKT_POLL_INVALID:
		case PTS_TRAKT_POLL_USED:
			PTS_ERROR("Trakt sign-in: Trakt says the device code is %s",
			    p == PTS_TRAKT_POLL_USED ? "already used" : "unknown");
			job_auth_state(w, gen, "trakt", d.device_code, "error",
			    "Trakt did not accept the code: start again");
			goto done;
		case PTS_TRAKT_POLL_CANCELLED:
			rc = 1;
			goto done;
		case PTS_TRAKT_POLL_ERROR:
			/* A refused redirect answers every poll the same: stop at the first. */
			if (!pts_http_last_was_redirect() && ++failures < JOB_AUTH_MAX_POLL_FAILURES)
				continue;
			job_auth_state(w, gen, "trakt", d.device_code, "error",
			    pts_http_last_was_redirect() ? pts_http_last_error() :
			    "Trakt sign-in failed: see the log");
			goto done;
		}
		break;
	}
	/* Tokens are stored (auth row 'authorized'); now the account's name. */
	r = pts_trakt_user(t, &user);
	if (r == PTS_HTTP_OK)
		(void)pts_db_run(w->db, "UPDATE auth SET user = ?, updated_at = ? WHERE service ="
		    " 'trakt' AND gen = ?", "sii", user, pts_now(), gen);
	else
		PTS_WARN("Trakt sign-in: signed in, but the user name could not be read (%s)",
		    pts_http_result_name(r));
	PTS_INFO("signed in to Trakt as %s", user ? user : "(unknown user)");
	rc = 0;
done:
	explicit_bzero(&d, sizeof(d));
	free(user);
	pts_trakt_close(t);
	return pts_job_end(w, rc);
}

/* ==== Trakt sign-out ==== */

int
pts_job_signout_trakt(struct pts_wctx *w, json_object *args)
{
	const char *token = pts_json_str(args, "access_token");
	struct pts_trakt *t;
	int rc = 0;

	if (token != NULL && token[0] != '\0' && (t = pts_trakt_open(w)) != NULL) {
		enum pts_http_result r = pts_trakt_revoke(t, token);

		if (r == PTS_HTTP_OK)
			PTS_INFO("Trakt token revoked");
		else
			PTS_WARN("Trakt token could not be revoked (%s): it stays valid on Trakt until"
			    " it expires", pts_http_result_name(r));
		pts_trakt_close(t);
	}
	/* The token must not linger in the jobs table, revoked or not. */
	if (w->job_id != 0 && pts_db_run(w->db, "UPDATE jobs SET args = '{}' WHERE id = ?", "i",
	    w->job_id) != 0)
		rc = -1;
	return pts_job_end(w, rc);
}

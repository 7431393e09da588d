/*
 * h_login.c - POST /api/login {"password"} and POST /api/logout: the dashboard password's
 * session cookie (see session.h).
 */
#include "handler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "edge.h"
#include "jsonx.h"
#include "log.h"
#include "secret.h"
#include "session.h"
#include "throttle.h"

int
h_password_check(struct hctx *ctx, const char *password, const char *hash)
{
	int64_t attempt, retry;
	char secs[24];
	int rc = throttle_begin(ctx->db, pts_now_ms(), &attempt, &retry);

	if (rc < 0) {
		resp_internal(ctx->resp);
		return -1;
	}
	if (rc == 0) {
		/* Refused without looking at the password: a right one waits as well. */
		snprintf(secs, sizeof(secs), "%lld", (long long)retry);
		resp_error(ctx->resp, 429, "rate_limited", "too many wrong passwords: try again"
		    " in a minute", NULL);
		(void)resp_header(ctx->resp, "Retry-After", secs);
		return -1;
	}
	if (!pts_secret_check_password(password, hash)) {
		pts_log(PTS_LOG_WARN, "login: wrong dashboard password");
		return 0;
	}
	if (throttle_forgive(ctx->db, attempt) != 0) {
		resp_internal(ctx->resp);
		return -1;
	}
	return 1;
}

/* The Secure attribute of the session cookie: PTS_COOKIE_SECURE, else the web server's HTTPS. */
static int
login_cookie_secure(const struct req *rq)
{
	const char *env = getenv("PTS_COOKIE_SECURE");
	int secure = edge_cookie_secure(env, rq->https);

	if (secure < 0) {
		pts_log(PTS_LOG_WARN, "PTS_COOKIE_SECURE=%.16s is not auto, 0 or 1: using auto", env);
		secure = rq->https;
	}
	return secure;
}

static void
login_ok(struct hctx *ctx, const char *token)
{
	json_object *o = json_object_new_object();
	char cookie[256];

	if (token != NULL) {
		session_cookie(cookie, sizeof(cookie), token, login_cookie_secure(ctx->req));
		(void)resp_header(ctx->resp, "Set-Cookie", cookie);
	}
	pts_json_add_bool(o, "ok", 1);
	resp_json(ctx->resp, 200, o);
}

void
h_login_post(struct hctx *ctx)
{
	char token[SESSION_TOKEN_HEX + 1], *hash = NULL;
	const char *password;
	int ok;

	if (!json_object_is_type(ctx->body, json_type_object) ||
	    (password = pts_json_str(ctx->body, "password")) == NULL) {
		resp_bad_field(ctx->resp, "bad_request", "password", "must be a string");
		return;
	}
	if (session_password_hash(ctx->db, &hash) != 0) {
		resp_internal(ctx->resp);
		return;
	}
	if (hash == NULL) {
		login_ok(ctx, NULL); /* no password set: nothing to log in to */
		return;
	}
	ok = h_password_check(ctx, password, hash);
	explicit_bzero(hash, strlen(hash));
	free(hash);
	if (ok < 0)
		return;
	if (ok == 0) {
		resp_error(ctx->resp, 401, "unauthorized", "wrong password", NULL);
		return;
	}
	if (session_create(ctx->db, token) != 0) {
		resp_internal(ctx->resp);
		return;
	}
	login_ok(ctx, token);
	explicit_bzero(token, sizeof(token));
}

void
h_logout_post(struct hctx *ctx)
{
	json_object *o;
	char cookie[256];

	if (session_delete(ctx->db, ctx->req->cookie) != 0) {
		resp_internal(ctx->resp);
		return;
	}
	session_cookie(cookie, sizeof(cookie), NULL, login_cookie_secure(ctx->req));
	(void)resp_header(ctx->resp, "Set-Cookie", cookie);
	o = json_object_new_object();
	pts_json_add_bool(o, "ok", 1);
	resp_json(ctx->resp, 200, o);
}

/*
 * h_login.c - POST /api/login {"password"} and POST /api/logout: the dashboard password's
 * session cookie (see session.h).
 */
#include "handler.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonx.h"
#include "log.h"
#include "secret.h"
#include "session.h"

/* A wrong password waits this long before the answer: guessing stays slow and uniform. */
#define LOGIN_FAIL_DELAY_MS 300

static void
login_delay(void)
{
	struct timespec ts = { LOGIN_FAIL_DELAY_MS / 1000, (LOGIN_FAIL_DELAY_MS % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
login_ok(struct hctx *ctx, const char *token)
{
	json_object *o = json_object_new_object();
	char cookie[256];

	if (token != NULL) {
		session_cookie(cookie, sizeof(cookie), token, ctx->req->https);
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
	ok = pts_secret_check_password(password, hash);
	explicit_bzero(hash, strlen(hash));
	free(hash);
	if (!ok) {
		pts_log(PTS_LOG_WARN, "login: wrong dashboard password");
		login_delay();
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
	session_cookie(cookie, sizeof(cookie), NULL, ctx->req->https);
	(void)resp_header(ctx->resp, "Set-Cookie", cookie);
	o = json_object_new_object();
	pts_json_add_bool(o, "ok", 1);
	resp_json(ctx->resp, 200, o);
}

/*
 * app.c - the request pipeline: validate once at the edge, then dispatch.
 */
#include "app.h"

#include <stdio.h>

#include "db.h"
#include "dbconn.h"
#include "edge.h"
#include "handler.h"
#include "jsonx.h"
#include "log.h"
#include "route.h"
#include "session.h"

static void
app_db_unavailable(struct resp *rs)
{
	resp_error(rs, 500, "db_unavailable", "the database cannot be opened; see the server log",
	    NULL);
}

/* The login rule. 0 to go on, -1 when rs holds the answer. */
static int
app_login_rule(const struct route *rt, const struct req *rq, struct resp *rs)
{
	sqlite3 *db;
	int rc;

	if (rt->flags & ROUTE_PUBLIC)
		return 0;
	if ((db = dbc_get()) == NULL) {
		app_db_unavailable(rs);
		return -1;
	}
	rc = session_allowed(db, rq->cookie);
	if (rc < 0) {
		resp_internal(rs);
		dbc_close();
		return -1;
	}
	if (rc == 0) {
		resp_error(rs, 401, "unauthorized", "log in first: POST /api/login", NULL);
		return -1;
	}
	return 0;
}

/* The CSRF rule for state-changing methods. 0 to go on, -1 when rs holds the answer. */
static int
app_csrf_rule(const struct req *rq, struct resp *rs)
{
	if (rq->method != REQ_POST && rq->method != REQ_PUT && rq->method != REQ_DELETE)
		return 0;
	if (!edge_xrw_ok(rq->xrw)) {
		resp_error(rs, 403, "forbidden",
		    "state-changing requests need the header X-Requested-With: XMLHttpRequest", NULL);
		return -1;
	}
	if (!edge_origin_ok(rq->origin, rq->host)) {
		resp_error(rs, 403, "forbidden", "the Origin does not match this host", NULL);
		return -1;
	}
	return 0;
}

/*
 * Body size, content type and JSON. *body gets the parsed document (NULL when no body).
 * 0 to go on, -1 when rs holds the answer.
 */
static int
app_body(const struct route *rt, struct req *rq, struct resp *rs, json_object **body)
{
	const char *why = NULL;
	int64_t len = 0;

	*body = NULL;
	if (rq->method != REQ_POST && rq->method != REQ_PUT)
		return 0; /* GET and DELETE bodies are never read */
	if (edge_content_length(rq->content_length, &len) != 0) {
		resp_bad_field(rs, "bad_request", "Content-Length", "is not a number");
		return -1;
	}
	if (len > REQ_BODY_MAX) {
		resp_error(rs, 413, "too_large", "the request body is over 64 KiB", NULL);
		return -1;
	}
	if ((len > 0 || rq->method == REQ_PUT) && !edge_is_json(rq->content_type)) {
		resp_error(rs, 415, "unsupported_media_type",
		    "the request body must be application/json", NULL);
		return -1;
	}
	if (len > 0) {
		if (req_read_body(rq, (size_t)len) != 0) {
			resp_error(rs, 400, "bad_request", "the request body could not be read", NULL);
			return -1;
		}
		if (rq->body_len < (size_t)len) {
			resp_error(rs, 400, "bad_json", "the request body is shorter than its"
			    " Content-Length", NULL);
			return -1;
		}
		if (!edge_utf8_ok(rq->body, rq->body_len)) {
			resp_error(rs, 400, "bad_json", "the request body is not valid UTF-8", NULL);
			return -1;
		}
		*body = pts_json_parse(rq->body, rq->body_len, REQ_BODY_MAX, &why);
		if (*body == NULL) {
			char msg[96];

			snprintf(msg, sizeof(msg), "the request body is not valid JSON: %s",
			    why ? why : "malformed JSON");
			resp_error(rs, 400, "bad_json", msg, NULL);
			return -1;
		}
	}
	if (*body == NULL && (rt->flags & ROUTE_BODY)) {
		resp_error(rs, 400, "bad_json", "this request needs a JSON body", NULL);
		return -1;
	}
	return 0;
}

void
app_handle(struct req *rq, struct resp *rs)
{
	char allow[ROUTE_ALLOW_MAX];
	const struct route *rt = NULL;
	struct hctx ctx = { 0 };
	json_object *fields;
	int64_t id = 0;

	if (rq->has_path)
		rt = route_lookup(rq->method, rq->path, &id, allow, sizeof(allow));
	else
		allow[0] = '\0';
	if (rt == NULL) {
		if (allow[0] != '\0') {
			resp_error(rs, 405, "method_not_allowed", "this path does not take that method",
			    NULL);
			(void)resp_header(rs, "Allow", allow);
		} else {
			resp_error(rs, 404, "not_found", "no such API path", NULL);
		}
		return;
	}
	if (app_login_rule(rt, rq, rs) != 0 || app_csrf_rule(rq, rs) != 0 ||
	    app_body(rt, rq, rs, &ctx.body) != 0)
		return;
	fields = json_object_new_object();
	if (query_parse(rq->query, rt->params, &ctx.q, fields) != 0) {
		resp_error(rs, 400, "bad_request", "invalid query parameters", fields);
		json_object_put(ctx.body);
		return;
	}
	json_object_put(fields);
	ctx.db = dbc_get();
	if (ctx.db == NULL && !(rt->flags & ROUTE_NODB)) {
		app_db_unavailable(rs);
		json_object_put(ctx.body);
		return;
	}
	ctx.req = rq;
	ctx.resp = rs;
	ctx.id = id;
	rt->fn(&ctx);
	json_object_put(ctx.body);
	if (ctx.db != NULL) {
		/* A handler that failed mid-transaction must not leave the write lock held. */
		pts_db_rollback(ctx.db);
	}
	if (rs->status == 0) {
		pts_log(PTS_LOG_ERROR, "%s /api/%s: the handler gave no answer", rq->method_name,
		    rq->path);
		resp_internal(rs);
	}
	if (rs->status == 500 || rs->status == 503) {
		/* Start the next request from a fresh handle: this one may be what failed. */
		dbc_close();
	}
}

void
app_shutdown(void)
{
	dbc_close();
}

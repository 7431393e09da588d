/*
 * app.c - the request pipeline: validate once at the edge, then dispatch.
 */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "dbconn.h"
#include "edge.h"
#include "handler.h"
#include "hooktoken.h"
#include "jsonx.h"
#include "log.h"
#include "metricstoken.h"
#include "multipart.h"
#include "route.h"
#include "session.h"
#include "utf8.h"

/* Name of the multipart part that holds a webhook's JSON (Plex's "payload"). */
#define APP_PAYLOAD_PART "payload"
/* Most characters of a refused Host header written to the log. */
#define APP_LOG_HOST_MAX 80

static void
app_db_unavailable(struct resp *rs)
{
	resp_error(rs, 500, "db_unavailable", "the database cannot be opened; see the server log",
	    NULL);
}

/*
 * The Host rule (DNS rebinding, docs/API.md): before anything else, a request whose Host is
 * not an IP literal, localhost or a name in PTS_ALLOWED_HOSTS gets 421 and changes nothing.
 * 0 to go on, -1 when rs holds the answer.
 */
static int
app_host_rule(const struct req *rq, struct resp *rs)
{
	if (edge_host_ok(rq->host, getenv("PTS_ALLOWED_HOSTS")))
		return 0;
	pts_log(PTS_LOG_WARN, "%s /api/%s: refused Host \"%.*s\": not an IP address, localhost"
	    " or a name in PTS_ALLOWED_HOSTS", rq->method_name, rq->has_path ? rq->path : "",
	    APP_LOG_HOST_MAX, rq->host ? rq->host : "(none)");
	resp_error(rs, 421, "misdirected", "this service does not answer to that host name: use"
	    " its IP address or localhost, or add the name to PTS_ALLOWED_HOSTS", NULL);
	return -1;
}

/* Does this PUT /api/settings body set a (non-empty) dashboard password? */
static int
app_sets_password(json_object *body)
{
	json_object *v;

	return json_object_is_type(body, json_type_object) &&
	    json_object_object_get_ex(body, "dashboard_password", &v) &&
	    json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0;
}

/*
 * PTS_REQUIRE_PASSWORD (docs/API.md): while it is on and no dashboard password is set, only
 * the ROUTE_SETUP routes answer, and a ROUTE_SETUP_PW one when its body sets the password;
 * everything else gets 403 password_required before its handler runs. Runs after the body
 * was parsed. 0 to go on, -1 when rs holds the answer.
 */
static int
app_password_required_rule(const struct route *rt, json_object *body, struct resp *rs)
{
	const char *env = getenv("PTS_REQUIRE_PASSWORD");
	char *hash = NULL;
	sqlite3 *db;
	int req = edge_require_password(env, getenv("PTS_HTTP_ADDR"));

	if (req < 0) {
		pts_log(PTS_LOG_WARN, "PTS_REQUIRE_PASSWORD=%.16s is not 0 or 1: the password is"
		    " required", env);
		req = 1;
	}
	if (!req || (rt->flags & ROUTE_SETUP) ||
	    ((rt->flags & ROUTE_SETUP_PW) && app_sets_password(body)))
		return 0;
	if ((db = dbc_get()) == NULL) {
		app_db_unavailable(rs);
		return -1;
	}
	if (session_password_hash(db, &hash) != 0) {
		resp_internal(rs);
		dbc_close();
		return -1;
	}
	if (hash != NULL) {
		explicit_bzero(hash, strlen(hash));
		free(hash);
		return 0;
	}
	resp_error(rs, 403, "password_required", "this dashboard is reachable from the network:"
	    " choose a dashboard password first (PUT /api/settings {\"dashboard_password\"})",
	    NULL);
	return -1;
}

/*
 * The login rule; on a ROUTE_BEARER route the metrics token stands for a login, and a
 * request the token does not let in is up to the session rule (a refused one is logged,
 * never the header's value). 0 to go on, -1 when rs holds the answer.
 */
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
	if ((rt->flags & ROUTE_BEARER) && rq->authorization != NULL) {
		rc = mtoken_check(db, rq->authorization);
		if (rc < 0) {
			resp_internal(rs);
			dbc_close();
			return -1;
		}
		if (rc == 1)
			return 0;
	}
	rc = session_allowed(db, rq->cookie);
	if (rc < 0) {
		resp_internal(rs);
		dbc_close();
		return -1;
	}
	if (rc == 0) {
		if ((rt->flags & ROUTE_BEARER) && rq->authorization != NULL)
			pts_log(PTS_LOG_WARN, "%s /api/%s: refused: the Authorization header is not"
			    " the metrics token", rq->method_name, rq->path);
		resp_error(rs, 401, "unauthorized", "log in first: POST /api/login", NULL);
		return -1;
	}
	return 0;
}

/* The CSRF rule for state-changing methods. 0 to go on, -1 when rs holds the answer. */
static int
app_csrf_rule(const struct route *rt, const struct req *rq, struct resp *rs)
{
	if (rq->method != REQ_POST && rq->method != REQ_PUT && rq->method != REQ_DELETE)
		return 0;
	if (rt->flags & ROUTE_NOCSRF)
		return 0; /* the route's token rule stands in for it */
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
 * The token rule of webhook routes: the query parameter "token" must equal the stored
 * webhook token (constant-time compare). 0 to go on, -1 when rs holds the answer.
 */
static int
app_token_rule(const struct route *rt, const struct req *rq, struct resp *rs)
{
	char token[HOOKTOKEN_HEX + 2];
	sqlite3 *db;
	int rc;

	if (!(rt->flags & ROUTE_TOKEN))
		return 0;
	rc = query_value(rq->query, "token", token, sizeof(token));
	if (rc == 1) {
		resp_error(rs, 401, "unauthorized", "this URL needs its token: copy the webhook URL"
		    " from Settings", NULL);
		return -1;
	}
	if ((db = dbc_get()) == NULL) {
		app_db_unavailable(rs);
		return -1;
	}
	rc = rc == 0 ? hooktoken_check(db, token) : 0;
	explicit_bzero(token, sizeof(token));
	if (rc < 0) {
		resp_internal(rs);
		dbc_close();
		return -1;
	}
	if (rc == 0) {
		pts_log(PTS_LOG_WARN, "%s /api/%s: wrong webhook token", rq->method_name, rq->path);
		resp_error(rs, 403, "forbidden", "wrong webhook token", NULL);
		return -1;
	}
	return 0;
}

/* Parse a JSON text that came from outside into *out. 0, or -1 with rs holding the 400. */
static int
app_json(const char *buf, size_t len, struct resp *rs, json_object **out)
{
	const char *why = NULL;
	char msg[96];

	/* Bodies must be UTF-8, so nothing we echo back can make our own JSON invalid. */
	if (!pts_utf8_valid(buf, len)) {
		resp_error(rs, 400, "bad_json", "the request body is not valid UTF-8", NULL);
		return -1;
	}
	*out = pts_json_parse(buf, len, REQ_BODY_MAX, &why);
	if (*out != NULL)
		return 0;
	snprintf(msg, sizeof(msg), "the request body is not valid JSON: %s",
	    why ? why : "malformed JSON");
	resp_error(rs, 400, "bad_json", msg, NULL);
	return -1;
}

/*
 * A multipart body (webhooks): up to REQ_MULTIPART_MAX announced, the first REQ_BODY_MAX
 * bytes read and the rest dropped; the "payload" part must be complete within them and is
 * the JSON document. 0 to go on, -1 when rs holds the answer.
 */
static int
app_multipart(struct req *rq, struct resp *rs, int64_t len, json_object **body)
{
	char boundary[MP_BOUNDARY_MAX + 1], msg[128];
	const char *why = NULL;
	struct mp_part part;
	size_t want;
	int rc, truncated;

	if (len > REQ_MULTIPART_MAX) {
		resp_error(rs, 413, "too_large", "the request body is over 1 MiB", NULL);
		return -1;
	}
	if (mp_boundary(rq->content_type, boundary, sizeof(boundary)) != 0) {
		resp_error(rs, 415, "unsupported_media_type", "the request body must be"
		    " multipart/form-data with a boundary", NULL);
		return -1;
	}
	want = len < REQ_BODY_MAX ? (size_t)len : REQ_BODY_MAX;
	if (req_read_body(rq, want) != 0 ||
	    (rq->body_len == want && req_skip_body(rq, (size_t)len - want) != 0)) {
		resp_error(rs, 400, "bad_request", "the request body could not be read", NULL);
		return -1;
	}
	rc = mp_find(rq->body, rq->body_len, boundary, APP_PAYLOAD_PART, &part, &truncated, &why);
	if (rc < 0 && truncated && rq->body_len == REQ_BODY_MAX && (size_t)len > want) {
		resp_error(rs, 413, "too_large", "the payload part does not end within the first"
		    " 64 KiB of the body", NULL);
		return -1;
	}
	if (rc != 0) {
		snprintf(msg, sizeof(msg), "the multipart body is not usable: %s", rc > 0 ?
		    "it has no payload part" : truncated ? "it ends too early" :
		    why ? why : "malformed");
		resp_error(rs, 400, "bad_request", msg, NULL);
		return -1;
	}
	return app_json(part.data, part.len, rs, body);
}

/*
 * Body size, content type and JSON. *body gets the parsed document (NULL when no body).
 * 0 to go on, -1 when rs holds the answer.
 */
static int
app_body(const struct route *rt, struct req *rq, struct resp *rs, json_object **body)
{
	int64_t len = 0;

	*body = NULL;
	/* GET bodies are never read, nor DELETE ones but where the route takes one. */
	if (rq->method != REQ_POST && rq->method != REQ_PUT &&
	    !(rq->method == REQ_DELETE && (rt->flags & ROUTE_DELETE_BODY)))
		return 0;
	if (edge_content_length(rq->content_length, &len) != 0) {
		resp_bad_field(rs, "bad_request", "Content-Length", "is not a number");
		return -1;
	}
	if (rt->flags & ROUTE_MULTIPART)
		return app_multipart(rq, rs, len, body);
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
		if (app_json(rq->body, rq->body_len, rs, body) != 0)
			return -1;
	}
	if (*body == NULL && (rt->flags & ROUTE_BODY)) {
		resp_error(rs, 400, "bad_json", "this request needs a JSON body", NULL);
		return -1;
	}
	return 0;
}

/*
 * Households: the connection a ROUTE_PROFILE route works on, from ?profile=ID (absent: 1,
 * the plain connection, so a route called without it answers as before). A snapshot route
 * reads its profile's file in one transaction too. A ROUTE_OWNER route takes 1 only. 0 with
 * *db and *profile set, -1 when rs holds the answer (400 for a malformed id or another
 * profile on an owner's route, 404 for an unknown profile, 500).
 */
static int
app_profile_rule(const struct route *rt, const struct req *rq, struct resp *rs, sqlite3 **db,
    int64_t *profile)
{
	char val[QUERY_MAX_ITEM + 1];
	int rc;

	*profile = 1;
	if (!(rt->flags & (ROUTE_PROFILE | ROUTE_OWNER)))
		return 0;
	rc = query_value(rq->query, "profile", val, sizeof(val));
	if (rc < 0 || (rc == 0 && query_int(val, 1, INT64_MAX, profile) != 0)) {
		resp_bad_field(rs, "bad_request", "profile", "must be a profile id (a positive"
		    " integer)");
		return -1;
	}
	if ((rt->flags & ROUTE_OWNER) && *profile != 1) {
		*profile = 1;
		resp_bad_field(rs, "bad_request", "profile", "the Plex sign-in is the owner's"
		    " (profile 1); another person's Plex access comes from it (GET /api/profiles"
		    " shows theirs)");
		return -1;
	}
	if (*profile == 1)
		return 0;
	rc = dbc_profile(*profile, db);
	if (rc == 1) {
		resp_error(rs, 404, "not_found", "no such profile", NULL);
		return -1;
	}
	if (rc != 0) {
		app_db_unavailable(rs);
		return -1;
	}
	if (rt->flags & ROUTE_SNAPSHOT)
		(void)pts_db_exec(*db, "BEGIN");
	return 0;
}

/* Everything after the route lookup: the edge rules, then the handler. */
static void
app_route(const struct route *rt, int64_t id, struct req *rq, struct resp *rs)
{
	struct hctx ctx = { 0 };
	json_object *fields;

	if (app_login_rule(rt, rq, rs) != 0 || app_csrf_rule(rt, rq, rs) != 0 ||
	    app_token_rule(rt, rq, rs) != 0 || app_body(rt, rq, rs, &ctx.body) != 0)
		return;
	if (app_password_required_rule(rt, ctx.body, rs) != 0) {
		json_object_put(ctx.body);
		return;
	}
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
	if (ctx.db != NULL && app_profile_rule(rt, rq, rs, &ctx.db, &ctx.profile) != 0) {
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
}

void
app_handle(struct req *rq, struct resp *rs)
{
	char allow[ROUTE_ALLOW_MAX];
	const struct route *rt = NULL;
	sqlite3 *db;
	int64_t id = 0;

	if (app_host_rule(rq, rs) != 0)
		return;
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
	/* A deferred BEGIN: the first read takes the snapshot every later read shares. */
	if ((rt->flags & ROUTE_SNAPSHOT) && (db = dbc_get()) != NULL)
		(void)pts_db_exec(db, "BEGIN");
	app_route(rt, id, rq, rs);
	if ((rt->flags & ROUTE_SNAPSHOT) && (db = dbc_peek()) != NULL)
		pts_db_rollback(db);
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

/*
 * route.h - the route table: {method, path pattern, handler, flags, query parameters}.
 *
 * Patterns are the path after "/api/", matched exactly segment by segment; a "{id}" segment
 * matches a positive decimal integer (no sign, no leading zero, at most 18 digits) and hands
 * it to the handler; a "{name}" segment matches a poster file name of the worker's shape
 * (the handler reads it from the path). A path that matches no pattern is 404; one that matches only under
 * other methods is 405 with those methods in Allow.
 */
#ifndef PTS_CGI_ROUTE_H
#define PTS_CGI_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "handler.h"
#include "query.h"
#include "req.h"

#define ROUTE_PUBLIC 0x1  /* no login needed (health, login) */
#define ROUTE_BODY   0x2  /* a JSON body is required */
#define ROUTE_NODB   0x4  /* the handler answers even when the database is down */
#define ROUTE_NOCSRF 0x8  /* no X-Requested-With/Origin rule (callers that cannot send them) */
#define ROUTE_TOKEN  0x10 /* the query parameter "token" must be the webhook token */
#define ROUTE_MULTIPART 0x20 /* the body is multipart/form-data: its "payload" part is the JSON */
/*
 * A read-only GET: the login rule and the handler read in one transaction (one snapshot, one
 * lock round instead of one per query). Only for handlers that never write.
 */
#define ROUTE_SNAPSHOT 0x40
/*
 * PTS_REQUIRE_PASSWORD (app.c): the routes that answer while a password is required and none
 * is set; ROUTE_SETUP_PW ones only when their JSON body sets dashboard_password.
 */
#define ROUTE_SETUP 0x80
#define ROUTE_SETUP_PW 0x100
/*
 * Households: a per-person route. It takes ?profile=ID (a positive integer; absent: 1, the
 * owner) and its handler gets that profile's connection (app.c); an unknown profile is 404.
 */
#define ROUTE_PROFILE 0x200
/* A DELETE whose JSON body is read when one is sent (the edge rules of a POST apply to it). */
#define ROUTE_DELETE_BODY 0x400
/* "Authorization: Bearer <metrics_token>" stands for the login (cgi/metricstoken.h). */
#define ROUTE_BEARER 0x800
/*
 * Households: the owner's own route (the Plex sign-in). ?profile= may name 1 only: another
 * profile is 400 on that field, so a script asking for another person's sign-in never reads
 * or ends the owner's by mistake (app.c).
 */
#define ROUTE_OWNER 0x1000

/* Longest Allow header value ("GET, POST, PUT, DELETE"). */
#define ROUTE_ALLOW_MAX 64

struct route {
	enum req_method method;
	const char *pattern;
	handler_fn fn;
	int flags;
	const struct query_spec *params;  /* NULL when the route takes none */
};

/* The table, ended by a {..., NULL, ...} entry. */
extern const struct route route_table[];

/*
 * Match path against one pattern. 1 with *id set (0 when the pattern has no {id}), or 0.
 */
int route_match(const char *pattern, const char *path, int64_t *id);

/*
 * The route for method + path, or NULL. When NULL and the path exists under other methods,
 * allow gets them ("GET, PUT"); otherwise allow is "".
 */
const struct route *route_lookup(enum req_method method, const char *path, int64_t *id,
    char *allow, size_t allowlen);

const char *route_method_name(enum req_method m);

#endif

/*
 * test_cgi_route.c - pts-cgi routing: path patterns and {id}, 404 against 405, where the
 * route path comes from (REQUEST_URI, SCRIPT_NAME + PATH_INFO, PATH_INFO).
 */
#include <stdint.h>
#include <string.h>

#include "req.h"
#include "route.h"
#include "tap.h"

static void
test_match(void)
{
	int64_t id = -1;

	TAP_OK(route_match("health", "health", &id) && id == 0, "plain pattern matches itself");
	TAP_OK(!route_match("health", "healthz", &id), "a longer segment does not match");
	TAP_OK(!route_match("health", "health/", &id), "a trailing slash does not match");
	TAP_OK(!route_match("sync", "sync/stop", &id), "a prefix does not match");
	TAP_OK(!route_match("sync/stop", "sync", &id), "a shorter path does not match");
	TAP_OK(!route_match("health", "", &id), "the empty path does not match");
	TAP_OK(route_match("runs/{id}/changes", "runs/42/changes", &id) && id == 42,
	    "{id} matches a number and yields it");
	TAP_OK(route_match("runs/{id}/changes", "runs/999999999999999999/changes", &id) &&
	    id == 999999999999999999LL, "{id} takes 18 digits");
	TAP_OK(!route_match("runs/{id}/changes", "runs/1000000000000000000/changes", &id),
	    "{id} refuses 19 digits");
	TAP_OK(!route_match("runs/{id}/changes", "runs/0/changes", &id), "{id} refuses 0");
	TAP_OK(!route_match("runs/{id}/changes", "runs/007/changes", &id),
	    "{id} refuses leading zeros");
	TAP_OK(!route_match("runs/{id}/changes", "runs/-1/changes", &id), "{id} refuses a sign");
	TAP_OK(!route_match("runs/{id}/changes", "runs/1x/changes", &id), "{id} refuses junk");
	TAP_OK(!route_match("runs/{id}/changes", "runs//changes", &id), "{id} refuses empty");
	TAP_OK(!route_match("runs/{id}/changes", "runs/5/changes/x", &id) && id == 0,
	    "extra segments do not match");
	TAP_OK(route_match("posters/{name}", "posters/kqjL17yufvn9OVLyXYpvtyrFfak.jpg", &id) &&
	    route_match("posters/{name}", "posters/a-b_c.png", &id) &&
	    route_match("posters/{name}", "posters/x.webp", &id), "{name}: poster file names");
	TAP_OK(!route_match("posters/{name}", "posters/.tmp-1-2-x.png", &id) &&
	    !route_match("posters/{name}", "posters/..", &id) &&
	    !route_match("posters/{name}", "posters/x.gif", &id) &&
	    !route_match("posters/{name}", "posters/x.png.png", &id) &&
	    !route_match("posters/{name}", "posters/x.PNG", &id) &&
	    !route_match("posters/{name}", "posters/.png", &id) &&
	    !route_match("posters/{name}", "posters/x", &id) &&
	    !route_match("posters/{name}", "posters/", &id) &&
	    !route_match("posters/{name}", "posters/a/b.png", &id),
	    "{name}: temp files, dots, other types, folders refused");
	TAP_OK(route_match("posters/{name}", "posters/"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.png", &id) &&
	    !route_match("posters/{name}", "posters/"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.png", &id),
	    "{name}: a stem of 64 characters at most");
}

static void
test_lookup(void)
{
	char allow[ROUTE_ALLOW_MAX];
	const struct route *r;
	int64_t id = -1;

	r = route_lookup(REQ_GET, "health", &id, allow, sizeof(allow));
	TAP_OK(r != NULL && r->fn == h_health_get && (r->flags & ROUTE_PUBLIC), "GET health");
	r = route_lookup(REQ_GET, "nope", &id, allow, sizeof(allow));
	TAP_OK(r == NULL && allow[0] == '\0', "unknown path: no route, no Allow (404)");
	r = route_lookup(REQ_DELETE, "settings", &id, allow, sizeof(allow));
	TAP_OK(r == NULL, "DELETE settings: no route");
	TAP_STREQ(allow, "GET, PUT", "DELETE settings: Allow lists GET, PUT (405)");
	r = route_lookup(REQ_OTHER, "auth/trakt", &id, allow, sizeof(allow));
	TAP_STREQ(allow, "GET, POST, DELETE", "PATCH auth/trakt: Allow lists all three");
	r = route_lookup(REQ_GET, "runs/7/changes", &id, allow, sizeof(allow));
	TAP_OK(r != NULL && r->fn == h_runs_changes_get && id == 7, "GET runs/7/changes, id 7");
	r = route_lookup(REQ_POST, "runs/7/changes", &id, allow, sizeof(allow));
	TAP_OK(r == NULL && strcmp(allow, "GET") == 0, "POST runs/7/changes is 405 with GET");
	r = route_lookup(REQ_GET, "runs/x/changes", &id, allow, sizeof(allow));
	TAP_OK(r == NULL && allow[0] == '\0', "GET runs/x/changes is 404");
	r = route_lookup(REQ_POST, "sync/stop", &id, allow, sizeof(allow));
	TAP_OK(r != NULL && r->fn == h_sync_stop_post, "POST sync/stop");
	r = route_lookup(REQ_GET, "plex/in-progress", &id, allow, sizeof(allow));
	TAP_OK(r != NULL && r->fn == h_plex_in_progress_get, "GET plex/in-progress");
	r = route_lookup(REQ_POST, "login", &id, allow, sizeof(allow));
	TAP_OK(r != NULL && (r->flags & ROUTE_PUBLIC) && (r->flags & ROUTE_BODY),
	    "POST login is public and needs a body");
}

static void
test_table(void)
{
	const struct route *a, *b;
	int dup = 0, public = 0, unguarded = 0;

	for (a = route_table; a->pattern != NULL; a++) {
		/* A route without login must be health, login, or carry the webhook token. */
		if ((a->flags & ROUTE_PUBLIC) && !(a->flags & ROUTE_TOKEN))
			public++;
		/* Only a token stands in for the CSRF rule. */
		if ((a->flags & ROUTE_NOCSRF) && !(a->flags & ROUTE_TOKEN))
			unguarded++;
		for (b = a + 1; b->pattern != NULL; b++)
			if (a->method == b->method && strcmp(a->pattern, b->pattern) == 0)
				dup++;
	}
	TAP_OK(dup == 0, "no method + pattern twice in the table");
	TAP_OK(public == 2, "only health and login are public without a token");
	TAP_OK(unguarded == 0, "every route without the CSRF rule needs the webhook token");
}

static void
test_path(void)
{
	char out[REQ_PATH_MAX + 1], big[REQ_URI_MAX + 64];

	TAP_OK(req_route_path("/api/health?x=1", NULL, NULL, out, sizeof(out)) == 0 &&
	    strcmp(out, "health") == 0, "REQUEST_URI: the query is stripped");
	TAP_OK(req_route_path("/pts/api/runs/3/changes", NULL, NULL, out, sizeof(out)) == 0 &&
	    strcmp(out, "runs/3/changes") == 0, "REQUEST_URI under a prefix");
	TAP_OK(req_route_path(NULL, "/api", "/health", out, sizeof(out)) == 0 &&
	    strcmp(out, "health") == 0, "SCRIPT_NAME + PATH_INFO");
	TAP_OK(req_route_path("", "/cgi-bin/pts-cgi", "/api/status", out, sizeof(out)) == 0 &&
	    strcmp(out, "status") == 0, "PATH_INFO holding /api/");
	TAP_OK(req_route_path(NULL, "/dash/backend", "/log", out, sizeof(out)) == 0 &&
	    strcmp(out, "log") == 0, "bare PATH_INFO under another mount");
	TAP_OK(req_route_path("/other", NULL, NULL, out, sizeof(out)) != 0, "no /api/: no path");
	TAP_OK(req_route_path("/api", NULL, NULL, out, sizeof(out)) != 0, "/api alone: no path");
	TAP_OK(req_route_path("/api/", NULL, NULL, out, sizeof(out)) == 0 && out[0] == '\0',
	    "/api/ gives the empty path");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "/api/", 5);
	TAP_OK(req_route_path(big, NULL, NULL, out, sizeof(out)) != 0, "an overlong path is refused");
	TAP_OK(req_method_parse("GET") == REQ_GET && req_method_parse("get") == REQ_OTHER &&
	    req_method_parse(NULL) == REQ_OTHER && req_method_parse("PATCH") == REQ_OTHER,
	    "methods parse exactly");
}

int
main(void)
{
	test_match();
	test_lookup();
	test_table();
	test_path();
	return tap_done();
}

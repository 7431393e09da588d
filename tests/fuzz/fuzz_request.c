/*
 * fuzz_request.c - the pts-cgi edge on hostile header and URL text: the query string against
 * every route's parameter table and the token lookup, the Cookie header and the session
 * token, the Host rule, Origin/Host, Content-Type and Content-Length checks, the UTF-8 check, the route
 * path and the route table. The input is split at '\n' into up to four fields, each of
 * them also tried in every role.
 */
#include <stdio.h>

#include "cookie.h"
#include "edge.h"
#include "fuzz.h"
#include "query.h"
#include "req.h"
#include "route.h"
#include "session.h"
#include "utf8.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static void
fuzz_field(const char *s, const char *other)
{
	const struct route *r;
	char out[QUERY_MAX_ITEM + 1], allow[ROUTE_ALLOW_MAX], path[REQ_PATH_MAX + 1];
	char tok[SESSION_TOKEN_HEX + 1];
	int64_t v, id;
	int i;

	for (r = route_table; r->pattern != NULL; r++) {
		json_object *fields = json_object_new_object();
		struct query_vals q;

		(void)query_parse(s, r->params, &q, fields);
		if (r->params != NULL)
			for (i = 0; r->params[i].name != NULL; i++)
				(void)query_get(&q, r->params[i].name);
		json_object_put(fields);
	}
	(void)query_value(s, "token", out, sizeof(out));
	(void)query_int(s, INT64_MIN, INT64_MAX, &v);
	(void)query_decode(s, strlen(s), out, sizeof(out));
	for (i = 0; i < SESSION_MAX_COOKIES; i++) {
		(void)cookie_get(s, SESSION_COOKIE, i, out, sizeof(out));
		(void)session_token(s, i, tok);
	}
	(void)edge_xrw_ok(s);
	(void)edge_origin_ok(s, other);
	(void)edge_host_ok(s, other);
	(void)edge_addr_loopback(s);
	(void)edge_is_json(s);
	(void)edge_content_length(s, &v);
	(void)pts_utf8_valid(s, strlen(s));
	(void)req_method_parse(s);
	(void)route_lookup(REQ_GET, s, &id, allow, sizeof(allow));
	(void)route_lookup(REQ_POST, s, &id, allow, sizeof(allow));
	(void)req_route_path(s, other, s, path, sizeof(path));
	(void)req_route_path(NULL, s, other, path, sizeof(path));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_str(data, size), *p = buf;
	const char *f[4] = { "", "", "", "" };
	int n = 0, i;

	(void)pts_utf8_valid((const char *)data, size);
	while (n < 4) {
		f[n++] = p;
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	for (i = 0; i < n; i++)
		fuzz_field(f[i], f[(i + 1) % 4]);
	free(buf);
	return 0;
}

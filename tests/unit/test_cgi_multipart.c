/*
 * test_cgi_multipart.c - the webhook edge: multipart/form-data boundaries and bodies (strict,
 * bounded, prefix-aware), the token query parameter, and what a Plex payload becomes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "multipart.h"
#include "plexhook.h"
#include "query.h"
#include "tap.h"

#define B "----plexwebhook7d8a"

/* A Plex-like body: the payload part, then a thumb part of n bytes of JPEG-ish data. */
static char *
body_with_thumb(const char *json, size_t thumb, size_t *len)
{
	size_t cap = strlen(json) + thumb + 512, n;
	char *buf = malloc(cap);

	n = (size_t)snprintf(buf, cap, "--" B "\r\nContent-Disposition: form-data; name=\"payload\""
	    "\r\nContent-Type: application/json\r\n\r\n%s\r\n", json);
	if (thumb > 0) {
		n += (size_t)snprintf(buf + n, cap - n, "--" B "\r\nContent-Disposition: form-data;"
		    " name=\"thumb\"; filename=\"thumb.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n");
		memset(buf + n, 0xff, thumb);
		buf[n + thumb / 2] = '\0'; /* binary data may hold NULs */
		n += thumb;
		n += (size_t)snprintf(buf + n, cap - n, "\r\n");
	}
	n += (size_t)snprintf(buf + n, cap - n, "--" B "--\r\n");
	*len = n;
	return buf;
}

static void
test_boundary(void)
{
	char b[MP_BOUNDARY_MAX + 1];
	char long71[128];

	TAP_OK(mp_boundary("multipart/form-data; boundary=abc", b, sizeof(b)) == 0 &&
	    strcmp(b, "abc") == 0, "plain boundary");
	TAP_OK(mp_boundary("Multipart/Form-Data;BOUNDARY=\"a b'()+_,-./:=?\"", b, sizeof(b)) == 0 &&
	    strcmp(b, "a b'()+_,-./:=?") == 0, "quoted boundary with every bchar, any case");
	TAP_OK(mp_boundary("multipart/form-data; charset=utf-8; boundary=x1", b, sizeof(b)) == 0 &&
	    strcmp(b, "x1") == 0, "other parameters ignored");
	TAP_OK(mp_boundary("multipart/form-data", b, sizeof(b)) != 0, "no boundary refused");
	TAP_OK(mp_boundary("multipart/mixed; boundary=a", b, sizeof(b)) != 0, "other type refused");
	TAP_OK(mp_boundary("application/json", b, sizeof(b)) != 0, "json refused");
	TAP_OK(mp_boundary(NULL, b, sizeof(b)) != 0, "absent refused");
	TAP_OK(mp_boundary("multipart/form-data; boundary=", b, sizeof(b)) != 0, "empty refused");
	TAP_OK(mp_boundary("multipart/form-data; boundary=\"\"", b, sizeof(b)) != 0,
	    "empty quoted refused");
	TAP_OK(mp_boundary("multipart/form-data; boundary=a; boundary=b", b, sizeof(b)) != 0,
	    "two boundaries refused");
	TAP_OK(mp_boundary("multipart/form-data; boundary=\"ab \"", b, sizeof(b)) != 0,
	    "trailing space refused");
	TAP_OK(mp_boundary("multipart/form-data; boundary=\"a\\\"b\"", b, sizeof(b)) != 0,
	    "backslash refused");
	TAP_OK(mp_boundary("multipart/form-data; boundary=a;", b, sizeof(b)) != 0,
	    "dangling ; refused");
	TAP_OK(mp_boundary("multipart/form-data-x; boundary=a", b, sizeof(b)) != 0,
	    "longer type name refused");
	memset(long71, 'a', 71);
	long71[71] = '\0';
	{
		char ct[200];

		snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s", long71);
		TAP_OK(mp_boundary(ct, b, sizeof(b)) != 0, "71-character boundary refused");
		snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%.70s", long71);
		TAP_OK(mp_boundary(ct, b, sizeof(b)) == 0 && strlen(b) == 70,
		    "70-character boundary taken");
	}
}

static int
find(const char *buf, size_t len, struct mp_part *p, int *trunc)
{
	const char *why = NULL;

	return mp_find(buf, len, B, "payload", p, trunc, &why);
}

static void
test_bodies(void)
{
	struct mp_part p;
	size_t len;
	char *body = body_with_thumb("{\"event\":\"media.scrobble\"}", 300, &len);
	int trunc, rc;

	rc = find(body, len, &p, &trunc);
	TAP_OK(rc == 0 && p.len == 26 && memcmp(p.data, "{\"event\":\"media.scrobble\"}", 26) == 0,
	    "payload part found with its exact bytes");
	TAP_OK(rc == 0 && p.ctype != NULL && p.ctype_len == 16 &&
	    memcmp(p.ctype, "application/json", 16) == 0, "its Content-Type");
	/* Only the start of the body: the payload part is complete, the thumb is not. */
	rc = find(body, len - 200, &p, &trunc);
	TAP_OK(rc == 0 && p.len == 26, "a prefix that holds the whole payload part is enough");
	rc = find(body, 60, &p, &trunc);
	TAP_OK(rc < 0 && trunc, "a prefix that cuts the payload part is truncated");
	TAP_OK(mp_parse(body, len, B, NULL, NULL, NULL) == MP_OK, "whole body parses");
	TAP_OK(mp_parse(body, len - 4, B, NULL, NULL, NULL) == MP_TRUNCATED,
	    "a body without its close delimiter is truncated");
	free(body);

	{
		static const char s[] = "--" B "\r\nContent-Disposition: form-data; name=\"thumb\""
		    "\r\n\r\nxx\r\n--" B "--\r\n";
		TAP_OK(find(s, sizeof(s) - 1, &p, &trunc) == 1, "no payload part: 1");
	}
	{
		static const char s[] = "preamble\r\n--" B "\r\nContent-Disposition: form-data;"
		    " name=payload\r\n\r\n{}\r\n--" B "--";
		rc = find(s, sizeof(s) - 1, &p, &trunc);
		TAP_OK(rc == 0 && p.len == 2, "short preamble and a token name accepted");
	}
	{
		static const char s[] = "--" B "   \r\nContent-Disposition: form-data; name=\"payload\""
		    "\r\n\r\n{}\r\n--" B "--";
		TAP_OK(find(s, sizeof(s) - 1, &p, &trunc) == 0, "transport padding after a boundary");
	}
	{
		static const char s[] = "--" B "\r\nContent-Disposition: form-data; name=\"payload\""
		    "\r\n\r\n\r\n--" B "--";
		rc = find(s, sizeof(s) - 1, &p, &trunc);
		TAP_OK(rc == 0 && p.len == 0, "an empty part");
	}
	{
		const struct {
			const char *body, *what;
		} bad[] = {
			{ "--" B "\nContent-Disposition: form-data; name=\"payload\"\n\n{}\n--" B "--",
			    "bare LF line ends" },
			{ "--" B "\r\nContent-Disposition: form-data; name=\"payload\"\r\n folded\r\n\r\n{}"
			    "\r\n--" B "--", "folded header" },
			{ "--" B "\r\nContent-Type: text/plain\r\n\r\n{}\r\n--" B "--",
			    "no Content-Disposition" },
			{ "--" B "\r\nContent-Disposition: attachment; name=\"payload\"\r\n\r\n{}\r\n--"
			    B "--", "not form-data" },
			{ "--" B "\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\n{}\r\n--" B
			    "--", "no name" },
			{ "--" B "\r\nContent-Disposition: form-data; name=\"a\"; name=\"b\"\r\n\r\n{}"
			    "\r\n--" B "--", "two names" },
			{ "--" B "\r\nContent-Disposition: form-data; name=\"\"\r\n\r\n{}\r\n--" B "--",
			    "empty name" },
			{ "--" B "\r\nContent-Disposition: form-data; name=\"payload\r\n\r\n{}\r\n--" B
			    "--", "unterminated quote" },
			{ "--" B "\r\nContent-Disposition: form-data; name=\"payload\"\r\nContent-"
			    "Disposition: form-data; name=\"x\"\r\n\r\n{}\r\n--" B "--",
			    "two Content-Dispositions" },
			{ "--" B "\r\nContent-Disposition: form-data; name=\"payload\"\r\nNo colon\r\n"
			    "\r\n{}\r\n--" B "--", "header without a colon" },
			{ "--" B "\r\nContent-Disposition: form-data; name=\"payload\"\r\nA\tB: c\r\n"
			    "\r\n{}\r\n--" B "--", "bad header name" },
			{ "--" B "x\r\nContent-Disposition: form-data; name=\"payload\"\r\n\r\n{}\r\n--"
			    B "--", "junk after the boundary" },
			{ NULL, NULL }
		};
		int i;

		for (i = 0; bad[i].body != NULL; i++) {
			rc = find(bad[i].body, strlen(bad[i].body), &p, &trunc);
			TAP_OK(rc < 0 && !trunc, "refused: %s", bad[i].what);
		}
	}
	{
		/* A NUL in a header line. */
		static const char s[] = "--" B "\r\nContent-Disposition: form-data; name=\"pay\0load\""
		    "\r\n\r\n{}\r\n--" B "--";
		rc = find(s, sizeof(s) - 1, &p, &trunc);
		TAP_OK(rc < 0 && !trunc, "refused: NUL in a header");
	}
	{
		/* Too many parts. */
		char buf[8192];
		size_t n = 0;
		int i;

		for (i = 0; i <= MP_MAX_PARTS; i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "--" B "\r\nContent-Disposition:"
			    " form-data; name=\"p%d\"\r\n\r\nx\r\n", i);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "--" B "--");
		TAP_OK(mp_parse(buf, n, B, NULL, NULL, NULL) == MP_BAD, "refused: %d parts",
		    MP_MAX_PARTS + 1);
	}
	{
		/* Too many header lines, and an overlong one. */
		char buf[8192];
		size_t n = 0;
		int i;

		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "--" B "\r\nContent-Disposition:"
		    " form-data; name=\"payload\"\r\n");
		for (i = 0; i < MP_MAX_HEADERS; i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-A%d: b\r\n", i);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\n{}\r\n--" B "--");
		TAP_OK(mp_parse(buf, n, B, NULL, NULL, NULL) == MP_BAD, "refused: too many headers");
		n = (size_t)snprintf(buf, sizeof(buf), "--" B "\r\nX: ");
		memset(buf + n, 'a', MP_LINE_MAX + 10);
		n += MP_LINE_MAX + 10;
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\n\r\n{}\r\n--" B "--");
		TAP_OK(mp_parse(buf, n, B, NULL, NULL, NULL) == MP_BAD, "refused: overlong header");
	}
	{
		/* No boundary within the preamble limit. */
		char buf[MP_PREAMBLE_MAX + 200];

		memset(buf, 'z', sizeof(buf));
		TAP_OK(mp_parse(buf, sizeof(buf), B, NULL, NULL, NULL) == MP_BAD,
		    "refused: no boundary near the start");
		TAP_OK(mp_parse(buf, 10, B, NULL, NULL, NULL) == MP_TRUNCATED,
		    "a few bytes without a boundary yet: truncated");
		TAP_OK(mp_parse("", 0, B, NULL, NULL, NULL) == MP_TRUNCATED, "empty: truncated");
	}
}

static void
test_token_param(void)
{
	char v[80];

	TAP_OK(query_value("token=abc", "token", v, sizeof(v)) == 0 && strcmp(v, "abc") == 0,
	    "token found");
	TAP_OK(query_value("x=1&token=a%62c&y", "token", v, sizeof(v)) == 0 &&
	    strcmp(v, "abc") == 0, "token among others, decoded");
	TAP_OK(query_value("x=1", "token", v, sizeof(v)) == 1, "absent: 1");
	TAP_OK(query_value("", "token", v, sizeof(v)) == 1, "empty query: 1");
	TAP_OK(query_value("token=a&token=a", "token", v, sizeof(v)) == -1, "twice: -1");
	TAP_OK(query_value("token=%zz", "token", v, sizeof(v)) == -1, "bad escape: -1");
	TAP_OK(query_value("token=%00", "token", v, sizeof(v)) == -1, "encoded NUL: -1");
	TAP_OK(query_value("token=0123456789", "token", v, 5) == -1, "too long for out: -1");
}

static json_object *
js(const char *s)
{
	return pts_json_parse(s, strlen(s), 65536, NULL);
}

static void
test_plexhook(void)
{
	json_object *p, *args = NULL, *m;
	const char *why = NULL;

	p = js("{\"event\":\"media.scrobble\",\"user\":true,\"owner\":true,"
	    "\"Account\":{\"id\":1,\"title\":\"plexuser\"},\"Server\":{\"title\":\"NAS\"},"
	    "\"Metadata\":{\"librarySectionType\":\"movie\",\"ratingKey\":\"102\",\"key\":"
	    "\"/library/metadata/102\",\"guid\":\"plex://movie/5d776\",\"type\":\"movie\","
	    "\"title\":\"The Dark Knight\",\"year\":2008,\"lastViewedAt\":1700000123,"
	    "\"viewCount\":1,\"Guid\":[{\"id\":\"imdb://tt0468569\"},{\"id\":\"tmdb://155\"},"
	    "{\"id\":5},\"x\"],\"Genre\":[{\"tag\":\"Action\"}]}}");
	TAP_OK(plexhook_read(p, 1700000200, &args, &why) == PLEXHOOK_QUEUE && args != NULL,
	    "movie scrobble queued");
	m = NULL;
	json_object_object_get_ex(args, "metadata", &m);
	TAP_STREQ(pts_json_str(m, "ratingKey"), "102", "ratingKey kept");
	TAP_STREQ(pts_json_str(m, "title"), "The Dark Knight", "title kept");
	TAP_OK(pts_json_int(m, "lastViewedAt", 0) == 1700000123, "lastViewedAt kept");
	TAP_OK(pts_json_int(args, "received_at", 0) == 1700000200, "received_at stamped");
	TAP_STREQ(pts_json_str(args, "account"), "plexuser", "account name kept");
	{
		json_object *g = NULL;

		json_object_object_get_ex(m, "Guid", &g);
		TAP_OK(g != NULL && json_object_array_length(g) == 2, "only string Guid ids kept");
	}
	TAP_OK(!json_object_object_get_ex(m, "Genre", NULL) &&
	    !json_object_object_get_ex(m, "grandparentTitle", NULL), "nothing else copied");
	json_object_put(args);
	json_object_put(p);

	p = js("{\"event\":\"media.scrobble\",\"Metadata\":{\"ratingKey\":91,\"type\":\"episode\","
	    "\"title\":\"Earth Skills\",\"grandparentTitle\":\"The 100\",\"grandparentRatingKey\":"
	    "\"22\",\"grandparentGuid\":\"com.plexapp.agents.thetvdb://268592?lang=en\","
	    "\"parentIndex\":1,\"index\":2}}");
	TAP_OK(plexhook_read(p, 5, &args, &why) == PLEXHOOK_QUEUE, "episode scrobble queued");
	m = NULL;
	json_object_object_get_ex(args, "metadata", &m);
	TAP_STREQ(pts_json_str(m, "ratingKey"), "91", "a numeric ratingKey becomes text");
	TAP_OK(pts_json_int(m, "parentIndex", -1) == 1 && pts_json_int(m, "index", -1) == 2,
	    "season and episode kept");
	TAP_STREQ(pts_json_str(m, "grandparentRatingKey"), "22", "show ratingKey kept");
	json_object_put(args);
	json_object_put(p);

	{
		const struct {
			const char *json;
			enum plexhook_verdict want;
			const char *what;
		} cases[] = {
			{ "{\"event\":\"media.play\",\"Metadata\":{\"ratingKey\":\"1\",\"type\":"
			    "\"movie\"}}", PLEXHOOK_IGNORE, "media.play ignored" },
			{ "{\"event\":\"media.scrobble\",\"user\":false,\"Metadata\":{\"ratingKey\":\"1\","
			    "\"type\":\"movie\"}}", PLEXHOOK_IGNORE, "another account's play ignored" },
			{ "{\"event\":\"media.scrobble\",\"Metadata\":{\"ratingKey\":\"1\",\"type\":"
			    "\"track\"}}", PLEXHOOK_IGNORE, "music ignored" },
			{ "{\"event\":\"media.scrobble\"}", PLEXHOOK_BAD, "no Metadata: bad" },
			{ "{\"event\":\"media.scrobble\",\"Metadata\":{\"type\":\"movie\"}}", PLEXHOOK_BAD,
			    "no ratingKey: bad" },
			{ "{\"event\":\"media.scrobble\",\"Metadata\":{\"ratingKey\":\"1/../2\",\"type\":"
			    "\"movie\"}}", PLEXHOOK_BAD, "a ratingKey that is not a number: bad" },
			{ "{\"event\":\"media.scrobble\",\"Metadata\":{\"ratingKey\":-4,\"type\":"
			    "\"movie\"}}", PLEXHOOK_BAD, "a negative ratingKey: bad" },
			{ "{\"Metadata\":{}}", PLEXHOOK_BAD, "no event: bad" },
			{ "[1]", PLEXHOOK_BAD, "not an object: bad" },
			{ NULL, PLEXHOOK_BAD, NULL }
		};
		int i;

		for (i = 0; cases[i].json != NULL; i++) {
			p = js(cases[i].json);
			TAP_OK(plexhook_read(p, 1, &args, &why) == cases[i].want && args == NULL &&
			    why != NULL, "%s", cases[i].what);
			json_object_put(p);
		}
	}
}

/* Server.uuid: a real server's hex id, another server's plain name, and one refused. */
static void
test_plexhook_server_uuid(void)
{
	static const struct {
		const char *uuid;
		const char *want;   /* NULL: not kept */
	} cases[] = {
		{ "fa4e00000000000000000000000000000000beef", "fa4e00000000000000000000000000000000beef" },
		{ "fake-pms_1.local", "fake-pms_1.local" },
		{ "../etc", NULL },
		{ "a/b", NULL },
		{ "a b", NULL },
		{ "", NULL },
	};
	char doc[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *p, *args = NULL;
		const char *why = NULL, *got;

		snprintf(doc, sizeof(doc), "{\"event\":\"media.scrobble\",\"Server\":{\"uuid\":"
		    "\"%s\"},\"Metadata\":{\"ratingKey\":\"1\",\"type\":\"movie\","
		    "\"title\":\"T\",\"guid\":\"plex://movie/1\"}}", cases[i].uuid);
		p = js(doc);
		TAP_OK(plexhook_read(p, 1, &args, &why) == PLEXHOOK_QUEUE, "queued (uuid '%s')",
		    cases[i].uuid);
		got = pts_json_str(args, "server_uuid");
		if (cases[i].want != NULL)
			TAP_STREQ(got, cases[i].want, "Server.uuid '%s' kept", cases[i].uuid);
		else
			TAP_OK(got == NULL, "Server.uuid '%s' not kept", cases[i].uuid);
		json_object_put(args);
		json_object_put(p);
	}
}

/* Households: the play's account, and a paired account's play kept (plexhook_read_as). */
static void
test_plexhook_account(void)
{
	json_object *p, *args = NULL;
	const char *why = NULL;
	char buf[PLEXHOOK_KEY_MAX + 1];

	p = js("{\"event\":\"media.scrobble\",\"user\":false,\"Account\":{\"id\":1002,"
	    "\"title\":\"Hannah\"},\"Metadata\":{\"ratingKey\":\"7\",\"type\":\"movie\"}}");
	TAP_OK(plexhook_account_id(p, buf, sizeof(buf)) == 0, "account id read");
	TAP_STREQ(buf, "1002", "a numeric Account.id becomes text");
	TAP_OK(plexhook_read_as(p, 1, 0, &args, &why) == PLEXHOOK_IGNORE && args == NULL,
	    "another account's play, not paired: ignored");
	TAP_OK(plexhook_read_as(p, 1, 1, &args, &why) == PLEXHOOK_QUEUE && args != NULL,
	    "another account's play, paired with a profile: queued");
	TAP_STREQ(pts_json_str(args, "account"), "Hannah", "its account's title kept for the log");
	json_object_put(args);
	json_object_put(p);
	p = js("{\"event\":\"media.scrobble\",\"Account\":{\"id\":\"12a\"}}");
	TAP_OK(plexhook_account_id(p, buf, sizeof(buf)) == -1, "an Account.id not a number: none");
	json_object_put(p);
	p = js("{\"event\":\"media.scrobble\"}");
	TAP_OK(plexhook_account_id(p, buf, sizeof(buf)) == -1, "no Account: none");
	json_object_put(p);
}

int
main(void)
{
	test_boundary();
	test_bodies();
	test_token_param();
	test_plexhook();
	test_plexhook_account();
	test_plexhook_server_uuid();
	return tap_done();
}

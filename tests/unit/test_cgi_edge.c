/*
 * test_cgi_edge.c - pts-cgi header checks: X-Requested-With, Origin against Host, the JSON
 * content type and Content-Length.
 */
#include <stdint.h>
#include <string.h>

#include "edge.h"
#include "tap.h"

static void
test_xrw(void)
{
	TAP_OK(edge_xrw_ok("XMLHttpRequest"), "XMLHttpRequest accepted");
	TAP_OK(edge_xrw_ok("xmlhttprequest"), "case does not matter");
	TAP_OK(!edge_xrw_ok(NULL), "absent refused");
	TAP_OK(!edge_xrw_ok(""), "empty refused");
	TAP_OK(!edge_xrw_ok("fetch"), "another value refused");
}

static void
test_origin(void)
{
	TAP_OK(edge_origin_ok(NULL, "127.0.0.1:8080"), "no Origin: fine");
	TAP_OK(edge_origin_ok(NULL, NULL), "no Origin, no Host: fine");
	TAP_OK(edge_origin_ok("http://127.0.0.1:8080", "127.0.0.1:8080"), "same host and port");
	TAP_OK(edge_origin_ok("http://NAS.local:8080", "nas.local:8080"), "host case ignored");
	TAP_OK(!edge_origin_ok("http://127.0.0.1:8081", "127.0.0.1:8080"), "another port refused");
	TAP_OK(!edge_origin_ok("http://evil.example", "127.0.0.1:8080"), "another host refused");
	TAP_OK(!edge_origin_ok("http://127.0.0.1:8080.evil.example", "127.0.0.1:8080"),
	    "a suffixed host refused");
	TAP_OK(!edge_origin_ok("http://evil.example", "evil.example.nas"), "a prefix refused");
	TAP_OK(edge_origin_ok("http://nas.local", "nas.local:80"), "http default port ignored");
	TAP_OK(edge_origin_ok("https://nas.local:443", "nas.local"), "https default port ignored");
	TAP_OK(!edge_origin_ok("https://nas.local", "nas.local:80"),
	    "https Origin against port 80 refused");
	TAP_OK(edge_origin_ok("http://[::1]:8080", "[::1]:8080"), "IPv6 literal");
	TAP_OK(!edge_origin_ok("null", "127.0.0.1:8080"), "Origin null refused");
	TAP_OK(!edge_origin_ok("ftp://127.0.0.1:8080", "127.0.0.1:8080"), "other scheme refused");
	TAP_OK(!edge_origin_ok("http://127.0.0.1:8080", NULL), "Origin without Host refused");
	TAP_OK(!edge_origin_ok("http://127.0.0.1:8080", ""), "Origin with empty Host refused");
	TAP_OK(!edge_origin_ok("http://127.0.0.1:8080/x", "127.0.0.1:8080"), "a path refused");
	TAP_OK(!edge_origin_ok("http://user@127.0.0.1:8080", "127.0.0.1:8080"),
	    "userinfo refused");
	TAP_OK(!edge_origin_ok("http://", ""), "empty authority refused");
}

static void
test_ctype(void)
{
	TAP_OK(edge_is_json("application/json"), "application/json");
	TAP_OK(edge_is_json("application/json; charset=utf-8"), "with charset");
	TAP_OK(edge_is_json("application/json;charset=UTF-8"), "charset without space");
	TAP_OK(edge_is_json("Application/JSON"), "case ignored");
	TAP_OK(edge_is_json(" application/json "), "surrounding spaces");
	TAP_OK(!edge_is_json(NULL), "absent refused");
	TAP_OK(!edge_is_json(""), "empty refused");
	TAP_OK(!edge_is_json("text/plain"), "text/plain refused");
	TAP_OK(!edge_is_json("application/jsonp"), "application/jsonp refused");
	TAP_OK(!edge_is_json("application/json-patch+json"), "another json type refused");
	TAP_OK(!edge_is_json("application/x-www-form-urlencoded"), "form refused");
	TAP_OK(!edge_is_json("multipart/form-data; boundary=x"), "multipart refused");
}

static void
test_length(void)
{
	int64_t n = -1;

	TAP_OK(edge_content_length(NULL, &n) == 0 && n == 0, "absent is 0");
	TAP_OK(edge_content_length("", &n) == 0 && n == 0, "empty is 0");
	TAP_OK(edge_content_length("65536", &n) == 0 && n == 65536, "a number");
	TAP_OK(edge_content_length("12a", &n) != 0, "junk refused");
	TAP_OK(edge_content_length("-1", &n) != 0, "negative refused");
	TAP_OK(edge_content_length(" 5", &n) != 0, "space refused");
	TAP_OK(edge_content_length("99999999999999999999999", &n) == 0 && n == INT64_MAX,
	    "huge saturates (then 413)");
}

#define U8(s) edge_utf8_ok(s, sizeof(s) - 1)

static void
test_utf8(void)
{
	TAP_OK(U8("") && U8("plain ascii {\"a\": 1}"), "ASCII is UTF-8");
	TAP_OK(U8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xac"), "2-, 3- and 4-byte forms");
	TAP_OK(!U8("\xc3"), "a cut 2-byte form refused");
	TAP_OK(!U8("\xe2\x82"), "a cut 3-byte form refused");
	TAP_OK(!U8("\x80"), "a lone continuation byte refused");
	TAP_OK(!U8("\xc0\xaf"), "an overlong '/' refused");
	TAP_OK(!U8("\xe0\x80\xaf"), "an overlong 3-byte form refused");
	TAP_OK(!U8("\xed\xa0\x80"), "a surrogate refused");
	TAP_OK(!U8("\xf4\x90\x80\x80"), "past U+10FFFF refused");
	TAP_OK(!U8("\xff"), "0xff refused");
	TAP_OK(!U8("\xc3("), "a bad continuation refused");
}

int
main(void)
{
	test_xrw();
	test_origin();
	test_ctype();
	test_length();
	test_utf8();
	return tap_done();
}

/*
 * test_cgi_edge.c - pts-cgi header checks: the Host rule, X-Requested-With, Origin against
 * Host, the JSON content type and Content-Length, the bearer token; the PTS_REQUIRE_PASSWORD
 * and PTS_COOKIE_SECURE switches.
 */
#include <stdint.h>
#include <string.h>

#include "edge.h"
#include "tap.h"
#include "utf8.h"

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
test_host(void)
{
	const char *allowed = " Media.Example , nas.lan.,other.example";

	TAP_OK(edge_host_ok("127.0.0.1:8080", NULL), "IPv4 literal with a port");
	TAP_OK(edge_host_ok("192.168.1.10", NULL), "a LAN IPv4 literal without a port");
	TAP_OK(edge_host_ok("0.0.0.0:80", NULL), "0.0.0.0 is a literal too");
	TAP_OK(edge_host_ok("[::1]:8080", NULL), "bracketed IPv6 literal with a port");
	TAP_OK(edge_host_ok("[fe80::1]", NULL), "bracketed IPv6 literal without a port");
	TAP_OK(edge_host_ok("[::ffff:127.0.0.1]:1", NULL), "IPv4-mapped IPv6 literal");
	TAP_OK(edge_host_ok("localhost:8080", NULL), "localhost");
	TAP_OK(edge_host_ok("LocalHost", ""), "localhost without case, no port");
	TAP_OK(edge_host_ok("localhost.:8080", NULL), "localhost with its trailing dot");
	TAP_OK(!edge_host_ok("evil.example:8080", NULL), "a foreign name refused (the rebinding)");
	TAP_OK(!edge_host_ok("evil.example:8080", ""), "a foreign name refused, empty list");
	TAP_OK(!edge_host_ok("evil.example:8080", allowed), "a name not in the list refused");
	TAP_OK(edge_host_ok("media.example:8080", allowed), "an allowed name, any port");
	TAP_OK(edge_host_ok("MEDIA.EXAMPLE", allowed), "allowed names compare without case");
	TAP_OK(edge_host_ok("nas.lan", allowed), "an allowed name written with a trailing dot");
	TAP_OK(edge_host_ok("other.example.:443", allowed), "a Host with a trailing dot");
	TAP_OK(!edge_host_ok("xmedia.example", allowed), "a longer name refused");
	TAP_OK(!edge_host_ok("media.example.evil", allowed), "a suffixed name refused");
	TAP_OK(!edge_host_ok("sub.media.example", allowed), "a subdomain refused");
	TAP_OK(!edge_host_ok("media", allowed), "a prefix refused");
	TAP_OK(!edge_host_ok("localhost.evil.example", NULL), "localhost as a label refused");
	TAP_OK(!edge_host_ok("127.0.0.1.evil.example:80", NULL), "a dotted quad as labels refused");
	TAP_OK(!edge_host_ok("127.0.0.1.nip.io", NULL), "a name spelling an address refused");
	TAP_OK(!edge_host_ok("256.1.1.1", NULL), "an IPv4 part over 255 refused");
	TAP_OK(!edge_host_ok("1.2.3", NULL), "three parts refused");
	TAP_OK(!edge_host_ok("1.2.3.4.5", NULL), "five parts refused");
	TAP_OK(!edge_host_ok("1..2.3", NULL), "an empty part refused");
	TAP_OK(!edge_host_ok("0001.2.3.4", NULL), "a four-digit part refused");
	TAP_OK(!edge_host_ok("[::1", NULL), "an unclosed bracket refused");
	TAP_OK(!edge_host_ok("[::1]x", NULL), "junk after the bracket refused");
	TAP_OK(!edge_host_ok("[evil.example]", "evil.example"), "a bracketed name refused");
	TAP_OK(!edge_host_ok("[fe80::1%25eth0]", NULL), "a zone id refused");
	TAP_OK(!edge_host_ok("::1", NULL), "IPv6 without brackets refused");
	TAP_OK(!edge_host_ok("127.0.0.1:", NULL), "an empty port refused");
	TAP_OK(!edge_host_ok("127.0.0.1:80a", NULL), "a non-numeric port refused");
	TAP_OK(!edge_host_ok("127.0.0.1:123456", NULL), "a six-digit port refused");
	TAP_OK(!edge_host_ok("localhost:80:80", NULL), "two ports refused");
	TAP_OK(!edge_host_ok(NULL, allowed), "a missing Host refused");
	TAP_OK(!edge_host_ok("", allowed), "an empty Host refused");
	TAP_OK(!edge_host_ok(":8080", ",,"), "no host part refused, empty list entries");
	TAP_OK(!edge_host_ok("", " , "), "blank entries never match");
}

static void
test_switches(void)
{
	TAP_OK(edge_addr_loopback("127.0.0.1") && edge_addr_loopback("127.8.9.10"),
	    "127.0.0.0/8 is loopback");
	TAP_OK(edge_addr_loopback("[::1]") && edge_addr_loopback("::1"), "::1 is loopback");
	TAP_OK(edge_addr_loopback("localhost"), "localhost is loopback");
	TAP_OK(!edge_addr_loopback("0.0.0.0") && !edge_addr_loopback("[::]"),
	    "the wildcard addresses are not");
	TAP_OK(!edge_addr_loopback("192.168.1.10") && !edge_addr_loopback("nas.lan"),
	    "a LAN address or a name is not");
	TAP_OK(!edge_addr_loopback(NULL) && !edge_addr_loopback(""), "nothing is not");
	TAP_OK(edge_require_password(NULL, NULL) == 0, "required: unset on the default address");
	TAP_OK(edge_require_password("", "127.0.0.1") == 0, "required: empty on loopback");
	TAP_OK(edge_require_password(NULL, "0.0.0.0") == 1, "required: unset on 0.0.0.0");
	TAP_OK(edge_require_password(NULL, "[::]") == 1, "required: unset on [::]");
	TAP_OK(edge_require_password("0", "0.0.0.0") == 0, "required: 0 wins on a wide address");
	TAP_OK(edge_require_password("1", "127.0.0.1") == 1, "required: 1 wins on loopback");
	TAP_OK(edge_require_password("yes", NULL) == -1, "required: another value is -1");
	TAP_OK(edge_cookie_secure(NULL, 0) == 0 && edge_cookie_secure(NULL, 1) == 1,
	    "cookie: unset follows HTTPS");
	TAP_OK(edge_cookie_secure("auto", 0) == 0 && edge_cookie_secure("auto", 1) == 1,
	    "cookie: auto follows HTTPS");
	TAP_OK(edge_cookie_secure("1", 0) == 1, "cookie: 1 is Secure without HTTPS");
	TAP_OK(edge_cookie_secure("0", 1) == 0, "cookie: 0 never");
	TAP_OK(edge_cookie_secure("true", 1) == -1, "cookie: another value is -1");
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

/* 1 when edge_bearer finds exactly want (NULL: finds none) in header. */
static int
bearer_is(const char *header, const char *want)
{
	size_t len = 99;
	const char *tok = edge_bearer(header, &len);

	if (want == NULL)
		return tok == NULL && len == 0;
	return tok != NULL && len == strlen(want) && memcmp(tok, want, len) == 0;
}

static void
test_bearer(void)
{
	TAP_OK(bearer_is("Bearer abcdef0123456789", "abcdef0123456789"), "Bearer token found");
	TAP_OK(bearer_is("bearer x.y~z+/=", "x.y~z+/="), "scheme without case, token68 characters");
	TAP_OK(bearer_is("BEARER \t  tok", "tok"), "spaces and tabs after the scheme");
	TAP_OK(bearer_is(NULL, NULL), "absent header: none");
	TAP_OK(bearer_is("", NULL) && bearer_is("Bearer", NULL) && bearer_is("Bearer ", NULL),
	    "empty header or no token: none");
	TAP_OK(bearer_is("Basic dXNlcjpwdw==", NULL), "another scheme: none");
	TAP_OK(bearer_is("Bearertok", NULL), "no space after the scheme: none");
	TAP_OK(bearer_is("Bearer tok more", NULL) && bearer_is("Bearer tok ", NULL),
	    "anything after the token: none");
}

/* The body check app.c makes with common/utf8's validator. */
#define U8(s) pts_utf8_valid(s, sizeof(s) - 1)

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
	test_host();
	test_switches();
	test_xrw();
	test_origin();
	test_ctype();
	test_length();
	test_bearer();
	test_utf8();
	return tap_done();
}

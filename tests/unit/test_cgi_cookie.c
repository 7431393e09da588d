/*
 * test_cgi_cookie.c - pts-cgi cookies and sessions: Cookie header parsing, the session
 * token's form, the Set-Cookie value, and the SHA-256 that stores tokens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "session.h"
#include "sha256.h"
#include "tap.h"

#define TOK "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_cookie(void)
{
	char v[80], big[COOKIE_MAX_LEN + 32];

	TAP_OK(cookie_get("pts_session=abc", "pts_session", 0, v, sizeof(v)) == 0 &&
	    strcmp(v, "abc") == 0, "the only cookie");
	TAP_OK(cookie_get("a=1; pts_session=abc; b=2", "pts_session", 0, v, sizeof(v)) == 0 &&
	    strcmp(v, "abc") == 0, "among others");
	TAP_OK(cookie_get("a=1;pts_session=abc", "pts_session", 0, v, sizeof(v)) == 0 &&
	    strcmp(v, "abc") == 0, "without a space");
	TAP_OK(cookie_get("pts_session=\"abc\"", "pts_session", 0, v, sizeof(v)) == 0 &&
	    strcmp(v, "abc") == 0, "quoted value");
	TAP_OK(cookie_get("xpts_session=abc", "pts_session", 0, v, sizeof(v)) != 0,
	    "a longer name does not match");
	TAP_OK(cookie_get("pts_sessionx=abc", "pts_session", 0, v, sizeof(v)) != 0,
	    "a name with a suffix does not match");
	TAP_OK(cookie_get("a=pts_session=abc", "pts_session", 0, v, sizeof(v)) != 0,
	    "inside another value does not match");
	TAP_OK(cookie_get("pts_session=a; pts_session=b", "pts_session", 1, v, sizeof(v)) == 0 &&
	    strcmp(v, "b") == 0, "the second of two");
	TAP_OK(cookie_get("pts_session=a", "pts_session", 1, v, sizeof(v)) != 0, "no second one");
	TAP_OK(cookie_get(NULL, "pts_session", 0, v, sizeof(v)) != 0, "no header");
	TAP_OK(cookie_get("", "pts_session", 0, v, sizeof(v)) != 0, "empty header");
	TAP_OK(cookie_get("pts_session=" TOK "00000000000000000000", "pts_session", 0, v,
	    sizeof(v)) != 0, "a value too long for the buffer is refused");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "pts_session=abc; y=", 19);
	TAP_OK(cookie_get(big, "pts_session", 0, v, sizeof(v)) != 0,
	    "an overlong header is ignored");
}

static void
test_token(void)
{
	char t[SESSION_TOKEN_HEX + 1], cookie[256];

	TAP_OK(session_token("pts_session=" TOK, 0, t) == 0 && strcmp(t, TOK) == 0,
	    "a 64-hex token");
	TAP_OK(session_token("pts_session=" TOK "0", 0, t) != 0, "65 characters refused");
	TAP_OK(session_token("pts_session=0123", 0, t) != 0, "short refused");
	TAP_OK(session_token("pts_session=0123456789ABCDEF0123456789abcdef0123456789abcdef"
	    "0123456789abcdef", 0, t) != 0, "upper case refused");
	TAP_OK(session_token("pts_session=bad; pts_session=" TOK, 1, t) == 0,
	    "a good one after a bad one");
	session_cookie(cookie, sizeof(cookie), TOK, 0);
	TAP_STREQ(cookie, "pts_session=" TOK "; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000",
	    "Set-Cookie of a new session");
	session_cookie(cookie, sizeof(cookie), NULL, 1);
	TAP_STREQ(cookie, "pts_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure",
	    "Set-Cookie that clears it, over HTTPS");
}

static void
test_sha256(void)
{
	char hex[SHA256_HEX_LEN], *big;
	size_t i;

	sha256_hex("", 0, hex);
	TAP_STREQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "sha256 of the empty string");
	sha256_hex("abc", 3, hex);
	TAP_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "sha256 of abc");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	TAP_STREQ(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	    "sha256 of the two-block vector");
	big = malloc(1000000);
	if (big != NULL) {
		for (i = 0; i < 1000000; i++)
			big[i] = 'a';
		sha256_hex(big, 1000000, hex);
		free(big);
	}
	TAP_STREQ(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	    "sha256 of a million a");
}

int
main(void)
{
	test_cookie();
	test_token();
	test_sha256();
	return tap_done();
}

/*
 * test_utf8.c - cutting text at UTF-8 boundaries (common/utf8.h).
 */
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "tap.h"

/* "é" (2 bytes), "€" (3 bytes), U+1F600 (4 bytes). */
#define E2 "\xc3\xa9"
#define E3 "\xe2\x82\xac"
#define E4 "\xf0\x9f\x98\x80"

/* The first n bytes of s into buf, as a byte-wise cut (a truncating snprintf) leaves them. */
static void
bytecut(char *buf, const char *s, size_t n)
{
	memcpy(buf, s, n);
	buf[n] = '\0';
}

static void
test_cut_len(void)
{
	const char *s = "a" E2 E3 E4 "z";   /* 1 + 2 + 3 + 4 + 1 = 11 bytes */
	size_t len = strlen(s), max;
	/* The boundary each byte count falls back to. */
	static const size_t want[] = { 0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 11, 11 };

	for (max = 0; max <= len + 1; max++)
		TAP_OK(pts_utf8_cut_len(s, len, max) == want[max], "cut at %zu -> %zu (got %zu)",
		    max, want[max], pts_utf8_cut_len(s, len, max));
	TAP_OK(pts_utf8_cut_len("abc", 3, 2) == 2, "ASCII is cut by bytes");
	/* Not UTF-8 to begin with: the byte cut stands (no endless walk back). */
	TAP_OK(pts_utf8_cut_len("\x80\x80\x80\x80\x80", 5, 4) == 4, "continuation bytes only");
	TAP_OK(pts_utf8_cut_len(E2 "\xa9\xa9", 4, 3) == 3, "stray continuation after a whole character");
}

static void
test_cut_copy_dup(void)
{
	char buf[64], small[6], *d;
	size_t n;

	/* 3000 x "é": every cut keeps whole characters and stays valid. */
	char *big = malloc(6001);
	size_t i;

	for (i = 0; i < 3000; i++)
		memcpy(big + 2 * i, E2, 2);
	big[6000] = '\0';
	d = pts_utf8_dup(big, 511);
	TAP_OK(d != NULL && strlen(d) == 510 && pts_utf8_valid(d, strlen(d)),
	    "dup of 3000 x e-acute at 511 bytes keeps 255 characters");
	free(d);
	d = pts_utf8_dup(big, 512);
	TAP_OK(d != NULL && strlen(d) == 512 && pts_utf8_valid(d, strlen(d)), "dup at 512 bytes");
	free(d);
	TAP_OK(pts_utf8_dup(NULL, 5) == NULL, "dup of NULL is NULL");
	d = pts_utf8_dup("short", 100);
	TAP_STREQ(d, "short", "dup shorter than the limit is a copy");
	free(d);

	n = pts_utf8_copy(small, sizeof(small), "ab" E4);
	TAP_STREQ(small, "ab", "copy into 6 bytes drops the 4-byte emoji that does not fit");
	TAP_OK(n == 2, "copy returns the bytes written");
	pts_utf8_copy(small, sizeof(small), NULL);
	TAP_STREQ(small, "", "copy of NULL is empty");
	pts_utf8_copy(small, sizeof(small), "ab" E3);
	TAP_STREQ(small, "ab" E3, "copy that fits exactly");

	bytecut(buf, "x" E3 E3, 7);
	pts_utf8_cut(buf, 5);
	TAP_STREQ(buf, "x" E3, "cut in place at 5 bytes");
	memcpy(buf, big, 63);
	buf[63] = '\0';
	pts_utf8_cut(buf, 1000);
	TAP_OK(strlen(buf) == 63, "cut longer than the string changes nothing");
	free(big);
}

static void
test_trim(void)
{
	char buf[32];

	/* What a truncating snprintf leaves behind. */
	bytecut(buf, "ab" E3, 4);         /* "ab" + 2 of the 3 bytes */
	pts_utf8_trim(buf);
	TAP_STREQ(buf, "ab", "trim drops a cut 3-byte sequence");
	bytecut(buf, "a" E4, 3);          /* "a" + 2 of 4 */
	pts_utf8_trim(buf);
	TAP_STREQ(buf, "a", "trim drops a cut 4-byte sequence");
	bytecut(buf, "a" E2, 2);          /* "a" + the lead byte */
	pts_utf8_trim(buf);
	TAP_STREQ(buf, "a", "trim drops a lone lead byte");
	bytecut(buf, "a" E2 E3 E4, 10);
	pts_utf8_trim(buf);
	TAP_STREQ(buf, "a" E2 E3 E4, "trim leaves whole characters");
	buf[0] = '\0';
	pts_utf8_trim(buf);
	TAP_STREQ(buf, "", "trim of an empty string");
	bytecut(buf, "\x80\x80\x80\x80", 4);
	pts_utf8_trim(buf);
	TAP_STREQ(buf, "\x80\x80\x80\x80", "trim leaves text that was never UTF-8");
}

static void
test_valid(void)
{
	TAP_OK(pts_utf8_valid("a" E2 E3 E4, 10), "valid mixed text");
	TAP_OK(pts_utf8_valid("", 0), "empty is valid");
	TAP_OK(!pts_utf8_valid("a\xc3", 2), "truncated 2-byte sequence");
	TAP_OK(!pts_utf8_valid("\xe2\x82", 2), "truncated 3-byte sequence");
	TAP_OK(!pts_utf8_valid("\xc0\xaf", 2), "overlong 2-byte");
	TAP_OK(!pts_utf8_valid("\xe0\x80\xaf", 3), "overlong 3-byte");
	TAP_OK(!pts_utf8_valid("\xf0\x80\x80\xaf", 4), "overlong 4-byte");
	TAP_OK(!pts_utf8_valid("\xed\xa0\x80", 3), "surrogate");
	TAP_OK(!pts_utf8_valid("\xf4\x90\x80\x80", 4), "past U+10FFFF");
	TAP_OK(!pts_utf8_valid("\xa9", 1), "lone continuation byte");
	TAP_OK(pts_utf8_valid("\xf4\x8f\xbf\xbf", 4), "U+10FFFF itself");
}

static void
test_repair(void)
{
	static const char bad[] = "a" E2 "\xff" E3 "\xc3" "b" "\xed\xa0\x80" E4;
	char buf[32];

	memcpy(buf, bad, sizeof(bad));
	TAP_OK(pts_utf8_repair(buf, sizeof(bad) - 1) == 5, "five bad bytes replaced");
	TAP_STREQ(buf, "a" E2 "?" E3 "?b???" E4, "each bad byte becomes '?', good text stays");
	TAP_OK(pts_utf8_valid(buf, strlen(buf)), "the result is valid");
	memcpy(buf, "ok" E3, 6);
	TAP_OK(pts_utf8_repair(buf, 5) == 0, "valid text is left alone");
}

int
main(void)
{
	test_cut_len();
	test_cut_copy_dup();
	test_trim();
	test_valid();
	test_repair();
	return tap_done();
}

/*
 * utf8.c - cutting at character boundaries.
 */
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A byte that continues a sequence (10xxxxxx). */
#define UTF8_CONT(c) (((unsigned char)(c) & 0xc0) == 0x80)

/*
 * The length a lead byte announces (1..4), or 0 for a byte that cannot start a character
 * (a continuation byte, 0xc0, 0xc1, 0xf5 and up).
 */
static size_t
utf8_seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

size_t
pts_utf8_cut_len(const char *s, size_t len, size_t max)
{
	size_t n = max, back = 0, want;

	if (len <= max)
		return len;
	/* s[max] is the first byte left out: when it continues a sequence, that sequence
	 * started before the cut and must go too. Never more than a sequence's worth back. */
	while (n > 0 && back < PTS_UTF8_SEQ_MAX - 1 && UTF8_CONT(s[n])) {
		n--;
		back++;
	}
	if (back == 0 || UTF8_CONT(s[n]))
		return max;   /* a boundary, or not UTF-8 here anyway: the byte cut stands */
	want = utf8_seq_len((unsigned char)s[n]);
	if (want == 0 || n + want <= max)
		return max;   /* that sequence ended before the cut: stray bytes follow it */
	return n;
}

void
pts_utf8_cut(char *s, size_t max)
{
	size_t len = strnlen(s, max + 1);

	s[pts_utf8_cut_len(s, len, max)] = '\0';
}

void
pts_utf8_trim(char *s)
{
	size_t i = strlen(s), back = 0, want;

	/* Back to the lead byte of the last sequence. */
	while (i > 0 && back < PTS_UTF8_SEQ_MAX - 1 && UTF8_CONT(s[i - 1])) {
		i--;
		back++;
	}
	if (i == 0 || UTF8_CONT(s[i - 1]))
		return;
	want = utf8_seq_len((unsigned char)s[i - 1]);
	/* A lead byte with fewer continuation bytes than it announces: a cut left it short. */
	if (want > 1 && back < want - 1)
		s[i - 1] = '\0';
}

size_t
pts_utf8_copy(char *dst, size_t size, const char *src)
{
	size_t n;

	if (src == NULL)
		src = "";
	n = pts_utf8_cut_len(src, strnlen(src, size), size - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
	return n;
}

char *
pts_utf8_dup(const char *src, size_t max)
{
	size_t n;
	char *out;

	if (src == NULL)
		return NULL;
	n = pts_utf8_cut_len(src, strnlen(src, max + 1), max);
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(out, src, n);
	out[n] = '\0';
	return out;
}

/* The length of the well-formed sequence at p (end excluded), or 0 when there is none. */
static size_t
utf8_seq_ok(const unsigned char *p, const unsigned char *end)
{
	size_t n = utf8_seq_len(*p), i;
	uint32_t cp;

	if (n == 0 || (size_t)(end - p) < n)
		return 0;
	if (n == 1)
		return 1;
	cp = *p & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if (!UTF8_CONT(p[i]))
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int
pts_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		size_t n = utf8_seq_ok(p, end);

		if (n == 0)
			return 0;
		p += n;
	}
	return 1;
}

size_t
pts_utf8_repair(char *s, size_t len)
{
	unsigned char *p = (unsigned char *)s, *end = p + len;
	size_t fixed = 0;

	while (p < end) {
		size_t n = utf8_seq_ok(p, end);

		if (n == 0) {
			*p++ = '?';
			fixed++;
		} else {
			p += n;
		}
	}
	return fixed;
}

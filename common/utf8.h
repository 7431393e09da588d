/*
 * utf8.h - shortening text from outside at a character boundary.
 *
 * Titles, error bodies and log messages from Plex, Trakt and TMDb are cut to fit columns,
 * buffers and log lines. A cut by bytes can split a multibyte character and leave bytes that
 * are not UTF-8, which strict JSON clients refuse. Every such cut goes through here: it never
 * ends a string inside a sequence. (A string that was not UTF-8 to begin with stays as it is.)
 *
 * Ownership: pts_utf8_dup returns a malloc'd string (caller frees); the others work in the
 * caller's buffers.
 */
#ifndef PTS_UTF8_H
#define PTS_UTF8_H

#include <stddef.h>

/* Longest UTF-8 sequence (RFC 3629). */
#define PTS_UTF8_SEQ_MAX 4

/*
 * The length of the longest prefix of s[0..len) that is at most max bytes long and does not
 * end inside a multibyte sequence. len when len <= max. Reads no byte at or past len.
 */
size_t pts_utf8_cut_len(const char *s, size_t len, size_t max);

/* Shorten the NUL-terminated s in place to at most max bytes, at a boundary. */
void pts_utf8_cut(char *s, size_t max);

/*
 * Drop an incomplete sequence at the end of s (what a byte-wise cut such as a truncating
 * snprintf leaves). Nothing changes when s ends on a boundary.
 */
void pts_utf8_trim(char *s);

/*
 * Copy src (NULL: "") into dst[size] like snprintf("%s"), cut at a boundary when it does not
 * fit. size must be at least 1. Returns the bytes written (NUL not counted).
 */
size_t pts_utf8_copy(char *dst, size_t size, const char *src);

/* strndup(src, max) cut at a boundary. NULL when src is NULL or out of memory. */
char *pts_utf8_dup(const char *src, size_t max);

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF). */
int pts_utf8_valid(const char *s, size_t len);

/*
 * Make s[0..len) well-formed UTF-8 in place: every byte that is not part of a well-formed
 * sequence becomes '?' (the length does not change). Returns how many bytes were replaced.
 * For upstream answers, whose text ends up in our own JSON answers.
 */
size_t pts_utf8_repair(char *s, size_t len);

#endif

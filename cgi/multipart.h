/*
 * multipart.h - multipart/form-data (RFC 7578 over RFC 2046), parsed strictly and boundedly.
 *
 * Only what a Plex webhook needs: find the boundary in a Content-Type, then walk the parts of
 * a body held in memory, each part's headers checked (CRLF line ends, no folding, no NUL,
 * bounded counts and lengths, a form-data Content-Disposition with a name) and its data
 * located without copying. Part data may be anything (a JPEG thumb).
 *
 * The body may be only the start of what the client sent (pts-cgi reads at most
 * REQ_BODY_MAX bytes of a webhook): the walk stops as soon as the callback has what it wants,
 * and answers MP_TRUNCATED when the bytes end before a part (or the body) does. Nothing here
 * allocates; pointers handed out point into the caller's buffer.
 */
#ifndef PTS_CGI_MULTIPART_H
#define PTS_CGI_MULTIPART_H

#include <stddef.h>

/* RFC 2046: a boundary is 1..70 characters. */
#define MP_BOUNDARY_MAX 70
/* Parts looked at before the body is refused (Plex sends one or two). */
#define MP_MAX_PARTS 16
/* Header lines per part (Content-Disposition, Content-Type, maybe a few more). */
#define MP_MAX_HEADERS 8
/* Longest header line of a part. */
#define MP_LINE_MAX 1024
/* Longest field name or file name kept. */
#define MP_NAME_MAX 128
/* Bytes allowed before the first boundary (RFC 2046's preamble; clients send none). */
#define MP_PREAMBLE_MAX 1024

enum mp_result {
	MP_OK,         /* the walk ended: the callback stopped it, or the close delimiter came */
	MP_TRUNCATED,  /* the bytes ended before the body did (a prefix, or a short body) */
	MP_BAD         /* malformed */
};

struct mp_part {
	char name[MP_NAME_MAX + 1];       /* the form field name ("payload") */
	char filename[MP_NAME_MAX + 1];   /* "" when absent */
	int has_filename;
	const char *ctype;                /* Content-Type value, not NUL-terminated; NULL if none */
	size_t ctype_len;
	const char *data;                 /* the part's bytes, inside the caller's buffer */
	size_t len;
};

/* Called for each complete part; return 0 to go on, anything else to stop (MP_OK). */
typedef int (*mp_part_fn)(void *ctx, const struct mp_part *part);

/*
 * The boundary of a "multipart/form-data; boundary=..." Content-Type (type and parameter
 * names without case; the value a token or a quoted string; other parameters ignored; a
 * second boundary refused). Writes it NUL-terminated into out (>= MP_BOUNDARY_MAX + 1).
 * 0, or -1 when ct is NULL, of another type, or has no valid boundary.
 */
int mp_boundary(const char *ct, char *out, size_t outlen);

/*
 * Walk the parts of buf[0..len) with this boundary, calling fn (may be NULL) for each.
 * Returns MP_OK, MP_TRUNCATED or MP_BAD; *why (may be NULL) gets a short static reason.
 */
enum mp_result mp_parse(const char *buf, size_t len, const char *boundary, mp_part_fn fn,
    void *ctx, const char **why);

/*
 * The first part called name: 0 with *part filled; 1 when the body is complete and has no
 * such part; -1 when truncated before it was found (*truncated = 1) or malformed (0).
 */
int mp_find(const char *buf, size_t len, const char *boundary, const char *name,
    struct mp_part *part, int *truncated, const char **why);

#endif

/*
 * plexxml.h - a small, bounded reader of plex.tv's XML answers: start tags and attributes.
 *
 * plex.tv's older endpoints (home users, friends, shared servers, the Home switch) answer XML
 * only. What we need of them is flat: elements and their attributes, plus which element holds
 * which (a friend's Server children). So this is not a general XML parser: text content is
 * skipped, declarations, comments, DOCTYPE and CDATA are skipped, end tags only lower the depth.
 * Attribute values are decoded (the five named entities and &#N; / &#xN;). Anything malformed,
 * an embedded NUL, a value over PTS_PXML_VALUE_MAX, more than PTS_PXML_MAX_ATTRS attributes or
 * a nesting over PTS_PXML_MAX_DEPTH ends the scan with -1.
 *
 * Ownership: names and values handed to the callback live in a scratch buffer owned by the
 * scan and are valid only during the callback: copy what you keep.
 */
#ifndef PTS_PLEXXML_H
#define PTS_PLEXXML_H

#include <stddef.h>

/* Attributes per element (a plex.tv User has about 20). */
#define PTS_PXML_MAX_ATTRS 64
/* Nesting accepted (plex.tv's answers are 3 deep). */
#define PTS_PXML_MAX_DEPTH 32
/* Longest element or attribute name. */
#define PTS_PXML_NAME_MAX 64
/* Longest decoded attribute value (a thumb URL, a token: far less). */
#define PTS_PXML_VALUE_MAX 4096

struct pts_pxml_attr {
	const char *name;
	const char *value;          /* decoded, NUL-terminated */
};

struct pts_pxml_el {
	const char *name;
	int depth;                  /* 0 for the root element */
	const struct pts_pxml_attr *attrs;
	int nattrs;
};

/* Return 0 to go on, anything else to stop the scan. */
typedef int (*pts_pxml_fn)(void *ctx, const struct pts_pxml_el *el);

/*
 * Call fn for each start tag of xml[0..len) in document order. Returns 0 at the end of a
 * well-formed document (every element closed), 1 when fn asked to stop, -1 when malformed
 * or over a limit (logged at DEBUG; the caller says which answer it was).
 */
int pts_pxml_scan(const char *xml, size_t len, pts_pxml_fn fn, void *ctx);

/* The value of attribute name of el, or NULL. */
const char *pts_pxml_attr(const struct pts_pxml_el *el, const char *name);

/* 1 when attribute name of el is "1" or "true". */
int pts_pxml_flag(const struct pts_pxml_el *el, const char *name);

#endif

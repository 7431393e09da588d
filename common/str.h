/*
 * str.h - a NULL-safe string copy.
 *
 * Ownership: the copy is malloc'd, the caller frees it.
 */
#ifndef PTS_STR_H
#define PTS_STR_H

/*
 * A copy of s; NULL when s is NULL or memory ran out (callers that must tell the two apart
 * check s). Text that must be cut to a length goes through pts_utf8_dup (utf8.h).
 */
char *pts_str_dup(const char *s);

#endif

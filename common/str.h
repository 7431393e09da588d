/*
 * str.h - a NULL-safe string copy, and the characters of an opaque id that may go into a
 * URL path.
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

/*
 * The characters accepted in an opaque id that is compared and put into a URL path as it is
 * (a Plex server's machineIdentifier, Server.uuid of a webhook, a plex.tv user's uuid): real
 * servers send hex digits and dashes, other servers and tools may use any of these; none of
 * them needs escaping in a path.
 */
#define PTS_STR_ID_CHARS \
	"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._-"

#endif

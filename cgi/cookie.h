/*
 * cookie.h - read one cookie out of a Cookie header ("a=1; pts_session=...; b=2").
 */
#ifndef PTS_CGI_COOKIE_H
#define PTS_CGI_COOKIE_H

#include <stddef.h>

/* A longer Cookie header is ignored as a whole (as if no cookie was sent). */
#define COOKIE_MAX_LEN 8192

/*
 * Copy the value of the nth (0-based) cookie called name into out, without surrounding
 * double quotes. 0, or -1 when there is no such cookie, the header is too long, or the
 * value does not fit in outlen.
 */
int cookie_get(const char *header, const char *name, int nth, char *out, size_t outlen);

#endif

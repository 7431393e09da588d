/*
 * edge.h - the header checks every state-changing request passes (docs/API.md):
 * X-Requested-With, Origin against Host, JSON content type, Content-Length.
 * Pure functions of the header strings (NULL = header absent); app.c applies them in order.
 */
#ifndef PTS_CGI_EDGE_H
#define PTS_CGI_EDGE_H

#include <stddef.h>
#include <stdint.h>

/* Longest Origin or Host compared; a longer one fails the check. */
#define EDGE_HOST_MAX 300

/* 1 when X-Requested-With is XMLHttpRequest (what a cross-site form cannot send). */
int edge_xrw_ok(const char *xrw);

/*
 * 1 when there is no Origin, or when its host[:port] equals the Host header (a default port
 * on either side — :80 for http, :443 for https — is ignored; host names compare without
 * case). "null", other schemes, paths or a missing Host fail.
 */
int edge_origin_ok(const char *origin, const char *host);

/* 1 when the media type is application/json (parameters such as charset allowed). */
int edge_is_json(const char *content_type);

/*
 * Parse CONTENT_LENGTH: absent or "" is 0; digits only; values too large for int64 saturate
 * (the caller answers 413 anyway). 0, or -1 when it is not a number.
 */
int edge_content_length(const char *s, int64_t *out);

/*
 * 1 when buf[0..len) is well-formed UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF): bodies must be, so nothing we echo back can make our own JSON invalid.
 */
int edge_utf8_ok(const char *buf, size_t len);

#endif

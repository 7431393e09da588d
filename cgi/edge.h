/*
 * edge.h - the header checks every request passes (docs/API.md): the Host rule, and for
 * state-changing requests X-Requested-With, Origin against Host, JSON content type,
 * Content-Length; the Authorization header's bearer token; and the environment switches of the edge (PTS_REQUIRE_PASSWORD,
 * PTS_COOKIE_SECURE). Pure functions of the strings (NULL = header or variable absent);
 * app.c applies them in order.
 */
#ifndef PTS_CGI_EDGE_H
#define PTS_CGI_EDGE_H

#include <stddef.h>
#include <stdint.h>

/* Longest Origin or Host compared; a longer one fails the check. */
#define EDGE_HOST_MAX 300

/*
 * The Host rule (DNS rebinding): 1 when host (the Host header, "name[:port]") names this
 * service in a way no one else's DNS can: an IPv4 literal (dotted quad), a bracketed IPv6
 * literal, "localhost", or one of the names in allowed (PTS_ALLOWED_HOSTS: comma-separated,
 * spaces around names ignored, NULL or "" = none). Names compare without case and without
 * one trailing dot; any port (digits only). A missing, empty or malformed Host fails.
 */
int edge_host_ok(const char *host, const char *allowed);

/*
 * 1 when addr (PTS_HTTP_ADDR as nginx's listen takes it: "127.0.0.1", "[::1]", "::1",
 * "localhost") is a loopback address: 127.0.0.0/8, ::1 or localhost. Anything else
 * (0.0.0.0, ::, a LAN address, a name) is 0.
 */
int edge_addr_loopback(const char *addr);

/*
 * PTS_REQUIRE_PASSWORD: "1" or "0" as given; unset or "" means 1 exactly when http_addr
 * (PTS_HTTP_ADDR, unset = 127.0.0.1) is not loopback. Another value is -1 (the caller logs
 * it and requires the password: the safe side).
 */
int edge_require_password(const char *require, const char *http_addr);

/*
 * PTS_COOKIE_SECURE: "1" always Secure, "0" never, unset, "" or "auto" Secure when the web
 * server passed HTTPS (https != 0). Another value is -1 (the caller logs it and uses auto).
 */
int edge_cookie_secure(const char *setting, int https);

/*
 * The token of an Authorization header "Bearer <token>" (RFC 6750: the scheme without case,
 * then spaces or tabs): a pointer into authorization with its length in *len, or NULL when
 * the header is absent, names another scheme, has no token, or has anything after it (a
 * space inside the token, a second word). The header's bytes are never copied or logged.
 */
const char *edge_bearer(const char *authorization, size_t *len);

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

#endif

/*
 * edge.c - the Host rule, CSRF, content type and length checks, the edge's switches.
 */
#include "edge.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Longest port in a Host header ("65535"). */
#define EDGE_PORT_DIGITS 5

int
edge_xrw_ok(const char *xrw)
{
	return xrw != NULL && strcasecmp(xrw, "XMLHttpRequest") == 0;
}

/* ==== The Host rule ==== */

/*
 * Split a Host header into its host part and check the port: the host part's length, or 0
 * when the header is malformed (an unclosed "[", a non-numeric or empty port, junk after
 * "]").
 */
static size_t
edge_host_part(const char *host)
{
	const char *port;
	size_t len = strlen(host), h, n;

	if (len == 0 || len > EDGE_HOST_MAX)
		return 0;
	if (host[0] == '[') {
		const char *close = strchr(host, ']');

		if (close == NULL)
			return 0;
		h = (size_t)(close - host) + 1;
	} else {
		h = strcspn(host, ":");
	}
	port = host + h;
	if (*port == ':') {
		n = strlen(++port);
		if (n == 0 || n > EDGE_PORT_DIGITS || strspn(port, "0123456789") != n)
			return 0;
	} else if (*port != '\0') {
		return 0;
	}
	return h;
}

/* Is s[0..len) a dotted quad (four decimal parts of 1-3 digits, each at most 255)? */
static int
edge_ipv4(const char *s, size_t len)
{
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		size_t digits = 0;
		unsigned v = 0;

		if (part > 0) {
			if (i >= len || s[i] != '.')
				return 0;
			i++;
		}
		while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return 0;
	}
	return i == len;
}

/* Is s[0..len) "[IPv6]" with an address inet_pton accepts (no zone id)? */
static int
edge_ipv6(const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 1];
	struct in6_addr a;

	if (len < 3 || s[0] != '[' || s[len - 1] != ']' || len - 2 >= sizeof(buf))
		return 0;
	memcpy(buf, s + 1, len - 2);
	buf[len - 2] = '\0';
	return inet_pton(AF_INET6, buf, &a) == 1;
}

/* Do the names a[0..alen) and b[0..blen) match, without case and one trailing dot each? */
static int
edge_name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen > 0 && a[alen - 1] == '.')
		alen--;
	if (blen > 0 && b[blen - 1] == '.')
		blen--;
	return alen > 0 && alen == blen && strncasecmp(a, b, alen) == 0;
}

int
edge_host_ok(const char *host, const char *allowed)
{
	size_t len;

	if (host == NULL || (len = edge_host_part(host)) == 0)
		return 0;
	if (edge_ipv4(host, len) || edge_ipv6(host, len) ||
	    edge_name_eq(host, len, "localhost", 9))
		return 1;
	if (host[0] == '[')
		return 0;
	while (allowed != NULL && *allowed != '\0') {
		size_t n = strcspn(allowed, ","), a = 0, b = n;

		while (a < b && (allowed[a] == ' ' || allowed[a] == '\t'))
			a++;
		while (b > a && (allowed[b - 1] == ' ' || allowed[b - 1] == '\t'))
			b--;
		if (edge_name_eq(host, len, allowed + a, b - a))
			return 1;
		allowed += n;
		if (*allowed == ',')
			allowed++;
	}
	return 0;
}

int
edge_addr_loopback(const char *addr)
{
	char buf[INET6_ADDRSTRLEN + 1];
	struct in6_addr a6;
	struct in_addr a4;
	size_t len;

	if (addr == NULL)
		return 0;
	len = strlen(addr);
	if (len >= 2 && addr[0] == '[' && addr[len - 1] == ']') {
		addr++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, addr, len);
	buf[len] = '\0';
	if (strcasecmp(buf, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, buf, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, buf, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

int
edge_require_password(const char *require, const char *http_addr)
{
	if (require == NULL || *require == '\0')
		return !edge_addr_loopback(http_addr != NULL && *http_addr != '\0' ? http_addr :
		    "127.0.0.1");
	if (strcmp(require, "1") == 0)
		return 1;
	if (strcmp(require, "0") == 0)
		return 0;
	return -1;
}

int
edge_cookie_secure(const char *setting, int https)
{
	if (setting == NULL || *setting == '\0' || strcmp(setting, "auto") == 0)
		return https != 0;
	if (strcmp(setting, "1") == 0)
		return 1;
	if (strcmp(setting, "0") == 0)
		return 0;
	return -1;
}

/* ==== The bearer token ==== */

const char *
edge_bearer(const char *authorization, size_t *len)
{
	static const char scheme[] = "Bearer";
	const char *tok;
	size_t n;

	*len = 0;
	if (authorization == NULL ||
	    strncasecmp(authorization, scheme, sizeof(scheme) - 1) != 0)
		return NULL;
	tok = authorization + sizeof(scheme) - 1;
	n = strspn(tok, " \t");
	if (n == 0)
		return NULL;
	tok += n;
	n = strcspn(tok, " \t");
	if (n == 0 || tok[n] != '\0')
		return NULL;
	*len = n;
	return tok;
}

/* ==== CSRF, content type and length ==== */

/* Copy host[:port] into out, dropping the scheme's default port. 0 or -1. */
static int
edge_authority(const char *s, size_t len, int https, char *out, size_t outlen)
{
	const char *dflt = https ? ":443" : ":80";
	size_t dlen = strlen(dflt);

	if (len == 0 || len >= outlen)
		return -1;
	memcpy(out, s, len);
	out[len] = '\0';
	if (len > dlen && strcmp(out + len - dlen, dflt) == 0)
		out[len - dlen] = '\0';
	return 0;
}

int
edge_origin_ok(const char *origin, const char *host)
{
	char a[EDGE_HOST_MAX + 1], b[EDGE_HOST_MAX + 1];
	const char *auth;
	int https;

	if (origin == NULL)
		return 1;
	if (host == NULL)
		return 0;
	if (strncasecmp(origin, "http://", 7) == 0) {
		auth = origin + 7;
		https = 0;
	} else if (strncasecmp(origin, "https://", 8) == 0) {
		auth = origin + 8;
		https = 1;
	} else {
		return 0; /* "null" (sandboxed or privacy-sensitive contexts), or another scheme */
	}
	/* An Origin is scheme://host[:port] and nothing else. */
	if (auth[strcspn(auth, "/?#@ \t")] != '\0')
		return 0;
	if (strpbrk(host, "/?#@ \t") != NULL)
		return 0;
	if (edge_authority(auth, strlen(auth), https, a, sizeof(a)) != 0 ||
	    edge_authority(host, strlen(host), https, b, sizeof(b)) != 0)
		return 0;
	return strcasecmp(a, b) == 0;
}

int
edge_is_json(const char *ct)
{
	static const char json[] = "application/json";
	const char *p;

	if (ct == NULL)
		return 0;
	ct += strspn(ct, " \t");
	if (strncasecmp(ct, json, sizeof(json) - 1) != 0)
		return 0;
	p = ct + sizeof(json) - 1;
	p += strspn(p, " \t");
	return *p == '\0' || *p == ';';
}

int
edge_content_length(const char *s, int64_t *out)
{
	int64_t n = 0;

	*out = 0;
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (n > (INT64_MAX - 9) / 10)
			n = INT64_MAX; /* saturate: far over any limit */
		else
			n = n * 10 + (*s - '0');
	}
	*out = n;
	return 0;
}

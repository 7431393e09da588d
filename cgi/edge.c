/*
 * edge.c - CSRF, content type and length checks.
 */
#include "edge.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int
edge_xrw_ok(const char *xrw)
{
	return xrw != NULL && strcasecmp(xrw, "XMLHttpRequest") == 0;
}

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

int
edge_utf8_ok(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;

	while (p < end) {
		unsigned char c = *p;
		size_t n;
		uint32_t cp, min;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1; cp = c & 0x1f; min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2; cp = c & 0x0f; min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3; cp = c & 0x07; min = 0x10000;
		} else {
			return 0; /* a continuation byte first, 0xc0/0xc1, or 0xf5 and up */
		}
		if ((size_t)(end - p) <= n)
			return 0;
		for (p++; n > 0; n--, p++) {
			if ((*p & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (*p & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

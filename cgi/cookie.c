/*
 * cookie.c - Cookie header parsing.
 */
#include "cookie.h"

#include <string.h>

int
cookie_get(const char *header, const char *name, int nth, char *out, size_t outlen)
{
	size_t nlen = strlen(name);
	const char *p;

	if (header == NULL || outlen == 0 || strlen(header) > COOKIE_MAX_LEN)
		return -1;
	for (p = header; *p != '\0';) {
		size_t len, vlen;
		const char *v;

		p += strspn(p, " \t;");
		len = strcspn(p, ";");
		if (len > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=' && nth-- == 0) {
			v = p + nlen + 1;
			vlen = len - nlen - 1;
			while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			if (vlen >= outlen)
				return -1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return 0;
		}
		p += len;
	}
	return -1;
}

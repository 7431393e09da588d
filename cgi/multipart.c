/*
 * multipart.c - strict multipart/form-data parsing over a buffer.
 */
#include "multipart.h"

#include <string.h>
#include <strings.h>

#define MP_CRLF "\r\n"

/* ==== character classes (RFC 7230 tchar, RFC 2046 bchars) ==== */

static int
mp_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
mp_bchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

/* A control character other than HT (never allowed in a header line). */
static int
mp_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* ==== parameters: "; name=value" lists of Content-Type and Content-Disposition ==== */

struct mp_param {
	const char *name, *value;
	size_t nlen, vlen;
};

/*
 * Read one "; name=value" (value a token or a quoted string without backslashes) starting at
 * s[*i] (at the ';'), within s[0..len). 0 with *i after it, or -1.
 */
static int
mp_next_param(const char *s, size_t len, size_t *i, struct mp_param *p)
{
	size_t k = *i;

	if (k >= len || s[k] != ';')
		return -1;
	for (k++; k < len && (s[k] == ' ' || s[k] == '\t'); k++)
		;
	p->name = s + k;
	while (k < len && mp_tchar((unsigned char)s[k]))
		k++;
	p->nlen = (size_t)(s + k - p->name);
	if (p->nlen == 0 || k >= len || s[k] != '=')
		return -1;
	k++;
	if (k < len && s[k] == '"') {
		p->value = s + ++k;
		while (k < len && s[k] != '"') {
			if (s[k] == '\\' || mp_ctl((unsigned char)s[k]))
				return -1;
			k++;
		}
		if (k >= len)
			return -1;
		p->vlen = (size_t)(s + k - p->value);
		k++;
	} else {
		p->value = s + k;
		while (k < len && mp_tchar((unsigned char)s[k]))
			k++;
		p->vlen = (size_t)(s + k - p->value);
		if (p->vlen == 0)
			return -1;
	}
	while (k < len && (s[k] == ' ' || s[k] == '\t'))
		k++;
	if (k < len && s[k] != ';')
		return -1;
	*i = k;
	return 0;
}

static int
mp_is(const struct mp_param *p, const char *name)
{
	return p->nlen == strlen(name) && strncasecmp(p->name, name, p->nlen) == 0;
}

int
mp_boundary(const char *ct, char *out, size_t outlen)
{
	static const char type[] = "multipart/form-data";
	struct mp_param p;
	size_t len, i, k;
	int found = 0;

	if (ct == NULL || outlen < MP_BOUNDARY_MAX + 1)
		return -1;
	len = strlen(ct);
	i = strspn(ct, " \t");
	if (len - i < sizeof(type) - 1 || strncasecmp(ct + i, type, sizeof(type) - 1) != 0)
		return -1;
	for (i += sizeof(type) - 1; i < len && (ct[i] == ' ' || ct[i] == '\t'); i++)
		;
	while (i < len) {
		if (mp_next_param(ct, len, &i, &p) != 0)
			return -1;
		if (!mp_is(&p, "boundary"))
			continue;
		if (found || p.vlen == 0 || p.vlen > MP_BOUNDARY_MAX || p.value[p.vlen - 1] == ' ')
			return -1;
		for (k = 0; k < p.vlen; k++)
			if (!mp_bchar((unsigned char)p.value[k]))
				return -1;
		memcpy(out, p.value, p.vlen);
		out[p.vlen] = '\0';
		found = 1;
	}
	return found ? 0 : -1;
}

/* ==== part headers ==== */

/* Copy a parameter value into a name field. 0, or -1 when empty or too long. */
static int
mp_copy_name(const struct mp_param *p, char *out)
{
	if (p->vlen == 0 || p->vlen > MP_NAME_MAX || memchr(p->value, '\0', p->vlen) != NULL)
		return -1;
	memcpy(out, p->value, p->vlen);
	out[p->vlen] = '\0';
	return 0;
}

/* "form-data; name=...; filename=..." into part. 0 or -1. */
static int
mp_disposition(const char *v, size_t len, struct mp_part *part)
{
	static const char fd[] = "form-data";
	struct mp_param p;
	size_t i = 0;
	int have_name = 0;

	if (len < sizeof(fd) - 1 || strncasecmp(v, fd, sizeof(fd) - 1) != 0)
		return -1;
	for (i = sizeof(fd) - 1; i < len && (v[i] == ' ' || v[i] == '\t'); i++)
		;
	while (i < len) {
		if (mp_next_param(v, len, &i, &p) != 0)
			return -1;
		if (mp_is(&p, "name")) {
			if (have_name || mp_copy_name(&p, part->name) != 0)
				return -1;
			have_name = 1;
		} else if (mp_is(&p, "filename")) {
			if (part->has_filename || p.vlen > MP_NAME_MAX)
				return -1;
			memcpy(part->filename, p.value, p.vlen);
			part->filename[p.vlen] = '\0';
			part->has_filename = 1;
		}
	}
	return have_name ? 0 : -1;
}

/*
 * Read a part's header block starting at buf[*pos]. 0 with *pos at the first data byte,
 * 1 when the bytes end first, -1 when malformed (*why set).
 */
static int
mp_headers(const char *buf, size_t len, size_t *pos, struct mp_part *part, const char **why)
{
	size_t p = *pos;
	int n = 0, have_cd = 0;

	for (;;) {
		size_t avail = len - p, scan = avail < MP_LINE_MAX + 2 ? avail : MP_LINE_MAX + 2;
		const char *eol = scan > 0 ? memmem(buf + p, scan, MP_CRLF, 2) : NULL;
		const char *line = buf + p, *colon, *v;
		size_t llen, k, vlen;

		if (eol == NULL) {
			if (avail < MP_LINE_MAX + 2)
				return 1;
			*why = "a part header line is too long";
			return -1;
		}
		llen = (size_t)(eol - line);
		p += llen + 2;
		if (llen == 0)
			break;
		if (++n > MP_MAX_HEADERS) {
			*why = "a part has too many header lines";
			return -1;
		}
		if (line[0] == ' ' || line[0] == '\t') {
			*why = "folded part header lines are not accepted";
			return -1;
		}
		for (k = 0; k < llen; k++)
			if (mp_ctl((unsigned char)line[k])) {
				*why = "a part header has a control character";
				return -1;
			}
		colon = memchr(line, ':', llen);
		if (colon == NULL || colon == line) {
			*why = "a part header line has no name";
			return -1;
		}
		for (k = 0; line + k < colon; k++)
			if (!mp_tchar((unsigned char)line[k])) {
				*why = "a part header name is malformed";
				return -1;
			}
		v = colon + 1;
		vlen = llen - (size_t)(v - line);
		while (vlen > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		if ((size_t)(colon - line) == 19 && strncasecmp(line, "Content-Disposition", 19) == 0) {
			if (have_cd || mp_disposition(v, vlen, part) != 0) {
				*why = "a part's Content-Disposition is not form-data with one name";
				return -1;
			}
			have_cd = 1;
		} else if ((size_t)(colon - line) == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
			if (part->ctype != NULL) {
				*why = "a part has two Content-Type headers";
				return -1;
			}
			part->ctype = v;
			part->ctype_len = vlen;
		}
	}
	if (!have_cd) {
		*why = "a part has no Content-Disposition";
		return -1;
	}
	*pos = p;
	return 0;
}

/* ==== the body ==== */

enum mp_result
mp_parse(const char *buf, size_t len, const char *boundary, mp_part_fn fn, void *ctx,
    const char **why)
{
	char delim[MP_BOUNDARY_MAX + 5];  /* CRLF "--" boundary NUL */
	const char *dummy, *hit;
	size_t blen, dlen, pos, scan;
	int parts = 0;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	blen = boundary != NULL ? strlen(boundary) : 0;
	if (blen == 0 || blen > MP_BOUNDARY_MAX) {
		*why = "bad boundary";
		return MP_BAD;
	}
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, boundary, blen + 1);
	dlen = blen + 4;
	/* The first delimiter: at the very start, or after a short preamble and a CRLF. */
	if (len >= dlen - 2 && memcmp(buf, delim + 2, dlen - 2) == 0) {
		pos = dlen - 2;
	} else {
		scan = len < MP_PREAMBLE_MAX + dlen ? len : MP_PREAMBLE_MAX + dlen;
		hit = scan > 0 ? memmem(buf, scan, delim, dlen) : NULL;
		if (hit == NULL) {
			if (len < MP_PREAMBLE_MAX + dlen)
				return MP_TRUNCATED;  /* it may still come */
			*why = "the body does not start with the boundary";
			return MP_BAD;
		}
		pos = (size_t)(hit - buf) + dlen;
	}
	for (;;) {
		struct mp_part part;
		size_t start;
		int rc;

		/* After a boundary: "--" ends the body; else padding, then CRLF and a part. */
		if (len - pos < 2)
			return MP_TRUNCATED;
		if (buf[pos] == '-' && buf[pos + 1] == '-')
			return MP_OK;  /* the epilogue, if any, is ignored */
		while (pos < len && (buf[pos] == ' ' || buf[pos] == '\t'))
			pos++;
		if (len - pos < 2)
			return MP_TRUNCATED;
		if (buf[pos] != '\r' || buf[pos + 1] != '\n') {
			*why = "junk after a boundary";
			return MP_BAD;
		}
		pos += 2;
		if (++parts > MP_MAX_PARTS) {
			*why = "too many parts";
			return MP_BAD;
		}
		memset(&part, 0, sizeof(part));
		rc = mp_headers(buf, len, &pos, &part, why);
		if (rc > 0)
			return MP_TRUNCATED;
		if (rc < 0)
			return MP_BAD;
		start = pos;
		hit = len > start ? memmem(buf + start, len - start, delim, dlen) : NULL;
		if (hit == NULL)
			return MP_TRUNCATED;
		part.data = buf + start;
		part.len = (size_t)(hit - part.data);
		pos = (size_t)(hit - buf) + dlen;
		if (fn != NULL && fn(ctx, &part) != 0)
			return MP_OK;
	}
}

struct mp_find_ctx {
	const char *name;
	struct mp_part *out;
	int found;
};

static int
mp_find_cb(void *arg, const struct mp_part *part)
{
	struct mp_find_ctx *c = arg;

	if (strcmp(part->name, c->name) != 0)
		return 0;
	*c->out = *part;
	c->found = 1;
	return 1;
}

int
mp_find(const char *buf, size_t len, const char *boundary, const char *name,
    struct mp_part *part, int *truncated, const char **why)
{
	struct mp_find_ctx c = { name, part, 0 };
	enum mp_result r = mp_parse(buf, len, boundary, mp_find_cb, &c, why);

	*truncated = 0;
	if (c.found)
		return 0;
	if (r == MP_OK)
		return 1;
	*truncated = r == MP_TRUNCATED;
	return -1;
}

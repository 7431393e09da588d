/*
 * plexxml.c - plex.tv's XML answers read as start tags with decoded attributes.
 */
#include "plexxml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct pxml {
	const char *s;
	size_t len, pos;
	char *scratch;              /* names and decoded values of the current element */
	size_t used, cap;
};

static int
pxml_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':';
}

static int
pxml_name_char(char c)
{
	return pxml_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int
pxml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Move past the next occurrence of end; -1 when there is none. */
static int
pxml_skip_past(struct pxml *p, const char *end)
{
	size_t n = strlen(end);

	for (; p->pos + n <= p->len; p->pos++)
		if (memcmp(p->s + p->pos, end, n) == 0) {
			p->pos += n;
			return 0;
		}
	return -1;
}

/* Append bytes to the scratch buffer (sized to the input: decoding never grows text). */
static int
pxml_put(struct pxml *p, const char *b, size_t n)
{
	if (p->used + n >= p->cap)
		return -1;
	memcpy(p->scratch + p->used, b, n);
	p->used += n;
	return 0;
}

/* Code point cp as UTF-8 into out (4 bytes room); its length, or 0 when not allowed. */
static size_t
pxml_utf8(uint32_t cp, char *out)
{
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Decode the entity at s[0] == '&' (at most max bytes) into the scratch; its raw length or 0. */
static size_t
pxml_entity(struct pxml *p, const char *s, size_t max)
{
	static const struct { const char *name; char c; } named[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
		{ "&apos;", '\'' },
	};
	const char *semi = memchr(s, ';', max < 12 ? max : 12);
	uint32_t cp = 0;
	size_t i, n, ulen;
	char u[4];

	if (semi == NULL)
		return 0;
	n = (size_t)(semi - s) + 1;
	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (strlen(named[i].name) == n && memcmp(s, named[i].name, n) == 0)
			return pxml_put(p, &named[i].c, 1) == 0 ? n : 0;
	if (n < 4 || s[1] != '#')
		return 0;
	if (s[2] == 'x' || s[2] == 'X') {
		for (i = 3; i < n - 1; i++) {
			char c = s[i];
			int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

			if (d < 0 || cp > 0x10FFFF)
				return 0;
			cp = cp * 16 + (uint32_t)d;
		}
		if (n < 5)
			return 0;
	} else {
		for (i = 2; i < n - 1; i++) {
			if (s[i] < '0' || s[i] > '9' || cp > 0x10FFFF)
				return 0;
			cp = cp * 10 + (uint32_t)(s[i] - '0');
		}
	}
	if ((ulen = pxml_utf8(cp, u)) == 0)
		return 0;
	return pxml_put(p, u, ulen) == 0 ? n : 0;
}

/* A name at p->pos into the scratch (NUL-terminated); its offset there, or -1. */
static long
pxml_name(struct pxml *p)
{
	size_t start = p->pos, off = p->used;

	if (p->pos >= p->len || !pxml_name_start(p->s[p->pos]))
		return -1;
	while (p->pos < p->len && pxml_name_char(p->s[p->pos]))
		p->pos++;
	if (p->pos - start > PTS_PXML_NAME_MAX || pxml_put(p, p->s + start, p->pos - start) != 0 ||
	    pxml_put(p, "", 1) != 0)
		return -1;
	return (long)off;
}

/* A quoted value at p->pos, decoded into the scratch; its offset there, or -1. */
static long
pxml_value(struct pxml *p)
{
	size_t off = p->used, n;
	char q;

	if (p->pos >= p->len || (p->s[p->pos] != '"' && p->s[p->pos] != '\''))
		return -1;
	q = p->s[p->pos++];
	while (p->pos < p->len && p->s[p->pos] != q) {
		char c = p->s[p->pos];

		if (c == '<')
			return -1;
		if (c == '&') {
			if ((n = pxml_entity(p, p->s + p->pos, p->len - p->pos)) == 0)
				return -1;
			p->pos += n;
		} else {
			if (pxml_put(p, &c, 1) != 0)
				return -1;
			p->pos++;
		}
		if (p->used - off > PTS_PXML_VALUE_MAX)
			return -1;
	}
	if (p->pos >= p->len || pxml_put(p, "", 1) != 0)
		return -1;
	p->pos++;
	return (long)off;
}

/*
 * The start tag at p->pos (just past '<'): to fn. *closed is 1 for "<x/>". 0, 1 (fn stopped)
 * or -1.
 */
static int
pxml_start_tag(struct pxml *p, int depth, pts_pxml_fn fn, void *ctx, int *closed)
{
	struct pts_pxml_attr attrs[PTS_PXML_MAX_ATTRS];
	long noff[PTS_PXML_MAX_ATTRS], voff[PTS_PXML_MAX_ATTRS], eoff;
	struct pts_pxml_el el;
	int n = 0, i;

	p->used = 0;
	if ((eoff = pxml_name(p)) < 0)
		return -1;
	for (;;) {
		while (p->pos < p->len && pxml_space(p->s[p->pos]))
			p->pos++;
		if (p->pos >= p->len)
			return -1;
		if (p->s[p->pos] == '>') {
			p->pos++;
			*closed = 0;
			break;
		}
		if (p->s[p->pos] == '/') {
			if (p->pos + 1 >= p->len || p->s[p->pos + 1] != '>')
				return -1;
			p->pos += 2;
			*closed = 1;
			break;
		}
		if (n == PTS_PXML_MAX_ATTRS || (noff[n] = pxml_name(p)) < 0)
			return -1;
		while (p->pos < p->len && pxml_space(p->s[p->pos]))
			p->pos++;
		if (p->pos >= p->len || p->s[p->pos] != '=')
			return -1;
		p->pos++;
		while (p->pos < p->len && pxml_space(p->s[p->pos]))
			p->pos++;
		if ((voff[n] = pxml_value(p)) < 0)
			return -1;
		n++;
	}
	/* The scratch does not move while an element is read, so offsets become pointers now. */
	for (i = 0; i < n; i++) {
		attrs[i].name = p->scratch + noff[i];
		attrs[i].value = p->scratch + voff[i];
	}
	el.name = p->scratch + eoff;
	el.depth = depth;
	el.attrs = attrs;
	el.nattrs = n;
	return fn(ctx, &el) != 0 ? 1 : 0;
}

int
pts_pxml_scan(const char *xml, size_t len, pts_pxml_fn fn, void *ctx)
{
	struct pxml p = { .s = xml, .len = len };
	int depth = 0, seen_root = 0, closed, r = -1;
	const char *lt;

	if (xml == NULL || memchr(xml, '\0', len) != NULL)
		return -1;
	if ((p.scratch = malloc(len + 1)) == NULL) {
		PTS_ERROR("plex.tv XML: out of memory");
		return -1;
	}
	p.cap = len + 1;
	while ((lt = memchr(p.s + p.pos, '<', p.len - p.pos)) != NULL) {
		p.pos = (size_t)(lt - p.s) + 1;
		if (p.pos >= p.len)
			goto out;
		if (p.s[p.pos] == '?') {
			if (pxml_skip_past(&p, "?>") != 0)
				goto out;
		} else if (p.len - p.pos >= 3 && memcmp(p.s + p.pos, "!--", 3) == 0) {
			if (pxml_skip_past(&p, "-->") != 0)
				goto out;
		} else if (p.len - p.pos >= 8 && memcmp(p.s + p.pos, "![CDATA[", 8) == 0) {
			if (pxml_skip_past(&p, "]]>") != 0)
				goto out;
		} else if (p.s[p.pos] == '!') {
			if (pxml_skip_past(&p, ">") != 0)
				goto out;
		} else if (p.s[p.pos] == '/') {
			if (--depth < 0 || pxml_skip_past(&p, ">") != 0)
				goto out;
		} else {
			if (depth == 0 && seen_root)
				goto out;           /* a second root: not one document */
			seen_root = 1;
			r = pxml_start_tag(&p, depth, fn, ctx, &closed);
			if (r != 0)
				goto out;
			r = -1;
			if (!closed && ++depth > PTS_PXML_MAX_DEPTH)
				goto out;
		}
	}
	r = depth == 0 && seen_root ? 0 : -1;
out:
	if (r < 0)
		PTS_DEBUG("plex.tv XML: malformed near byte %zu", p.pos);
	free(p.scratch);
	return r;
}

const char *
pts_pxml_attr(const struct pts_pxml_el *el, const char *name)
{
	int i;

	for (i = 0; i < el->nattrs; i++)
		if (strcmp(el->attrs[i].name, name) == 0)
			return el->attrs[i].value;
	return NULL;
}

int
pts_pxml_flag(const struct pts_pxml_el *el, const char *name)
{
	const char *v = pts_pxml_attr(el, name);

	return v != NULL && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
}

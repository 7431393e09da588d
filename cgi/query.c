/*
 * query.c - query string parsing and validation.
 */
#include "query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
query_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
query_decode(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -1;
			hi = query_hex(s[i + 1]);
			lo = query_hex(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c == '\0' || o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	if (outlen == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

int
query_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	long long v;
	char *end;

	/* strtoll would take leading spaces and '+': refuse them, only digits are a number here. */
	if (!((s[0] >= '0' && s[0] <= '9') || (s[0] == '-' && s[1] >= '0' && s[1] <= '9')))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int64_t)v;
	return 0;
}

static int
query_spec_index(const struct query_spec *spec, const char *name)
{
	int i;

	for (i = 0; spec != NULL && spec[i].name != NULL && i < QUERY_MAX_SPECS; i++)
		if (strcmp(spec[i].name, name) == 0)
			return i;
	return -1;
}

/* Convert one declared parameter. 0, or -1 with a reason in why. */
static int
query_convert(const struct query_spec *sp, const char *value, int64_t *out, char *why,
    size_t whylen)
{
	int i;

	switch (sp->type) {
	case QUERY_INT:
		if (query_int(value, sp->min, sp->max, out) == 0)
			return 0;
		snprintf(why, whylen, "must be an integer from %lld to %lld", (long long)sp->min,
		    (long long)sp->max);
		return -1;
	case QUERY_ENUM:
		for (i = 0; sp->choices[i] != NULL; i++) {
			if (strcmp(sp->choices[i], value) == 0) {
				*out = i;
				return 0;
			}
		}
		snprintf(why, whylen, "is not one of the allowed values");
		return -1;
	}
	snprintf(why, whylen, "is not supported");
	return -1;
}

static void
query_fail(json_object *fields, const char *name, const char *why)
{
	/* Keep the first reason given for a name. */
	if (!json_object_object_get_ex(fields, name, NULL))
		json_object_object_add(fields, name, json_object_new_string(why));
}

int
query_parse(const char *qs, const struct query_spec *spec, struct query_vals *out,
    json_object *fields)
{
	char name[QUERY_MAX_ITEM + 1], value[QUERY_MAX_ITEM + 1];
	const char *p;
	int nparams = 0, bad = 0, i;

	memset(out, 0, sizeof(*out));
	out->spec = spec;
	for (i = 0; spec != NULL && spec[i].name != NULL && i < QUERY_MAX_SPECS; i++)
		out->val[i] = spec[i].dflt;
	if (qs == NULL || *qs == '\0')
		return 0;
	if (strlen(qs) > QUERY_MAX_LEN) {
		query_fail(fields, "query", "is too long");
		return 1;
	}
	for (p = qs; *p != '\0';) {
		size_t len = strcspn(p, "&"), nlen;
		const char *eq;
		char why[96];
		int idx;

		if (len == 0) { /* "a=1&&b=2" or a trailing "&" */
			p++;
			continue;
		}
		if (++nparams > QUERY_MAX_PARAMS) {
			query_fail(fields, "query", "has too many parameters");
			return bad + 1;
		}
		eq = memchr(p, '=', len);
		nlen = eq ? (size_t)(eq - p) : len;
		if (query_decode(p, nlen, name, sizeof(name)) != 0 ||
		    query_decode(eq ? eq + 1 : p + len, eq ? len - nlen - 1 : 0, value,
		    sizeof(value)) != 0) {
			query_fail(fields, "query", "has a bad percent-encoding or an overlong item");
			return bad + 1;
		}
		p += len;
		if (*p == '&')
			p++;
		idx = query_spec_index(spec, name);
		if (idx < 0)
			continue; /* not ours (a cache buster, say): ignored */
		if (out->set[idx]) {
			query_fail(fields, name, "is given more than once");
			bad++;
			continue;
		}
		out->set[idx] = 1;
		if (query_convert(&spec[idx], value, &out->val[idx], why, sizeof(why)) != 0) {
			query_fail(fields, name, why);
			bad++;
		}
	}
	return bad;
}

int64_t
query_get(const struct query_vals *v, const char *name)
{
	int idx = query_spec_index(v->spec, name);

	return idx < 0 ? 0 : v->val[idx];
}

int
query_isset(const struct query_vals *v, const char *name)
{
	int idx = query_spec_index(v->spec, name);

	return idx < 0 ? 0 : v->set[idx];
}

int
query_value(const char *qs, const char *name, char *out, size_t outlen)
{
	char n[QUERY_MAX_ITEM + 1], v[QUERY_MAX_ITEM + 1];
	const char *p;
	int nparams = 0, found = 0;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (qs == NULL || *qs == '\0')
		return 1;
	if (strlen(qs) > QUERY_MAX_LEN)
		return -1;
	for (p = qs; *p != '\0';) {
		size_t len = strcspn(p, "&"), nlen;
		const char *eq;

		if (len == 0) {
			p++;
			continue;
		}
		if (++nparams > QUERY_MAX_PARAMS)
			return -1;
		eq = memchr(p, '=', len);
		nlen = eq ? (size_t)(eq - p) : len;
		if (query_decode(p, nlen, n, sizeof(n)) != 0 ||
		    query_decode(eq ? eq + 1 : p + len, eq ? len - nlen - 1 : 0, v, sizeof(v)) != 0)
			return -1;
		p += len;
		if (*p == '&')
			p++;
		if (strcmp(n, name) != 0)
			continue;
		if (found || strlen(v) >= outlen)
			return -1;
		memcpy(out, v, strlen(v) + 1);
		found = 1;
	}
	explicit_bzero(v, sizeof(v));
	return found ? 0 : 1;
}

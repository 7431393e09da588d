/*
 * query.h - the query string, parsed and validated once from a per-route table.
 *
 * Each route lists the parameters it takes ({name, type, range, default}); query_parse()
 * percent-decodes the string, converts each listed parameter with a bounded conversion and
 * records a reason per bad parameter in a JSON object (the error's "fields"). Parameters a
 * route does not list are ignored, but count against the limits. Handlers read typed values
 * with query_get().
 */
#ifndef PTS_CGI_QUERY_H
#define PTS_CGI_QUERY_H

#include <json-c/json.h>
#include <stdint.h>

/* Longest query string accepted (the API's are a few dozen bytes). */
#define QUERY_MAX_LEN 2048
/* Most parameters in one query string. */
#define QUERY_MAX_PARAMS 32
/* Most parameters one route may declare. */
#define QUERY_MAX_SPECS 8
/* Longest decoded name or value. */
#define QUERY_MAX_ITEM 256

enum query_type {
	QUERY_INT,   /* decimal integer in [min, max] */
	QUERY_ENUM   /* one of choices; the value is its index */
};

struct query_spec {
	const char *name;
	enum query_type type;
	int64_t min, max;             /* QUERY_INT: inclusive range */
	int64_t dflt;                 /* value when absent */
	const char *const *choices;   /* QUERY_ENUM: NULL-terminated */
};

struct query_vals {
	const struct query_spec *spec;  /* the route's table, ended by {NULL} (may be NULL) */
	int set[QUERY_MAX_SPECS];
	int64_t val[QUERY_MAX_SPECS];
};

/*
 * Parse qs (NULL = "") against spec. Returns 0 when every parameter is fine, or the number
 * of problems with a reason per parameter added to fields ("query" for the string as a
 * whole: too long, too many, bad encoding).
 */
int query_parse(const char *qs, const struct query_spec *spec, struct query_vals *out,
    json_object *fields);

/* The value of a declared parameter (its default when absent); 0 for an undeclared name. */
int64_t query_get(const struct query_vals *v, const char *name);
/* 1 when the parameter was given. */
int query_isset(const struct query_vals *v, const char *name);

/*
 * The decoded value of one parameter a route does not declare (a secret such as the webhook
 * token: it never goes through a table whose reasons may be echoed in "fields"). Same limits
 * as query_parse(). 0 with out filled, 1 when absent, -1 when the string or the parameter is
 * malformed, too long for out, or given twice.
 */
int query_value(const char *qs, const char *name, char *out, size_t outlen);

/*
 * Decode one percent-encoded component ("+" is a space) of len bytes into out. -1 on a bad
 * escape, an encoded NUL, or when it does not fit.
 */
int query_decode(const char *s, size_t len, char *out, size_t outlen);

/* Strict decimal: optional '-', digits, nothing else, in [min, max]. 0 or -1. */
int query_int(const char *s, int64_t min, int64_t max, int64_t *out);

#endif

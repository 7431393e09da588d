/*
 * test_cgi_query.c - pts-cgi query strings: bounded integer conversion, ranges, junk,
 * duplicates, encodings and the length and count limits.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "query.h"
#include "tap.h"

static const char *const levels[] = { "debug", "info", "warn", "error", NULL };

static const struct query_spec spec[] = {
	{ "after", QUERY_INT, 0, INT64_MAX, 0, NULL },
	{ "limit", QUERY_INT, 1, 1000, 200, NULL },
	{ "level", QUERY_ENUM, 0, 0, 1, levels },
	{ NULL, 0, 0, 0, 0, NULL }
};

/* Parse qs; returns the problem count. why gets the reason given for key (or ""). */
static int
parse(const char *qs, struct query_vals *v, const char *key, char *why, size_t whylen)
{
	json_object *fields = json_object_new_object(), *r;
	int n = query_parse(qs, spec, v, fields);

	why[0] = '\0';
	if (key != NULL && json_object_object_get_ex(fields, key, &r))
		snprintf(why, whylen, "%s", json_object_get_string(r));
	json_object_put(fields);
	return n;
}

static void
test_int(void)
{
	int64_t v = -1;

	TAP_OK(query_int("0", 0, 10, &v) == 0 && v == 0, "0 in range");
	TAP_OK(query_int("10", 0, 10, &v) == 0 && v == 10, "upper bound included");
	TAP_OK(query_int("11", 0, 10, &v) != 0, "above range refused");
	TAP_OK(query_int("-1", 0, 10, &v) != 0, "below range refused");
	TAP_OK(query_int("-5", -10, 10, &v) == 0 && v == -5, "negative in range");
	TAP_OK(query_int("", 0, 10, &v) != 0, "empty refused");
	TAP_OK(query_int(" 5", 0, 10, &v) != 0, "leading space refused");
	TAP_OK(query_int("+5", 0, 10, &v) != 0, "plus sign refused");
	TAP_OK(query_int("5 ", 0, 10, &v) != 0, "trailing space refused");
	TAP_OK(query_int("5x", 0, 10, &v) != 0, "trailing junk refused");
	TAP_OK(query_int("0x5", 0, 10, &v) != 0, "hex refused");
	TAP_OK(query_int("1e3", 0, 10000, &v) != 0, "exponent refused");
	TAP_OK(query_int("99999999999999999999", 0, INT64_MAX, &v) != 0, "overflow refused");
	TAP_OK(query_int("9223372036854775807", 0, INT64_MAX, &v) == 0 && v == INT64_MAX,
	    "INT64_MAX accepted");
	TAP_OK(query_int("-", -10, 10, &v) != 0, "a lone minus refused");
}

static void
test_parse(void)
{
	struct query_vals v;
	char why[128], big[QUERY_MAX_LEN + 16];
	int i;

	TAP_OK(parse(NULL, &v, NULL, why, sizeof(why)) == 0 && query_get(&v, "limit") == 200 &&
	    !query_isset(&v, "limit"), "no query: defaults");
	TAP_OK(parse("after=10&limit=5", &v, NULL, why, sizeof(why)) == 0 &&
	    query_get(&v, "after") == 10 && query_get(&v, "limit") == 5 &&
	    query_isset(&v, "after"), "two parameters");
	TAP_OK(parse("limit=0", &v, "limit", why, sizeof(why)) == 1 && strstr(why, "1 to 1000"),
	    "limit=0 refused with the range in the reason");
	TAP_OK(parse("limit=1001", &v, "limit", why, sizeof(why)) == 1, "limit=1001 refused");
	TAP_OK(parse("limit=1000", &v, NULL, why, sizeof(why)) == 0, "limit=1000 accepted");
	TAP_OK(parse("limit=abc", &v, "limit", why, sizeof(why)) == 1 && why[0], "junk refused");
	TAP_OK(parse("limit=", &v, "limit", why, sizeof(why)) == 1, "empty value refused");
	TAP_OK(parse("limit", &v, "limit", why, sizeof(why)) == 1, "a name without = refused");
	TAP_OK(parse("limit=5&limit=5", &v, "limit", why, sizeof(why)) == 1 &&
	    strstr(why, "more than once"), "duplicates refused");
	TAP_OK(parse("limit=%35%30", &v, NULL, why, sizeof(why)) == 0 &&
	    query_get(&v, "limit") == 50, "percent-encoded digits decoded");
	TAP_OK(parse("limit=5%00", &v, "query", why, sizeof(why)) == 1, "encoded NUL refused");
	TAP_OK(parse("limit=%zz", &v, "query", why, sizeof(why)) == 1, "bad escape refused");
	TAP_OK(parse("limit=5%3", &v, "query", why, sizeof(why)) == 1, "cut escape refused");
	TAP_OK(parse("limit=+5", &v, "limit", why, sizeof(why)) == 1, "+ decodes to space: refused");
	TAP_OK(parse("_=12345&limit=3", &v, NULL, why, sizeof(why)) == 0 &&
	    query_get(&v, "limit") == 3, "unknown parameters ignored");
	TAP_OK(parse("&&limit=3&", &v, NULL, why, sizeof(why)) == 0, "empty pieces ignored");
	TAP_OK(parse("level=warn", &v, NULL, why, sizeof(why)) == 0 && query_get(&v, "level") == 2,
	    "enum gives the choice's index");
	TAP_OK(parse("level=loud", &v, "level", why, sizeof(why)) == 1, "unknown enum refused");
	TAP_OK(parse("limit=0&after=-1", &v, NULL, why, sizeof(why)) == 2, "every bad one counted");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "limit=5&y=", 10);
	TAP_OK(parse(big, &v, "query", why, sizeof(why)) == 1 && strstr(why, "too long"),
	    "overlong query refused");
	big[0] = '\0';
	for (i = 0; i <= QUERY_MAX_PARAMS; i++)
		strcat(big, "a=1&");
	TAP_OK(parse(big, &v, "query", why, sizeof(why)) == 1 && strstr(why, "too many"),
	    "too many parameters refused");
	memset(big, 'x', QUERY_MAX_ITEM + 10);
	memcpy(big, "after=", 6);
	big[QUERY_MAX_ITEM + 10] = '\0';
	TAP_OK(parse(big, &v, "query", why, sizeof(why)) == 1, "overlong value refused");
}

int
main(void)
{
	test_int();
	test_parse();
	return tap_done();
}

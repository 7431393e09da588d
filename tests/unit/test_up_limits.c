/*
 * test_up_limits.c - numbers and sizes from upstream kept in bounds: Trakt write counts
 * (clamped before they are summed), Plex totalSize, the JSON value cap.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "log.h"
#include "plex.h"
#include "tap.h"
#include "trakt.h"

static json_object *
parse(const char *s)
{
	return pts_json_parse(s, strlen(s), 65536, NULL);
}

static void
test_trakt_counts(void)
{
	json_object *j;

	/* Both at INT64_MAX: the unclamped sum overflows (UBSan aborts on it). */
	j = parse("{\"movies\": 9223372036854775807, \"episodes\": 9223372036854775807}");
	TAP_OK(j && pts_trakt_count_sum(j) == 2 * (int64_t)PTS_TRAKT_COUNT_MAX,
	    "huge movies + episodes saturate at twice the count cap");
	json_object_put(j);
	j = parse("{\"movies\": -9223372036854775807, \"episodes\": -5}");
	TAP_OK(j && pts_trakt_count_sum(j) == 0, "negative counts count as 0");
	json_object_put(j);
	j = parse("{\"movies\": 2, \"episodes\": 3}");
	TAP_OK(j && pts_trakt_count_sum(j) == 5, "ordinary counts add up");
	json_object_put(j);
	j = parse("{\"movies\": \"7\", \"episodes\": 1.5e300}");
	TAP_OK(j && pts_trakt_count_sum(j) == 0, "counts of another type count as 0");
	json_object_put(j);
	TAP_OK(pts_trakt_count_sum(NULL) == 0, "no counts object: 0");
}

static int
count_items(void *ctx, const struct pts_plex_item *it)
{
	(void)it;
	(*(int *)ctx)++;
	return 0;
}

static void
test_plex_total(void)
{
	json_object *j = parse("{\"MediaContainer\": {\"size\": 0, \"totalSize\":"
	    " 9223372036854775807}}");
	int64_t count = -1, total = -1, sum = 0;
	int n = 0, i;

	TAP_OK(j && pts_plex_parse_page(j, count_items, &n, &count, &total) == 0,
	    "a count page with a huge totalSize parses");
	TAP_OK(total == PTS_PLEX_TOTAL_MAX, "totalSize is clamped to PTS_PLEX_TOTAL_MAX");
	for (i = 0; i < 256; i++)
		sum += total;   /* the engine adds the counts of every library */
	TAP_OK(sum == 256 * PTS_PLEX_TOTAL_MAX, "the sum over 256 libraries does not overflow");
	json_object_put(j);
}

static void
test_json_value_cap(void)
{
	const char *why = NULL;
	size_t n = 3 * PTS_JSON_MAX_NODES, i, len;
	char *buf = malloc(n + 3);
	json_object *j;

	/* "[{},{},...]": about 2 values per 3 bytes; far over the cap. */
	buf[0] = '[';
	for (i = 0, len = 1; len + 3 < n; i++) {
		memcpy(buf + len, "{},", 3);
		len += 3;
	}
	buf[len - 1] = ']';
	buf[len] = '\0';
	TAP_OK(pts_json_count_values(buf, len, PTS_JSON_MAX_NODES) > PTS_JSON_MAX_NODES,
	    "the counter sees more than the cap");
	j = pts_json_parse(buf, len, len + 1, &why);
	TAP_OK(j == NULL && why && strcmp(why, PTS_JSON_ERR_TOO_MANY) == 0,
	    "a document of %zu tiny objects is refused before parsing (%s)", i,
	    why ? why : "parsed");
	json_object_put(j);
	free(buf);

	TAP_OK(pts_json_count_values("{\"a\": [1, 2, 3], \"b\": {\"c\": null}}", 34, 100) == 7,
	    "values of a small document: 2 objects, 1 array, 4 commas -> 7");
	TAP_OK(pts_json_count_values("[\"a,b,[c{\", \"\\\",\"]", 18, 100) == 3,
	    "commas and brackets inside strings (escaped quotes too) do not count");
	TAP_OK(pts_json_count_values("[1,1,1,1,1,1,1,1,1,1]", 21, 4) == 5,
	    "counting stops past the limit");

	setenv("PTS_JSON_MAX_NODES", "5", 1);
	TAP_OK(pts_json_max_nodes() == 5, "the environment lowers the cap");
	j = parse("[1, 2, 3, 4, 5, 6]");
	TAP_OK(j == NULL, "7 values are refused under a cap of 5");
	j = parse("[1, 2, 3]");
	TAP_OK(j != NULL, "4 values pass under a cap of 5");
	json_object_put(j);
	setenv("PTS_JSON_MAX_NODES", "99999999999", 1);
	TAP_OK(pts_json_max_nodes() == PTS_JSON_MAX_NODES, "the environment cannot raise it");
	setenv("PTS_JSON_MAX_NODES", "x", 1);
	TAP_OK(pts_json_max_nodes() == PTS_JSON_MAX_NODES, "a bad value is ignored");
	unsetenv("PTS_JSON_MAX_NODES");
}

int
main(void)
{
	pts_log_init("test_up_limits", PTS_LOG_ERROR + 1);
	test_trakt_counts();
	test_plex_total();
	test_json_value_cap();
	return tap_done();
}

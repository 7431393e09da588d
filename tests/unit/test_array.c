/*
 * test_array.c - the growing array with a ceiling (common/array.h), the NULL-safe copy
 * (common/str.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "str.h"
#include "tap.h"

struct elem {
	int64_t a;
	char b[12];
};

static void
test_grow(void)
{
	struct elem *v = NULL;
	size_t n = 0, cap = 0, i;
	int ok = 1;

	TAP_OK(pts_array_grow(&v, &cap, n, sizeof(*v), 1000, "test") == 0 && v != NULL &&
	    cap == PTS_ARRAY_FIRST, "the first growth gives PTS_ARRAY_FIRST (cap %zu)", cap);
	for (i = 0; i < 1000; i++) {
		if (pts_array_grow(&v, &cap, n, sizeof(*v), 1000, "test") != 0 || cap <= n) {
			ok = 0;
			break;
		}
		v[n].a = (int64_t)i;
		memset(v[n].b, 'x', sizeof(v[n].b));
		n++;
	}
	TAP_OK(ok && n == 1000, "1000 elements fit under a ceiling of 1000 (n %zu)", n);
	TAP_OK(cap == 1000, "the capacity stops at the ceiling, not the next doubling (cap %zu)",
	    cap);
	for (i = 0; i < n && v[i].a == (int64_t)i; i++)
		;
	TAP_OK(i == n, "the elements survive each move");
	TAP_OK(pts_array_grow(&v, &cap, n, sizeof(*v), 1000, "test") == -1,
	    "one past the ceiling is refused");
	TAP_OK(cap == 1000 && v[999].a == 999, "a refusal leaves the array as it was");
	free(v);
}

static void
test_grow_edges(void)
{
	char *v = NULL;
	size_t cap = 0;
	int64_t *w = NULL;
	size_t wcap = 0;

	TAP_OK(pts_array_grow(&v, &cap, 0, 1, 3, "tiny") == 0 && cap == 3,
	    "a ceiling below PTS_ARRAY_FIRST is the first capacity (cap %zu)", cap);
	TAP_OK(pts_array_grow(&v, &cap, 2, 1, 3, "tiny") == 0 && cap == 3,
	    "no growth while there is room");
	TAP_OK(pts_array_grow(&v, &cap, 3, 1, 3, "tiny") == -1, "full at the ceiling");
	free(v);
	TAP_OK(pts_array_grow(&w, &wcap, 0, sizeof(*w), 0, "none") == -1 && w == NULL &&
	    wcap == 0, "a ceiling of 0 allows nothing");
	/* size * count past SIZE_MAX: reallocarray refuses instead of wrapping around. */
	TAP_OK(pts_array_grow(&w, &wcap, 0, SIZE_MAX / 2, SIZE_MAX, "huge") == -1 && w == NULL,
	    "an element count whose bytes overflow is refused");
}

static void
test_dup(void)
{
	char *s = pts_str_dup("tron");

	TAP_OK(pts_str_dup(NULL) == NULL, "NULL copies to NULL");
	TAP_OK(s != NULL && strcmp(s, "tron") == 0, "a string copies");
	free(s);
	s = pts_str_dup("");
	TAP_OK(s != NULL && s[0] == '\0', "the empty string copies to an empty string");
	free(s);
}

int
main(void)
{
	test_grow();
	test_grow_edges();
	test_dup();
	return tap_done();
}

/*
 * array.c - a growing array with a ceiling.
 */
#include "array.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int
pts_array_grow(void *arrp, size_t *cap, size_t n, size_t size, size_t max, const char *what)
{
	void *v, *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	if (n >= max) {
		PTS_ERROR("%s: more than %zu entries: refused", what, max);
		return -1;
	}
	ncap = *cap == 0 ? PTS_ARRAY_FIRST : *cap > max / 2 ? max : *cap * 2;
	if (ncap > max)
		ncap = max;
	if (ncap <= n)
		ncap = n + 1;
	/* reallocarray checks too; the check here also logs (and sanitizers abort there). */
	if (size == 0 || ncap > SIZE_MAX / size) {
		PTS_ERROR("%s: %zu entries of %zu bytes do not fit in memory", what, ncap, size);
		return -1;
	}
	/* The pointer is read and written as bytes: arrp points at a T *, not at a void *. */
	memcpy(&v, arrp, sizeof(v));
	if ((nv = reallocarray(v, ncap, size)) == NULL) {
		PTS_ERROR("%s: out of memory for %zu entries", what, ncap);
		return -1;
	}
	memcpy(arrp, &nv, sizeof(nv));
	*cap = ncap;
	return 0;
}

/*
 * array.h - a growing array with a ceiling: room for one more element, doubling, never past
 * a named maximum count.
 *
 * The array is the caller's own typed pointer and counts (for example struct foo *v; size_t
 * n, cap); pts_array_grow() only reallocates it. Every caller names its ceiling (a #define
 * with a comment saying why that many), so no outside input can make an array grow without
 * bound, and size * count never overflows (reallocarray).
 *
 * Ownership: the array stays the caller's, freed with free(); on failure it is untouched.
 */
#ifndef PTS_ARRAY_H
#define PTS_ARRAY_H

#include <stddef.h>

/* Capacity of a first allocation (when the ceiling allows as many). */
#define PTS_ARRAY_FIRST 64

/*
 * Make room for element n of an array whose pointer is at arrp (a T **, passed as void *),
 * whose elements are size bytes (size > 0) and which has room for *cap: when n < *cap nothing
 * happens; otherwise the capacity doubles (from PTS_ARRAY_FIRST), capped at max. Returns 0, or
 * -1 with the cause logged (what names the array) when n has reached max or memory ran out;
 * *arrp and *cap are unchanged then.
 */
int pts_array_grow(void *arrp, size_t *cap, size_t n, size_t size, size_t max, const char *what);

#endif

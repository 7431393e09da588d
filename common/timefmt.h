/*
 * timefmt.h - ISO-8601 UTC times, the only format the API and Trakt speak.
 * Nothing here depends on TZ: conversions use timegm/gmtime_r only.
 */
#ifndef PTS_TIMEFMT_H
#define PTS_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* "2026-11-27T06:31:05Z" plus NUL, with room for ".000". */
#define PTS_TIME_ISO_LEN 32

/* Format epoch seconds as "YYYY-MM-DDTHH:MM:SSZ". */
void pts_time_iso(int64_t epoch, char *buf, size_t len);
/* Format epoch milliseconds as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
void pts_time_iso_ms(int64_t ms, char *buf, size_t len);
/*
 * Parse "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)" to epoch seconds (fraction dropped).
 * 0 or -1 when malformed.
 */
int pts_time_parse(const char *s, int64_t *out);
/* The same to epoch milliseconds (the first three digits of a fraction; none: .000). */
int pts_time_parse_ms(const char *s, int64_t *out);

#endif

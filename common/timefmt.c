/*
 * timefmt.c - ISO-8601 UTC formatting and parsing.
 */
#include "timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void
pts_time_iso(int64_t epoch, char *buf, size_t len)
{
	time_t t = (time_t)epoch;
	struct tm tm;

	/* snprintf, not strftime: glibc's strftime re-reads /etc/localtime on every call. */
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		snprintf(buf, len, "1970-01-01T00:00:00Z");
	else
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void
pts_time_iso_ms(int64_t ms, char *buf, size_t len)
{
	char base[PTS_TIME_ISO_LEN];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		snprintf(base, sizeof(base), "1970-01-01T00:00:00");
	else
		snprintf(base, sizeof(base), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	snprintf(buf, len, "%s.%03dZ", base, (int)(ms % 1000));
}

/* Read exactly n digits. */
static int
time_digits(const char **p, int n, int *out)
{
	int v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

int
pts_time_parse(const char *s, int64_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	const char *p = s;

	memset(&tm, 0, sizeof(tm));
	if (time_digits(&p, 4, &y) || *p++ != '-' || time_digits(&p, 2, &mo) || *p++ != '-' ||
	    time_digits(&p, 2, &d) || (*p != 'T' && *p != ' ') || !*p++ ||
	    time_digits(&p, 2, &h) || *p++ != ':' || time_digits(&p, 2, &mi))
		return -1;
	sec = 0;
	if (*p == ':') {
		p++;
		if (time_digits(&p, 2, &sec))
			return -1;
		if (*p == '.') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (time_digits(&p, 2, &oh))
			return -1;
		if (*p == ':')
			p++;
		if (time_digits(&p, 2, &om))
			return -1;
	} else {
		return -1;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
	    oh > 23 || om > 59)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = (int64_t)timegm(&tm) - sign * (oh * 3600 + om * 60);
	return 0;
}

int
pts_time_parse_ms(const char *s, int64_t *out)
{
	const char *p;
	int64_t sec, ms = 0;
	int i;

	if (pts_time_parse(s, &sec) != 0)
		return -1;
	/* The fraction, when there is one, follows the seconds: "...T12:34:56.789Z". */
	p = strchr(s, 'T');
	if (p == NULL)
		p = strchr(s, ' ');
	p = p != NULL ? strchr(p, '.') : NULL;
	for (i = 0; i < 3; i++) {
		ms *= 10;
		if (p != NULL && isdigit((unsigned char)p[1 + i]))
			ms += p[1 + i] - '0';
		else
			p = NULL;
	}
	*out = sec * 1000 + ms;
	return 0;
}

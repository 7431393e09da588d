/*
 * clock.c - the wall clock in epoch seconds and milliseconds.
 */
#include "clock.h"

#include <time.h>

int64_t
pts_now(void)
{
	return (int64_t)time(NULL);
}

int64_t
pts_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

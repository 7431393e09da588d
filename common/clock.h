/*
 * clock.h - the wall clock both programs stamp rows with.
 *
 * Epoch seconds and milliseconds (CLOCK_REALTIME). Kept apart from the database and the
 * log so both can use it without using each other.
 */
#ifndef PTS_CLOCK_H
#define PTS_CLOCK_H

#include <stdint.h>

/* Seconds since the epoch. */
int64_t pts_now(void);
/* Milliseconds since the epoch. */
int64_t pts_now_ms(void);

#endif

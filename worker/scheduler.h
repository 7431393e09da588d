/*
 * scheduler.h - the interval schedule (setting sync_interval_hours; 0 turns it off).
 *
 * The next due time lives in meta `next_run_at` (epoch) together with the interval it was
 * computed for (`next_run_interval`), so a restart keeps the clock and a changed interval
 * takes effect at the next tick.
 */
#ifndef PTS_SCHEDULER_H
#define PTS_SCHEDULER_H

#include <sqlite3.h>

/*
 * Check the schedule of every profile (each its own interval and clock, profiles.h); queue a
 * profile's sync (trigger "schedule") when due. db is pts.db's connection. 0 or -1.
 */
int pts_scheduler_tick(sqlite3 *db);

#endif

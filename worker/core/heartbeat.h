/*
 * heartbeat.h - the worker's "I am alive" row, read by GET /api/health.
 */
#ifndef PTS_HEARTBEAT_H
#define PTS_HEARTBEAT_H

#include <sqlite3.h>

/* How often the heartbeat row is rewritten (health calls a worker dead after 15 s). */
#define PTS_HEARTBEAT_EVERY_MS 2000

/* Claim the row for this process (pid, started_at). 0 or -1. */
int pts_heartbeat_start(sqlite3 *db);
/* Rewrite last_seen when PTS_HEARTBEAT_EVERY_MS passed since the last write. */
void pts_heartbeat_tick(sqlite3 *db);
/* Remove the row on a clean exit, so health shows the worker down at once. */
void pts_heartbeat_stop(sqlite3 *db);

#endif

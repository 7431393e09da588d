/*
 * heartbeat.c - the worker's liveness row.
 */
#include "heartbeat.h"

#include <unistd.h>

#include "db.h"

static int64_t hb_last_ms;

int
pts_heartbeat_start(sqlite3 *db)
{
	hb_last_ms = pts_now_ms();
	return pts_db_run(db, "INSERT INTO heartbeat(id, pid, started_at, last_seen) VALUES(1, ?, ?, ?)"
	    " ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, started_at = excluded.started_at,"
	    " last_seen = excluded.last_seen", "iii", (int64_t)getpid(), pts_now(), pts_now());
}

void
pts_heartbeat_tick(sqlite3 *db)
{
	int64_t now = pts_now_ms();

	if (now - hb_last_ms < PTS_HEARTBEAT_EVERY_MS)
		return;
	hb_last_ms = now;
	(void)pts_db_run(db, "UPDATE heartbeat SET last_seen = ? WHERE id = 1", "i", pts_now());
}

void
pts_heartbeat_stop(sqlite3 *db)
{
	(void)pts_db_run(db, "DELETE FROM heartbeat WHERE id = 1 AND pid = ?", "i", (int64_t)getpid());
}

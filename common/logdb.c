/*
 * logdb.c - the log sink writing lines to the log table.
 */
#include "logdb.h"

#include <stddef.h>

#include "clock.h"
#include "db.h"
#include "log.h"

/* The sink: one row per line. run_id 0 means "no run", stored as NULL (NULLIF) so the
 * column stays a clean key. A failed insert is logged by db.c through pts_log_raw. */
static void
logdb_write(void *ctx, enum pts_log_level level, int64_t run_id, const char *msg)
{
	(void)pts_db_run(ctx, "INSERT INTO log(ts_ms, level, run_id, message)"
	    " VALUES(?, ?, NULLIF(?, 0), ?)", "isis", pts_now_ms(), pts_log_level_name(level),
	    run_id, msg);
}

void
pts_logdb_attach(sqlite3 *db)
{
	if (db == NULL)
		pts_log_set_sink(NULL, NULL);
	else
		pts_log_set_sink(logdb_write, db);
}

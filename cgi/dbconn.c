/*
 * dbconn.c - the lazily opened per-process database handle.
 */
#include "dbconn.h"

#include "db.h"
#include "log.h"
#include "paths.h"

static sqlite3 *dbc_db;

sqlite3 *
dbc_get(void)
{
	char path[PTS_PATH_MAX];

	if (dbc_db != NULL)
		return dbc_db;
	if (pts_paths_ensure_data_dir() != 0 || pts_paths_db(path, sizeof(path)) != 0)
		return NULL;
	if (pts_db_open(path, &dbc_db) != 0) {
		pts_log(PTS_LOG_ERROR, "database %s unavailable; will retry on the next request",
		    path);
		dbc_db = NULL;
	}
	return dbc_db;
}

sqlite3 *
dbc_peek(void)
{
	return dbc_db;
}

void
dbc_close(void)
{
	pts_db_close(dbc_db);
	dbc_db = NULL;
}

/*
 * logdb.h - the log sink that stores pts_log() lines as rows of the `log` table.
 *
 * log.c knows only a sink callback (pts_log_set_sink); this module is the one sink there is,
 * so the log does not depend on the database (the database logs its own failures through
 * pts_log_raw, which never reaches a sink).
 *
 * Ownership: the caller keeps the database handle and detaches (NULL) before closing it.
 */
#ifndef PTS_LOGDB_H
#define PTS_LOGDB_H

#include <sqlite3.h>

/* Store following pts_log() lines in db, with the run of pts_log_set_run(); NULL detaches. */
void pts_logdb_attach(sqlite3 *db);

#endif

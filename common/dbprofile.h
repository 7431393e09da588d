/*
 * dbprofile.h - households: the connection of one profile (one person's state).
 *
 * Profile 1 is the owner's and its state is the installation's file (pts.db): its connection
 * is the plain one of pts_db_open(). Profile N > 1 keeps its per-person tables (settings,
 * auth, runs, ledger, caches, ...) in "<data dir>/profiles/pN.db" (folder 0700, file 0600,
 * never reached through a symbolic link). Its connection opens that file as "main" and
 * attaches pts.db as "inst": SQLite looks an unqualified table up in temp, then main, then the
 * attached files, so every query on a per-person table reaches the profile's file and every
 * query on an installation table (jobs, now_playing, heartbeat, ...) reaches pts.db, with no
 * SQL rewritten. Settings and meta keys of the installation are read from inst (settings.h,
 * db.h). pts_profile() is the profile's id on its connection.
 *
 * A profile file is born at the schema version of the build that first opens it: every step
 * runs in the fresh file, then the installation's tables are dropped from it
 * (PTS_SCHEMA_INSTALLATION_TABLES). A newer build applies to it only the steps that touch
 * per-person tables (pts_schema_scope in schema.sql.h).
 *
 * Ownership: a connection from pts_db_open_profile() is the caller's, closed with
 * pts_db_close(). Failures are logged here.
 */
#ifndef PTS_DBPROFILE_H
#define PTS_DBPROFILE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* The folder under the data folder that holds the profile files. */
#define PTS_PROFILES_DIR "profiles"
/* The owner's profile: the installation's own file, always there. */
#define PTS_PROFILE_OWNER 1
/* Most profiles a household holds, the owner's included (POST /api/profiles refuses more). */
#define PTS_PROFILES_MAX 64

/* "<data_dir>/profiles/p<id>.db" into buf. 0, or -1 when it does not fit (logged). */
int pts_db_profile_path(const char *data_dir, int64_t id, char *buf, size_t len);

/*
 * Open the connection of profile id (1: the plain connection of <data_dir>/pts.db). A
 * profile N > 1 must have its row in pts.db's profiles table; its file is created (and
 * migrated) when missing or older. 0 with *out set, 1 when there is no such profile, -1 on an
 * error.
 */
int pts_db_open_profile(const char *data_dir, int64_t id, sqlite3 **out);

/*
 * The ids of the profiles from id `from` on, in id order, at most max of them, into ids
 * (read through db, pts.db's connection or a profile's). Read whole before the caller acts on
 * them, so no read of pts.db stays open while the caller writes and logs. The count, or -1
 * (logged).
 */
int pts_db_profile_ids(sqlite3 *db, int64_t from, int64_t *ids, int max);

/*
 * Delete profile id's file with its -wal and -shm (id > 1 only; a missing file is fine).
 * Connections to it must be closed first. 0 or -1 (logged).
 */
int pts_db_profile_remove(const char *data_dir, int64_t id);

#endif

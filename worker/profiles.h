/*
 * profiles.h - the daemon's connections of every profile (households).
 *
 * The runner, the scheduler and --cron work on pts.db's connection (profile 1, which owns
 * the jobs table) and, for what a person owns (runs, schedule clock, settings), on the
 * connection of the job's or the schedule's profile (common/dbprofile.h). This module keeps
 * those connections of the parent process open, a few at a time, and walks the profiles.
 * Connections are this module's: callers never close them; a forked child never uses them
 * (it opens its own).
 */
#ifndef PTS_WORKER_PROFILES_H
#define PTS_WORKER_PROFILES_H

#include <sqlite3.h>
#include <stdint.h>

/* Profiles' connections kept open by the daemon (more profiles are opened in turn). */
#define PTS_WPROF_CACHE 8

/*
 * The connection of profile id: db itself (pts.db's) for 1. 0 with *out set, 1 when there is
 * no such profile (deleted), -1 on an error (logged).
 */
int pts_wprof_get(sqlite3 *db, int64_t id, sqlite3 **out);

/*
 * Call fn with the connection of every profile, in id order (profile 1 first, with db; at
 * most PTS_PROFILES_MAX).
 * A profile that cannot be opened is logged and skipped. Returns -1 when the list cannot be
 * read or any fn returned non-zero, else 0.
 */
int pts_wprof_each(sqlite3 *db, int (*fn)(sqlite3 *pdb, int64_t id, void *arg), void *arg);

/* Close every cached connection (at exit). */
void pts_wprof_close_all(void);

#endif

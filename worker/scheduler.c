/*
 * scheduler.c - queue a sync every sync_interval_hours, and keep the live scrobbler queued.
 */
#include "scheduler.h"

#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "jobs.h"
#include "log.h"
#include "profiles.h"
#include "scrobble.h"
#include "settings.h"

static int
sched_store(sqlite3 *db, int64_t next, int64_t interval)
{
	char a[32], b[32];

	snprintf(a, sizeof(a), "%lld", (long long)next);
	snprintf(b, sizeof(b), "%lld", (long long)interval);
	if (pts_db_begin(db) != 0)
		return -1;
	if (pts_db_meta_set(db, "next_run_at", a) != 0 ||
	    pts_db_meta_set(db, "next_run_interval", b) != 0 || pts_db_commit(db) != 0) {
		pts_db_rollback(db);
		return -1;
	}
	return 0;
}

/*
 * One profile's schedule, on its connection: its own interval setting and its own clock
 * (meta next_run_at/next_run_interval of its file); the sync it queues is its own.
 */
static int
sched_profile_tick(sqlite3 *db, int64_t profile, void *arg)
{
	int64_t hours = pts_settings_get_int(db, PTS_KEY_SYNC_INTERVAL_HOURS);
	int64_t now = pts_now(), next, was, run_id = 0;
	char *s_next, *s_was, who[48];

	(void)arg;
	/* The daemon's log is the owner's: another profile's lines say whose they are. */
	who[0] = '\0';
	if (profile != 1)
		snprintf(who, sizeof(who), "profile %lld: ", (long long)profile);
	if (hours <= 0) {
		if ((s_next = pts_db_meta_get(db, "next_run_at")) != NULL) {
			free(s_next);
			PTS_INFO("%sschedule off", who);
			(void)pts_db_meta_set(db, "next_run_at", NULL);
			(void)pts_db_meta_set(db, "next_run_interval", NULL);
		}
		return 0;
	}
	s_next = pts_db_meta_get(db, "next_run_at");
	s_was = pts_db_meta_get(db, "next_run_interval");
	next = s_next ? strtoll(s_next, NULL, 10) : 0;
	was = s_was ? strtoll(s_was, NULL, 10) : 0;
	free(s_next);
	free(s_was);
	if (next <= 0 || was != hours) {
		/* New or changed interval: count it from the previous due time when there is one. */
		int64_t base = next > 0 && was > 0 ? next - was * 3600 : now;

		next = base + hours * 3600;
		if (next < now)
			next = now;
		PTS_INFO("%sschedule: a sync every %lld h", who, (long long)hours);
		return sched_store(db, next, hours);
	}
	if (now < next)
		return 0;
	switch (pts_jobs_request_sync(db, "schedule", pts_settings_get_bool(db, PTS_KEY_DRY_RUN), 0,
	    &run_id)) {
	case 0:
		PTS_INFO("%sscheduled sync queued (run %lld)", who, (long long)run_id);
		break;
	case 1:
		PTS_INFO("%sscheduled sync skipped: run %lld is still going", who,
		    (long long)run_id);
		break;
	default:
		return -1;
	}
	/* Skip missed slots (the machine slept): the next one is an interval from now. */
	while (next <= now)
		next += hours * 3600;
	return sched_store(db, next, hours);
}

int
pts_scheduler_tick(sqlite3 *db)
{
	/* The live scrobbler keeps a job of its own going while the setting is on. */
	if (pts_scrobble_ensure(db) != 0)
		PTS_WARN("could not queue the live scrobbler");
	return pts_wprof_each(db, sched_profile_tick, NULL);
}

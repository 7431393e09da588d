/*
 * cron.c - one pass of the worker's duties, in the foreground.
 */
#include "cron.h"

#include <stdlib.h>

#include "db.h"
#include "log.h"
#include "logdb.h"
#include "paths.h"
#include "profiles.h"
#include "runner.h"
#include "scheduler.h"
#include "wctx.h"

/* Longest sign-in wait PTS_CRON_AUTH_WAIT_MS may ask for. */
#define CRON_AUTH_WAIT_MAX_MS 50000

/*
 * The oldest queued job after after_id, of any profile: 1 with *id and *profile set, 0 when
 * none, -1 on error.
 */
static int
cron_next(sqlite3 *db, int64_t after_id, int64_t *id, int64_t *profile)
{
	*id = 0;
	if (pts_db_int(db, id, 0, "SELECT id FROM jobs WHERE state = 'queued' AND id > ?"
	    " ORDER BY id LIMIT 1", "i", after_id) != 0 ||
	    pts_db_int(db, profile, 1, "SELECT profile FROM jobs WHERE id = ?", "i", *id) != 0)
		return -1;
	return *id > 0;
}

static int64_t
cron_auth_wait_ms(void)
{
	const char *v = pts_env("PTS_CRON_AUTH_WAIT_MS", NULL);
	char *end;
	long long ms;

	if (v == NULL)
		return PTS_CRON_AUTH_WAIT_MS;
	ms = strtoll(v, &end, 10);
	if (*end != '\0' || ms < 1 || ms > CRON_AUTH_WAIT_MAX_MS) {
		PTS_WARN("PTS_CRON_AUTH_WAIT_MS must be 1-%d: using %d", CRON_AUTH_WAIT_MAX_MS,
		    PTS_CRON_AUTH_WAIT_MS);
		return PTS_CRON_AUTH_WAIT_MS;
	}
	return ms;
}

int
pts_cron_run(sqlite3 *db, volatile sig_atomic_t *term)
{
	int64_t last = 0, id, profile = 1;
	sqlite3 *pdb = NULL;
	int n = 0, bad = 0, rc;

	if (pts_runner_recover(db) != 0)
		PTS_WARN("could not recover jobs left running");
	if (pts_scheduler_tick(db) != 0)
		PTS_WARN("could not check the schedule");
	pts_runner_set_yield_budget(cron_auth_wait_ms());
	/*
	 * Ids only grow, so "after the last one" never runs a job twice in one pass: a sign-in
	 * that paused goes back to the queue with its id and waits for the next pass.
	 */
	while (!*term && n < PTS_CRON_MAX_JOBS) {
		if ((rc = cron_next(db, last, &id, &profile)) != 1) {
			bad |= rc < 0;
			break;
		}
		last = id;
		/* The job runs on its profile's connection, and logs into its profile's file. */
		if ((rc = pts_wprof_get(db, profile, &pdb)) != 0) {
			bad |= rc < 0;
			continue;
		}
		if (pts_runner_claim(db, id) != 0)
			continue;
		n++;
		pts_logdb_attach(pdb);
		/* Cancelled (from the dashboard) is a normal end; only a failure counts. */
		if (pts_runner_run_job(pdb, id, term) == PTS_JOB_FAILED)
			bad = 1;
		pts_logdb_attach(db);
	}
	if (n == PTS_CRON_MAX_JOBS)
		PTS_INFO("%d jobs run: the rest waits for the next pass", n);
	return bad;
}

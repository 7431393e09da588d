/*
 * cron.h - `pts-worker --cron`: do what is due, then exit (shared hosting, no daemon).
 *
 * One call does what the daemon would have done since the last one: jobs left running by a
 * dead process go back to the queue, the schedule is checked (a due sync is queued), and then
 * every queued job runs here, one after another, oldest first. A sign-in flow waiting for the
 * person polls for at most PTS_CRON_AUTH_WAIT_MS and is left queued, its code and device
 * state kept in the auth row, for the next run to poll on; everything else runs to its end.
 * Run every minute from cron, this gives the daemon's results.
 */
#ifndef PTS_CRON_H
#define PTS_CRON_H

#include <signal.h>
#include <sqlite3.h>

/*
 * How long one run lets a sign-in flow poll before leaving it for the next run (cron runs
 * every minute: short enough to be gone by then). PTS_CRON_AUTH_WAIT_MS overrides (tests).
 */
#define PTS_CRON_AUTH_WAIT_MS 15000
/* Most jobs one run takes on: a queue that keeps refilling must not keep cron busy forever. */
#define PTS_CRON_MAX_JOBS 64

/* Do what is due (see above). 0, or 1 when a job failed (its cause is in the log). */
int pts_cron_run(sqlite3 *db, volatile sig_atomic_t *term);

#endif

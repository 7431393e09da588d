/*
 * wctx.c - cancel checks, sliced sleeps, the waiting state and the heartbeat.
 */
#include "wctx.h"

#include <time.h>
#include <unistd.h>

#include "db.h"
#include "heartbeat.h"
#include "log.h"

struct pts_wctx pts_wctx_global;

int
pts_wctx_cancelled(struct pts_wctx *w)
{
	int64_t now = pts_now_ms(), flag = 0;

	if (w->cancelled)
		return 1;
	if (w->term != NULL && *w->term) {
		w->cancelled = 1;
		return 1;
	}
	/* Long jobs call this often: it is also where a busy child proves it is alive. */
	pts_heartbeat_tick(w->db);
	if (w->job_id == 0 || now - w->cancel_read_ms < PTS_WCTX_CANCEL_POLL_MS)
		return 0;
	w->cancel_read_ms = now;
	if (pts_db_int(w->db, &flag, 0, "SELECT cancel FROM jobs WHERE id = ?", "i", w->job_id) == 0 &&
	    flag) {
		PTS_INFO("stop requested: stopping at the next step");
		w->cancelled = 1;
	}
	return w->cancelled;
}

int
pts_wctx_yield_due(const struct pts_wctx *w)
{
	return w->yield_at_ms > 0 && pts_now_ms() >= w->yield_at_ms;
}

int
pts_wctx_sleep(struct pts_wctx *w, int64_t ms)
{
	int64_t end = pts_now_ms() + ms;

	for (;;) {
		int64_t left;
		struct timespec ts;

		if (pts_wctx_cancelled(w))
			return 1;
		left = end - pts_now_ms();
		if (left <= 0)
			return 0;
		if (left > PTS_WCTX_SLEEP_SLICE_MS)
			left = PTS_WCTX_SLEEP_SLICE_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000L;
		nanosleep(&ts, NULL);
	}
}

void
pts_wctx_set_waiting(struct pts_wctx *w, int64_t until, const char *reason)
{
	if (w->run_id == 0)
		return;
	if (until > 0)
		(void)pts_db_run(w->db, "UPDATE progress SET wait_until = ?, wait_reason = ?,"
		    " updated_ms = ? WHERE run_id = ?", "isii", until, reason, pts_now_ms(), w->run_id);
	else
		(void)pts_db_run(w->db, "UPDATE progress SET wait_until = NULL, wait_reason = NULL,"
		    " updated_ms = ? WHERE run_id = ?", "ii", pts_now_ms(), w->run_id);
}

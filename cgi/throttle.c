/*
 * throttle.c - login throttling in the login_attempts table.
 */
#include "throttle.h"

#include "db.h"
#include "log.h"

int
throttle_begin(sqlite3 *db, int64_t now_ms, int64_t *attempt, int64_t *retry_after_s)
{
	int64_t n = 0, oldest = 0, since = now_ms - THROTTLE_WINDOW_MS;

	*attempt = 0;
	*retry_after_s = 0;
	/* One writer at a time: the count and the new row are one step for every responder. */
	if (pts_db_begin(db) != 0)
		return -1;
	if (pts_db_run(db, "DELETE FROM login_attempts WHERE at_ms <= ?", "i", since) != 0 ||
	    pts_db_int(db, &n, 0, "SELECT COUNT(*) FROM login_attempts", "") != 0)
		goto err;
	if (n >= THROTTLE_MAX_FAILURES) {
		/* A place frees when the newest THROTTLE_MAX_FAILURES-th attempt leaves the window. */
		if (pts_db_int(db, &oldest, now_ms, "SELECT at_ms FROM login_attempts"
		    " ORDER BY at_ms DESC LIMIT 1 OFFSET ?", "i",
		    (int64_t)(THROTTLE_MAX_FAILURES - 1)) != 0 || pts_db_commit(db) != 0)
			goto err;
		*retry_after_s = (oldest + THROTTLE_WINDOW_MS - now_ms + 999) / 1000;
		if (*retry_after_s < 1)
			*retry_after_s = 1;
		return 0;
	}
	if (pts_db_run(db, "INSERT INTO login_attempts(at_ms) VALUES(?)", "i", now_ms) != 0 ||
	    pts_db_commit(db) != 0)
		goto err;
	*attempt = sqlite3_last_insert_rowid(db);
	if (n + 1 == THROTTLE_MAX_FAILURES)
		pts_log(PTS_LOG_WARN, "login: %d password attempts within %d s: if this one is"
		    " wrong too, logins are refused for up to a minute", THROTTLE_MAX_FAILURES,
		    THROTTLE_WINDOW_MS / 1000);
	return 1;
err:
	pts_db_rollback(db);
	return -1;
}

int
throttle_forgive(sqlite3 *db, int64_t attempt)
{
	return pts_db_run(db, "DELETE FROM login_attempts WHERE id = ?", "i", attempt);
}

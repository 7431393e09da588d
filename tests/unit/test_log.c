/*
 * test_log.c - the log's sink: what reaches it, the database sink (logdb), the recursion guard.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "logdb.h"
#include "tap.h"

/* What the test sink saw last, and how often it was called. */
static struct {
	int calls;
	enum pts_log_level level;
	int64_t run;
	char msg[PTS_LOG_MAX_MSG];
	void *ctx;
} seen;

static void
sink(void *ctx, enum pts_log_level level, int64_t run_id, const char *msg)
{
	seen.calls++;
	seen.ctx = ctx;
	seen.level = level;
	seen.run = run_id;
	snprintf(seen.msg, sizeof(seen.msg), "%s", msg);
	/* A line logged from inside the sink must not come back to it. */
	pts_log(PTS_LOG_WARN, "from the sink");
}

static void
test_sink(void)
{
	int ctx;

	pts_log_set_sink(sink, &ctx);
	pts_log_set_run(42);
	PTS_ERROR("hello %d\x01line", 7);
	TAP_OK(seen.calls == 1, "one pts_log line, one sink call (none for the sink's own line)");
	TAP_OK(seen.ctx == &ctx, "the sink gets its context");
	TAP_OK(seen.level == PTS_LOG_ERROR && seen.run == 42, "with the level and the run");
	TAP_STREQ(seen.msg, "hello 7 line", "and the cleaned message");
	pts_log_raw(PTS_LOG_ERROR, "stderr only");
	TAP_OK(seen.calls == 1, "pts_log_raw never reaches the sink");
	pts_log_set_sink(NULL, NULL);
	PTS_ERROR("after removal");
	TAP_OK(seen.calls == 1, "a removed sink gets nothing");
	pts_log_set_run(0);
}

static void
test_logdb(void)
{
	char path[300] = "/tmp/pts-test-XXXXXX", dbpath[256], *s = NULL;
	sqlite3 *db = NULL;
	int64_t n = -1, run = -1;
	int fd = mkstemp(path);

	close(fd);
	unlink(path);
	snprintf(dbpath, sizeof(dbpath), "%s.db", path);
	if (pts_db_open(dbpath, &db) != 0) {
		TAP_OK(0, "database opens");
		return;
	}
	pts_logdb_attach(db);
	PTS_WARN("stored line");
	pts_log_raw(PTS_LOG_WARN, "raw line");
	pts_logdb_attach(NULL);
	PTS_WARN("detached line");
	TAP_OK(pts_db_int(db, &n, -1, "SELECT COUNT(*) FROM log", "") == 0 && n == 1,
	    "only the pts_log line while attached is stored");
	TAP_OK(pts_db_text(db, &s, "SELECT level || ' ' || message FROM log", "") == 0 && s != NULL &&
	    strcmp(s, "warn stored line") == 0, "with its level and message");
	TAP_OK(pts_db_int(db, &run, -1, "SELECT COUNT(*) FROM log WHERE run_id IS NULL", "") == 0 &&
	    run == 1, "run 0 stored as NULL");
	free(s);
	pts_db_close(db);
	unlink(dbpath);
	snprintf(path, sizeof(path), "%s-wal", dbpath);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", dbpath);
	unlink(path);
}

int
main(void)
{
	pts_log_init("test", PTS_LOG_ERROR);
	test_sink();
	test_logdb();
	return tap_done();
}

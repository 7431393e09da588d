/*
 * test_run.c - the run record (worker/core/run.h) on a real, migrated database in a
 * temporary folder: begin takes the run, each ending writes its status and a message (a
 * shutdown's included), a failure during a cancel ends cancelled, each kind saves its own
 * counters only.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "run.h"
#include "tap.h"
#include "wctx.h"

static char tmpdir[] = "/tmp/pts-test-run-XXXXXX";
static char dbpath[256];
static sqlite3 *db;

static int64_t
num(const char *sql, int64_t id)
{
	int64_t n = -1;

	(void)pts_db_int(db, &n, -1, sql, "i", id);
	return n;
}

/* The column's text of run id ("(null)" for NULL), in a static buffer. */
static const char *
col(const char *sql, int64_t id)
{
	static char buf[PTS_RUN_MESSAGE_MAX];
	char *s = NULL;

	(void)pts_db_text(db, &s, sql, "i", id);
	snprintf(buf, sizeof(buf), "%s", s != NULL ? s : "(null)");
	free(s);
	return buf;
}

static int64_t
new_run(const char *trigger, int dry_run)
{
	if (pts_db_run(db, "INSERT INTO runs(trigger, status, created_at, dry_run) VALUES(?,"
	    " 'queued', ?, ?)", "sii", trigger, pts_now(), (int64_t)dry_run) != 0)
		return 0;
	return sqlite3_last_insert_rowid(db);
}

static void
ctx(struct pts_wctx *w, int64_t run_id, volatile sig_atomic_t *term)
{
	memset(w, 0, sizeof(*w));
	w->db = db;
	w->run_id = run_id;
	w->term = term;
}

static void
test_begin(void)
{
	struct pts_wctx w;
	struct pts_run run;
	int64_t id = new_run("webhook", 1);

	ctx(&w, 0, NULL);
	TAP_OK(pts_run_begin(&run, &w, PTS_RUN_WEBHOOK) == -1, "a job without a run cannot begin one");
	ctx(&w, id, NULL);
	TAP_OK(pts_run_begin(&run, &w, PTS_RUN_WEBHOOK) == 0, "a job's run begins");
	TAP_OK(run.id == id && run.kind == PTS_RUN_WEBHOOK && run.dry_run == 1,
	    "with its id, kind and the row's dry_run");
	TAP_STREQ(run.trigger, "webhook", "and the row's trigger");
	TAP_STREQ(col("SELECT status FROM runs WHERE id = ?", id), "running", "the run is running");
	TAP_OK(num("SELECT COUNT(*) FROM progress WHERE run_id = ?", id) == 1,
	    "it has its progress row");
	TAP_OK(pts_run_end(&run, &w, PTS_JOB_DONE) == PTS_JOB_DONE, "ending ok returns done");
	TAP_STREQ(col("SELECT status FROM runs WHERE id = ?", id), "ok", "the run is ok");
	TAP_STREQ(col("SELECT message FROM runs WHERE id = ?", id), "(null)",
	    "an ok run without a note has no message");
	TAP_OK(num("SELECT finished_at IS NOT NULL FROM runs WHERE id = ?", id) == 1,
	    "and a finish time");
}

/* Every kind of run stopped by SIGTERM goes back to the queue with the same message. */
static void
test_shutdown(void)
{
	static const enum pts_run_kind kinds[] = { PTS_RUN_SYNC, PTS_RUN_WEBHOOK, PTS_RUN_UNDO };
	volatile sig_atomic_t term = 1;
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct pts_wctx w;
		struct pts_run run;
		int64_t id = new_run(kinds[i] == PTS_RUN_WEBHOOK ? "webhook" : "manual", 0);

		ctx(&w, id, NULL);
		if (pts_run_begin(&run, &w, kinds[i]) != 0) {
			TAP_OK(0, "a run to stop");
			continue;
		}
		w.term = &term;
		TAP_OK(pts_run_end(&run, &w, PTS_JOB_CANCELLED) == PTS_JOB_CANCELLED,
		    "kind %zu: a shutdown ends as cancelled", i);
		TAP_STREQ(col("SELECT status FROM runs WHERE id = ?", id), "queued",
		    "kind %zu: the run waits for the next start", i);
		TAP_STREQ(col("SELECT message FROM runs WHERE id = ?", id),
		    "interrupted by a worker shutdown", "kind %zu: and says why", i);
		TAP_OK(num("SELECT finished_at IS NULL FROM runs WHERE id = ?", id) == 1,
		    "kind %zu: it has not finished", i);
	}
}

static void
test_endings(void)
{
	struct pts_wctx w;
	struct pts_run run;
	int64_t id;

	id = new_run("manual", 0);
	ctx(&w, id, NULL);
	(void)pts_run_begin(&run, &w, PTS_RUN_WEBHOOK);
	TAP_OK(pts_run_end(&run, &w, PTS_JOB_FAILED) == PTS_JOB_FAILED, "a failure ends failed");
	TAP_STREQ(col("SELECT status || ': ' || message FROM runs WHERE id = ?", id),
	    "failed: the webhook failed: see the log", "with the kind's own message");

	id = new_run("manual", 0);
	ctx(&w, id, NULL);
	(void)pts_run_begin(&run, &w, PTS_RUN_SYNC);
	pts_run_message(&run, "Trakt refused the sign-in (%d)", 401);
	(void)pts_run_end(&run, &w, PTS_JOB_FAILED);
	TAP_STREQ(col("SELECT message FROM runs WHERE id = ?", id),
	    "Trakt refused the sign-in (401)", "a failure keeps the cause the job noted");

	id = new_run("manual", 0);
	ctx(&w, id, NULL);
	(void)pts_run_begin(&run, &w, PTS_RUN_UNDO);
	w.cancelled = 1;   /* stop requested */
	TAP_OK(pts_run_end(&run, &w, PTS_JOB_FAILED) == PTS_JOB_CANCELLED,
	    "a step failing while the job is stopped ends cancelled");
	TAP_STREQ(col("SELECT status || ': ' || message FROM runs WHERE id = ?", id),
	    "cancelled: stopped on request", "the run says it was stopped on request");
}

static void
test_counters(void)
{
	struct pts_wctx w;
	struct pts_run run;
	int64_t id = new_run("manual", 0);

	ctx(&w, id, NULL);
	(void)pts_db_run(db, "UPDATE runs SET ratings_changed = 7 WHERE id = ?", "i", id);
	(void)pts_run_begin(&run, &w, PTS_RUN_SYNC);
	run.added_to_trakt = 3;
	run.added_to_plex = 2;
	run.unmatched = 4;
	run.not_found = 1;
	TAP_OK(pts_run_save_counts(&run) == 0, "a sync's counters are saved");
	TAP_OK(num("SELECT added_to_trakt * 1000 + added_to_plex * 100 + unmatched * 10 + not_found"
	    " FROM runs WHERE id = ?", id) == 3241, "each in its column");
	TAP_OK(num("SELECT ratings_changed FROM runs WHERE id = ?", id) == 7,
	    "a feature's counter is left to the feature");
	(void)pts_run_end(&run, &w, PTS_JOB_DONE);

	id = new_run("undo", 0);
	ctx(&w, id, NULL);
	(void)pts_db_run(db, "UPDATE runs SET added_to_trakt = 9 WHERE id = ?", "i", id);
	(void)pts_run_begin(&run, &w, PTS_RUN_UNDO);
	run.removed_from_trakt = 5;
	run.ratings_changed = 2;
	run.watchlist_changed = 1;
	run.errors = 3;
	(void)pts_run_end(&run, &w, PTS_JOB_DONE);
	TAP_OK(num("SELECT removed_from_trakt * 1000 + ratings_changed * 100 + watchlist_changed * 10"
	    " + errors FROM runs WHERE id = ?", id) == 5213, "an undo's counters are saved at its end");
	TAP_OK(num("SELECT added_to_trakt FROM runs WHERE id = ?", id) == 9,
	    "and a sync's columns are not an undo's to write");
}

int
main(void)
{
	char p[300];

	if (mkdtemp(tmpdir) == NULL) {
		TAP_OK(0, "a temporary folder");
		return tap_done();
	}
	snprintf(dbpath, sizeof(dbpath), "%s/pts.db", tmpdir);
	if (pts_db_open(dbpath, &db) != 0) {
		TAP_OK(0, "a migrated database");
		return tap_done();
	}
	test_begin();
	test_shutdown();
	test_endings();
	test_counters();
	pts_db_close(db);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
	unlink(dbpath);
	rmdir(tmpdir);
	return tap_done();
}

/*
 * test_ledger.c - the ledger (worker/sync/ledger.h) on a real, migrated database in a
 * temporary folder: state names round-trip, a batch opened pending then settled from an
 * answer, settling twice changes nothing, a refused or unsent batch, the duplicate guard.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "db.h"
#include "ledger.h"
#include "run.h"
#include "tap.h"

static char tmpdir[] = "/tmp/pts-test-ledger-XXXXXX";
static char dbpath[256];

static sqlite3 *
open_db(void)
{
	sqlite3 *db = NULL;

	if (mkdtemp(tmpdir) == NULL)
		return NULL;
	snprintf(dbpath, sizeof(dbpath), "%s/pts.db", tmpdir);
	if (pts_db_open(dbpath, &db) != 0)
		return NULL;
	return db;
}

static void
remove_db(void)
{
	char p[300];

	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
	unlink(dbpath);
	rmdir(tmpdir);
}

static int64_t
count(sqlite3 *db, const char *sql, int64_t id)
{
	int64_t n = -1;

	if (pts_db_int(db, &n, -1, sql, "i", id) != 0)
		return -1;
	return n;
}

static char *
text(sqlite3 *db, const char *sql, int64_t id)
{
	char *s = NULL;

	(void)pts_db_text(db, &s, sql, "i", id);
	return s;
}

/* A run row the counters are saved to. */
static int
new_run(sqlite3 *db, struct pts_run *run)
{
	memset(run, 0, sizeof(*run));
	run->kind = PTS_RUN_SYNC;
	run->progress.db = db;
	if (pts_db_run(db, "INSERT INTO runs(trigger, status, created_at) VALUES('manual',"
	    " 'running', ?)", "i", pts_now()) != 0)
		return -1;
	run->id = sqlite3_last_insert_rowid(db);
	return 0;
}

static void
change(struct pts_change *c, const char *key, int64_t watched_at)
{
	memset(c, 0, sizeof(*c));
	c->action = PTS_ACT_ADD_PLAY_TRAKT;
	c->type = "movie";
	c->item_key = key;
	c->title = key;
	c->season = c->episode = -1;
	c->watched_at = watched_at;
	c->ids = "{\"imdb\": \"tt0111161\"}";
}

static void
test_names(void)
{
	static const enum pts_ledger_result results[] = { PTS_LEDGER_PLANNED, PTS_LEDGER_PENDING,
	    PTS_LEDGER_DONE, PTS_LEDGER_NOT_FOUND, PTS_LEDGER_FAILED, PTS_LEDGER_UNKNOWN };
	static const char *const names[] = { "planned", "pending", "done", "not_found", "failed",
	    "unknown" };
	static const enum pts_batch_state states[] = { PTS_BATCH_PENDING, PTS_BATCH_UNKNOWN,
	    PTS_BATCH_SETTLED };
	size_t i;
	int all = 1;

	for (i = 0; i < sizeof(results) / sizeof(results[0]); i++) {
		enum pts_ledger_result back = PTS_LEDGER_FAILED;

		TAP_STREQ(pts_ledger_result_name(results[i]), names[i], "result %zu is stored as %s",
		    i, names[i]);
		all &= pts_ledger_result_parse(names[i], &back) == 0 && back == results[i];
	}
	TAP_OK(all, "every result name reads back as its value");
	for (i = 0, all = 1; i < sizeof(states) / sizeof(states[0]); i++) {
		enum pts_batch_state back = PTS_BATCH_PENDING;

		all &= pts_batch_state_parse(pts_batch_state_name(states[i]), &back) == 0 &&
		    back == states[i];
	}
	TAP_OK(all, "every batch state round-trips");
	TAP_STREQ(pts_batch_state_name(PTS_BATCH_SETTLED), "settled", "settled is 'settled'");
	{
		enum pts_ledger_result r;
		enum pts_batch_state s;

		TAP_OK(pts_ledger_result_parse("DONE", &r) != 0 && pts_ledger_result_parse("", &r) != 0 &&
		    pts_ledger_result_parse(NULL, &r) != 0, "unknown result names are refused");
		TAP_OK(pts_batch_state_parse("done", &s) != 0, "a result is not a batch state");
	}
}

static void
test_batch(sqlite3 *db)
{
	struct pts_run run;
	struct pts_change c[3];
	int64_t batch = 0, ids[3] = { 0, 0, 0 };
	unsigned char nf[3] = { 0, 1, 0 };
	enum pts_ledger_result r = PTS_LEDGER_PLANNED;
	char *s;

	if (new_run(db, &run) != 0) {
		TAP_OK(0, "a run row");
		return;
	}
	change(&c[0], "movie:imdb:tt0000001", 1700000000);
	change(&c[1], "movie:imdb:tt0000002", 1700000100);
	change(&c[2], "movie:imdb:tt0000003", 1700000200);
	c[2].detail = "{\"rating\": 8}";
	TAP_OK(pts_ledger_batch_open(db, &run, "trakt", c, 3, &batch, ids) == 0 && batch > 0 &&
	    ids[0] > 0 && ids[1] > ids[0] && ids[2] > ids[1], "a batch of three is opened");
	s = text(db, "SELECT state FROM batches WHERE id = ?", batch);
	TAP_STREQ(s, "pending", "the batch is stored pending before it is sent");
	free(s);
	s = text(db, "SELECT detail FROM changes WHERE id = ?", ids[2]);
	TAP_STREQ(s, "{\"rating\": 8}", "a change's detail is stored with it");
	free(s);
	TAP_OK(count(db, "SELECT detail IS NULL FROM changes WHERE id = ?", ids[0]) == 1,
	    "and none when it has none");
	TAP_OK(count(db, "SELECT COUNT(*) FROM changes WHERE batch_id = ? AND result = 'pending'"
	    " AND settled_at IS NULL", batch) == 3, "its three changes are pending, unsettled");
	TAP_OK(pts_ledger_blocked(db, PTS_ACT_ADD_PLAY_TRAKT, "movie:imdb:tt0000001",
	    1700000000 + 30) == 1, "a pending play blocks the same play in the same minute");
	TAP_OK(pts_ledger_blocked(db, PTS_ACT_ADD_PLAY_TRAKT, "movie:imdb:tt0000001",
	    1700000000 + 120) == 0, "but not a play of another minute");

	/* Trakt answers: two added, the second not found. */
	TAP_OK(pts_ledger_batch_settle(db, &run, batch, ids, nf, 3, &run.added_to_trakt) == 0,
	    "the batch is settled from the answer");
	TAP_OK(pts_ledger_get_result(db, ids[0], &r) == 0 && r == PTS_LEDGER_DONE,
	    "an added play is done");
	TAP_OK(pts_ledger_get_result(db, ids[1], &r) == 0 && r == PTS_LEDGER_NOT_FOUND,
	    "a play Trakt did not know is not_found");
	s = text(db, "SELECT state FROM batches WHERE id = ?", batch);
	TAP_STREQ(s, "settled", "the batch is settled");
	free(s);
	TAP_OK(count(db, "SELECT COUNT(*) FROM batches WHERE id = ? AND settled_at IS NOT NULL",
	    batch) == 1, "with its time");
	TAP_OK(run.added_to_trakt == 2 && run.not_found == 1, "the run counted 2 added, 1 not found");
	TAP_OK(count(db, "SELECT added_to_trakt * 10 + not_found FROM runs WHERE id = ?",
	    run.id) == 21, "and its counters were saved with the settlement");
	TAP_OK(pts_ledger_blocked(db, PTS_ACT_ADD_PLAY_TRAKT, "movie:imdb:tt0000003",
	    1700000200) == 1, "a done play stays blocked");
	TAP_OK(pts_ledger_blocked(db, PTS_ACT_ADD_PLAY_TRAKT, "movie:imdb:tt0000002",
	    1700000100) == 0, "a not_found play does not block");

	/* Settling the same answer again (a retry after a crash) changes no row. */
	{
		int64_t before = count(db, "SELECT COUNT(*) FROM changes WHERE batch_id = ? AND"
		    " result = 'done'", batch);

		TAP_OK(pts_ledger_settle_batch(db, batch, PTS_LEDGER_FAILED, PTS_BATCH_SETTLED) == 0,
		    "settling a settled batch again succeeds");
		TAP_OK(count(db, "SELECT COUNT(*) FROM changes WHERE batch_id = ? AND result ="
		    " 'done'", batch) == before && before == 2 && pts_ledger_get_result(db, ids[1], &r) == 0 &&
		    r == PTS_LEDGER_NOT_FOUND, "and leaves every settled change as it was");
		TAP_OK(count(db, "SELECT COUNT(*) FROM changes WHERE batch_id = ? AND result ="
		    " 'failed'", batch) == 0, "nothing settled becomes failed");
	}
}

static void
test_refused_and_dropped(sqlite3 *db)
{
	struct pts_run run;
	struct pts_change c[2];
	int64_t batch = 0, ids[2];
	enum pts_ledger_result r = PTS_LEDGER_DONE;

	if (new_run(db, &run) != 0) {
		TAP_OK(0, "a run row");
		return;
	}
	change(&c[0], "movie:imdb:tt0000010", 1700001000);
	change(&c[1], "movie:imdb:tt0000011", 1700001000);
	if (pts_ledger_batch_open(db, &run, "trakt", c, 2, &batch, ids) != 0) {
		TAP_OK(0, "a batch to refuse");
		return;
	}
	TAP_OK(pts_ledger_batch_fail(db, &run, batch, PTS_LEDGER_FAILED, 2) == 0,
	    "a refused batch is recorded");
	TAP_OK(pts_ledger_get_result(db, ids[0], &r) == 0 && r == PTS_LEDGER_FAILED &&
	    pts_ledger_get_result(db, ids[1], &r) == 0 && r == PTS_LEDGER_FAILED,
	    "its changes failed");
	TAP_OK(run.errors == 2 && count(db, "SELECT errors FROM runs WHERE id = ?", run.id) == 2,
	    "the run counts and saves two errors");
	TAP_OK(pts_ledger_blocked(db, PTS_ACT_ADD_PLAY_TRAKT, "movie:imdb:tt0000010",
	    1700001000) == 0, "a failed play may be planned again");

	if (pts_ledger_batch_open(db, &run, "trakt", c, 2, &batch, ids) != 0) {
		TAP_OK(0, "a batch to drop");
		return;
	}
	TAP_OK(pts_ledger_batch_state(db, batch, PTS_BATCH_UNKNOWN) == 0 &&
	    count(db, "SELECT state = 'unknown' FROM batches WHERE id = ?", batch) == 1,
	    "a batch whose answer was lost is marked unknown");
	TAP_OK(pts_ledger_blocked(db, PTS_ACT_ADD_PLAY_TRAKT, "movie:imdb:tt0000011",
	    1700001000) == 1, "its plays are blocked until it is checked");
	pts_ledger_batch_drop(db, batch);
	TAP_OK(count(db, "SELECT COUNT(*) FROM batches WHERE id = ?", batch) == 0 &&
	    count(db, "SELECT COUNT(*) FROM changes WHERE batch_id = ?", batch) == 0,
	    "an unsent batch is forgotten with its changes");
	TAP_OK(pts_ledger_get_result(db, 999999, &r) == 1, "no such change is 1");

	/* A list write whose answer was lost: settled, but its changes may have been applied. */
	if (pts_ledger_batch_open(db, &run, "trakt_lists", c, 1, &batch, ids) != 0) {
		TAP_OK(0, "a batch whose answer is lost");
		return;
	}
	TAP_OK(pts_ledger_batch_fail(db, &run, batch, PTS_LEDGER_UNKNOWN, 1) == 0 &&
	    pts_ledger_get_result(db, ids[0], &r) == 0 && r == PTS_LEDGER_UNKNOWN &&
	    count(db, "SELECT state = 'settled' FROM batches WHERE id = ?", batch) == 1,
	    "a lost answer leaves its change unknown in a settled batch");
	TAP_OK(pts_ledger_blocked(db, PTS_ACT_ADD_PLAY_TRAKT, "movie:imdb:tt0000010",
	    1700001000) == 1, "an unknown change blocks its item");
}

static void
test_keys(void)
{
	struct pts_ids ids;
	char buf[PTS_LEDGER_KEY_LEN];

	memset(&ids, 0, sizeof(ids));
	TAP_OK(pts_ledger_key_movie(&ids, buf, sizeof(buf)) == -1, "a movie without ids has no key");
	ids.tmdb = 278;
	ids.trakt = 5;
	TAP_OK(pts_ledger_key_movie(&ids, buf, sizeof(buf)) == 0, "tmdb makes a key");
	TAP_STREQ(buf, "movie:tmdb:278", "tmdb before trakt");
	snprintf(ids.imdb, sizeof(ids.imdb), "tt0111161");
	(void)pts_ledger_key_movie(&ids, buf, sizeof(buf));
	TAP_STREQ(buf, "movie:imdb:tt0111161", "imdb first");
	ids.tvdb = 81189;
	(void)pts_ledger_key_episode(&ids, 1, 2, buf, sizeof(buf));
	TAP_STREQ(buf, "episode:tvdb:81189:1:2", "an episode by its show's tvdb id");
	TAP_OK(pts_ledger_minute(1700000059) == 1700000040 &&
	    pts_ledger_minute(1700000040) == 1700000040 && pts_ledger_minute(-1) == -60,
	    "times round down to the minute, negatives too");
}

/* The same viewing: a pure window test, and the check made under the batch's write lock. */
static void
test_same_viewing(sqlite3 *db)
{
	struct pts_run run;
	struct pts_change c[3];
	int64_t batch = 0, ids[3], run_s[3] = { 7200, 7200, 0 }, t = 1700100000;
	unsigned char skipped[3];

	TAP_OK(pts_ledger_same_viewing_at(t - 2 * 60, t, 7200) == 1,
	    "a play two minutes before a view of a two-hour film is the same viewing");
	TAP_OK(pts_ledger_same_viewing_at(t - 4 * 3600, t, 7200) == 0,
	    "a play four hours before is another viewing");
	TAP_OK(pts_ledger_same_viewing_at(t + 150, t, 7200) == 1 &&
	    pts_ledger_same_viewing_at(t + 4 * 3600, t, 7200) == 0,
	    "a play recorded after the view: the same window the other way");
	TAP_OK(pts_ledger_same_viewing_at(t - 29 * 60, t, 0) == 1 &&
	    pts_ledger_same_viewing_at(t - 31 * 60, t, 0) == 0,
	    "an unknown running time: 30 minutes");
	TAP_OK(pts_ledger_same_viewing_at(0, t, 7200) == 0, "no play is no viewing");

	if (new_run(db, &run) != 0) {
		TAP_OK(0, "a run row");
		return;
	}
	change(&c[0], "movie:imdb:tt0000020", t);
	if (pts_ledger_batch_open_plays(db, &run, c, run_s, 1, &batch, ids, skipped) != 0) {
		TAP_OK(0, "a first play recorded");
		return;
	}
	TAP_OK(batch > 0 && ids[0] > 0 && skipped[0] == 0, "a first play is recorded pending");
	change(&c[0], "movie:imdb:tt0000020", t + 150);
	change(&c[1], "movie:imdb:tt0000021", t + 150);
	change(&c[2], "movie:imdb:tt0000020", t + 4 * 3600);
	TAP_OK(pts_ledger_batch_open_plays(db, &run, c, run_s, 3, &batch, ids, skipped) == 0,
	    "a second batch");
	TAP_OK(skipped[0] == 1 && ids[0] == 0, "the same viewing 150 s later is skipped while"
	    " the first is still pending");
	TAP_OK(skipped[1] == 0 && ids[1] > 0, "another item is recorded");
	TAP_OK(skipped[2] == 0 && ids[2] > 0, "a rewatch hours later is recorded");
	TAP_OK(count(db, "SELECT COUNT(*) FROM changes WHERE batch_id = ?", batch) == 2,
	    "the batch holds the two plays it sends");
	change(&c[0], "movie:imdb:tt0000020", t + 60);
	TAP_OK(pts_ledger_batch_open_plays(db, &run, c, run_s, 1, &batch, ids, skipped) == 0 &&
	    skipped[0] == 1 && batch == 0, "every play skipped: no batch at all");

	/* Our own mark in Plex: the view it stamped is no viewing. */
	change(&c[0], "plex:302", 0);
	c[0].action = PTS_ACT_MARK_WATCHED_PLEX;
	TAP_OK(pts_ledger_record(db, run.id, 0, &c[0], PTS_LEDGER_DONE, NULL) == 0, "a mark");
	TAP_OK(pts_ledger_plex_marked(db, "302", pts_now()) == 1,
	    "a view stamped as we marked it is ours");
	TAP_OK(pts_ledger_plex_marked(db, "302", pts_now() + 3600) == 0,
	    "a view an hour after our mark is a viewing");
	TAP_OK(pts_ledger_plex_marked(db, "303", pts_now()) == 0, "another item was not marked");
}

int
main(void)
{
	sqlite3 *db = open_db();

	test_names();
	test_keys();
	if (db == NULL) {
		TAP_OK(0, "a migrated database in a temporary folder");
		return tap_done();
	}
	test_batch(db);
	test_refused_and_dropped(db);
	test_same_viewing(db);
	pts_db_close(db);
	remove_db();
	return tap_done();
}

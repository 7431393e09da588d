/*
 * test_checkpoint.c - worker/sync/checkpoint.c: the incremental-sync checkpoint in meta
 * (store and load back, none and unreadable count as none, a checkpoint without a Plex time
 * is not usable, long text is cut to the fields' size, clear, and database errors).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "db.h"
#include "log.h"
#include "tap.h"

/* The meta key checkpoint.c keeps it under (what the engine's next run reads). */
#define KEY "sync_checkpoint"

/* A checkpoint struct filled with junk: load must not leave any of it behind. */
static void
junk(struct pts_ckpt *c)
{
	memset(c, 0x5a, sizeof(*c));
}

static int
zeroed(const struct pts_ckpt *c)
{
	struct pts_ckpt z;

	memset(&z, 0, sizeof(z));
	return memcmp(c, &z, sizeof(z)) == 0;
}

static void
test_round_trip(sqlite3 *db)
{
	struct pts_ckpt c, d;
	char *raw;

	junk(&d);
	TAP_OK(pts_ckpt_load(db, &d) == 0, "a fresh database has no checkpoint");
	TAP_OK(zeroed(&d), "and load leaves the struct zeroed");

	memset(&c, 0, sizeof(c));
	c.movies_watched_at = 1700000000;
	c.episodes_watched_at = 1700000123;
	c.plex_since = 1699990000;
	c.full_at = INT64_C(4102444800); /* 2100: past 32 bits */
	snprintf(c.libs, sizeof(c.libs), "1,2,14");
	snprintf(c.direction, sizeof(c.direction), "both");
	TAP_OK(pts_ckpt_store(db, &c) == 0, "store");
	raw = pts_db_meta_get(db, KEY);
	TAP_OK(raw != NULL && raw[0] == '{', "it is kept as JSON in meta %s", KEY);
	free(raw);
	junk(&d);
	TAP_OK(pts_ckpt_load(db, &d) == 1, "load finds it");
	TAP_OK(d.movies_watched_at == c.movies_watched_at &&
	    d.episodes_watched_at == c.episodes_watched_at, "Trakt's watched times come back");
	TAP_OK(d.plex_since == c.plex_since && d.full_at == c.full_at,
	    "the Plex time and the last full read come back (64-bit)");
	TAP_STREQ(d.libs, "1,2,14", "the libraries come back");
	TAP_STREQ(d.direction, "both", "the direction comes back");

	c.plex_since = 1699999999;
	snprintf(c.libs, sizeof(c.libs), "%s", "");
	snprintf(c.direction, sizeof(c.direction), "plex_to_trakt");
	TAP_OK(pts_ckpt_store(db, &c) == 0, "a second store replaces the first");
	TAP_OK(pts_ckpt_load(db, &d) == 1 && d.plex_since == 1699999999 && d.libs[0] == '\0',
	    "load sees the second one (empty libraries: all)");
	TAP_STREQ(d.direction, "plex_to_trakt", "and its direction");

	c.plex_since = 0;
	TAP_OK(pts_ckpt_store(db, &c) == 0, "store one without a Plex time");
	TAP_OK(pts_ckpt_load(db, &d) == 0, "a checkpoint without a Plex time is not usable");
	TAP_OK(d.movies_watched_at == 1700000000, "its fields are still read");

	TAP_OK(pts_ckpt_clear(db) == 0, "clear");
	junk(&d);
	TAP_OK(pts_ckpt_load(db, &d) == 0 && zeroed(&d), "after clear there is none");
	TAP_OK(pts_ckpt_clear(db) == 0, "clearing when there is none is fine");
}

static void
test_long_text(sqlite3 *db)
{
	struct pts_ckpt c, d;
	char *raw, *p;
	size_t n;

	memset(&c, 0, sizeof(c));
	c.plex_since = 1;
	memset(c.libs, '7', sizeof(c.libs) - 1);
	memset(c.direction, 'x', sizeof(c.direction) - 1);
	TAP_OK(pts_ckpt_store(db, &c) == 0, "store libraries and direction of the largest size");
	TAP_OK(pts_ckpt_load(db, &d) == 1 && strlen(d.libs) == sizeof(d.libs) - 1 &&
	    strcmp(d.libs, c.libs) == 0 && strcmp(d.direction, c.direction) == 0,
	    "they come back whole");

	/* A longer value than the struct holds (written by another version): cut, terminated. */
	n = 3 * PTS_CKPT_LIBS_LEN;
	raw = malloc(2 * n + 64);
	if (raw == NULL)
		return;
	p = raw + sprintf(raw, "{\"plex_since\":5,\"direction\":\"");
	memset(p, 'd', 200);
	p += 200;
	p += sprintf(p, "\",\"libs\":\"");
	memset(p, '1', n);
	p += n;
	sprintf(p, "\"}");
	TAP_OK(pts_db_meta_set(db, KEY, raw) == 0, "a checkpoint with over-long text in meta");
	free(raw);
	junk(&d);
	TAP_OK(pts_ckpt_load(db, &d) == 1 && d.plex_since == 5, "it loads");
	TAP_OK(strlen(d.libs) == sizeof(d.libs) - 1 && strspn(d.libs, "1") == sizeof(d.libs) - 1,
	    "libraries cut to %zu characters", sizeof(d.libs) - 1);
	TAP_OK(strlen(d.direction) == sizeof(d.direction) - 1, "direction cut to %zu characters",
	    sizeof(d.direction) - 1);
}

static void
test_unreadable(sqlite3 *db)
{
	static const struct {
		const char *value, *what;
	} bad[] = {
		{ "{\"plex_since\": 5", "cut-off JSON" },
		{ "garbage", "not JSON" },
		{ "[1, 2, 3]", "JSON that is not an object" },
		{ "{\"plex_since\": \"5\"}", "a Plex time given as a string" },
		{ "{\"plex_since\": 1.5e9}", "a Plex time given as a fraction" },
		{ "", "an empty value" },
	};
	struct pts_ckpt d;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pts_db_meta_set(db, KEY, bad[i].value) != 0) {
			TAP_OK(0, "meta takes %s", bad[i].what);
			continue;
		}
		junk(&d);
		TAP_OK(pts_ckpt_load(db, &d) == 0 && d.plex_since == 0,
		    "%s counts as no checkpoint", bad[i].what);
	}
	TAP_OK(pts_db_meta_set(db, KEY, "{\"plex_since\": 9, \"libs\": 5, \"direction\": null}") == 0,
	    "a checkpoint whose text fields have the wrong type");
	junk(&d);
	TAP_OK(pts_ckpt_load(db, &d) == 1 && d.libs[0] == '\0' && d.direction[0] == '\0',
	    "loads with those fields empty");
}

static void
test_db_error(sqlite3 *db)
{
	struct pts_ckpt c;

	memset(&c, 0, sizeof(c));
	c.plex_since = 1;
	TAP_OK(pts_db_exec(db, "DROP TABLE meta") == 0, "meta dropped (a broken database)");
	TAP_OK(pts_ckpt_load(db, &c) == -1, "load says -1 on a database error, not 'none'");
	TAP_OK(pts_ckpt_store(db, &c) != 0, "store fails");
	TAP_OK(pts_ckpt_clear(db) != 0, "clear fails");
}

int
main(void)
{
	char dir[] = "/tmp/pts-ckpt-XXXXXX";
	char path[sizeof(dir) + 16];
	sqlite3 *db = NULL;

	pts_log_init("test_checkpoint", PTS_LOG_ERROR);
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! cannot make a temporary folder\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/pts.db", dir);
	TAP_OK(pts_db_open(path, &db) == 0 && db != NULL, "database");
	if (db != NULL) {
		test_round_trip(db);
		test_long_text(db);
		test_unreadable(db);
		test_db_error(db);
		pts_db_close(db);
	}
	snprintf(path, sizeof(path), "%s/pts.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/pts.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/pts.db-shm", dir);
	unlink(path);
	rmdir(dir);
	return tap_done();
}

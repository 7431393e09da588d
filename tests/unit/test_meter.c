/*
 * test_meter.c - call metering (worker/upstream/meter.h): counts per service, the bounded
 * endpoint table, flushing into api_counters (an in-memory database).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "meter.h"
#include "tap.h"

/* api_counters.calls and errors of svc; -1 when there is no row. */
static int64_t
row_calls(sqlite3 *db, const char *svc, int64_t *errors)
{
	sqlite3_stmt *st = NULL;
	int64_t calls = -1;

	if (sqlite3_prepare_v2(db, "SELECT calls, errors FROM api_counters WHERE service = ?", -1,
	    &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, svc, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		calls = sqlite3_column_int64(st, 0);
		*errors = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return calls;
}

static void
test_counts_and_flush(void)
{
	struct pts_meter_counts c;
	sqlite3 *db = NULL;
	int64_t errors = 0;

	pts_meter_count("trakt", 1, 0, 0, 0);
	pts_meter_count("trakt", 1, 1, 1, 1);
	pts_meter_count("plex", 3, 0, 0, 0);
	pts_meter_counts("trakt", &c);
	TAP_OK(c.calls == 2 && c.retries == 1 && c.rate_limited == 1 && c.errors == 1,
	    "a service's counts add up");
	pts_meter_counts("tmdb", &c);
	TAP_OK(c.calls == 0 && c.errors == 0, "a service never counted is all zero");
	pts_meter_count("a-name-longer-than-the-table-allows", 1, 0, 0, 0);
	pts_meter_counts("a-name-longer-than-the-table-allows", &c);
	TAP_OK(c.calls == 0, "a name too long is not counted (logged)");

	if (sqlite3_open(":memory:", &db) != SQLITE_OK || pts_db_exec(db,
	    "CREATE TABLE api_counters(service TEXT PRIMARY KEY, calls INTEGER NOT NULL DEFAULT 0,"
	    " retries INTEGER NOT NULL DEFAULT 0, rate_limited INTEGER NOT NULL DEFAULT 0,"
	    " errors INTEGER NOT NULL DEFAULT 0);") != 0) {
		TAP_OK(0, "an in-memory database");
		sqlite3_close(db);
		return;
	}
	TAP_OK(pts_meter_flush(NULL, 1) == 0, "no database: nothing written, counts kept");
	TAP_OK(pts_meter_flush(db, 1) == 0 && row_calls(db, "trakt", &errors) == 2 &&
	    errors == 1 && row_calls(db, "plex", &errors) == 3, "a forced flush writes each service");
	pts_meter_count("trakt", 1, 0, 0, 0);
	TAP_OK(pts_meter_flush(db, 0) == 0 && row_calls(db, "trakt", &errors) == 2,
	    "an unforced flush within PTS_METER_FLUSH_MS of the last writes nothing");
	TAP_OK(pts_meter_flush(db, 1) == 0 && row_calls(db, "trakt", &errors) == 3,
	    "only what was counted since the last flush is added");
	pts_meter_counts("trakt", &c);
	TAP_OK(c.calls == 3, "totals are not reset by flushing");
	sqlite3_close(db);
}

static void
test_endpoints(void)
{
	char path[32];
	int i;

	pts_meter_endpoints_reset();
	pts_meter_endpoint("trakt", "GET", "/sync/history");
	pts_meter_endpoint("trakt", "GET", "/sync/history");
	pts_meter_endpoint("tmdb", "GET", "/sync/history");
	TAP_OK(pts_meter_endpoint_calls("GET", "/sync/history") == 3,
	    "calls to one endpoint add up across services");
	TAP_OK(pts_meter_endpoint_calls("POST", "/sync/history") == 0, "the method is part of it");
	for (i = 0; i < PTS_METER_MAX_ENDPOINTS + 10; i++) {
		snprintf(path, sizeof(path), "/library/metadata/%d", i);
		pts_meter_endpoint("plex", "GET", path);
	}
	snprintf(path, sizeof(path), "/library/metadata/%d", PTS_METER_MAX_ENDPOINTS + 5);
	TAP_OK(pts_meter_endpoint_calls("GET", path) == 0,
	    "past PTS_METER_MAX_ENDPOINTS no new key is kept");
	/* Two keys were there; the Plex ones fill the table but its last slot. */
	TAP_OK(pts_meter_endpoint_calls("GET", "(other)") ==
	    (PTS_METER_MAX_ENDPOINTS + 10) - (PTS_METER_MAX_ENDPOINTS - 1 - 2),
	    "the calls past the table are counted as GET (other) (got %lld)",
	    (long long)pts_meter_endpoint_calls("GET", "(other)"));
	snprintf(path, sizeof(path), "/library/metadata/%d", PTS_METER_MAX_ENDPOINTS - 4);
	TAP_OK(pts_meter_endpoint_calls("GET", path) == 1, "the keys before stay exact");
	pts_meter_endpoints_reset();
	TAP_OK(pts_meter_endpoint_calls("GET", "/sync/history") == 0, "a reset empties the table");
}

int
main(void)
{
	test_counts_and_flush();
	test_endpoints();
	return tap_done();
}

/*
 * test_settings.c - settings validation table, storage and masking; JSON and time helpers.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "db.h"
#include "jsonx.h"
#include "log.h"
#include "secret.h"
#include "settings.h"
#include "timefmt.h"
#include "tap.h"

static json_object *
parse(const char *s)
{
	return pts_json_parse(s, strlen(s), 65536, NULL);
}

/*
 * Validates body (db NULL) or applies it to db, as PUT /api/settings does; returns what
 * pts_settings_validate / pts_settings_apply return (-2: body is not JSON) and puts the reason
 * given for key in why ("" when none). Frees everything it made.
 */
static int
check_body(sqlite3 *db, const char *body, const char *key, char *why, size_t whylen)
{
	json_object *b = parse(body), *fields = json_object_new_object(), *v;
	int n = !b ? -2 : db ? pts_settings_apply(db, b, fields) : pts_settings_validate(b, fields);

	why[0] = '\0';
	if (key && json_object_object_get_ex(fields, key, &v))
		snprintf(why, whylen, "%s", json_object_get_string(v));
	json_object_put(b);
	json_object_put(fields);
	return n;
}

/*
 * The validation cases: a body, the field whose reason is read (NULL: none), how many fields
 * are refused (-1: the body is not an object), and a text the reason must contain (NULL: not
 * looked at; "": any reason at all).
 */
static const struct validation_case {
	const char *body;
	const char *key;
	int bad;
	const char *reason;
	const char *what;
} validation_cases[] = {
	{ "{\"plex_url\": \"http://127.0.0.1:32400\"}", NULL, 0, NULL, "http URL accepted" },
	{ "{\"plex_url\": \"https://plex.example:32400/\"}", NULL, 0, NULL, "https URL accepted" },
	{ "{\"plex_url\": \"ftp://x\"}", "plex_url", 1, "", "ftp URL refused with a reason" },
	{ "{\"plex_url\": \"http://\"}", "plex_url", 1, NULL, "URL without host refused" },
	{ "{\"plex_url\": \"http://a b\"}", "plex_url", 1, NULL, "URL with a space refused" },
	{ "{\"plex_url\": 5}", "plex_url", 1, NULL, "URL of the wrong type refused" },
	{ "{\"trakt_client_id\": \"\"}", "trakt_client_id", 1, NULL, "empty client id refused (1-128)" },
	{ "{\"trakt_client_id\": \"abc\\u0001\"}", "trakt_client_id", 1, NULL, "client id with a control character refused" },
	{ "{\"sync_direction\": \"sideways\"}", "sync_direction", 1, NULL, "unknown direction refused" },
	{ "{\"sync_direction\": \"both\"}", NULL, 0, NULL, "direction both accepted" },
	{ "{\"sync_interval_hours\": 169}", "sync_interval_hours", 1, NULL, "interval 169 refused" },
	{ "{\"sync_interval_hours\": -1}", "sync_interval_hours", 1, NULL, "interval -1 refused" },
	{ "{\"sync_interval_hours\": \"6\"}", "sync_interval_hours", 1, NULL, "interval as a string refused" },
	{ "{\"sync_interval_hours\": 2.5}", "sync_interval_hours", 1, NULL, "fractional interval refused" },
	{ "{\"sync_interval_hours\": 0}", NULL, 0, NULL, "interval 0 accepted" },
	{ "{\"history_keep_runs\": 4}", "history_keep_runs", 1, NULL, "history_keep_runs 4 refused (5-100000)" },
	{ "{\"history_keep_runs\": 100001}", "history_keep_runs", 1, NULL, "history_keep_runs 100001 refused" },
	{ "{\"history_keep_runs\": 5}", NULL, 0, NULL, "history_keep_runs 5 accepted" },
	{ "{\"dry_run\": 1}", "dry_run", 1, NULL, "boolean as a number refused" },
	{ "{\"bogus\": 1}", "bogus", 1, "unknown", "unknown key refused as unknown" },
	{ "{\"trakt_client_secret\": {\"set\": true}}", NULL, 0, NULL, "echoed secret mask accepted" },
	{ "{\"trakt_client_secret\": {\"set\": 1}}", "trakt_client_secret", 1, NULL, "malformed secret mask refused" },
	{ "[1,2]", NULL, -1, NULL, "non-object body refused" },
	{ "{\"dry_run\": true, \"sync_direction\": 3, \"x\": 1}", NULL, 2, NULL, "every bad field is reported" },
};

static void
test_validation(void)
{
	const struct validation_case *c;
	char why[128];
	size_t i;

	for (i = 0; i < sizeof(validation_cases) / sizeof(validation_cases[0]); i++) {
		c = &validation_cases[i];
		TAP_OK(check_body(NULL, c->body, c->key, why, sizeof(why)) == c->bad &&
		    (c->reason == NULL || (why[0] && strstr(why, c->reason))), "%s", c->what);
	}
}

/* The enum of keys and the table agree: every constant is the index of its row. */
static void
test_keys(void)
{
	static const struct {
		enum pts_setting_key key;
		const char *name;
	} want[] = {
		{ PTS_KEY_PLEX_URL, "plex_url" },
		{ PTS_KEY_TRAKT_CLIENT_ID, "trakt_client_id" },
		{ PTS_KEY_TRAKT_CLIENT_SECRET, "trakt_client_secret" },
		{ PTS_KEY_TMDB_API_KEY, "tmdb_api_key" },
		{ PTS_KEY_SYNC_DIRECTION, "sync_direction" },
		{ PTS_KEY_SYNC_INTERVAL_HOURS, "sync_interval_hours" },
		{ PTS_KEY_SYNC_WATCHED, "sync_watched" },
		{ PTS_KEY_SYNC_RATINGS, "sync_ratings" },
		{ PTS_KEY_SYNC_WATCHLIST, "sync_watchlist" },
		{ PTS_KEY_SYNC_PLAYBACK, "sync_playback" },
		{ PTS_KEY_RATINGS_CONFLICT, "ratings_conflict" },
		{ PTS_KEY_WATCHLIST_COLLECTION, "watchlist_collection" },
		{ PTS_KEY_WATCHLIST_REMOVE_MAX_PERCENT, "watchlist_remove_max_percent" },
		{ PTS_KEY_WATCHLIST_PLEX_SIDE, "watchlist_plex_side" },
		{ PTS_KEY_DRY_RUN, "dry_run" },
		{ PTS_KEY_HISTORY_KEEP_RUNS, "history_keep_runs" },
		{ PTS_KEY_DASHBOARD_PASSWORD, "dashboard_password" },
		{ PTS_KEY_METRICS_TOKEN, "metrics_token" },
		{ PTS_KEY_SCROBBLE_LIVE, "scrobble_live" },
		{ PTS_KEY_SCROBBLE_USERS, "scrobble_users" },
	};
	size_t i, bad = 0, n = sizeof(want) / sizeof(want[0]);

	TAP_OK(n == PTS_KEY__MAX, "every key constant is listed here (%zu of %d)", n,
	    (int)PTS_KEY__MAX);
	for (i = 0; i < n; i++) {
		const struct pts_setting *s = pts_setting_get(want[i].key);

		if (s == NULL || s->key == NULL || strcmp(s->key, want[i].name) != 0 ||
		    pts_setting_find(want[i].name) != s) {
			TAP_OK(0, "key %d is the row of %s", (int)want[i].key, want[i].name);
			bad++;
		}
	}
	TAP_OK(bad == 0, "each constant indexes the row of its name, and the name finds it");
	TAP_OK(pts_settings[PTS_KEY__MAX].key == NULL, "the table ends at PTS_KEY__MAX");
	TAP_OK(pts_setting_get(PTS_KEY__MAX) == NULL && pts_setting_get((enum pts_setting_key)-1)
	    == NULL, "a key out of range has no row");
}

static void
test_storage(void)
{
	char path[300] = "/tmp/pts-test-XXXXXX";
	char dbpath[256];
	sqlite3 *db = NULL;
	json_object *fields, *all, *v, *set;
	struct stat sb;
	char *s, why[128];
	int fd = mkstemp(path);

	close(fd);
	unlink(path);
	snprintf(dbpath, sizeof(dbpath), "%s.db", path);
	TAP_OK(pts_db_open(dbpath, &db) == 0, "database opens");
	if (db == NULL)
		return;
	TAP_OK(stat(dbpath, &sb) == 0 && (sb.st_mode & 0777) == 0600, "database file is 0600");

	all = pts_settings_to_json(db);
	TAP_STREQ(pts_json_str(all, "sync_direction"), "plex_to_trakt", "default direction");
	TAP_OK(pts_json_int(all, "sync_interval_hours", -1) == 6, "default interval 6");
	TAP_OK(pts_json_int(all, "history_keep_runs", -1) == 1000, "default history_keep_runs 1000");
	TAP_OK(pts_json_bool(all, "sync_watched", 0) == 1, "sync_watched defaults true");
	json_object_object_get_ex(all, "trakt_client_secret", &v);
	json_object_object_get_ex(v, "set", &set);
	TAP_OK(!json_object_get_boolean(set), "secret unset by default");
	json_object_put(all);

	TAP_OK(check_body(db, "{\"trakt_client_secret\": \"s3cr3t-value\", \"sync_interval_hours\": 12,"
	    " \"trakt_client_id\": \"cid\", \"dashboard_password\": \"hunter22\"}", NULL, why,
	    sizeof(why)) == 0, "valid update applied");
	TAP_OK(check_body(db, "{\"sync_interval_hours\": 24, \"sync_direction\": \"nope\"}", NULL,
	    why, sizeof(why)) == 1, "partly bad update refused");
	TAP_OK(pts_settings_get_int(db, PTS_KEY_SYNC_INTERVAL_HOURS) == 12, "nothing saved when one field is bad");

	all = pts_settings_to_json(db);
	s = strdup(json_object_to_json_string(all));
	TAP_OK(strstr(s, "s3cr3t") == NULL && strstr(s, "hunter2") == NULL, "secrets never shown");
	json_object_object_get_ex(all, "trakt_client_secret", &v);
	json_object_object_get_ex(v, "set", &set);
	TAP_OK(json_object_get_boolean(set), "secret shown as set");
	free(s);

	/* Echo the whole GET back: nothing changes. */
	fields = json_object_new_object();
	TAP_OK(pts_settings_apply(db, all, fields) == 0, "echoed GET accepted");
	json_object_put(fields);
	json_object_put(all);
	s = pts_settings_get_str(db, PTS_KEY_TRAKT_CLIENT_SECRET);
	TAP_STREQ(s, "s3cr3t-value", "echoed mask leaves the secret unchanged");
	free(s);
	s = pts_settings_get_str(db, PTS_KEY_DASHBOARD_PASSWORD);
	TAP_OK(s && strstr(s, "hunter2") == NULL && s[0] == '$', "password stored as a crypt hash");
	free(s);

	/* At least 8 characters, counted as characters (UTF-8), not bytes. */
	TAP_OK(check_body(db, "{\"dashboard_password\": \"short77\"}", "dashboard_password", why,
	    sizeof(why)) == 1, "a 7-character password refused");
	TAP_STREQ(why, "must be at least 8 characters", "the short password's reason");
	TAP_OK(check_body(db, "{\"dashboard_password\": \"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\"}",
	    NULL, why, sizeof(why)) == 1, "7 two-byte characters (14 bytes) refused");
	s = pts_settings_get_str(db, PTS_KEY_DASHBOARD_PASSWORD);
	TAP_OK(s && pts_secret_check_password("hunter22", s), "the refused ones changed nothing");
	free(s);

	TAP_OK(check_body(db, "{\"dashboard_password\": \"\"}", NULL, why, sizeof(why)) == 0,
	    "empty password accepted");
	s = pts_settings_get_str(db, PTS_KEY_DASHBOARD_PASSWORD);
	TAP_STREQ(s, "", "empty password removes it");
	free(s);
	s = (char *)"x";
	TAP_OK(pts_settings_read(db, PTS_KEY_DASHBOARD_PASSWORD, &s) == 0 && s == NULL,
	    "read by key: unset is NULL");
	TAP_OK(pts_settings_read(db, PTS_KEY_TRAKT_CLIENT_ID, &s) == 0 && s != NULL &&
	    strcmp(s, "cid") == 0, "read by key: the stored text");
	free(s);
	TAP_OK(pts_settings_read(db, PTS_KEY__MAX, &s) == -1 && s == NULL,
	    "read by key: a key out of range is an error");

	pts_db_close(db);
	unlink(dbpath);
	snprintf(path, sizeof(path), "%s-wal", dbpath);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", dbpath);
	unlink(path);
}

/* A database that cannot answer: the checked read says so, the typed reads fall back. */
static void
test_read_error(void)
{
	sqlite3 *db = NULL;
	char *s = NULL;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
		TAP_OK(0, "an empty database opens");
		sqlite3_close(db);
		return;
	}
	TAP_OK(pts_settings_read(db, PTS_KEY_DASHBOARD_PASSWORD, &s) == -1 && s == NULL,
	    "no settings table: read by key is an error, not \"unset\"");
	s = pts_settings_get_str(db, PTS_KEY_SYNC_DIRECTION);
	TAP_STREQ(s, "plex_to_trakt", "no settings table: get_str gives the default");
	free(s);
	TAP_OK(pts_settings_get_int(db, PTS_KEY_SYNC_INTERVAL_HOURS) == 6,
	    "no settings table: get_int gives the default");
	sqlite3_close(db);
}

static void
test_json_and_time(void)
{
	const char *err = NULL;
	char buf[PTS_TIME_ISO_LEN], deep[200];
	json_object *o;
	int64_t t = 0;
	int i;

	o = pts_json_parse("{\"a\": 1}  \n", 11, 100, &err);
	TAP_OK(o != NULL, "object with trailing whitespace parses");
	json_object_put(o);
	TAP_OK(pts_json_parse("{\"a\": 1} x", 10, 100, &err) == NULL && err, "trailing data refused");
	TAP_OK(pts_json_parse("{\"a\": ", 6, 100, &err) == NULL && err, "truncated JSON refused");
	TAP_OK(pts_json_parse("{\"a\": 1}", 8, 4, &err) == NULL, "oversized JSON refused");
	TAP_OK(pts_json_parse("{\"a\"\0: 1}", 9, 100, &err) == NULL, "embedded NUL refused");
	for (i = 0; i < 100; i++)
		deep[i] = '[';
	for (i = 0; i < 100; i++)
		deep[100 + i] = ']';
	TAP_OK(pts_json_parse(deep, 200, 1000, &err) == NULL, "deep nesting refused");

	pts_time_iso(0 + 1700000000, buf, sizeof(buf));
	TAP_STREQ(buf, "2023-11-14T22:13:20Z", "epoch formats as UTC Z");
	TAP_OK(pts_time_parse("2023-11-14T22:13:20.000Z", &t) == 0 && t == 1700000000,
	    "ISO with millis parses");
	TAP_OK(pts_time_parse("2023-11-15T03:43:20+05:30", &t) == 0 && t == 1700000000,
	    "ISO with offset parses");
	TAP_OK(pts_time_parse("2023-11-14 22:13", &t) == -1, "time without zone refused");
	TAP_OK(pts_time_parse("garbage", &t) == -1, "garbage refused");
	TAP_OK(pts_time_parse_ms("2023-11-14T22:13:20.789Z", &t) == 0 && t == INT64_C(1700000000789),
	    "milliseconds kept");
	TAP_OK(pts_time_parse_ms("2023-11-14T22:13:20.7Z", &t) == 0 && t == INT64_C(1700000000700),
	    "a short fraction is tenths");
	TAP_OK(pts_time_parse_ms("2023-11-14T22:13:20Z", &t) == 0 && t == INT64_C(1700000000000),
	    "no fraction: .000");
	TAP_OK(pts_time_parse_ms("garbage", &t) == -1, "garbage refused (ms)");
}

int
main(void)
{
	pts_log_init("test", PTS_LOG_ERROR);
	test_keys();
	test_validation();
	test_storage();
	test_read_error();
	test_json_and_time();
	return tap_done();
}

/*
 * test_features.c - the pure parts of the ratings / watchlist / playback features: Trakt list
 * pages and write bodies (trakt_lists.h), the rating scale, the watchlist removal guard, and
 * how Plex values are dated (plex_seen.h, on an in-memory database), and the observations
 * ratings and playback share (feature.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "feature.h"
#include "jsonx.h"
#include "plex_seen.h"
#include "sync_ratings.h"
#include "sync_watchlist.h"
#include "tap.h"
#include "trakt_lists.h"

static json_object *
parse(const char *s)
{
	return pts_json_parse(s, strlen(s), 1 << 20, NULL);
}

static void
test_scale_and_guard(void)
{
	TAP_OK(pts_ratings_to_trakt(-1) == 0, "no userRating is unrated");
	TAP_OK(pts_ratings_to_trakt(0) == 0, "Plex 0 is unrated");
	TAP_OK(pts_ratings_to_trakt(0.4) == 1, "a tiny rating is Trakt's 1");
	TAP_OK(pts_ratings_to_trakt(7.5) == 8, "half stars round up");
	TAP_OK(pts_ratings_to_trakt(6.0) == 6 && pts_ratings_to_trakt(10) == 10, "whole values stay");
	TAP_OK(pts_ratings_to_trakt(10.5) == 0, "out of range is no rating");

	TAP_OK(pts_watchlist_removals_allowed(0, 0, 25), "nothing to remove is fine");
	TAP_OK(pts_watchlist_removals_allowed(1, 2, 25), "one item may always go");
	TAP_OK(!pts_watchlist_removals_allowed(2, 2, 25), "all of a small list may not");
	TAP_OK(pts_watchlist_removals_allowed(2, 8, 25), "up to the share");
	TAP_OK(!pts_watchlist_removals_allowed(3, 8, 25), "more than the share is refused");
	TAP_OK(!pts_watchlist_removals_allowed(1, 100, 0), "0 %%: never remove");
	TAP_OK(pts_watchlist_removals_allowed(10, 10, 100), "100 %%: anything");
}

static void
test_parse(void)
{
	json_object *page = parse("["
	    "{\"rated_at\": \"2014-09-01T09:10:11.000Z\", \"rating\": 9, \"type\": \"movie\","
	    " \"movie\": {\"title\": \"TRON\", \"ids\": {\"trakt\": 1, \"imdb\": \"tt1104001\"}}},"
	    "{\"rating\": 8, \"type\": \"show\", \"show\": {\"ids\": {\"tvdb\": 81189}}},"
	    "{\"rating\": 7, \"type\": \"season\", \"show\": {\"ids\": {\"tvdb\": 81189}},"
	    " \"season\": {\"number\": 2}},"
	    "{\"progress\": 65.5, \"paused_at\": \"2015-01-25T22:01:32.000Z\", \"id\": 13,"
	    " \"type\": \"episode\", \"show\": {\"ids\": {\"trakt\": 1}},"
	    " \"episode\": {\"season\": 0, \"number\": 1}},"
	    "{\"type\": \"person\", \"person\": {\"ids\": {\"trakt\": 5}}},"
	    "{\"type\": \"movie\", \"movie\": {\"ids\": {}}},"
	    "{\"type\": \"episode\", \"show\": {\"ids\": {\"trakt\": 1}}, \"episode\": {}}"
	    "]");
	struct pts_tlist l;
	int got;

	memset(&l, 0, sizeof(l));
	got = pts_tlist_parse(page, &l);
	TAP_OK(got == 4 && l.n == 4, "four usable entries of seven (got %d)", got);
	TAP_OK(l.n == 4 && l.v[0].kind == PTS_TLIST_MOVIE && l.v[0].rating == 9 &&
	    l.v[0].ids.trakt == 1 && strcmp(l.v[0].ids.imdb, "tt1104001") == 0 &&
	    l.v[0].at == 1409562611, "a movie rating with its ids and rated_at");
	TAP_OK(l.n == 4 && l.v[1].kind == PTS_TLIST_SHOW && l.v[1].ids.tvdb == 81189,
	    "a show rating");
	TAP_OK(l.n == 4 && l.v[2].kind == PTS_TLIST_SEASON && l.v[2].season == 2, "a season");
	TAP_OK(l.n == 4 && l.v[3].kind == PTS_TLIST_EPISODE && l.v[3].season == 0 &&
	    l.v[3].episode == 1 && l.v[3].progress == 65.5 && l.v[3].id == 13 &&
	    l.v[3].at == 1422223292, "a playback entry of a special");
	TAP_OK(pts_tlist_parse(json_object_array_get_idx(page, 0), &l) == -1,
	    "an object is not a page");
	pts_tlist_free(&l);
	pts_tlist_free(&l);
	TAP_OK(l.v == NULL && l.n == 0, "free twice is safe");
	json_object_put(page);
}

static void
test_body_and_result(void)
{
	struct pts_tlist_item it[6];
	json_object *body, *ans;
	const char *text;

	memset(it, 0, sizeof(it));
	it[0].kind = PTS_TLIST_MOVIE;
	it[0].ids.trakt = 1;
	it[0].rating = 9;
	it[0].at = 1409562611;
	it[1].kind = PTS_TLIST_EPISODE;
	it[1].ids.tvdb = 81189;
	it[1].season = 1;
	it[1].episode = 2;
	it[1].rating = 8;
	it[2].kind = PTS_TLIST_EPISODE;
	it[2].ids.tvdb = 81189;
	it[2].season = 2;
	it[2].episode = 1;
	it[3].kind = PTS_TLIST_SHOW;
	it[3].ids.tvdb = 81189;
	it[4].kind = PTS_TLIST_MOVIE;              /* no ids: nothing to send */
	it[5].kind = PTS_TLIST_MOVIE;
	snprintf(it[5].ids.imdb, sizeof(it[5].ids.imdb), "tt0000111");
	body = pts_tlist_body(it, 6);
	text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	TAP_STREQ(text, "{\"movies\":[{\"ids\":{\"trakt\":1},\"rating\":9,"
	    "\"rated_at\":\"2014-09-01T09:10:11Z\"},{\"ids\":{\"imdb\":\"tt0000111\"}}],"
	    "\"shows\":[{\"ids\":{\"tvdb\":81189},\"seasons\":[{\"number\":1,\"episodes\":"
	    "[{\"number\":2,\"rating\":8}]},{\"number\":2,\"episodes\":[{\"number\":1}]}]},"
	    "{\"ids\":{\"tvdb\":81189}}]}", "episodes of a show grouped; the whole show apart");
	TAP_OK(it[4].not_found && !it[0].not_found, "an item without ids is flagged");
	json_object_put(body);

	ans = parse("{\"added\": {\"movies\": 1}, \"not_found\": {\"movies\": [{\"ids\":"
	    " {\"imdb\": \"tt0000111\"}}], \"shows\": [{\"ids\": {\"tvdb\": 81189}}],"
	    " \"episodes\": [{\"number\": 1}]}}");
	TAP_OK(pts_tlist_parse_result(ans, "added", it, 6) == 0, "an add answer is read");
	TAP_OK(it[5].not_found && !it[0].not_found, "a movie not found is flagged by id");
	TAP_OK(it[3].not_found && !it[1].not_found, "a show object without seasons is the show");
	TAP_OK(it[2].not_found, "an episode given back by number is flagged");
	TAP_OK(pts_tlist_parse_result(ans, "deleted", it, 6) == -1, "the wrong counts key");
	json_object_put(ans);
}

/* A season rating: the season object itself, without episodes; flagged by its number. */
static void
test_season_body(void)
{
	struct pts_tlist_item it[2];
	json_object *body, *ans;
	char key[PTS_LEDGER_KEY_LEN];
	struct pts_ids ids;

	memset(it, 0, sizeof(it));
	it[0].kind = PTS_TLIST_SEASON;
	it[0].ids.tvdb = 81189;
	it[0].season = 2;
	it[0].episode = -1;
	it[0].rating = 7;
	it[1].kind = PTS_TLIST_SEASON;             /* no number: nothing to send */
	it[1].ids.tvdb = 81189;
	it[1].season = -1;
	body = pts_tlist_body(it, 2);
	TAP_STREQ(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN),
	    "{\"shows\":[{\"ids\":{\"tvdb\":81189},\"seasons\":[{\"number\":2,\"rating\":7}]}]}",
	    "a season is sent as a season object of its show, without episodes");
	TAP_OK(it[1].not_found && !it[0].not_found, "a season without a number is flagged");
	json_object_put(body);
	ans = parse("{\"added\": {\"seasons\": 0}, \"not_found\": {\"seasons\": [{\"number\": 2}]}}");
	TAP_OK(pts_tlist_parse_result(ans, "added", it, 1) == 0 && it[0].not_found,
	    "a season given back by number is flagged");
	json_object_put(ans);
	memset(&ids, 0, sizeof(ids));
	ids.tvdb = 81189;
	TAP_OK(pts_feat_key_season(&ids, 1, key, sizeof(key)) == 0, "a season's key");
	TAP_STREQ(key, "season:tvdb:81189:1", "is its show's key and its number");
	TAP_OK(pts_feat_key_season(&ids, -1, key, sizeof(key)) == -1, "none without a number");
}

static int64_t
seen_row(sqlite3 *db, const char *rk, double *value)
{
	sqlite3_stmt *st = pts_db_prepare(db, "SELECT value, seen_at FROM plex_seen"
	    " WHERE rating_key = ? AND kind = 'rating'");
	int64_t at = -1;

	sqlite3_bind_text(st, 1, rk, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*value = sqlite3_column_double(st, 0);
		at = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return at;
}

static void
test_seen(void)
{
	struct pts_seen s;
	sqlite3 *db = NULL;
	double v = 0;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK || pts_db_exec(db,
	    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	    "CREATE TABLE plex_seen(rating_key TEXT NOT NULL, kind TEXT NOT NULL, value REAL NOT"
	    " NULL, seen_at INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(rating_key, kind));") != 0) {
		TAP_OK(0, "an in-memory database");
		return;
	}
	/* First look at library 1 at t=1000. */
	TAP_OK(pts_seen_open(&s, db, "rating", 0.01) == 0, "open with no rows");
	pts_seen_section(&s, db, "1", 1000);
	TAP_OK(pts_seen_observe(&s, "a", 8, 100, 1000) == 0, "first look: age unknown");
	TAP_OK(pts_seen_observe(&s, "b", -1, 100, 1000) == 0, "no value");
	TAP_OK(pts_seen_commit(&s, db) == 0, "commit");
	pts_seen_free(&s);
	TAP_OK(seen_row(db, "a", &v) == 0 && v == 8, "stored undated");
	TAP_OK(seen_row(db, "b", &v) == -1, "no row for no value");

	/* Second look at t=2000. */
	pts_seen_open(&s, db, "rating", 0.01);
	pts_seen_section(&s, db, "1", 2000);
	TAP_OK(pts_seen_observe(&s, "a", 8, 100, 2000) == 0, "unchanged: the stored time");
	TAP_OK(pts_seen_observe(&s, "b", 6, 100, 2000) == 2000,
	    "rated since the last look: now");
	TAP_OK(pts_seen_observe(&s, "c", 5, 1500, 2000) == 0,
	    "added to the library since the last look: unknown");
	pts_seen_set(&s, "c", 7, 555);
	TAP_OK(pts_seen_commit(&s, db) == 0, "commit again");
	pts_seen_free(&s);
	TAP_OK(seen_row(db, "b", &v) == 2000 && v == 6, "the new value dated");
	TAP_OK(seen_row(db, "c", &v) == 555 && v == 7, "a value we wrote keeps its source's time");

	/* Third look at t=3000: a changed and b cleared. */
	pts_seen_open(&s, db, "rating", 0.01);
	pts_seen_section(&s, db, "1", 3000);
	TAP_OK(pts_seen_observe(&s, "a", 9, 100, 3000) == 3000, "changed: now");
	TAP_OK(pts_seen_observe(&s, "b", -1, 100, 3000) == 0, "cleared");
	pts_seen_section(&s, db, "2", 3000);
	TAP_OK(pts_seen_observe(&s, "z", 4, 100, 3000) == 0,
	    "a library never looked at before: unknown");
	pts_seen_commit(&s, db);
	pts_seen_free(&s);
	TAP_OK(seen_row(db, "b", &v) == -1, "a cleared value loses its row");
	TAP_OK(seen_row(db, "a", &v) == 3000 && v == 9, "the change stored");

	/* Fourth look at t=4000 with the service's own times (Plex's lastRatedAt). */
	pts_seen_open(&s, db, "rating", 0.01);
	pts_seen_section(&s, db, "1", 4000);
	TAP_OK(pts_seen_observe_dated(&s, "a", 9, 100, 3900, 4000) == 3000,
	    "dated, unchanged: the stored time (a value we wrote stays Trakt's)");
	TAP_OK(pts_seen_observe_dated(&s, "c", 2, 100, 1200, 4000) == 1200,
	    "dated, changed: the service's time, not now");
	TAP_OK(pts_seen_observe_dated(&s, "n", 3, 100, 2500, 4000) == 2500,
	    "dated, never seen: the service's time, not unknown");
	TAP_OK(pts_seen_observe_dated(&s, "m", 3, 100, 0, 4000) == 4000,
	    "no time from the service: as pts_seen_observe");
	pts_seen_commit(&s, db);
	pts_seen_free(&s);
	TAP_OK(seen_row(db, "c", &v) == 1200 && v == 2, "stored with the service's time");
	sqlite3_close(db);
}

/* A feature's own observation: the shared head first, then its fields. */
struct obs_test {
	struct pts_feat_obs h;
	int value;
};

/* The item block ratings and playback share: keep, sort by group (stable), walk, close. */
static void
test_obs(void)
{
	struct pts_feat_obsset *s = calloc(1, sizeof(*s));
	struct pts_plex_item pi;
	struct pts_feat_item it;
	struct pts_ids ids;
	struct pts_feat_change c;
	struct obs_test *o;
	const char *keys[] = { "movie:b", "movie:a", "movie:c", "movie:d" };
	const int32_t tpos[] = { 3, -1, 3, 1 };
	/* Sorted: "k:movie:a" first, then Trakt entry 1, then entry 3's two copies in scan order. */
	const char *want[] = { "movie:a", "movie:d", "movie:b", "movie:c" };
	char rk[4][8];
	size_t i, j, groups = 0;
	int ok = 1;

	if (s == NULL)
		return;
	memset(&pi, 0, sizeof(pi));
	memset(&it, 0, sizeof(it));
	memset(&ids, 0, sizeof(ids));
	ids.trakt = 7;
	pi.title = "Alien";
	pi.grandparent_title = "not kept for movies";
	pi.year = 1979;
	it.kind = PTS_FEAT_MOVIE;
	it.plex = &pi;
	it.ids = &ids;
	it.season = it.episode = -1;
	s->size = sizeof(struct obs_test);
	for (i = 0; i < 4; i++) {
		snprintf(rk[i], sizeof(rk[i]), "%zu", 100 + i);
		pi.rating_key = rk[i];
		it.key = keys[i];
		o = (struct obs_test *)pts_feat_obs_add(s, &it, tpos[i]);
		if (o == NULL || o->value != 0 || o->h.seq != i || o->h.tpos != tpos[i] ||
		    strcmp(o->h.key, keys[i]) != 0 || strcmp(o->h.rating_key, rk[i]) != 0 ||
		    o->h.title == pi.title || strcmp(o->h.title, "Alien") != 0 || o->h.show != NULL ||
		    o->h.year != 1979 || o->h.ids.trakt != 7) {
			ok = 0;
			break;
		}
		o->value = (int)i + 1;
	}
	TAP_OK(ok && s->n == 4, "four items kept, heads filled, strings copied, the rest zeroed");
	o = (struct obs_test *)pts_feat_obs_at(s, 2);
	TAP_STREQ(o->h.group, "t:0:3", "a copy of a Trakt entry is grouped by the entry");
	o = (struct obs_test *)pts_feat_obs_at(s, 1);
	TAP_STREQ(o->h.group, "k:movie:a", "an item Trakt lacks is its own group");
	pts_feat_obs_sort(s);
	for (i = 0; i < 4; i++)
		ok = ok && strcmp(pts_feat_obs_at(s, i)->key, want[i]) == 0;
	TAP_OK(ok, "sorted by group, scan order within a group");
	o = (struct obs_test *)pts_feat_obs_at(s, 2);
	TAP_OK(o->value == 1, "a feature's own fields move with their head");
	for (i = 0; i < s->n; i = j) {
		j = pts_feat_obs_group_end(s, i);
		groups++;
		if (groups == 3)
			TAP_OK(i == 2 && j == 4, "Trakt entry 3's two copies are one group");
	}
	TAP_OK(groups == 3, "three groups (got %zu)", groups);
	pts_feat_obs_change(pts_feat_obs_at(s, 0), "rate_trakt", "{}", &c);
	TAP_OK(strcmp(c.action, "rate_trakt") == 0 && strcmp(c.key, "movie:a") == 0 &&
	    c.ids->trakt == 7 && c.year == 1979 && strcmp(c.title, "Alien") == 0 &&
	    c.season == -1 && strcmp(c.detail, "{}") == 0, "the change names the observation");
	pts_feat_obs_close(s);   /* frees the strings and the state (ASan checks) */
	pts_feat_obs_close(NULL);
}

int
main(void)
{
	test_scale_and_guard();
	test_parse();
	test_body_and_result();
	test_season_body();
	test_seen();
	test_obs();
	return tap_done();
}

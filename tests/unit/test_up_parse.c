/*
 * test_up_parse.c - the upstream clients' pure parts: Plex listing pages, Trakt watched /
 * history / token / device answers, pagination headers, URLs, history batch bodies.
 * Data: tests/data/up_*.json (recorded responses, see tests/data/up_SOURCES.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "http.h"
#include "jsonx.h"
#include "log.h"
#include "plex.h"
#include "ledger.h"
#include "plexsess.h"
#include "plextv.h"
#include "ratelimit.h"
#include "tap.h"
#include "trakt.h"
#include "wctx.h"

#ifndef UP_SRCDIR
#define UP_SRCDIR "."
#endif

/* Largest data file we read. */
#define DATA_MAX (1024 * 1024)

static json_object *
load(const char *name)
{
	char path[1024], *buf;
	json_object *j;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/data/%s", UP_SRCDIR, name);
	if ((f = fopen(path, "rb")) == NULL) {
		printf("# cannot open %s\n", path);
		return NULL;
	}
	buf = malloc(DATA_MAX);
	n = buf ? fread(buf, 1, DATA_MAX, f) : 0;
	fclose(f);
	j = buf ? pts_json_parse(buf, n, DATA_MAX, NULL) : NULL;
	free(buf);
	if (j == NULL)
		printf("# cannot parse %s\n", path);
	return j;
}

static json_object *
parse(const char *s)
{
	return pts_json_parse(s, strlen(s), 65536, NULL);
}

/* ==== Plex ==== */

#define MAX_SEEN 16

struct seen {
	int n;
	struct pts_plex_item it[MAX_SEEN];
	char rk[MAX_SEEN][16];
	int stop_after;
};

static int
collect(void *ctx, const struct pts_plex_item *it)
{
	struct seen *s = ctx;

	if (s->n < MAX_SEEN) {
		s->it[s->n] = *it;
		snprintf(s->rk[s->n], sizeof(s->rk[0]), "%s", it->rating_key);
	}
	s->n++;
	return s->stop_after > 0 && s->n >= s->stop_after;
}

static void
test_plex_legacy_movies(void)
{
	json_object *j = load("up_plex_movie_library.json");
	struct seen s = { 0 };
	int64_t count, total;

	TAP_OK(pts_plex_parse_page(j, collect, &s, &count, &total) == 0, "movie page parses");
	TAP_OK(count == 4 && s.n == 4, "4 movies delivered");
	TAP_OK(total == -1, "no totalSize in this recording: -1");
	TAP_STREQ(s.rk[0], "55", "ratingKey");
	TAP_STREQ(s.it[0].ids.imdb, "tt1254207", "legacy imdb guid gives the imdb id");
	TAP_OK(s.it[0].view_count == 0 && s.it[0].last_viewed_at == 0,
	    "absent viewCount reads as 0 (unwatched)");
	TAP_OK(s.it[0].year == 2008 && s.it[0].matched && s.it[0].user_rating == -1,
	    "year, matched, no user rating");
	TAP_OK(s.it[0].guid_kind == PTS_GUID_IMDB, "guid kind");
	json_object_put(j);
}

static void
test_plex_legacy_episodes(void)
{
	json_object *j = load("up_plex_tv_episodes.json");
	struct seen s = { 0 };
	int64_t count, total;

	TAP_OK(pts_plex_parse_page(j, collect, &s, &count, &total) == 0, "episode page parses");
	TAP_OK(s.n == 3 && count == 3, "3 episodes delivered (got %d)", s.n);
	TAP_OK(s.it[0].show_ids.tvdb == 268592 && s.it[0].season == 1 && s.it[0].episode == 1,
	    "legacy thetvdb episode: show tvdb id, S01E01");
	TAP_OK(pts_ids_empty(&s.it[0].ids), "no episode ids of its own");
	TAP_OK(s.it[0].matched, "matched by show + numbers");
	TAP_STREQ(s.it[0].grandparent_title, "The 100", "show title");
	TAP_OK(s.it[2].episode == 3, "third episode number");
	json_object_put(j);
}

static void
test_plex_new_agent(void)
{
	json_object *j = load("up_plex_new_agent.json");
	struct seen s = { 0 };
	int64_t count, total;

	TAP_OK(pts_plex_parse_page(j, collect, &s, &count, &total) == 0, "new-agent page parses");
	TAP_OK(count == 4 && total == 1200, "count of entries and totalSize");
	TAP_OK(s.n == 3, "the entry without a ratingKey is skipped (got %d)", s.n);
	TAP_OK(strcmp(s.it[0].ids.imdb, "tt0111161") == 0 && s.it[0].ids.tmdb == 278 &&
	    s.it[0].ids.tvdb == 190, "Guid array gives imdb, tmdb and tvdb");
	TAP_OK(s.it[0].guid_kind == PTS_GUID_PLEX && s.it[0].view_count == 2 &&
	    s.it[0].last_viewed_at == 1700000000 && s.it[0].user_rating == 9.0,
	    "plex:// guid, viewCount, lastViewedAt, userRating");
	TAP_STREQ(s.rk[1], "5002", "an integer ratingKey reads as text");
	TAP_OK(s.it[1].ids.tvdb == 349232 && s.it[1].season == 1 && s.it[1].episode == 1 &&
	    pts_ids_empty(&s.it[1].show_ids) && s.it[1].matched,
	    "new-agent episode: its own ids, numbers, no show ids");
	TAP_OK(s.it[1].view_offset == 600000 && s.it[1].duration == 3480000,
	    "viewOffset and duration");
	TAP_OK(!s.it[2].matched && s.it[2].guid_kind == PTS_GUID_NONE, "local:// is unmatched");
	json_object_put(j);

	j = load("up_plex_metadata_168.json");
	memset(&s, 0, sizeof(s));
	TAP_OK(pts_plex_parse_page(j, collect, &s, &count, &total) == 0 && s.n == 1 &&
	    !s.it[0].matched && s.it[0].view_count == 1, "agents.none item: unmatched, viewCount 1");
	json_object_put(j);
}

static void
test_plex_bad_pages(void)
{
	const char *bad[] = {
		"{\"MediaContainer\": []}",
		"{\"MediaContainer\": {\"Metadata\": {}}}",
		"[1, 2]",
		"{\"nothing\": 1}",
	};
	struct seen s = { 0 };
	int64_t count, total;
	json_object *j;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = parse(bad[i]);
		TAP_OK(pts_plex_parse_page(j, collect, &s, &count, &total) == -1,
		    "wrong shape refused: %s", bad[i]);
		json_object_put(j);
	}
	TAP_OK(pts_plex_parse_page(NULL, collect, &s, &count, &total) == -1, "NULL refused");
	j = parse("{\"MediaContainer\": {\"size\": 0, \"totalSize\": 1234}}");
	TAP_OK(pts_plex_parse_page(j, collect, &s, &count, &total) == 0 && count == 0 &&
	    total == 1234, "a size-0 count answer: totalSize, no items");
	json_object_put(j);
	j = parse("{\"MediaContainer\": {\"Metadata\": [{\"ratingKey\": \"1\", \"year\": \"x\","
	    " \"viewCount\": -3, \"parentIndex\": 1e30, \"title\": 5, \"userRating\": 11}]}}");
	memset(&s, 0, sizeof(s));
	TAP_OK(pts_plex_parse_page(j, collect, &s, &count, &total) == 0 && s.n == 1 &&
	    s.it[0].year == 0 && s.it[0].view_count == 0 && s.it[0].season == -1 &&
	    s.it[0].title == NULL && s.it[0].user_rating == -1, "junk field values are dropped");
	json_object_put(j);
	j = load("up_plex_tv_episodes.json");
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	TAP_OK(pts_plex_parse_page(j, collect, &s, &count, &total) == 1 && s.n == 2,
	    "the callback can stop a page");
	json_object_put(j);
}

/* ==== plex.tv ==== */

static void
test_plextv(void)
{
	struct pts_plextv_pin pin;
	json_object *j;
	char *url;

	memset(&pin, 0, sizeof(pin));
	j = load("up_plextv_pins_new.json");
	TAP_OK(pts_plextv_parse_pin(j, 1000, &pin) == 0 && pin.id == 111222333 &&
	    strcmp(pin.code, "CODE") == 0 && pin.auth_token == NULL && pin.expires_at == 1900,
	    "new PIN: id, code, no token, expiry from expiresIn");
	json_object_put(j);
	j = load("up_plextv_pins_linked.json");
	TAP_OK(pts_plextv_parse_pin(j, 1000, &pin) == 0 && pin.auth_token != NULL &&
	    strcmp(pin.auth_token, "auth_token") == 0, "linked PIN: token");
	json_object_put(j);
	pts_plextv_pin_clear(&pin);
	j = parse("{\"id\": 5, \"code\": \"ab\\r\\ncd\", \"expiresIn\": 900}");
	TAP_OK(pts_plextv_parse_pin(j, 0, &pin) == -1, "a code with CR/LF is refused");
	json_object_put(j);
	j = parse("{\"id\": 5, \"code\": \"abcd\", \"expiresIn\": 999999}");
	TAP_OK(pts_plextv_parse_pin(j, 0, &pin) == 0 && pin.expires_at == PTS_PLEXTV_PIN_MAX_S,
	    "PIN lifetime is capped");
	json_object_put(j);
	pts_plextv_pin_clear(&pin);
	url = pts_plextv_auth_url("0123abcd", "xyz987");
	TAP_STREQ(url, "https://app.plex.tv/auth#?clientID=0123abcd&code=xyz987"
	    "&context%5Bdevice%5D%5Bproduct%5D=Plex-Trakt%20Sync", "auth URL");
	free(url);
}

/* ==== Trakt ==== */

static void
test_trakt_watched(void)
{
	struct pts_trakt_movies m = { 0 };
	struct pts_trakt_shows s = { 0 };
	json_object *j;

	j = load("up_trakt_watched_movies.json");
	TAP_OK(pts_trakt_parse_watched_movies(j, &m) == 2 && m.n == 2, "2 watched movies");
	TAP_OK(m.v[0].ids.trakt == 6 && strcmp(m.v[0].ids.imdb, "tt0372784") == 0 &&
	    m.v[0].ids.tmdb == 272 && m.v[0].plays == 4, "movie ids and plays");
	TAP_OK(m.v[0].last_watched_at == 1413046854, "last_watched_at as epoch (UTC)");
	TAP_STREQ(m.v[1].title, "The Dark Knight", "title");
	/* A second page appends. */
	TAP_OK(pts_trakt_parse_watched_movies(j, &m) == 2 && m.n == 4, "pages append");
	json_object_put(j);
	pts_trakt_movies_free(&m);
	TAP_OK(m.v == NULL && m.n == 0, "free zeroes");

	j = load("up_trakt_watched_shows.json");
	TAP_OK(pts_trakt_parse_watched_shows(j, &s) == 2 && s.n == 2 && s.neps == 8,
	    "2 shows, 8 episodes");
	TAP_OK(s.v[0].ids.tvdb == 81189 && s.v[0].plays == 56 && s.v[0].ep_first == 0 &&
	    s.v[0].ep_count == 4 && s.v[1].ep_first == 4, "show ids and episode ranges");
	TAP_OK(s.eps[2].season == 2 && s.eps[2].number == 1 && s.eps[2].plays == 1,
	    "episode numbers");
	json_object_put(j);
	j = load("up_trakt_watched_shows_noseasons.json");
	TAP_OK(pts_trakt_parse_watched_shows(j, &s) == 2 && s.n == 4 && s.neps == 8 &&
	    s.v[2].ep_count == 0, "shows without seasons append with no episodes");
	TAP_OK(s.v[2].ids.tmdb == 0 && s.v[2].ids.imdb[0] == '\0' && s.v[2].ids.tvdb == 378677 &&
	    s.v[2].reset_at == 0, "null ids and reset_at read as unset");
	json_object_put(j);
	pts_trakt_shows_free(&s);

	j = parse("{\"not\": \"an array\"}");
	TAP_OK(pts_trakt_parse_watched_movies(j, &m) == -1 &&
	    pts_trakt_parse_watched_shows(j, &s) == -1, "an object instead of a list is refused");
	json_object_put(j);
	j = parse("[{\"plays\": 1}, 5, {\"movie\": {\"ids\": {\"imdb\": \"\", \"trakt\": -1,"
	    " \"tmdb\": \"12\"}}}]");
	TAP_OK(pts_trakt_parse_watched_movies(j, &m) == 3 && m.n == 1 &&
	    pts_ids_empty(&m.v[0].ids) && m.v[0].title == NULL, "junk entries skipped, bad ids dropped");
	json_object_put(j);
	pts_trakt_movies_free(&m);
}

static void
test_trakt_history(void)
{
	struct pts_trakt_plays p = { 0 };
	json_object *j = load("up_trakt_history.json");

	TAP_OK(pts_trakt_parse_history(j, 0, &p) == 3 && p.n == 3, "3 plays");
	TAP_OK(p.v[0].history_id == 1982346 && !p.v[0].is_episode && p.v[0].ids.tmdb == 155 &&
	    p.v[0].year == 2008, "movie play");
	TAP_STREQ(p.v[0].action, "scrobble", "action");
	TAP_OK(p.v[1].is_episode && p.v[1].season == 2 && p.v[1].episode == 1 &&
	    p.v[1].ids.imdb[0] == '\0' && p.v[1].ids.tvdb == 797571 &&
	    p.v[1].show_ids.tvdb == 84912, "episode play: null imdb, numbers, show ids");
	TAP_STREQ(p.v[1].show_title, "Parks and Recreation", "show title");
	TAP_OK(p.v[1].watched_at == 1395998933, "watched_at");
	pts_trakt_plays_free(&p);
	TAP_OK(pts_trakt_parse_history(j, 2, &p) == 3 && p.n == 2, "max_items bounds the plays");
	pts_trakt_plays_free(&p);
	json_object_put(j);
}

static void
test_trakt_misc(void)
{
	struct pts_trakt_activities a;
	struct pts_trakt_token tok;
	struct pts_trakt_device d;
	json_object *j;

	j = load("up_trakt_last_activities.json");
	TAP_OK(pts_trakt_parse_last_activities(j, &a) == 0 && a.movies_watched_at == 1416433361000 &&
	    a.episodes_watched_at == 1416466290000 && a.all == 1416466892000,
	    "last activities (milliseconds)");
	json_object_put(j);

	j = load("up_trakt_token.json");
	TAP_OK(pts_trakt_parse_token(j, 5, &tok) == 0 && tok.expires_at == 1487889741 + 7200 &&
	    tok.lifetime == 7200, "token expiry = created_at + expires_in");
	pts_trakt_token_clear(&tok);
	json_object_put(j);
	j = parse("{\"access_token\": \"a\", \"refresh_token\": \"b\", \"expires_in\": 600}");
	TAP_OK(pts_trakt_parse_token(j, 1000, &tok) == 0 && tok.expires_at == 1600,
	    "no created_at: counted from now");
	pts_trakt_token_clear(&tok);
	json_object_put(j);
	/* Found by fuzzing (tests/fuzz/fuzz_trakt): a huge created_at overflowed the expiry. */
	j = parse("{\"access_token\": \"a\", \"refresh_token\": \"b\", \"expires_in\": 720,"
	    " \"created_at\": 9223372036854775807}");
	TAP_OK(pts_trakt_parse_token(j, 1000, &tok) == 0 && tok.expires_at == 1720,
	    "a created_at past year 9999: counted from now");
	pts_trakt_token_clear(&tok);
	json_object_put(j);
	j = parse("{\"access_token\": \"a\"}");
	TAP_OK(pts_trakt_parse_token(j, 1000, &tok) == -1, "no refresh token: refused");
	json_object_put(j);
	j = parse("{\"access_token\": \"a b\", \"refresh_token\": \"b\"}");
	TAP_OK(pts_trakt_parse_token(j, 1000, &tok) == -1, "a token with a space is refused");
	json_object_put(j);

	j = parse("{\"device_code\": \"d0c\", \"user_code\": \"5055CC52\", \"verification_url\":"
	    " \"https://trakt.tv/activate\", \"expires_in\": 600, \"interval\": 5}");
	TAP_OK(pts_trakt_parse_device(j, 100, &d) == 0 && d.expires_at == 700 && d.interval == 5 &&
	    strcmp(d.user_code, "5055CC52") == 0, "device code answer");
	json_object_put(j);
	j = parse("{\"device_code\": \"d0c\", \"user_code\": \"X\", \"verification_url\":"
	    " \"javascript:alert(1)\"}");
	TAP_OK(pts_trakt_parse_device(j, 100, &d) == -1, "a non-http verification URL is refused");
	json_object_put(j);
	j = parse("{\"device_code\": \"d0c\", \"user_code\": \"X\", \"verification_url\":"
	    " \"https://t/a\", \"interval\": 0, \"expires_in\": 99999999}");
	TAP_OK(pts_trakt_parse_device(j, 0, &d) == 0 && d.interval == PTS_TRAKT_POLL_MIN_S &&
	    d.expires_at == PTS_TRAKT_DEVICE_MAX_S, "interval and lifetime bounded");
	json_object_put(j);
}

static void
test_pagination(void)
{
	struct pts_http_resp r;

	TAP_OK(pts_trakt_next_page(1, -1, 250) == 0, "no page-count header: one page");
	TAP_OK(pts_trakt_next_page(1, 3, 250) == 2, "page 1 of 3: next is 2");
	TAP_OK(pts_trakt_next_page(2, 3, 17) == 3, "a short page does not end it early");
	TAP_OK(pts_trakt_next_page(3, 3, 250) == 0, "last page ends it");
	TAP_OK(pts_trakt_next_page(2, 9, 0) == 0, "an empty page ends it");
	TAP_OK(pts_trakt_next_page(PTS_TRAKT_MAX_PAGES, 1000000, 250) == 0, "page cap");

	memset(&r, 0, sizeof(r));
	pts_http_resp_free(&r);
	pts_http_header_line(&r, "X-Pagination-Page-Count: 12\r\n", 29);
	pts_http_header_line(&r, "x-pagination-item-count:  2999 \r\n", 33);
	pts_http_header_line(&r, "Content-Type: application/json; charset=utf-8\r\n", 47);
	pts_http_header_line(&r, "Retry-After: 7\r\n", 16);
	TAP_OK(r.page_count == 12 && r.item_count == 2999 && r.retry_after == 7,
	    "pagination and Retry-After headers (any case)");
	TAP_STREQ(r.content_type, "application/json; charset=utf-8", "content type");
	pts_http_header_line(&r, "X-Pagination-Page-Count: -4\r\n", 29);
	TAP_OK(r.page_count == -1, "a negative count is ignored");
	pts_http_header_line(&r, "X-Pagination-Page-Count: 3x\r\n", 29);
	TAP_OK(r.page_count == -1, "a malformed count is ignored");
	pts_http_header_line(&r, "HTTP/1.1 200 OK\r\n", 17);
	TAP_OK(r.retry_after == -1 && r.item_count == -1 && r.content_type[0] == '\0',
	    "a new status line (redirect) resets them");
	pts_http_header_line(&r, "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n", 44);
	TAP_OK(r.retry_after == 0, "an HTTP date in the past waits 0 s");
	TAP_OK(pts_http_retry_wait_s(-1) == PTS_HTTP_RETRY_AFTER_DEFAULT_S &&
	    pts_http_retry_wait_s(0) == 1 && pts_http_retry_wait_s(30) == 30 &&
	    pts_http_retry_wait_s(300) == 300 &&
	    pts_http_retry_wait_s(PTS_HTTP_RETRY_AFTER_MAX_S) == PTS_HTTP_RETRY_AFTER_MAX_S &&
	    pts_http_retry_wait_s(100000) == -1, "Retry-After as given; too long: not waited");
}

static void
test_urls(void)
{
	const char *q1[] = { "type", "1", "viewCount>", "1", "skip", NULL, "q", "a b&c=d/é", NULL };
	char *u, big[PTS_HTTP_URL_MAX + 10];
	const char *q2[] = { "x", big, NULL };

	u = pts_http_url("http://127.0.0.1:32400/", "/library/sections/1/all", q1);
	TAP_STREQ(u, "http://127.0.0.1:32400/library/sections/1/all?type=1&viewCount>=1"
	    "&q=a%20b%26c%3Dd%2F%C3%A9", "query built, values escaped, filter operator kept");
	free(u);
	u = pts_http_url("https://api.trakt.tv", "/sync/history", NULL);
	TAP_STREQ(u, "https://api.trakt.tv/sync/history", "no query");
	free(u);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	TAP_OK(pts_http_url("http://x", "/", q2) == NULL, "an overlong URL is refused");
}

/* ==== History bodies ==== */

static void
ep_by_show(struct pts_trakt_hist_item *it, int64_t tvdb, int64_t tmdb, int s, int e,
    int64_t when)
{
	memset(it, 0, sizeof(*it));
	it->kind = PTS_TRAKT_EPISODE;
	it->show_ids.tvdb = tvdb;
	it->show_ids.tmdb = tmdb;
	it->season = s;
	it->episode = e;
	it->watched_at = when;
}

static void
test_history_body(void)
{
	struct pts_trakt_hist_item it[8];
	struct pts_trakt_hist_result res;
	json_object *b, *j;
	const char *want;

	/* Times must come out in UTC whatever the local zone is. */
	setenv("TZ", "America/Los_Angeles", 1);
	tzset();
	memset(it, 0, sizeof(it));
	it[0].kind = PTS_TRAKT_MOVIE;
	snprintf(it[0].ids.imdb, sizeof(it[0].ids.imdb), "tt0111161");
	it[0].ids.tmdb = 278;
	it[0].watched_at = 1700000000;
	it[1].kind = PTS_TRAKT_EPISODE;
	it[1].ids.tvdb = 349232;
	it[1].watched_at = 1700000060;
	ep_by_show(&it[2], 81189, 0, 1, 1, 1700000120);
	ep_by_show(&it[3], 0, 1396, 1, 1, 1700000300);
	ep_by_show(&it[4], 81189, 0, 2, 1, 1700000240);
	ep_by_show(&it[5], 81189, 0, 1, 2, 1700000180);
	it[6].kind = PTS_TRAKT_MOVIE;       /* no ids: cannot be sent */
	ep_by_show(&it[7], 81189, 0, -1, 3, 1700000000);   /* no season */

	b = pts_trakt_history_body(it, 8);
	want = "{\"movies\":[{\"ids\":{\"imdb\":\"tt0111161\",\"tmdb\":278},"
	    "\"watched_at\":\"2023-11-14T22:13:20Z\"}],"
	    "\"shows\":[{\"ids\":{\"tvdb\":81189},\"seasons\":["
	    "{\"number\":1,\"episodes\":[{\"number\":1,\"watched_at\":\"2023-11-14T22:15:20Z\"},"
	    "{\"number\":2,\"watched_at\":\"2023-11-14T22:16:20Z\"}]},"
	    "{\"number\":2,\"episodes\":[{\"number\":1,\"watched_at\":\"2023-11-14T22:17:20Z\"}]}]},"
	    "{\"ids\":{\"tmdb\":1396},\"seasons\":[{\"number\":1,\"episodes\":[{\"number\":1,"
	    "\"watched_at\":\"2023-11-14T22:18:20Z\"}]}]}],"
	    "\"episodes\":[{\"ids\":{\"tvdb\":349232},\"watched_at\":\"2023-11-14T22:14:20Z\"}]}";
	TAP_STREQ(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN), want,
	    "history body: movies, shows grouped by show and season, episodes by own ids");
	TAP_OK(it[6].not_found && it[7].not_found && !it[0].not_found && !it[2].not_found,
	    "items with nothing to send are flagged");
	json_object_put(b);

	/* A remove body: no watched_at. */
	it[0].watched_at = 0;
	b = pts_trakt_history_body(it, 1);
	TAP_STREQ(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN),
	    "{\"movies\":[{\"ids\":{\"imdb\":\"tt0111161\",\"tmdb\":278}}]}",
	    "no watched_at when it is 0 (remove every play)");
	json_object_put(b);
	b = pts_trakt_history_body(it, 0);
	TAP_STREQ(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN), "{}", "empty batch");
	json_object_put(b);

	/* Results matched back to the items. */
	memset(it, 0, sizeof(it));
	it[0].kind = PTS_TRAKT_MOVIE;
	snprintf(it[0].ids.imdb, sizeof(it[0].ids.imdb), "tt0000111");
	it[1].kind = PTS_TRAKT_MOVIE;
	it[1].ids.tmdb = 155;
	ep_by_show(&it[2], 81189, 0, 1, 1, 1);
	j = load("up_trakt_history_added.json");
	TAP_OK(pts_trakt_parse_sync_result(j, "added", it, 3, &res) == 0 && res.movies == 2 &&
	    res.episodes == 72 && res.not_found == 1 && it[0].not_found && !it[1].not_found,
	    "added counts; the not-found movie is flagged");
	json_object_put(j);
	j = parse("{\"added\": {\"movies\": 0, \"episodes\": 0}, \"not_found\": {\"shows\":"
	    " [{\"ids\": {\"tvdb\": 81189}}], \"episodes\": [], \"movies\": []}}");
	TAP_OK(pts_trakt_parse_sync_result(j, "added", it, 3, &res) == 0 && it[2].not_found &&
	    res.not_found == 2, "a not-found show flags its episodes");
	json_object_put(j);
	j = load("up_trakt_history_removed.json");
	TAP_OK(pts_trakt_parse_sync_result(j, "deleted", it, 3, &res) == 0 && res.movies == 2,
	    "deleted counts");
	TAP_OK(pts_trakt_parse_sync_result(j, "added", it, 3, &res) == -1,
	    "the wrong count key is refused");
	json_object_put(j);
	/* Found by fuzzing (tests/fuzz/fuzz_trakt): a huge negative count overflowed. */
	memset(&it[2], 0, sizeof(it[2]));
	ep_by_show(&it[2], 81189, 0, 1, 1, 1);
	j = parse("{\"added\": {\"movies\": -1, \"episodes\": -9223372036854775808},"
	    " \"not_found\": {\"episodes\": [{\"number\": 1}]}}");
	TAP_OK(pts_trakt_parse_sync_result(j, "added", it, 3, &res) == 0 && res.movies == 0 &&
	    res.episodes == 0 && it[2].not_found, "negative counts read as 0 (no overflow)");
	json_object_put(j);
	unsetenv("TZ");
	tzset();
}

/* ==== Rate limiter (real sleeps, so small budgets) ==== */

static void
test_ratelimit(void)
{
	struct pts_wctx *w = &pts_wctx_global;
	char path[] = "/tmp/test_up_parse-XXXXXX";
	char dbpath[64];
	int64_t t0;
	int fd = mkstemp(path);

	if (fd >= 0)
		close(fd);
	snprintf(dbpath, sizeof(dbpath), "%s.db", path);
	TAP_OK(pts_db_open(dbpath, &w->db) == 0, "database for the wait loop");
	setenv("PTS_TRAKT_GET_BUDGET", "3/1", 1);
	setenv("PTS_TRAKT_POST_INTERVAL_MS", "200", 1);
	TAP_OK(pts_rl_init() == 0, "budget from the environment (3 GETs a second)");
	t0 = pts_rl_now_ms();
	TAP_OK(pts_rl_trakt_acquire(w, 0) == 0 && pts_rl_trakt_acquire(w, 0) == 0 &&
	    pts_rl_trakt_acquire(w, 0) == 0 && pts_rl_now_ms() - t0 < 300,
	    "3 GETs go at once");
	TAP_OK(pts_rl_trakt_acquire(w, 0) == 0 && pts_rl_now_ms() - t0 >= 900,
	    "the 4th waits for the window (%lld ms)", (long long)(pts_rl_now_ms() - t0));
	t0 = pts_rl_now_ms();
	(void)pts_rl_trakt_acquire(w, 1);
	pts_rl_trakt_done(1);
	TAP_OK(pts_rl_trakt_acquire(w, 1) == 0 && pts_rl_now_ms() - t0 >= 190,
	    "a write waits the interval after the previous one (%lld ms)",
	    (long long)(pts_rl_now_ms() - t0));
	TAP_OK(pts_rl_configure(0, 300, 1000) == -1 && pts_rl_configure(10, 0, 1000) == -1 &&
	    pts_rl_configure(10, 300, -1) == -1, "configure refuses out-of-range budgets");
	TAP_OK(pts_rl_configure(2, 1, 0) == 0, "configure replaces the budget");
	t0 = pts_rl_now_ms();
	(void)pts_rl_trakt_acquire(w, 1);
	pts_rl_trakt_done(1);
	TAP_OK(pts_rl_trakt_acquire(w, 1) == 0 && pts_rl_now_ms() - t0 < 100,
	    "an interval of 0 does not space writes");
	pts_db_close(w->db);
	w->db = NULL;
	unlink(dbpath);
	unlink(path);
}

/* /status/sessions: the streams delivered with their session fields; others skipped. */
struct sess_seen {
	int n;
	char keys[8][16];
	char users[8][16];
	char states[8][16];
	int64_t offset[8];
	int season[8];
	int64_t tvdb[8];
};

static int
sess_collect(void *ctx, const struct pts_plexsess *s)
{
	struct sess_seen *seen = ctx;

	if (seen->n >= 8)
		return 1;
	snprintf(seen->keys[seen->n], 16, "%s", s->session_key);
	snprintf(seen->users[seen->n], 16, "%s", s->user_id ? s->user_id : "-");
	snprintf(seen->states[seen->n], 16, "%s", s->state);
	seen->offset[seen->n] = s->it.view_offset;
	seen->season[seen->n] = s->it.season;
	seen->tvdb[seen->n] = s->it.show_ids.tvdb;
	seen->n++;
	return 0;
}

static void
test_plex_sessions(void)
{
	static const char *const page = "{\"MediaContainer\": {\"size\": 5, \"Metadata\": ["
	    "{\"type\": \"movie\", \"ratingKey\": \"102\", \"title\": \"The Dark Knight\","
	    " \"Guid\": [{\"id\": \"imdb://tt0468569\"}], \"viewOffset\": 600000,"
	    " \"duration\": 6000000, \"sessionKey\": \"7\", \"User\": {\"id\": 1,"
	    " \"title\": \"me\"}, \"Player\": {\"state\": \"paused\", \"title\": \"TV\"}},"
	    "{\"type\": \"episode\", \"ratingKey\": \"91\", \"title\": \"Earth Skills\","
	    " \"grandparentGuid\": \"com.plexapp.agents.thetvdb://268592?lang=en\","
	    " \"guid\": \"com.plexapp.agents.thetvdb://268592/1/2?lang=en\", \"parentIndex\": 1,"
	    " \"index\": 2, \"Session\": {\"id\": \"abc\"}, \"User\": {\"id\": \"4242\"},"
	    " \"Player\": {\"state\": \"buffering\"}},"
	    "{\"type\": \"track\", \"ratingKey\": \"5\", \"sessionKey\": \"8\","
	    " \"Player\": {\"state\": \"playing\"}},"
	    "{\"type\": \"movie\", \"ratingKey\": \"6\", \"sessionKey\": \"9\","
	    " \"Player\": {\"state\": \"stopped-ish\"}},"
	    "{\"type\": \"movie\", \"ratingKey\": \"7\", \"Player\": {\"state\": \"playing\"}}"
	    "]}}";
	struct sess_seen seen;
	json_object *j = json_tokener_parse(page), *empty = json_tokener_parse(
	    "{\"MediaContainer\": {\"size\": 0}}"), *bad = json_tokener_parse("[1]");
	int count = -1;

	memset(&seen, 0, sizeof(seen));
	TAP_OK(pts_plexsess_parse(j, sess_collect, &seen, &count) == 0 && count == 2 &&
	    seen.n == 2, "sessions: a movie and an episode; music, unknown states, no key skipped");
	TAP_STREQ(seen.keys[0], "7", "sessionKey");
	TAP_STREQ(seen.keys[1], "abc", "Session.id when there is no sessionKey");
	TAP_STREQ(seen.users[0], "1", "a numeric User.id as text");
	TAP_STREQ(seen.states[0], "paused", "Player.state");
	TAP_OK(seen.offset[0] == 600000, "viewOffset");
	TAP_OK(seen.season[1] == 1 && seen.tvdb[1] == 268592, "an episode's show ids and numbers");
	TAP_OK(pts_plexsess_parse(empty, sess_collect, &seen, &count) == 0 && count == 0,
	    "nothing playing: no Metadata");
	TAP_OK(pts_plexsess_parse(bad, sess_collect, &seen, &count) == -1, "not a MediaContainer");
	json_object_put(j);
	json_object_put(empty);
	json_object_put(bad);
	/* The same-viewing window: running time plus a quarter, at least 30 minutes. */
	TAP_OK(PTS_LEDGER_SAME_VIEWING_S(9120) == 11400, "a 152-minute film: 190 minutes");
	TAP_OK(PTS_LEDGER_SAME_VIEWING_S(1320) == PTS_LEDGER_SAME_MIN_S,
	    "a 22-minute episode: 30 minutes");
	TAP_OK(PTS_LEDGER_SAME_VIEWING_S(0) == PTS_LEDGER_SAME_MIN_S, "unknown: 30 minutes");
}

int
main(void)
{
	pts_log_init("test_up_parse", PTS_LOG_ERROR + 1);
	test_plex_legacy_movies();
	test_plex_legacy_episodes();
	test_plex_new_agent();
	test_plex_bad_pages();
	test_plextv();
	test_trakt_watched();
	test_trakt_history();
	test_trakt_misc();
	test_pagination();
	test_urls();
	test_history_body();
	test_ratelimit();
	test_plex_sessions();
	return tap_done();
}

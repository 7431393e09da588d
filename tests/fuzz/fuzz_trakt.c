/*
 * fuzz_trakt.c - a Trakt answer: the bounded JSON parse, then every Trakt parser on it
 * (watched movies and shows, history, a history write's result against a few items, last
 * activities, token, device code, ids), as if each endpoint had answered it.
 */
#include "fuzz.h"
#include "http.h"
#include "jsonx.h"
#include "trakt.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* The items of a history write a result is matched against: movies and episodes both ways. */
static void
fuzz_items(struct pts_trakt_hist_item *it, size_t n)
{
	size_t i;

	memset(it, 0, n * sizeof(*it));
	for (i = 0; i < n; i++) {
		it[i].kind = i % 2 ? PTS_TRAKT_EPISODE : PTS_TRAKT_MOVIE;
		it[i].season = (int)i % 3;
		it[i].episode = (int)i + 1;
		it[i].watched_at = 1700000000 + (int64_t)i * 60;
		if (i % 3 == 0)
			memcpy(it[i].ids.imdb, "tt0468569", 10);
		it[i].ids.tmdb = (int64_t)(i % 4 == 1 ? 155 : 0);
		it[i].ids.trakt = (int64_t)i;
		if (it[i].kind == PTS_TRAKT_EPISODE && i % 5 != 0) {
			it[i].show_ids.tvdb = 81189;
			it[i].ids.tvdb = (int64_t)(i % 5 == 3 ? 349336 : 0);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *j = pts_json_parse((const char *)data, size, PTS_HTTP_MAX_BYTES, NULL);
	struct pts_trakt_movies movies;
	struct pts_trakt_shows shows;
	struct pts_trakt_plays plays;
	struct pts_trakt_hist_item items[8];
	struct pts_trakt_hist_result res;
	struct pts_trakt_activities acts;
	struct pts_trakt_token tok;
	struct pts_trakt_device dev;
	struct pts_ids ids;

	if (j == NULL)
		return 0;
	memset(&movies, 0, sizeof(movies));
	(void)pts_trakt_parse_watched_movies(j, &movies);
	(void)pts_trakt_parse_watched_movies(j, &movies);  /* a second page appends */
	pts_trakt_movies_free(&movies);
	memset(&shows, 0, sizeof(shows));
	(void)pts_trakt_parse_watched_shows(j, &shows);
	(void)pts_trakt_parse_watched_shows(j, &shows);
	pts_trakt_shows_free(&shows);
	memset(&plays, 0, sizeof(plays));
	(void)pts_trakt_parse_history(j, 0, &plays);
	(void)pts_trakt_parse_history(j, 3, &plays);
	pts_trakt_plays_free(&plays);
	fuzz_items(items, 8);
	memset(&res, 0, sizeof(res));
	(void)pts_trakt_parse_sync_result(j, "added", items, 8, &res);
	fuzz_items(items, 8);
	(void)pts_trakt_parse_sync_result(j, "deleted", items, 8, &res);
	(void)pts_trakt_parse_sync_result(j, "added", items, 0, &res);
	memset(&acts, 0, sizeof(acts));
	(void)pts_trakt_parse_last_activities(j, &acts);
	memset(&tok, 0, sizeof(tok));
	(void)pts_trakt_parse_token(j, 1700000000, &tok);
	pts_trakt_token_clear(&tok);
	memset(&dev, 0, sizeof(dev));
	(void)pts_trakt_parse_device(j, 1700000000, &dev);
	memset(&ids, 0, sizeof(ids));
	pts_trakt_parse_ids(j, &ids);
	json_object_put(j);
	return 0;
}

/*
 * test_idindex.c - worker/sync/idindex.c: the id -> position hash index the engine finds
 * Trakt's watched entries by (put/get per kind, first position wins, growth at load 1/2,
 * imdb ids kept apart by their digit count, lookups by a set of ids in their order, and
 * episode slots).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "idindex.h"
#include "tap.h"

/* Keys put in the growth check: enough for several doublings from the first 64 slots. */
#define MANY_KEYS 100000

/* 1 when n is a power of two. */
static int
pow2(size_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

static void
test_zeroed(void)
{
	struct pts_idx x;

	memset(&x, 0, sizeof(x));
	TAP_OK(pts_idx_get(&x, PTS_IDX_TMDB, 7) == -1, "a zeroed index finds nothing");
	pts_idx_free(&x);
	TAP_OK(x.slots == NULL && x.cap == 0 && x.used == 0, "freeing a zeroed index is safe");
	TAP_OK(pts_idx_put(&x, PTS_IDX_TMDB, 7, 3) == 0 && pts_idx_get(&x, PTS_IDX_TMDB, 7) == 3,
	    "a zeroed index takes a put (it grows)");
	TAP_OK(pow2(x.cap) && x.cap >= 2, "and has a power-of-two capacity then");
	pts_idx_free(&x);
	pts_idx_free(&x);
	TAP_OK(x.slots == NULL, "freeing twice is safe");
}

static void
test_put_get(void)
{
	struct pts_idx x;

	TAP_OK(pts_idx_init(&x, 0) == 0 && pow2(x.cap), "init(0) gives a power-of-two table");
	TAP_OK(pts_idx_put(&x, PTS_IDX_TMDB, 603, 0) == 0, "put tmdb 603 -> 0");
	TAP_OK(pts_idx_put(&x, PTS_IDX_TVDB, 603, 1) == 0, "put tvdb 603 -> 1");
	TAP_OK(pts_idx_put(&x, PTS_IDX_TRAKT, 603, 2) == 0, "put trakt 603 -> 2");
	TAP_OK(pts_idx_get(&x, PTS_IDX_TMDB, 603) == 0 && pts_idx_get(&x, PTS_IDX_TVDB, 603) == 1 &&
	    pts_idx_get(&x, PTS_IDX_TRAKT, 603) == 2, "the same number under each kind is its own key");
	TAP_OK(pts_idx_get(&x, PTS_IDX_IMDB, 603) == -1, "a kind never put finds nothing");
	TAP_OK(pts_idx_get(&x, PTS_IDX_TMDB, 604) == -1, "an absent value finds nothing");
	TAP_OK(pts_idx_put(&x, PTS_IDX_TMDB, 603, 9) == 0 && pts_idx_get(&x, PTS_IDX_TMDB, 603) == 0,
	    "the first position stored for a key wins");
	TAP_OK(x.used == 3, "a repeated key takes no second slot (used %zu)", x.used);
	TAP_OK(pts_idx_put(&x, PTS_IDX_TMDB, 0, 5) == 0 && x.used == 3,
	    "value 0 (no id) is not stored");
	TAP_OK(pts_idx_get(&x, PTS_IDX_TMDB, 0) == -1, "value 0 finds nothing");
	TAP_OK(pts_idx_put(&x, PTS_IDX_TRAKT, (UINT64_C(1) << 56) - 1, 4) == 0 &&
	    pts_idx_get(&x, PTS_IDX_TRAKT, (UINT64_C(1) << 56) - 1) == 4,
	    "the largest value (2^56 - 1) is a key like any other");
	TAP_OK(pts_idx_put(&x, PTS_IDX_TMDB, 11, INT32_MAX) == 0 &&
	    pts_idx_get(&x, PTS_IDX_TMDB, 11) == INT32_MAX, "positions up to INT32_MAX come back");
	pts_idx_free(&x);
}

static void
test_growth(void)
{
	struct pts_idx x;
	size_t cap0, i, wrong = 0, half_ok = 1;
	uint64_t v;

	TAP_OK(pts_idx_init(&x, 1000) == 0 && x.cap >= 2000 && pow2(x.cap),
	    "init(1000) makes room for 1000 keys at load 1/2 (cap %zu)", x.cap);
	cap0 = x.cap;
	for (v = 1; v <= 1000; v++)
		(void)pts_idx_put(&x, PTS_IDX_TMDB, v, (int32_t)v);
	TAP_OK(x.cap == cap0 && x.used == 1000, "1000 keys fit without growing");
	pts_idx_free(&x);

	TAP_OK(pts_idx_init(&x, 0) == 0, "a small table for many keys");
	for (i = 0; i < MANY_KEYS; i++) {
		/* Spread over kinds and far-apart values, as the engine's ids are. */
		if (pts_idx_put(&x, (enum pts_idx_kind)(PTS_IDX_IMDB + i % 4), i * 7919 + 1,
		    (int32_t)i) != 0)
			wrong++;
		if (x.used * 2 > x.cap)
			half_ok = 0;
	}
	TAP_OK(wrong == 0 && x.used == MANY_KEYS, "%d puts, all stored (used %zu)", MANY_KEYS,
	    x.used);
	TAP_OK(half_ok && pow2(x.cap), "the load never passes 1/2 while growing (cap %zu)", x.cap);
	for (i = 0, wrong = 0; i < MANY_KEYS; i++)
		if (pts_idx_get(&x, (enum pts_idx_kind)(PTS_IDX_IMDB + i % 4), i * 7919 + 1) !=
		    (int32_t)i)
			wrong++;
	TAP_OK(wrong == 0, "every key finds its position after the growth (%zu wrong)", wrong);
	for (i = 0, wrong = 0; i < 1000; i++)
		if (pts_idx_get(&x, (enum pts_idx_kind)(PTS_IDX_IMDB + (i + 1) % 4), i * 7919 + 1) != -1)
			wrong++;
	TAP_OK(wrong == 0, "the same values under the other kinds find nothing");
	pts_idx_free(&x);
}

static void
test_imdb(void)
{
	uint64_t seven = pts_idx_imdb_value("tt0111161");

	TAP_OK(seven == (UINT64_C(111161) | (UINT64_C(7) << 50)),
	    "tt0111161 is 111161 with its digit count (7)");
	TAP_OK(pts_idx_imdb_value("tt111161") != 0 && pts_idx_imdb_value("tt111161") != seven,
	    "tt111161 is another id than tt0111161");
	TAP_OK(pts_idx_imdb_value("tt10872600") == (UINT64_C(10872600) | (UINT64_C(8) << 50)),
	    "an eight-digit id");
	TAP_OK(pts_idx_imdb_value(NULL) == 0, "NULL is no id");
	TAP_OK(pts_idx_imdb_value("") == 0 && pts_idx_imdb_value("tt") == 0, "\"\" and \"tt\" are no id");
	TAP_OK(pts_idx_imdb_value("nm0000151") == 0, "a person id (nm...) is no id");
	TAP_OK(pts_idx_imdb_value("tt01a1161") == 0 && pts_idx_imdb_value("tt0111161 ") == 0,
	    "a non-digit anywhere makes no id");
	TAP_OK(pts_idx_imdb_value("tt99999999999999999999") == 0, "a number too long for 50 bits is no id");
}

static void
test_ids(void)
{
	struct pts_idx x;
	struct pts_ids a, b, q;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	snprintf(a.imdb, sizeof(a.imdb), "tt0133093");
	a.tmdb = 603;
	a.trakt = 481;
	b.tmdb = 604;
	b.tvdb = 121361;
	TAP_OK(pts_idx_init(&x, 8) == 0, "an index for two items");
	TAP_OK(pts_idx_put_ids(&x, &a, 0) == 0 && pts_idx_put_ids(&x, &b, 1) == 0,
	    "put_ids stores both items");
	TAP_OK(x.used == 5, "one key per id that is set (used %zu)", x.used);

	memset(&q, 0, sizeof(q));
	snprintf(q.imdb, sizeof(q.imdb), "tt0133093");
	TAP_OK(pts_idx_get_ids(&x, &q) == 0, "found by imdb alone");
	memset(&q, 0, sizeof(q));
	q.trakt = 481;
	TAP_OK(pts_idx_get_ids(&x, &q) == 0, "found by trakt alone");
	memset(&q, 0, sizeof(q));
	q.tvdb = 121361;
	TAP_OK(pts_idx_get_ids(&x, &q) == 1, "found by tvdb alone");
	memset(&q, 0, sizeof(q));
	snprintf(q.imdb, sizeof(q.imdb), "tt0133093");
	q.tmdb = 604;
	TAP_OK(pts_idx_get_ids(&x, &q) == 0, "imdb is tried before tmdb");
	memset(&q, 0, sizeof(q));
	snprintf(q.imdb, sizeof(q.imdb), "tt9999999");
	q.tmdb = 604;
	TAP_OK(pts_idx_get_ids(&x, &q) == 1, "an unknown imdb falls back to tmdb");
	memset(&q, 0, sizeof(q));
	q.tmdb = 603;
	q.tvdb = 121361;
	TAP_OK(pts_idx_get_ids(&x, &q) == 0, "tmdb is tried before tvdb");
	memset(&q, 0, sizeof(q));
	TAP_OK(pts_idx_get_ids(&x, &q) == -1, "no id finds nothing");
	q.tmdb = -603;
	q.trakt = -481;
	TAP_OK(pts_idx_get_ids(&x, &q) == -1, "negative ids are no ids");
	memset(&q, 0, sizeof(q));
	q.tvdb = 603;
	TAP_OK(pts_idx_get_ids(&x, &q) == -1, "a tmdb number asked as tvdb finds nothing");
	pts_idx_free(&x);
}

static void
test_episodes(void)
{
	struct pts_idx x;
	uint64_t e000 = pts_idx_episode(0, 0, 0), e001 = pts_idx_episode(0, 0, 1),
	    e010 = pts_idx_episode(0, 1, 0), e100 = pts_idx_episode(1, 0, 0);
	int32_t show, season, episode, wrong = 0;

	TAP_OK(e000 != 0, "show 0, season 0 (specials), episode 0 is a usable value");
	TAP_OK(e001 != e000 && e010 != e000 && e100 != e000 && e001 != e010 && e010 != e100 &&
	    e001 != e100, "show, season and episode each make another slot");
	TAP_OK(pts_idx_episode(-1, 1, 1) == 0 && pts_idx_episode(1, -1, 1) == 0 &&
	    pts_idx_episode(1, 1, -1) == 0, "a negative part is no slot (0, never stored)");
	TAP_OK(pts_idx_episode(PTS_IDX_EP_SHOWS - 1, PTS_IDX_EP_SEASONS - 1,
	    PTS_IDX_EP_EPISODES - 1) < (UINT64_C(1) << 56), "the largest slot fits in a key's 56 bits");
	TAP_OK(pts_idx_episode(PTS_IDX_EP_SHOWS - 1, 0, 0) != pts_idx_episode(0, 0, 0) &&
	    pts_idx_episode(PTS_IDX_EP_SHOWS - 1, 0, 0) != 0, "the last show keeps its own slots");
	TAP_OK(pts_idx_episode(PTS_IDX_EP_SHOWS, 1, 1) == 0, "a show position past the limit is no slot");
	TAP_OK(pts_idx_episode(0, PTS_IDX_EP_SEASONS + 1, 1) == 0 &&
	    pts_idx_episode(0, PTS_IDX_EP_SEASONS, 0) == 0,
	    "a season past the limit is no slot (never season 1's or 0's)");
	TAP_OK(pts_idx_episode(0, 1, PTS_IDX_EP_EPISODES + 2) == 0,
	    "an episode past the limit is no slot (never episode 2's)");

	TAP_OK(pts_idx_init(&x, 0) == 0, "an index of episode slots");
	for (show = 0; show < 20; show++)
		for (season = 0; season < 5; season++)
			for (episode = 0; episode < 30; episode++)
				(void)pts_idx_put(&x, PTS_IDX_EPISODE,
				    pts_idx_episode(show, season, episode),
				    show * 1000 + season * 100 + episode);
	TAP_OK(x.used == 20 * 5 * 30, "3000 distinct slots stored (used %zu)", x.used);
	for (show = 0; show < 20; show++)
		for (season = 0; season < 5; season++)
			for (episode = 0; episode < 30; episode++)
				if (pts_idx_get(&x, PTS_IDX_EPISODE, pts_idx_episode(show, season, episode)) !=
				    show * 1000 + season * 100 + episode)
					wrong++;
	TAP_OK(wrong == 0, "each slot finds its own position (%d wrong)", (int)wrong);
	TAP_OK(pts_idx_get(&x, PTS_IDX_TMDB, e001) == -1, "a slot is no tmdb id");
	pts_idx_free(&x);
}

int
main(void)
{
	test_zeroed();
	test_put_get();
	test_growth();
	test_imdb();
	test_ids();
	test_episodes();
	return tap_done();
}

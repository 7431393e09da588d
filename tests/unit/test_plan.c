/*
 * test_plan.c - the plan of a sync (worker/sync/plan.h): entries copied on add, folded by
 * item key keeping the latest view, ids written as JSON within bounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "tap.h"

static struct pts_plan_entry
entry(const char *key, int64_t watched_at, const char *title)
{
	struct pts_plan_entry e;

	memset(&e, 0, sizeof(e));
	e.kind = PTS_PLAN_MOVIE;
	e.season = e.episode = -1;
	e.watched_at = watched_at;
	snprintf(e.key, sizeof(e.key), "%s", key);
	e.title = (char *)title;
	return e;
}

static void
test_add(void)
{
	struct pts_plan p;
	struct pts_plan_entry e;
	char title[] = "Heat";
	size_t i;
	int ok = 1;

	memset(&p, 0, sizeof(p));
	e = entry("movie:imdb:tt0113277", 100, title);
	TAP_OK(pts_plan_add(&p, &e) == 0 && p.n == 1, "an entry is added");
	TAP_OK(p.v[0].title != title && strcmp(p.v[0].title, "Heat") == 0,
	    "its title is the plan's own copy");
	title[0] = 'M';
	TAP_STREQ(p.v[0].title, "Heat", "changing the caller's string does not change the plan");
	TAP_OK(p.v[0].show == NULL && p.v[0].rating_key == NULL, "absent strings stay NULL");
	for (i = 0; i < 1000 && ok; i++) {
		char key[32];

		snprintf(key, sizeof(key), "movie:tmdb:%zu", i);
		e = entry(key, (int64_t)i, NULL);
		ok = pts_plan_add(&p, &e) == 0;
	}
	TAP_OK(ok && p.n == 1001 && p.cap >= 1001, "the plan grows past its first allocation");
	TAP_STREQ(p.v[1000].key, "movie:tmdb:999", "entries keep their order");
	pts_plan_free(&p);
	TAP_OK(p.v == NULL && p.n == 0 && p.cap == 0, "free leaves an empty plan");
	pts_plan_free(&p);
	TAP_OK(p.n == 0, "freeing an empty plan is safe");
}

static void
test_dedupe(void)
{
	struct pts_plan p;
	struct pts_plan_entry e;
	size_t i;
	int newest = 0, others = 1;

	memset(&p, 0, sizeof(p));
	e = entry("movie:imdb:tt1", 200, "in library A");
	(void)pts_plan_add(&p, &e);
	e = entry("movie:imdb:tt2", 50, "other");
	(void)pts_plan_add(&p, &e);
	e = entry("movie:imdb:tt1", 900, "in library B");
	(void)pts_plan_add(&p, &e);
	e = entry("movie:imdb:tt1", 500, "in library C");
	(void)pts_plan_add(&p, &e);
	pts_plan_dedupe(&p);
	TAP_OK(p.n == 2, "three entries of one item fold into one");
	for (i = 0; i < p.n; i++) {
		if (strcmp(p.v[i].key, "movie:imdb:tt1") == 0)
			newest = p.v[i].watched_at == 900 && strcmp(p.v[i].title, "in library B") == 0;
		else
			others &= strcmp(p.v[i].key, "movie:imdb:tt2") == 0 && p.v[i].watched_at == 50;
	}
	TAP_OK(newest, "the one kept is the latest view");
	TAP_OK(others, "another item is untouched");
	pts_plan_dedupe(&p);
	TAP_OK(p.n == 2, "folding again changes nothing");
	pts_plan_free(&p);

	memset(&p, 0, sizeof(p));
	pts_plan_dedupe(&p);
	e = entry("movie:imdb:tt3", 1, NULL);
	(void)pts_plan_add(&p, &e);
	pts_plan_dedupe(&p);
	TAP_OK(p.n == 1, "an empty or one-entry plan folds to itself");
	pts_plan_free(&p);
}

static void
test_ids_json(void)
{
	struct pts_ids ids;
	char buf[128], tiny[12];

	memset(&ids, 0, sizeof(ids));
	pts_ids_json_text(&ids, buf, sizeof(buf));
	TAP_STREQ(buf, "{}", "no ids is an empty object");
	ids.trakt = 1;
	snprintf(ids.imdb, sizeof(ids.imdb), "tt0111161");
	ids.tmdb = 278;
	pts_ids_json_text(&ids, buf, sizeof(buf));
	TAP_STREQ(buf, "{\"trakt\":1,\"imdb\":\"tt0111161\",\"tmdb\":278}",
	    "the ids there are, in order");
	memset(&ids, 0, sizeof(ids));
	ids.tvdb = 81189;
	pts_ids_json_text(&ids, buf, sizeof(buf));
	TAP_STREQ(buf, "{\"tvdb\":81189}", "one id alone is the whole object");
	ids.trakt = 123456789;
	snprintf(ids.imdb, sizeof(ids.imdb), "tt0111161");
	pts_ids_json_text(&ids, tiny, sizeof(tiny));
	TAP_STREQ(tiny, "{}", "ids that do not fit become an empty object, never cut JSON");
}

int
main(void)
{
	test_add();
	test_dedupe();
	test_ids_json();
	return tap_done();
}

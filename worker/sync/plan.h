/*
 * plan.h - what one sync means to change, before anything is written.
 *
 * The engine appends an entry per decision while it reads Plex; pts_plan_dedupe() then folds
 * entries for the same Trakt item (the same movie in two libraries is one play, at the most
 * recent view) so nothing is sent twice in one run.
 *
 * Ownership: the plan owns its strings (copied on add); pts_plan_free() releases everything
 * and is safe on a zeroed plan.
 */
#ifndef PTS_PLAN_H
#define PTS_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "guid.h"
#include "ledger.h"
#include "plex.h"

/* Entries in one plan at most: one per Plex item a sync can read. */
#define PTS_PLAN_MAX_ENTRIES ((size_t)PTS_PLEX_TOTAL_MAX)

enum pts_plan_kind {
	PTS_PLAN_MOVIE,
	PTS_PLAN_EPISODE
};

struct pts_plan_entry {
	enum pts_plan_kind kind;
	struct pts_ids ids;          /* movie ids, or the show's ids for an episode */
	int season, episode;         /* -1 for movies */
	int year;
	int64_t watched_at;          /* Plex lastViewedAt (to Trakt); 0 for Plex marks */
	char key[PTS_LEDGER_KEY_LEN];/* canonical item key (ledger) */
	char *title;                 /* movie or episode title */
	char *show;                  /* episodes: the show's title */
	char *rating_key;            /* Plex marks: the item to scrobble */
	int tries;                   /* sends so far whose outcome was 'not applied' */
	int64_t run_s;               /* the item's running time (s), 0 unknown: its same-viewing
	                              * window (ledger.h) */
};

struct pts_plan {
	struct pts_plan_entry *v;
	size_t n, cap;
};

/* Append a copy of e (strings duplicated). 0 or -1 when out of memory. */
int pts_plan_add(struct pts_plan *p, const struct pts_plan_entry *e);

/* Fold entries with the same key into one, keeping the latest watched_at. */
void pts_plan_dedupe(struct pts_plan *p);

void pts_plan_free(struct pts_plan *p);

#endif

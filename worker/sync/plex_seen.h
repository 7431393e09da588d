/*
 * plex_seen.h - when did a Plex value (a rating, a resume point) take its current value?
 *
 * Plex says what an item's rating or resume point is, not when it was set. To let the newest
 * side win a conflict, we keep the value we last saw per item (table plex_seen) and date it:
 *
 *   same value as stored              the stored time
 *   another value than stored         "now": it changed since the last sync looked
 *   no row, but this library was      "now": it was set since (the item was in the library
 *     looked at before (and the item    then and had no value)
 *     was added before that look)
 *   no row and no earlier look        0: unknown (older than any dated value)
 *
 * A value we wrote from Trakt is stored with Trakt's time, so it is not taken for a change in
 * Plex. Items without a value lose their row (a later value then counts as new).
 *
 * Observations are staged in memory while the library is scanned and written in one
 * transaction by pts_seen_commit(), with the time each library was looked at. A dry run
 * never commits. Ownership: pts_seen_free() releases everything (safe on a zeroed struct).
 */
#ifndef PTS_PLEX_SEEN_H
#define PTS_PLEX_SEEN_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "plex.h"

/* Sections remembered per run (more than the engine's library limit). */
#define PTS_SEEN_MAX_SECTIONS 64
#define PTS_SEEN_SECTION_LEN 32
/* Rows (and staged changes) at most: one per Plex item a sync can read (PTS_PLEX_TOTAL_MAX). */
#define PTS_SEEN_MAX_ROWS ((size_t)PTS_PLEX_TOTAL_MAX)

struct pts_seen_row {
	char *rating_key;
	double value;
	int64_t seen_at;
};

struct pts_seen_op {
	char *rating_key;
	double value;
	int64_t seen_at;
	int del;                     /* 1: delete the row */
};

struct pts_seen {
	const char *kind;            /* "rating" or "offset" (static) */
	double tolerance;            /* values closer than this are the same */
	struct pts_seen_row *rows;   /* sorted by rating_key */
	size_t nrows;
	struct pts_seen_op *ops;
	size_t nops, capops;
	char sections[PTS_SEEN_MAX_SECTIONS][PTS_SEEN_SECTION_LEN];
	int64_t section_at[PTS_SEEN_MAX_SECTIONS];
	size_t nsections;
	int64_t prev_look;           /* the current section's earlier look (0: none) */
};

/* Load the stored values of one kind. 0 or -1. */
int pts_seen_open(struct pts_seen *s, sqlite3 *db, const char *kind, double tolerance);
void pts_seen_free(struct pts_seen *s);

/* A library is about to be scanned (its earlier look is read from meta). 0 or -1. */
int pts_seen_section(struct pts_seen *s, sqlite3 *db, const char *section, int64_t now);

/*
 * One item of the current section: its value (< 0: none) and addedAt. Returns the value's
 * time as described above (0: unknown) and stages the row change. -1 only when out of memory.
 */
int64_t pts_seen_observe(struct pts_seen *s, const char *rating_key, double value,
    int64_t added_at, int64_t now);

/*
 * The same, for a value whose service says when it was set (Plex's lastRatedAt): a new or
 * changed value is dated set_at (when > 0) instead of "now" or unknown. An unchanged value
 * keeps the stored time, so a value we wrote from Trakt stays dated as Trakt's.
 */
int64_t pts_seen_observe_dated(struct pts_seen *s, const char *rating_key, double value,
    int64_t added_at, int64_t set_at, int64_t now);

/* Stage a row (after we wrote the value to Plex). 0 or -1. */
int pts_seen_set(struct pts_seen *s, const char *rating_key, double value, int64_t seen_at);

/* Write the staged rows and the sections' look times in one transaction. 0 or -1. */
int pts_seen_commit(struct pts_seen *s, sqlite3 *db);

#endif

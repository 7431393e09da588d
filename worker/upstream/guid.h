/*
 * guid.h - external ids from Plex guids (pure parsing, no I/O).
 *
 * Plex names an item's identity in two ways (docs/UPSTREAM.md, "Guids"):
 *   new agents:    guid "plex://movie/5d77..." (no external id) plus a Guid array of
 *                  "imdb://tt0111161", "tmdb://278", "tvdb://81189";
 *   legacy agents: the id is in guid itself: "com.plexapp.agents.imdb://tt0165832?lang=en",
 *                  "com.plexapp.agents.themoviedb://119243?lang=en",
 *                  "com.plexapp.agents.thetvdb://268592/1/1?lang=en" (show/season/episode).
 * Everything else ("local://", "com.plexapp.agents.none://", unknown agents such as hama)
 * carries no id we can match on.
 *
 * Parsing is strict and bounded: ids must be in range, imdb ids are "tt" + 7..10 digits,
 * guids longer than PTS_GUID_MAX_LEN are refused. Nothing here allocates.
 */
#ifndef PTS_GUID_H
#define PTS_GUID_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* Longest guid we look at; real ones are under 100 characters. */
#define PTS_GUID_MAX_LEN 512
/* "tt" + at most 10 digits + NUL. */
#define PTS_IMDB_LEN 13
/* Largest tmdb/tvdb/trakt id accepted (they are positive 32-bit numbers today). */
#define PTS_ID_MAX 2147483647LL
/* Largest season and episode number accepted (daily shows number episodes by date). */
#define PTS_GUID_SEASON_MAX 9999
#define PTS_GUID_EPISODE_MAX 99999

/* The ids of one movie, show or episode; 0 / "" where unknown. */
struct pts_ids {
	int64_t trakt;
	int64_t tmdb;
	int64_t tvdb;
	char imdb[PTS_IMDB_LEN];
};

enum pts_guid_kind {
	PTS_GUID_UNKNOWN,  /* malformed, empty, too long, or an agent we do not know */
	PTS_GUID_NONE,     /* explicitly unmatched: local://, com.plexapp.agents.none:// */
	PTS_GUID_PLEX,     /* plex://...: ids come from the Guid array */
	PTS_GUID_IMDB,
	PTS_GUID_TMDB,
	PTS_GUID_TVDB
};

/* One parsed guid. season/episode are -1 unless the guid names them (legacy tv agents). */
struct pts_guid {
	enum pts_guid_kind kind;
	int legacy;             /* 1 for com.plexapp.agents.* forms */
	int64_t id;             /* tmdb or tvdb id (show id for legacy episode guids) */
	char imdb[PTS_IMDB_LEN];
	int season;
	int episode;
};

/* Parse one guid (NULL safe). Fills out and returns its kind. */
enum pts_guid_kind pts_guid_parse(const char *s, struct pts_guid *out);

/*
 * Merge the id a guid names into ids (fields already set are kept). Returns 1 when an id
 * was taken, else 0. Legacy episode guids give the show's id, so callers merging an
 * episode's own guid use pts_guid_parse() and look at season/episode instead.
 */
int pts_guid_merge(const char *s, struct pts_ids *ids);

/* 1 when s is "tt" followed by 7..10 digits. */
int pts_guid_imdb_valid(const char *s);

/*
 * The ids as a Trakt ids object {"trakt":..,"imdb":..,"tmdb":..,"tvdb":..} holding only the
 * ids that are set: a number when > 0, imdb when not empty (the one rule for every body and
 * row that carries ids). A new object the caller puts; NULL when out of memory.
 */
json_object *pts_ids_json(const struct pts_ids *ids);
/* The same object as compact JSON text in buf[len] ("{}" when it does not fit or on OOM). */
void pts_ids_json_text(const struct pts_ids *ids, char *buf, size_t len);

/* 1 when no id at all is set. */
int pts_ids_empty(const struct pts_ids *ids);

/* 1 when a and b share at least one id (trakt, imdb, tmdb or tvdb). */
int pts_ids_match(const struct pts_ids *a, const struct pts_ids *b);

/* A short text like "imdb tt0111161" for log lines (never secrets): buf always ends in NUL. */
void pts_ids_str(const struct pts_ids *ids, char *buf, size_t len);

#endif

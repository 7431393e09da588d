/*
 * tmdb.h - posters from TMDb, cached in meta_cache (kind 'tmdb_poster').
 *
 * Lookup: by tmdb id (GET /3/movie/{id} or /3/tv/{id}) when known, else by imdb id
 * (GET /3/find/{imdb}?external_source=imdb_id), else, for shows, by tvdb id
 * (external_source=tvdb_id). The poster path is cached for
 * PTS_TMDB_TTL_S; "no poster" is cached too (value NULL) for PTS_TMDB_NEG_TTL_S. Cache keys:
 * "movie:tmdb:278", "tv:tmdb:1396", "imdb:tt0111161", "tvdb:81189".
 *
 * Without the tmdb_api_key setting there are no posters, no calls and no errors. After a
 * network failure or a refused key, the client stops asking for the rest of the job (one
 * slow TMDb must not slow every refresh row by row).
 *
 * Images: the browser never contacts TMDb. Each poster is downloaded once (size w342, no
 * API key sent) from https://image.tmdb.org/t/p/w342{poster_path}, or, when PTS_TMDB_API_URL
 * points somewhere else (tests, demo), from <that base>/t/p/w342{poster_path}; it is checked
 * (Content-Type and magic bytes, PTS_POSTERS_FILE_MAX) and kept under the data folder
 * (core/posters.h), and the dashboard gets its same-origin path "/posters/NAME". A poster
 * whose image cannot be had is NULL (the dashboard shows a letter tile). pts_tmdb_close()
 * prunes the folder (expiry, size cap) after a job that looked posters up.
 *
 * Ownership: pts_tmdb_open() returns a client freed by pts_tmdb_close() (NULL safe); poster
 * paths are malloc'd and the caller's. The API key is never logged.
 */
#ifndef PTS_TMDB_H
#define PTS_TMDB_H

#include "guid.h"
#include "http.h"
#include "wctx.h"

#define PTS_TMDB_TTL_S (30 * 86400)
#define PTS_TMDB_NEG_TTL_S (7 * 86400)
#define PTS_TMDB_IMAGE_BASE "https://image.tmdb.org"
#define PTS_TMDB_DEFAULT_API "https://api.themoviedb.org"
#define PTS_TMDB_POSTER_SIZE "w342"
/* Longest poster path accepted ("/abc123.jpg" in practice). */
#define PTS_TMDB_PATH_MAX 256
/* Longest key accepted: v3 keys are 32 hex characters, v4 read tokens a few hundred. */
#define PTS_TMDB_KEY_MAX 1024

enum pts_tmdb_kind {
	PTS_TMDB_MOVIE,
	PTS_TMDB_TV
};

struct pts_tmdb {
	struct pts_wctx *w;
	char *key;               /* NULL: disabled */
	int failed;              /* stop calling for the rest of this job */
	int64_t calls, hits;     /* for a log line */
	int64_t images;          /* posters downloaded */
};

/* Always returns a client (disabled when no key is set) unless out of memory. */
struct pts_tmdb *pts_tmdb_open(struct pts_wctx *w);
void pts_tmdb_close(struct pts_tmdb *t);

/*
 * The same-origin poster path ("/posters/NAME") for a movie or show (episodes: pass the
 * show's ids and PTS_TMDB_TV), or NULL when there is none, TMDb is off, or it or its image
 * could not be had. Uses and fills the cache and the posters folder.
 */
char *pts_tmdb_poster(struct pts_tmdb *t, enum pts_tmdb_kind kind, const struct pts_ids *ids);

/* The TMDb image URL of a poster path (pure; reads PTS_TMDB_API_URL). malloc'd or NULL. */
char *pts_tmdb_image_url(const char *poster_path);

#endif

/*
 * np_posters.c - the Now playing card's posters: one TMDb lookup per new item, off the
 * scrobbler's poll loop.
 */
#include "np_posters.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "job_end.h"
#include "jobs.h"
#include "jsonx.h"
#include "log.h"
#include "tmdb.h"
#include "trakt.h"

/* Longest poster_ids JSON text read (a movie's or show's ids). */
#define NP_IDS_MAX 512

/* The item whose poster a stream wants. */
struct np_want {
	char *rating_key;
	int is_episode;
	struct pts_ids ids;
};

int
pts_np_posters_want(sqlite3 *db)
{
	int64_t want = 0, job_id = 0;

	if (pts_db_int(db, &want, 0, "SELECT COUNT(*) FROM now_playing WHERE poster_done = 0",
	    "") != 0)
		return -1;
	return want > 0 ? pts_jobs_enqueue_once(db, PTS_JOB_NOW_PLAYING_POSTERS, NULL, &job_id) : 0;
}

/* The items wanting a poster into *out (malloc'd, *n of them). 0 or -1. */
static int
np_wanted(sqlite3 *db, struct np_want **out, size_t *n)
{
	sqlite3_stmt *st = pts_db_prepare(db, "SELECT rating_key, MAX(type = 'episode'),"
	    " MAX(poster_ids) FROM now_playing WHERE poster_done = 0 GROUP BY rating_key LIMIT ?");
	struct np_want *v;
	const char *ids;
	json_object *j;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	if ((v = calloc(PTS_NP_POSTERS_MAX, sizeof(*v))) == NULL) {
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_bind_int(st, 1, PTS_NP_POSTERS_MAX);
	while (*n < PTS_NP_POSTERS_MAX && sqlite3_step(st) == SQLITE_ROW) {
		struct np_want *w = &v[*n];

		w->rating_key = strdup((const char *)sqlite3_column_text(st, 0));
		if (w->rating_key == NULL)
			break;
		w->is_episode = sqlite3_column_int(st, 1);
		ids = (const char *)sqlite3_column_text(st, 2);
		j = ids != NULL ? pts_json_parse(ids, strlen(ids), NP_IDS_MAX, NULL) : NULL;
		pts_trakt_parse_ids(j, &w->ids);
		json_object_put(j);
		(*n)++;
	}
	sqlite3_finalize(st);
	*out = v;
	return 0;
}

int
pts_np_posters_job(struct pts_wctx *w, json_object *args)
{
	struct np_want *v = NULL;
	struct pts_tmdb *tm;
	size_t n = 0, i;
	char *poster;
	int rc = 0;

	(void)args;
	if (np_wanted(w->db, &v, &n) != 0)
		return pts_job_end(w, -1);
	tm = pts_tmdb_open(w);
	for (i = 0; i < n; i++) {
		if (pts_wctx_cancelled(w)) {
			rc = 1;
			break;
		}
		/* No key, no ids, or TMDb has none: NULL, and the card shows its placeholder. */
		poster = tm != NULL && !pts_ids_empty(&v[i].ids) ? pts_tmdb_poster(tm,
		    v[i].is_episode ? PTS_TMDB_TV : PTS_TMDB_MOVIE, &v[i].ids) : NULL;
		if (pts_db_run(w->db, "UPDATE now_playing SET poster = ?, poster_done = 1 WHERE"
		    " rating_key = ? AND poster_done = 0", "ss", poster, v[i].rating_key) != 0)
			rc = -1;
		free(poster);
	}
	if (n > 0)
		PTS_INFO("Now playing: posters looked up for %zu items", n);
	pts_tmdb_close(tm);
	for (i = 0; i < n; i++)
		free(v[i].rating_key);
	free(v);
	return pts_job_end(w, rc);
}

/*
 * job_cache.c - the jobs that refresh what the dashboard shows from Plex, Trakt and TMDb:
 * the libraries, the Trakt history (its most recent plays) and Plex's Continue Watching.
 */
#include "job_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "db.h"
#include "http.h"
#include "job_end.h"
#include "jsonx.h"
#include "log.h"
#include "plex.h"
#include "tmdb.h"
#include "trakt.h"
#include "utf8.h"

/* Trakt plays kept for the dashboard. */
#define JOB_TRAKT_HISTORY_MAX 100
/* Longest ids JSON text stored per row. */
#define JOB_IDS_JSON_MAX 256
/* Shows whose ids are looked up for Continue Watching posters, per run. */
#define JOB_SHOW_IDS_MAX PTS_PLEX_CONTINUE_MAX

/* ==== Libraries ==== */

struct job_lib {
	struct pts_plex_section s;
	const char *type;       /* 'movie' | 'show' */
	int64_t count;
};

int
pts_job_libraries_refresh(struct pts_wctx *w, json_object *args)
{
	struct pts_plex_section *secs = NULL;
	struct job_lib *libs = NULL;
	struct pts_plex *c;
	enum pts_http_result r;
	size_t n = 0, i, nl = 0;
	int rc = -1;

	(void)args;
	if ((c = pts_plex_open(w)) == NULL)
		return pts_job_end(w, -1);
	PTS_INFO("reading the library list from Plex");
	r = pts_plex_sections(c, &secs, &n);
	if (r != PTS_HTTP_OK) {
		PTS_ERROR("library list not refreshed: %s", pts_http_result_name(r));
		rc = pts_job_result(w, r);
		goto done;
	}
	if (n > 0 && (libs = calloc(n, sizeof(*libs))) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		struct job_lib *l = &libs[nl];
		int is_movie = strcmp(secs[i].type, "movie") == 0;

		if (!is_movie && strcmp(secs[i].type, "show") != 0) {
			PTS_DEBUG("library '%s' (%s) skipped: only movies and shows sync",
			    secs[i].title, secs[i].type);
			continue;
		}
		l->s = secs[i];
		l->type = is_movie ? "movie" : "show";
		/* Shows are counted in episodes: that is what a sync goes through. */
		r = pts_plex_count(c, secs[i].key, is_movie ? PTS_PLEX_TYPE_MOVIE :
		    PTS_PLEX_TYPE_EPISODE, NULL, &l->count);
		if (r != PTS_HTTP_OK) {
			PTS_ERROR("library list not refreshed: counting '%s' failed (%s)",
			    secs[i].title, pts_http_result_name(r));
			rc = pts_job_result(w, r);
			goto done;
		}
		PTS_INFO("library '%s': %lld %s", l->s.title, (long long)l->count,
		    is_movie ? "movies" : "episodes");
		nl++;
	}
	if (pts_db_begin(w->db) != 0)
		goto done;
	if (pts_db_run(w->db, "UPDATE libraries SET present = 0", "") != 0)
		goto rollback;
	for (i = 0; i < nl; i++)
		if (pts_db_run(w->db, "INSERT INTO libraries(key, title, type, count, present)"
		    " VALUES(?, ?, ?, ?, 1) ON CONFLICT(key) DO UPDATE SET title = excluded.title,"
		    " type = excluded.type, count = excluded.count, present = 1", "sssi",
		    libs[i].s.key, libs[i].s.title, libs[i].type, libs[i].count) != 0)
			goto rollback;
	{
		char now[24];

		snprintf(now, sizeof(now), "%lld", (long long)pts_now());
		if (pts_db_meta_set(w->db, "libraries_fetched_at", now) != 0)
			goto rollback;
	}
	if (pts_db_commit(w->db) != 0)
		goto rollback;
	PTS_INFO("library list refreshed: %zu movie and show libraries", nl);
	rc = 0;
	goto done;
rollback:
	pts_db_rollback(w->db);
done:
	free(libs);
	free(secs);
	pts_plex_close(c);
	return pts_job_end(w, rc);
}

/* ==== Trakt history (the 100 most recent plays) ==== */

int
pts_job_trakt_history_refresh(struct pts_wctx *w, json_object *args)
{
	struct pts_trakt_plays plays;
	struct pts_trakt *t;
	struct pts_tmdb *tm = NULL;
	enum pts_http_result r;
	char **posters = NULL;
	size_t i;
	int rc = -1;

	(void)args;
	memset(&plays, 0, sizeof(plays));
	if ((t = pts_trakt_open(w)) == NULL)
		return pts_job_end(w, -1);
	if ((r = pts_trakt_ensure_token(t)) != PTS_HTTP_OK) {
		rc = pts_job_result(w, r);
		goto done;
	}
	PTS_INFO("reading the latest plays from Trakt");
	r = pts_trakt_history(t, NULL, 0, 0, JOB_TRAKT_HISTORY_MAX, &plays);
	if (r != PTS_HTTP_OK) {
		PTS_ERROR("Trakt history not refreshed: %s", pts_http_result_name(r));
		rc = pts_job_result(w, r);
		goto done;
	}
	/* Posters first (network), then one short transaction. */
	if (plays.n > 0 && (posters = calloc(plays.n, sizeof(*posters))) == NULL)
		goto done;
	tm = pts_tmdb_open(w);
	for (i = 0; i < plays.n && tm != NULL; i++) {
		const struct pts_trakt_play *p = &plays.v[i];

		if (pts_wctx_cancelled(w)) {
			rc = 1;
			goto done;
		}
		posters[i] = p->is_episode ? pts_tmdb_poster(tm, PTS_TMDB_TV, &p->show_ids) :
		    pts_tmdb_poster(tm, PTS_TMDB_MOVIE, &p->ids);
	}
	if (pts_db_begin(w->db) != 0)
		goto done;
	if (pts_db_run(w->db, "DELETE FROM trakt_history", "") != 0)
		goto rollback;
	for (i = 0; i < plays.n; i++) {
		const struct pts_trakt_play *p = &plays.v[i];
		char ids[JOB_IDS_JSON_MAX];
		sqlite3_stmt *st;
		int ok;

		pts_ids_json_text(&p->ids, ids, sizeof(ids));
		st = pts_db_prepare(w->db, "INSERT INTO trakt_history(pos, history_id, watched_at,"
		    " type, title, show, season, episode, year, ids, poster)"
		    " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
		if (st == NULL)
			goto rollback;
		sqlite3_bind_int64(st, 1, (int64_t)i + 1);
		sqlite3_bind_int64(st, 2, p->history_id);
		if (p->watched_at > 0)
			sqlite3_bind_int64(st, 3, p->watched_at);
		sqlite3_bind_text(st, 4, p->is_episode ? "episode" : "movie", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, p->title, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, p->show_title, -1, SQLITE_STATIC);
		if (p->is_episode && p->season >= 0)
			sqlite3_bind_int64(st, 7, p->season);
		if (p->is_episode && p->episode >= 0)
			sqlite3_bind_int64(st, 8, p->episode);
		if (p->year > 0)
			sqlite3_bind_int64(st, 9, p->year);
		sqlite3_bind_text(st, 10, ids, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 11, posters[i], -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE;
		if (!ok)
			PTS_ERROR("trakt_history insert: %s", sqlite3_errmsg(w->db));
		sqlite3_finalize(st);
		if (!ok)
			goto rollback;
	}
	{
		char now[24];

		snprintf(now, sizeof(now), "%lld", (long long)pts_now());
		if (pts_db_meta_set(w->db, "trakt_history_fetched_at", now) != 0)
			goto rollback;
	}
	if (pts_db_commit(w->db) != 0)
		goto rollback;
	PTS_INFO("Trakt history refreshed: %zu plays", plays.n);
	rc = 0;
	goto done;
rollback:
	pts_db_rollback(w->db);
done:
	for (i = 0; posters != NULL && i < plays.n; i++)
		free(posters[i]);
	free(posters);
	pts_trakt_plays_free(&plays);
	pts_tmdb_close(tm);
	pts_trakt_close(t);
	return pts_job_end(w, rc);
}

/* ==== Plex Continue Watching ==== */

struct job_cw_row {
	int is_episode;
	char *title, *show, *grandparent_rk;
	int season, episode, year;
	double percent;          /* -1: unknown */
	int64_t last_viewed_at;
	struct pts_ids ids, show_ids;
	char *poster;
};

struct job_cw {
	struct job_cw_row *rows;
	size_t n, cap;
};

static int
job_cw_item(void *ctx, const struct pts_plex_item *it)
{
	struct job_cw *cw = ctx;
	struct job_cw_row *r;
	int is_ep;

	if (it->type == NULL)
		return 0;
	is_ep = strcmp(it->type, "episode") == 0;
	if (!is_ep && strcmp(it->type, "movie") != 0)
		return 0;
	if (pts_array_grow(&cw->rows, &cw->cap, cw->n, sizeof(*cw->rows), PTS_PLEX_CONTINUE_MAX,
	    "Continue Watching") != 0)
		return 1;
	r = &cw->rows[cw->n++];
	memset(r, 0, sizeof(*r));
	r->is_episode = is_ep;
	r->title = pts_utf8_dup(it->title, PTS_TRAKT_TITLE_MAX);
	r->show = is_ep ? pts_utf8_dup(it->grandparent_title, PTS_TRAKT_TITLE_MAX) : NULL;
	r->grandparent_rk = is_ep ? pts_utf8_dup(it->grandparent_rating_key, 64) : NULL;
	r->season = is_ep ? it->season : -1;
	r->episode = is_ep ? it->episode : -1;
	r->year = it->year;
	r->percent = it->duration > 0 && it->view_offset >= 0 ?
	    (double)it->view_offset * 100.0 / (double)it->duration : -1;
	if (r->percent > 100)
		r->percent = 100;
	r->last_viewed_at = it->last_viewed_at;
	r->ids = it->ids;
	r->show_ids = it->show_ids;
	return 0;
}

static void
job_cw_free(struct job_cw *cw)
{
	size_t i;

	for (i = 0; i < cw->n; i++) {
		free(cw->rows[i].title);
		free(cw->rows[i].show);
		free(cw->rows[i].grandparent_rk);
		free(cw->rows[i].poster);
	}
	free(cw->rows);
	memset(cw, 0, sizeof(*cw));
}

/* Posters for the rows: movies by their ids, episodes by their show's. */
static int
job_cw_posters(struct pts_wctx *w, struct pts_plex *c, struct job_cw *cw)
{
	struct pts_tmdb *tm = pts_tmdb_open(w);
	struct { const char *rk; struct pts_ids ids; } shows[JOB_SHOW_IDS_MAX];
	size_t i, j, nshows = 0;

	if (tm == NULL || tm->key == NULL) {
		pts_tmdb_close(tm);
		return 0;
	}
	for (i = 0; i < cw->n; i++) {
		struct job_cw_row *r = &cw->rows[i];

		if (pts_wctx_cancelled(w)) {
			pts_tmdb_close(tm);
			return 1;
		}
		if (!r->is_episode) {
			r->poster = pts_tmdb_poster(tm, PTS_TMDB_MOVIE, &r->ids);
			continue;
		}
		/* New-agent episodes name their show only by a plex:// guid: ask Plex once. */
		if (pts_ids_empty(&r->show_ids) && r->grandparent_rk != NULL) {
			for (j = 0; j < nshows && strcmp(shows[j].rk, r->grandparent_rk) != 0; j++)
				;
			if (j == nshows && nshows < JOB_SHOW_IDS_MAX) {
				shows[nshows].rk = r->grandparent_rk;
				(void)pts_plex_item_ids(c, r->grandparent_rk, &shows[nshows].ids);
				nshows++;
			}
			if (j < nshows)
				r->show_ids = shows[j].ids;
		}
		r->poster = pts_tmdb_poster(tm, PTS_TMDB_TV, &r->show_ids);
	}
	pts_tmdb_close(tm);
	return 0;
}

int
pts_job_plex_in_progress_refresh(struct pts_wctx *w, json_object *args)
{
	struct job_cw cw;
	struct pts_plex *c;
	enum pts_http_result r;
	size_t i;
	int rc = -1;

	(void)args;
	memset(&cw, 0, sizeof(cw));
	if ((c = pts_plex_open(w)) == NULL)
		return pts_job_end(w, -1);
	PTS_INFO("reading Continue Watching from Plex");
	r = pts_plex_continue_watching(c, job_cw_item, &cw);
	if (r != PTS_HTTP_OK) {
		PTS_ERROR("Continue Watching not refreshed: %s", pts_http_result_name(r));
		rc = pts_job_result(w, r);
		goto done;
	}
	if (job_cw_posters(w, c, &cw) != 0) {
		rc = 1;
		goto done;
	}
	if (pts_db_begin(w->db) != 0)
		goto done;
	if (pts_db_run(w->db, "DELETE FROM plex_in_progress", "") != 0)
		goto rollback;
	for (i = 0; i < cw.n; i++) {
		const struct job_cw_row *row = &cw.rows[i];
		sqlite3_stmt *st = pts_db_prepare(w->db, "INSERT INTO plex_in_progress(pos, type,"
		    " title, show, season, episode, year, progress_percent, last_viewed_at, poster)"
		    " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
		int ok;

		if (st == NULL)
			goto rollback;
		sqlite3_bind_int64(st, 1, (int64_t)i + 1);
		sqlite3_bind_text(st, 2, row->is_episode ? "episode" : "movie", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, row->title, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, row->show, -1, SQLITE_STATIC);
		if (row->season >= 0)
			sqlite3_bind_int64(st, 5, row->season);
		if (row->episode >= 0)
			sqlite3_bind_int64(st, 6, row->episode);
		if (row->year > 0)
			sqlite3_bind_int64(st, 7, row->year);
		if (row->percent >= 0)
			sqlite3_bind_double(st, 8, row->percent);
		if (row->last_viewed_at > 0)
			sqlite3_bind_int64(st, 9, row->last_viewed_at);
		sqlite3_bind_text(st, 10, row->poster, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE;
		if (!ok)
			PTS_ERROR("plex_in_progress insert: %s", sqlite3_errmsg(w->db));
		sqlite3_finalize(st);
		if (!ok)
			goto rollback;
	}
	{
		char now[24];

		snprintf(now, sizeof(now), "%lld", (long long)pts_now());
		if (pts_db_meta_set(w->db, "plex_in_progress_fetched_at", now) != 0)
			goto rollback;
	}
	if (pts_db_commit(w->db) != 0)
		goto rollback;
	PTS_INFO("Continue Watching refreshed: %zu items", cw.n);
	rc = 0;
	goto done;
rollback:
	pts_db_rollback(w->db);
done:
	job_cw_free(&cw);
	pts_plex_close(c);
	return pts_job_end(w, rc);
}

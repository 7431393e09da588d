/*
 * engine.c - the watched-state sync (docs/DESIGN.md, "The sync, in API calls").
 *
 *   checking   Trakt last_activities + a count of new Plex views per library: when nothing
 *              moved since the last good run, stop here (incremental run, few calls)
 *   settling   earlier Trakt batches with an unknown outcome are checked in its history
 *   counting   one count-only call per library: the exact total before any item is read
 *   reading    Trakt's whole watched state (every page), indexed by id
 *   scanning   each library page by page with guids; every item matched and decided
 *   writing    Trakt history in batches through the ledger; Plex marks one by one
 *
 * The optional features (ratings, watchlist, playback progress: feature.h) ride along: they
 * read their Trakt lists after the watched state, see each library and matched item as it is
 * scanned, and write after the watched writes. The incremental check (incremental.h) looks
 * at every kind that is on: when none moved the run stops there; when some did, a feature
 * whose kind did not is left out (its list is not read), and with sync_watched off only the
 * features run.
 */
#include "engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "db.h"
#include "feature.h"
#include "http.h"
#include "idindex.h"
#include "incremental.h"
#include "idmap.h"
#include "ledger.h"
#include "log.h"
#include "paths.h"
#include "plan.h"
#include "playwrite.h"
#include "plex.h"
#include "reconcile.h"
#include "settings.h"
#include "sync_playback.h"
#include "sync_ratings.h"
#include "trakt.h"
#include "utf8.h"

/* Libraries one sync covers. */
#define ENGINE_MAX_LIBS 64
/* Unmatched items named one by one in the log; the rest are counted. */
#define ENGINE_LOG_UNMATCHED 50
/* Longest item label shown as the current item. */
#define ENGINE_LABEL_MAX 300

struct eng_lib {
	char key[PTS_PLEX_KEY_LEN];
	char title[PTS_PLEX_TITLE_LEN];
	int is_show;
	int64_t total;
};

/* A show of a Plex library: its ratingKey and ids (episodes find their show here). */
struct eng_show {
	char *rating_key;
	struct pts_ids ids;
	char *guid;                  /* plex:// of a new-agent show (for the id index), or NULL */
};

struct engine {
	struct pts_wctx *w;
	struct pts_run *run;
	struct pts_plex *plex;
	struct pts_trakt *trakt;
	int to_trakt, to_plex;
	struct eng_lib libs[ENGINE_MAX_LIBS];
	int nlibs;
	int libs_guessed;           /* libs came from the checkpoint, not Plex */
	struct pts_trakt_movies movies;
	struct pts_trakt_shows shows;
	struct pts_idx movie_idx, show_idx, ep_idx;
	struct eng_show *pshows;     /* the current show library's shows, sorted by rating key */
	size_t npshows, pshows_cap;
	struct pts_plan add_trakt, mark_plex;
	int64_t unmatched_logged;
	int failed;                  /* a callback hit an error (out of memory) */
	int watched;                 /* sync_watched: plan watched changes */
	int64_t views_since;         /* Plex views from this time on are new (the checkpoint's
	                              * plex_since); 0: no good sync before, no rewatches */
	struct pts_feat_set feats;   /* the optional features that are on */
};

/* Bytes of a library's name quoted in a run's message: the cause after it must fit too. */
#define ENGINE_NAME_IN_MSG 64

/* name cut to ENGINE_NAME_IN_MSG bytes at a character boundary, "..." marking a cut. */
static const char *
eng_short(const char *name, char *buf, size_t len)
{
	size_t n = pts_utf8_cut_len(name, strlen(name), ENGINE_NAME_IN_MSG);

	snprintf(buf, len, "%.*s%s", (int)n, name, name[n] != '\0' ? "..." : "");
	return buf;
}

/* Log a run-level failure and keep the first one as the run's message. */
static void eng_fail(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
eng_fail(struct engine *e, const char *fmt, ...)
{
	char msg[PTS_RUN_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pts_utf8_trim(msg);   /* it may name a title or an upstream error: cut whole characters */
	PTS_ERROR("%s", msg);
	if (e->run->message[0] == '\0')
		snprintf(e->run->message, sizeof(e->run->message), "%s", msg);
}

/* ==== Setup ==== */

/*
 * The libraries of the last good run, from the checkpoint ("key:m,key:s"): lets a no-change
 * resync skip asking Plex for its sections. 1 when some were read, else 0.
 */
static int
eng_libraries_from_ckpt(struct engine *e, const struct pts_ckpt *ck)
{
	const char *p = ck->libs;

	while (*p != '\0' && e->nlibs < ENGINE_MAX_LIBS) {
		size_t klen = strcspn(p, ":,");
		struct eng_lib *l = &e->libs[e->nlibs];

		if (klen == 0 || klen >= sizeof(l->key) || p[klen] != ':' ||
		    (p[klen + 1] != 'm' && p[klen + 1] != 's')) {
			e->nlibs = 0;
			return 0;
		}
		memcpy(l->key, p, klen);
		l->key[klen] = '\0';
		snprintf(l->title, sizeof(l->title), "library %.*s", (int)klen, p);
		l->is_show = p[klen + 1] == 's';
		e->nlibs++;
		p += klen + 2;
		if (*p == ',')
			p++;
	}
	return e->nlibs > 0;
}

/*
 * The libraries to sync: those chosen in Settings, else every movie and show library of the
 * server. With ck (a quick check may follow), nothing chosen is answered from the checkpoint
 * instead of Plex; e->libs_guessed then says a full run must call this again without ck.
 */
static int
eng_libraries(struct engine *e, const struct pts_ckpt *ck)
{
	sqlite3_stmt *st = pts_db_prepare(e->w->db, "SELECT key, title, type FROM libraries"
	    " WHERE selected = 1 AND present = 1 AND type IN ('movie','show') ORDER BY key");
	struct pts_plex_section *secs = NULL;
	size_t n = 0, i;

	e->nlibs = 0;
	e->libs_guessed = 0;
	if (st == NULL)
		return -1;
	while (e->nlibs < ENGINE_MAX_LIBS && sqlite3_step(st) == SQLITE_ROW) {
		struct eng_lib *l = &e->libs[e->nlibs++];

		snprintf(l->key, sizeof(l->key), "%s", sqlite3_column_text(st, 0));
		pts_utf8_copy(l->title, sizeof(l->title), (const char *)sqlite3_column_text(st, 1));
		l->is_show = strcmp((const char *)sqlite3_column_text(st, 2), "show") == 0;
	}
	sqlite3_finalize(st);
	if (e->nlibs > 0)
		return 0;
	if (ck != NULL && eng_libraries_from_ckpt(e, ck)) {
		e->libs_guessed = 1;
		return 0;
	}
	/* Nothing picked: every movie and show library of the server. */
	if (pts_plex_sections(e->plex, &secs, &n) != PTS_HTTP_OK) {
		eng_fail(e, "cannot list Plex's libraries: %s", pts_http_last_error());
		return -1;
	}
	for (i = 0; i < n && e->nlibs < ENGINE_MAX_LIBS; i++) {
		struct eng_lib *l;

		if (strcmp(secs[i].type, "movie") != 0 && strcmp(secs[i].type, "show") != 0)
			continue;
		l = &e->libs[e->nlibs++];
		snprintf(l->key, sizeof(l->key), "%s", secs[i].key);
		pts_utf8_copy(l->title, sizeof(l->title), secs[i].title);
		l->is_show = strcmp(secs[i].type, "show") == 0;
	}
	free(secs);
	PTS_INFO("no libraries chosen in Settings: syncing all %d movie and show libraries",
	    e->nlibs);
	return 0;
}

static void
eng_libs_key(const struct engine *e, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < e->nlibs && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s:%c", i ? "," : "", e->libs[i].key,
		    e->libs[i].is_show ? 's' : 'm');

		if (n > 0)
			off += (size_t)n;
	}
}

/* ==== Incremental check ==== */

/*
 * 1 when nothing of the kinds in want (PTS_CKPT_* bits) can have changed since the
 * checkpoint (the run may stop), 0 when some did (*moved says which), -1 on error. *acts
 * gets Trakt's activities (when read).
 */
static int
eng_unchanged(struct engine *e, const struct pts_ckpt *ck, unsigned want,
    struct pts_trakt_activities *acts, unsigned *moved)
{
	char libs[PTS_CKPT_LIBS_LEN], *dir = pts_settings_get_str(e->w->db, PTS_KEY_SYNC_DIRECTION);
	int same;

	*moved = want;
	eng_libs_key(e, libs, sizeof(libs));
	same = dir && strcmp(dir, ck->direction) == 0 && strcmp(libs, ck->libs) == 0 &&
	    pts_now() - ck->full_at < PTS_CKPT_FULL_EVERY_S;
	free(dir);
	if (!same)
		return 0;
	if (pts_incr_moved(e->w->db, e->plex, e->trakt, ck, want, acts, moved) != PTS_HTTP_OK)
		return -1;
	return *moved == 0 ? 1 : 0;
}

/* ==== Trakt's watched state ==== */

static int
eng_read_trakt(struct engine *e)
{
	size_t i, j;

	if (pts_trakt_watched_movies(e->trakt, &e->movies) != PTS_HTTP_OK ||
	    pts_trakt_watched_shows(e->trakt, &e->shows) != PTS_HTTP_OK) {
		eng_fail(e, "cannot read the watched state from Trakt: %s", pts_http_last_error());
		return -1;
	}
	if (pts_idx_init(&e->movie_idx, e->movies.n * 3) != 0 ||
	    pts_idx_init(&e->show_idx, e->shows.n * 4) != 0 ||
	    pts_idx_init(&e->ep_idx, e->shows.neps) != 0)
		return -1;
	for (i = 0; i < e->movies.n; i++)
		if (pts_idx_put_ids(&e->movie_idx, &e->movies.v[i].ids, (int32_t)i) != 0)
			return -1;
	for (i = 0; i < e->shows.n; i++) {
		const struct pts_trakt_show *s = &e->shows.v[i];

		if (pts_idx_put_ids(&e->show_idx, &s->ids, (int32_t)i) != 0)
			return -1;
		for (j = s->ep_first; j < s->ep_first + s->ep_count; j++)
			if (e->shows.eps[j].plays > 0 &&
			    pts_idx_put(&e->ep_idx, PTS_IDX_EPISODE, pts_idx_episode((int32_t)i,
			    e->shows.eps[j].season, e->shows.eps[j].number), (int32_t)j) != 0)
				return -1;
	}
	PTS_INFO("Trakt: %zu watched movies, %zu shows with %zu watched episodes", e->movies.n,
	    e->shows.n, e->shows.neps);
	return 0;
}

/* 1 when Trakt has a play of this movie / episode. */
static int
eng_trakt_movie_watched(const struct engine *e, const struct pts_ids *ids)
{
	int32_t pos = pts_idx_get_ids(&e->movie_idx, ids);

	return pos >= 0 && e->movies.v[pos].plays > 0;
}

static int
eng_trakt_episode_watched(const struct engine *e, const struct pts_ids *show, int season,
    int episode)
{
	int32_t pos = pts_idx_get_ids(&e->show_idx, show);

	return pos >= 0 && pts_idx_get(&e->ep_idx, PTS_IDX_EPISODE,
	    pts_idx_episode(pos, season, episode)) >= 0;
}

/* ==== Scanning Plex ==== */

static void
eng_unmatched(struct engine *e, const struct pts_plex_item *it)
{
	e->run->unmatched++;
	if (e->unmatched_logged++ < ENGINE_LOG_UNMATCHED)
		PTS_INFO("unmatched (no usable id): %s%s%s", it->grandparent_title ?
		    it->grandparent_title : "", it->grandparent_title ? " - " : "",
		    it->title ? it->title : "(untitled)");
	else if (e->unmatched_logged == ENGINE_LOG_UNMATCHED + 1)
		PTS_INFO("more unmatched items: counted, not named");
}

static void
eng_progress_item(struct engine *e, const struct pts_plex_item *it, int is_episode)
{
	char label[ENGINE_LABEL_MAX];

	if (is_episode)
		snprintf(label, sizeof(label), "%s S%02dE%02d %s", it->grandparent_title ?
		    it->grandparent_title : "", it->season, it->episode, it->title ? it->title : "");
	else if (it->year > 0)
		snprintf(label, sizeof(label), "%s (%d)", it->title ? it->title : "", it->year);
	else
		snprintf(label, sizeof(label), "%s", it->title ? it->title : "");
	pts_utf8_trim(label);
	pts_progress_item(&e->run->progress, label);
	pts_progress_advance(&e->run->progress, 1);
	(void)pts_progress_flush(&e->run->progress, 0);
}

static int64_t eng_last_watched(void *ctx, enum pts_feat_kind kind, const struct pts_ids *ids,
    int season, int episode);

/*
 * 1 when Plex's last view of an item Trakt has as watched is a viewing Trakt lacks (a
 * rewatch): new since the last good sync looked (so our own marks in Plex and views it has
 * already weighed never count), later than Trakt's last play of it and not the same viewing
 * as that play (ledger.h's window, from the watched state already read: no extra call). A
 * play another app, the live scrobbler or a webhook put on Trakt minutes before Plex stamped
 * its view is that same viewing; a view hours later is a second play.
 */
static int
eng_rewatch(struct engine *e, const struct pts_plex_item *it, const struct pts_ids *ids,
    int season, int episode)
{
	int64_t last;

	if (e->views_since <= 0 || it->last_viewed_at < e->views_since)
		return 0;
	last = eng_last_watched(e, season >= 0 ? PTS_FEAT_EPISODE : PTS_FEAT_MOVIE, ids, season,
	    episode);
	if (last <= 0 || last >= it->last_viewed_at ||
	    pts_ledger_same_viewing_at(last, it->last_viewed_at, it->duration / 1000))
		return 0;
	/* A view our own mark stamped (sync_direction both) is no viewing at all. */
	return pts_ledger_plex_marked(e->w->db, it->rating_key, it->last_viewed_at) == 0;
}

/* Decide one matched item. ids: the movie's or the show's; season/episode -1 for movies. */
static int
eng_decide(struct engine *e, const struct pts_plex_item *it, const struct pts_ids *ids,
    int season, int episode)
{
	struct pts_plan_entry pe;
	int on_trakt, is_ep = season >= 0;

	memset(&pe, 0, sizeof(pe));
	pe.kind = is_ep ? PTS_PLAN_EPISODE : PTS_PLAN_MOVIE;
	pe.ids = *ids;
	pe.season = season;
	pe.episode = episode;
	pe.year = it->year;
	pe.title = (char *)it->title;
	pe.show = is_ep ? (char *)it->grandparent_title : NULL;
	pe.run_s = it->duration > 0 ? it->duration / 1000 : 0;
	if ((is_ep ? pts_ledger_key_episode(ids, season, episode, pe.key, sizeof(pe.key))
	    : pts_ledger_key_movie(ids, pe.key, sizeof(pe.key))) != 0) {
		eng_unmatched(e, it);
		return 0;
	}
	if (pts_feat_item(&e->feats, is_ep ? PTS_FEAT_EPISODE : PTS_FEAT_MOVIE, it, ids, season,
	    episode, pe.key) != 0)
		return -1;
	if (!e->watched)
		return 0;
	on_trakt = is_ep ? eng_trakt_episode_watched(e, ids, season, episode)
	    : eng_trakt_movie_watched(e, ids);
	if (it->view_count > 0 && e->to_trakt && (!on_trakt ||
	    eng_rewatch(e, it, ids, season, episode))) {
		/* Plex shows a view count with no time for some imports: use the added time. */
		pe.watched_at = it->last_viewed_at > 0 ? it->last_viewed_at : it->added_at;
		if (pe.watched_at <= 0)
			pe.watched_at = pts_now();
		return pts_plan_add(&e->add_trakt, &pe);
	}
	if (it->view_count == 0 && on_trakt && e->to_plex) {
		pe.rating_key = (char *)it->rating_key;
		/* One key per Plex item: two copies of a movie are two marks. */
		snprintf(pe.key, sizeof(pe.key), "plex:%s", it->rating_key);
		return pts_plan_add(&e->mark_plex, &pe);
	}
	return 0;
}

static int
eng_on_movie(void *ctx, const struct pts_plex_item *it)
{
	struct engine *e = ctx;

	if (pts_wctx_cancelled(e->w))
		return 1;
	eng_progress_item(e, it, 0);
	if (pts_ids_empty(&it->ids)) {
		eng_unmatched(e, it);
		return 0;
	}
	if (eng_decide(e, it, &it->ids, -1, -1) != 0) {
		e->failed = 1;
		return 1;
	}
	return 0;
}

static int
eng_show_cmp(const void *a, const void *b)
{
	return strcmp(((const struct eng_show *)a)->rating_key,
	    ((const struct eng_show *)b)->rating_key);
}

static int
eng_on_show(void *ctx, const struct pts_plex_item *it)
{
	struct engine *e = ctx;
	struct eng_show *s;

	if (pts_wctx_cancelled(e->w))
		return 1;
	if (e->npshows == e->pshows_cap) {
		size_t cap = e->pshows_cap ? e->pshows_cap * 2 : 64;
		struct eng_show *v = realloc(e->pshows, cap * sizeof(*v));

		if (v == NULL) {
			e->failed = 1;
			return 1;
		}
		e->pshows = v;
		e->pshows_cap = cap;
	}
	s = &e->pshows[e->npshows];
	s->rating_key = strdup(it->rating_key);
	if (s->rating_key == NULL) {
		e->failed = 1;
		return 1;
	}
	s->ids = it->ids;
	s->guid = it->guid_kind == PTS_GUID_PLEX ? strdup(it->guid) : NULL;
	/* Legacy shows name their id in guid itself. */
	if (pts_ids_empty(&s->ids))
		(void)pts_guid_merge(it->guid, &s->ids);
	e->npshows++;
	if (!pts_ids_empty(&s->ids) && pts_feat_item(&e->feats, PTS_FEAT_SHOW, it, &s->ids, -1, -1,
	    NULL) != 0) {
		e->failed = 1;
		return 1;
	}
	return 0;
}

static void
eng_shows_free(struct engine *e)
{
	size_t i;

	for (i = 0; i < e->npshows; i++) {
		free(e->pshows[i].rating_key);
		free(e->pshows[i].guid);
	}
	e->npshows = 0;
}

/*
 * The library's new-agent shows into the id index (idmap.h), so the live scrobbler matches
 * their episodes without asking the server. A failure only costs those requests later.
 */
static void
eng_shows_index(struct engine *e)
{
	struct pts_idmap_entry *v;
	size_t i, n = 0;

	if (e->npshows == 0 || (v = calloc(e->npshows, sizeof(*v))) == NULL)
		return;
	for (i = 0; i < e->npshows; i++) {
		if (e->pshows[i].guid == NULL)
			continue;
		v[n].guid = e->pshows[i].guid;
		v[n++].ids = e->pshows[i].ids;
	}
	if (n > 0)
		(void)pts_idmap_put(e->w->db, "show", v, n, pts_now());
	free(v);
}

static int
eng_on_episode(void *ctx, const struct pts_plex_item *it)
{
	struct engine *e = ctx;
	struct pts_ids show = it->show_ids;

	if (pts_wctx_cancelled(e->w))
		return 1;
	eng_progress_item(e, it, 1);
	if (pts_ids_empty(&show) && it->grandparent_rating_key != NULL) {
		struct eng_show key = { (char *)it->grandparent_rating_key, { 0, 0, 0, "" }, NULL };
		struct eng_show *s = bsearch(&key, e->pshows, e->npshows, sizeof(*s), eng_show_cmp);

		if (s != NULL)
			show = s->ids;
	}
	if (pts_ids_empty(&show) || it->season < 0 || it->episode < 0) {
		eng_unmatched(e, it);
		return 0;
	}
	if (eng_decide(e, it, &show, it->season, it->episode) != 0) {
		e->failed = 1;
		return 1;
	}
	return 0;
}

/* A season (ratings only): matched by its show, found by parentRatingKey among the shows. */
static int
eng_on_season(void *ctx, const struct pts_plex_item *it)
{
	struct engine *e = ctx;
	struct eng_show key = { (char *)it->parent_rating_key, { 0, 0, 0, "" }, NULL };
	struct eng_show *s;

	if (pts_wctx_cancelled(e->w))
		return 1;
	if (it->parent_rating_key == NULL || it->season < 0)
		return 0;
	s = bsearch(&key, e->pshows, e->npshows, sizeof(*s), eng_show_cmp);
	if (s == NULL || pts_ids_empty(&s->ids))
		return 0;
	if (pts_feat_item(&e->feats, PTS_FEAT_SEASON, it, &s->ids, it->season, -1, NULL) != 0) {
		e->failed = 1;
		return 1;
	}
	return 0;
}

/* List one library. A job result. */
static int
eng_scan_library(struct engine *e, struct eng_lib *l)
{
	enum pts_http_result r;

	pts_progress_library(&e->run->progress, l->title, l->total);
	PTS_INFO("scanning %s (%lld %s)", l->title, (long long)l->total,
	    l->is_show ? "episodes" : "movies");
	pts_feat_library(&e->feats, l->key, l->is_show);
	if (l->is_show) {
		eng_shows_free(e);
		r = pts_plex_list(e->plex, l->key, PTS_PLEX_TYPE_SHOW, NULL, eng_on_show, e, NULL);
		if (r == PTS_HTTP_OK) {
			qsort(e->pshows, e->npshows, sizeof(*e->pshows), eng_show_cmp);
			eng_shows_index(e);
			r = pts_plex_list(e->plex, l->key, PTS_PLEX_TYPE_EPISODE, NULL, eng_on_episode,
			    e, NULL);
		}
		/* Seasons are rated too (and nothing else of theirs is synced). */
		if (r == PTS_HTTP_OK && pts_feat_has(&e->feats, PTS_CKPT_RATINGS))
			r = pts_plex_list(e->plex, l->key, PTS_PLEX_TYPE_SEASON, NULL, eng_on_season, e,
			    NULL);
	} else {
		r = pts_plex_list(e->plex, l->key, PTS_PLEX_TYPE_MOVIE, NULL, eng_on_movie, e, NULL);
	}
	if (e->failed) {
		PTS_ERROR("out of memory while scanning %s", l->title);
		return PTS_JOB_FAILED;
	}
	if (r == PTS_HTTP_CANCELLED || pts_wctx_cancelled(e->w))
		return PTS_JOB_CANCELLED;
	if (r != PTS_HTTP_OK) {
		char name[ENGINE_NAME_IN_MSG + 4];

		eng_fail(e, "cannot read library %s from Plex: %s", eng_short(l->title, name,
		    sizeof(name)), pts_http_last_error()[0] ? pts_http_last_error() :
		    pts_http_result_name(r));
		return PTS_JOB_FAILED;
	}
	return PTS_JOB_DONE;
}

/* ==== Features ==== */

/* Trakt's last play of a movie or episode, from the watched state (feature.h). */
static int64_t
eng_last_watched(void *ctx, enum pts_feat_kind kind, const struct pts_ids *ids, int season,
    int episode)
{
	struct engine *e = ctx;
	int32_t pos, ep;

	if (kind == PTS_FEAT_MOVIE) {
		pos = pts_idx_get_ids(&e->movie_idx, ids);
		return pos >= 0 ? e->movies.v[pos].last_watched_at : 0;
	}
	if (kind != PTS_FEAT_EPISODE || (pos = pts_idx_get_ids(&e->show_idx, ids)) < 0)
		return 0;
	ep = pts_idx_get(&e->ep_idx, PTS_IDX_EPISODE, pts_idx_episode(pos, season, episode));
	return ep >= 0 ? e->shows.eps[ep].last_watched_at : 0;
}

/* Open the features that are on but those in skip (each reads its Trakt list). 0, or 1
 * when cancelled. */
static int
eng_features_open(struct engine *e, unsigned skip)
{
	struct pts_feat_env env;

	memset(&env, 0, sizeof(env));
	env.w = e->w;
	env.run = e->run;
	env.plex = e->plex;
	env.trakt = e->trakt;
	env.to_trakt = e->to_trakt;
	env.to_plex = e->to_plex;
	env.last_watched = eng_last_watched;
	env.ctx = e;
	(void)pts_feat_open(&e->feats, &env, skip);
	return pts_wctx_cancelled(e->w) ? 1 : 0;
}

/* ==== The run ==== */

static void
eng_free(struct engine *e)
{
	pts_feat_close(&e->feats);
	eng_shows_free(e);
	free(e->pshows);
	pts_plan_free(&e->add_trakt);
	pts_plan_free(&e->mark_plex);
	pts_idx_free(&e->movie_idx);
	pts_idx_free(&e->show_idx);
	pts_idx_free(&e->ep_idx);
	pts_trakt_movies_free(&e->movies);
	pts_trakt_shows_free(&e->shows);
	pts_trakt_close(e->trakt);
	pts_plex_close(e->plex);
}

/* Counting: one size-0 call per library gives the exact total. */
static int
eng_count(struct engine *e)
{
	int i;

	e->run->progress.overall_total = 0;
	for (i = 0; i < e->nlibs; i++) {
		struct eng_lib *l = &e->libs[i];

		if (pts_plex_count(e->plex, l->key, l->is_show ? PTS_PLEX_TYPE_EPISODE :
		    PTS_PLEX_TYPE_MOVIE, NULL, &l->total) != PTS_HTTP_OK) {
			char name[ENGINE_NAME_IN_MSG + 4];

			eng_fail(e, "cannot count the items of %s: %s", eng_short(l->title, name,
			    sizeof(name)), pts_http_last_error());
			return -1;
		}
		e->run->progress.overall_total += l->total;
	}
	(void)pts_progress_flush(&e->run->progress, 1);
	PTS_INFO("%lld items in %d libraries", (long long)e->run->progress.overall_total, e->nlibs);
	return 0;
}

/*
 * Where the next quick check counts Plex's stamps from: this run's start, or just after our
 * last write to Plex (Plex stamps our marks, ratings and positions too; it stamps seconds).
 * Views and ratings made by someone else during the run before then, or in the same second
 * as that write, are left to the next full read (PTS_CKPT_FULL_EVERY_S). 0 or -1.
 */
static int
eng_plex_since(struct engine *e, int64_t started, struct pts_ckpt *ck)
{
	int64_t last = 0;

	if (pts_db_int(e->w->db, &last, 0, "SELECT MAX(settled_at) FROM changes WHERE run_id = ?"
	    " AND result = ? AND action IN (?, ?, ?)", "issss", e->run->id,
	    pts_ledger_result_name(PTS_LEDGER_DONE), PTS_ACT_MARK_WATCHED_PLEX, PTS_ACT_RATE_PLEX,
	    PTS_ACT_PLAYBACK_PLEX) != 0)
		return -1;
	ck->plex_since = last >= started ? last + 1 : started;
	return 0;
}

/*
 * The checkpoint for the next (incremental) run, after a good one: the kinds now in step
 * with their marks. A kind left out (want & ~moved) keeps its marks; one that ran takes
 * Trakt's stamps after our writes. Plays Trakt refused (refused) leave watched out of step,
 * so the next run reads them again; so does a feature that did not end clean.
 */
static void
eng_checkpoint(struct engine *e, const struct pts_ckpt *old, struct pts_trakt_activities *acts,
    unsigned want, unsigned moved, int64_t started, int refused)
{
	unsigned kept = old != NULL ? want & ~moved & old->kinds : 0;
	struct pts_ckpt ck;
	int64_t nchanges = 0;
	char *dir;

	memset(&ck, 0, sizeof(ck));
	ck.kinds = kept | (e->feats.done & want & moved);
	if (e->watched && !refused)
		ck.kinds |= PTS_CKPT_WATCHED;
	/* Our own writes moved Trakt's stamps: read them after. */
	if (pts_db_int(e->w->db, &nchanges, 0, "SELECT COUNT(*) FROM changes WHERE run_id = ?",
	    "i", e->run->id) != 0)
		return;
	if ((nchanges > 0 || acts->all == 0) &&
	    pts_trakt_last_activities(e->trakt, acts) != PTS_HTTP_OK)
		return;
	ck.movies_watched_at = acts->movies_watched_at;
	ck.episodes_watched_at = acts->episodes_watched_at;
	/* A kind left out keeps its marks (a change made meanwhile still shows next time). */
	ck.ratings_at = kept & PTS_CKPT_RATINGS ? old->ratings_at :
	    pts_incr_trakt_mark(acts, PTS_CKPT_RATINGS);
	ck.watchlist_at = kept & PTS_CKPT_WATCHLIST ? old->watchlist_at :
	    pts_incr_trakt_mark(acts, PTS_CKPT_WATCHLIST);
	ck.playback_at = kept & PTS_CKPT_PLAYBACK ? old->playback_at :
	    pts_incr_trakt_mark(acts, PTS_CKPT_PLAYBACK);
	if (kept & PTS_CKPT_WATCHLIST) {
		ck.pwl_total = old->pwl_total;
		ck.pwl_newest = old->pwl_newest;
	} else if ((ck.kinds & PTS_CKPT_WATCHLIST) && pts_incr_account_watchlist(e->w->db) &&
	    pts_incr_pwl_marks(e->plex, &ck.pwl_total, &ck.pwl_newest) != PTS_HTTP_OK) {
		ck.kinds &= ~PTS_CKPT_WATCHLIST;
	}
	if (eng_plex_since(e, started, &ck) != 0)
		return;
	/* A run that left features out was no full read: the one due still comes. */
	ck.full_at = (kept & PTS_FEAT_KINDS) != 0 ? old->full_at : started;
	pts_incr_feat_cfg(e->w->db, ck.feat_cfg, sizeof(ck.feat_cfg));
	eng_libs_key(e, ck.libs, sizeof(ck.libs));
	dir = pts_settings_get_str(e->w->db, PTS_KEY_SYNC_DIRECTION);
	snprintf(ck.direction, sizeof(ck.direction), "%s", dir ? dir : "");
	free(dir);
	(void)pts_ckpt_store(e->w->db, &ck);
}

static int
eng_sync(struct engine *e)
{
	struct pts_trakt_activities acts;
	struct pts_ckpt ck;
	struct pts_pw pw = { e->w, e->run, e->trakt, e->plex, &e->add_trakt, &e->mark_plex };
	char *dir;
	int64_t started = pts_now(), last_mark = 0;
	int rc, i, have_ck, quick, refused = 0;
	unsigned want = (e->watched ? PTS_CKPT_WATCHED : 0) | pts_feat_enabled_kinds(e->w->db);
	unsigned moved = want;

	memset(&acts, 0, sizeof(acts));
	dir = pts_settings_get_str(e->w->db, PTS_KEY_SYNC_DIRECTION);
	e->to_trakt = dir && (strcmp(dir, "plex_to_trakt") == 0 || strcmp(dir, "both") == 0);
	e->to_plex = dir && (strcmp(dir, "trakt_to_plex") == 0 || strcmp(dir, "both") == 0);
	free(dir);

	pts_progress_phase(&e->run->progress, "checking");
	if (pts_trakt_ensure_token(e->trakt) != PTS_HTTP_OK) {
		if (pts_http_last_was_redirect())
			eng_fail(e, "cannot refresh the Trakt sign-in: %s", pts_http_last_error());
		else
			eng_fail(e, "Trakt is not signed in (or the sign-in expired): authorize Trakt"
			    " in Settings");
		return PTS_JOB_FAILED;
	}
	have_ck = pts_ckpt_load(e->w->db, &ck);
	e->views_since = have_ck == 1 ? ck.plex_since : 0;
	quick = have_ck == 1 && !e->run->full;
	if (eng_libraries(e, quick ? &ck : NULL) != 0)
		return PTS_JOB_FAILED;
	if (quick) {
		rc = eng_unchanged(e, &ck, want, &acts, &moved);
		if (rc == 1) {
			/* The checkpoint stays as it is: its Plex counts still hold. */
			PTS_INFO("nothing changed on Plex or Trakt since the last sync: done");
			return PTS_JOB_DONE;
		}
		if (pts_wctx_cancelled(e->w))
			return PTS_JOB_CANCELLED;
		if (rc < 0)
			return PTS_JOB_FAILED;
		/* Something changed: the full run reads the server's real library list. */
		if (e->libs_guessed && eng_libraries(e, NULL) != 0)
			return PTS_JOB_FAILED;
	}

	if (!e->run->dry_run) {
		pts_progress_phase(&e->run->progress, "settling");
		if (pts_reconcile_all(e->w, e->trakt, e->run) < 0)
			return PTS_JOB_FAILED;
	}
	if (pts_wctx_cancelled(e->w))
		return PTS_JOB_CANCELLED;

	pts_progress_phase(&e->run->progress, "counting");
	if (eng_count(e) != 0)
		return PTS_JOB_FAILED;
	if (pts_wctx_cancelled(e->w))
		return PTS_JOB_CANCELLED;

	pts_progress_phase(&e->run->progress, "reading");
	if (eng_read_trakt(e) != 0)
		return pts_wctx_cancelled(e->w) ? PTS_JOB_CANCELLED : PTS_JOB_FAILED;
	if (eng_features_open(e, want & ~moved) != 0)
		return PTS_JOB_CANCELLED;

	pts_progress_phase(&e->run->progress, "scanning");
	for (i = 0; i < e->nlibs; i++) {
		rc = eng_scan_library(e, &e->libs[i]);
		if (rc != PTS_JOB_DONE)
			return rc;
	}
	pts_plan_dedupe(&e->add_trakt);
	(void)pts_progress_flush(&e->run->progress, 1);
	PTS_INFO("plan: %zu plays to add to Trakt, %zu items to mark watched in Plex,"
	    " %lld unmatched", e->add_trakt.n, e->mark_plex.n, (long long)e->run->unmatched);

	pts_progress_phase(&e->run->progress, "writing");
	if (e->run->dry_run) {
		rc = pts_pw_record_planned(&pw);
		return rc == 0 ? pts_feat_apply(&e->feats) : PTS_JOB_FAILED;
	}
	if (pts_pw_filter_blocked(&pw, &e->add_trakt) != 0)
		return PTS_JOB_FAILED;
	rc = pts_pw_write_trakt(&pw, &refused);
	if (rc == PTS_JOB_DONE)
		rc = pts_pw_write_plex(&pw, &last_mark);
	if (rc == PTS_JOB_DONE)
		rc = pts_feat_apply(&e->feats);
	if (rc == PTS_JOB_DONE)
		eng_checkpoint(e, have_ck == 1 ? &ck : NULL, &acts, want, moved, started, refused);
	return rc;
}

int
pts_engine_run(struct pts_wctx *w, struct pts_run *run)
{
	struct engine *e;
	int rc;

	if (pts_wctx_cancelled(w))
		return PTS_JOB_CANCELLED;
	if (!pts_settings_get_bool(w->db, PTS_KEY_SYNC_WATCHED) && !pts_feat_any_enabled(w->db)) {
		PTS_INFO("watched-state sync is off in Settings: nothing to do");
		return PTS_JOB_DONE;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return PTS_JOB_FAILED;
	e->w = w;
	e->run = run;
	e->watched = pts_settings_get_bool(w->db, PTS_KEY_SYNC_WATCHED);
	e->plex = pts_plex_open(w);
	e->trakt = e->plex ? pts_trakt_open(w) : NULL;
	if (e->plex == NULL || e->trakt == NULL) {
		eng_fail(e, "Plex and Trakt must both be set up in Settings before a sync");
		eng_free(e);
		free(e);
		return PTS_JOB_FAILED;
	}
	rc = eng_sync(e);
	/* A step that failed because the job was stopped (an aborted transfer) was a stop. */
	if (rc == PTS_JOB_FAILED && pts_wctx_cancelled(w))
		rc = PTS_JOB_CANCELLED;
	pts_meter_flush(w->db, 1);
	eng_free(e);
	free(e);
	return rc;
}

/*
 * sync_playback.c - the playback progress feature.
 */
#include "sync_playback.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "plex_lists.h"
#include "plex_seen.h"

#define PB_GROUP_LEN (PTS_LEDGER_KEY_LEN + 24)

/* One Plex movie or episode with a position on either side. */
struct pb_obs {
	char group[PB_GROUP_LEN];    /* "t:<pos>" when Trakt has a position, else the item key */
	char key[PTS_LEDGER_KEY_LEN];
	size_t seq;
	enum pts_feat_kind kind;
	struct pts_ids ids;
	int season, episode, year;
	char *rating_key, *title, *show;
	int64_t duration;            /* ms */
	double pct;                  /* Plex's position in percent; -1 none (or outside range) */
	int64_t at;                  /* Plex's time of it: max(lastViewedAt, first seen); 0 unknown */
	int64_t trakt_last;          /* Trakt's last play of the item; 0 none */
	int32_t tpos;
};

struct playback {
	struct pts_feat_env env;
	struct pts_tlist trakt;
	struct pts_feat_index idx;
	struct pts_seen seen;
	struct pb_obs *v;
	size_t n, cap;
	int64_t changed;
};

/* A write: to Trakt (the best copy's position) or to one Plex copy (Trakt's). */
struct pb_write {
	struct pb_obs *o;
	int to_plex;
	double pct, was;             /* was < 0: none */
	int64_t at;                  /* Trakt's paused_at (Plex writes) */
};

static int
pb_in_range(double pct)
{
	return pct >= PTS_PLAYBACK_MIN_PCT && pct < PTS_PLAYBACK_MAX_PCT;
}

static void
pb_close(void *p)
{
	struct playback *s = p;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->v[i].rating_key);
		free(s->v[i].title);
		free(s->v[i].show);
	}
	free(s->v);
	pts_tlist_free(&s->trakt);
	pts_feat_index_free(&s->idx);
	pts_seen_free(&s->seen);
	free(s);
}

static int
pb_open(const struct pts_feat_env *env, void **state)
{
	struct playback *s = calloc(1, sizeof(*s));
	enum pts_http_result r;
	size_t i, out = 0;

	if (s == NULL)
		return -1;
	s->env = *env;
	r = pts_tlist_playback(env->trakt, &s->trakt);
	if (r != PTS_HTTP_OK) {
		PTS_ERROR("playback: cannot read the playback progress from Trakt (%s)",
		    pts_http_result_name(r));
		goto fail;
	}
	/* Only resume points we sync: movies and episodes within the range. */
	for (i = 0; i < s->trakt.n; i++) {
		const struct pts_tlist_entry *e = &s->trakt.v[i];

		if ((e->kind == PTS_TLIST_MOVIE || e->kind == PTS_TLIST_EPISODE) &&
		    pb_in_range(e->progress) && e->at > 0)
			s->trakt.v[out++] = *e;
	}
	s->trakt.n = out;
	if (pts_feat_index_build(&s->idx, &s->trakt) != 0 ||
	    pts_seen_open(&s->seen, env->w->db, "offset", 0.5) != 0)
		goto fail;
	PTS_INFO("playback: %zu resume points on Trakt", s->trakt.n);
	*state = s;
	return 0;
fail:
	pb_close(s);
	return -1;
}

static int
pb_library(void *p, const char *section, int is_show)
{
	struct playback *s = p;

	(void)is_show;
	return pts_seen_section(&s->seen, s->env.w->db, section, pts_now());
}

static int
pb_item(void *p, const struct pts_feat_item *it)
{
	struct playback *s = p;
	const struct pts_plex_item *pi = it->plex;
	double pct = -1;
	int64_t seen, last = 0, at;
	int32_t tpos;
	struct pb_obs *o;

	if (it->kind == PTS_FEAT_SHOW || pi->duration <= 0)
		return 0;
	if (pi->view_offset > 0 && pi->view_offset < pi->duration) {
		pct = (double)pi->view_offset * 100.0 / (double)pi->duration;
		if (!pb_in_range(pct))
			pct = -1;
	}
	seen = pts_seen_observe(&s->seen, pi->rating_key, pct >= 0 ? (double)pi->view_offset : -1,
	    pi->added_at, pts_now());
	if (seen < 0)
		return -1;
	tpos = pts_feat_index_find(&s->idx, it->kind, it->ids, it->season, it->episode);
	if (s->env.last_watched != NULL)
		last = s->env.last_watched(s->env.ctx, it->kind, it->ids, it->season, it->episode);
	/* Paused before Trakt's last play: finished since, not a place to resume. */
	if (tpos >= 0 && last > s->trakt.v[tpos].at)
		tpos = -1;
	if (pct < 0 && tpos < 0)
		return 0;
	at = pi->last_viewed_at > seen ? pi->last_viewed_at : seen;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct pb_obs *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	o = &s->v[s->n];
	memset(o, 0, sizeof(*o));
	if (tpos >= 0)
		snprintf(o->group, sizeof(o->group), "t:%d:%ld", (int)it->kind, (long)tpos);
	else
		snprintf(o->group, sizeof(o->group), "k:%s", it->key);
	snprintf(o->key, sizeof(o->key), "%s", it->key);
	o->seq = s->n;
	o->kind = it->kind;
	o->ids = *it->ids;
	o->season = it->season;
	o->episode = it->episode;
	o->year = pi->year;
	o->rating_key = pts_feat_dup(pi->rating_key);
	o->title = pts_feat_dup(pi->title);
	o->show = it->kind == PTS_FEAT_EPISODE ? pts_feat_dup(pi->grandparent_title) : NULL;
	if (o->rating_key == NULL) {
		free(o->title);
		free(o->show);
		return -1;
	}
	o->duration = pi->duration;
	o->pct = pct;
	o->at = at;
	o->trakt_last = last;
	o->tpos = tpos;
	s->n++;
	return 0;
}

static int
pb_cmp(const void *a, const void *b)
{
	const struct pb_obs *x = a, *y = b;
	int c = strcmp(x->group, y->group);

	return c != 0 ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Decide one item (its copies g[0..n)); appends to w. */
static void
pb_decide(struct playback *s, struct pb_obs *g, size_t n, struct pb_write *w, size_t *nw)
{
	const struct pts_tlist_entry *te = g[0].tpos >= 0 ? &s->trakt.v[g[0].tpos] : NULL;
	struct pb_obs *best = NULL;
	int plex_wins;
	size_t i;

	for (i = 0; i < n; i++)
		if (g[i].pct >= 0 && (best == NULL || g[i].at > best->at ||
		    (g[i].at == best->at && g[i].pct > best->pct)))
			best = &g[i];
	if (best != NULL && te != NULL) {
		if (fabs(best->pct - te->progress) < PTS_PLAYBACK_SAME_PCT)
			return;
		/* Unknown age: only ever forward. */
		plex_wins = best->at > 0 ? best->at >= te->at : best->pct > te->progress;
	} else if (best != NULL) {
		/* Trakt played it after Plex's position was set: that position is stale. */
		plex_wins = best->trakt_last <= best->at;
		if (!plex_wins)
			return;
	} else {
		plex_wins = 0;
	}
	if (plex_wins) {
		if (s->env.to_trakt) {
			w[*nw] = (struct pb_write){ best, 0, best->pct, te ? te->progress : -1, 0 };
			(*nw)++;
		}
		return;
	}
	for (i = 0; s->env.to_plex && i < n; i++) {
		struct pb_obs *o = &g[i];

		if (o->pct >= 0 && fabs(o->pct - te->progress) < PTS_PLAYBACK_SAME_PCT)
			continue;
		/* This copy was viewed after Trakt's pause, or is further on at an unknown time. */
		if (o->at > te->at || (o->at == 0 && o->pct > te->progress))
			continue;
		w[*nw] = (struct pb_write){ o, 1, te->progress, o->pct, te->at };
		(*nw)++;
	}
}

static void
pb_change(const struct pb_write *x, struct pts_feat_change *c, char *detail, size_t len)
{
	const struct pb_obs *o = x->o;

	memset(c, 0, sizeof(*c));
	c->action = x->to_plex ? PTS_ACT_PLAYBACK_PLEX : PTS_ACT_PLAYBACK_TRAKT;
	c->kind = o->kind;
	c->key = o->key;
	c->ids = &o->ids;
	c->season = o->season;
	c->episode = o->episode;
	c->year = o->year;
	c->title = o->title;
	c->show = o->show;
	if (x->was >= 0)
		snprintf(detail, len, "{\"progress\": %.2f, \"was\": %.2f}", x->pct, x->was);
	else
		snprintf(detail, len, "{\"progress\": %.2f, \"was\": null}", x->pct);
	c->detail = detail;
}

/* One write with its change. 0, 1 cancelled, -1 database failure. */
static int
pb_write_one(struct playback *s, struct pb_write *x)
{
	struct pts_feat_change c;
	char detail[96];
	int64_t row = 0, ms = 0;
	enum pts_http_result r;
	long status = 0;
	enum pts_ledger_result res;

	if (pts_wctx_cancelled(s->env.w))
		return 1;
	pb_change(x, &c, detail, sizeof(detail));
	if (pts_feat_record(&s->env, 0, &c, PTS_LEDGER_PENDING, &row) != 0)
		return -1;
	pts_progress_item(&s->env.run->progress, x->o->title);
	if (x->to_plex) {
		ms = (int64_t)llround(x->pct * (double)x->o->duration / 100.0);
		r = pts_plexl_progress(s->env.plex, x->o->rating_key, ms);
	} else {
		struct pts_tlist_item it;

		memset(&it, 0, sizeof(it));
		it.kind = x->o->kind == PTS_FEAT_MOVIE ? PTS_TLIST_MOVIE : PTS_TLIST_EPISODE;
		it.ids = x->o->ids;
		it.season = x->o->season;
		it.episode = x->o->episode;
		r = pts_tlist_pause(s->env.trakt, &it, x->pct, &status);
	}
	if (r == PTS_HTTP_OK) {
		res = PTS_LEDGER_DONE;
		s->changed++;
		/* Ours, not a change made in Plex: dated as the Trakt pause it came from. */
		if (x->to_plex && pts_seen_set(&s->seen, x->o->rating_key, (double)ms, x->at) != 0)
			return -1;
	} else if (!x->to_plex && r == PTS_HTTP_HTTP_ERROR && status == 404) {
		res = PTS_LEDGER_NOT_FOUND;
		s->env.run->not_found++;
		PTS_WARN("playback: not found on Trakt: %s", x->o->title ? x->o->title : x->o->key);
	} else {
		res = PTS_LEDGER_FAILED;
		s->env.run->errors++;
		PTS_WARN("playback: could not set the position of %s in %s (%s)", x->o->title ?
		    x->o->title : x->o->key, x->to_plex ? "Plex" : "Trakt", pts_http_result_name(r));
	}
	(void)pts_ledger_set_result(s->env.w->db, row, res);
	if (r == PTS_HTTP_CANCELLED)
		return 1;
	/* A refused sign-in or a locked account will not get better in this run. */
	if (!x->to_plex && r == PTS_HTTP_HTTP_ERROR && (status == 401 || status == 403 ||
	    status == 423))
		return -1;
	return 0;
}

static int
pb_apply(void *p)
{
	struct playback *s = p;
	struct pb_write *w = NULL;
	size_t i, j, nw = 0, nt = 0;
	int rc = 0;

	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), pb_cmp);
	if (s->n > 0 && (w = calloc(s->n, sizeof(*w))) == NULL)
		return -1;
	for (i = 0; i < s->n; i = j) {
		for (j = i + 1; j < s->n && strcmp(s->v[j].group, s->v[i].group) == 0; j++)
			;
		pb_decide(s, &s->v[i], j - i, w, &nw);
	}
	for (i = 0; i < nw; i++)
		nt += !w[i].to_plex;
	PTS_INFO("playback: %zu positions to send to Trakt, %zu to set in Plex", nt, nw - nt);
	if (s->env.run->dry_run) {
		struct pts_feat_change c;
		char detail[96];

		if (pts_db_begin(s->env.w->db) != 0) {
			free(w);
			return -1;
		}
		for (i = 0; i < nw && rc == 0; i++) {
			pb_change(&w[i], &c, detail, sizeof(detail));
			rc = pts_feat_record(&s->env, 0, &c, PTS_LEDGER_PLANNED, NULL);
		}
		if (rc == 0)
			rc = pts_db_commit(s->env.w->db);
		else
			pts_db_rollback(s->env.w->db);
		s->changed = (int64_t)nw;
	} else {
		for (i = 0; i < nw && rc == 0; i++)
			rc = pb_write_one(s, &w[i]);
		if (pts_seen_commit(&s->seen, s->env.w->db) != 0 && rc == 0)
			rc = -1;
	}
	(void)pts_feat_save_count(&s->env, "playback_changed", s->changed);
	free(w);
	return rc;
}

const struct pts_feature pts_feature_playback = {
	"playback", PTS_KEY_SYNC_PLAYBACK, pb_open, pb_library, pb_item, pb_apply, pb_close
};

/*
 * sync_ratings.c - the ratings feature.
 */
#include "sync_ratings.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "plex_lists.h"
#include "plex_seen.h"
#include "settings.h"

/* Plex ratings closer than this are the same value. */
#define RT_SAME 0.01
#define RT_GROUP_LEN (PTS_LEDGER_KEY_LEN + 24)

enum rt_rule {
	RT_NEWEST,
	RT_PLEX,
	RT_TRAKT
};

/* One Plex item that is rated on either side. */
struct rt_obs {
	char group[RT_GROUP_LEN];    /* "t:<pos>" when Trakt rated it, else the item key */
	char key[PTS_LEDGER_KEY_LEN];
	size_t seq;                  /* scan order (a stable sort) */
	enum pts_feat_kind kind;
	struct pts_ids ids;
	int season, episode, year;
	char *rating_key, *title, *show;
	int value;                   /* Plex's rating on Trakt's scale; 0 unrated */
	double raw;                  /* Plex's own value; -1 unrated */
	int64_t at;                  /* when Plex's value was set (0: unknown) */
	int32_t tpos;                /* Trakt's rating, or -1 */
};

struct ratings {
	struct pts_feat_env env;
	struct pts_tlist trakt;
	struct pts_feat_index idx;
	struct pts_seen seen;
	enum rt_rule rule;
	struct rt_obs *v;
	size_t n, cap;
	int64_t changed;
};

int
pts_ratings_to_trakt(double plex)
{
	double r;

	if (!(plex > 0) || plex > 10)
		return 0;
	r = floor(plex + 0.5);
	return r < 1 ? 1 : r > 10 ? 10 : (int)r;
}

static void
rt_close(void *p)
{
	struct ratings *s = p;
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
rt_open(const struct pts_feat_env *env, void **state)
{
	struct ratings *s = calloc(1, sizeof(*s));
	char *rule;
	enum pts_http_result r;

	if (s == NULL)
		return -1;
	s->env = *env;
	rule = pts_settings_get_str(env->w->db, PTS_KEY_RATINGS_CONFLICT);
	s->rule = rule && strcmp(rule, "plex") == 0 ? RT_PLEX : rule && strcmp(rule, "trakt") == 0
	    ? RT_TRAKT : RT_NEWEST;
	free(rule);
	r = pts_tlist_ratings(env->trakt, &s->trakt);
	if (r != PTS_HTTP_OK) {
		PTS_ERROR("ratings: cannot read the ratings from Trakt (%s)", pts_http_result_name(r));
		goto fail;
	}
	if (pts_feat_index_build(&s->idx, &s->trakt) != 0 ||
	    pts_seen_open(&s->seen, env->w->db, "rating", RT_SAME) != 0)
		goto fail;
	PTS_INFO("ratings: %zu on Trakt", s->trakt.n);
	*state = s;
	return 0;
fail:
	rt_close(s);
	return -1;
}

static int
rt_library(void *p, const char *section, int is_show)
{
	struct ratings *s = p;

	(void)is_show;
	return pts_seen_section(&s->seen, s->env.w->db, section, pts_now());
}

static int
rt_item(void *p, const struct pts_feat_item *it)
{
	struct ratings *s = p;
	const struct pts_plex_item *pi = it->plex;
	double raw = pts_ratings_to_trakt(pi->user_rating) > 0 ? pi->user_rating : -1;
	int64_t at = pts_seen_observe(&s->seen, pi->rating_key, raw, pi->added_at, pts_now());
	int32_t tpos = pts_feat_index_find(&s->idx, it->kind, it->ids, it->season, it->episode);
	struct rt_obs *o;

	if (at < 0)
		return -1;
	if (tpos >= 0 && s->trakt.v[tpos].rating < 1)
		tpos = -1;
	if (raw < 0 && tpos < 0)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct rt_obs *v = realloc(s->v, cap * sizeof(*v));

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
	o->value = pts_ratings_to_trakt(raw);
	o->raw = raw;
	o->at = at;
	o->tpos = tpos;
	s->n++;
	return 0;
}

static int
rt_cmp(const void *a, const void *b)
{
	const struct rt_obs *x = a, *y = b;
	int c = strcmp(x->group, y->group);

	return c != 0 ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
rt_change(const struct rt_obs *o, const char *action, const char *detail,
    struct pts_feat_change *c)
{
	memset(c, 0, sizeof(*c));
	c->action = action;
	c->kind = o->kind;
	c->key = o->key;
	c->ids = &o->ids;
	c->season = o->season;
	c->episode = o->episode;
	c->year = o->year;
	c->title = o->title;
	c->show = o->show;
	c->detail = detail;
}

/* A planned Plex write: the copy, the value and the time of that value. */
struct rt_write {
	const struct rt_obs *o;
	int value;
	int64_t at;
};

static void
rt_detail_plex(const struct rt_write *x, char *buf, size_t len)
{
	if (x->o->raw > 0)
		snprintf(buf, len, "{\"rating\": %d, \"was\": %g}", x->value, x->o->raw);
	else
		snprintf(buf, len, "{\"rating\": %d, \"was\": null}", x->value);
}

/* Rate in Plex one by one. 0, 1 cancelled, -1 failed. */
static int
rt_write_plex(struct ratings *s, struct rt_write *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct rt_write *x = &w[i];
		struct pts_feat_change c;
		char detail[64];
		int64_t row = 0;
		enum pts_http_result r;

		if (pts_wctx_cancelled(s->env.w))
			return 1;
		rt_detail_plex(x, detail, sizeof(detail));
		rt_change(x->o, PTS_ACT_RATE_PLEX, detail, &c);
		if (pts_feat_record(&s->env, 0, &c, PTS_LEDGER_PENDING, &row) != 0)
			return -1;
		pts_progress_item(&s->env.run->progress, x->o->title);
		r = pts_plexl_rate(s->env.plex, x->o->rating_key, (double)x->value);
		if (r == PTS_HTTP_OK) {
			s->changed++;
			(void)pts_ledger_set_result(s->env.w->db, row, PTS_LEDGER_DONE);
			/* Ours, not a change made in Plex: dated as the value it came from. */
			if (pts_seen_set(&s->seen, x->o->rating_key, (double)x->value,
			    x->at > 0 ? x->at : pts_now()) != 0)
				return -1;
		} else {
			PTS_WARN("ratings: could not rate %s in Plex (%s)", x->o->title ?
			    x->o->title : x->o->key, pts_http_result_name(r));
			s->env.run->errors++;
			(void)pts_ledger_set_result(s->env.w->db, row, PTS_LEDGER_FAILED);
			if (r == PTS_HTTP_CANCELLED)
				return 1;
		}
	}
	return 0;
}

/* Decide one group g[0..n) (one item, its Plex copies). Appends to the write lists. */
static void
rt_decide(struct ratings *s, const struct rt_obs *g, size_t n, struct pts_feat_tw *wt,
    size_t *nwt, struct rt_write *wp, size_t *nwp)
{
	const struct pts_tlist_entry *te = g[0].tpos >= 0 ? &s->trakt.v[g[0].tpos] : NULL;
	const struct rt_obs *best = NULL;
	int tv = te ? te->rating : 0, use_plex, value;
	int64_t tat = te ? te->at : 0, at;
	size_t i;

	for (i = 0; i < n; i++)
		if (g[i].value > 0 && (best == NULL || g[i].at > best->at))
			best = &g[i];
	if (best == NULL && tv == 0)
		return;
	if (best == NULL)
		use_plex = 0;
	else if (tv == 0 || s->rule == RT_PLEX)
		use_plex = 1;
	else if (s->rule == RT_TRAKT)
		use_plex = 0;
	else   /* newest; a Plex value of unknown age is older than a dated Trakt one */
		use_plex = best->at > 0 && best->at >= tat;
	value = use_plex ? best->value : tv;
	at = use_plex ? best->at : tat;
	if (use_plex && value != tv && s->env.to_trakt) {
		struct pts_feat_tw *x = &wt[(*nwt)++];

		memset(x, 0, sizeof(*x));
		rt_change(best, PTS_ACT_RATE_TRAKT, NULL, &x->change);
		if (tv > 0)
			snprintf(x->detail, sizeof(x->detail), "{\"rating\": %d, \"was\": %d}",
			    value, tv);
		else
			snprintf(x->detail, sizeof(x->detail), "{\"rating\": %d, \"was\": null}",
			    value);
		x->item.kind = best->kind == PTS_FEAT_MOVIE ? PTS_TLIST_MOVIE :
		    best->kind == PTS_FEAT_SHOW ? PTS_TLIST_SHOW : PTS_TLIST_EPISODE;
		x->item.ids = best->ids;
		x->item.season = best->season;
		x->item.episode = best->episode;
		x->item.rating = value;
		x->item.at = at > 0 ? at : pts_now();
	}
	for (i = 0; s->env.to_plex && i < n; i++) {
		if (g[i].value == value)
			continue;
		wp[*nwp].o = &g[i];
		wp[*nwp].value = value;
		wp[(*nwp)++].at = at;
	}
}

/* A dry run: the planned changes only. */
static int
rt_record_planned(struct ratings *s, struct pts_feat_tw *wt, size_t nwt,
    const struct rt_write *wp, size_t nwp)
{
	struct pts_feat_change c;
	char detail[64];
	size_t i;

	if (pts_feat_trakt_plan(&s->env, wt, nwt) != 0 || pts_db_begin(s->env.w->db) != 0)
		return -1;
	for (i = 0; i < nwp; i++) {
		rt_detail_plex(&wp[i], detail, sizeof(detail));
		rt_change(wp[i].o, PTS_ACT_RATE_PLEX, detail, &c);
		if (pts_feat_record(&s->env, 0, &c, PTS_LEDGER_PLANNED, NULL) != 0) {
			pts_db_rollback(s->env.w->db);
			return -1;
		}
	}
	return pts_db_commit(s->env.w->db);
}

static int
rt_apply(void *p)
{
	struct ratings *s = p;
	struct pts_feat_tw *wt = NULL;
	struct rt_write *wp = NULL;
	size_t i, j, nwt = 0, nwp = 0;
	int rc = 0;

	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), rt_cmp);
	if (s->n > 0 && ((wt = calloc(s->n, sizeof(*wt))) == NULL ||
	    (wp = calloc(s->n, sizeof(*wp))) == NULL)) {
		free(wt);
		return -1;
	}
	for (i = 0; i < s->n; i = j) {
		for (j = i + 1; j < s->n && strcmp(s->v[j].group, s->v[i].group) == 0; j++)
			;
		rt_decide(s, &s->v[i], j - i, wt, &nwt, wp, &nwp);
	}
	PTS_INFO("ratings: %zu to rate on Trakt, %zu to rate in Plex", nwt, nwp);
	if (s->env.run->dry_run) {
		rc = rt_record_planned(s, wt, nwt, wp, nwp);
		s->changed = (int64_t)(nwt + nwp);
	} else {
		rc = pts_feat_trakt_write(&s->env, "ratings", 0, wt, nwt, &s->changed);
		if (rc == 0)
			rc = rt_write_plex(s, wp, nwp);
		/* What was seen and written so far, even after a stop. */
		if (pts_seen_commit(&s->seen, s->env.w->db) != 0 && rc == 0)
			rc = -1;
	}
	(void)pts_feat_save_count(&s->env, "ratings_changed", s->changed);
	free(wt);
	free(wp);
	return rc;
}

const struct pts_feature pts_feature_ratings = {
	"ratings", PTS_KEY_SYNC_RATINGS, rt_open, rt_library, rt_item, rt_apply, rt_close
};

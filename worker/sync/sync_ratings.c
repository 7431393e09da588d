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

enum rt_rule {
	RT_NEWEST,
	RT_PLEX,
	RT_TRAKT
};

/* One Plex item that is rated on either side (grouped by Trakt's rating when it has one). */
struct rt_obs {
	struct pts_feat_obs h;       /* first: the shared observation head */
	int value;                   /* Plex's rating on Trakt's scale; 0 unrated */
	double raw;                  /* Plex's own value; -1 unrated */
	int64_t at;                  /* when Plex's value was set: lastRatedAt, else first seen */
};

struct ratings {
	struct pts_feat_obsset b;    /* first: pts_feat_obs_close frees the state */
	enum rt_rule rule;
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

static int
rt_open(const struct pts_feat_env *env, void **state)
{
	struct ratings *s = calloc(1, sizeof(*s));
	char *rule;
	enum pts_http_result r;

	if (s == NULL)
		return -1;
	s->b.env = *env;
	s->b.size = sizeof(struct rt_obs);
	rule = pts_settings_get_str(env->w->db, PTS_KEY_RATINGS_CONFLICT);
	s->rule = rule && strcmp(rule, "plex") == 0 ? RT_PLEX : rule && strcmp(rule, "trakt") == 0
	    ? RT_TRAKT : RT_NEWEST;
	free(rule);
	r = pts_tlist_ratings(env->trakt, &s->b.trakt);
	if (r != PTS_HTTP_OK) {
		PTS_ERROR("ratings: cannot read the ratings from Trakt (%s)", pts_http_result_name(r));
		goto fail;
	}
	if (pts_feat_obs_index(&s->b, "rating", RT_SAME) != 0)
		goto fail;
	PTS_INFO("ratings: %zu on Trakt", s->b.trakt.n);
	*state = s;
	return 0;
fail:
	pts_feat_obs_close(s);
	return -1;
}

static int
rt_item(void *p, const struct pts_feat_item *it)
{
	struct ratings *s = p;
	const struct pts_plex_item *pi = it->plex;
	double raw = pts_ratings_to_trakt(pi->user_rating) > 0 ? pi->user_rating : -1;
	/* Plex says when it was rated (lastRatedAt): a new value is dated by it. */
	int64_t at = pts_seen_observe_dated(&s->b.seen, pi->rating_key, raw, pi->added_at,
	    pi->last_rated_at, pts_now());
	int32_t tpos = pts_feat_index_find(&s->b.idx, it->kind, it->ids, it->season, it->episode);
	struct rt_obs *o;

	if (at < 0)
		return -1;
	if (tpos >= 0 && s->b.trakt.v[tpos].rating < 1)
		tpos = -1;
	if (raw < 0 && tpos < 0)
		return 0;
	if ((o = (struct rt_obs *)pts_feat_obs_add(&s->b, it, tpos)) == NULL)
		return -1;
	o->value = pts_ratings_to_trakt(raw);
	o->raw = raw;
	o->at = at;
	return 0;
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

		if (pts_wctx_cancelled(s->b.env.w))
			return 1;
		rt_detail_plex(x, detail, sizeof(detail));
		pts_feat_obs_change(&x->o->h, PTS_ACT_RATE_PLEX, detail, &c);
		if (pts_feat_record(&s->b.env, 0, &c, PTS_LEDGER_PENDING, &row) != 0)
			return -1;
		pts_progress_item(&s->b.env.run->progress, x->o->h.title);
		r = pts_plexl_rate(s->b.env.plex, x->o->h.rating_key, (double)x->value);
		if (r == PTS_HTTP_OK) {
			s->b.changed++;
			(void)pts_ledger_set_result(s->b.env.w->db, row, PTS_LEDGER_DONE);
			/* Ours, not a change made in Plex: dated as the value it came from. */
			if (pts_seen_set(&s->b.seen, x->o->h.rating_key, (double)x->value,
			    x->at > 0 ? x->at : pts_now()) != 0)
				return -1;
		} else {
			PTS_WARN("ratings: could not rate %s in Plex (%s)", x->o->h.title ?
			    x->o->h.title : x->o->h.key, pts_http_result_name(r));
			s->b.env.run->errors++;
			(void)pts_ledger_set_result(s->b.env.w->db, row, PTS_LEDGER_FAILED);
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
	const struct pts_tlist_entry *te = g[0].h.tpos >= 0 ? &s->b.trakt.v[g[0].h.tpos] : NULL;
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
	if (use_plex && value != tv && s->b.env.to_trakt) {
		struct pts_feat_tw *x = &wt[(*nwt)++];

		memset(x, 0, sizeof(*x));
		pts_feat_obs_change(&best->h, PTS_ACT_RATE_TRAKT, NULL, &x->change);
		if (tv > 0)
			snprintf(x->detail, sizeof(x->detail), "{\"rating\": %d, \"was\": %d}",
			    value, tv);
		else
			snprintf(x->detail, sizeof(x->detail), "{\"rating\": %d, \"was\": null}",
			    value);
		x->item.kind = best->h.kind == PTS_FEAT_MOVIE ? PTS_TLIST_MOVIE :
		    best->h.kind == PTS_FEAT_SHOW ? PTS_TLIST_SHOW : best->h.kind == PTS_FEAT_SEASON ?
		    PTS_TLIST_SEASON : PTS_TLIST_EPISODE;
		x->item.ids = best->h.ids;
		x->item.season = best->h.season;
		x->item.episode = best->h.episode;
		x->item.rating = value;
		x->item.at = at > 0 ? at : pts_now();
	}
	for (i = 0; s->b.env.to_plex && i < n; i++) {
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

	if (pts_feat_trakt_plan(&s->b.env, wt, nwt) != 0 || pts_db_begin(s->b.env.w->db) != 0)
		return -1;
	for (i = 0; i < nwp; i++) {
		rt_detail_plex(&wp[i], detail, sizeof(detail));
		pts_feat_obs_change(&wp[i].o->h, PTS_ACT_RATE_PLEX, detail, &c);
		if (pts_feat_record(&s->b.env, 0, &c, PTS_LEDGER_PLANNED, NULL) != 0) {
			pts_db_rollback(s->b.env.w->db);
			return -1;
		}
	}
	return pts_db_commit(s->b.env.w->db);
}

static int
rt_apply(void *p)
{
	struct ratings *s = p;
	struct pts_feat_tw *wt = NULL;
	struct rt_write *wp = NULL;
	size_t i, j, nwt = 0, nwp = 0;
	int rc = 0;

	pts_feat_obs_sort(&s->b);
	if (s->b.n > 0 && ((wt = calloc(s->b.n, sizeof(*wt))) == NULL ||
	    (wp = calloc(s->b.n, sizeof(*wp))) == NULL)) {
		free(wt);
		return -1;
	}
	for (i = 0; i < s->b.n; i = j) {
		j = pts_feat_obs_group_end(&s->b, i);
		rt_decide(s, (struct rt_obs *)pts_feat_obs_at(&s->b, i), j - i, wt, &nwt, wp, &nwp);
	}
	PTS_INFO("ratings: %zu to rate on Trakt, %zu to rate in Plex", nwt, nwp);
	if (s->b.env.run->dry_run) {
		rc = rt_record_planned(s, wt, nwt, wp, nwp);
		s->b.changed = (int64_t)(nwt + nwp);
	} else {
		/* No cap for ratings in /users/settings: none checked before (a 420 still stops them). */
		rc = pts_feat_trakt_write(&s->b.env, "ratings", 0, wt, nwt, -1, &s->b.changed);
		/* Refused on Trakt for the account: the Plex side still follows Trakt. */
		if (rc == 0 || rc == PTS_FEAT_REFUSED) {
			int prc = rt_write_plex(s, wp, nwp);

			rc = prc != 0 ? prc : rc;
		}
		/* What was seen and written so far, even after a stop. */
		if (pts_seen_commit(&s->b.seen, s->b.env.w->db) != 0 && rc == 0)
			rc = -1;
	}
	(void)pts_feat_save_count(&s->b.env, "ratings_changed", s->b.changed);
	free(wt);
	free(wp);
	return rc;
}

const struct pts_feature pts_feature_ratings = {
	"ratings", PTS_KEY_SYNC_RATINGS, rt_open, pts_feat_obs_library, rt_item, rt_apply,
	pts_feat_obs_close
};

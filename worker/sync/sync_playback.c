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

/* One Plex movie or episode with a position on either side. */
struct pb_obs {
	struct pts_feat_obs h;       /* first: the shared head; grouped by Trakt's position */
	int64_t duration;            /* ms */
	double pct;                  /* Plex's position in percent; -1 none (or outside range) */
	int64_t at;                  /* Plex's time of it: max(lastViewedAt, first seen); 0 unknown */
	int64_t trakt_last;          /* Trakt's last play of the item; 0 none */
	int finished;                /* watched in Plex after Trakt's pause, no position */
};

struct playback {
	struct pts_feat_obsset b;    /* first: pts_feat_obs_close frees the state */
};

/* A write: to Trakt (the best copy's position) or to one Plex copy (Trakt's). */
struct pb_write {
	struct pb_obs *o;
	int to_plex;
	double pct, was;             /* was < 0: none */
	int64_t at;                  /* Trakt's paused_at (Plex writes) */
	int64_t remove_id;           /* > 0: remove this Trakt resume point instead */
};

static int
pb_in_range(double pct)
{
	return pct >= PTS_PLAYBACK_MIN_PCT && pct < PTS_PLAYBACK_MAX_PCT;
}

static int
pb_open(const struct pts_feat_env *env, void **state)
{
	struct playback *s = calloc(1, sizeof(*s));
	enum pts_http_result r;
	size_t i, out = 0;

	if (s == NULL)
		return -1;
	s->b.env = *env;
	s->b.size = sizeof(struct pb_obs);
	r = pts_tlist_playback(env->trakt, &s->b.trakt);
	if (r != PTS_HTTP_OK) {
		PTS_ERROR("playback: cannot read the playback progress from Trakt (%s)",
		    pts_http_result_name(r));
		goto fail;
	}
	/* Only resume points we sync: movies and episodes within the range. */
	for (i = 0; i < s->b.trakt.n; i++) {
		const struct pts_tlist_entry *e = &s->b.trakt.v[i];

		if ((e->kind == PTS_TLIST_MOVIE || e->kind == PTS_TLIST_EPISODE) &&
		    pb_in_range(e->progress) && e->at > 0)
			s->b.trakt.v[out++] = *e;
	}
	s->b.trakt.n = out;
	if (pts_feat_obs_index(&s->b, "offset", 0.5) != 0)
		goto fail;
	PTS_INFO("playback: %zu resume points on Trakt", s->b.trakt.n);
	*state = s;
	return 0;
fail:
	pts_feat_obs_close(s);
	return -1;
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
	int finished;

	if (it->kind == PTS_FEAT_SHOW || pi->duration <= 0)
		return 0;
	if (pi->view_offset > 0 && pi->view_offset < pi->duration) {
		pct = (double)pi->view_offset * 100.0 / (double)pi->duration;
		if (!pb_in_range(pct))
			pct = -1;
	}
	/* A new position is dated by Plex's lastViewedAt (Plex moves it with every position);
	 * one we wrote ourselves keeps the time of the Trakt value it came from. */
	seen = pts_seen_observe_dated(&s->b.seen, pi->rating_key, pct >= 0 ?
	    (double)pi->view_offset : -1, pi->added_at, pi->last_viewed_at, pts_now());
	if (seen < 0)
		return -1;
	tpos = pts_feat_index_find(&s->b.idx, it->kind, it->ids, it->season, it->episode);
	if (s->b.env.last_watched != NULL)
		last = s->b.env.last_watched(s->b.env.ctx, it->kind, it->ids, it->season, it->episode);
	/* Finished in Plex after Trakt's pause: that resume point goes. */
	finished = tpos >= 0 && pct < 0 && pi->view_count > 0 &&
	    pi->last_viewed_at > s->b.trakt.v[tpos].at;
	/* Paused before Trakt's last play: finished since, not a place to resume. */
	if (tpos >= 0 && !finished && last > s->b.trakt.v[tpos].at)
		tpos = -1;
	if (pct < 0 && tpos < 0)
		return 0;
	at = seen;
	if ((o = (struct pb_obs *)pts_feat_obs_add(&s->b, it, tpos)) == NULL)
		return -1;
	o->duration = pi->duration;
	o->pct = pct;
	o->at = at;
	o->trakt_last = last;
	o->finished = finished;
	return 0;
}

/* Decide one item (its copies g[0..n)); appends to w. */
static void
pb_decide(struct playback *s, struct pb_obs *g, size_t n, struct pb_write *w, size_t *nw)
{
	const struct pts_tlist_entry *te = g[0].h.tpos >= 0 ? &s->b.trakt.v[g[0].h.tpos] : NULL;
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
		for (i = 0; i < n; i++)
			if (g[i].finished && te->id > 0) {
				if (s->b.env.to_trakt) {
					w[*nw] = (struct pb_write){ &g[i], 0, -1, te->progress, 0,
					    te->id };
					(*nw)++;
				}
				return;
			}
	}
	if (plex_wins) {
		if (s->b.env.to_trakt) {
			w[*nw] = (struct pb_write){ best, 0, best->pct, te ? te->progress : -1, 0, 0 };
			(*nw)++;
		}
		return;
	}
	for (i = 0; s->b.env.to_plex && i < n; i++) {
		struct pb_obs *o = &g[i];

		if (o->pct >= 0 && fabs(o->pct - te->progress) < PTS_PLAYBACK_SAME_PCT)
			continue;
		/* This copy was viewed after Trakt's pause, or is further on at an unknown time. */
		if (o->at > te->at || (o->at == 0 && o->pct > te->progress))
			continue;
		w[*nw] = (struct pb_write){ o, 1, te->progress, o->pct, te->at, 0 };
		(*nw)++;
	}
}

static void
pb_change(const struct pb_write *x, struct pts_feat_change *c, char *detail, size_t len)
{
	const struct pb_obs *o = x->o;

	if (x->remove_id > 0)
		snprintf(detail, len, "{\"progress\": null, \"was\": %.2f}", x->was);
	else if (x->was >= 0)
		snprintf(detail, len, "{\"progress\": %.2f, \"was\": %.2f}", x->pct, x->was);
	else
		snprintf(detail, len, "{\"progress\": %.2f, \"was\": null}", x->pct);
	pts_feat_obs_change(&o->h, x->remove_id > 0 ? PTS_ACT_PLAYBACK_REMOVE_TRAKT : x->to_plex ?
	    PTS_ACT_PLAYBACK_PLEX : PTS_ACT_PLAYBACK_TRAKT, detail, c);
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

	if (pts_wctx_cancelled(s->b.env.w))
		return 1;
	pb_change(x, &c, detail, sizeof(detail));
	if (pts_feat_record(&s->b.env, 0, &c, PTS_LEDGER_PENDING, &row) != 0)
		return -1;
	pts_progress_item(&s->b.env.run->progress, x->o->h.title);
	if (x->remove_id > 0) {
		r = pts_tlist_playback_remove(s->b.env.trakt, x->remove_id, &status);
		/* Gone already: what we wanted. */
		if (r == PTS_HTTP_HTTP_ERROR && status == 404)
			r = PTS_HTTP_OK;
	} else if (x->to_plex) {
		ms = (int64_t)llround(x->pct * (double)x->o->duration / 100.0);
		r = pts_plexl_progress(s->b.env.plex, x->o->h.rating_key, ms);
	} else {
		struct pts_tlist_item it;

		memset(&it, 0, sizeof(it));
		it.kind = x->o->h.kind == PTS_FEAT_MOVIE ? PTS_TLIST_MOVIE : PTS_TLIST_EPISODE;
		it.ids = x->o->h.ids;
		it.season = x->o->h.season;
		it.episode = x->o->h.episode;
		r = pts_tlist_pause(s->b.env.trakt, &it, x->pct, &status);
	}
	if (r == PTS_HTTP_OK) {
		res = PTS_LEDGER_DONE;
		s->b.changed++;
		/* Ours, not a change made in Plex: dated as the Trakt pause it came from. */
		if (x->to_plex && pts_seen_set(&s->b.seen, x->o->h.rating_key, (double)ms, x->at) != 0)
			return -1;
	} else if (!x->to_plex && r == PTS_HTTP_HTTP_ERROR && status == 404) {
		res = PTS_LEDGER_NOT_FOUND;
		s->b.env.run->not_found++;
		PTS_WARN("playback: not found on Trakt: %s", x->o->h.title ? x->o->h.title : x->o->h.key);
	} else {
		res = PTS_LEDGER_FAILED;
		s->b.env.run->errors++;
		PTS_WARN("playback: could not set the position of %s in %s (%s)", x->o->h.title ?
		    x->o->h.title : x->o->h.key, x->to_plex ? "Plex" : "Trakt", pts_http_result_name(r));
	}
	(void)pts_ledger_set_result(s->b.env.w->db, row, res);
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

	pts_feat_obs_sort(&s->b);
	if (s->b.n > 0 && (w = calloc(s->b.n, sizeof(*w))) == NULL)
		return -1;
	for (i = 0; i < s->b.n; i = j) {
		j = pts_feat_obs_group_end(&s->b, i);
		pb_decide(s, (struct pb_obs *)pts_feat_obs_at(&s->b, i), j - i, w, &nw);
	}
	for (i = 0; i < nw; i++)
		nt += !w[i].to_plex;
	PTS_INFO("playback: %zu positions to send to Trakt, %zu to set in Plex", nt, nw - nt);
	if (s->b.env.run->dry_run) {
		struct pts_feat_change c;
		char detail[96];

		if (pts_db_begin(s->b.env.w->db) != 0) {
			free(w);
			return -1;
		}
		for (i = 0; i < nw && rc == 0; i++) {
			pb_change(&w[i], &c, detail, sizeof(detail));
			rc = pts_feat_record(&s->b.env, 0, &c, PTS_LEDGER_PLANNED, NULL);
		}
		if (rc == 0)
			rc = pts_db_commit(s->b.env.w->db);
		else
			pts_db_rollback(s->b.env.w->db);
		s->b.changed = (int64_t)nw;
	} else {
		for (i = 0; i < nw && rc == 0; i++)
			rc = pb_write_one(s, &w[i]);
		if (pts_seen_commit(&s->b.seen, s->b.env.w->db) != 0 && rc == 0)
			rc = -1;
	}
	(void)pts_feat_save_count(&s->b.env, "playback_changed", s->b.changed);
	free(w);
	return rc;
}

const struct pts_feature pts_feature_playback = {
	"playback", PTS_KEY_SYNC_PLAYBACK, pb_open, pts_feat_obs_library, pb_item, pb_apply,
	pts_feat_obs_close
};

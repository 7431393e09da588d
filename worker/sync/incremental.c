/*
 * incremental.c - which kinds of data moved since the checkpoint (incremental.h).
 */
#include "incremental.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "plexdisc.h"
#include "settings.h"

/* The Plex counts of the quick check: a type, which stamp, the kinds it speaks for. */
struct incr_count {
	int type;
	int rated;                   /* lastRatedAt; else lastViewedAt */
	unsigned kinds;
};

/* Views move lastViewedAt, and so do resume points (Plex dates every position). */
static const struct incr_count incr_counts[] = {
	{ PTS_PLEX_TYPE_MOVIE, 0, PTS_CKPT_WATCHED | PTS_CKPT_PLAYBACK },
	{ PTS_PLEX_TYPE_EPISODE, 0, PTS_CKPT_WATCHED | PTS_CKPT_PLAYBACK },
	{ PTS_PLEX_TYPE_MOVIE, 1, PTS_CKPT_RATINGS },
	{ PTS_PLEX_TYPE_SHOW, 1, PTS_CKPT_RATINGS },
	{ PTS_PLEX_TYPE_SEASON, 1, PTS_CKPT_RATINGS },
	{ PTS_PLEX_TYPE_EPISODE, 1, PTS_CKPT_RATINGS },
};

/* The settings that change what a feature decides: another value reads them all again. */
static const enum pts_setting_key incr_cfg_keys[] = { PTS_KEY_RATINGS_CONFLICT,
    PTS_KEY_WATCHLIST_PLEX_SIDE, PTS_KEY_WATCHLIST_COLLECTION,
    PTS_KEY_WATCHLIST_REMOVE_MAX_PERCENT };

void
pts_incr_feat_cfg(sqlite3 *db, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(incr_cfg_keys) / sizeof(incr_cfg_keys[0]) && off < len; i++) {
		char *v = pts_settings_get_str(db, incr_cfg_keys[i]);
		int n = snprintf(buf + off, len - off, "%s%s", i ? "|" : "", v ? v : "");

		free(v);
		if (n > 0)
			off += (size_t)n;
	}
}

int
pts_incr_account_watchlist(sqlite3 *db)
{
	char *side = pts_settings_get_str(db, PTS_KEY_WATCHLIST_PLEX_SIDE);
	int account = side == NULL || strcmp(side, "collection") != 0;

	free(side);
	return account;
}

static int64_t
incr_max(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

int64_t
pts_incr_trakt_mark(const struct pts_trakt_activities *a, unsigned kind)
{
	switch (kind) {
	case PTS_CKPT_RATINGS:
		return incr_max(incr_max(a->movies_rated_at, a->shows_rated_at),
		    incr_max(a->seasons_rated_at, a->episodes_rated_at));
	case PTS_CKPT_WATCHLIST:
		/* A removal moves only watchlist.updated_at. */
		return incr_max(incr_max(incr_max(a->movies_watchlisted_at, a->shows_watchlisted_at),
		    incr_max(a->seasons_watchlisted_at, a->episodes_watchlisted_at)),
		    a->watchlist_updated_at);
	case PTS_CKPT_PLAYBACK:
		return incr_max(a->movies_paused_at, a->episodes_paused_at);
	default:
		return 0;
	}
}

enum pts_http_result
pts_incr_pwl_marks(struct pts_plex *plex, int64_t *total, int64_t *newest)
{
	struct pts_pdisc_list l;
	enum pts_http_result r = pts_pdisc_watchlist(plex, 1, 1, &l);

	*total = r == PTS_HTTP_OK ? l.total : -1;
	*newest = r == PTS_HTTP_OK ? l.newest : 0;
	pts_pdisc_list_free(&l);
	return r;
}

enum pts_http_result
pts_incr_moved(sqlite3 *db, struct pts_plex *plex, struct pts_trakt *trakt,
    const struct pts_ckpt *ck, unsigned want, struct pts_trakt_activities *acts,
    unsigned *moved)
{
	static const unsigned kinds[] = { PTS_CKPT_RATINGS, PTS_CKPT_WATCHLIST, PTS_CKPT_PLAYBACK };
	const int64_t *marks[] = { &ck->ratings_at, &ck->watchlist_at, &ck->playback_at };
	char cfg[PTS_CKPT_CFG_LEN];
	enum pts_http_result r;
	size_t i;

	memset(acts, 0, sizeof(*acts));
	*moved = want & ~ck->kinds;
	pts_incr_feat_cfg(db, cfg, sizeof(cfg));
	if (strcmp(cfg, ck->feat_cfg) != 0)
		*moved |= want & ~PTS_CKPT_WATCHED;
	if ((want & PTS_CKPT_WATCHLIST) && !pts_incr_account_watchlist(db))
		*moved |= PTS_CKPT_WATCHLIST;
	if ((want & ~*moved) == 0)
		return PTS_HTTP_OK;

	/* Trakt: one call says for every kind. */
	if ((r = pts_trakt_last_activities(trakt, acts)) != PTS_HTTP_OK)
		goto fail;
	if ((want & PTS_CKPT_WATCHED) && (acts->movies_watched_at != ck->movies_watched_at ||
	    acts->episodes_watched_at != ck->episodes_watched_at))
		*moved |= PTS_CKPT_WATCHED;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if ((want & kinds[i]) && pts_incr_trakt_mark(acts, kinds[i]) != *marks[i])
			*moved |= kinds[i];

	/* Plex: what was viewed or rated since (our own writes are before plex_since). */
	for (i = 0; i < sizeof(incr_counts) / sizeof(incr_counts[0]); i++) {
		const struct incr_count *q = &incr_counts[i];
		struct pts_plex_filter f;
		int64_t count = 0;

		if ((want & ~*moved & q->kinds) == 0)
			continue;
		memset(&f, 0, sizeof(f));
		if (q->rated)
			f.rated_since = ck->plex_since;
		else
			f.viewed_since = ck->plex_since;
		if ((r = pts_plex_count_all(plex, q->type, &f, &count)) != PTS_HTTP_OK)
			goto fail;
		if (count > 0)
			*moved |= want & q->kinds;
	}

	/* plex.tv: the account watchlist's size and newest entry. */
	if (want & ~*moved & PTS_CKPT_WATCHLIST) {
		int64_t total, newest;

		if ((r = pts_incr_pwl_marks(plex, &total, &newest)) != PTS_HTTP_OK)
			goto fail;
		if (total != ck->pwl_total || newest != ck->pwl_newest)
			*moved |= PTS_CKPT_WATCHLIST;
	}
	return PTS_HTTP_OK;
fail:
	PTS_WARN("cannot tell what moved since the last sync (%s)", pts_http_result_name(r));
	*moved = want;
	return r;
}

/*
 * feature.h - the optional parts of a sync (ratings, watchlist, playback progress) and the
 * one interface the engine drives them through.
 *
 * The engine (engine.c) opens the features whose setting is on once it has read Trakt's
 * watched state; each reads its Trakt list then. While the engine scans Plex it announces
 * every library (pts_feat_library) and hands every matched item to the features
 * (pts_feat_item: movies, shows and episodes with the ids it matched them by). After its own
 * watched writes it asks each feature to decide and write (pts_feat_apply), where a feature:
 *
 *   - writes only the directions sync_direction allows (env.to_trakt, env.to_plex);
 *   - in a dry run records every change as 'planned' and writes nothing, local state included;
 *   - records each change in the run's ledger (changes rows: action, type, title, result,
 *     and a JSON detail such as {"rating": 8, "was": 6});
 *   - checks pts_wctx_cancelled() between writes and returns 1 when stopped;
 *   - counts its writes (or planned writes) in runs.<name>_changed, failures in run->errors
 *     and items Trakt does not know in run->not_found.
 *
 * A feature that cannot read what it needs (its Trakt list, a Plex collection) sits the rest
 * of the run out, with an error logged and counted: a list read half is never taken for a
 * list that shrank.
 */
#ifndef PTS_FEATURE_H
#define PTS_FEATURE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "guid.h"
#include "idindex.h"
#include "ledger.h"
#include "plex.h"
#include "plex_seen.h"
#include "run.h"
#include "settings.h"
#include "trakt.h"
#include "trakt_lists.h"
#include "wctx.h"

/* Features the engine can hold. */
#define PTS_FEAT_MAX 4

/* The features as kinds of data: the checkpoint's bits (PTS_CKPT_RATINGS, ...). */
#define PTS_FEAT_KINDS (PTS_CKPT_RATINGS | PTS_CKPT_WATCHLIST | PTS_CKPT_PLAYBACK)

enum pts_feat_kind {
	PTS_FEAT_MOVIE,
	PTS_FEAT_SHOW,
	PTS_FEAT_EPISODE,
	PTS_FEAT_SEASON          /* handed over only when some open feature takes seasons */
};

/* What a feature may use; everything borrowed from the engine for the run. */
struct pts_feat_env {
	struct pts_wctx *w;
	struct pts_run *run;
	struct pts_plex *plex;
	struct pts_trakt *trakt;
	int to_trakt, to_plex;
	/* Trakt's last play of a movie or episode (epoch, 0: none); from the watched state. */
	int64_t (*last_watched)(void *ctx, enum pts_feat_kind kind, const struct pts_ids *ids,
	    int season, int episode);
	void *ctx;
};

/* One matched Plex item, as the engine hands it over (valid during the call only). */
struct pts_feat_item {
	enum pts_feat_kind kind;
	const struct pts_plex_item *plex;
	const struct pts_ids *ids;           /* the movie's or show's; episodes, seasons: their
	                                        show's */
	int season, episode;                 /* -1 unless an episode (seasons: season only) */
	const char *key;                     /* canonical item key (ledger keys; shows "show:…") */
	const char *section;                 /* the library being scanned */
};

struct pts_feature {
	const char *name;                    /* "ratings": log lines; runs.<name>_changed */
	enum pts_setting_key setting;        /* the boolean setting that turns it on */
	/* Read the Trakt side. 0, or -1 (logged): the feature sits this run out. */
	int (*open)(const struct pts_feat_env *env, void **state);
	/* A library is next. 0, or -1 (logged): the feature stops for this run. */
	int (*library)(void *state, const char *section, int is_show);
	/* One item. 0, or -1 when out of memory. */
	int (*item)(void *state, const struct pts_feat_item *it);
	/* Decide and write. 0, 1 cancelled, -1 failed (logged), PTS_FEAT_REFUSED (a warning). */
	int (*apply)(void *state);
	void (*close)(void *state);          /* NULL safe */
};

extern const struct pts_feature pts_feature_ratings;
extern const struct pts_feature pts_feature_watchlist;
extern const struct pts_feature pts_feature_playback;

/* ==== The engine's side ==== */

struct pts_feat_set {
	const struct pts_feature *f[PTS_FEAT_MAX];
	void *state[PTS_FEAT_MAX];
	unsigned kind[PTS_FEAT_MAX];         /* each one's PTS_CKPT_* bit */
	size_t n;
	unsigned done;                       /* kinds whose apply ended clean (no error, warning) */
	char section[PTS_PLEX_KEY_LEN];
	struct pts_feat_env env;
};

/* 1 when the setting of some feature is on. */
int pts_feat_any_enabled(sqlite3 *db);
/* The kinds (PTS_CKPT_* bits) of the features whose setting is on. */
unsigned pts_feat_enabled_kinds(sqlite3 *db);

/*
 * Open every enabled feature but those whose kind is in skip (nothing of theirs moved since
 * the checkpoint: incremental.h), zeroing s first. Returns how many are open.
 */
size_t pts_feat_open(struct pts_feat_set *s, const struct pts_feat_env *env, unsigned skip);

/* 1 when a feature of kind (a PTS_CKPT_* bit) is open. */
int pts_feat_has(const struct pts_feat_set *s, unsigned kind);

/* Announce a library; a feature that fails is closed. */
void pts_feat_library(struct pts_feat_set *s, const char *section, int is_show);

/* Hand over one matched item (key may be NULL for shows and seasons: made here). 0, or -1
 * (no memory). */
int pts_feat_item(struct pts_feat_set *s, enum pts_feat_kind kind,
    const struct pts_plex_item *it, const struct pts_ids *ids, int season, int episode,
    const char *key);

/* Let each feature write. 0, or 1 when cancelled (failures are logged and counted). A
 * feature that ends without an error or a warning of its own adds its kind to s->done. */
int pts_feat_apply(struct pts_feat_set *s);

void pts_feat_close(struct pts_feat_set *s);

/* ==== Helpers for the features ==== */

/* "show:tvdb:81189" (tvdb, then imdb, tmdb, trakt). 0, or -1 with no id. */
int pts_feat_key_show(const struct pts_ids *ids, char *buf, size_t len);
/* "season:tvdb:81189:1" (the show's id as above). 0, or -1 with no id. */
int pts_feat_key_season(const struct pts_ids *ids, int season, char *buf, size_t len);

/* Trakt list entries found by the ids of a Plex item (movies, shows, episodes apart). */
struct pts_feat_index {
	struct pts_idx movies, shows, epshows, eps, seasons;
	int32_t nslots;
};
int pts_feat_index_build(struct pts_feat_index *x, const struct pts_tlist *l);
/* The entry's position in the list, or -1. */
int32_t pts_feat_index_find(const struct pts_feat_index *x, enum pts_feat_kind kind,
    const struct pts_ids *ids, int season, int episode);
void pts_feat_index_free(struct pts_feat_index *x);

/* One change of a feature for the ledger. */
struct pts_feat_change {
	const char *action;                  /* "rate_trakt", "watchlist_add_plex", ... */
	enum pts_feat_kind kind;
	const char *key;
	const struct pts_ids *ids;           /* the movie's or show's */
	int season, episode, year;
	const char *title, *show;
	const char *detail;                  /* JSON text or NULL */
};

/* Record a change (batch 0: none) with result; *id (may be NULL) gets its row. 0 or -1. */
int pts_feat_record(const struct pts_feat_env *env, int64_t batch,
    const struct pts_feat_change *c, enum pts_ledger_result result, int64_t *id);

/* One item of a Trakt list write, with its change. */
struct pts_feat_tw {
	struct pts_feat_change change;       /* change.detail: set from detail by the writer */
	char detail[320];                    /* JSON text, "" for none */
	struct pts_tlist_item item;
	int ok;                              /* out: 1 when Trakt took it */
	size_t tag;                          /* the caller's */
};

/* A feature's result when Trakt refused its kind for the account (see below). */
#define PTS_FEAT_REFUSED 2

/*
 * Send w[0..n) to POST /sync/<list>[/remove] in batches of PTS_TLIST_BATCH, each batch
 * recorded (batch service "trakt_lists", changes 'pending') before it is sent and settled
 * after: done, not_found (counted in run->not_found), failed or unknown (counted in
 * run->errors). *changed grows by the items done. 0, 1 cancelled, -1 failed (a refused write:
 * the rest is not sent), or PTS_FEAT_REFUSED: Trakt refused the kind for the account (420
 * limit, 423 locked, 426 VIP only): the batch is settled failed, not counted as errors, the
 * run has a warning (pts_run_warn) naming the kind, the cap and what was left undone, and no
 * more writes of that kind go out this run. A feature returns it from apply: not an error.
 *
 * have (additions only; -1: no check): the entries on Trakt's list now. The list's cap is
 * then read from /users/settings first, and additions past it are not attempted: what fits
 * is sent, the rest recorded failed, and the run gets the same kind of warning (naming the
 * cap and what was left undone); PTS_FEAT_REFUSED then too.
 */
int pts_feat_trakt_write(const struct pts_feat_env *env, const char *list, int remove,
    struct pts_feat_tw *w, size_t n, int64_t have, int64_t *changed);

/* A dry run: record w[0..n) as 'planned' in one transaction. 0 or -1. */
int pts_feat_trakt_plan(const struct pts_feat_env *env, struct pts_feat_tw *w, size_t n);

/* runs.<column> = n for the run. column is one of the feature counters. 0 or -1. */
int pts_feat_save_count(const struct pts_feat_env *env, const char *column, int64_t n);

/* "movie", "show", "episode". */
const char *pts_feat_kind_name(enum pts_feat_kind kind);

/* ==== Observations: the shape ratings and playback share ==== */

/* Longest group text: "t:<kind>:<pos>", or "k:" and an item key. */
#define PTS_FEAT_GROUP_LEN (PTS_LEDGER_KEY_LEN + 24)
/* Items a feature keeps per run at most: one per Plex item a sync can read. */
#define PTS_FEAT_MAX_ITEMS ((size_t)PTS_PLEX_TOTAL_MAX)

/*
 * The head of an observation: one matched Plex copy of an item, kept until apply. A feature's
 * own observation type starts with it (struct rt_obs { struct pts_feat_obs h; ... }). Copies
 * of one Trakt entry share a group ("t:<kind>:<pos>"); an item Trakt lacks is its own group
 * ("k:<key>").
 */
struct pts_feat_obs {
	char group[PTS_FEAT_GROUP_LEN];
	char key[PTS_LEDGER_KEY_LEN];
	size_t seq;                          /* scan order: keeps the sort stable */
	enum pts_feat_kind kind;
	struct pts_ids ids;                  /* the movie's or show's */
	int season, episode, year;
	char *rating_key, *title, *show;     /* malloc'd (freed by close); show: episodes only */
	int32_t tpos;                        /* the Trakt entry, or -1 */
};

/*
 * What such a feature holds for a run: the Trakt list, its index, the Plex values seen, and
 * the observations (elements of size bytes, each starting with struct pts_feat_obs). The
 * feature's state starts with it, so pts_feat_obs_close frees the whole state.
 */
struct pts_feat_obsset {
	struct pts_feat_env env;
	struct pts_tlist trakt;
	struct pts_feat_index idx;
	struct pts_seen seen;
	void *v;
	size_t n, cap, size;
	int64_t changed;
};

/* After the Trakt list is read: index it and open the seen values of seen_kind. 0 or -1. */
int pts_feat_obs_index(struct pts_feat_obsset *s, const char *seen_kind, double tolerance);
/* feature->library: the section's Plex values are the ones seen next. 0 or -1. */
int pts_feat_obs_library(void *state, const char *section, int is_show);
/* feature->close: the observations' strings and array, list, index, seen values, state. */
void pts_feat_obs_close(void *state);

/*
 * Keep item it (Trakt entry tpos, or -1): a new observation, zeroed past its head, whose head
 * is filled from it; NULL (logged) when out of memory or past PTS_FEAT_MAX_ITEMS. The
 * feature fills the rest.
 */
struct pts_feat_obs *pts_feat_obs_add(struct pts_feat_obsset *s,
    const struct pts_feat_item *it, int32_t tpos);
/* Observation i (i < n). */
struct pts_feat_obs *pts_feat_obs_at(const struct pts_feat_obsset *s, size_t i);
/* Sort by group, scan order within a group. */
void pts_feat_obs_sort(struct pts_feat_obsset *s);
/* After sorting: the end of the group that starts at i. */
size_t pts_feat_obs_group_end(const struct pts_feat_obsset *s, size_t i);
/* The change that records a write of o (detail: JSON text or NULL, borrowed). */
void pts_feat_obs_change(const struct pts_feat_obs *o, const char *action, const char *detail,
    struct pts_feat_change *c);

#endif

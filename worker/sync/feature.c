/*
 * feature.c - the feature set the engine drives, and what the features share.
 */
#include "feature.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "db.h"
#include "log.h"
#include "plan.h"
#include "settings.h"
#include "str.h"

static const struct pts_feature *const feat_all[] = {
	&pts_feature_ratings,
	&pts_feature_watchlist,
	&pts_feature_playback,
	NULL
};
/* Each feature's kind of data, in the order of feat_all. */
static const unsigned feat_kind[] = { PTS_CKPT_RATINGS, PTS_CKPT_WATCHLIST, PTS_CKPT_PLAYBACK };

/* Longest ids JSON text stored with a change (a movie's or show's ids). */
#define FEAT_IDS_LEN 256

/* ==== The engine's side ==== */

int
pts_feat_any_enabled(sqlite3 *db)
{
	size_t i;

	for (i = 0; feat_all[i] != NULL; i++)
		if (pts_settings_get_bool(db, feat_all[i]->setting))
			return 1;
	return 0;
}

unsigned
pts_feat_enabled_kinds(sqlite3 *db)
{
	unsigned kinds = 0;
	size_t i;

	for (i = 0; feat_all[i] != NULL; i++)
		if (pts_settings_get_bool(db, feat_all[i]->setting))
			kinds |= feat_kind[i];
	return kinds;
}

size_t
pts_feat_open(struct pts_feat_set *s, const struct pts_feat_env *env, unsigned skip)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->env = *env;
	for (i = 0; feat_all[i] != NULL && s->n < PTS_FEAT_MAX; i++) {
		const struct pts_feature *f = feat_all[i];
		void *st = NULL;

		if (!pts_settings_get_bool(env->w->db, f->setting))
			continue;
		if (skip & feat_kind[i]) {
			PTS_INFO("%s: nothing moved on Plex or Trakt since the last sync: not read",
			    f->name);
			continue;
		}
		if (pts_wctx_cancelled(env->w))
			break;
		if (f->open(&s->env, &st) != 0) {
			PTS_ERROR("%s: cannot start; this sync goes on without it", f->name);
			env->run->errors++;
			continue;
		}
		s->f[s->n] = f;
		s->kind[s->n] = feat_kind[i];
		s->state[s->n++] = st;
	}
	return s->n;
}

/* Close feature i and drop it from the set. */
static void
feat_drop(struct pts_feat_set *s, size_t i)
{
	s->f[i]->close(s->state[i]);
	memmove(&s->f[i], &s->f[i + 1], (s->n - i - 1) * sizeof(s->f[0]));
	memmove(&s->state[i], &s->state[i + 1], (s->n - i - 1) * sizeof(s->state[0]));
	memmove(&s->kind[i], &s->kind[i + 1], (s->n - i - 1) * sizeof(s->kind[0]));
	s->n--;
}

int
pts_feat_has(const struct pts_feat_set *s, unsigned kind)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->kind[i] == kind)
			return 1;
	return 0;
}

void
pts_feat_library(struct pts_feat_set *s, const char *section, int is_show)
{
	size_t i = 0;

	snprintf(s->section, sizeof(s->section), "%s", section);
	while (i < s->n) {
		if (s->f[i]->library(s->state[i], section, is_show) != 0) {
			PTS_ERROR("%s: stopped for this sync (library %s could not be read)",
			    s->f[i]->name, section);
			s->env.run->errors++;
			feat_drop(s, i);
			continue;
		}
		i++;
	}
}

int
pts_feat_item(struct pts_feat_set *s, enum pts_feat_kind kind, const struct pts_plex_item *it,
    const struct pts_ids *ids, int season, int episode, const char *key)
{
	struct pts_feat_item fi;
	char show_key[PTS_LEDGER_KEY_LEN];
	size_t i;

	if (s->n == 0)
		return 0;
	if (key == NULL) {
		if ((kind == PTS_FEAT_SEASON ? pts_feat_key_season(ids, season, show_key,
		    sizeof(show_key)) : pts_feat_key_show(ids, show_key, sizeof(show_key))) != 0)
			return 0;
		key = show_key;
	}
	fi.kind = kind;
	fi.plex = it;
	fi.ids = ids;
	fi.season = season;
	fi.episode = episode;
	fi.key = key;
	fi.section = s->section;
	for (i = 0; i < s->n; i++)
		if (s->f[i]->item(s->state[i], &fi) != 0)
			return -1;
	return 0;
}

int
pts_feat_apply(struct pts_feat_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		int64_t errors = s->env.run->errors;
		int rc;

		if (pts_wctx_cancelled(s->env.w))
			return 1;
		rc = s->f[i]->apply(s->state[i]);
		if (rc == 1)
			return 1;
		/* PTS_FEAT_REFUSED: the run's warning says it; not an error. */
		if (rc < 0) {
			PTS_ERROR("%s: not completed", s->f[i]->name);
			s->env.run->errors++;
		}
		/* In step: the next sync may leave this kind out while nothing of it moves. */
		if (rc == 0 && s->env.run->errors == errors)
			s->done |= s->kind[i];
	}
	(void)pts_run_save_counts(s->env.run);
	return 0;
}

void
pts_feat_close(struct pts_feat_set *s)
{
	while (s->n > 0)
		feat_drop(s, s->n - 1);
}

/* ==== Helpers ==== */

int
pts_feat_key_season(const struct pts_ids *ids, int season, char *buf, size_t len)
{
	char show[PTS_LEDGER_KEY_LEN];

	if (season < 0 || pts_feat_key_show(ids, show, sizeof(show)) != 0)
		return -1;
	/* "show:..." becomes "season:...:N". */
	if ((size_t)snprintf(buf, len, "season:%.*s:%d", (int)(PTS_LEDGER_KEY_LEN - 32),
	    show + strlen("show:"), season) >= len)
		return -1;
	return 0;
}

int
pts_feat_key_show(const struct pts_ids *ids, char *buf, size_t len)
{
	if (ids->tvdb > 0)
		snprintf(buf, len, "show:tvdb:%lld", (long long)ids->tvdb);
	else if (ids->imdb[0] != '\0')
		snprintf(buf, len, "show:imdb:%s", ids->imdb);
	else if (ids->tmdb > 0)
		snprintf(buf, len, "show:tmdb:%lld", (long long)ids->tmdb);
	else if (ids->trakt > 0)
		snprintf(buf, len, "show:trakt:%lld", (long long)ids->trakt);
	else
		return -1;
	return 0;
}

int
pts_feat_index_build(struct pts_feat_index *x, const struct pts_tlist *l)
{
	size_t i;

	memset(x, 0, sizeof(*x));
	if (pts_idx_init(&x->movies, l->n) != 0 || pts_idx_init(&x->shows, l->n) != 0 ||
	    pts_idx_init(&x->epshows, 64) != 0 || pts_idx_init(&x->eps, l->n) != 0 ||
	    pts_idx_init(&x->seasons, 16) != 0)
		goto fail;
	for (i = 0; i < l->n; i++) {
		const struct pts_tlist_entry *e = &l->v[i];
		int32_t slot;

		switch (e->kind) {
		case PTS_TLIST_MOVIE:
			if (pts_idx_put_ids(&x->movies, &e->ids, (int32_t)i) != 0)
				goto fail;
			break;
		case PTS_TLIST_SHOW:
			if (pts_idx_put_ids(&x->shows, &e->ids, (int32_t)i) != 0)
				goto fail;
			break;
		case PTS_TLIST_EPISODE:
			slot = pts_idx_get_ids(&x->epshows, &e->ids);
			if (slot < 0) {
				slot = x->nslots++;
				if (pts_idx_put_ids(&x->epshows, &e->ids, slot) != 0)
					goto fail;
			}
			if (pts_idx_put(&x->eps, PTS_IDX_EPISODE, pts_idx_episode(slot, e->season,
			    e->episode), (int32_t)i) != 0)
				goto fail;
			break;
		case PTS_TLIST_SEASON:
			/* Seasons share the episodes' show slots, in an index of their own. */
			if (e->season < 0)
				break;
			slot = pts_idx_get_ids(&x->epshows, &e->ids);
			if (slot < 0) {
				slot = x->nslots++;
				if (pts_idx_put_ids(&x->epshows, &e->ids, slot) != 0)
					goto fail;
			}
			if (pts_idx_put(&x->seasons, PTS_IDX_EPISODE, pts_idx_episode(slot, e->season,
			    0), (int32_t)i) != 0)
				goto fail;
			break;
		}
	}
	return 0;
fail:
	pts_feat_index_free(x);
	return -1;
}

int32_t
pts_feat_index_find(const struct pts_feat_index *x, enum pts_feat_kind kind,
    const struct pts_ids *ids, int season, int episode)
{
	int32_t slot;

	switch (kind) {
	case PTS_FEAT_MOVIE:
		return pts_idx_get_ids(&x->movies, ids);
	case PTS_FEAT_SHOW:
		return pts_idx_get_ids(&x->shows, ids);
	case PTS_FEAT_EPISODE:
		if (season < 0 || episode < 0 || (slot = pts_idx_get_ids(&x->epshows, ids)) < 0)
			return -1;
		return pts_idx_get(&x->eps, PTS_IDX_EPISODE, pts_idx_episode(slot, season, episode));
	case PTS_FEAT_SEASON:
		if (season < 0 || (slot = pts_idx_get_ids(&x->epshows, ids)) < 0)
			return -1;
		return pts_idx_get(&x->seasons, PTS_IDX_EPISODE, pts_idx_episode(slot, season, 0));
	}
	return -1;
}

void
pts_feat_index_free(struct pts_feat_index *x)
{
	pts_idx_free(&x->movies);
	pts_idx_free(&x->shows);
	pts_idx_free(&x->epshows);
	pts_idx_free(&x->eps);
	pts_idx_free(&x->seasons);
	x->nslots = 0;
}

const char *
pts_feat_kind_name(enum pts_feat_kind kind)
{
	return kind == PTS_FEAT_MOVIE ? "movie" : kind == PTS_FEAT_SHOW ? "show" :
	    kind == PTS_FEAT_SEASON ? "season" : "episode";
}

/* The ledger's form of a feature's change; ids is the caller's buffer for its ids text. */
static void
feat_ledger_change(const struct pts_feat_change *c, char *ids, size_t idslen,
    struct pts_change *ch)
{
	pts_ids_json_text(c->ids, ids, idslen);
	memset(ch, 0, sizeof(*ch));
	ch->action = c->action;
	ch->type = pts_feat_kind_name(c->kind);
	ch->item_key = c->key;
	ch->title = c->title;
	ch->show = c->show;
	ch->season = c->kind == PTS_FEAT_EPISODE || c->kind == PTS_FEAT_SEASON ? c->season : -1;
	ch->episode = c->kind == PTS_FEAT_EPISODE ? c->episode : -1;
	ch->year = c->year;
	ch->ids = ids;
	ch->detail = c->detail;
}

int
pts_feat_record(const struct pts_feat_env *env, int64_t batch, const struct pts_feat_change *c,
    enum pts_ledger_result result, int64_t *id)
{
	struct pts_change ch;
	char ids[FEAT_IDS_LEN];

	feat_ledger_change(c, ids, sizeof(ids), &ch);
	return pts_ledger_record(env->w->db, env->run->id, batch, &ch, result, id);
}

/* What a refused status means, for the run's warning. */
static const char *
feat_refusal(long status)
{
	switch (status) {
	case PTS_TLIST_ACCOUNT_LIMIT:
		return "the account's limit is reached (420)";
	case PTS_TLIST_LOCKED:
		return "the account is locked (423)";
	default:
		return "it needs a VIP account (426)";
	}
}

/*
 * Trakt refused list for the account (420, 423, 426): nothing of batch was applied, and any
 * further write of that kind would be refused too. The batch is settled failed without
 * counting errors (the run goes on and ends ok), and the run gets a warning naming the kind,
 * the cap from /users/settings (a 420) and what was left undone. Returns PTS_FEAT_REFUSED.
 */
static int
feat_refused(const struct pts_feat_env *env, const char *list, int remove, int64_t batch,
    long status, size_t left, int64_t cap)
{
	char cap_text[64] = "";

	if (pts_ledger_settle_batch(env->w->db, batch, PTS_LEDGER_FAILED, PTS_BATCH_SETTLED) != 0)
		PTS_ERROR("%s: could not record the refused batch", list);
	/* The cap, unless it was read before the write already (cap >= 0). */
	if (status == PTS_TLIST_ACCOUNT_LIMIT && cap < 0 &&
	    pts_tlist_limit(env->trakt, list, &cap) != PTS_HTTP_OK)
		cap = 0;
	if (status == PTS_TLIST_ACCOUNT_LIMIT && cap > 0)
		snprintf(cap_text, sizeof(cap_text), ": %lld items", (long long)cap);
	(void)pts_run_warn(env->run, "%s: Trakt refused the %s because %s%s; %zu %s left undone,"
	    " the other kinds went on", list, remove ? "removals" : "additions",
	    feat_refusal(status), cap_text, left, left == 1 ? "item" : "items");
	return PTS_FEAT_REFUSED;
}

/*
 * Additions w[0..n) to a list that holds have entries, before any is sent: the cap read
 * from /users/settings into *cap (0: none named, -1: not read), and how many fit. Those past
 * it are recorded failed and named in a warning. Returns how many to send.
 */
static size_t
feat_fit_cap(const struct pts_feat_env *env, const char *list, struct pts_feat_tw *w,
    size_t n, int64_t have, int64_t *cap)
{
	size_t fit, i;

	*cap = -1;
	if (n == 0 || have < 0)
		return n;
	if (pts_tlist_limit(env->trakt, list, cap) != PTS_HTTP_OK) {
		PTS_WARN("%s: cannot read the account's limits: sent as they are", list);
		*cap = -1;
		return n;
	}
	if (*cap <= 0 || have + (int64_t)n <= *cap)
		return n;
	fit = have >= *cap ? 0 : (size_t)(*cap - have);
	for (i = fit; i < n; i++) {
		w[i].change.detail = w[i].detail[0] ? w[i].detail : NULL;
		if (pts_feat_record(env, 0, &w[i].change, PTS_LEDGER_FAILED, NULL) != 0)
			PTS_ERROR("%s: could not record an addition left undone", list);
	}
	(void)pts_run_warn(env->run, "%s: not all additions were sent because the account's limit"
	    " would be passed: %lld items, %lld on Trakt; %zu %s left undone, the other kinds"
	    " went on", list, (long long)*cap, (long long)have, n - fit, n - fit == 1 ? "item" :
	    "items");
	return fit;
}

int
pts_feat_trakt_write(const struct pts_feat_env *env, const char *list, int remove,
    struct pts_feat_tw *w, size_t n, int64_t have, int64_t *changed)
{
	struct pts_tlist_item items[PTS_TLIST_BATCH];
	struct pts_change ch[PTS_TLIST_BATCH];
	char ids[PTS_TLIST_BATCH][FEAT_IDS_LEN];
	int64_t rows[PTS_TLIST_BATCH];
	unsigned char nf[PTS_TLIST_BATCH];
	sqlite3 *db = env->w->db;
	size_t from, i, k, want = n;
	long status = 0;
	int64_t cap = -1;

	if (!remove)
		n = feat_fit_cap(env, list, w, n, have, &cap);
	for (from = 0; from < n; from += k) {
		int64_t batch = 0;
		enum pts_http_result r;
		char label[64];

		k = n - from < PTS_TLIST_BATCH ? n - from : PTS_TLIST_BATCH;
		if (pts_wctx_cancelled(env->w))
			return 1;
		for (i = 0; i < k; i++) {
			struct pts_feat_tw *x = &w[from + i];

			x->change.detail = x->detail[0] ? x->detail : NULL;
			feat_ledger_change(&x->change, ids[i], sizeof(ids[i]), &ch[i]);
			items[i] = x->item;
		}
		if (pts_ledger_batch_open(db, env->run, "trakt_lists", ch, k, &batch, rows) != 0)
			return -1;
		snprintf(label, sizeof(label), "Trakt %s%s", list, remove ? " (removing)" : "");
		pts_progress_item(&env->run->progress, label);
		(void)pts_progress_flush(&env->run->progress, 0);
		r = pts_tlist_write(env->trakt, list, remove, items, k, &status);
		if (r == PTS_HTTP_HTTP_ERROR && pts_tlist_refused(status))
			return feat_refused(env, list, remove, batch, status, want - from, cap);
		if (r == PTS_HTTP_OK) {
			for (i = 0; i < k; i++)
				nf[i] = items[i].not_found != 0;
			if (pts_ledger_batch_settle(db, env->run, batch, rows, nf, k, changed) != 0)
				return -1;
			for (i = 0; i < k; i++) {
				struct pts_feat_tw *x = &w[from + i];

				if (nf[i])
					PTS_WARN("%s: not found on Trakt: %s", list, x->change.title ?
					    x->change.title : x->change.key);
				else
					x->ok = 1;
			}
			continue;
		}
		if (r == PTS_HTTP_CANCELLED) {
			/* Stopped before it was sent (a write is never cut short): not applied. */
			if (pts_ledger_settle_batch(db, batch, PTS_LEDGER_FAILED, PTS_BATCH_SETTLED) != 0)
				PTS_ERROR("%s: could not record the unsent batch", list);
			return 1;
		}
		PTS_ERROR("%s: Trakt did not take %zu items (%s)", list, k, pts_http_result_name(r));
		/* A lost answer may have been applied: unknown, never planned again blindly. */
		if (pts_ledger_batch_fail(db, env->run, batch, r == PTS_HTTP_UNKNOWN ?
		    PTS_LEDGER_UNKNOWN : PTS_LEDGER_FAILED, k) != 0)
			return -1;
		/* Refused (auth, account): the next batch would be too. */
		if (r == PTS_HTTP_HTTP_ERROR)
			return -1;
	}
	/* Additions past the cap were left undone: the kind is not in step. */
	return n < want ? PTS_FEAT_REFUSED : 0;
}

int
pts_feat_trakt_plan(const struct pts_feat_env *env, struct pts_feat_tw *w, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	if (pts_db_begin(env->w->db) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		w[i].change.detail = w[i].detail[0] ? w[i].detail : NULL;
		if (pts_feat_record(env, 0, &w[i].change, PTS_LEDGER_PLANNED, NULL) != 0) {
			pts_db_rollback(env->w->db);
			return -1;
		}
	}
	return pts_db_commit(env->w->db);
}

int
pts_feat_save_count(const struct pts_feat_env *env, const char *column, int64_t n)
{
	static const char *const cols[] = { "ratings_changed", "watchlist_changed",
	    "playback_changed", NULL };
	char sql[96];
	size_t i;

	for (i = 0; cols[i] != NULL; i++)
		if (strcmp(cols[i], column) == 0)
			break;
	if (cols[i] == NULL)
		return -1;
	snprintf(sql, sizeof(sql), "UPDATE runs SET %s = ? WHERE id = ?", cols[i]);
	return pts_db_run(env->w->db, sql, "ii", n, env->run->id);
}

/* ==== Observations ==== */

int
pts_feat_obs_index(struct pts_feat_obsset *s, const char *seen_kind, double tolerance)
{
	if (pts_feat_index_build(&s->idx, &s->trakt) != 0)
		return -1;
	return pts_seen_open(&s->seen, s->env.w->db, seen_kind, tolerance);
}

int
pts_feat_obs_library(void *state, const char *section, int is_show)
{
	struct pts_feat_obsset *s = state;

	(void)is_show;
	return pts_seen_section(&s->seen, s->env.w->db, section, pts_now());
}

struct pts_feat_obs *
pts_feat_obs_at(const struct pts_feat_obsset *s, size_t i)
{
	return (struct pts_feat_obs *)((char *)s->v + i * s->size);
}

void
pts_feat_obs_close(void *state)
{
	struct pts_feat_obsset *s = state;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		struct pts_feat_obs *o = pts_feat_obs_at(s, i);

		free(o->rating_key);
		free(o->title);
		free(o->show);
	}
	free(s->v);
	pts_tlist_free(&s->trakt);
	pts_feat_index_free(&s->idx);
	pts_seen_free(&s->seen);
	free(s);
}

struct pts_feat_obs *
pts_feat_obs_add(struct pts_feat_obsset *s, const struct pts_feat_item *it, int32_t tpos)
{
	const struct pts_plex_item *pi = it->plex;
	struct pts_feat_obs *o;
	const char *show;

	if (pts_array_grow(&s->v, &s->cap, s->n, s->size, PTS_FEAT_MAX_ITEMS, "feature items") != 0)
		return NULL;
	o = pts_feat_obs_at(s, s->n);
	memset(o, 0, s->size);
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
	o->tpos = tpos;
	o->rating_key = pts_str_dup(pi->rating_key);
	o->title = pts_str_dup(pi->title);
	/* The show's title: an episode's grandparent, a season's parent. */
	show = it->kind == PTS_FEAT_EPISODE ? pi->grandparent_title : it->kind == PTS_FEAT_SEASON ?
	    pi->parent_title : NULL;
	o->show = pts_str_dup(show);
	if (o->rating_key == NULL || (pi->title != NULL && o->title == NULL) ||
	    (show != NULL && o->show == NULL)) {
		PTS_ERROR("features: out of memory keeping an item");
		free(o->rating_key);
		free(o->title);
		free(o->show);
		return NULL;
	}
	s->n++;
	return o;
}

static int
feat_obs_cmp(const void *a, const void *b)
{
	const struct pts_feat_obs *x = a, *y = b;
	int c = strcmp(x->group, y->group);

	return c != 0 ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

void
pts_feat_obs_sort(struct pts_feat_obsset *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, s->size, feat_obs_cmp);
}

size_t
pts_feat_obs_group_end(const struct pts_feat_obsset *s, size_t i)
{
	const char *group = pts_feat_obs_at(s, i)->group;
	size_t j;

	for (j = i + 1; j < s->n && strcmp(pts_feat_obs_at(s, j)->group, group) == 0; j++)
		;
	return j;
}

void
pts_feat_obs_change(const struct pts_feat_obs *o, const char *action, const char *detail,
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

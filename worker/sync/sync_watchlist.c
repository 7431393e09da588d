/*
 * sync_watchlist.c - the watchlist feature (Trakt watchlist ↔ the Plex account's watchlist
 * or a Plex collection).
 */
#include "sync_watchlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "clock.h"
#include "db.h"
#include "jsonx.h"
#include "log.h"
#include "ledger.h"
#include "plex_lists.h"
#include "plexdisc.h"
#include "settings.h"
#include "str.h"

#define WL_GROUP_LEN (PTS_LEDGER_KEY_LEN + 24)
#define WL_TITLE_MAX 256
#define WL_RK_LEN 40
/* meta key: the watchlist_plex_side the watchlist memory belongs to. */
#define WL_META_SIDE "watchlist_plex_side"

struct wl_section {
	char key[PTS_PLEX_KEY_LEN];
	int is_show;
	char collection[WL_RK_LEN];  /* its rating key; "" when the library has none */
	char **members;              /* rating keys in the collection, sorted */
	size_t nmembers, cap;
};

/* One Plex movie or show that is on some watchlist (or was, at the last sync). */
struct wl_obs {
	char group[WL_GROUP_LEN];    /* "t:<pos>" when on Trakt's watchlist, else the item key */
	char key[PTS_LEDGER_KEY_LEN];
	size_t seq;
	enum pts_feat_kind kind;
	struct pts_ids ids;
	int year;
	char *rating_key, *title;
	int sec;                     /* its library in secs[] */
	int in_plex, prev;
	int32_t tpos;
};

/* One item (its copies g[first .. first+n)) and where it ends up. */
struct wl_group {
	size_t first, n;
	int in_trakt, in_plex, prev;
	int final_trakt, final_plex;
	size_t plex_copies;          /* copies in a collection */
	size_t plex_removed;         /* of those, taken out by this run */
};

/* A Plex write: add (one copy) or remove (every copy in a collection). */
struct wl_pw {
	struct wl_obs *o;
	struct wl_group *g;
	int remove;
};

/* A server movie or show of a new agent: its plex:// guid and ids (account side only). */
struct wl_srv {
	char *guid;
	enum pts_feat_kind kind;
	struct pts_ids ids;
	char key[PTS_LEDGER_KEY_LEN];
	int year;
	char *title;
};

struct watchlist {
	struct pts_feat_env env;
	int account;                 /* watchlist_plex_side = account: plex.tv, not collections */
	struct pts_pdisc_list acct;  /* the account's watchlist (account side) */
	char **acct_guids;           /* its guids, sorted, for the server items to look up */
	struct wl_srv *srv;          /* server items on the account watchlist or on Trakt's */
	size_t nsrv, srvcap;
	struct pts_tlist trakt;
	struct pts_feat_index idx;
	char title[WL_TITLE_MAX];
	int max_percent;
	struct wl_section secs[PTS_WATCHLIST_MAX_SECTIONS];
	size_t nsecs;
	int cur;                     /* the library being scanned, -1 none */
	char **prev;                 /* watchlist_state keys, sorted */
	size_t nprev;
	struct wl_obs *v;
	size_t n, cap;
	size_t plex_size;            /* items in the collections looked at */
	char machine[PTS_PLEXL_MACHINE_LEN];
	int64_t changed;
};

int
pts_watchlist_removals_allowed(size_t removals, size_t size, int percent)
{
	size_t allowed;

	if (removals == 0)
		return 1;
	if (percent <= 0)
		return 0;
	if (percent >= 100)
		return 1;
	allowed = size * (size_t)percent / 100;
	return removals <= (allowed > 0 ? allowed : 1);
}

static int
wl_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
wl_has(char **v, size_t n, const char *s)
{
	return n > 0 && bsearch(&s, v, n, sizeof(*v), wl_strcmp) != NULL;
}

static void
wl_close(void *p)
{
	struct watchlist *s = p;
	size_t i, j;

	if (s == NULL)
		return;
	for (i = 0; i < s->nsecs; i++) {
		for (j = 0; j < s->secs[i].nmembers; j++)
			free(s->secs[i].members[j]);
		free(s->secs[i].members);
	}
	for (i = 0; i < s->nprev; i++)
		free(s->prev[i]);
	free(s->prev);
	for (i = 0; i < s->n; i++) {
		free(s->v[i].rating_key);
		free(s->v[i].title);
	}
	free(s->v);
	for (i = 0; i < s->nsrv; i++) {
		free(s->srv[i].guid);
		free(s->srv[i].title);
	}
	free(s->srv);
	free(s->acct_guids);
	pts_pdisc_list_free(&s->acct);
	pts_tlist_free(&s->trakt);
	pts_feat_index_free(&s->idx);
	free(s);
}

/* The keys the last sync left on both watchlists. 0 or -1. */
static int
wl_load_prev(struct watchlist *s)
{
	sqlite3_stmt *st = pts_db_prepare(s->env.w->db, "SELECT item_key FROM watchlist_state");
	size_t cap = 0;
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);

		if (k == NULL)
			continue;
		if (pts_array_grow(&s->prev, &cap, s->nprev, sizeof(*s->prev), PTS_FEAT_MAX_ITEMS,
		    "watchlist state") != 0)
			break;
		if ((s->prev[s->nprev] = strdup(k)) == NULL)
			break;
		s->nprev++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	if (s->nprev > 1)
		qsort(s->prev, s->nprev, sizeof(*s->prev), wl_strcmp);
	return 0;
}

/*
 * Which side Plex's watchlist is (watchlist_plex_side). The memory of what was on both lists
 * belongs to one side: when the side changed since the last sync (meta WL_META_SIDE; none
 * means "collection", the only side before the setting) it starts over, so the next sync
 * only adds (a dry run only ignores the memory and changes nothing). 0, 1 when the memory is
 * to be ignored (a dry run after a change), or -1.
 */
static int
wl_side(struct watchlist *s)
{
	sqlite3 *db = s->env.w->db;
	char *side = pts_settings_get_str(db, PTS_KEY_WATCHLIST_PLEX_SIDE);
	char *last = pts_db_meta_get(db, WL_META_SIDE);
	const char *now;
	int rc = 0;

	s->account = side == NULL || strcmp(side, "collection") != 0;
	now = s->account ? "account" : "collection";
	if (strcmp(last ? last : "collection", now) != 0) {
		PTS_INFO("watchlist: Plex's side is now the %s: the watchlist memory starts over"
		    " (this sync only adds)", s->account ? "account's watchlist" : "collection");
		if (s->env.run->dry_run)
			rc = 1;
		else
			rc = pts_db_run(db, "DELETE FROM watchlist_state", "");
	}
	if (rc == 0 && !s->env.run->dry_run && (last == NULL || strcmp(last, now) != 0))
		rc = pts_db_meta_set(db, WL_META_SIDE, now);
	free(side);
	free(last);
	return rc;
}

/* With watchlist_plex_side = account: read the whole account watchlist. 0 or -1 (logged). */
static int
wl_open_account(struct watchlist *s)
{
	char why[PTS_PDISC_WHY_LEN];
	enum pts_http_result r;
	size_t i;

	if (!s->account)
		return 0;
	if (!pts_pdisc_usable(s->env.plex, why, sizeof(why))) {
		(void)pts_run_warn(s->env.run, "watchlist: %s", why);
		return -1;
	}
	r = pts_pdisc_watchlist(s->env.plex, 0, 0, &s->acct);
	if (r != PTS_HTTP_OK) {
		PTS_ERROR("watchlist: cannot read the Plex account's watchlist (%s)",
		    pts_http_result_name(r));
		return -1;
	}
	if (s->acct.n > 0 && (s->acct_guids = calloc(s->acct.n, sizeof(char *))) == NULL)
		return -1;
	for (i = 0; i < s->acct.n; i++)
		s->acct_guids[i] = s->acct.v[i].guid;
	if (s->acct.n > 1)
		qsort(s->acct_guids, s->acct.n, sizeof(char *), wl_strcmp);
	return 0;
}

static int
wl_open(const struct pts_feat_env *env, void **state)
{
	struct watchlist *s = calloc(1, sizeof(*s));
	enum pts_http_result r;
	char *title;
	size_t i, other = 0;
	int fresh;

	if (s == NULL)
		return -1;
	s->env = *env;
	s->cur = -1;
	title = pts_settings_get_str(env->w->db, PTS_KEY_WATCHLIST_COLLECTION);
	snprintf(s->title, sizeof(s->title), "%s", title && title[0] ? title : "Watchlist");
	free(title);
	s->max_percent = (int)pts_settings_get_int(env->w->db, PTS_KEY_WATCHLIST_REMOVE_MAX_PERCENT);
	r = pts_tlist_watchlist(env->trakt, &s->trakt);
	if (r != PTS_HTTP_OK) {
		PTS_ERROR("watchlist: cannot read the watchlist from Trakt (%s)",
		    pts_http_result_name(r));
		goto fail;
	}
	if (pts_feat_index_build(&s->idx, &s->trakt) != 0 || (fresh = wl_side(s)) < 0 ||
	    (fresh == 0 && wl_load_prev(s) != 0))
		goto fail;
	for (i = 0; i < s->trakt.n; i++)
		other += s->trakt.v[i].kind != PTS_TLIST_MOVIE && s->trakt.v[i].kind != PTS_TLIST_SHOW;
	if (wl_open_account(s) != 0)
		goto fail;
	if (s->account)
		PTS_INFO("watchlist: %zu on Trakt%s; Plex side: the account's watchlist (%zu)",
		    s->trakt.n, other ? " (episodes and seasons stay on Trakt only)" : "",
		    s->acct.n);
	else
		PTS_INFO("watchlist: %zu on Trakt%s; Plex side: collection \"%s\"", s->trakt.n,
		    other ? " (episodes and seasons stay on Trakt only)" : "", s->title);
	*state = s;
	return 0;
fail:
	wl_close(s);
	return -1;
}

static int
wl_member(void *ctx, const struct pts_plex_item *it)
{
	struct wl_section *sec = ctx;

	if (pts_array_grow(&sec->members, &sec->cap, sec->nmembers, sizeof(*sec->members),
	    PTS_FEAT_MAX_ITEMS, "Plex watchlist") != 0)
		return 1;
	if ((sec->members[sec->nmembers] = strdup(it->rating_key)) == NULL)
		return 1;
	sec->nmembers++;
	return 0;
}

static int
wl_library(void *p, const char *section, int is_show)
{
	struct watchlist *s = p;
	struct wl_section *sec;
	enum pts_http_result r;

	if (s->nsecs == PTS_WATCHLIST_MAX_SECTIONS)
		return -1;
	sec = &s->secs[s->nsecs];
	memset(sec, 0, sizeof(*sec));
	snprintf(sec->key, sizeof(sec->key), "%s", section);
	sec->is_show = is_show;
	s->cur = (int)s->nsecs++;
	if (s->account)
		return 0;   /* the account's watchlist was read whole at open */
	r = pts_plexl_collection_find(s->env.plex, section, s->title, sec->collection,
	    sizeof(sec->collection));
	if (r != PTS_HTTP_OK) {
		PTS_ERROR("watchlist: cannot list the collections of library %s (%s)", section,
		    pts_http_result_name(r));
		return -1;
	}
	if (sec->collection[0] == '\0')
		return 0;
	r = pts_plexl_collection_items(s->env.plex, sec->collection, wl_member, sec);
	if (r != PTS_HTTP_OK) {
		PTS_ERROR("watchlist: cannot read collection \"%s\" of library %s (%s)", s->title,
		    section, pts_http_result_name(r));
		return -1;
	}
	if (sec->nmembers > 1)
		qsort(sec->members, sec->nmembers, sizeof(*sec->members), wl_strcmp);
	s->plex_size += sec->nmembers;
	return 0;
}

/*
 * Account side: keep a server item of a new agent when it is on the account watchlist (its
 * ids map the entry) or on Trakt's (its guid is the Plex id to add). 0, or -1 no memory.
 */
static int
wl_item_account(struct watchlist *s, const struct pts_feat_item *it)
{
	const char *g = it->plex->guid;
	struct wl_srv *x;

	if (g == NULL || strncmp(g, "plex://", 7) != 0)
		return 0;
	if (!wl_has(s->acct_guids, s->acct.n, g) &&
	    pts_feat_index_find(&s->idx, it->kind, it->ids, -1, -1) < 0)
		return 0;
	if (pts_array_grow(&s->srv, &s->srvcap, s->nsrv, sizeof(*s->srv), PTS_FEAT_MAX_ITEMS,
	    "watchlist server items") != 0)
		return -1;
	x = &s->srv[s->nsrv];
	memset(x, 0, sizeof(*x));
	if ((x->guid = strdup(g)) == NULL)
		return -1;
	x->kind = it->kind;
	x->ids = *it->ids;
	snprintf(x->key, sizeof(x->key), "%s", it->key);
	x->year = it->plex->year;
	x->title = pts_str_dup(it->plex->title);
	s->nsrv++;
	return 0;
}

static int
wl_item(void *p, const struct pts_feat_item *it)
{
	struct watchlist *s = p;
	struct wl_section *sec;
	struct wl_obs *o;
	int32_t tpos;
	int in_plex, prev;

	if (it->kind == PTS_FEAT_EPISODE || it->kind == PTS_FEAT_SEASON || s->cur < 0)
		return 0;
	sec = &s->secs[s->cur];
	/* Movies belong in movie libraries' collections, shows in show libraries'. */
	if ((it->kind == PTS_FEAT_SHOW) != (sec->is_show != 0))
		return 0;
	if (s->account)
		return wl_item_account(s, it);
	in_plex = wl_has(sec->members, sec->nmembers, it->plex->rating_key);
	tpos = pts_feat_index_find(&s->idx, it->kind, it->ids, -1, -1);
	prev = wl_has(s->prev, s->nprev, it->key);
	if (!in_plex && tpos < 0 && !prev)
		return 0;
	if (pts_array_grow(&s->v, &s->cap, s->n, sizeof(*s->v), PTS_FEAT_MAX_ITEMS,
	    "watchlist items") != 0)
		return -1;
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
	o->year = it->plex->year;
	o->rating_key = strdup(it->plex->rating_key);
	o->title = pts_str_dup(it->plex->title);
	if (o->rating_key == NULL) {
		free(o->title);
		return -1;
	}
	o->sec = s->cur;
	o->in_plex = in_plex;
	o->prev = prev;
	o->tpos = tpos;
	s->n++;
	return 0;
}

/* A server item by guid (account side), or NULL. */
static const struct wl_srv *
wl_srv_by_guid(const struct watchlist *s, const char *guid)
{
	size_t i;

	for (i = 0; i < s->nsrv; i++)
		if (strcmp(s->srv[i].guid, guid) == 0)
			return &s->srv[i];
	return NULL;
}

/* One account-side observation. 0, or -1 no memory. */
static int
wl_obs_add(struct watchlist *s, enum pts_feat_kind kind, const struct pts_ids *ids,
    const char *key, const char *plex_id, const char *title, int year, int in_plex,
    int32_t tpos)
{
	struct wl_obs *o;

	if (pts_array_grow(&s->v, &s->cap, s->n, sizeof(*s->v), PTS_FEAT_MAX_ITEMS,
	    "watchlist items") != 0)
		return -1;
	o = &s->v[s->n];
	memset(o, 0, sizeof(*o));
	if (tpos >= 0)
		snprintf(o->group, sizeof(o->group), "t:%d:%ld", (int)kind, (long)tpos);
	else
		snprintf(o->group, sizeof(o->group), "k:%s", key);
	snprintf(o->key, sizeof(o->key), "%s", key);
	o->seq = s->n;
	o->kind = kind;
	o->ids = *ids;
	o->year = year;
	o->title = pts_str_dup(title);
	if (plex_id != NULL && (o->rating_key = strdup(plex_id)) == NULL) {
		free(o->title);
		return -1;
	}
	o->sec = -1;
	o->in_plex = in_plex;
	o->prev = wl_has(s->prev, s->nprev, key);
	o->tpos = tpos;
	s->n++;
	return 0;
}

/*
 * The external ids of an account watchlist entry the server lacks: from table plex_disc_ids,
 * else the metadata service (then kept there, even when it has none: not asked again).
 */
static enum pts_http_result
wl_disc_ids(struct watchlist *s, const char *plex_id, struct pts_ids *ids)
{
	sqlite3 *db = s->env.w->db;
	sqlite3_stmt *st = pts_db_prepare(db, "SELECT imdb, tmdb, tvdb FROM plex_disc_ids"
	    " WHERE plex_id = ?");
	enum pts_http_result r;
	int rc;

	if (st == NULL)
		return PTS_HTTP_NETWORK;
	sqlite3_bind_text(st, 1, plex_id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *imdb = (const char *)sqlite3_column_text(st, 0);

		if (imdb != NULL && pts_guid_imdb_valid(imdb))
			snprintf(ids->imdb, sizeof(ids->imdb), "%s", imdb);
		ids->tmdb = sqlite3_column_int64(st, 1);
		ids->tvdb = sqlite3_column_int64(st, 2);
		sqlite3_finalize(st);
		return PTS_HTTP_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		PTS_ERROR("watchlist: cannot read table plex_disc_ids (%s)", sqlite3_errmsg(db));
		return PTS_HTTP_NETWORK;
	}
	r = pts_pdisc_ids(s->env.plex, plex_id, ids);
	if (r != PTS_HTTP_OK)
		return r;
	if (pts_db_run(db, "INSERT OR REPLACE INTO plex_disc_ids(plex_id, imdb, tmdb, tvdb,"
	    " fetched_at) VALUES(?, ?, ?, ?, ?)", "ssiii", plex_id,
	    ids->imdb[0] ? ids->imdb : NULL, ids->tmdb, ids->tvdb, pts_now()) != 0)
		PTS_WARN("watchlist: could not keep the ids of %s (asked again next time)", plex_id);
	return PTS_HTTP_OK;
}

/* The item key of a movie or show by its ids. 0, or -1 without ids. */
static int
wl_key(enum pts_feat_kind kind, const struct pts_ids *ids, char *buf, size_t len)
{
	return kind == PTS_FEAT_SHOW ? pts_feat_key_show(ids, buf, len) :
	    pts_ledger_key_movie(ids, buf, len);
}

/*
 * Account side: one observation per account watchlist entry (ids from the server item with
 * its guid, else the metadata service's Guid[]) and one per Trakt movie or show no entry
 * matched. 0, or -1 (out of memory, or the metadata service failed: logged).
 */
static int
wl_account_obs(struct watchlist *s)
{
	unsigned char *claimed = NULL;
	size_t i;
	int rc = -1;

	if (s->trakt.n > 0 && (claimed = calloc(s->trakt.n, 1)) == NULL)
		return -1;
	for (i = 0; i < s->acct.n; i++) {
		const struct pts_pdisc_entry *e = &s->acct.v[i];
		const struct wl_srv *x = wl_srv_by_guid(s, e->guid);
		enum pts_feat_kind kind = e->is_show ? PTS_FEAT_SHOW : PTS_FEAT_MOVIE;
		char key[PTS_LEDGER_KEY_LEN];
		struct pts_ids ids;
		int32_t tpos;

		memset(&ids, 0, sizeof(ids));
		if (x != NULL) {
			ids = x->ids;
		} else {
			enum pts_http_result r = wl_disc_ids(s, e->id, &ids);

			if (r != PTS_HTTP_OK) {
				PTS_ERROR("watchlist: cannot read the ids of \"%s\" from Plex (%s)",
				    e->title ? e->title : e->id, pts_http_result_name(r));
				goto done;
			}
		}
		if (wl_key(kind, &ids, key, sizeof(key)) != 0) {
			PTS_WARN("watchlist: \"%s\" on the Plex watchlist has no imdb, tmdb or tvdb"
			    " id: left alone", e->title ? e->title : e->id);
			s->env.run->not_found++;
			continue;
		}
		tpos = pts_feat_index_find(&s->idx, kind, &ids, -1, -1);
		if (tpos >= 0 && (size_t)tpos < s->trakt.n)
			claimed[tpos] = 1;
		if (wl_obs_add(s, kind, &ids, key, e->id, e->title, e->year, 1, tpos) != 0)
			goto done;
	}
	for (i = 0; i < s->trakt.n; i++) {
		const struct pts_tlist_entry *t = &s->trakt.v[i];
		enum pts_feat_kind kind;
		char key[PTS_LEDGER_KEY_LEN];

		if (claimed[i] || (t->kind != PTS_TLIST_MOVIE && t->kind != PTS_TLIST_SHOW))
			continue;
		kind = t->kind == PTS_TLIST_SHOW ? PTS_FEAT_SHOW : PTS_FEAT_MOVIE;
		if (wl_key(kind, &t->ids, key, sizeof(key)) != 0)
			continue;
		if (wl_obs_add(s, kind, &t->ids, key, NULL, t->title, t->year, 0,
		    pts_feat_index_find(&s->idx, kind, &t->ids, -1, -1)) != 0)
			goto done;
	}
	s->plex_size = s->acct.n;
	rc = 0;
done:
	free(claimed);
	return rc;
}

/*
 * The Plex id of an item Trakt's watchlist has and the account's lacks: a server item's
 * plex:// guid with the same ids, else a discover search confirmed by ids. id[0] = '\0' when
 * neither found it.
 */
static enum pts_http_result
wl_account_find(struct watchlist *s, const struct wl_obs *o, char *id, size_t len)
{
	size_t i;

	id[0] = '\0';
	for (i = 0; i < s->nsrv; i++) {
		const char *slash;

		if (s->srv[i].kind != o->kind || !pts_ids_match(&s->srv[i].ids, &o->ids))
			continue;
		if ((slash = strrchr(s->srv[i].guid, '/')) != NULL && slash[1] != '\0') {
			snprintf(id, len, "%s", slash + 1);
			return PTS_HTTP_OK;
		}
	}
	return pts_pdisc_search(s->env.plex, o->title, o->kind == PTS_FEAT_SHOW, &o->ids, id,
	    len);
}

static int
wl_cmp(const void *a, const void *b)
{
	const struct wl_obs *x = a, *y = b;
	int c = strcmp(x->group, y->group);

	return c != 0 ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
wl_change(const struct watchlist *s, const struct wl_obs *o, const char *action,
    struct pts_feat_change *c, char *detail, size_t dlen)
{
	memset(c, 0, sizeof(*c));
	c->action = action;
	c->kind = o->kind;
	c->key = o->key;
	c->ids = &o->ids;
	c->season = c->episode = -1;
	c->year = o->year;
	c->title = o->title;
	if (detail != NULL) {
		json_object *d = json_object_new_object();

		if (s->account)
			pts_json_add_str(d, "watchlist", "account");
		else
			pts_json_add_str(d, "collection", s->title);
		snprintf(detail, dlen, "%s", json_object_to_json_string_ext(d,
		    JSON_C_TO_STRING_PLAIN));
		json_object_put(d);
		c->detail = detail;
	}
}

static void
wl_tw(const struct watchlist *s, struct wl_obs *o, const char *action, struct pts_feat_tw *x)
{
	memset(x, 0, sizeof(*x));
	wl_change(s, o, action, &x->change, x->detail, sizeof(x->detail));
	x->item.kind = o->kind == PTS_FEAT_SHOW ? PTS_TLIST_SHOW : PTS_TLIST_MOVIE;
	x->item.ids = o->ids;
	x->item.season = x->item.episode = -1;
}

/* The machine identifier item URIs need (read once). 0 or -1. */
static int
wl_machine(struct watchlist *s)
{
	enum pts_http_result r;

	if (s->machine[0] != '\0')
		return 0;
	r = pts_plexl_machine_id(s->env.plex, s->machine, sizeof(s->machine));
	if (r != PTS_HTTP_OK) {
		PTS_ERROR("watchlist: cannot read Plex's machine identifier (%s)",
		    pts_http_result_name(r));
		return -1;
	}
	return 0;
}

/* One Plex write with its change. 0, 1 cancelled, -1 database failure. */
static int
wl_plex_one(struct watchlist *s, struct wl_pw *x)
{
	struct wl_section *sec = x->o->sec >= 0 ? &s->secs[x->o->sec] : NULL;
	char pid[PTS_PDISC_ID_LEN];
	struct pts_feat_change c;
	char detail[WL_TITLE_MAX + 32];
	enum pts_http_result r = PTS_HTTP_OK;
	int64_t row = 0;
	const char *rk = x->o->rating_key;

	if (pts_wctx_cancelled(s->env.w))
		return 1;
	wl_change(s, x->o, x->remove ? PTS_ACT_WATCHLIST_REMOVE_PLEX : PTS_ACT_WATCHLIST_ADD_PLEX,
	    &c, detail, sizeof(detail));
	if (pts_feat_record(&s->env, 0, &c, PTS_LEDGER_PENDING, &row) != 0)
		return -1;
	pts_progress_item(&s->env.run->progress, x->o->title);
	if (s->account) {
		if (rk != NULL) {
			snprintf(pid, sizeof(pid), "%s", rk);
			r = PTS_HTTP_OK;
		} else {
			r = wl_account_find(s, x->o, pid, sizeof(pid));
		}
		if (r == PTS_HTTP_OK && pid[0] == '\0') {
			PTS_WARN("watchlist: %s is not on Plex's discover service (searched by title,"
			    " confirmed by ids): not added to the Plex watchlist",
			    x->o->title ? x->o->title : x->o->key);
			s->env.run->not_found++;
			(void)pts_ledger_set_result(s->env.w->db, row, PTS_LEDGER_NOT_FOUND);
			return 0;
		}
		if (r == PTS_HTTP_OK)
			r = pts_pdisc_set(s->env.plex, pid, x->remove);
	} else if (sec == NULL) {
		r = PTS_HTTP_BAD_RESPONSE;
	} else if (x->remove) {
		r = pts_plexl_collection_remove(s->env.plex, sec->collection, rk);
	} else if (wl_machine(s) != 0) {
		r = PTS_HTTP_NETWORK;
	} else if (sec->collection[0] == '\0') {
		r = pts_plexl_collection_create(s->env.plex, sec->key, sec->is_show ?
		    PTS_PLEX_TYPE_SHOW : PTS_PLEX_TYPE_MOVIE, s->title, s->machine, &rk, 1,
		    sec->collection, sizeof(sec->collection));
		if (r == PTS_HTTP_OK)
			PTS_INFO("watchlist: created collection \"%s\" in library %s", s->title,
			    sec->key);
		/* No answer: it may exist now; look before the next item makes a second one. */
		else if (r == PTS_HTTP_UNKNOWN)
			(void)pts_plexl_collection_find(s->env.plex, sec->key, s->title,
			    sec->collection, sizeof(sec->collection));
	} else {
		r = pts_plexl_collection_add(s->env.plex, sec->collection, s->machine, &rk, 1);
	}
	if (r == PTS_HTTP_OK) {
		s->changed++;
		/* Off the Plex watchlist once every copy is out of its collection. */
		if (!x->remove)
			x->g->final_plex = 1;
		else if (++x->g->plex_removed == x->g->plex_copies)
			x->g->final_plex = 0;
		(void)pts_ledger_set_result(s->env.w->db, row, PTS_LEDGER_DONE);
		return 0;
	}
	if (s->account)
		PTS_WARN("watchlist: could not %s %s %s the Plex watchlist (%s)", x->remove ? "take" :
		    "put", x->o->title ? x->o->title : x->o->key, x->remove ? "off" : "on",
		    pts_http_result_name(r));
	else
		PTS_WARN("watchlist: could not %s %s %s collection \"%s\" (%s)", x->remove ? "take" :
		    "put", x->o->title ? x->o->title : x->o->key, x->remove ? "out of" : "into",
		    s->title, pts_http_result_name(r));
	s->env.run->errors++;
	(void)pts_ledger_set_result(s->env.w->db, row, r == PTS_HTTP_UNKNOWN ?
	    PTS_LEDGER_UNKNOWN : PTS_LEDGER_FAILED);
	return r == PTS_HTTP_CANCELLED ? 1 : 0;
}

/* Remember what is on both watchlists now. 0 or -1. */
static int
wl_store_state(struct watchlist *s, struct wl_group *gs, size_t ng)
{
	sqlite3 *db = s->env.w->db;
	size_t i, k;

	if (pts_db_begin(db) != 0)
		return -1;
	for (i = 0; i < ng; i++) {
		struct wl_group *g = &gs[i];

		if (g->final_trakt && g->final_plex) {
			if (pts_db_run(db, "INSERT INTO watchlist_state(item_key, synced_at) VALUES(?, ?)"
			    " ON CONFLICT(item_key) DO NOTHING", "si", s->v[g->first].key, pts_now()) != 0)
				goto fail;
		} else if (!g->final_trakt && !g->final_plex) {
			for (k = g->first; k < g->first + g->n; k++)
				if (s->v[k].prev && pts_db_run(db, "DELETE FROM watchlist_state WHERE"
				    " item_key = ?", "s", s->v[k].key) != 0)
					goto fail;
		}
		/* Sides that still disagree (a refused or failed write): the memory stays. */
	}
	return pts_db_commit(db);
fail:
	pts_db_rollback(db);
	return -1;
}

static int
wl_apply(void *p)
{
	struct watchlist *s = p;
	struct wl_group *gs = NULL;
	struct pts_feat_tw *add_t = NULL, *rm_t = NULL;
	struct wl_pw *pw = NULL;
	size_t i, j, k, ng = 0, nat = 0, nrt = 0, npw = 0, nrp = 0, nrp_items = 0;
	int rc = 0;

	if (s->account && wl_account_obs(s) != 0)
		return -1;
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), wl_cmp);
	if (s->n > 0 && ((gs = calloc(s->n, sizeof(*gs))) == NULL ||
	    (add_t = calloc(s->n, sizeof(*add_t))) == NULL ||
	    (rm_t = calloc(s->n, sizeof(*rm_t))) == NULL ||
	    (pw = calloc(s->n, sizeof(*pw))) == NULL)) {
		rc = -1;
		goto done;
	}
	for (i = 0; i < s->n; i = j) {
		struct wl_group *g = &gs[ng++];

		for (j = i + 1; j < s->n && strcmp(s->v[j].group, s->v[i].group) == 0; j++)
			;
		g->first = i;
		g->n = j - i;
		g->in_trakt = s->v[i].tpos >= 0;
		for (k = i; k < j; k++) {
			g->in_plex |= s->v[k].in_plex;
			g->plex_copies += s->v[k].in_plex != 0;
			g->prev |= s->v[k].prev;
		}
		g->final_trakt = g->in_trakt;
		g->final_plex = g->in_plex;
	}
	/* Removals first, for the guard. */
	for (i = 0; i < ng; i++) {
		struct wl_group *g = &gs[i];

		if (g->in_trakt && !g->in_plex && g->prev && s->env.to_trakt) {
			wl_tw(s, &s->v[g->first], PTS_ACT_WATCHLIST_REMOVE_TRAKT, &rm_t[nrt]);
			rm_t[nrt++].tag = i;
		}
		if (!g->in_trakt && g->in_plex && g->prev && s->env.to_plex) {
			nrp_items++;
			for (k = g->first; k < g->first + g->n; k++)
				if (s->v[k].in_plex)
					pw[npw++] = (struct wl_pw){ &s->v[k], g, 1 };
		}
	}
	nrp = npw;
	if (!pts_watchlist_removals_allowed(nrt, s->trakt.n, s->max_percent)) {
		PTS_WARN("watchlist: %zu of %zu Trakt watchlist entries would be removed, more than"
		    " watchlist_remove_max_percent (%d%%) allows: none removed. Check the Plex"
		    " %s \"%s\", or raise the setting", nrt, s->trakt.n, s->max_percent,
		    s->account ? "watchlist of" : "collection", s->account ? "the account" :
		    s->title);
		nrt = 0;
	}
	if (!pts_watchlist_removals_allowed(nrp_items, s->plex_size, s->max_percent)) {
		PTS_WARN("watchlist: %zu of %zu items would leave the Plex %s \"%s\", more"
		    " than watchlist_remove_max_percent (%d%%) allows: none removed", nrp_items,
		    s->plex_size, s->account ? "watchlist of" : "collection", s->account ?
		    "the account" : s->title, s->max_percent);
		npw = nrp = 0;
	}
	for (i = 0; i < ng; i++) {
		struct wl_group *g = &gs[i];

		if (!g->in_trakt && g->in_plex && !g->prev && s->env.to_trakt) {
			wl_tw(s, &s->v[g->first], PTS_ACT_WATCHLIST_ADD_TRAKT, &add_t[nat]);
			add_t[nat++].tag = i;
		}
		if (g->in_trakt && !g->in_plex && !g->prev && s->env.to_plex)
			pw[npw++] = (struct wl_pw){ &s->v[g->first], g, 0 };
	}
	PTS_INFO("watchlist: Trakt +%zu -%zu, Plex %s +%zu -%zu", nat, nrt, s->account ?
	    "account watchlist" : "collection", npw - nrp, nrp);
	if (s->env.run->dry_run) {
		struct pts_feat_change c;
		char detail[WL_TITLE_MAX + 32];

		rc = pts_feat_trakt_plan(&s->env, add_t, nat);
		if (rc == 0)
			rc = pts_feat_trakt_plan(&s->env, rm_t, nrt);
		for (i = 0; rc == 0 && i < npw; i++) {
			wl_change(s, pw[i].o, pw[i].remove ? PTS_ACT_WATCHLIST_REMOVE_PLEX :
			    PTS_ACT_WATCHLIST_ADD_PLEX, &c, detail, sizeof(detail));
			rc = pts_feat_record(&s->env, 0, &c, PTS_LEDGER_PLANNED, NULL);
		}
		s->changed = (int64_t)(nat + nrt + npw);
		goto done;
	}
	/* Removals first: they make room under the account's cap for the additions. */
	rc = pts_feat_trakt_write(&s->env, "watchlist", 1, rm_t, nrt, -1, &s->changed);
	if (rc == 0) {
		int64_t have = (int64_t)s->trakt.n;

		for (k = 0; k < nrt; k++)
			have -= rm_t[k].ok;
		rc = pts_feat_trakt_write(&s->env, "watchlist", 0, add_t, nat, have, &s->changed);
	}
	/* Refused on Trakt for the account: the Plex side still follows Trakt. */
	for (i = 0; (rc == 0 || rc == PTS_FEAT_REFUSED) && i < npw; i++) {
		int prc = wl_plex_one(s, &pw[i]);

		rc = prc != 0 ? prc : rc;
	}
	/* Where each item ended up on Trakt. */
	for (k = 0; k < nat; k++)
		if (add_t[k].ok)
			gs[add_t[k].tag].final_trakt = 1;
	for (k = 0; k < nrt; k++)
		if (rm_t[k].ok)
			gs[rm_t[k].tag].final_trakt = 0;
	if (wl_store_state(s, gs, ng) != 0 && rc == 0)
		rc = -1;
done:
	(void)pts_feat_save_count(&s->env, "watchlist_changed", s->changed);
	free(gs);
	free(add_t);
	free(rm_t);
	free(pw);
	return rc;
}

const struct pts_feature pts_feature_watchlist = {
	"watchlist", PTS_KEY_SYNC_WATCHLIST, wl_open, wl_library, wl_item, wl_apply, wl_close
};

/*
 * dupes.c - scan Trakt's history for duplicate plays; remove the extras by history id.
 */
#include "dupes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "db.h"
#include "http.h"
#include "jobs.h"
#include "jsonx.h"
#include "ledger.h"
#include "log.h"
#include "reconcile.h"
#include "trakt.h"

/* Longest history_ids text read back: PTS_DUPES_MAX_IDS ids of up to 20 digits. */
#define DUPES_IDS_TEXT_MAX (PTS_DUPES_MAX_IDS * 22 + 16)

static int
dupes_open(struct pts_wctx *w, struct pts_trakt **t)
{
	if ((*t = pts_trakt_open(w)) == NULL) {
		(void)pts_db_meta_set(w->db, "trakt_dupes_error", "Trakt is not set up in Settings");
		return -1;
	}
	if (pts_trakt_ensure_token(*t) != PTS_HTTP_OK) {
		PTS_ERROR("Trakt is not signed in (or the sign-in expired): authorize Trakt in Settings");
		(void)pts_db_meta_set(w->db, "trakt_dupes_error", "Trakt is not signed in");
		return -1;
	}
	return 0;
}

static void
dupes_meta_int(sqlite3 *db, const char *key, int64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%lld", (long long)v);
	(void)pts_db_meta_set(db, key, s);
}

/* ==== Scan ==== */

struct dupes_key {
	char key[PTS_LEDGER_KEY_LEN];
	int64_t minute;
	int64_t id;
	size_t play;             /* index in the plays read */
};

static int
dupes_key_cmp(const void *a, const void *b)
{
	const struct dupes_key *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	if (x->minute != y->minute)
		return x->minute < y->minute ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The item a play is of: Trakt ids first (history always has them). 0, or -1 when none. */
static int
dupes_item_key(const struct pts_trakt_play *p, char *buf, size_t len)
{
	if (p->is_episode) {
		if (p->season < 0 || p->episode < 0)
			return -1;
		if (p->show_ids.trakt > 0) {
			snprintf(buf, len, "episode:trakt:%lld:%d:%d", (long long)p->show_ids.trakt,
			    p->season, p->episode);
			return 0;
		}
		return pts_ledger_key_episode(&p->show_ids, p->season, p->episode, buf, len);
	}
	if (p->ids.trakt > 0) {
		snprintf(buf, len, "movie:trakt:%lld", (long long)p->ids.trakt);
		return 0;
	}
	return pts_ledger_key_movie(&p->ids, buf, len);
}

/* "[id, id, ...]" of ids[0..n): a new string (caller frees), NULL when out of memory. */
static char *
dupes_ids_text(const int64_t *ids, size_t n)
{
	json_object *a = json_object_new_array();
	char *s;
	size_t i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_int64(ids[i]));
	s = strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	json_object_put(a);
	return s;
}

/* Replace the stored groups with those in k[0..n) (sorted). One transaction. 0 or -1. */
static int
dupes_store(sqlite3 *db, const struct pts_trakt_plays *plays, const struct dupes_key *k,
    size_t n, size_t *ngroups, size_t *nextra)
{
	int64_t ids[PTS_DUPES_MAX_IDS];
	size_t i, j, m;

	*ngroups = *nextra = 0;
	if (pts_db_begin(db) != 0)
		return -1;
	if (pts_db_run(db, "DELETE FROM trakt_dupes", "") != 0)
		goto fail;
	for (i = 0; i < n; i = j) {
		const struct pts_trakt_play *p = &plays->v[k[i].play];
		char *text;
		int rc;

		for (j = i + 1; j < n && k[j].minute == k[i].minute && strcmp(k[j].key, k[i].key) == 0;
		    j++)
			;
		if (j - i < 2 || *ngroups >= PTS_DUPES_MAX_GROUPS)
			continue;
		for (m = 0; m < j - i && m < PTS_DUPES_MAX_IDS; m++)
			ids[m] = k[i + m].id;
		if ((text = dupes_ids_text(ids, m)) == NULL)
			goto fail;
		rc = pts_db_run(db, "INSERT INTO trakt_dupes(type, title, show, season, episode, year,"
		    " watched_at, history_ids, keep) VALUES(?, ?, ?, NULLIF(?, -1), NULLIF(?, -1),"
		    " NULLIF(?, 0), ?, ?, ?)", "sssiiiisi", p->is_episode ? "episode" : "movie",
		    p->title, p->is_episode ? p->show_title : NULL, (int64_t)p->season,
		    (int64_t)p->episode, (int64_t)p->year, p->watched_at, text, ids[0]);
		free(text);
		if (rc != 0)
			goto fail;
		(*ngroups)++;
		*nextra += m - 1;
	}
	dupes_meta_int(db, "trakt_dupes_scanned_at", pts_now());
	dupes_meta_int(db, "trakt_dupes_plays", (int64_t)plays->n);
	(void)pts_db_meta_set(db, "trakt_dupes_error", NULL);
	if (pts_db_commit(db) == 0)
		return 0;
fail:
	pts_db_rollback(db);
	return -1;
}

int
pts_dupes_scan_job(struct pts_wctx *w, json_object *args)
{
	struct pts_trakt *t = NULL;
	struct pts_trakt_plays plays;
	struct dupes_key *k = NULL;
	enum pts_http_result r;
	size_t i, n = 0, groups = 0, extra = 0;
	int rc = PTS_JOB_FAILED;

	(void)args;
	memset(&plays, 0, sizeof(plays));
	if (dupes_open(w, &t) != 0)
		goto done;
	PTS_INFO("duplicate scan: reading the whole Trakt history");
	r = pts_trakt_history(t, NULL, 0, 0, 0, &plays);
	if (r != PTS_HTTP_OK) {
		rc = r == PTS_HTTP_CANCELLED || pts_wctx_cancelled(w) ? PTS_JOB_CANCELLED :
		    PTS_JOB_FAILED;
		PTS_ERROR("duplicate scan: cannot read Trakt's history (%s)", pts_http_result_name(r));
		if (rc == PTS_JOB_FAILED)
			(void)pts_db_meta_set(w->db, "trakt_dupes_error",
			    "could not read the Trakt history: see the log");
		goto done;
	}
	if (plays.n > 0 && (k = calloc(plays.n, sizeof(*k))) == NULL)
		goto done;
	for (i = 0; i < plays.n; i++) {
		const struct pts_trakt_play *p = &plays.v[i];

		if (p->history_id <= 0 || p->watched_at <= 0 ||
		    dupes_item_key(p, k[n].key, sizeof(k[n].key)) != 0)
			continue;
		k[n].minute = pts_ledger_minute(p->watched_at);
		k[n].id = p->history_id;
		k[n].play = i;
		n++;
	}
	qsort(k, n, sizeof(*k), dupes_key_cmp);
	if (dupes_store(w->db, &plays, k, n, &groups, &extra) != 0)
		goto done;
	PTS_INFO("duplicate scan: %zu plays read, %zu items played more than once in the same"
	    " minute, %zu extra plays", plays.n, groups, extra);
	rc = PTS_JOB_DONE;
done:
	free(k);
	pts_trakt_plays_free(&plays);
	pts_trakt_close(t);
	pts_meter_flush(w->db, 1);
	return rc;
}

/* ==== Removal ==== */

struct dupes_group {
	int64_t row;
	int is_episode;
	int64_t watched_at;
	int64_t *ids;            /* ascending, as stored */
	size_t n;
	unsigned char *present;  /* still on Trakt when checked */
	unsigned char *gone;     /* removed now (or Trakt said it was no longer there) */
};

struct dupes_rm {
	struct dupes_group *g;
	size_t n;
	int64_t removed, errors;
};

static void
dupes_rm_free(struct dupes_rm *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->g[i].ids);
		free(d->g[i].present);
		free(d->g[i].gone);
	}
	free(d->g);
}

/* Parse "[id, ...]" into g. 0, or -1 when unreadable (the group is then left alone). */
static int
dupes_parse_ids(const char *text, struct dupes_group *g)
{
	json_object *a = text ? pts_json_parse(text, strlen(text), DUPES_IDS_TEXT_MAX, NULL) : NULL;
	size_t i, n;

	if (a == NULL || !json_object_is_type(a, json_type_array) ||
	    (n = json_object_array_length(a)) == 0 || n > PTS_DUPES_MAX_IDS) {
		json_object_put(a);
		return -1;
	}
	g->ids = calloc(n, sizeof(*g->ids));
	g->present = calloc(n, 1);
	g->gone = calloc(n, 1);
	if (g->ids == NULL || g->present == NULL || g->gone == NULL) {
		json_object_put(a);
		return -1;
	}
	for (i = 0; i < n; i++)
		g->ids[g->n++] = json_object_get_int64(json_object_array_get_idx(a, i));
	json_object_put(a);
	return 0;
}

static int
dupes_rm_load(sqlite3 *db, struct dupes_rm *d)
{
	sqlite3_stmt *st = pts_db_prepare(db, "SELECT id, type, watched_at, history_ids FROM"
	    " trakt_dupes ORDER BY type, watched_at, id LIMIT ?");
	size_t cap = 0;
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, PTS_DUPES_MAX_GROUPS);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct dupes_group *g;

		if (pts_array_grow(&d->g, &cap, d->n, sizeof(*d->g), PTS_DUPES_MAX_GROUPS,
		    "duplicate groups") != 0)
			break;
		g = &d->g[d->n];
		memset(g, 0, sizeof(*g));

		g->row = sqlite3_column_int64(st, 0);
		g->is_episode = strcmp((const char *)sqlite3_column_text(st, 1), "episode") == 0;
		g->watched_at = sqlite3_column_int64(st, 2);
		d->n++;
		if (dupes_parse_ids((const char *)sqlite3_column_text(st, 3), g) != 0)
			g->n = 0;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
dupes_id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Mark which ids of groups [from, to) are still in the history around their minute. */
static enum pts_http_result
dupes_check_window(struct pts_trakt *t, struct dupes_rm *d, size_t from, size_t to)
{
	struct pts_trakt_plays plays;
	enum pts_http_result r;
	int64_t *seen;
	size_t i, k;

	r = pts_trakt_history(t, d->g[from].is_episode ? "episodes" : "movies",
	    pts_ledger_minute(d->g[from].watched_at) - 60,
	    pts_ledger_minute(d->g[to - 1].watched_at) + 120, 0, &plays);
	if (r != PTS_HTTP_OK)
		return r;
	seen = calloc(plays.n ? plays.n : 1, sizeof(*seen));
	if (seen == NULL) {
		pts_trakt_plays_free(&plays);
		return PTS_HTTP_NETWORK;
	}
	for (k = 0; k < plays.n; k++)
		seen[k] = plays.v[k].history_id;
	qsort(seen, plays.n, sizeof(*seen), dupes_id_cmp);
	for (i = from; i < to; i++)
		for (k = 0; k < d->g[i].n; k++)
			d->g[i].present[k] = bsearch(&d->g[i].ids[k], seen, plays.n, sizeof(*seen),
			    dupes_id_cmp) != NULL;
	free(seen);
	pts_trakt_plays_free(&plays);
	return PTS_HTTP_OK;
}

static enum pts_http_result
dupes_check(struct pts_wctx *w, struct pts_trakt *t, struct dupes_rm *d)
{
	size_t from, to;

	for (from = 0; from < d->n; from = to) {
		enum pts_http_result r;

		for (to = from + 1; to < d->n && d->g[to].is_episode == d->g[from].is_episode &&
		    d->g[to].watched_at - d->g[from].watched_at <= PTS_RECONCILE_WINDOW_S; to++)
			;
		if (pts_wctx_cancelled(w))
			return PTS_HTTP_CANCELLED;
		if ((r = dupes_check_window(t, d, from, to)) != PTS_HTTP_OK)
			return r;
	}
	return PTS_HTTP_OK;
}

/* Remove every present id of every group but its first present one. A job result. */
static int
dupes_remove(struct pts_wctx *w, struct pts_trakt *t, struct dupes_rm *d)
{
	struct { size_t g, k; } at[PTS_DUPES_BATCH];
	int64_t ids[PTS_DUPES_BATCH], deleted;
	unsigned char missing[PTS_DUPES_BATCH];
	size_t gi = 0, ki = 0, n, j;
	int kept = 0;

	for (;;) {
		enum pts_http_result r;

		/* The next batch: walk the groups from (gi, ki). */
		for (n = 0; gi < d->n && n < PTS_DUPES_BATCH;) {
			struct dupes_group *g = &d->g[gi];

			if (ki == 0)
				kept = 0;
			if (ki >= g->n) {
				gi++;
				ki = 0;
				continue;
			}
			if (g->present[ki]) {
				if (kept) {
					at[n].g = gi;
					at[n].k = ki;
					ids[n++] = g->ids[ki];
				}
				kept = 1;
			}
			ki++;
		}
		if (n == 0)
			return PTS_JOB_DONE;
		if (pts_wctx_cancelled(w))
			return PTS_JOB_CANCELLED;
		r = pts_trakt_history_remove_ids_nf(t, ids, n, &deleted, missing);
		if (r == PTS_HTTP_CANCELLED)
			return PTS_JOB_CANCELLED;
		if (r != PTS_HTTP_OK) {
			PTS_ERROR("duplicates: Trakt did not remove %zu plays (%s)", n,
			    pts_http_result_name(r));
			d->errors += (int64_t)n;
			if (r == PTS_HTTP_HTTP_ERROR)
				return PTS_JOB_DONE;   /* auth or account: the next batch fares no better */
			continue;
		}
		for (j = 0; j < n; j++) {
			d->g[at[j].g].gone[at[j].k] = 1;
			d->removed += !missing[j];
		}
	}
}

/* Write back what is left of each group: a group with one play (or none) is dropped. */
static int
dupes_rm_store(sqlite3 *db, struct dupes_rm *d)
{
	int64_t ids[PTS_DUPES_MAX_IDS];
	size_t i, k, m;

	if (pts_db_begin(db) != 0)
		return -1;
	for (i = 0; i < d->n; i++) {
		struct dupes_group *g = &d->g[i];
		char *text;
		int rc;

		if (g->n == 0)
			continue;   /* unreadable: left as it was */
		for (k = m = 0; k < g->n; k++)
			if (g->present[k] && !g->gone[k])
				ids[m++] = g->ids[k];
		if (m < 2) {
			if (pts_db_run(db, "DELETE FROM trakt_dupes WHERE id = ?", "i", g->row) != 0)
				goto fail;
			continue;
		}
		if ((text = dupes_ids_text(ids, m)) == NULL)
			goto fail;
		rc = pts_db_run(db, "UPDATE trakt_dupes SET history_ids = ?, keep = ? WHERE id = ?",
		    "sii", text, ids[0], g->row);
		free(text);
		if (rc != 0)
			goto fail;
	}
	dupes_meta_int(db, "trakt_dupes_removed_at", pts_now());
	dupes_meta_int(db, "trakt_dupes_removed", d->removed);
	(void)pts_db_meta_set(db, "trakt_dupes_error", d->errors > 0 ?
	    "some extra plays could not be removed: see the log, then remove again" : NULL);
	if (pts_db_commit(db) == 0)
		return 0;
fail:
	pts_db_rollback(db);
	return -1;
}

int
pts_dupes_remove_job(struct pts_wctx *w, json_object *args)
{
	struct pts_trakt *t = NULL;
	struct dupes_rm d;
	enum pts_http_result r;
	int rc = PTS_JOB_FAILED;

	(void)args;
	memset(&d, 0, sizeof(d));
	if (dupes_rm_load(w->db, &d) != 0 || dupes_open(w, &t) != 0)
		goto done;
	PTS_INFO("duplicates: checking %zu groups against Trakt's history before removing", d.n);
	r = dupes_check(w, t, &d);
	if (r != PTS_HTTP_OK) {
		rc = r == PTS_HTTP_CANCELLED || pts_wctx_cancelled(w) ? PTS_JOB_CANCELLED :
		    PTS_JOB_FAILED;
		PTS_ERROR("duplicates: cannot read Trakt's history (%s): nothing removed",
		    pts_http_result_name(r));
		if (rc == PTS_JOB_FAILED)
			(void)pts_db_meta_set(w->db, "trakt_dupes_error",
			    "could not read the Trakt history: see the log");
		goto done;
	}
	rc = dupes_remove(w, t, &d);
	if (dupes_rm_store(w->db, &d) != 0)
		rc = PTS_JOB_FAILED;
	PTS_INFO("duplicates: %lld extra plays removed from Trakt%s", (long long)d.removed,
	    d.errors > 0 ? "; some could not be removed" : "");
	if (d.removed > 0)
		(void)pts_jobs_enqueue_once(w->db, PTS_JOB_TRAKT_HISTORY_REFRESH, NULL, NULL);
	if (rc == PTS_JOB_DONE && d.errors > 0)
		rc = PTS_JOB_FAILED;
done:
	dupes_rm_free(&d);
	pts_trakt_close(t);
	pts_meter_flush(w->db, 1);
	return rc;
}

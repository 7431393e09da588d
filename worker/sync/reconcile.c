/*
 * reconcile.c - look unknown batches up in Trakt's history and settle them.
 */
#include "reconcile.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "jsonx.h"
#include "ledger.h"
#include "log.h"

/* Most changes one batch may hold (batches are ~100; this bounds a corrupt table). */
#define RECONCILE_MAX_CHANGES 5000

struct rc_change {
	int64_t id, run_id, watched_at;
	int episode_kind, season, episode;
	struct pts_ids ids;
	int found;
};

static int
rc_cmp(const void *a, const void *b)
{
	const struct rc_change *x = a, *y = b;

	if (x->episode_kind != y->episode_kind)
		return x->episode_kind - y->episode_kind;
	return x->watched_at < y->watched_at ? -1 : x->watched_at > y->watched_at;
}

/* Load the batch's unsettled changes. Returns the count, or -1. *out is the caller's. */
static int
rc_load(sqlite3 *db, int64_t batch_id, struct rc_change **out)
{
	sqlite3_stmt *st = pts_db_prepare(db, "SELECT id, COALESCE(run_id, 0), type, ids,"
	    " COALESCE(season, -1), COALESCE(episode, -1), COALESCE(watched_at, 0) FROM changes"
	    " WHERE batch_id = ? AND result IN ('pending','unknown') ORDER BY id LIMIT ?");
	struct rc_change *v = NULL;
	int n = 0;

	*out = NULL;
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, batch_id);
	sqlite3_bind_int(st, 2, RECONCILE_MAX_CHANGES);
	v = calloc(RECONCILE_MAX_CHANGES, sizeof(*v));
	if (v == NULL) {
		sqlite3_finalize(st);
		return -1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct rc_change *c = &v[n];
		const char *ids = (const char *)sqlite3_column_text(st, 3);
		json_object *j = ids ? pts_json_parse(ids, strlen(ids), 4096, NULL) : NULL;

		c->id = sqlite3_column_int64(st, 0);
		c->run_id = sqlite3_column_int64(st, 1);
		c->episode_kind = strcmp((const char *)sqlite3_column_text(st, 2), "episode") == 0;
		pts_trakt_parse_ids(j, &c->ids);
		json_object_put(j);
		c->season = sqlite3_column_int(st, 4);
		c->episode = sqlite3_column_int(st, 5);
		c->watched_at = sqlite3_column_int64(st, 6);
		n++;
	}
	sqlite3_finalize(st);
	*out = v;
	return n;
}

static int
rc_same_play(const struct rc_change *c, const struct pts_trakt_play *p)
{
	if (pts_ledger_minute(p->watched_at) != pts_ledger_minute(c->watched_at))
		return 0;
	if (c->episode_kind)
		return p->is_episode && p->season == c->season && p->episode == c->episode &&
		    pts_ids_match(&p->show_ids, &c->ids);
	return !p->is_episode && pts_ids_match(&p->ids, &c->ids);
}

/* Look up changes[from, to) (same kind, sorted by time) with one history query. */
static enum pts_http_result
rc_window(struct pts_trakt *t, struct rc_change *v, int from, int to)
{
	struct pts_trakt_plays plays;
	enum pts_http_result r;
	size_t k;
	int i;

	memset(&plays, 0, sizeof(plays));
	r = pts_trakt_history(t, v[from].episode_kind ? "episodes" : "movies",
	    pts_ledger_minute(v[from].watched_at) - 60, pts_ledger_minute(v[to - 1].watched_at) + 120,
	    0, &plays);
	if (r == PTS_HTTP_OK)
		for (i = from; i < to; i++)
			for (k = 0; k < plays.n && !v[i].found; k++)
				v[i].found = rc_same_play(&v[i], &plays.v[k]);
	pts_trakt_plays_free(&plays);
	return r;
}

int
pts_reconcile_batch(struct pts_wctx *w, struct pts_trakt *t, int64_t batch_id,
    struct pts_run *run)
{
	struct rc_change *v = NULL;
	int n = rc_load(w->db, batch_id, &v), i, from, found = 0;

	if (n < 0)
		return -1;
	qsort(v, (size_t)n, sizeof(*v), rc_cmp);
	for (from = 0; from < n;) {
		int to = from + 1;

		while (to < n && v[to].episode_kind == v[from].episode_kind &&
		    v[to].watched_at - v[from].watched_at <= PTS_RECONCILE_WINDOW_S)
			to++;
		if (rc_window(t, v, from, to) != PTS_HTTP_OK) {
			PTS_WARN("batch %lld: cannot read Trakt's history to check it; its items stay"
			    " on hold until it can be checked", (long long)batch_id);
			(void)pts_ledger_batch_state(w->db, batch_id, PTS_BATCH_UNKNOWN);
			free(v);
			return 1;
		}
		from = to;
	}
	if (pts_db_begin(w->db) != 0) {
		free(v);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (pts_ledger_set_result(w->db, v[i].id, v[i].found ? PTS_LEDGER_DONE :
		    PTS_LEDGER_FAILED) != 0)
			goto fail;
		if (!v[i].found)
			continue;
		found++;
		if (run != NULL && v[i].run_id == run->id)
			run->added_to_trakt++;
		else if (pts_db_run(w->db, "UPDATE runs SET added_to_trakt = added_to_trakt + 1"
		    " WHERE id = ?", "i", v[i].run_id) != 0)
			goto fail;
	}
	if (pts_ledger_settle_batch(w->db, batch_id, PTS_LEDGER_FAILED, PTS_BATCH_SETTLED) != 0 ||
	    pts_db_commit(w->db) != 0)
		goto fail;
	PTS_INFO("batch %lld checked against Trakt's history: %d of %d plays were applied, the"
	    " rest will be sent again", (long long)batch_id, found, n);
	free(v);
	return 0;
fail:
	pts_db_rollback(w->db);
	free(v);
	return -1;
}

int
pts_reconcile_all(struct pts_wctx *w, struct pts_trakt *t, struct pts_run *run)
{
	sqlite3_stmt *st = pts_db_prepare(w->db, "SELECT id FROM batches b WHERE service = 'trakt'"
	    " AND state IN ('pending','unknown') AND NOT (state = 'pending' AND created_at > ? AND"
	    " EXISTS (SELECT 1 FROM runs r WHERE r.id = b.run_id AND r.status = 'running' AND"
	    " r.id <> ?)) ORDER BY id LIMIT 1000");
	int64_t ids[1000];
	int n = 0, i, rc = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, pts_now() - PTS_RECONCILE_INFLIGHT_S);
	sqlite3_bind_int64(st, 2, run != NULL ? run->id : 0);
	while (n < 1000 && sqlite3_step(st) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (n > 0)
		PTS_INFO("%d earlier Trakt batch(es) ended without a known outcome: checking them", n);
	for (i = 0; i < n && rc >= 0; i++) {
		int r;

		if (pts_wctx_cancelled(w))
			return 1;
		r = pts_reconcile_batch(w, t, ids[i], run);
		if (r != 0)
			rc = r;
	}
	return rc;
}

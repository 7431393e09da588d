/*
 * undo.c - an undo run: find what a run wrote to Trakt, take it back, record it all.
 *
 *   finding   the plays' history ids: GET /sync/history/{movies|episodes} with start_at and
 *             end_at around their times, in windows as reconcile.c reads them (an account's
 *             whole history is never read); a play matches on item and minute
 *   removing  POST /sync/history/remove {"ids": [...]} in batches, then the ratings and
 *             watchlist entries by item
 *
 * When an item has several plays in the same minute, the one with the lowest history id is
 * taken: the engine only adds a play for an item Trakt had no play of, so any other play of
 * that minute was posted later (by another tool, or a second time) and has a higher id.
 * Each change takes one play, and each play is taken once.
 *
 * A rating the run set on Trakt is put back to what Trakt had before (the change's detail
 * "was"), or removed when Trakt had none. A watchlist entry the run added is taken off, and
 * the watchlist memory of the item is forgotten, so the next sync sees it as new on Plex (and
 * adds it again, as with plays) instead of as removed on Trakt (which would take it out of
 * the Plex collection).
 */
#include "undo.h"

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
#include "progress.h"
#include "reconcile.h"
#include "run.h"
#include "str.h"
#include "sync_ratings.h"
#include "sync_watchlist.h"
#include "trakt.h"
#include "trakt_lists.h"

/* Longest ids JSON text read per change. */
#define UNDO_IDS_MAX 4096

/* Longest detail JSON text read per change. */
#define UNDO_DETAIL_MAX 1024

/*
 * What each change action is taken back with. Keep in step with PTS_UNDO_ACTIONS_SQL
 * (common/jobs.h). list NULL: a play, removed by history id; else the Trakt list written
 * (remove 1: the item taken off it; 0: the item written back, a rating put back).
 */
struct undo_action {
	const char *action;
	const char *undo;
	const char *list;
	int remove;
};

static const struct undo_action undo_play =
	{ PTS_ACT_ADD_PLAY_TRAKT, "remove_play_trakt", NULL, 1 };
static const struct undo_action undo_rating =
	{ PTS_ACT_RATE_TRAKT, "remove_rating_trakt", "ratings", 1 };
/* rate_trakt over an earlier Trakt rating: that rating is written back instead. */
static const struct undo_action undo_rating_back =
	{ PTS_ACT_RATE_TRAKT, "restore_rating_trakt", "ratings", 0 };
static const struct undo_action undo_watchlist =
	{ PTS_ACT_WATCHLIST_ADD_TRAKT, "remove_watchlist_trakt", "watchlist", 1 };

/* How a change action is taken back (its first entry here), then the list writes in order. */
static const struct undo_action *const undo_actions[] = {
	&undo_play, &undo_rating, &undo_rating_back, &undo_watchlist, NULL
};

struct undo_item {
	int64_t change_id;           /* the original change */
	const struct undo_action *act;
	char *type, *item_key, *title, *show, *ids_json, *detail;
	int season, episode, year;   /* -1, -1, 0 when none */
	int rating, was;             /* rate_trakt: the rating set, the one before (0: none) */
	int64_t watched_at;
	struct pts_ids ids;          /* the movie's, or the show's */
	int is_episode, is_show;
	int64_t history_id;          /* a play: the one to remove; 0 when not on Trakt */
	int64_t row;                 /* its change row in the undo run */
};

struct undo {
	struct pts_wctx *w;
	struct pts_run run;          /* its counters: removed_from_trakt, ratings/watchlist_changed */
	int64_t target;
	struct pts_trakt *trakt;
	struct undo_item *v;
	size_t n;
};

static const struct undo_action *
undo_action_find(const char *action)
{
	const struct undo_action *const *a;

	for (a = undo_actions; action != NULL && *a != NULL; a++)
		if (strcmp((*a)->action, action) == 0)
			return *a;
	return NULL;
}

static char *
undo_col(sqlite3_stmt *st, int col)
{
	return pts_str_dup((const char *)sqlite3_column_text(st, col));
}

static void
undo_free(struct undo *u)
{
	size_t i;

	for (i = 0; i < u->n; i++) {
		free(u->v[i].type);
		free(u->v[i].item_key);
		free(u->v[i].title);
		free(u->v[i].show);
		free(u->v[i].ids_json);
		free(u->v[i].detail);
	}
	free(u->v);
	u->v = NULL;
	u->n = 0;
	pts_trakt_close(u->trakt);
	u->trakt = NULL;
}

/* ==== Loading ==== */

/*
 * Forget what an earlier, interrupted attempt of this undo left unsettled; keep (and count)
 * what it settled: those originals are already marked undone. 0 or -1.
 */
static int
undo_reset(struct undo *u)
{
	sqlite3 *db = u->w->db;

	if (u->run.dry_run)
		return pts_db_run(db, "DELETE FROM changes WHERE run_id = ?", "i", u->run.id);
	if (pts_db_run(db, "DELETE FROM changes WHERE run_id = ? AND result NOT IN"
	    " ('done','not_found')", "i", u->run.id) != 0 ||
	    pts_db_int(db, &u->run.removed_from_trakt, 0, "SELECT COUNT(*) FROM changes WHERE run_id = ? AND"
	    " result = 'done' AND action = 'remove_play_trakt'", "i", u->run.id) != 0 ||
	    pts_db_int(db, &u->run.ratings_changed, 0, "SELECT COUNT(*) FROM changes WHERE run_id = ? AND"
	    " result = 'done' AND action IN ('remove_rating_trakt','restore_rating_trakt')", "i",
	    u->run.id) != 0 ||
	    pts_db_int(db, &u->run.watchlist_changed, 0, "SELECT COUNT(*) FROM changes WHERE run_id = ? AND"
	    " result = 'done' AND action = 'remove_watchlist_trakt'", "i", u->run.id) != 0 ||
	    pts_db_int(db, &u->run.not_found, 0, "SELECT COUNT(*) FROM changes WHERE run_id = ? AND"
	    " result = 'not_found'", "i", u->run.id) != 0)
		return -1;
	return 0;
}

/* The target run's changes still to take back, in the order they were made. 0 or -1. */
static int
undo_load(struct undo *u)
{
	sqlite3_stmt *st = pts_db_prepare(u->w->db, "SELECT id, action, type, item_key, title,"
	    " show, COALESCE(season, -1), COALESCE(episode, -1), COALESCE(year, 0),"
	    " COALESCE(watched_at, 0), ids, detail FROM changes WHERE run_id = ? AND result = 'done' AND"
	    " undone_by IS NULL AND action IN " PTS_UNDO_ACTIONS_SQL " ORDER BY id LIMIT ?");
	size_t cap = 0;
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, u->target);
	sqlite3_bind_int(st, 2, PTS_UNDO_MAX_CHANGES);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct undo_item *it;
		json_object *j;

		if (pts_array_grow(&u->v, &cap, u->n, sizeof(*u->v), PTS_UNDO_MAX_CHANGES,
		    "the changes to undo") != 0)
			break;
		it = &u->v[u->n];
		memset(it, 0, sizeof(*it));
		it->change_id = sqlite3_column_int64(st, 0);
		it->act = undo_action_find((const char *)sqlite3_column_text(st, 1));
		it->type = undo_col(st, 2);
		it->item_key = undo_col(st, 3);
		it->title = undo_col(st, 4);
		it->show = undo_col(st, 5);
		it->season = sqlite3_column_int(st, 6);
		it->episode = sqlite3_column_int(st, 7);
		it->year = sqlite3_column_int(st, 8);
		it->watched_at = sqlite3_column_int64(st, 9);
		it->ids_json = undo_col(st, 10);
		it->detail = undo_col(st, 11);
		u->n++;
		if (it->act == NULL || it->type == NULL)
			continue;    /* cannot happen: the query names the actions */
		it->is_episode = strcmp(it->type, "episode") == 0;
		it->is_show = strcmp(it->type, "show") == 0;
		j = it->ids_json ? pts_json_parse(it->ids_json, strlen(it->ids_json), UNDO_IDS_MAX,
		    NULL) : NULL;
		pts_trakt_parse_ids(j, &it->ids);
		json_object_put(j);
		if (strcmp(it->act->action, PTS_ACT_RATE_TRAKT) == 0) {
			j = it->detail ? pts_json_parse(it->detail, strlen(it->detail),
			    UNDO_DETAIL_MAX, NULL) : NULL;
			it->rating = (int)pts_json_int(j, "rating", 0);
			it->was = (int)pts_json_int(j, "was", 0);
			json_object_put(j);
			if (it->was >= 1 && it->was <= 10)
				it->act = &undo_rating_back;
			else
				it->was = 0;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		PTS_ERROR("cannot read the changes of run %lld", (long long)u->target);
		return -1;
	}
	return 0;
}

/* ==== Finding the plays ==== */

/* Plays (not list entries) in time order, movies first: the order windows are read in. */
static int
undo_cmp(const void *a, const void *b)
{
	const struct undo_item *x = *(struct undo_item *const *)a;
	const struct undo_item *y = *(struct undo_item *const *)b;

	if (x->is_episode != y->is_episode)
		return x->is_episode - y->is_episode;
	if (x->watched_at != y->watched_at)
		return x->watched_at < y->watched_at ? -1 : 1;
	return x->change_id < y->change_id ? -1 : x->change_id > y->change_id;
}

static int
undo_same_play(const struct undo_item *it, const struct pts_trakt_play *p)
{
	if (pts_ledger_minute(p->watched_at) != pts_ledger_minute(it->watched_at))
		return 0;
	if (it->is_episode)
		return p->is_episode && p->season == it->season && p->episode == it->episode &&
		    pts_ids_match(&p->show_ids, &it->ids);
	return !p->is_episode && pts_ids_match(&p->ids, &it->ids);
}

/* 1 when an earlier play of the list (same minute: they sit just before i) took this id. */
static int
undo_taken(struct undo_item **list, size_t i, int64_t id)
{
	int64_t m = pts_ledger_minute(list[i]->watched_at);

	while (i-- > 0 && list[i]->is_episode == list[i + 1]->is_episode &&
	    pts_ledger_minute(list[i]->watched_at) == m)
		if (list[i]->history_id == id)
			return 1;
	return 0;
}

/* Read the history for list[from, to) and give each item the lowest free matching id. */
static enum pts_http_result
undo_window(struct undo *u, struct undo_item **list, size_t from, size_t to)
{
	struct pts_trakt_plays plays;
	enum pts_http_result r;
	size_t i, k;

	r = pts_trakt_history(u->trakt, list[from]->is_episode ? "episodes" : "movies",
	    pts_ledger_minute(list[from]->watched_at) - 60,
	    pts_ledger_minute(list[to - 1]->watched_at) + 120, 0, &plays);
	if (r != PTS_HTTP_OK)
		return r;
	for (i = from; i < to; i++) {
		int64_t best = 0;

		for (k = 0; k < plays.n; k++) {
			const struct pts_trakt_play *p = &plays.v[k];

			if (p->history_id > 0 && (best == 0 || p->history_id < best) &&
			    undo_same_play(list[i], p) && !undo_taken(list, i, p->history_id))
				best = p->history_id;
		}
		list[i]->history_id = best;
	}
	pts_trakt_plays_free(&plays);
	return PTS_HTTP_OK;
}

/* Give every play its history id (0: not on Trakt). A job result. */
static int
undo_find_plays(struct undo *u)
{
	struct undo_item **list = calloc(u->n ? u->n : 1, sizeof(*list));
	size_t n = 0, i, from;
	int rc = PTS_JOB_DONE;

	if (list == NULL)
		return PTS_JOB_FAILED;
	for (i = 0; i < u->n; i++)
		if (u->v[i].act != NULL && u->v[i].act->list == NULL && u->v[i].watched_at > 0)
			list[n++] = &u->v[i];
	qsort(list, n, sizeof(*list), undo_cmp);
	for (from = 0; from < n && rc == PTS_JOB_DONE;) {
		size_t to = from + 1;
		enum pts_http_result r;

		while (to < n && list[to]->is_episode == list[from]->is_episode &&
		    list[to]->watched_at - list[from]->watched_at <= PTS_RECONCILE_WINDOW_S)
			to++;
		if (pts_wctx_cancelled(u->w)) {
			rc = PTS_JOB_CANCELLED;
			break;
		}
		r = undo_window(u, list, from, to);
		if (r == PTS_HTTP_CANCELLED || pts_wctx_cancelled(u->w))
			rc = PTS_JOB_CANCELLED;
		else if (r != PTS_HTTP_OK) {
			PTS_ERROR("cannot read Trakt's history to find the plays (%s)",
			    pts_http_result_name(r));
			rc = PTS_JOB_FAILED;
		}
		from = to;
	}
	free(list);
	return rc;
}

/* ==== Recording and settling ==== */

/* One more change taken back (or planned to be). */
static void
undo_count(struct undo *u, const struct undo_item *it)
{
	if (it->act->list == NULL)
		u->run.removed_from_trakt++;
	else if (strcmp(it->act->list, "ratings") == 0)
		u->run.ratings_changed++;
	else
		u->run.watchlist_changed++;
}

/* The undo row's detail: a rating's new and old value; a watchlist entry's as it was. */
static int
undo_record_detail(sqlite3 *db, const struct undo_item *it)
{
	char buf[64];
	const char *detail = it->detail;

	if (strcmp(it->act->action, PTS_ACT_RATE_TRAKT) == 0) {
		if (it->was > 0)
			snprintf(buf, sizeof(buf), "{\"rating\": %d, \"was\": %d}", it->was, it->rating);
		else
			snprintf(buf, sizeof(buf), "{\"rating\": null, \"was\": %d}", it->rating);
		detail = buf;
	}
	if (detail == NULL)
		return 0;
	return pts_db_run(db, "UPDATE changes SET detail = ? WHERE id = ?", "si", detail, it->row);
}

/*
 * One row per item in the undo run: 'planned' (dry run) or 'pending', or 'not_found' for a
 * play Trakt no longer has; such an original is marked undone at once (nothing left to take
 * back). One transaction. 0 or -1.
 */
static int
undo_record(struct undo *u)
{
	sqlite3 *db = u->w->db;
	size_t i;

	if (pts_db_begin(db) != 0)
		return -1;
	for (i = 0; i < u->n; i++) {
		struct undo_item *it = &u->v[i];
		struct pts_change c;
		int gone;
		enum pts_ledger_result result;

		if (it->act == NULL)
			continue;
		gone = it->act->list == NULL && it->history_id == 0;
		result = gone ? PTS_LEDGER_NOT_FOUND : u->run.dry_run ? PTS_LEDGER_PLANNED :
		    PTS_LEDGER_PENDING;
		memset(&c, 0, sizeof(c));
		c.action = it->act->undo;
		c.type = it->type;
		c.item_key = it->item_key;
		c.title = it->title;
		c.show = it->show;
		c.season = it->season;
		c.episode = it->episode;
		c.year = it->year;
		c.watched_at = it->watched_at;
		c.ids = it->ids_json;
		if (pts_ledger_record(db, u->run.id, 0, &c, result, &it->row) != 0 ||
		    (it->history_id > 0 && pts_db_run(db, "UPDATE changes SET history_id = ?"
		    " WHERE id = ?", "ii", it->history_id, it->row) != 0) ||
		    undo_record_detail(db, it) != 0)
			goto fail;
		if (gone) {
			u->run.not_found++;
			if (!u->run.dry_run && pts_db_run(db, "UPDATE changes SET undone_by = ? WHERE id = ?",
			    "ii", u->run.id, it->change_id) != 0)
				goto fail;
			pts_progress_advance(&u->run.progress, 1);
		} else if (u->run.dry_run) {
			undo_count(u, it);
			pts_progress_advance(&u->run.progress, 1);
		}
	}
	if (pts_run_save_counts(&u->run) != 0 || pts_db_commit(db) != 0)
		goto fail;
	(void)pts_progress_flush(&u->run.progress, 1);
	return 0;
fail:
	pts_db_rollback(db);
	return -1;
}

/*
 * Settle a batch: missing[i] / not_found flags say "Trakt did not have it". Gone either way,
 * so the original is marked undone. failed: the call failed, nothing is known to be gone.
 */
static int
undo_settle(struct undo *u, struct undo_item **b, size_t k, const unsigned char *missing,
    int failed)
{
	sqlite3 *db = u->w->db;
	size_t i;

	if (pts_db_begin(db) != 0)
		return -1;
	for (i = 0; i < k; i++) {
		enum pts_ledger_result result = failed ? PTS_LEDGER_FAILED : missing[i] ?
		    PTS_LEDGER_NOT_FOUND : PTS_LEDGER_DONE;

		if (pts_ledger_set_result(db, b[i]->row, result) != 0 ||
		    (!failed && pts_db_run(db, "UPDATE changes SET undone_by = ? WHERE id = ?", "ii",
		    u->run.id, b[i]->change_id) != 0))
			goto fail;
		/* Off the Trakt watchlist again: to the watchlist sync the item is new on Plex. */
		if (!failed && strcmp(b[i]->act->action, PTS_ACT_WATCHLIST_ADD_TRAKT) == 0 &&
		    b[i]->item_key != NULL && pts_db_run(db, "DELETE FROM watchlist_state WHERE"
		    " item_key = ?", "s", b[i]->item_key) != 0)
			goto fail;
		if (failed)
			u->run.errors++;
		else if (missing[i])
			u->run.not_found++;
		else
			undo_count(u, b[i]);
	}
	if (pts_run_save_counts(&u->run) != 0 || pts_db_commit(db) != 0)
		goto fail;
	pts_progress_advance(&u->run.progress, (int64_t)k);
	(void)pts_progress_flush(&u->run.progress, 0);
	return 0;
fail:
	pts_db_rollback(db);
	return -1;
}

/* What a failed remove call means for the rest: 1 stop (auth, account), 0 go on. */
static int
undo_fatal(enum pts_http_result r)
{
	return r == PTS_HTTP_HTTP_ERROR;
}

/* Remove the plays found, by history id. A job result. */
static int
undo_remove_plays(struct undo *u)
{
	struct undo_item *b[PTS_UNDO_BATCH];
	int64_t ids[PTS_UNDO_BATCH], deleted;
	unsigned char missing[PTS_UNDO_BATCH];
	size_t i = 0, k;
	int stop = 0;

	while (i < u->n) {
		enum pts_http_result r;

		for (k = 0; i < u->n && k < PTS_UNDO_BATCH; i++)
			if (u->v[i].act != NULL && u->v[i].act->list == NULL && u->v[i].history_id > 0) {
				b[k] = &u->v[i];
				ids[k++] = u->v[i].history_id;
			}
		if (k == 0)
			break;
		if (pts_wctx_cancelled(u->w))
			return PTS_JOB_CANCELLED;
		if (stop) {
			if (undo_settle(u, b, k, missing, 1) != 0)
				return PTS_JOB_FAILED;
			continue;
		}
		pts_progress_item(&u->run.progress, "removing plays from Trakt");
		r = pts_trakt_history_remove_ids_nf(u->trakt, ids, k, &deleted, missing);
		if (r == PTS_HTTP_CANCELLED)
			return PTS_JOB_CANCELLED;
		if (r != PTS_HTTP_OK) {
			PTS_ERROR("Trakt did not remove %zu plays (%s)", k, pts_http_result_name(r));
			stop = undo_fatal(r);
		}
		if (undo_settle(u, b, k, missing, r != PTS_HTTP_OK) != 0)
			return PTS_JOB_FAILED;
	}
	return PTS_JOB_DONE;
}

/*
 * Write the items of one list action: ratings removed or put back, watchlist entries taken
 * off, by item, in batches. Same returns.
 */
static int
undo_write_listed(struct undo *u, const struct undo_action *act)
{
	struct undo_item *b[PTS_TLIST_BATCH];
	struct pts_tlist_item items[PTS_TLIST_BATCH];
	unsigned char missing[PTS_TLIST_BATCH];
	size_t i = 0, k, j;
	int stop = 0;

	while (i < u->n) {
		enum pts_http_result r;

		for (k = 0; i < u->n && k < PTS_TLIST_BATCH; i++) {
			struct undo_item *it = &u->v[i];

			if (it->act != act)
				continue;
			memset(&items[k], 0, sizeof(items[k]));
			items[k].kind = it->is_episode ? PTS_TLIST_EPISODE : it->is_show ?
			    PTS_TLIST_SHOW : PTS_TLIST_MOVIE;
			items[k].ids = it->ids;
			items[k].season = it->season;
			items[k].episode = it->episode;
			items[k].rating = act->remove ? 0 : it->was;
			b[k++] = it;
		}
		if (k == 0)
			break;
		if (pts_wctx_cancelled(u->w))
			return PTS_JOB_CANCELLED;
		r = PTS_HTTP_HTTP_ERROR;
		if (!stop) {
			pts_progress_item(&u->run.progress, act->undo);
			r = pts_tlist_write(u->trakt, act->list, act->remove, items, k, NULL);
			if (r == PTS_HTTP_CANCELLED)
				return PTS_JOB_CANCELLED;
			if (r != PTS_HTTP_OK) {
				PTS_ERROR("Trakt did not take back %zu %s entries (%s)", k, act->list,
				    pts_http_result_name(r));
				stop = undo_fatal(r);
			}
		}
		for (j = 0; j < k; j++)
			missing[j] = items[j].not_found != 0;
		if (undo_settle(u, b, k, missing, r != PTS_HTTP_OK) != 0)
			return PTS_JOB_FAILED;
	}
	return PTS_JOB_DONE;
}

/* ==== The run ==== */

static int
undo_run(struct undo *u)
{
	const struct undo_action *const *a;
	int rc;

	if (undo_reset(u) != 0 || undo_load(u) != 0)
		return PTS_JOB_FAILED;
	u->run.progress.overall_total = (int64_t)u->n;
	PTS_INFO("%zu changes of run %lld to take back", u->n, (long long)u->target);
	if (u->n == 0)
		return PTS_JOB_DONE;
	if ((u->trakt = pts_trakt_open(u->w)) == NULL)
		return PTS_JOB_FAILED;
	if (pts_trakt_ensure_token(u->trakt) != PTS_HTTP_OK) {
		PTS_ERROR("Trakt is not signed in (or the sign-in expired): authorize Trakt in Settings");
		return PTS_JOB_FAILED;
	}
	pts_progress_phase(&u->run.progress, "undo: finding");
	if ((rc = undo_find_plays(u)) != PTS_JOB_DONE)
		return rc;
	if (undo_record(u) != 0)
		return PTS_JOB_FAILED;
	if (u->run.dry_run)
		return PTS_JOB_DONE;
	pts_progress_phase(&u->run.progress, "undo: removing");
	if ((rc = undo_remove_plays(u)) != PTS_JOB_DONE)
		return rc;
	for (a = undo_actions; *a != NULL; a++)
		if ((*a)->list != NULL && (rc = undo_write_listed(u, *a)) != PTS_JOB_DONE)
			return rc;
	return PTS_JOB_DONE;
}

/*
 * The run's end (run.h) with the undo's own message; after an ok end the target is marked
 * undone. Returns the job result.
 */
static int
undo_finish(struct undo *u, int rc)
{
	sqlite3 *db = u->w->db;
	char what[120];

	if (rc == PTS_JOB_FAILED && pts_wctx_cancelled(u->w))
		rc = PTS_JOB_CANCELLED;
	/* Rows never sent: a later attempt finds their plays again. */
	if (pts_db_run(db, "DELETE FROM changes WHERE run_id = ? AND result = ?", "is", u->run.id,
	    pts_ledger_result_name(PTS_LEDGER_PENDING)) != 0)
		PTS_WARN("undo: its unsent changes could not be forgotten");
	if (rc == PTS_JOB_CANCELLED) {
		pts_run_message(&u->run, "stopped on request: undo again to take back the rest");
	} else if (rc == PTS_JOB_DONE && u->run.errors > 0) {
		pts_run_message(&u->run, "%lld could not be taken back: undo again to retry",
		    (long long)u->run.errors);
		rc = PTS_JOB_FAILED;
	} else if (rc == PTS_JOB_DONE) {
		snprintf(what, sizeof(what), "%lld plays", (long long)u->run.removed_from_trakt);
		if (u->run.ratings_changed > 0 || u->run.watchlist_changed > 0)
			snprintf(what + strlen(what), sizeof(what) - strlen(what), ", %lld ratings and"
			    " %lld watchlist entries", (long long)u->run.ratings_changed,
			    (long long)u->run.watchlist_changed);
		pts_run_message(&u->run, "%s run %lld: %s %s Trakt, %lld already gone",
		    u->run.dry_run ? "dry run of an undo of" : "undid", (long long)u->target, what,
		    u->run.dry_run ? "to take back on" : "taken back on",
		    (long long)u->run.not_found);
	}
	rc = pts_run_end(&u->run, u->w, rc);
	if (rc == PTS_JOB_DONE && !u->run.dry_run &&
	    pts_db_run(db, "UPDATE runs SET undone_by = ? WHERE id = ?", "ii", u->run.id,
	    u->target) != 0)
		PTS_ERROR("undo: run %lld could not be marked undone", (long long)u->target);
	if (!u->run.dry_run && u->run.removed_from_trakt > 0 &&
	    strcmp(pts_run_status(u->w, rc), "queued") != 0)
		(void)pts_jobs_enqueue_once(db, PTS_JOB_TRAKT_HISTORY_REFRESH, NULL, NULL);
	return rc;
}

int
pts_undo_job(struct pts_wctx *w, json_object *args)
{
	struct undo u;
	int rc;

	(void)args;
	memset(&u, 0, sizeof(u));
	u.w = w;
	if (pts_run_begin(&u.run, w, PTS_RUN_UNDO) != 0)
		return PTS_JOB_FAILED;
	if (pts_db_int(w->db, &u.target, 0, "SELECT COALESCE(undo_of, 0) FROM runs WHERE id = ?",
	    "i", u.run.id) != 0 || u.target == 0) {
		PTS_ERROR("undo job %lld has no run to undo", (long long)w->job_id);
		pts_run_message(&u.run, "no run to undo");
		return pts_run_end(&u.run, w, PTS_JOB_FAILED);
	}
	PTS_INFO("undo of run %lld started%s", (long long)u.target, u.run.dry_run ? " (dry run)" : "");
	rc = undo_run(&u);
	pts_meter_flush(w->db, 1);
	rc = undo_finish(&u, rc);
	undo_free(&u);
	return rc;
}

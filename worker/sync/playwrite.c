/*
 * playwrite.c - the watched-state writes of a sync: plays to Trakt in batches through the
 * ledger, marks in Plex one by one, or in a dry run the plan recorded.
 */
#include "playwrite.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "http.h"
#include "log.h"
#include "paths.h"
#include "reconcile.h"
#include "trakt_lists.h"

/*
 * Items per Trakt history POST unless PTS_TRAKT_BATCH_SIZE says otherwise (1..1000): about
 * 100 is the safe size (docs/UPSTREAM.md) and the most a batch may hold by design.
 */
#define PW_BATCH_DEFAULT 100
/*
 * Planned changes a dry run records (the rest are counted in the run, not listed): more than
 * GET /api/runs/{id}/changes lists (5000), so its "truncated" flag stays right, and a
 * scheduled dry run of a large library does not add its whole plan to the database each time.
 */
#define PW_PLANNED_MAX 10000
/* Sends of one play whose batch turned out not applied, before we give up on it. */
#define PW_MAX_TRIES 5
/* Longest ids JSON text stored with a change (a movie's or show's ids). */
#define PW_IDS_LEN 256

static void
pw_change(const struct pts_plan_entry *pe, const char *action, char *ids, size_t idslen,
    struct pts_change *c)
{
	pts_ids_json_text(&pe->ids, ids, idslen);
	memset(c, 0, sizeof(*c));
	c->action = action;
	c->type = pe->kind == PTS_PLAN_EPISODE ? "episode" : "movie";
	c->item_key = pe->key;
	c->title = pe->title;
	c->show = pe->show;
	c->season = pe->season;
	c->episode = pe->episode;
	c->year = pe->year;
	c->watched_at = pe->watched_at;
	c->ids = ids;
}

/* A dry run: every planned change recorded as 'planned', nothing sent. */
int
pts_pw_record_planned(const struct pts_pw *pw)
{
	size_t i;
	char ids[PW_IDS_LEN];
	struct pts_change c;

	if (pts_db_begin(pw->w->db) != 0)
		return -1;
	for (i = 0; i < pw->add_trakt->n && i < PW_PLANNED_MAX; i++) {
		pw_change(&pw->add_trakt->v[i], PTS_ACT_ADD_PLAY_TRAKT, ids, sizeof(ids), &c);
		if (pts_ledger_record(pw->w->db, pw->run->id, 0, &c, PTS_LEDGER_PLANNED, NULL) != 0)
			goto fail;
	}
	for (i = 0; i < pw->mark_plex->n && pw->add_trakt->n + i < PW_PLANNED_MAX; i++) {
		pw_change(&pw->mark_plex->v[i], PTS_ACT_MARK_WATCHED_PLEX, ids, sizeof(ids), &c);
		if (pts_ledger_record(pw->w->db, pw->run->id, 0, &c, PTS_LEDGER_PLANNED, NULL) != 0)
			goto fail;
	}
	if (pts_db_commit(pw->w->db) != 0)
		goto fail;
	if (pw->add_trakt->n + pw->mark_plex->n > PW_PLANNED_MAX)
		PTS_INFO("dry run: the first %d planned changes are listed, the rest only counted",
		    PW_PLANNED_MAX);
	pw->run->added_to_trakt = (int64_t)pw->add_trakt->n;
	pw->run->added_to_plex = (int64_t)pw->mark_plex->n;
	PTS_INFO("dry run: would add %zu plays to Trakt and mark %zu items watched in Plex",
	    pw->add_trakt->n, pw->mark_plex->n);
	return 0;
fail:
	pts_db_rollback(pw->w->db);
	return -1;
}

static size_t
pw_batch_size(void)
{
	const char *v = pts_env("PTS_TRAKT_BATCH_SIZE", NULL);
	long n = v ? strtol(v, NULL, 10) : 0;

	return n >= 1 && n <= PTS_TRAKT_BATCH_MAX ? (size_t)n : PW_BATCH_DEFAULT;
}

/* Drop entries the ledger says were done (or may have been): never a second play. */
int
pts_pw_filter_blocked(const struct pts_pw *pw, struct pts_plan *p)
{
	size_t i, out = 0, skipped = 0, unknown = 0;
	/* A --full run sends again what Trakt did not know; others wait out the hold. */
	int64_t nf_since = pw->run->full ? INT64_MAX : pts_now() - PTS_LEDGER_NOT_FOUND_HOLD_S;

	for (i = 0; i < p->n; i++) {
		int b = pts_ledger_blocked(pw->w->db, PTS_ACT_ADD_PLAY_TRAKT, p->v[i].key,
		    p->v[i].watched_at);
		int nf = b == 0 ? pts_ledger_not_found_since(pw->w->db, PTS_ACT_ADD_PLAY_TRAKT,
		    p->v[i].key, p->v[i].watched_at, nf_since) : 0;

		if (b < 0 || nf < 0)
			return -1;
		if (b || nf) {
			if (nf)
				unknown++;
			else
				skipped++;
			free(p->v[i].title);
			free(p->v[i].show);
			free(p->v[i].rating_key);
			continue;
		}
		p->v[out++] = p->v[i];
	}
	p->n = out;
	if (skipped > 0)
		PTS_INFO("%zu plays already sent by an earlier run (ledger): not sent again", skipped);
	if (unknown > 0) {
		/* Still items Trakt lacks: counted as such, without a write. */
		pw->run->not_found += (int64_t)unknown;
		PTS_INFO("%zu plays Trakt did not know when an earlier run sent them (less than %d"
		    " days ago): not sent again (a full sync sends them)", unknown,
		    PTS_LEDGER_NOT_FOUND_HOLD_S / 86400);
	}
	return 0;
}

/*
 * After a reconciled batch: plays the history check showed were not applied go to the end
 * of the plan to be sent again (a bounded number of times).
 */
static int
pw_requeue_unapplied(const struct pts_pw *pw, size_t from, size_t n, const int64_t *change_ids,
    const size_t *pos)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct pts_plan_entry copy;
		enum pts_ledger_result result;
		int r = pts_ledger_get_result(pw->w->db, change_ids[i], &result);

		if (r < 0)
			return -1;
		if (r > 0 || result != PTS_LEDGER_FAILED)
			continue;
		copy = pw->add_trakt->v[from + pos[i]];
		if (++copy.tries >= PW_MAX_TRIES) {
			PTS_ERROR("giving up on %s after %d tries", copy.key, copy.tries);
			pw->run->errors++;
			continue;
		}
		/* pts_plan_add copies the strings: the entry at from + pos[i] keeps its own. */
		if (pts_plan_add(pw->add_trakt, &copy) != 0)
			return -1;
	}
	return 0;
}

/* The Trakt item of a planned play. */
static void
pw_hist_item(const struct pts_plan_entry *pe, struct pts_trakt_hist_item *it)
{
	memset(it, 0, sizeof(*it));
	it->kind = pe->kind == PTS_PLAN_EPISODE ? PTS_TRAKT_EPISODE : PTS_TRAKT_MOVIE;
	if (pe->kind == PTS_PLAN_EPISODE)
		it->show_ids = pe->ids;
	else
		it->ids = pe->ids;
	it->season = pe->season;
	it->episode = pe->episode;
	it->watched_at = pe->watched_at;
}

/* Buffers of one batch, sized for the batch size in use. */
struct pw_batch {
	struct pts_trakt_hist_item *items;
	struct pts_change *changes;
	char (*ids)[PW_IDS_LEN];
	int64_t *change_ids;
	unsigned char *not_found;
	int64_t *run_s;              /* each play's running time (its same-viewing window) */
	unsigned char *skipped;      /* the ledger held the same viewing: not sent */
	size_t *pos;                 /* sent play k is the batch's play pos[k] */
};

static void
pw_batch_free(struct pw_batch *b)
{
	free(b->items);
	free(b->changes);
	free(b->ids);
	free(b->change_ids);
	free(b->not_found);
	free(b->run_s);
	free(b->skipped);
	free(b->pos);
}

static int
pw_batch_alloc(struct pw_batch *b, size_t bs)
{
	b->items = calloc(bs, sizeof(*b->items));
	b->changes = calloc(bs, sizeof(*b->changes));
	b->ids = calloc(bs, sizeof(*b->ids));
	b->change_ids = calloc(bs, sizeof(*b->change_ids));
	b->not_found = calloc(bs, sizeof(*b->not_found));
	b->run_s = calloc(bs, sizeof(*b->run_s));
	b->skipped = calloc(bs, sizeof(*b->skipped));
	b->pos = calloc(bs, sizeof(*b->pos));
	if (b->items != NULL && b->changes != NULL && b->ids != NULL && b->change_ids != NULL &&
	    b->not_found != NULL && b->run_s != NULL && b->skipped != NULL && b->pos != NULL)
		return 0;
	pw_batch_free(b);
	return -1;
}

/* Trakt refused the history for the account (res.status): see pts_pw_write_trakt. */
static void
pw_refused(const struct pts_pw *pw, int64_t batch, long status, size_t left)
{
	char cap_text[64] = "";
	int64_t cap = 0;

	if (pts_ledger_settle_batch(pw->w->db, batch, PTS_LEDGER_FAILED, PTS_BATCH_SETTLED) != 0)
		PTS_ERROR("history: could not record the refused batch");
	if (status == PTS_TLIST_ACCOUNT_LIMIT &&
	    pts_tlist_limit(pw->trakt, "history", &cap) == PTS_HTTP_OK && cap > 0)
		snprintf(cap_text, sizeof(cap_text), ": %lld items", (long long)cap);
	(void)pts_run_warn(pw->run, "history: Trakt refused the plays (HTTP %ld%s%s); %zu %s left"
	    " undone, the other kinds went on", status, status == PTS_TLIST_ACCOUNT_LIMIT ?
	    ", the account's limit is reached" : status == PTS_TLIST_LOCKED ?
	    ", the account is locked" : ", VIP only", cap_text, left, left == 1 ? "play" : "plays");
}

/*
 * Send add_trakt[from, from + n) as batch number nb through the ledger. Job result; *refused
 * set when Trakt refused the history for the account.
 */
static int
pw_send_batch(const struct pts_pw *pw, struct pw_batch *b, size_t from, size_t n, size_t nb,
    int *refused)
{
	struct pts_trakt_hist_result res;
	enum pts_http_result r;
	int64_t batch = 0;
	size_t i, k, all = n;

	for (i = 0; i < n; i++) {
		pw_hist_item(&pw->add_trakt->v[from + i], &b->items[i]);
		pw_change(&pw->add_trakt->v[from + i], PTS_ACT_ADD_PLAY_TRAKT, b->ids[i],
		    sizeof(b->ids[i]), &b->changes[i]);
		b->run_s[i] = pw->add_trakt->v[from + i].run_s;
	}
	/* The same-viewing check under the write lock that records the batch: a live scrobble
	 * or webhook of one of these viewings since the plan was made is not sent again. */
	if (pts_ledger_batch_open_plays(pw->w->db, pw->run, b->changes, b->run_s, n, &batch,
	    b->change_ids, b->skipped) != 0)
		return PTS_JOB_FAILED;
	for (i = 0, k = 0; i < all; i++) {
		if (b->skipped[i])
			continue;
		b->items[k] = b->items[i];
		b->change_ids[k] = b->change_ids[i];
		b->pos[k++] = i;
	}
	n = k;
	if (n < all)
		PTS_INFO("Trakt batch %zu: %zu plays already on Trakt for the same viewing (live"
		    " scrobble or webhook): not sent again", nb + 1, all - n);
	if (n == 0)
		return PTS_JOB_DONE;
	memset(&res, 0, sizeof(res));
	r = pts_trakt_history_add(pw->trakt, b->items, n, &res);
	switch (r) {
	case PTS_HTTP_OK:
		for (i = 0; i < n; i++)
			b->not_found[i] = b->items[i].not_found != 0;
		if (pts_ledger_batch_settle(pw->w->db, pw->run, batch, b->change_ids, b->not_found, n,
		    &pw->run->added_to_trakt) != 0)
			return PTS_JOB_FAILED;
		for (i = 0; i < n; i++) {
			const struct pts_plan_entry *pe = &pw->add_trakt->v[from + b->pos[i]];

			if (b->not_found[i])
				PTS_WARN("not found on Trakt: %s%s%s", pe->show ? pe->show : "",
				    pe->show ? " - " : "", pe->title ? pe->title : pe->key);
		}
		return PTS_JOB_DONE;
	case PTS_HTTP_UNKNOWN:
		PTS_WARN("Trakt batch %zu: no answer, it may have been applied: checking"
		    " Trakt's history before anything is sent again", nb + 1);
		(void)pts_ledger_batch_state(pw->w->db, batch, PTS_BATCH_UNKNOWN);
		if (pts_reconcile_batch(pw->w, pw->trakt, batch, pw->run) != 0)
			pw->run->errors += (int64_t)n;
		else if (pw_requeue_unapplied(pw, from, n, b->change_ids, b->pos) != 0)
			return PTS_JOB_FAILED;
		(void)pts_run_save_counts(pw->run);
		return PTS_JOB_DONE;
	case PTS_HTTP_CANCELLED:
		pts_ledger_batch_drop(pw->w->db, batch);
		return PTS_JOB_CANCELLED;
	default:
		if (r == PTS_HTTP_HTTP_ERROR && pts_tlist_refused(res.status)) {
			pw_refused(pw, batch, res.status, pw->add_trakt->n - from);
			*refused = 1;
			return PTS_JOB_DONE;
		}
		/* Refused (4xx) or never delivered: nothing was applied. */
		PTS_ERROR("Trakt refused batch %zu (%s): %zu plays not added", nb + 1,
		    pts_http_result_name(r), n);
		(void)pts_ledger_batch_fail(pw->w->db, pw->run, batch, PTS_LEDGER_FAILED, n);
		/* An auth or account problem will not get better within this run. */
		return r == PTS_HTTP_HTTP_ERROR ? PTS_JOB_FAILED : PTS_JOB_DONE;
	}
}

int
pts_pw_write_trakt(const struct pts_pw *pw, int *refused)
{
	size_t bs = pw_batch_size(), from, nb = 0;
	struct pw_batch b;
	int rc = PTS_JOB_DONE;

	if (pw_batch_alloc(&b, bs) != 0)
		return PTS_JOB_FAILED;
	/* add_trakt may grow while we go (plays re-queued after a reconciled batch). */
	*refused = 0;
	for (from = 0; from < pw->add_trakt->n && rc == PTS_JOB_DONE && !*refused; nb++) {
		size_t n = pw->add_trakt->n - from < bs ? pw->add_trakt->n - from : bs;
		char label[64];

		if (pts_wctx_cancelled(pw->w)) {
			rc = PTS_JOB_CANCELLED;
			break;
		}
		snprintf(label, sizeof(label), "Trakt batch %zu of %zu", nb + 1,
		    (pw->add_trakt->n + bs - 1) / bs);
		pts_progress_item(&pw->run->progress, label);
		(void)pts_progress_flush(&pw->run->progress, 1);
		rc = pw_send_batch(pw, &b, from, n, nb, refused);
		from += n;
	}
	pw_batch_free(&b);
	return rc;
}

int
pts_pw_write_plex(const struct pts_pw *pw, int64_t *last_mark)
{
	char ids[PW_IDS_LEN];
	struct pts_change c;
	size_t i;

	for (i = 0; i < pw->mark_plex->n; i++) {
		const struct pts_plan_entry *pe = &pw->mark_plex->v[i];
		int64_t change_id = 0;
		enum pts_http_result r;

		if (pts_wctx_cancelled(pw->w))
			return PTS_JOB_CANCELLED;
		pts_progress_item(&pw->run->progress, pe->title);
		(void)pts_progress_flush(&pw->run->progress, 0);
		pw_change(pe, PTS_ACT_MARK_WATCHED_PLEX, ids, sizeof(ids), &c);
		if (pts_ledger_record(pw->w->db, pw->run->id, 0, &c, PTS_LEDGER_PENDING, &change_id) != 0)
			return PTS_JOB_FAILED;
		r = pts_plex_scrobble(pw->plex, pe->rating_key, 1);
		*last_mark = pts_now();
		if (r == PTS_HTTP_OK) {
			pw->run->added_to_plex++;
			(void)pts_ledger_set_result(pw->w->db, change_id, PTS_LEDGER_DONE);
		} else {
			/* One item failing does not stop the others. */
			PTS_WARN("could not mark %s watched in Plex (%s)", pe->title ? pe->title : "",
			    pts_http_result_name(r));
			pw->run->errors++;
			(void)pts_ledger_set_result(pw->w->db, change_id, PTS_LEDGER_FAILED);
		}
		(void)pts_run_save_counts(pw->run);
	}
	return PTS_JOB_DONE;
}

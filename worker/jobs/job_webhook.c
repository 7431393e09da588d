/*
 * job_webhook.c - a webhook's play to Trakt through the ledger, as its own run.
 */
#include "job_webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db.h"
#include "http.h"
#include "jsonx.h"
#include "ledger.h"
#include "log.h"
#include "plan.h"
#include "plex.h"
#include "plex_lists.h"
#include "reconcile.h"
#include "settings.h"
#include "syncrun.h"
#include "trakt.h"
#include "utf8.h"

/* meta keys: our server's machineIdentifier and the plex_url it was read from. */
#define WEBHOOK_META_MACHINE "plex_machine_id"
#define WEBHOOK_META_MACHINE_URL "plex_machine_url"

struct webhook {
	struct pts_wctx *w;
	struct pts_run run;
	struct pts_plex *plex;           /* opened only when an id must be asked for */
	struct pts_trakt *trakt;
	struct pts_plex_item it;         /* strings borrowed from the args */
	int is_episode;
	int ours;                        /* the play is on our server (Server.uuid) */
	int by_episode_ids;              /* an episode sent by its own ids (no show ids) */
	struct pts_ids ids;              /* the movie's, or the episode's show's (or its own) */
	int64_t watched_at;
	char key[PTS_LEDGER_KEY_LEN];
	char label[PTS_WEBHOOK_LABEL_MAX];
	const char *message;             /* the run's closing note (static), NULL for none */
};

/* "Show S01E02 Title" or "Title (2010)". */
static void
webhook_label(struct webhook *h)
{
	const struct pts_plex_item *it = &h->it;

	if (h->is_episode)
		snprintf(h->label, sizeof(h->label), "%s S%02dE%02d %s", it->grandparent_title ?
		    it->grandparent_title : "", it->season, it->episode, it->title ? it->title : "");
	else if (it->year > 0)
		snprintf(h->label, sizeof(h->label), "%s (%d)", it->title ? it->title : "", it->year);
	else
		snprintf(h->label, sizeof(h->label), "%s", it->title ? it->title : "");
	pts_utf8_trim(h->label);   /* a long title is cut at a character boundary */
}

/* 1 when settings let a webhook write to Trakt; else 0 with the message set. */
static int
webhook_allowed(struct webhook *h)
{
	char *dir;
	int ok;

	if (!pts_settings_get_bool(h->w->db, "sync_watched")) {
		h->message = "ignored: the watched-state sync is off in Settings";
		return 0;
	}
	dir = pts_settings_get_str(h->w->db, "sync_direction");
	ok = dir != NULL && (strcmp(dir, "plex_to_trakt") == 0 || strcmp(dir, "both") == 0);
	free(dir);
	if (!ok)
		h->message = "ignored: the sync direction does not write to Trakt";
	return ok;
}

/*
 * Our server's machineIdentifier into buf: from meta while plex_url is the one it was read
 * from, else from GET /identity (then cached). 0, or -1 when it cannot be known (logged).
 */
static int
webhook_our_server(struct webhook *h, char *buf, size_t len)
{
	char *url = pts_settings_get_str(h->w->db, "plex_url");
	char *cached_url = pts_db_meta_get(h->w->db, WEBHOOK_META_MACHINE_URL);
	char *cached = pts_db_meta_get(h->w->db, WEBHOOK_META_MACHINE);
	enum pts_http_result r;
	int rc = -1;

	buf[0] = '\0';
	if (url != NULL && cached_url != NULL && cached != NULL && cached[0] != '\0' &&
	    strcmp(url, cached_url) == 0 && strlen(cached) < len) {
		snprintf(buf, len, "%s", cached);
		rc = 0;
		goto done;
	}
	if (url == NULL || (h->plex == NULL && (h->plex = pts_plex_open(h->w)) == NULL))
		goto done;
	r = pts_plexl_machine_id(h->plex, buf, len);
	if (r != PTS_HTTP_OK) {
		PTS_WARN("webhook: cannot ask Plex which server it is (%s)", pts_http_result_name(r));
		goto done;
	}
	if (pts_db_meta_set(h->w->db, WEBHOOK_META_MACHINE, buf) != 0 ||
	    pts_db_meta_set(h->w->db, WEBHOOK_META_MACHINE_URL, url) != 0)
		PTS_WARN("webhook: could not cache the server's machineIdentifier");
	rc = 0;
done:
	free(url);
	free(cached_url);
	free(cached);
	return rc;
}

/* h->ours: the payload's Server.uuid is our server's. A play of unknown origin is not ours. */
static void
webhook_whose(struct webhook *h, json_object *args)
{
	const char *uuid = pts_json_str(args, "server_uuid");
	char mine[PTS_PLEXL_MACHINE_LEN];

	h->ours = uuid != NULL && webhook_our_server(h, mine, sizeof(mine)) == 0 &&
	    strcasecmp(uuid, mine) == 0;
	if (!h->ours)
		PTS_INFO("webhook: %s was played on %s: only the ids in the payload are used",
		    h->label, uuid != NULL ? "another Plex server" : "an unnamed Plex server");
}

/*
 * Ask our server for an item's ids (a movie without a Guid array, an episode's show), only
 * when the play is on our server and our item under that key has the payload's guid.
 * 0 with ids set, 1 not asked or not the same item (ids empty), -1 failed.
 */
static int
webhook_ask_plex(struct webhook *h, const char *rating_key, const char *guid,
    struct pts_ids *ids)
{
	enum pts_http_result r;
	int match = 0;

	memset(ids, 0, sizeof(*ids));
	if (!h->ours || rating_key == NULL || guid == NULL)
		return 1;
	if (h->plex == NULL && (h->plex = pts_plex_open(h->w)) == NULL)
		return -1;
	r = pts_plex_item_ids_if(h->plex, rating_key, guid, ids, &match);
	if (r != PTS_HTTP_OK) {
		PTS_ERROR("webhook: cannot ask Plex for the ids of item %s (%s)", rating_key,
		    pts_http_result_name(r));
		return -1;
	}
	if (!match) {
		PTS_WARN("webhook: our item %s is not the one played (its guid differs): not used",
		    rating_key);
		return 1;
	}
	return 0;
}

/* An episode by its own ids (from the payload): its ledger key. 0 or -1. */
static int
webhook_key_episode_ids(const struct pts_ids *ids, char *buf, size_t len)
{
	char movie[PTS_LEDGER_KEY_LEN];
	const char *id;
	size_t n;

	/* Same id preference as a movie's key, under its own prefix. */
	if (pts_ledger_key_movie(ids, movie, sizeof(movie)) != 0)
		return -1;
	id = movie + strlen("movie:");
	n = strlen(id);
	if (n + sizeof("episode-ids:") > len)
		return -1;
	memcpy(buf, "episode-ids:", sizeof("episode-ids:") - 1);
	memcpy(buf + sizeof("episode-ids:") - 1, id, n + 1);
	return 0;
}

/*
 * The ids and the ledger key. 0 matched, 1 unmatched (counted, run ok), -1 failed (Plex could
 * not be asked).
 */
static int
webhook_match(struct webhook *h)
{
	const struct pts_plex_item *it = &h->it;
	int rc;

	if (h->is_episode) {
		h->ids = it->show_ids;   /* legacy guid or legacy grandparentGuid */
		if (pts_ids_empty(&h->ids) && webhook_ask_plex(h, it->grandparent_rating_key,
		    it->grandparent_guid, &h->ids) < 0)
			return -1;
		if (!pts_ids_empty(&h->ids)) {
			rc = it->season < 0 || it->episode < 0 ? -1 : pts_ledger_key_episode(&h->ids,
			    it->season, it->episode, h->key, sizeof(h->key));
		} else {
			/* No show ids we may use: the episode's own, from the payload. */
			h->ids = it->ids;
			h->by_episode_ids = 1;
			rc = webhook_key_episode_ids(&h->ids, h->key, sizeof(h->key));
		}
	} else {
		h->ids = it->ids;
		/* A new-agent movie whose payload came without its Guid array. */
		if (pts_ids_empty(&h->ids) && it->guid_kind == PTS_GUID_PLEX &&
		    webhook_ask_plex(h, it->rating_key, it->guid, &h->ids) < 0)
			return -1;
		rc = pts_ledger_key_movie(&h->ids, h->key, sizeof(h->key));
	}
	if (rc != 0) {
		PTS_INFO("webhook: unmatched (no usable id%s): %s", h->ours ? "" :
		    " in the payload of another server's play", h->label);
		h->run.unmatched++;
		h->message = "unmatched: the item has no id Trakt knows";
		return 1;
	}
	return 0;
}

/* The play's time (see job_webhook.h). */
static int64_t
webhook_when(const struct webhook *h, json_object *args, json_object *meta)
{
	int64_t received = pts_json_int(args, "received_at", 0), t;

	if (received <= 0)
		received = pts_now();
	t = pts_json_int(meta, "viewedAt", 0);
	if (t <= 0)
		t = h->it.last_viewed_at;
	if (t > 0 && t <= received + 60 && received - t <= PTS_WEBHOOK_VIEW_MAX_AGE_S)
		return t;
	return received;
}

static void
webhook_change(const struct webhook *h, char *ids, size_t idslen, struct pts_change *c)
{
	pts_plan_ids_json(&h->ids, ids, idslen);
	memset(c, 0, sizeof(*c));
	c->action = PTS_ACT_ADD_PLAY_TRAKT;
	c->type = h->is_episode ? "episode" : "movie";
	c->item_key = h->key;
	c->title = h->it.title;
	c->show = h->is_episode ? h->it.grandparent_title : NULL;
	c->season = h->is_episode ? h->it.season : -1;
	c->episode = h->is_episode ? h->it.episode : -1;
	c->year = h->it.year;
	c->watched_at = h->watched_at;
	c->ids = ids;
}

/* A dry run: the change as 'planned', nothing sent. 0 or -1. */
static int
webhook_planned(struct webhook *h)
{
	struct pts_change c;
	char ids[256];

	webhook_change(h, ids, sizeof(ids), &c);
	if (pts_ledger_record(h->w->db, h->run.id, 0, &c, "planned", NULL) != 0)
		return -1;
	h->run.added_to_trakt = 1;
	h->message = "dry run: the play was not sent";
	PTS_INFO("webhook: dry run: would add %s to Trakt", h->label);
	return 0;
}

/* Batch and change as 'pending' before the POST. 0 or -1. */
static int
webhook_open(struct webhook *h, int64_t *batch, int64_t *change)
{
	struct pts_change c;
	char ids[256];

	webhook_change(h, ids, sizeof(ids), &c);
	if (pts_db_begin(h->w->db) != 0)
		return -1;
	if (pts_ledger_open_batch(h->w->db, h->run.id, "trakt", batch) != 0 ||
	    pts_ledger_record(h->w->db, h->run.id, *batch, &c, "pending", change) != 0 ||
	    pts_db_commit(h->w->db) != 0) {
		pts_db_rollback(h->w->db);
		return -1;
	}
	return 0;
}

/* Settle from Trakt's answer, with the run's counters. 0 or -1. */
static int
webhook_settle(struct webhook *h, int64_t batch, int64_t change, int not_found)
{
	if (pts_db_begin(h->w->db) != 0)
		return -1;
	if (pts_ledger_set_result(h->w->db, change, not_found ? "not_found" : "done") != 0 ||
	    pts_ledger_settle_batch(h->w->db, batch, "failed", "settled") != 0)
		goto fail;
	if (not_found)
		h->run.not_found++;
	else
		h->run.added_to_trakt++;
	if (pts_syncrun_save_counts(&h->run) != 0 || pts_db_commit(h->w->db) != 0)
		goto fail;
	return 0;
fail:
	pts_db_rollback(h->w->db);
	return -1;
}

/* Never sent (cancelled while waiting for the rate limit): forget the batch. */
static void
webhook_drop(struct webhook *h, int64_t batch)
{
	if (pts_db_begin(h->w->db) != 0)
		return;
	if (pts_db_run(h->w->db, "DELETE FROM changes WHERE batch_id = ?", "i", batch) != 0 ||
	    pts_db_run(h->w->db, "DELETE FROM batches WHERE id = ?", "i", batch) != 0 ||
	    pts_db_commit(h->w->db) != 0)
		pts_db_rollback(h->w->db);
}

/* The POST of the one play. 0, 1 cancelled, -1 failed. */
static int
webhook_send(struct webhook *h)
{
	struct pts_trakt_hist_result res;
	struct pts_trakt_hist_item item;
	enum pts_http_result r;
	int64_t batch = 0, change = 0;
	char *result = NULL;

	h->trakt = pts_trakt_open(h->w);
	if (h->trakt == NULL)
		return -1;
	if (pts_trakt_ensure_token(h->trakt) != PTS_HTTP_OK) {
		PTS_ERROR("webhook: Trakt is not signed in (or the sign-in expired): authorize"
		    " Trakt in Settings");
		return -1;
	}
	memset(&item, 0, sizeof(item));
	item.kind = h->is_episode ? PTS_TRAKT_EPISODE : PTS_TRAKT_MOVIE;
	if (h->is_episode && !h->by_episode_ids)
		item.show_ids = h->ids;
	else
		item.ids = h->ids;
	item.season = h->is_episode ? h->it.season : -1;
	item.episode = h->is_episode ? h->it.episode : -1;
	item.watched_at = h->watched_at;
	if (webhook_open(h, &batch, &change) != 0)
		return -1;
	memset(&res, 0, sizeof(res));
	r = pts_trakt_history_add(h->trakt, &item, 1, &res);
	switch (r) {
	case PTS_HTTP_OK:
		if (webhook_settle(h, batch, change, item.not_found) != 0)
			return -1;
		if (item.not_found) {
			PTS_WARN("webhook: not found on Trakt: %s", h->label);
			h->message = "not found on Trakt";
		} else {
			PTS_INFO("webhook: added %s to Trakt", h->label);
		}
		return 0;
	case PTS_HTTP_UNKNOWN:
		PTS_WARN("webhook: Trakt gave no answer for %s; checking its history", h->label);
		(void)pts_db_run(h->w->db, "UPDATE batches SET state = 'unknown' WHERE id = ?", "i",
		    batch);
		if (pts_reconcile_batch(h->w, h->trakt, batch, &h->run) != 0) {
			/* Left 'unknown': the next sync's settling phase looks again. */
			h->run.errors++;
			h->message = "Trakt gave no answer; the next sync checks whether it was added";
			return 0;
		}
		if (pts_db_text(h->w->db, &result, "SELECT result FROM changes WHERE id = ?", "i",
		    change) == 0 && result != NULL && strcmp(result, "failed") == 0) {
			/* Not applied: the ledger no longer blocks it, so the next sync adds it. */
			h->run.errors++;
			h->message = "Trakt did not take the play; the next sync adds it";
		}
		free(result);
		return 0;
	case PTS_HTTP_CANCELLED:
		webhook_drop(h, batch);
		return 1;
	default:
		PTS_ERROR("webhook: Trakt refused %s (%s)", h->label, pts_http_result_name(r));
		if (pts_ledger_settle_batch(h->w->db, batch, "failed", "settled") != 0)
			PTS_ERROR("webhook: could not record the batch as failed");
		h->run.errors++;
		return -1;
	}
}

static int
webhook_run(struct webhook *h, json_object *args)
{
	json_object *meta = NULL;
	const char *account = pts_json_str(args, "account");
	int rc;

	if (!json_object_object_get_ex(args, "metadata", &meta) ||
	    pts_plex_parse_item(meta, &h->it) != 0 || h->it.type == NULL ||
	    (strcmp(h->it.type, "movie") != 0 && strcmp(h->it.type, "episode") != 0)) {
		PTS_ERROR("webhook job %lld: no usable metadata", (long long)h->w->job_id);
		return -1;
	}
	h->is_episode = strcmp(h->it.type, "episode") == 0;
	webhook_label(h);
	PTS_INFO("webhook: %s watched in Plex%s%s", h->label, account ? " by " : "",
	    account ? account : "");
	h->run.progress.overall_total = 1;
	pts_progress_phase(&h->run.progress, "writing");
	pts_progress_item(&h->run.progress, h->label);
	if (!webhook_allowed(h)) {
		PTS_INFO("webhook: %s", h->message);
		return 0;
	}
	webhook_whose(h, args);
	rc = webhook_match(h);
	pts_progress_advance(&h->run.progress, 1);
	(void)pts_progress_flush(&h->run.progress, 1);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	h->watched_at = webhook_when(h, args, meta);
	rc = pts_ledger_blocked(h->w->db, PTS_ACT_ADD_PLAY_TRAKT, h->key, h->watched_at);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		PTS_INFO("webhook: %s was already sent to Trakt (ledger): not sent again", h->label);
		h->message = "already sent to Trakt by an earlier run";
		return 0;
	}
	if (h->run.dry_run)
		return webhook_planned(h);
	if (pts_wctx_cancelled(h->w))
		return 1;
	return webhook_send(h);
}

/* Close the run: ok, failed or cancelled; back to 'queued' when the worker is stopping. */
static void
webhook_finish(struct webhook *h, int rc)
{
	struct pts_wctx *w = h->w;
	const char *status = rc == 0 ? "ok" : rc == 1 ? "cancelled" : "failed";
	const char *msg = h->message;

	(void)pts_progress_flush(&h->run.progress, 1);
	(void)pts_syncrun_save_counts(&h->run);
	if (rc == 1 && w->term != NULL && *w->term) {
		(void)pts_db_run(w->db, "UPDATE runs SET status = 'queued' WHERE id = ?", "i",
		    h->run.id);
		return;
	}
	if (rc < 0 && msg == NULL)
		msg = "the webhook's play was not added: see the log";
	(void)pts_db_run(w->db, "UPDATE runs SET status = ?, finished_at = ?, message = ?"
	    " WHERE id = ?", "sisi", status, pts_now(), msg, h->run.id);
}

int
pts_job_webhook_scrobble(struct pts_wctx *w, json_object *args)
{
	struct webhook *h;
	int rc;

	if (w->run_id == 0) {
		PTS_ERROR("webhook job %lld has no run", (long long)w->job_id);
		return -1;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -1;
	h->w = w;
	h->run.id = w->run_id;
	h->run.trigger = "webhook";
	h->run.dry_run = pts_json_bool(args, "dry_run", 0);
	if (pts_db_run(w->db, "UPDATE runs SET status = 'running', started_at ="
	    " COALESCE(started_at, ?), message = NULL WHERE id = ?", "ii", pts_now(),
	    h->run.id) != 0 || pts_progress_begin(&h->run.progress, w->db, h->run.id) != 0) {
		free(h);
		return -1;
	}
	pts_log_set_run(h->run.id);
	rc = webhook_run(h, args);
	if (rc < 0 && pts_wctx_cancelled(w))
		rc = 1;
	webhook_finish(h, rc);
	pts_meter_flush(w->db, 1);
	pts_trakt_close(h->trakt);
	pts_plex_close(h->plex);
	pts_log_set_run(0);
	free(h);
	return rc;
}

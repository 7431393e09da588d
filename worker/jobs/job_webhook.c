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
#include "run.h"
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

/* Ids JSON text stored with the change. */
#define WEBHOOK_IDS_LEN 256
/* Plays of Trakt's history read to find the same viewing put there by another app (a
 * home's plays within one running time are a handful). */
#define WEBHOOK_SAME_PLAYS_MAX 100

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

	if (!pts_settings_get_bool(h->w->db, PTS_KEY_SYNC_WATCHED)) {
		h->message = "ignored: the watched-state sync is off in Settings";
		return 0;
	}
	dir = pts_settings_get_str(h->w->db, PTS_KEY_SYNC_DIRECTION);
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
	char *url = pts_settings_get_str(h->w->db, PTS_KEY_PLEX_URL);
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
	pts_ids_json_text(&h->ids, ids, idslen);
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
	char ids[WEBHOOK_IDS_LEN];

	webhook_change(h, ids, sizeof(ids), &c);
	if (pts_ledger_record(h->w->db, h->run.id, 0, &c, PTS_LEDGER_PLANNED, NULL) != 0)
		return -1;
	h->run.added_to_trakt = 1;
	h->message = "dry run: the play was not sent";
	PTS_INFO("webhook: dry run: would add %s to Trakt", h->label);
	return 0;
}

/* The POST of the one play through the ledger. A job result. */
/*
 * 1 when Trakt's history holds a play of the item within its same-viewing window of the
 * view (ledger.h): another app scrobbled this viewing. One history call for that window;
 * 0 when none or when it cannot be read (the ledger still guards our own plays).
 */
static int
webhook_on_trakt(struct webhook *h)
{
	struct pts_trakt_plays plays;
	int64_t run_s = h->it.duration / 1000;
	int64_t window = PTS_LEDGER_SAME_VIEWING_S(run_s > 0 ? run_s : 0);
	enum pts_http_result r;
	size_t i;
	int found = 0;

	memset(&plays, 0, sizeof(plays));
	r = pts_trakt_history(h->trakt, h->is_episode ? "episodes" : "movies",
	    h->watched_at - window, h->watched_at + window, WEBHOOK_SAME_PLAYS_MAX, &plays);
	if (r != PTS_HTTP_OK)
		PTS_WARN("webhook: Trakt's history around %s could not be read (%s)", h->label,
		    pts_http_result_name(r));
	for (i = 0; r == PTS_HTTP_OK && i < plays.n && !found; i++) {
		const struct pts_trakt_play *p = &plays.v[i];

		if (!pts_ledger_same_viewing_at(p->watched_at, h->watched_at, run_s) ||
		    p->is_episode != h->is_episode)
			continue;
		if (!h->is_episode || h->by_episode_ids)
			found = pts_ids_match(&p->ids, &h->ids);
		else
			found = p->season == h->it.season && p->episode == h->it.episode &&
			    pts_ids_match(&p->show_ids, &h->ids);
	}
	pts_trakt_plays_free(&plays);
	return found;
}

static int
webhook_send(struct webhook *h)
{
	struct pts_trakt_hist_result res;
	struct pts_trakt_hist_item item;
	enum pts_http_result r;
	enum pts_ledger_result result;
	struct pts_change c;
	char ids[WEBHOOK_IDS_LEN];
	unsigned char not_found, same = 0;
	int64_t batch = 0, change = 0, run_s = h->it.duration / 1000;

	h->trakt = pts_trakt_open(h->w);
	if (h->trakt == NULL)
		return PTS_JOB_FAILED;
	if (pts_trakt_ensure_token(h->trakt) != PTS_HTTP_OK) {
		PTS_ERROR("webhook: Trakt is not signed in (or the sign-in expired): authorize"
		    " Trakt in Settings");
		return PTS_JOB_FAILED;
	}
	if (webhook_on_trakt(h)) {
		PTS_INFO("webhook: %s is on Trakt already for this viewing (another app's play):"
		    " not sent again", h->label);
		h->message = "already on Trakt for this viewing";
		return PTS_JOB_DONE;
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
	webhook_change(h, ids, sizeof(ids), &c);
	/* The same-viewing check again, under the write lock that records the play: a live
	 * scrobble or a sync of this viewing since the check in webhook_run is seen here. */
	if (pts_ledger_batch_open_plays(h->w->db, &h->run, &c, &run_s, 1, &batch, &change,
	    &same) != 0)
		return PTS_JOB_FAILED;
	if (same) {
		PTS_INFO("webhook: %s is on Trakt already for this viewing: not sent again",
		    h->label);
		h->message = "already on Trakt for this viewing";
		return PTS_JOB_DONE;
	}
	memset(&res, 0, sizeof(res));
	r = pts_trakt_history_add(h->trakt, &item, 1, &res);
	switch (r) {
	case PTS_HTTP_OK:
		not_found = item.not_found != 0;
		if (pts_ledger_batch_settle(h->w->db, &h->run, batch, &change, &not_found, 1,
		    &h->run.added_to_trakt) != 0)
			return PTS_JOB_FAILED;
		if (item.not_found) {
			PTS_WARN("webhook: not found on Trakt: %s", h->label);
			h->message = "not found on Trakt";
		} else {
			PTS_INFO("webhook: added %s to Trakt", h->label);
		}
		return PTS_JOB_DONE;
	case PTS_HTTP_UNKNOWN:
		PTS_WARN("webhook: Trakt gave no answer for %s; checking its history", h->label);
		(void)pts_ledger_batch_state(h->w->db, batch, PTS_BATCH_UNKNOWN);
		if (pts_reconcile_batch(h->w, h->trakt, batch, &h->run) != 0) {
			/* Left 'unknown': the next sync's settling phase looks again. */
			h->run.errors++;
			h->message = "Trakt gave no answer; the next sync checks whether it was added";
			return PTS_JOB_DONE;
		}
		if (pts_ledger_get_result(h->w->db, change, &result) == 0 &&
		    result == PTS_LEDGER_FAILED) {
			/* Not applied: the ledger no longer blocks it, so the next sync adds it. */
			h->run.errors++;
			h->message = "Trakt did not take the play; the next sync adds it";
		}
		return PTS_JOB_DONE;
	case PTS_HTTP_CANCELLED:
		pts_ledger_batch_drop(h->w->db, batch);
		return PTS_JOB_CANCELLED;
	default:
		PTS_ERROR("webhook: Trakt refused %s (%s)", h->label, pts_http_result_name(r));
		(void)pts_ledger_batch_fail(h->w->db, &h->run, batch, PTS_LEDGER_FAILED, 1);
		return PTS_JOB_FAILED;
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
		return PTS_JOB_FAILED;
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
		return PTS_JOB_DONE;
	}
	webhook_whose(h, args);
	rc = webhook_match(h);
	pts_progress_advance(&h->run.progress, 1);
	(void)pts_progress_flush(&h->run.progress, 1);
	if (rc != 0)
		return rc > 0 ? PTS_JOB_DONE : PTS_JOB_FAILED;
	h->watched_at = webhook_when(h, args, meta);
	rc = pts_ledger_blocked(h->w->db, PTS_ACT_ADD_PLAY_TRAKT, h->key, h->watched_at);
	if (rc < 0)
		return PTS_JOB_FAILED;
	if (rc > 0) {
		PTS_INFO("webhook: %s was already sent to Trakt (ledger): not sent again", h->label);
		h->message = "already sent to Trakt by an earlier run";
		return PTS_JOB_DONE;
	}
	/* A play already sent within its running time (the live scrobbler's): same viewing. */
	rc = pts_ledger_same_viewing(h->w->db, h->key, h->watched_at, h->it.duration / 1000);
	if (rc < 0)
		return PTS_JOB_FAILED;
	if (rc > 0) {
		PTS_INFO("webhook: %s is on Trakt already for this viewing: not sent again",
		    h->label);
		h->message = "already on Trakt for this viewing";
		return PTS_JOB_DONE;
	}
	if (h->run.dry_run)
		return webhook_planned(h) == 0 ? PTS_JOB_DONE : PTS_JOB_FAILED;
	if (pts_wctx_cancelled(h->w))
		return PTS_JOB_CANCELLED;
	return webhook_send(h);
}

int
pts_job_webhook_scrobble(struct pts_wctx *w, json_object *args)
{
	struct webhook *h;
	int rc;

	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return PTS_JOB_FAILED;
	h->w = w;
	if (pts_run_begin(&h->run, w, PTS_RUN_WEBHOOK) != 0) {
		free(h);
		return PTS_JOB_FAILED;
	}
	/* The dry_run setting when the webhook came (cgi/plexhook.h). */
	h->run.dry_run = pts_json_bool(args, "dry_run", h->run.dry_run);
	rc = webhook_run(h, args);
	if (h->message != NULL)
		pts_run_message(&h->run, "%s", h->message);
	else if (rc == PTS_JOB_FAILED)
		pts_run_message(&h->run, "the webhook's play was not added: see the log");
	pts_meter_flush(w->db, 1);
	rc = pts_run_end(&h->run, w, rc);
	pts_trakt_close(h->trakt);
	pts_plex_close(h->plex);
	free(h);
	return rc;
}

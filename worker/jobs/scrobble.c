/*
 * scrobble.c - the live scrobbler: Plex's sessions polled, Trakt's scrobble calls, a
 * finished viewing through the ledger as its own run.
 */
#include "scrobble.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "idmap.h"
#include "jobs.h"
#include "jsonx.h"
#include "ledger.h"
#include "log.h"
#include "meter.h"
#include "np_posters.h"
#include "paths.h"
#include "plex.h"
#include "plexsess.h"
#include "reconcile.h"
#include "run.h"
#include "scrobble_route.h"
#include "settings.h"
#include "trakt.h"
#include "trakt_scrobble.h"
#include "utf8.h"

/* meta keys: the time of the last poll (GET /api/now-playing), the poll counter. */
#define SCROB_META_AT "now_playing_at"
#define SCROB_META_POLL "now_playing_poll"
/* Ids JSON text kept with a session and stored with the change. */
#define SCROB_IDS_LEN 256
/* Bounds of PTS_SCROBBLE_POLL_ENV. */
#define SCROB_POLL_MIN_MS 50
#define SCROB_POLL_MAX_MS 60000
/* The user id Plex gives the server's owner in /status/sessions. */
#define SCROB_OWNER_ID "1"

struct scrob {
	struct pts_wctx *w;
	struct pts_plex *plex;        /* during a poll */
	struct pts_trakt *trakt;      /* opened by the poll's first call that needs it */
	int trakt_bad;                /* this poll: Trakt could not be opened or not signed in */
	int trakt_warned;             /* said so once in this job */
	int writes;                   /* settings let us write to Trakt */
	int all_users;                /* scrobble_users "all" */
	int posters;                  /* a TMDb key is set: new streams want a poster */
	char *owner_title;            /* the signed-in Plex account's name (may be NULL) */
	int64_t poll;                 /* this poll's number */
	int playing;                  /* streams seen this poll */
	struct pts_sroute route;      /* households: w is the context of the stream's profile */
	int64_t profile;              /* the profile w works for (0: the stream is ignored) */
};

/* A stored session, as the end of it needs it. */
struct scrob_row {
	char session_key[64];
	char rating_key[PTS_PLEX_KEY_LEN];
	char type[16];
	char title[PTS_SCROBBLE_LABEL_MAX];
	char show[PTS_SCROBBLE_LABEL_MAX];
	int season, episode, year;
	char trakt[16];
	char sent[8];
	char item_key[PTS_LEDGER_KEY_LEN];
	char ids[SCROB_IDS_LEN];
	int by_episode_ids;
	double progress;
	int64_t duration_ms;
	int64_t profile;              /* 0 when it went to nobody */
	int found;
};

static int64_t
scrob_period_ms(int playing)
{
	const char *v = pts_env(PTS_SCROBBLE_POLL_ENV, NULL);
	char *end;
	long long ms;

	if (v != NULL) {
		ms = strtoll(v, &end, 10);
		if (*end == '\0' && ms >= SCROB_POLL_MIN_MS && ms <= SCROB_POLL_MAX_MS)
			return ms;
	}
	return playing ? PTS_SCROBBLE_ACTIVE_MS : PTS_SCROBBLE_IDLE_MS;
}

static void
scrob_copy(char *dst, size_t len, const unsigned char *src)
{
	snprintf(dst, len, "%s", src != NULL ? (const char *)src : "");
	pts_utf8_trim(dst);
}

/* "Show S01E02 Title" or "Title (2010)". */
static void
scrob_label(const struct scrob_row *r, char *buf, size_t len)
{
	int n;

	if (strcmp(r->type, "episode") == 0)
		n = snprintf(buf, len, "%s S%02dE%02d %s", r->show, r->season, r->episode, r->title);
	else if (r->year > 0)
		n = snprintf(buf, len, "%s (%d)", r->title, r->year);
	else
		n = snprintf(buf, len, "%s", r->title);
	if (n < 0 || (size_t)n >= len)
		pts_utf8_trim(buf);   /* a long title is cut at a character boundary */
}

#define SCROB_ROW_COLS "session_key, rating_key, type, title, COALESCE(show, ''),"         \
	" COALESCE(season, -1), COALESCE(episode, -1), COALESCE(year, 0), trakt,"            \
	" COALESCE(sent, ''), COALESCE(item_key, ''), COALESCE(ids, ''), by_episode_ids,"    \
	" progress, duration_ms, COALESCE(profile, 0)"

static void
scrob_row_read(sqlite3_stmt *st, struct scrob_row *r)
{
	memset(r, 0, sizeof(*r));
	scrob_copy(r->session_key, sizeof(r->session_key), sqlite3_column_text(st, 0));
	scrob_copy(r->rating_key, sizeof(r->rating_key), sqlite3_column_text(st, 1));
	scrob_copy(r->type, sizeof(r->type), sqlite3_column_text(st, 2));
	scrob_copy(r->title, sizeof(r->title), sqlite3_column_text(st, 3));
	scrob_copy(r->show, sizeof(r->show), sqlite3_column_text(st, 4));
	r->season = sqlite3_column_int(st, 5);
	r->episode = sqlite3_column_int(st, 6);
	r->year = sqlite3_column_int(st, 7);
	scrob_copy(r->trakt, sizeof(r->trakt), sqlite3_column_text(st, 8));
	scrob_copy(r->sent, sizeof(r->sent), sqlite3_column_text(st, 9));
	scrob_copy(r->item_key, sizeof(r->item_key), sqlite3_column_text(st, 10));
	scrob_copy(r->ids, sizeof(r->ids), sqlite3_column_text(st, 11));
	r->by_episode_ids = sqlite3_column_int(st, 12);
	r->progress = sqlite3_column_double(st, 13);
	r->duration_ms = sqlite3_column_int64(st, 14);
	r->profile = sqlite3_column_int64(st, 15);
	r->found = 1;
}

/* The stored session under key into *r (r->found 0 when none). 0 or -1. */
static int
scrob_row_get(sqlite3 *db, const char *key, struct scrob_row *r)
{
	sqlite3_stmt *st = pts_db_prepare(db, "SELECT " SCROB_ROW_COLS
	    " FROM now_playing WHERE session_key = ?");
	int rc;

	memset(r, 0, sizeof(*r));
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		scrob_row_read(st, r);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Trakt, opened once per poll; NULL when it cannot be used (said once until it can). */
static struct pts_trakt *
scrob_trakt(struct scrob *s)
{
	if (s->trakt != NULL || s->trakt_bad)
		return s->trakt;
	s->trakt = pts_trakt_open(s->w);
	if (s->trakt != NULL && pts_trakt_ensure_token(s->trakt) == PTS_HTTP_OK) {
		s->trakt_warned = 0;
		return s->trakt;
	}
	if (!s->trakt_warned)
		PTS_WARN("scrobble: Trakt is not signed in: nothing is sent (authorize Trakt in"
		    " Settings)");
	s->trakt_warned = 1;
	pts_trakt_close(s->trakt);
	s->trakt = NULL;
	s->trakt_bad = 1;
	return NULL;
}

/* The Trakt item of a stored session. 0, or -1 when its ids are unusable. */
static int
scrob_item(const struct scrob_row *r, struct pts_tscrob_item *it)
{
	json_object *j;

	memset(it, 0, sizeof(*it));
	j = r->ids[0] != '\0' ? json_tokener_parse(r->ids) : NULL;
	if (j == NULL)
		return -1;
	pts_trakt_parse_ids(j, &it->ids);
	json_object_put(j);
	it->is_episode = strcmp(r->type, "episode") == 0;
	it->by_episode_ids = r->by_episode_ids;
	it->season = r->season;
	it->episode = r->episode;
	return pts_ids_empty(&it->ids) ? -1 : 0;
}

/* The play of a stop at >= 80 %, through the ledger in its own run. A job result. */
static int
scrob_play_send(struct scrob *s, struct pts_run *run, const struct scrob_row *r,
    const char *label, int *on_trakt)
{
	struct pts_tscrob_item item;
	struct pts_tscrob_answer ans;
	struct pts_trakt *t;
	struct pts_change c;
	enum pts_http_result hr;
	enum pts_ledger_result result;
	unsigned char not_found = 0, same = 0;
	int64_t batch = 0, change = 0, now = pts_now(), run_s = r->duration_ms / 1000;

	if (scrob_item(r, &item) != 0 || (t = scrob_trakt(s)) == NULL)
		return PTS_JOB_FAILED;
	memset(&c, 0, sizeof(c));
	c.action = PTS_ACT_ADD_PLAY_TRAKT;
	c.type = r->type;
	c.item_key = r->item_key;
	c.title = r->title;
	c.show = item.is_episode ? r->show : NULL;
	c.season = item.is_episode ? r->season : -1;
	c.episode = item.is_episode ? r->episode : -1;
	c.year = r->year;
	c.watched_at = now;
	c.ids = r->ids;
	/* Checked and recorded under one write lock: a sync or webhook reporting this viewing
	 * at the same moment sees our pending play, or we see theirs. */
	if (pts_ledger_batch_open_plays(s->w->db, run, &c, &run_s, 1, &batch, &change, &same) != 0)
		return PTS_JOB_FAILED;
	if (same) {
		PTS_INFO("scrobble: %s is already on Trakt for this viewing: not sent again", label);
		pts_run_message(run, "already on Trakt for this viewing");
		*on_trakt = 1;
		return PTS_JOB_DONE;
	}
	hr = pts_tscrob_send(t, PTS_TSCROB_STOP, &item, r->progress, &ans);
	if (hr == PTS_HTTP_OK && strcmp(ans.action, "scrobble") == 0) {
		if (pts_ledger_batch_settle(s->w->db, run, batch, &change, &not_found, 1,
		    &run->added_to_trakt) != 0)
			return PTS_JOB_FAILED;
		/* Trakt's own time and history id for the play (undo removes it by that id). */
		if (pts_db_run(s->w->db, "UPDATE changes SET watched_at = CASE WHEN ? > 0 THEN ?"
		    " ELSE watched_at END, history_id = CASE WHEN ? > 0 THEN ? ELSE history_id END"
		    " WHERE id = ?", "iiiii", ans.watched_at, ans.watched_at, ans.history_id,
		    ans.history_id, change) != 0)
			return PTS_JOB_FAILED;
		PTS_INFO("scrobble: %s added to Trakt (stopped at %.0f%%)", label, r->progress);
		*on_trakt = 1;
		return PTS_JOB_DONE;
	}
	switch (hr) {
	case PTS_HTTP_OK:
		/* Trakt kept it as a pause (its progress rule): no play. */
		(void)pts_ledger_batch_fail(s->w->db, run, batch, PTS_LEDGER_FAILED, 1);
		PTS_WARN("scrobble: Trakt kept %s as a pause (%s), no play added", label,
		    ans.action);
		pts_run_message(run, "Trakt did not count it as watched");
		return PTS_JOB_DONE;
	case PTS_HTTP_UNKNOWN:
		PTS_WARN("scrobble: Trakt gave no answer for %s; checking its history", label);
		(void)pts_ledger_batch_state(s->w->db, batch, PTS_BATCH_UNKNOWN);
		if (pts_reconcile_batch(s->w, t, batch, run) != 0) {
			run->errors++;
			pts_run_message(run, "Trakt gave no answer; the next sync checks whether it"
			    " was added");
			return PTS_JOB_DONE;
		}
		if (pts_ledger_get_result(s->w->db, change, &result) == 0 &&
		    result == PTS_LEDGER_FAILED) {
			run->errors++;
			pts_run_message(run, "Trakt did not take the play; the next sync adds it");
		} else {
			*on_trakt = 1;
		}
		return PTS_JOB_DONE;
	case PTS_HTTP_CANCELLED:
		pts_ledger_batch_drop(s->w->db, batch);
		return PTS_JOB_CANCELLED;
	default:
		(void)pts_ledger_batch_fail(s->w->db, run, batch, PTS_LEDGER_FAILED, 1);
		if (ans.status == 409) {
			/* Trakt's guard: it scrobbled this item moments ago (not by us: no ledger). */
			PTS_INFO("scrobble: Trakt says %s was just scrobbled: not added again", label);
			pts_run_message(run, "Trakt had just scrobbled it");
			*on_trakt = 1;
			return PTS_JOB_DONE;
		}
		PTS_ERROR("scrobble: Trakt refused the stop of %s (%s)", label,
		    pts_http_result_name(hr));
		return PTS_JOB_FAILED;
	}
}

/*
 * A stop at >= 80 %: a run of trigger 'scrobble' is made and owned here. 1 when the play is
 * on Trakt afterwards (added now, or already there for this viewing), else 0.
 */
static int
scrob_play(struct scrob *s, const struct scrob_row *r, const char *label)
{
	struct pts_run run;
	int64_t run_id = 0, saved = s->w->run_id, now = pts_now();
	int rc, on_trakt = 0;

	if (pts_db_run(s->w->db, "INSERT INTO runs(job_id, trigger, status, created_at, dry_run)"
	    " VALUES(?, 'scrobble', 'queued', ?, 0)", "ii", s->w->job_id, now) != 0)
		return 0;
	run_id = sqlite3_last_insert_rowid(s->w->db);
	s->w->run_id = run_id;
	if (pts_run_begin(&run, s->w, PTS_RUN_SCROBBLE) == 0) {
		run.progress.overall_total = 1;
		pts_progress_phase(&run.progress, "writing");
		pts_progress_item(&run.progress, label);
		rc = scrob_play_send(s, &run, r, label, &on_trakt);
		pts_progress_advance(&run.progress, 1);
		if (rc == PTS_JOB_FAILED && run.message[0] == '\0')
			pts_run_message(&run, "the live play was not added: see the log");
		(void)pts_run_end(&run, s->w, rc);
	}
	s->w->run_id = saved;
	return on_trakt;
}

/*
 * The ended stream whose play is on Trakt stays listed, "scrobbled", for
 * PTS_SCROBBLE_SHOWN_S: its row is renamed out of the live sessions' way (the session may go
 * on with another item) and dropped by the poll after shown_until (scrob_ended).
 */
static void
scrob_keep_scrobbled(struct scrob *s, const struct scrob_row *r)
{
	char key[sizeof(r->session_key) + sizeof(r->rating_key) + 8];

	snprintf(key, sizeof(key), "done:%s:%s", r->session_key, r->rating_key);
	(void)pts_db_run(s->w->db, "DELETE FROM now_playing WHERE session_key = ?", "s", key);
	(void)pts_db_run(s->w->db, "UPDATE now_playing SET session_key = ?, trakt = 'scrobbled',"
	    " shown_until = ? WHERE session_key = ?", "sis", key, pts_now() + PTS_SCROBBLE_SHOWN_S,
	    r->session_key);
}

/*
 * A stream that ended (or changed item): stop on Trakt, the play through the ledger; a play
 * on Trakt keeps the row listed as "scrobbled" for a moment, else the caller drops it.
 */
static void
scrob_end(struct scrob *s, const struct scrob_row *r)
{
	struct pts_tscrob_item item;
	struct pts_tscrob_answer ans;
	struct pts_trakt *t;
	char label[PTS_SCROBBLE_LABEL_MAX];

	scrob_label(r, label, sizeof(label));
	if (r->sent[0] == '\0' || strcmp(r->trakt, "ignored") == 0 ||
	    strcmp(r->trakt, "unmatched") == 0 || !s->writes)
		return;
	if (r->progress >= PTS_TSCROB_PLAY_PERCENT) {
		if (scrob_play(s, r, label))
			scrob_keep_scrobbled(s, r);
		return;
	}
	/* Under 80 %: Trakt keeps it as a pause; nothing is added, a lost answer is harmless. */
	if (scrob_item(r, &item) != 0 || (t = scrob_trakt(s)) == NULL)
		return;
	if (pts_tscrob_send(t, PTS_TSCROB_STOP, &item, r->progress, &ans) == PTS_HTTP_OK)
		PTS_INFO("scrobble: %s stopped at %.0f%%", label, r->progress);
}

/* 1 when the stream is the signed-in account's. */
static int
scrob_is_owner(const struct scrob *s, const struct pts_plexsess *p)
{
	if (p->user_id != NULL && strcmp(p->user_id, SCROB_OWNER_ID) == 0)
		return 1;
	return s->owner_title != NULL && p->user_title != NULL &&
	    strcmp(s->owner_title, p->user_title) == 0;
}

/*
 * A new-agent episode's show ids (its grandparentGuid is plex://): from the id index the
 * sync keeps (idmap.h), else, when ask, from the server once, kept in the index for the
 * next session. *ids empty when neither knows.
 */
static void
scrob_show_ids(struct scrob *s, const struct pts_plex_item *it, int ask, struct pts_ids *ids)
{
	struct pts_idmap_entry e;

	memset(ids, 0, sizeof(*ids));
	if (it->grandparent_guid != NULL &&
	    pts_idmap_get(s->w->db, it->grandparent_guid, ids) == 1)
		return;
	if (!ask || it->grandparent_rating_key == NULL ||
	    pts_plex_item_ids(s->plex, it->grandparent_rating_key, ids) != PTS_HTTP_OK) {
		memset(ids, 0, sizeof(*ids));
		return;
	}
	e.guid = it->grandparent_guid;
	e.ids = *ids;
	(void)pts_idmap_put(s->w->db, "show", &e, 1, pts_now());
}

/*
 * Match as the sync does: a movie by its ids; an episode by its show's ids (legacy guid, or
 * for new agents the show's item on this server) and numbers, else by its own ids.
 * 0 with row->item_key and row->ids set, 1 unmatched.
 */
static int
scrob_match(struct scrob *s, const struct pts_plexsess *p, struct scrob_row *row)
{
	const struct pts_plex_item *it = &p->it;
	struct pts_ids ids;
	char movie[PTS_LEDGER_KEY_LEN];
	int rc = -1, n;

	row->by_episode_ids = 0;
	if (strcmp(it->type, "episode") == 0) {
		ids = it->show_ids;
		if (pts_ids_empty(&ids))
			scrob_show_ids(s, it, 1, &ids);
		if (!pts_ids_empty(&ids) && it->season >= 0 && it->episode >= 0) {
			rc = pts_ledger_key_episode(&ids, it->season, it->episode, row->item_key,
			    sizeof(row->item_key));
		} else if (!pts_ids_empty(&it->ids) &&
		    pts_ledger_key_movie(&it->ids, movie, sizeof(movie)) == 0) {
			ids = it->ids;
			row->by_episode_ids = 1;
			n = snprintf(row->item_key, sizeof(row->item_key), "episode-ids:%s",
			    movie + strlen("movie:"));
			rc = n > 0 && (size_t)n < sizeof(row->item_key) ? 0 : -1;
		}
	} else {
		ids = it->ids;
		rc = pts_ledger_key_movie(&ids, row->item_key, sizeof(row->item_key));
	}
	if (rc != 0) {
		row->item_key[0] = '\0';
		return 1;
	}
	pts_ids_json_text(&ids, row->ids, sizeof(row->ids));
	return 0;
}

/* Send start or pause when the stream's state asks for it; row->sent/trakt follow. */
static void
scrob_follow(struct scrob *s, const struct pts_plexsess *p, struct scrob_row *row,
    const char *label)
{
	enum pts_tscrob_action want = strcmp(p->state, "paused") == 0 ? PTS_TSCROB_PAUSE :
	    PTS_TSCROB_START;
	const char *name = pts_tscrob_action_name(want);
	struct pts_tscrob_item item;
	struct pts_tscrob_answer ans;
	struct pts_trakt *t;
	enum pts_http_result r;

	if (strcmp(row->sent, name) != 0 && scrob_item(row, &item) == 0 &&
	    (t = scrob_trakt(s)) != NULL) {
		r = pts_tscrob_send(t, want, &item, row->progress, &ans);
		if (r == PTS_HTTP_OK) {
			snprintf(row->sent, sizeof(row->sent), "%s", name);
			PTS_INFO("scrobble: %s %s on Trakt at %.0f%%", label, want == PTS_TSCROB_START
			    ? "watching" : "paused", row->progress);
		} else {
			/* Dropped: the next poll asks again. */
			PTS_WARN("scrobble: Trakt %s of %s not taken (%s)", name, label,
			    pts_http_result_name(r));
		}
	}
	snprintf(row->trakt, sizeof(row->trakt), "%s", strcmp(row->sent, "pause") == 0 ?
	    "paused" : "watching");
}

/*
 * Store the stream. poster_ids: what TMDb is asked for a new item's poster ("": nothing, the
 * card shows a placeholder); an item already stored keeps its poster columns (np_posters.h
 * fills them while the stream goes on).
 */
static int
scrob_store(struct scrob *s, const struct pts_plexsess *p, const struct scrob_row *row,
    const char *poster_ids)
{
	char prog[32];

	snprintf(prog, sizeof(prog), "%.2f", row->progress);
	return pts_db_run(s->w->db, "INSERT INTO now_playing(session_key, rating_key,"
	    " type, title, show, season, episode, year, user, player, state, progress, trakt,"
	    " seen_at, user_id, duration_ms, item_key, ids, by_episode_ids, sent, poll, profile,"
	    " poster_ids, poster_done)"
	    " VALUES(?, ?, ?, ?, ?, CASE WHEN ? >= 0 THEN ? END, CASE WHEN ? >= 0 THEN ? END,"
	    " CASE WHEN ? > 0 THEN ? END, ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''), NULLIF(?, ''), ?,"
	    " NULLIF(?, ''), ?, NULLIF(?, 0), NULLIF(?, ''), ? = '')"
	    " ON CONFLICT(session_key) DO UPDATE SET rating_key = excluded.rating_key,"
	    " type = excluded.type, title = excluded.title, show = excluded.show,"
	    " season = excluded.season, episode = excluded.episode, year = excluded.year,"
	    " user = excluded.user, player = excluded.player, state = excluded.state,"
	    " progress = excluded.progress, trakt = excluded.trakt, seen_at = excluded.seen_at,"
	    " user_id = excluded.user_id, duration_ms = excluded.duration_ms,"
	    " item_key = excluded.item_key, ids = excluded.ids,"
	    " by_episode_ids = excluded.by_episode_ids, sent = excluded.sent, poll = excluded.poll,"
	    " profile = excluded.profile,"
	    " shown_until = NULL, poster = CASE WHEN now_playing.rating_key ="
	    " excluded.rating_key THEN now_playing.poster END, poster_ids = CASE WHEN"
	    " now_playing.rating_key = excluded.rating_key THEN now_playing.poster_ids ELSE"
	    " excluded.poster_ids END, poster_done = CASE WHEN now_playing.rating_key ="
	    " excluded.rating_key THEN now_playing.poster_done ELSE excluded.poster_done END",
	    "sssssiiiiiisssssisissisiiss", p->session_key, row->rating_key,
	    row->type, row->title, row->show[0] != '\0' ? row->show : NULL,
	    (int64_t)row->season, (int64_t)row->season, (int64_t)row->episode,
	    (int64_t)row->episode, (int64_t)row->year, (int64_t)row->year, p->user_title,
	    p->player_title, p->state, prog, row->trakt, pts_now(), p->user_id,
	    row->duration_ms, row->item_key, row->ids, (int64_t)row->by_episode_ids, row->sent,
	    s->poll, s->profile, poster_ids, poster_ids);
}

/* Settings that let the scrobbler write to Trakt (as for a sync or a webhook). */
static int scrob_writes(sqlite3 *db);

/*
 * Work for profile id from now on (scrobble_route.h): its connection, its settings and, from
 * the next call that needs it, its Trakt account. 0 for nobody goes back to the owner's
 * context. 0, or -1 when the profile cannot be opened (s stays as it was).
 */
static int
scrob_switch(struct scrob *s, int64_t id)
{
	struct pts_wctx *w = pts_sroute_wctx(&s->route, id > 0 ? id : 1);

	if (w == NULL)
		return -1;
	if (w != s->w) {
		pts_trakt_close(s->trakt);
		s->trakt = NULL;
		s->trakt_bad = 0;
		s->w = w;
		s->writes = scrob_writes(w->db);
	}
	s->profile = id;
	return 0;
}

/* A stored stream ended: as the profile it went to. */
static void
scrob_end_as(struct scrob *s, const struct scrob_row *r)
{
	if (r->profile > 0 && scrob_switch(s, r->profile) == 0)
		scrob_end(s, r);
	(void)scrob_switch(s, 0);
}

/*
 * What TMDb is asked for a new stream's poster, as JSON ids into buf ("" when there is
 * nothing to ask, or no TMDb key): a movie's ids, an episode's show's (legacy guid, else
 * the id index; never a server request for a poster).
 */
static void
scrob_poster_ids(struct scrob *s, const struct pts_plex_item *it, char *buf, size_t len)
{
	struct pts_ids ids;

	buf[0] = '\0';
	if (!s->posters)
		return;
	if (strcmp(it->type, "episode") == 0) {
		ids = it->show_ids;
		if (pts_ids_empty(&ids))
			scrob_show_ids(s, it, 0, &ids);
	} else {
		ids = it->ids;
	}
	if (!pts_ids_empty(&ids))
		pts_ids_json_text(&ids, buf, len);
}

/* One stream of this poll. */
static int
scrob_session(void *ctx, const struct pts_plexsess *p)
{
	struct scrob *s = ctx;
	const struct pts_plex_item *it = &p->it;
	struct scrob_row old, row;
	char label[PTS_SCROBBLE_LABEL_MAX], poster_ids[SCROB_IDS_LEN] = "";

	if (pts_wctx_cancelled(s->w))
		return 1;
	s->playing++;
	if (scrob_row_get(s->w->db, p->session_key, &old) != 0)
		return 0;
	if (old.found && strcmp(old.rating_key, it->rating_key) != 0) {
		/* The session moved on to another item (autoplay): the old one ended. */
		scrob_end_as(s, &old);
		old.found = 0;
	}
	memset(&row, 0, sizeof(row));
	snprintf(row.rating_key, sizeof(row.rating_key), "%s", it->rating_key);
	snprintf(row.type, sizeof(row.type), "%s", it->type);
	scrob_copy(row.title, sizeof(row.title), (const unsigned char *)it->title);
	scrob_copy(row.show, sizeof(row.show), (const unsigned char *)it->grandparent_title);
	row.season = strcmp(it->type, "episode") == 0 ? it->season : -1;
	row.episode = strcmp(it->type, "episode") == 0 ? it->episode : -1;
	row.year = it->year;
	row.duration_ms = it->duration;
	row.progress = it->duration > 0 ? (double)it->view_offset * 100.0 / (double)it->duration : 0;
	if (row.progress > 100)
		row.progress = 100;
	else if (row.progress < 0)
		row.progress = 0;
	scrob_label(&row, label, sizeof(label));
	if (old.found && old.profile != pts_sroute_profile(s->w->db, p->user_id,
	    scrob_is_owner(s, p), s->all_users)) {
		/* Paired with a profile (or unpaired) meanwhile: a new viewing for its new owner. */
		scrob_end_as(s, &old);
		old.found = 0;
	}
	if (scrob_switch(s, pts_sroute_profile(s->w->db, p->user_id, scrob_is_owner(s, p),
	    s->all_users)) != 0 || s->profile == 0) {
		(void)scrob_switch(s, 0);
		snprintf(row.trakt, sizeof(row.trakt), "ignored");
	} else if (!s->writes) {
		snprintf(row.trakt, sizeof(row.trakt), "ignored");
	} else if (old.found) {
		snprintf(row.trakt, sizeof(row.trakt), "%s", old.trakt);
		snprintf(row.item_key, sizeof(row.item_key), "%s", old.item_key);
		snprintf(row.ids, sizeof(row.ids), "%s", old.ids);
		snprintf(row.sent, sizeof(row.sent), "%s", old.sent);
		row.by_episode_ids = old.by_episode_ids;
		if (strcmp(row.trakt, "unmatched") != 0)
			scrob_follow(s, p, &row, label);
	} else if (scrob_match(s, p, &row) != 0) {
		PTS_INFO("scrobble: unmatched (no id Trakt knows): %s", label);
		snprintf(row.trakt, sizeof(row.trakt), "unmatched");
	} else {
		PTS_INFO("scrobble: %s started playing%s%s", label, p->user_title ? " for " : "",
		    p->user_title ? p->user_title : "");
		scrob_follow(s, p, &row, label);
	}
	if (!old.found)
		scrob_poster_ids(s, it, poster_ids, sizeof(poster_ids));
	(void)scrob_store(s, p, &row, poster_ids);
	(void)scrob_switch(s, 0);
	return 0;
}

/* The streams stored that this poll did not see: ended. */
static void
scrob_ended(struct scrob *s)
{
	struct scrob_row *rows = NULL, *n;
	sqlite3_stmt *st;
	size_t count = 0, i;

	/* Scrobbled streams shown long enough go; the others that were not seen ended. */
	(void)pts_db_run(s->w->db, "DELETE FROM now_playing WHERE shown_until <= ?", "i",
	    pts_now());
	st = pts_db_prepare(s->w->db, "SELECT " SCROB_ROW_COLS " FROM now_playing WHERE poll <> ?"
	    " AND shown_until IS NULL");
	if (st == NULL)
		return;
	sqlite3_bind_int64(st, 1, s->poll);
	while (count < PTS_PLEXSESS_MAX && sqlite3_step(st) == SQLITE_ROW) {
		if ((n = realloc(rows, (count + 1) * sizeof(*rows))) == NULL)
			break;
		rows = n;
		scrob_row_read(st, &rows[count++]);
	}
	sqlite3_finalize(st);
	for (i = 0; i < count; i++) {
		scrob_end_as(s, &rows[i]);
		(void)pts_db_run(s->w->db, "DELETE FROM now_playing WHERE session_key = ?", "s",
		    rows[i].session_key);
	}
	free(rows);
}

static int
scrob_writes(sqlite3 *db)
{
	char *dir;
	int ok;

	if (!pts_settings_get_bool(db, PTS_KEY_SYNC_WATCHED) ||
	    pts_settings_get_bool(db, PTS_KEY_DRY_RUN))
		return 0;
	dir = pts_settings_get_str(db, PTS_KEY_SYNC_DIRECTION);
	ok = dir != NULL && (strcmp(dir, "plex_to_trakt") == 0 || strcmp(dir, "both") == 0);
	free(dir);
	return ok;
}

/* One poll. 0 (s->playing says whether anything plays), -1 when Plex could not be read. */
static int
scrob_poll(struct scrob *s)
{
	char *users, num[32];
	enum pts_http_result r;
	char *v;

	s->writes = scrob_writes(s->w->db);
	users = pts_settings_get_str(s->w->db, PTS_KEY_SCROBBLE_USERS);
	s->all_users = users != NULL && strcmp(users, "all") == 0;
	free(users);
	v = pts_settings_get_str(s->w->db, PTS_KEY_TMDB_API_KEY);
	s->posters = v != NULL && v[0] != '\0';
	free(v);
	v = pts_db_meta_get(s->w->db, SCROB_META_POLL);
	s->poll = (v != NULL ? strtoll(v, NULL, 10) : 0) + 1;
	free(v);
	snprintf(num, sizeof(num), "%lld", (long long)s->poll);
	(void)pts_db_meta_set(s->w->db, SCROB_META_POLL, num);
	s->playing = 0;
	/* Opened per poll: a sign-in (or a new server URL) since the last one is taken up. */
	free(s->owner_title);
	s->owner_title = NULL;
	(void)pts_db_text(s->w->db, &s->owner_title, "SELECT user FROM auth WHERE service ="
	    " 'plex' AND state = 'authorized'", "");
	if ((s->plex = pts_plex_open(s->w)) == NULL)
		return -1;
	r = pts_plexsess_list(s->plex, scrob_session, s);
	if (r == PTS_HTTP_OK)
		scrob_ended(s);   /* a Plex outage ends no session: they are looked at next poll */
	(void)pts_np_posters_want(s->w->db);
	pts_plex_close(s->plex);
	s->plex = NULL;
	/* Trakt too: a sign-in or sign-out since this poll is taken up by the next. */
	(void)scrob_switch(s, 0);
	pts_trakt_close(s->trakt);
	s->trakt = NULL;
	s->trakt_bad = 0;
	pts_sroute_release(&s->route);
	if (r != PTS_HTTP_OK)
		return -1;
	snprintf(num, sizeof(num), "%lld", (long long)pts_now());
	(void)pts_db_meta_set(s->w->db, SCROB_META_AT, num);
	return 0;
}

int
pts_job_scrobble(struct pts_wctx *w, json_object *args)
{
	struct scrob s;
	int once = w->yield_at_ms > 0 || pts_json_bool(args, "once", 0);

	memset(&s, 0, sizeof(s));
	s.w = w;
	pts_sroute_init(&s.route, w);
	PTS_INFO("scrobble: following Plex's sessions%s", once ? " (one look: --cron)" : "");
	for (;;) {
		if (!pts_settings_get_bool(w->db, PTS_KEY_SCROBBLE_LIVE)) {
			PTS_INFO("scrobble: live scrobbling is off in Settings");
			(void)pts_db_run(w->db, "DELETE FROM now_playing", "");
			break;
		}
		(void)scrob_poll(&s);
		pts_meter_flush(w->db, 0);
		if (once || pts_wctx_sleep(w, scrob_period_ms(s.playing)) != 0 ||
		    pts_wctx_cancelled(w))
			break;
	}
	pts_meter_flush(w->db, 1);
	free(s.owner_title);
	return pts_wctx_cancelled(w) && !once ? PTS_JOB_CANCELLED : PTS_JOB_DONE;
}

int
pts_scrobble_ensure(sqlite3 *db)
{
	int64_t n = 0, job_id = 0;
	char *url;
	int set;

	if (!pts_settings_get_bool(db, PTS_KEY_SCROBBLE_LIVE))
		return 0;
	url = pts_settings_get_str(db, PTS_KEY_PLEX_URL);
	set = url != NULL && url[0] != '\0';
	free(url);
	if (!set)
		return 0;
	if (pts_db_int(db, &n, 0, "SELECT COUNT(*) FROM jobs WHERE kind = '" PTS_JOB_SCROBBLE
	    "' AND state IN ('queued', 'running')", "") != 0)
		return -1;
	if (n > 0)
		return 0;
	return pts_jobs_enqueue(db, PTS_JOB_SCROBBLE, NULL, &job_id);
}

/*
 * ledger.c - the changes/batches tables.
 */
#include "ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "guid.h"
#include "log.h"

/* The stored names, indexed by value: the only place they are spelled in C. */
static const char *const ledger_result_names[] = {
	[PTS_LEDGER_PLANNED] = "planned",
	[PTS_LEDGER_PENDING] = "pending",
	[PTS_LEDGER_DONE] = "done",
	[PTS_LEDGER_NOT_FOUND] = "not_found",
	[PTS_LEDGER_FAILED] = "failed",
	[PTS_LEDGER_UNKNOWN] = "unknown"
};
#define LEDGER_RESULTS (sizeof(ledger_result_names) / sizeof(ledger_result_names[0]))

static const char *const batch_state_names[] = {
	[PTS_BATCH_PENDING] = "pending",
	[PTS_BATCH_UNKNOWN] = "unknown",
	[PTS_BATCH_SETTLED] = "settled"
};
#define BATCH_STATES (sizeof(batch_state_names) / sizeof(batch_state_names[0]))

const char *
pts_ledger_result_name(enum pts_ledger_result r)
{
	return (size_t)r < LEDGER_RESULTS ? ledger_result_names[r] : "failed";
}

const char *
pts_batch_state_name(enum pts_batch_state s)
{
	return (size_t)s < BATCH_STATES ? batch_state_names[s] : "unknown";
}

/* Index of s in names[0..n), or -1. */
static int
ledger_lookup(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

int
pts_ledger_result_parse(const char *s, enum pts_ledger_result *out)
{
	int i = ledger_lookup(ledger_result_names, LEDGER_RESULTS, s);

	if (i < 0)
		return -1;
	*out = (enum pts_ledger_result)i;
	return 0;
}

int
pts_batch_state_parse(const char *s, enum pts_batch_state *out)
{
	int i = ledger_lookup(batch_state_names, BATCH_STATES, s);

	if (i < 0)
		return -1;
	*out = (enum pts_batch_state)i;
	return 0;
}

int
pts_ledger_open_batch(sqlite3 *db, int64_t run_id, const char *service, int64_t *batch_id)
{
	if (pts_db_run(db, "INSERT INTO batches(run_id, service, state, created_at)"
	    " VALUES(?, ?, ?, ?)", "issi", run_id, service, pts_batch_state_name(PTS_BATCH_PENDING),
	    pts_now()) != 0)
		return -1;
	*batch_id = sqlite3_last_insert_rowid(db);
	return 0;
}

int
pts_ledger_record(sqlite3 *db, int64_t run_id, int64_t batch_id, const struct pts_change *c,
    enum pts_ledger_result result, int64_t *change_id)
{
	int64_t now = pts_now();
	/* Planned and pending changes are not settled yet. */
	int open = result == PTS_LEDGER_PLANNED || result == PTS_LEDGER_PENDING;

	if (pts_db_run(db, "INSERT INTO changes(run_id, batch_id, action, type, item_key, title,"
	    " show, season, episode, year, watched_at, ids, result, created_at, settled_at, detail)"
	    " VALUES(?, NULLIF(?, 0), ?, ?, ?, ?, ?, NULLIF(?, -1), NULLIF(?, -1), NULLIF(?, 0),"
	    " NULLIF(?, 0), ?, ?, ?, CASE WHEN ? THEN NULL ELSE ? END, ?)",
	    "iisssssiiiissiiis", run_id, batch_id, c->action, c->type, c->item_key, c->title,
	    c->show, (int64_t)c->season, (int64_t)c->episode, (int64_t)c->year, c->watched_at,
	    c->ids ? c->ids : "{}", pts_ledger_result_name(result), now, (int64_t)open, now,
	    c->detail) != 0)
		return -1;
	if (change_id != NULL)
		*change_id = sqlite3_last_insert_rowid(db);
	return 0;
}

int
pts_ledger_set_result(sqlite3 *db, int64_t change_id, enum pts_ledger_result result)
{
	return pts_db_run(db, "UPDATE changes SET result = ?, settled_at = ? WHERE id = ?", "sii",
	    pts_ledger_result_name(result), pts_now(), change_id);
}

int
pts_ledger_get_result(sqlite3 *db, int64_t change_id, enum pts_ledger_result *out)
{
	char *s = NULL;
	int rc;

	if (pts_db_text(db, &s, "SELECT result FROM changes WHERE id = ?", "i", change_id) != 0)
		return -1;
	if (s == NULL)
		return 1;
	rc = pts_ledger_result_parse(s, out);
	if (rc != 0)
		PTS_ERROR("change %lld has an unknown result '%s'", (long long)change_id, s);
	free(s);
	return rc;
}

int
pts_ledger_settle_batch(sqlite3 *db, int64_t batch_id, enum pts_ledger_result result,
    enum pts_batch_state state)
{
	if (pts_db_run(db, "UPDATE changes SET result = ?, settled_at = ? WHERE batch_id = ?"
	    " AND result IN (?, ?)", "siiss", pts_ledger_result_name(result), pts_now(), batch_id,
	    pts_ledger_result_name(PTS_LEDGER_PENDING), pts_ledger_result_name(PTS_LEDGER_UNKNOWN)) != 0)
		return -1;
	return pts_db_run(db, "UPDATE batches SET state = ?, settled_at = CASE WHEN ? THEN ? END"
	    " WHERE id = ?", "siii", pts_batch_state_name(state), (int64_t)(state == PTS_BATCH_SETTLED),
	    pts_now(), batch_id);
}

int
pts_ledger_batch_state(sqlite3 *db, int64_t batch_id, enum pts_batch_state state)
{
	return pts_db_run(db, "UPDATE batches SET state = ? WHERE id = ?", "si",
	    pts_batch_state_name(state), batch_id);
}

/* ==== Writing a batch ==== */

int
pts_ledger_batch_open(sqlite3 *db, const struct pts_run *run, const char *service,
    const struct pts_change *c, size_t n, int64_t *batch_id, int64_t *change_ids)
{
	size_t i;

	if (pts_db_begin(db) != 0)
		return -1;
	if (pts_ledger_open_batch(db, run->id, service, batch_id) != 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (pts_ledger_record(db, run->id, *batch_id, &c[i], PTS_LEDGER_PENDING,
		    &change_ids[i]) != 0)
			goto fail;
	if (pts_db_commit(db) == 0)
		return 0;
fail:
	PTS_ERROR("could not store a %s batch of %zu before sending it", service, n);
	pts_db_rollback(db);
	return -1;
}

int
pts_ledger_batch_settle(sqlite3 *db, struct pts_run *run, int64_t batch_id,
    const int64_t *change_ids, const unsigned char *not_found, size_t n, int64_t *done)
{
	int64_t added = 0, missing = 0;
	size_t i;

	if (pts_db_begin(db) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		int nf = not_found != NULL && not_found[i];

		if (pts_ledger_set_result(db, change_ids[i], nf ? PTS_LEDGER_NOT_FOUND :
		    PTS_LEDGER_DONE) != 0)
			goto fail;
		if (nf)
			missing++;
		else
			added++;
	}
	if (pts_ledger_settle_batch(db, batch_id, PTS_LEDGER_FAILED, PTS_BATCH_SETTLED) != 0)
		goto fail;
	/* Counted before the save that commits with them; taken back if the commit fails. */
	if (done != NULL)
		*done += added;
	run->not_found += missing;
	if (pts_run_save_counts(run) != 0 || pts_db_commit(db) != 0) {
		if (done != NULL)
			*done -= added;
		run->not_found -= missing;
		goto fail;
	}
	return 0;
fail:
	PTS_ERROR("could not settle batch %lld", (long long)batch_id);
	pts_db_rollback(db);
	return -1;
}

int
pts_ledger_batch_fail(sqlite3 *db, struct pts_run *run, int64_t batch_id,
    enum pts_ledger_result result, size_t n)
{
	run->errors += (int64_t)n;
	if (pts_ledger_settle_batch(db, batch_id, result, PTS_BATCH_SETTLED) != 0) {
		PTS_ERROR("could not record batch %lld as failed", (long long)batch_id);
		return -1;
	}
	return pts_run_save_counts(run);
}

void
pts_ledger_batch_drop(sqlite3 *db, int64_t batch_id)
{
	if (pts_db_begin(db) != 0)
		return;
	if (pts_db_run(db, "DELETE FROM changes WHERE batch_id = ?", "i", batch_id) != 0 ||
	    pts_db_run(db, "DELETE FROM batches WHERE id = ?", "i", batch_id) != 0 ||
	    pts_db_commit(db) != 0) {
		PTS_ERROR("could not forget the unsent batch %lld", (long long)batch_id);
		pts_db_rollback(db);
	}
}

int
pts_ledger_blocked(sqlite3 *db, const char *action, const char *item_key, int64_t watched_at)
{
	int64_t n = 0;
	int64_t m = pts_ledger_minute(watched_at);

	if (pts_db_int(db, &n, 0, "SELECT COUNT(*) FROM changes WHERE action = ? AND item_key = ?"
	    " AND watched_at >= ? AND watched_at < ? AND result IN (?, ?, ?) AND undone_by IS NULL",
	    "ssiisss", action, item_key, m, m + 60, pts_ledger_result_name(PTS_LEDGER_DONE),
	    pts_ledger_result_name(PTS_LEDGER_PENDING), pts_ledger_result_name(PTS_LEDGER_UNKNOWN)) != 0)
		return -1;
	return n > 0;
}

int
pts_ledger_not_found_since(sqlite3 *db, const char *action, const char *item_key,
    int64_t watched_at, int64_t since)
{
	int64_t n = 0;
	int64_t m = pts_ledger_minute(watched_at);

	if (pts_db_int(db, &n, 0, "SELECT COUNT(*) FROM changes WHERE action = ? AND item_key = ?"
	    " AND watched_at >= ? AND watched_at < ? AND result = ? AND settled_at >= ?", "ssiisi",
	    action, item_key, m, m + 60, pts_ledger_result_name(PTS_LEDGER_NOT_FOUND), since) != 0)
		return -1;
	return n > 0;
}

int
pts_ledger_same_viewing(sqlite3 *db, const char *item_key, int64_t t, int64_t run_s)
{
	int64_t n = 0, window = PTS_LEDGER_SAME_VIEWING_S(run_s > 0 ? run_s : 0);

	if (pts_db_int(db, &n, 0, "SELECT COUNT(*) FROM changes WHERE action = ? AND item_key = ?"
	    " AND watched_at BETWEEN ? AND ? AND result IN (?, ?, ?) AND undone_by IS NULL", "ssiisss",
	    PTS_ACT_ADD_PLAY_TRAKT, item_key, t - window, t + window,
	    pts_ledger_result_name(PTS_LEDGER_DONE), pts_ledger_result_name(PTS_LEDGER_PENDING),
	    pts_ledger_result_name(PTS_LEDGER_UNKNOWN)) != 0)
		return -1;
	return n > 0;
}

int
pts_ledger_same_viewing_at(int64_t play_at, int64_t t, int64_t run_s)
{
	int64_t window = PTS_LEDGER_SAME_VIEWING_S(run_s > 0 ? run_s : 0);

	return play_at > 0 && play_at >= t - window && play_at <= t + window;
}

int
pts_ledger_batch_open_plays(sqlite3 *db, const struct pts_run *run,
    const struct pts_change *c, const int64_t *run_s, size_t n, int64_t *batch_id,
    int64_t *change_ids, unsigned char *skipped)
{
	size_t i, kept = 0;
	int same;

	*batch_id = 0;
	if (pts_db_begin(db) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		change_ids[i] = 0;
		same = pts_ledger_same_viewing(db, c[i].item_key, c[i].watched_at, run_s[i]);
		if (same < 0)
			goto fail;
		skipped[i] = same > 0;
		if (same > 0)
			continue;
		if (*batch_id == 0 && pts_ledger_open_batch(db, run->id, "trakt", batch_id) != 0)
			goto fail;
		if (pts_ledger_record(db, run->id, *batch_id, &c[i], PTS_LEDGER_PENDING,
		    &change_ids[i]) != 0)
			goto fail;
		kept++;
	}
	if (pts_db_commit(db) == 0)
		return 0;
fail:
	PTS_ERROR("could not store a batch of %zu plays (%zu new) before sending it", n, kept);
	pts_db_rollback(db);
	*batch_id = 0;
	return -1;
}

int
pts_ledger_plex_marked(sqlite3 *db, const char *rating_key, int64_t t)
{
	int64_t n = 0;

	if (rating_key == NULL)
		return 0;
	if (pts_db_int(db, &n, 0, "SELECT COUNT(*) FROM changes WHERE action = ? AND item_key ="
	    " 'plex:' || ? AND result = ? AND settled_at >= ?", "sssi", PTS_ACT_MARK_WATCHED_PLEX,
	    rating_key, pts_ledger_result_name(PTS_LEDGER_DONE), t - PTS_LEDGER_MARK_SLACK_S) != 0)
		return -1;
	return n > 0;
}

int
pts_ledger_key_movie(const struct pts_ids *ids, char *buf, size_t len)
{
	if (ids->imdb[0] != '\0')
		snprintf(buf, len, "movie:imdb:%s", ids->imdb);
	else if (ids->tmdb > 0)
		snprintf(buf, len, "movie:tmdb:%lld", (long long)ids->tmdb);
	else if (ids->trakt > 0)
		snprintf(buf, len, "movie:trakt:%lld", (long long)ids->trakt);
	else
		return -1;
	return 0;
}

int
pts_ledger_key_episode(const struct pts_ids *show, int season, int episode, char *buf,
    size_t len)
{
	char id[48];

	if (show->tvdb > 0)
		snprintf(id, sizeof(id), "tvdb:%lld", (long long)show->tvdb);
	else if (show->imdb[0] != '\0')
		snprintf(id, sizeof(id), "imdb:%s", show->imdb);
	else if (show->tmdb > 0)
		snprintf(id, sizeof(id), "tmdb:%lld", (long long)show->tmdb);
	else if (show->trakt > 0)
		snprintf(id, sizeof(id), "trakt:%lld", (long long)show->trakt);
	else
		return -1;
	snprintf(buf, len, "episode:%s:%d:%d", id, season, episode);
	return 0;
}

int64_t
pts_ledger_minute(int64_t t)
{
	return t - (t % 60 + 60) % 60;
}

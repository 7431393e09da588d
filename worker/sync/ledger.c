/*
 * ledger.c - the changes/batches tables.
 */
#include "ledger.h"

#include <stdio.h>

#include "db.h"
#include "guid.h"

int
pts_ledger_open_batch(sqlite3 *db, int64_t run_id, const char *service, int64_t *batch_id)
{
	if (pts_db_run(db, "INSERT INTO batches(run_id, service, state, created_at)"
	    " VALUES(?, ?, 'pending', ?)", "isi", run_id, service, pts_now()) != 0)
		return -1;
	*batch_id = sqlite3_last_insert_rowid(db);
	return 0;
}

int
pts_ledger_record(sqlite3 *db, int64_t run_id, int64_t batch_id, const struct pts_change *c,
    const char *result, int64_t *change_id)
{
	int64_t now = pts_now();

	if (pts_db_run(db, "INSERT INTO changes(run_id, batch_id, action, type, item_key, title,"
	    " show, season, episode, year, watched_at, ids, result, created_at, settled_at)"
	    " VALUES(?, NULLIF(?, 0), ?, ?, ?, ?, ?, NULLIF(?, -1), NULLIF(?, -1), NULLIF(?, 0),"
	    " NULLIF(?, 0), ?, ?, ?, CASE WHEN ? IN ('pending','planned') THEN NULL ELSE ? END)",
	    "iisssssiiiissisi", run_id, batch_id, c->action, c->type, c->item_key, c->title, c->show,
	    (int64_t)c->season, (int64_t)c->episode, (int64_t)c->year, c->watched_at,
	    c->ids ? c->ids : "{}", result, now, result, now) != 0)
		return -1;
	if (change_id != NULL)
		*change_id = sqlite3_last_insert_rowid(db);
	return 0;
}

int
pts_ledger_set_result(sqlite3 *db, int64_t change_id, const char *result)
{
	return pts_db_run(db, "UPDATE changes SET result = ?, settled_at = ? WHERE id = ?", "sii",
	    result, pts_now(), change_id);
}

int
pts_ledger_settle_batch(sqlite3 *db, int64_t batch_id, const char *result, const char *state)
{
	if (pts_db_run(db, "UPDATE changes SET result = ?, settled_at = ? WHERE batch_id = ?"
	    " AND result IN ('pending','unknown')", "sii", result, pts_now(), batch_id) != 0)
		return -1;
	return pts_db_run(db, "UPDATE batches SET state = ?, settled_at = CASE WHEN ? = 'settled'"
	    " THEN ? END WHERE id = ?", "ssii", state, state, pts_now(), batch_id);
}

int
pts_ledger_blocked(sqlite3 *db, const char *action, const char *item_key, int64_t watched_at)
{
	int64_t n = 0;
	int64_t m = pts_ledger_minute(watched_at);

	if (pts_db_int(db, &n, 0, "SELECT COUNT(*) FROM changes WHERE action = ? AND item_key = ?"
	    " AND watched_at >= ? AND watched_at < ? AND result IN ('done','pending','unknown')"
	    " AND undone_by IS NULL", "ssii", action, item_key, m, m + 60) != 0)
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

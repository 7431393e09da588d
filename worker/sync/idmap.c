/*
 * idmap.c - the sync's id index in SQLite (id_map): plex:// guids of shows to their ids.
 */
#include "idmap.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "log.h"

/* 1 when e is worth a row: a plex:// guid of a sane length with at least one id. */
static int
idmap_usable(const struct pts_idmap_entry *e)
{
	return e->guid != NULL && strncmp(e->guid, "plex://", 7) == 0 &&
	    strlen(e->guid) <= PTS_IDMAP_GUID_MAX && !pts_ids_empty(&e->ids);
}

int
pts_idmap_put(sqlite3 *db, const char *type, const struct pts_idmap_entry *v, size_t n,
    int64_t now)
{
	size_t i, stored = 0;

	if (pts_db_begin(db) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct pts_ids *ids = &v[i].ids;

		if (!idmap_usable(&v[i]))
			continue;
		if (pts_db_run(db, "INSERT OR REPLACE INTO id_map(plex_guid, type, imdb, tmdb, tvdb,"
		    " trakt, updated_at) VALUES(?, ?, NULLIF(?, ''), NULLIF(?, 0), NULLIF(?, 0),"
		    " NULLIF(?, 0), ?)", "sssiiii", v[i].guid, type, ids->imdb, ids->tmdb,
		    ids->tvdb, ids->trakt, now) != 0)
			goto fail;
		stored++;
	}
	if (pts_db_commit(db) == 0) {
		PTS_DEBUG("id index: %zu %ss stored", stored, type);
		return 0;
	}
fail:
	PTS_ERROR("id index: could not store the ids of %zu %ss", n, type);
	pts_db_rollback(db);
	return -1;
}

int
pts_idmap_get(sqlite3 *db, const char *guid, struct pts_ids *ids)
{
	sqlite3_stmt *st;
	const unsigned char *imdb;
	int rc;

	memset(ids, 0, sizeof(*ids));
	if (guid == NULL || strlen(guid) > PTS_IDMAP_GUID_MAX)
		return 0;
	st = pts_db_prepare(db, "SELECT imdb, COALESCE(tmdb, 0), COALESCE(tvdb, 0),"
	    " COALESCE(trakt, 0) FROM id_map WHERE plex_guid = ?");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, guid, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		imdb = sqlite3_column_text(st, 0);
		if (imdb != NULL && pts_guid_imdb_valid((const char *)imdb))
			snprintf(ids->imdb, sizeof(ids->imdb), "%s", (const char *)imdb);
		ids->tmdb = sqlite3_column_int64(st, 1);
		ids->tvdb = sqlite3_column_int64(st, 2);
		ids->trakt = sqlite3_column_int64(st, 3);
	} else if (rc != SQLITE_DONE) {
		PTS_ERROR("id index: %s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return pts_ids_empty(ids) ? 0 : 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

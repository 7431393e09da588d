/*
 * test_idmap.c - the sync's id index in SQLite (worker/sync/idmap.h) on a real, migrated
 * database in a temporary folder: plex:// shows stored and found, others skipped, a show
 * seen again replaced.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "idmap.h"
#include "tap.h"

static char tmpdir[] = "/tmp/pts-test-idmap-XXXXXX";
static char dbpath[256];

static void
remove_db(void)
{
	char p[300];

	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
	unlink(dbpath);
	rmdir(tmpdir);
}

int
main(void)
{
	struct pts_idmap_entry v[4];
	struct pts_ids ids;
	sqlite3 *db = NULL;
	int64_t n = -1;

	if (mkdtemp(tmpdir) == NULL) {
		TAP_OK(0, "a temporary folder");
		return tap_done();
	}
	snprintf(dbpath, sizeof(dbpath), "%s/pts.db", tmpdir);
	if (pts_db_open(dbpath, &db) != 0) {
		TAP_OK(0, "a migrated database");
		return tap_done();
	}
	memset(v, 0, sizeof(v));
	v[0].guid = "plex://show/5d9c086c46115600200aa2fe";
	v[0].ids.tvdb = 81189;
	v[0].ids.tmdb = 1396;
	snprintf(v[0].ids.imdb, sizeof(v[0].ids.imdb), "tt0903747");
	v[1].guid = "com.plexapp.agents.thetvdb://121361?lang=en";   /* legacy: ids in the text */
	v[1].ids.tvdb = 121361;
	v[2].guid = "plex://show/5d9c0000000000000000dead";           /* no id: nothing to keep */
	v[3].guid = NULL;
	v[3].ids.tvdb = 1;
	TAP_OK(pts_idmap_put(db, "show", v, 4, 1700000000) == 0, "a library's shows stored");
	TAP_OK(pts_db_int(db, &n, -1, "SELECT COUNT(*) FROM id_map", "") == 0 && n == 1,
	    "only the plex:// show with ids has a row");
	TAP_OK(pts_idmap_get(db, v[0].guid, &ids) == 1 && ids.tvdb == 81189 && ids.tmdb == 1396 &&
	    strcmp(ids.imdb, "tt0903747") == 0 && ids.trakt == 0, "found with its ids");
	TAP_OK(pts_idmap_get(db, v[2].guid, &ids) == 0 && pts_ids_empty(&ids), "unknown: 0");
	TAP_OK(pts_idmap_get(db, NULL, &ids) == 0, "no guid: 0");
	v[0].ids.trakt = 1;
	v[0].ids.imdb[0] = '\0';
	TAP_OK(pts_idmap_put(db, "show", v, 1, 1700000100) == 0 &&
	    pts_idmap_get(db, v[0].guid, &ids) == 1 && ids.trakt == 1 && ids.imdb[0] == '\0',
	    "a show seen again replaces its row");
	pts_db_close(db);
	remove_db();
	return tap_done();
}

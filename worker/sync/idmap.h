/*
 * idmap.h - the id index the sync keeps in the database (table id_map): the external ids of
 * the Plex shows it has listed whose guid is plex:// (new agents). Their episodes name the
 * show only by that guid (grandparentGuid), so without this the live scrobbler would have to
 * ask the server for the show's ids; with it, an episode of a show the sync has seen is
 * matched from SQLite alone.
 *
 * Rows are keyed by the plex:// guid, which is the same on every server and never changes
 * its ids; a row is replaced each time a sync sees the show again (updated_at). Legacy guids
 * carry their ids in the text itself and are not stored.
 *
 * The functions only read and write rows; pts_idmap_put holds its own transaction.
 */
#ifndef PTS_IDMAP_H
#define PTS_IDMAP_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "guid.h"

/* Longest guid stored ("plex://show/5d9c086c46115600200aa2fe" is 36 bytes). */
#define PTS_IDMAP_GUID_MAX 128

struct pts_idmap_entry {
	const char *guid;        /* borrowed; entries that are not plex:// are skipped */
	struct pts_ids ids;      /* entries without any id are skipped */
};

/* Store v[0..n) of type ("show") in one transaction, dated now. 0 or -1. */
int pts_idmap_put(sqlite3 *db, const char *type, const struct pts_idmap_entry *v, size_t n,
    int64_t now);

/* The ids stored for guid into *ids: 1 found, 0 not known, -1 on a database error. */
int pts_idmap_get(sqlite3 *db, const char *guid, struct pts_ids *ids);

#endif

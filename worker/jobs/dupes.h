/*
 * dupes.h - the duplicate cleaner: plays on Trakt that repeat an item within one minute.
 *
 * Trakt does not de-duplicate (docs/UPSTREAM.md): a play posted twice, by this program's
 * older versions or by any other tool, is two plays. The scan reads the whole history (every
 * page), groups plays by item (the movie; the show + season + episode) and watched_at minute,
 * and stores each group of more than one play in trakt_dupes, oldest history id first; the
 * oldest is the one kept. Reading changes nothing.
 *
 * The removal takes the groups of the last scan, checks them against the history once more
 * (only plays still there count; the oldest still there is kept, so a group never loses its
 * last play), removes the extras by history id, and updates the stored groups: a group left
 * with one play is gone, so after a full removal GET /api/trakt/duplicates lists none.
 *
 * meta keys: trakt_dupes_scanned_at, trakt_dupes_plays (plays the scan read),
 * trakt_dupes_error (why the last scan or removal failed), trakt_dupes_removed_at,
 * trakt_dupes_removed (plays the last removal took off).
 */
#ifndef PTS_DUPES_H
#define PTS_DUPES_H

#include <json-c/json.h>

#include "wctx.h"

/* Most groups stored by one scan (a history is capped at ~100k plays: 50k pairs at most). */
#define PTS_DUPES_MAX_GROUPS 100000
/* Most plays kept per group (more than this in one minute is not a real-world case). */
#define PTS_DUPES_MAX_IDS 1000
/* History ids per remove call. */
#define PTS_DUPES_BATCH 100

/* Job handlers for PTS_JOB_TRAKT_DUPES_SCAN and PTS_JOB_TRAKT_DUPES_REMOVE (no args). */
int pts_dupes_scan_job(struct pts_wctx *w, json_object *args);
int pts_dupes_remove_job(struct pts_wctx *w, json_object *args);

#endif

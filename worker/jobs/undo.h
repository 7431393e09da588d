/*
 * undo.h - take back what one run wrote to Trakt (POST /api/runs/{id}/undo).
 *
 * The run's ledger says what it wrote: its changes with result 'done' that no undo took back
 * yet. Plays are removed by their Trakt history id, never by item, so other plays of the same
 * item (at other times, or posted by other tools) stay. A rating the run set is put back to
 * Trakt's earlier one (or removed when there was none); a watchlist entry it added is taken
 * off. Both by item: Trakt keeps one of each per item.
 *
 * The undo is a run of its own (trigger 'undo', runs.undo_of = the run): its changes are
 * remove_play_trakt, remove_rating_trakt, restore_rating_trakt and remove_watchlist_trakt
 * rows with result 'planned' (dry run), 'done', 'not_found' (already gone from Trakt) or
 * 'failed'. Original changes that are gone from Trakt get undone_by, so the ledger
 * lets a later sync add them again (with Plex → Trakt it will, unless the item is marked
 * unwatched in Plex); the original run gets undone_by when the undo ended ok.
 */
#ifndef PTS_UNDO_H
#define PTS_UNDO_H

#include <json-c/json.h>

#include "wctx.h"

/* Changes one undo takes back at most (a first sync of a big library, Trakt's ~100k cap). */
#define PTS_UNDO_MAX_CHANGES 200000
/* Ids or items per remove call (the size the engine writes with). */
#define PTS_UNDO_BATCH 100

/* Job handler for PTS_JOB_UNDO (args {"undo_of": n, "dry_run": bool}; the run row rules). */
int pts_undo_job(struct pts_wctx *w, json_object *args);

#endif

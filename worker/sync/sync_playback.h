/*
 * sync_playback.h - resume points both ways: Trakt playback progress (percent, paused_at)
 * and Plex viewOffset (ms of duration).
 *
 * The newer position wins and a newer position is never moved back:
 *   - Plex's time of a position is its lastViewedAt or, later, the time we first saw that
 *     position (plex_seen.h); Trakt's is paused_at;
 *   - positions within PTS_PLAYBACK_SAME_PCT of each other are the same (nothing to do);
 *   - when Plex's time is unknown (a position we never saw change, without lastViewedAt) the
 *     further position wins, so a position of unknown age is only ever moved forward;
 *   - a Trakt position paused before Trakt's last play of the item is stale (it was finished
 *     since) and ignored; a Plex position older than Trakt's last play is not sent; a Plex copy
 *     viewed after Trakt's pause keeps its own position.
 * Only positions from PTS_PLAYBACK_MIN_PCT up to (not including) PTS_PLAYBACK_MAX_PCT are
 * synced: near the start is nothing to resume, near the end Plex counts as watched.
 * Copies of one movie: the newest Plex position stands for them; Trakt's goes to each copy.
 *
 * A Trakt resume point of an item Plex has finished since (watched after Trakt's pause, no
 * position of its own) is removed on Trakt, and such an item never gets a position back.
 *
 * Changes: playback_trakt (POST /scrobble/pause, one per item; Trakt stamps paused_at now),
 * playback_plex (PUT /:/progress), detail {"progress": p, "was": p|null}, and
 * playback_remove_trakt (DELETE /sync/playback/{id}), detail {"progress": null, "was": p};
 * runs.playback_changed.
 */
#ifndef PTS_SYNC_PLAYBACK_H
#define PTS_SYNC_PLAYBACK_H

#include "feature.h"

#define PTS_ACT_PLAYBACK_TRAKT "playback_trakt"
#define PTS_ACT_PLAYBACK_PLEX "playback_plex"
#define PTS_ACT_PLAYBACK_REMOVE_TRAKT "playback_remove_trakt"

#define PTS_PLAYBACK_MIN_PCT 1.0
#define PTS_PLAYBACK_MAX_PCT 90.0
#define PTS_PLAYBACK_SAME_PCT 1.0

#endif

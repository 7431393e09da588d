/*
 * scrobble.h - live scrobbling without Plex Pass: Plex's sessions followed, Trakt told.
 *
 * One job of kind "scrobble" on a lane of its own ("scrobble": it never waits for a sync and
 * a sync never waits for it) polls GET /status/sessions every PTS_SCROBBLE_ACTIVE_MS while
 * something plays and every PTS_SCROBBLE_IDLE_MS when nothing does (one request per poll),
 * until the worker stops or the setting scrobble_live goes off. The scheduler queues it
 * whenever scrobble_live is on and none is queued or running. Under --cron each pass polls
 * once and ends the sessions that are gone (the reduced form).
 *
 * Per stream (now_playing holds them between polls, so --cron passes share the state):
 *   - another account's stream while scrobble_users is "owner": shown, trakt "ignored";
 *   - an item without an id Trakt knows: trakt "unmatched", logged once, never guessed;
 *     an episode whose show Plex names only by a plex:// guid is matched from the id index
 *     the sync keeps (idmap.h) and asks the server only for a show no sync has listed;
 *   - a new item gets its poster from TMDb off the poll loop (np_posters.h);
 *   - playing or buffering: POST /scrobble/start once (again after a pause), "watching";
 *   - paused: POST /scrobble/pause once, "paused";
 *   - gone from the list, or another item on the same session: POST /scrobble/stop with the
 *     last progress seen; a play on Trakt after it keeps the stream listed as "scrobbled"
 *     for PTS_SCROBBLE_SHOWN_S. Under 80 % it adds nothing. At 80 % or more it adds a play, so it
 *     goes through the ledger as its own run (trigger 'scrobble', change add_play_trakt):
 *     recorded pending first, settled from the answer (watched_at and history id from it), a
 *     lost answer looked up in Trakt's history before anything is sent again
 *     (reconcile.h), and not sent at all when the ledger already holds a play of that item
 *     within PTS_LEDGER_SAME_VIEWING_S(running time) (a webhook's, say): same viewing.
 * start and pause may be lost (the next change of state sends again); a play never doubles.
 * Settings as for a sync: sync_watched off, a direction that does not write to Trakt, or
 * dry_run: the sessions are shown, "ignored", nothing is sent.
 *
 * Calls: Plex 3600000 / PTS_SCROBBLE_IDLE_MS per hour when idle (120), 3600000 /
 * PTS_SCROBBLE_ACTIVE_MS while playing (720); Trakt: one per change of state (start, pause,
 * stop), none while a state holds.
 */
#ifndef PTS_SCROBBLE_H
#define PTS_SCROBBLE_H

#include <sqlite3.h>

#include "wctx.h"

/* Poll period while anything plays: the card and trakt.tv follow within this. */
#define PTS_SCROBBLE_ACTIVE_MS 5000
/* Poll period while nothing plays. */
#define PTS_SCROBBLE_IDLE_MS 30000
/* Tests shorten both to this environment variable's value (50..60000 ms). */
#define PTS_SCROBBLE_POLL_ENV "PTS_SCROBBLE_POLL_MS"
/*
 * A stream that ended with its play on Trakt stays in GET /api/now-playing this long, with
 * trakt "scrobbled", so the card says so before it goes (rows carry shown_until).
 */
#define PTS_SCROBBLE_SHOWN_S 60
/* Longest label in log lines and runs ("Show S01E02 Title", "Title (2010)"). */
#define PTS_SCROBBLE_LABEL_MAX 300

/* Job handler for PTS_JOB_SCROBBLE. An enum pts_job_result (wctx.h). */
int pts_job_scrobble(struct pts_wctx *w, json_object *args);

/*
 * Queue the scrobble job when scrobble_live is on, a Plex server is set and no scrobble job
 * is queued or running; with the setting off, forget the sessions shown. 0 or -1.
 */
int pts_scrobble_ensure(sqlite3 *db);

#endif

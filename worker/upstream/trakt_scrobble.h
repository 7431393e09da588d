/*
 * trakt_scrobble.h - Trakt's live scrobble calls: POST /scrobble/start, /pause, /stop.
 *
 * What trakt.tv shows as "watching now" (docs/UPSTREAM.md "Scrobbling"). The item is a movie
 * by its ids, an episode by its show's ids and numbers, or an episode by its own ids. A stop
 * at 80 % or more ADDS A PLAY at the time of the call (answer action "scrobble"): it is not
 * idempotent, so it is sent once (PTS_HTTP_NON_IDEMPOTENT) and a lost answer is
 * PTS_HTTP_UNKNOWN for the caller's ledger to settle; start and pause may be retried or
 * dropped, they never add anything.
 */
#ifndef PTS_TRAKT_SCROBBLE_H
#define PTS_TRAKT_SCROBBLE_H

#include <stdint.h>

#include "guid.h"
#include "http.h"
#include "trakt_auth.h"

/* A stop at this percent or more adds a play (Trakt's rule). */
#define PTS_TSCROB_PLAY_PERCENT 80.0

enum pts_tscrob_action {
	PTS_TSCROB_START,
	PTS_TSCROB_PAUSE,
	PTS_TSCROB_STOP
};

struct pts_tscrob_item {
	int is_episode;
	int by_episode_ids;       /* an episode sent by its own ids (ids), else show ids+numbers */
	struct pts_ids ids;       /* the movie's, the show's, or the episode's own */
	int season, episode;
};

struct pts_tscrob_answer {
	long status;              /* HTTP status (409: Trakt's own "just scrobbled" guard) */
	char action[16];          /* "start", "pause", "scrobble"; "" when none */
	int64_t history_id;       /* the play's history id on action "scrobble"; 0 unknown */
	int64_t watched_at;       /* watched_at of the answer (or of a 409); 0 when absent */
};

/* "start", "pause", "stop". */
const char *pts_tscrob_action_name(enum pts_tscrob_action a);

/* One scrobble call with progress (percent, 0..100). */
enum pts_http_result pts_tscrob_send(struct pts_trakt *t, enum pts_tscrob_action a,
    const struct pts_tscrob_item *it, double progress, struct pts_tscrob_answer *ans);

#endif

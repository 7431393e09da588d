/*
 * plexsess.h - who is playing now on the Plex server: GET /status/sessions (no Plex Pass).
 *
 * With the owner's token the list holds everyone's streams, one Metadata entry per stream
 * (docs/UPSTREAM.md "Who is playing now"); an item drops out when its playback ends. Each
 * entry is parsed with the library parser (pts_plex_parse_item: ids from the Guid array or a
 * legacy guid) plus the session's own fields. One request per call, includeGuids=1.
 *
 * Ownership: strings in a struct pts_plexsess are borrowed from the answer and valid only
 * during the callback: copy what you keep.
 */
#ifndef PTS_PLEXSESS_H
#define PTS_PLEXSESS_H

#include <json-c/json.h>

#include "http.h"
#include "plex.h"

/* Sessions delivered from one answer at most (a home server has a handful). */
#define PTS_PLEXSESS_MAX 64
/* Longest answer accepted (a session entry is a few kB with its media parts). */
#define PTS_PLEXSESS_MAX_BYTES (2L * 1024 * 1024)

struct pts_plexsess {
	struct pts_plex_item it;      /* the item; type "movie" or "episode" (others skipped) */
	const char *session_key;      /* sessionKey, else Session.id; never NULL */
	const char *user_id;          /* User.id as text ("1": the server's owner); may be NULL */
	const char *user_title;       /* may be NULL */
	const char *player_title;     /* may be NULL */
	const char *state;            /* "playing", "paused" or "buffering" */
};

/* Return 0 to go on, anything else to stop (the call then answers CANCELLED). */
typedef int (*pts_plexsess_fn)(void *ctx, const struct pts_plexsess *s);

/* GET /status/sessions: each usable movie or episode stream to fn. */
enum pts_http_result pts_plexsess_list(struct pts_plex *c, pts_plexsess_fn fn, void *ctx);

/*
 * Pure: deliver the usable streams of a /status/sessions answer. An entry without a session
 * key, a ratingKey or a known state, or of another type, is skipped. *count gets the
 * streams delivered. 0, 1 when fn asked to stop, -1 when the answer is no MediaContainer.
 */
int pts_plexsess_parse(json_object *root, pts_plexsess_fn fn, void *ctx, int *count);

#endif

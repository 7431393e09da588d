/*
 * np_posters.h - posters for the Now playing card, looked up off the scrobbler's poll loop.
 *
 * The scrobbler stores a new stream with poster_ids (the TMDb ids of its movie or show) and
 * poster_done 0, then calls pts_np_posters_want(), which queues one job of kind
 * "now_playing_posters" on a lane of its own ("posters": it never waits for a sync or a
 * Plex refresh, and the scrobbler never waits for TMDb). The job looks each wanted item up
 * once through the TMDb client (tmdb.h: cached in meta_cache, the image kept under the data
 * folder) and writes the same-origin path ("/posters/NAME", or NULL when there is none) to
 * every stream of that item, poster_done 1. A later session of the same item is answered from
 * the cache without a TMDb call. Without a TMDb key nothing is wanted and nothing is queued.
 */
#ifndef PTS_NP_POSTERS_H
#define PTS_NP_POSTERS_H

#include <json-c/json.h>
#include <sqlite3.h>

#include "wctx.h"

/* Items one job looks up at most (now_playing holds a home's handful of streams). */
#define PTS_NP_POSTERS_MAX 64

/*
 * Queue the poster job when a stream wants a poster and none is queued yet (a running one
 * may have missed the newest). 0 or -1.
 */
int pts_np_posters_want(sqlite3 *db);

/* Job handler for PTS_JOB_NOW_PLAYING_POSTERS. An enum pts_job_result (wctx.h). */
int pts_np_posters_job(struct pts_wctx *w, json_object *args);

#endif

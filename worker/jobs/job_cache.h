/*
 * job_cache.h - the jobs that refresh the dashboard's caches: libraries, Trakt history,
 * Continue Watching.
 *
 * Handlers as in wctx.h: 0 done, 1 cancelled, -1 failed (cause logged). API counters are
 * flushed at the end.
 */
#ifndef PTS_JOB_CACHE_H
#define PTS_JOB_CACHE_H

#include "wctx.h"

int pts_job_libraries_refresh(struct pts_wctx *w, json_object *args);
int pts_job_trakt_history_refresh(struct pts_wctx *w, json_object *args);
int pts_job_plex_in_progress_refresh(struct pts_wctx *w, json_object *args);

#endif

/*
 * job_auth.h - the sign-in jobs (Plex PIN, Trakt device code) and Trakt sign-out.
 *
 * Handlers as in wctx.h: 0 done, 1 cancelled, -1 failed (cause logged), or PTS_JOB_YIELD
 * when a --cron run leaves a pending sign-in for the next one. API counters are flushed at
 * the end.
 */
#ifndef PTS_JOB_AUTH_H
#define PTS_JOB_AUTH_H

#include "wctx.h"

int pts_job_auth_plex(struct pts_wctx *w, json_object *args);
int pts_job_auth_trakt(struct pts_wctx *w, json_object *args);
int pts_job_signout_trakt(struct pts_wctx *w, json_object *args);

#endif

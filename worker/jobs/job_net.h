/*
 * job_net.h - the jobs that talk to Plex, plex.tv, Trakt and TMDb (handlers: wctx.h).
 */
#ifndef PTS_JOB_NET_H
#define PTS_JOB_NET_H

#include "wctx.h"

int pts_job_auth_plex(struct pts_wctx *w, json_object *args);
int pts_job_auth_trakt(struct pts_wctx *w, json_object *args);
int pts_job_signout_trakt(struct pts_wctx *w, json_object *args);
int pts_job_libraries_refresh(struct pts_wctx *w, json_object *args);
int pts_job_trakt_history_refresh(struct pts_wctx *w, json_object *args);
int pts_job_plex_in_progress_refresh(struct pts_wctx *w, json_object *args);

#endif

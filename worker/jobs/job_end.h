/*
 * job_end.h - how a job that called a service ends: API counters flushed, result as status.
 */
#ifndef PTS_JOB_END_H
#define PTS_JOB_END_H

#include "http.h"
#include "wctx.h"

/* Flush the API counters (forced: the job is over) and hand back rc, the job's status. */
int pts_job_end(struct pts_wctx *w, int rc);
/* A client's result as a job status: 1 cancelled (or the job was), 0 OK, -1 failed. */
int pts_job_result(struct pts_wctx *w, enum pts_http_result r);

#endif

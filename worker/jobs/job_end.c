/*
 * job_end.c - how a job that called a service ends: API counters flushed, result as status.
 */
#include "job_end.h"


int
pts_job_end(struct pts_wctx *w, int rc)
{
	(void)pts_meter_flush(w->db, 1);
	return rc;
}

int
pts_job_result(struct pts_wctx *w, enum pts_http_result r)
{
	if (r == PTS_HTTP_CANCELLED || pts_wctx_cancelled(w))
		return 1;
	return r == PTS_HTTP_OK ? 0 : -1;
}

/*
 * h_refresh.c - the POST .../refresh answers: queue a fetch job once, answer 202 {job_id}.
 */
#include "handler.h"

#include "jobs.h"

void
h_refresh_post(struct hctx *ctx, const char *kind)
{
	int64_t job_id = 0;

	/* Once: a refresh already queued or running is the one the client waits for. */
	if (pts_jobs_enqueue_once(ctx->db, kind, NULL, &job_id) != 0) {
		resp_internal(ctx->resp);
		return;
	}
	resp_job(ctx->resp, job_id);
}

/*
 * syncrun.c - one sync run from claim to final status.
 */
#include "syncrun.h"

#include "db.h"
#include "engine.h"
#include "jsonx.h"
#include "log.h"
#include "run.h"

int
pts_syncrun_job(struct pts_wctx *w, json_object *args)
{
	struct pts_run run;
	int rc;

	if (pts_run_begin(&run, w, PTS_RUN_SYNC) != 0)
		return PTS_JOB_FAILED;
	/* The job's args are what was asked for; the run row says the same. */
	run.dry_run = pts_json_bool(args, "dry_run", run.dry_run);
	run.full = pts_json_bool(args, "full", run.full);
	PTS_INFO("sync started (%s%s%s)", run.trigger, run.dry_run ? ", dry run" : "",
	    run.full ? ", full" : "");
	rc = pts_engine_run(w, &run);
	/* The engine's message is a failure's cause: a run that did not fail ends without it. */
	if (rc != PTS_JOB_FAILED || pts_wctx_cancelled(w))
		run.message[0] = '\0';
	rc = pts_run_end(&run, w, rc);
	if (rc == PTS_JOB_DONE && pts_db_run(w->db, "INSERT INTO meta(key, value)"
	    " VALUES('last_success_at', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	    "i", pts_now()) != 0)
		PTS_WARN("the time of the last successful sync could not be kept");
	return rc;
}

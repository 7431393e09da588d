/*
 * syncrun.h - the sync job: take its run, run the engine, end the run.
 *
 * The run row is created with the job (common/jobs.c). The run record and its ending are
 * core/run.h's; this module adds what only a sync has: the engine, and the last success time
 * kept in meta. A SIGTERM mid-run puts the run back in the queue so the next start finishes
 * it (the engine's ledger makes that safe).
 */
#ifndef PTS_SYNCRUN_H
#define PTS_SYNCRUN_H

#include <json-c/json.h>

#include "wctx.h"

/* Job handler for PTS_JOB_SYNC (args: {"dry_run": bool, "full": bool}). */
int pts_syncrun_job(struct pts_wctx *w, json_object *args);

#endif

/*
 * engine.h - the sync engine: plan and apply the watched-state changes of one run.
 *
 * Called by syncrun with the run's counters and progress; returns PTS_JOB_DONE when the run
 * finished, PTS_JOB_CANCELLED when it was cancelled (everything written so far settled),
 * PTS_JOB_FAILED when it failed (cause logged, and in run->message). It never writes the
 * run's final status: syncrun ends the run (run.h).
 */
#ifndef PTS_ENGINE_H
#define PTS_ENGINE_H

#include "run.h"
#include "wctx.h"

int pts_engine_run(struct pts_wctx *w, struct pts_run *run);

#endif

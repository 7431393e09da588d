/*
 * engine.h - the sync engine: plan and apply the watched-state changes of one run.
 *
 * Called by syncrun with the run's counters and progress; returns 0 when the run finished,
 * 1 when it was cancelled (everything written so far settled), -1 when it failed (cause
 * logged). It never writes the run's final status: syncrun does.
 */
#ifndef PTS_ENGINE_H
#define PTS_ENGINE_H

#include "syncrun.h"
#include "wctx.h"

int pts_engine_run(struct pts_wctx *w, struct pts_run *run);

#endif

/*
 * engine.c - the sync engine. This first version walks the run through its phases over an
 * empty plan; the matching and writing come with the upstream clients.
 */
#include "engine.h"

#include "log.h"

int
pts_engine_run(struct pts_wctx *w, struct pts_run *run)
{
	static const char *const phases[] = { "counting", "reading", "matching", "writing" };
	size_t i;

	for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		if (pts_wctx_cancelled(w))
			return 1;
		pts_progress_phase(&run->progress, phases[i]);
	}
	PTS_INFO("nothing to do: the plan is empty");
	return 0;
}

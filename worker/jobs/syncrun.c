/*
 * syncrun.c - one sync run from claim to final status.
 */
#include "syncrun.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "engine.h"
#include "jsonx.h"
#include "log.h"

int
pts_syncrun_save_counts(struct pts_run *run)
{
	return pts_db_run(run->progress.db, "UPDATE runs SET added_to_trakt = ?, added_to_plex = ?,"
	    " not_found = ?, unmatched = ?, errors = ? WHERE id = ?", "iiiiii", run->added_to_trakt,
	    run->added_to_plex, run->not_found, run->unmatched, run->errors, run->id);
}

/* Final status; for "queued" (SIGTERM) the run goes back to wait for the next start. */
static void
syncrun_finish(struct pts_wctx *w, struct pts_run *run, const char *status, const char *message)
{
	int64_t secs = (pts_now_ms() - run->progress.started_ms) / 1000;

	(void)pts_progress_flush(&run->progress, 1);
	(void)pts_syncrun_save_counts(run);
	if (strcmp(status, "queued") == 0) {
		(void)pts_db_run(w->db, "UPDATE runs SET status = 'queued', message = ? WHERE id = ?",
		    "si", message, run->id);
		PTS_INFO("sync interrupted after %llds: it resumes when the worker starts again",
		    (long long)secs);
		return;
	}
	(void)pts_db_run(w->db, "UPDATE runs SET status = ?, finished_at = ?, message = ? WHERE id = ?",
	    "sisi", status, pts_now(), message, run->id);
	if (strcmp(status, "ok") == 0)
		(void)pts_db_run(w->db, "INSERT INTO meta(key, value) VALUES('last_success_at', ?)"
		    " ON CONFLICT(key) DO UPDATE SET value = excluded.value", "i", pts_now());
	PTS_INFO("sync %s in %llds: %lld scanned, %lld added to Trakt, %lld marked in Plex,"
	    " %lld not found, %lld unmatched, %lld errors%s", status, (long long)secs,
	    (long long)run->progress.overall_done, (long long)run->added_to_trakt,
	    (long long)run->added_to_plex, (long long)run->not_found, (long long)run->unmatched,
	    (long long)run->errors, run->dry_run ? " (dry run: nothing written)" : "");
}

int
pts_syncrun_job(struct pts_wctx *w, json_object *args)
{
	struct pts_run run;
	char *trigger = NULL;
	int rc;

	memset(&run, 0, sizeof(run));
	run.id = w->run_id;
	run.dry_run = pts_json_bool(args, "dry_run", 0);
	run.full = pts_json_bool(args, "full", 0);
	if (run.id == 0) {
		PTS_ERROR("sync job %lld has no run", (long long)w->job_id);
		return -1;
	}
	(void)pts_db_text(w->db, &trigger, "SELECT trigger FROM runs WHERE id = ?", "i", run.id);
	run.trigger = trigger ? trigger : "manual";
	if (pts_db_run(w->db, "UPDATE runs SET status = 'running', started_at = COALESCE(started_at, ?),"
	    " message = NULL WHERE id = ?", "ii", pts_now(), run.id) != 0 ||
	    pts_progress_begin(&run.progress, w->db, run.id) != 0) {
		free(trigger);
		return -1;
	}
	pts_log_set_run(run.id);
	PTS_INFO("sync started (%s%s%s)", run.trigger, run.dry_run ? ", dry run" : "",
	    run.full ? ", full" : "");
	rc = pts_engine_run(w, &run);
	if (rc == 1 && w->term != NULL && *w->term)
		syncrun_finish(w, &run, "queued", "interrupted by a worker shutdown");
	else if (rc == 1)
		syncrun_finish(w, &run, "cancelled", "stopped on request");
	else if (rc == 0)
		syncrun_finish(w, &run, "ok", NULL);
	else
		syncrun_finish(w, &run, "failed", run.message[0] ? run.message :
		    "the sync failed: see the log");
	pts_log_set_run(0);
	free(trigger);
	return rc;
}

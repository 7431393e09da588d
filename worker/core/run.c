/*
 * run.c - the run record: begin, counters, the one ending of every run.
 */
#include "run.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "jsonx.h"
#include "log.h"

/* The closing messages a run gets when its job set none. */
#define RUN_MSG_SHUTDOWN "interrupted by a worker shutdown"
#define RUN_MSG_CANCELLED "stopped on request"

static const char *const run_kind_names[] = {
	[PTS_RUN_SYNC] = "sync",
	[PTS_RUN_WEBHOOK] = "webhook",
	[PTS_RUN_UNDO] = "undo",
	[PTS_RUN_SCROBBLE] = "scrobble"
};

static int
run_stopping(const struct pts_wctx *w)
{
	return w->term != NULL && *w->term;
}

int
pts_run_begin(struct pts_run *run, struct pts_wctx *w, enum pts_run_kind kind)
{
	char *trigger = NULL;
	int64_t dry = 0, full = 0;

	memset(run, 0, sizeof(*run));
	run->id = w->run_id;
	run->kind = kind;
	if (run->id == 0) {
		PTS_ERROR("%s job %lld has no run", run_kind_names[kind], (long long)w->job_id);
		return -1;
	}
	if (pts_db_text(w->db, &trigger, "SELECT trigger FROM runs WHERE id = ?", "i", run->id) != 0 ||
	    pts_db_int(w->db, &dry, 0, "SELECT dry_run FROM runs WHERE id = ?", "i", run->id) != 0 ||
	    pts_db_int(w->db, &full, 0, "SELECT full FROM runs WHERE id = ?", "i", run->id) != 0) {
		free(trigger);
		return -1;
	}
	snprintf(run->trigger, sizeof(run->trigger), "%s", trigger != NULL ? trigger : "manual");
	free(trigger);
	run->dry_run = dry != 0;
	run->full = full != 0;
	if (pts_db_run(w->db, "UPDATE runs SET status = 'running', started_at = COALESCE(started_at,"
	    " ?), message = NULL, warnings = NULL WHERE id = ?", "ii", pts_now(), run->id) != 0 ||
	    pts_progress_begin(&run->progress, w->db, run->id) != 0)
		return -1;
	pts_log_set_run(run->id);
	return 0;
}

int
pts_run_save_counts(struct pts_run *run)
{
	if (run->kind == PTS_RUN_UNDO)
		return pts_db_run(run->progress.db, "UPDATE runs SET removed_from_trakt = ?,"
		    " ratings_changed = ?, watchlist_changed = ?, not_found = ?, errors = ? WHERE id = ?",
		    "iiiiii", run->removed_from_trakt, run->ratings_changed, run->watchlist_changed,
		    run->not_found, run->errors, run->id);
	/* The features' own counters (ratings_changed, ...) are theirs: not written here. */
	return pts_db_run(run->progress.db, "UPDATE runs SET added_to_trakt = ?, added_to_plex = ?,"
	    " not_found = ?, unmatched = ?, errors = ? WHERE id = ?", "iiiiii", run->added_to_trakt,
	    run->added_to_plex, run->not_found, run->unmatched, run->errors, run->id);
}

void
pts_run_message(struct pts_run *run, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(run->message, sizeof(run->message), fmt, ap);
	va_end(ap);
}

int
pts_run_warn(struct pts_run *run, const char *fmt, ...)
{
	char text[PTS_RUN_MESSAGE_MAX];
	json_object *a;
	const char *js;
	size_t i;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	PTS_WARN("%s", text);
	if (run->nwarnings >= PTS_RUN_WARN_MAX)
		return 0;
	snprintf(run->warnings[run->nwarnings++], PTS_RUN_MESSAGE_MAX, "%s", text);
	if ((a = json_object_new_array()) == NULL)
		return -1;
	for (i = 0; i < run->nwarnings; i++)
		json_object_array_add(a, json_object_new_string(run->warnings[i]));
	js = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN);
	rc = pts_db_run(run->progress.db, "UPDATE runs SET warnings = ? WHERE id = ?", "si", js,
	    run->id);
	json_object_put(a);
	if (rc != 0)
		PTS_ERROR("run %lld: its warning could not be stored", (long long)run->id);
	return rc;
}

const char *
pts_run_status(struct pts_wctx *w, int rc)
{
	if (rc == PTS_JOB_DONE)
		return "ok";
	if (rc == PTS_JOB_CANCELLED)
		return run_stopping(w) ? "queued" : "cancelled";
	return "failed";
}

/* The ending's log line: a sync's counters, another run's message. */
static void
run_log_end(const struct pts_run *run, const char *status, const char *msg, int64_t secs)
{
	if (strcmp(status, "queued") == 0) {
		PTS_INFO("%s interrupted after %llds: it resumes when the worker starts again",
		    run_kind_names[run->kind], (long long)secs);
		return;
	}
	if (run->kind != PTS_RUN_SYNC) {
		PTS_INFO("%s %s: %s", run_kind_names[run->kind], status, msg != NULL ? msg :
		    "nothing to report");
		return;
	}
	PTS_INFO("sync %s in %llds: %lld scanned, %lld added to Trakt, %lld marked in Plex,"
	    " %lld not found, %lld unmatched, %lld errors%s", status, (long long)secs,
	    (long long)run->progress.overall_done, (long long)run->added_to_trakt,
	    (long long)run->added_to_plex, (long long)run->not_found, (long long)run->unmatched,
	    (long long)run->errors, run->dry_run ? " (dry run: nothing written)" : "");
}

int
pts_run_end(struct pts_run *run, struct pts_wctx *w, int rc)
{
	int64_t secs = (pts_now_ms() - run->progress.started_ms) / 1000;
	const char *status, *msg = run->message[0] != '\0' ? run->message : NULL;
	char fallback[64];

	/* A step that failed because the job was being stopped: the run was cancelled. */
	if (rc != PTS_JOB_DONE && rc != PTS_JOB_CANCELLED && pts_wctx_cancelled(w))
		rc = PTS_JOB_CANCELLED;
	if (rc != PTS_JOB_DONE && rc != PTS_JOB_CANCELLED)
		rc = PTS_JOB_FAILED;
	status = pts_run_status(w, rc);
	if (strcmp(status, "queued") == 0) {
		msg = RUN_MSG_SHUTDOWN;
	} else if (msg == NULL && rc == PTS_JOB_CANCELLED) {
		msg = RUN_MSG_CANCELLED;
	} else if (msg == NULL && rc == PTS_JOB_FAILED) {
		snprintf(fallback, sizeof(fallback), "the %s failed: see the log",
		    run_kind_names[run->kind]);
		msg = fallback;
	}
	(void)pts_progress_flush(&run->progress, 1);
	if (pts_run_save_counts(run) != 0)
		PTS_WARN("run %lld: its counters could not be saved", (long long)run->id);
	if (strcmp(status, "queued") == 0) {
		if (pts_db_run(w->db, "UPDATE runs SET status = 'queued', message = ? WHERE id = ?",
		    "si", msg, run->id) != 0)
			PTS_ERROR("run %lld: could not be queued again", (long long)run->id);
	} else if (pts_db_run(w->db, "UPDATE runs SET status = ?, finished_at = ?, message = ?"
	    " WHERE id = ?", "sisi", status, pts_now(), msg, run->id) != 0) {
		PTS_ERROR("run %lld: its end (%s) could not be recorded", (long long)run->id, status);
	}
	run_log_end(run, status, msg, secs);
	pts_log_set_run(0);
	return rc;
}

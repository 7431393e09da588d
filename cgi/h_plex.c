/*
 * h_plex.c - GET /api/plex/in-progress: Plex "Continue Watching" from the worker's cache.
 * A read of a cache older than PLEX_STALE_S also queues a refresh (allowed for this GET by
 * the contract), so the list the UI polls stays fresh without a separate call.
 */
#include "handler.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "jobs.h"
#include "jsonx.h"
#include "log.h"
#include "rows.h"

/* A cache older than this asks the worker for a fresh copy. */
#define PLEX_STALE_S 30

/*
 * Queue a refresh when the cache is stale and Plex is signed in. 1 when a refresh is under
 * way: queued by this read or an earlier one, or already running (the cache's time moves only
 * when a refresh ends, so every read during a slow one would otherwise queue another).
 */
static int
plex_maybe_refresh(sqlite3 *db, int64_t fetched)
{
	char *state = NULL;
	int64_t busy = 0;
	int authorized;

	if (fetched > 0 && pts_now() - fetched <= PLEX_STALE_S)
		return 0;
	if (pts_db_int(db, &busy, 0, "SELECT COUNT(*) FROM jobs WHERE kind = ? AND state IN"
	    " ('queued','running') AND profile = pts_profile()", "s",
	    PTS_JOB_PLEX_IN_PROGRESS_REFRESH) != 0)
		return 0;
	if (busy > 0)
		return 1;
	if (pts_db_text(db, &state, "SELECT state FROM auth WHERE service = 'plex'", "") != 0)
		return 0;
	authorized = state != NULL && strcmp(state, "authorized") == 0;
	free(state);
	if (!authorized)
		return 0;
	if (pts_jobs_enqueue_once(db, PTS_JOB_PLEX_IN_PROGRESS_REFRESH, NULL, NULL) != 0) {
		pts_log(PTS_LOG_WARN, "plex in-progress: cannot queue a refresh");
		return 0;
	}
	return 1;
}

/* One entry of the plex_in_progress cache. */
static json_object *
plex_item(sqlite3_stmt *st, void *arg)
{
	json_object *i = json_object_new_object();

	(void)arg;
	rows_add_text(i, "type", st, 0);
	rows_add_text(i, "title", st, 1);
	rows_add_text(i, "show", st, 2);
	rows_add_int(i, "season", st, 3);
	rows_add_int(i, "episode", st, 4);
	rows_add_int(i, "year", st, 5);
	rows_add_real_col(i, "progress_percent", st, 6, 1);
	rows_add_time(i, "last_viewed_at", st, 7);
	rows_add_text(i, "poster", st, 8);
	return i;
}

void
h_plex_in_progress_get(struct hctx *ctx)
{
	/* Posters are same-origin paths; an older version's TMDb URL (the CSP refuses it) is null. */
	sqlite3_stmt *st = pts_db_prepare(ctx->db, "SELECT type, title, show, season, episode,"
	    " year, progress_percent, last_viewed_at,"
	    " CASE WHEN substr(poster, 1, 9) = '/posters/' THEN poster END"
	    " FROM plex_in_progress ORDER BY pos");
	json_object *o, *a;
	int64_t fetched = 0;
	int refreshing;

	if (st == NULL || rows_meta_epoch(ctx->db, "plex_in_progress_fetched_at", &fetched) != 0) {
		sqlite3_finalize(st);
		resp_internal(ctx->resp);
		return;
	}
	if ((a = rows_array(ctx->db, st, plex_item, NULL, 0, NULL)) == NULL) {
		resp_internal(ctx->resp);
		return;
	}
	refreshing = plex_maybe_refresh(ctx->db, fetched);
	o = json_object_new_object();
	json_object_object_add(o, "items", a);
	pts_json_add_time(o, "fetched_at", fetched);
	if (rows_add_job_state(ctx->db, PTS_JOB_PLEX_IN_PROGRESS_REFRESH, o) != 0) {
		json_object_put(o);
		resp_internal(ctx->resp);
		return;
	}
	/* A refresh this read queued counts even before the worker has seen it. */
	if (refreshing)
		pts_json_add_bool(o, "refreshing", 1);
	resp_json(ctx->resp, 200, o);
}

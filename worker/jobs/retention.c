/*
 * retention.c - pruning old runs and what hangs off them (see retention.h).
 */
#include "retention.h"

#include "db.h"
#include "log.h"
#include "settings.h"

/* The runs to prune: older than the keep-th newest, and finished. */
#define RET_PRUNED "(SELECT id FROM runs WHERE id < ?1 AND status NOT IN ('queued','running'))"
/* A change the no-duplicate ledger still counts (pts_ledger_blocked). */
#define RET_LEDGER "(result IN ('done','pending','unknown') AND undone_by IS NULL)"

/* Each statement takes the cutoff run id as ?1. */
static const char *const ret_steps[] = {
	"DELETE FROM changes WHERE run_id IN " RET_PRUNED " AND NOT " RET_LEDGER,
	"DELETE FROM batches WHERE run_id IN " RET_PRUNED " AND NOT EXISTS (SELECT 1 FROM changes"
	    " WHERE changes.batch_id = batches.id)",
	"DELETE FROM log WHERE run_id IN " RET_PRUNED,
	"DELETE FROM rate_samples WHERE run_id IN " RET_PRUNED,
	"DELETE FROM progress WHERE run_id IN " RET_PRUNED,
	"DELETE FROM jobs WHERE run_id IN " RET_PRUNED " AND state NOT IN ('queued','running')"
	    " AND profile = pts_profile()",
	NULL
};

int
pts_retention_prune(sqlite3 *db, int64_t keep)
{
	int64_t cutoff = 0, pruned = 0, free_cut = 0;
	int i;

	if (keep <= 0)
		keep = pts_settings_get_int(db, PTS_KEY_HISTORY_KEEP_RUNS);
	if (keep <= 0)
		return 0;
	/* The keep-th newest run: everything older may go. */
	if (pts_db_int(db, &cutoff, 0, "SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?", "i",
	    keep - 1) != 0)
		return -1;
	if (pts_db_int(db, &free_cut, 0, "SELECT id FROM log WHERE run_id IS NULL ORDER BY id DESC"
	    " LIMIT 1 OFFSET ?", "i", (int64_t)PTS_RETENTION_FREE_LOG_MAX) != 0)
		return -1;
	if (pts_db_begin(db) != 0)
		return -1;
	if (cutoff > 0) {
		for (i = 0; ret_steps[i] != NULL; i++)
			if (pts_db_run(db, ret_steps[i], "i", cutoff) != 0)
				goto fail;
		if (pts_db_run(db, "DELETE FROM runs WHERE id < ? AND status NOT IN"
		    " ('queued','running')", "i", cutoff) != 0)
			goto fail;
		pruned = sqlite3_changes(db);
	}
	if (pts_db_run(db, "DELETE FROM jobs WHERE run_id IS NULL AND state IN"
	    " ('done','failed','cancelled') AND profile = pts_profile() AND"
	    " COALESCE(finished_at, created_at) < ?", "i",
	    pts_now() - PTS_RETENTION_JOB_AGE_S) != 0 ||
	    (free_cut > 0 && pts_db_run(db, "DELETE FROM log WHERE run_id IS NULL AND id <= ?", "i",
	    free_cut) != 0) ||
	    pts_db_commit(db) != 0)
		goto fail;
	if (pruned > 0) {
		PTS_INFO("retention: deleted %lld old runs (keeping the newest %lld)",
		    (long long)pruned, (long long)keep);
		/* Readers may hold the WAL: then it is truncated at a later prune. */
		if (sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
			PTS_WARN("retention: wal_checkpoint: %s", sqlite3_errmsg(db));
	}
	return (int)pruned;
fail:
	PTS_ERROR("retention: pruning failed: %s", sqlite3_errmsg(db));
	pts_db_rollback(db);
	return -1;
}

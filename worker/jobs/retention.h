/*
 * retention.h - what the database keeps: the newest history_keep_runs runs (setting) with
 * their changes, log lines, jobs, progress rows, rate samples and batches; older ones go.
 *
 * Ledger rows are the exception: a change a pruned run really made upstream (result done,
 * pending or unknown, not undone) stays, because pts_ledger_blocked() consults exactly those
 * rows to never send the same play (or mark, rating...) twice; its batch stays while it does.
 * Those rows grow only with real writes (one per play added), not with runs, dry runs or
 * log lines. Finished jobs without a run and log lines without a run are bounded too, and
 * the WAL is truncated after a prune so the files on disk stay bounded.
 */
#ifndef PTS_RETENTION_H
#define PTS_RETENTION_H

#include <sqlite3.h>
#include <stdint.h>

/* Finished jobs that own no run are deleted this long after they ended. */
#define PTS_RETENTION_JOB_AGE_S (7 * 86400)
/* Log lines that belong to no run (sign-ins, refreshes, worker start): the newest kept. */
#define PTS_RETENTION_FREE_LOG_MAX 20000

/*
 * Prune after a run ended: runs beyond the newest `keep` (queued and running ones are never
 * touched) and everything keyed by them but ledger rows; old run-less jobs and log lines;
 * then wal_checkpoint(TRUNCATE). keep <= 0 reads the history_keep_runs setting. Returns the
 * number of runs deleted, or -1 on a database error (logged; nothing deleted).
 */
int pts_retention_prune(sqlite3 *db, int64_t keep);

#endif

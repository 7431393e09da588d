/*
 * h_metrics.c - GET /api/metrics: Prometheus text exposition (format 0.0.4), the one answer
 * that is not JSON. Counters are sums over the runs and api_counters tables.
 */
#include "handler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

#define METRICS_CTYPE "text/plain; version=0.0.4; charset=utf-8"
/* The worker counts as up while its heartbeat is this fresh (as in GET /api/health). */
#define METRICS_WORKER_STALE_S 15
#define METRICS_STR_(x) #x
#define METRICS_STR(x) METRICS_STR_(x)

static void
metrics_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \, " and newline escaped as the format asks. */
static void
metrics_label(FILE *f, const char *v)
{
	for (; v != NULL && *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

/* pts_runs_total{status} with every status present, zero or not. 0 or -1. */
static int
metrics_runs(sqlite3 *db, FILE *f)
{
	static const char *const statuses[] = { "ok", "failed", "cancelled", "running", NULL };
	int i;

	metrics_head(f, "pts_runs_total", "counter",
	    "Runs (syncs, webhook plays, undos) by status; queued counts as running.");
	for (i = 0; statuses[i] != NULL; i++) {
		int64_t n = 0;

		if (pts_db_int(db, &n, 0, "SELECT COUNT(*) FROM runs WHERE status = ?"
		    " OR (? = 'running' AND status = 'queued')", "ss", statuses[i], statuses[i]) != 0)
			return -1;
		fprintf(f, "pts_runs_total{status=\"%s\"} %lld\n", statuses[i], (long long)n);
	}
	return 0;
}

/* The per-service upstream counters. 0 or -1. */
static int
metrics_upstream(sqlite3 *db, FILE *f)
{
	static const struct {
		const char *name, *help;
	} m[] = {
		{ "pts_upstream_calls_total", "HTTP calls to an upstream service." },
		{ "pts_upstream_retries_total", "Retried upstream calls." },
		{ "pts_upstream_rate_limited_total", "Upstream answers of 429 Too Many Requests." },
		{ "pts_upstream_errors_total", "Upstream calls that failed for good." },
	};
	sqlite3_stmt *st;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		st = pts_db_prepare(db, "SELECT service, calls, retries, rate_limited, errors"
		    " FROM api_counters ORDER BY service");
		if (st == NULL)
			return -1;
		metrics_head(f, m[i].name, "counter", m[i].help);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			fprintf(f, "%s{service=\"", m[i].name);
			metrics_label(f, (const char *)sqlite3_column_text(st, 0));
			fprintf(f, "\"} %lld\n", (long long)sqlite3_column_int64(st, (int)i + 1));
		}
		if (rc != SQLITE_DONE) {
			pts_log(PTS_LOG_ERROR, "metrics: %s", sqlite3_errmsg(db));
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_finalize(st);
	}
	return 0;
}

/* One gauge or counter from a single-value query. 0 or -1. */
static int
metrics_one(sqlite3 *db, FILE *f, const char *name, const char *type, const char *help,
    const char *label, const char *sql)
{
	int64_t n = 0;

	if (pts_db_int(db, &n, 0, sql, "") != 0)
		return -1;
	if (help != NULL)
		metrics_head(f, name, type, help);
	fprintf(f, "%s%s %lld\n", name, label ? label : "", (long long)n);
	return 0;
}

static int
metrics_write(sqlite3 *db, FILE *f)
{
	if (metrics_runs(db, f) != 0 ||
	    metrics_one(db, f, "pts_items_scanned_total", "counter",
	    "Plex items looked at by all runs (a webhook run looks at one).", NULL,
	    "SELECT COALESCE(SUM(items_scanned), 0) FROM runs") != 0 ||
	    metrics_one(db, f, "pts_plays_added_total", "counter",
	    "Plays written by syncs and webhooks (dry runs excluded).", "{target=\"trakt\"}",
	    "SELECT COALESCE(SUM(added_to_trakt), 0) FROM runs WHERE dry_run = 0") != 0 ||
	    metrics_one(db, f, "pts_plays_added_total", NULL, NULL, "{target=\"plex\"}",
	    "SELECT COALESCE(SUM(added_to_plex), 0) FROM runs WHERE dry_run = 0") != 0 ||
	    metrics_upstream(db, f) != 0 ||
	    metrics_one(db, f, "pts_last_success_timestamp_seconds", "gauge",
	    "When the last successful sync finished (0: never).", NULL,
	    /* A sync, not a webhook's one play or an undo: an alert on a stale sync stays true. */
	    "SELECT COALESCE(MAX(finished_at), 0) FROM runs WHERE status = 'ok'"
	    " AND trigger IN ('manual','schedule')") != 0 ||
	    metrics_one(db, f, "pts_trakt_token_expiry_timestamp_seconds", "gauge",
	    "When the Trakt access token expires (0: not signed in).", NULL,
	    "SELECT COALESCE(MAX(token_expires_at), 0) FROM auth WHERE service = 'trakt'"
	    " AND access_token IS NOT NULL") != 0 ||
	    metrics_one(db, f, "pts_worker_up", "gauge",
	    "1 while the worker's heartbeat is fresh.", NULL,
	    "SELECT COUNT(*) FROM heartbeat WHERE id = 1 AND last_seen >="
	    " CAST(strftime('%s', 'now') AS INTEGER) - " METRICS_STR(METRICS_WORKER_STALE_S)) != 0)
		return -1;
	return 0;
}

void
h_metrics_get(struct hctx *ctx)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (f == NULL) {
		pts_log(PTS_LOG_ERROR, "metrics: open_memstream failed");
		resp_internal(ctx->resp);
		return;
	}
	rc = metrics_write(ctx->db, f);
	if (fclose(f) != 0 || rc != 0) {
		free(buf);
		resp_internal(ctx->resp);
		return;
	}
	resp_text(ctx->resp, 200, METRICS_CTYPE, buf, len);
}

/*
 * h_metrics.c - GET /api/metrics: Prometheus text exposition (format 0.0.4), the one answer
 * that is not JSON. Counters are sums over the runs and api_counters tables.
 *
 * Households: a per-person family (runs, items, plays, last success, token expiry) has the
 * owner's lines without a profile label, exactly as before profiles existed, then one line
 * per other profile with profile="N" first among its labels, so sum() is the household's.
 */
#include "handler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "dbconn.h"
#include "dbprofile.h"
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

/* The profiles whose lines a per-person family has (the owner first). */
struct metrics_people {
	int64_t ids[PTS_PROFILES_MAX];
	int n;
};

/*
 * The handle of the p-th profile, asked for at each use: the process keeps a few profiles'
 * handles (dbconn.h), so one taken earlier may have been closed since. NULL when it is gone.
 */
static sqlite3 *
metrics_db(const struct metrics_people *pp, int p)
{
	sqlite3 *pdb = NULL;

	return dbc_profile(pp->ids[p], &pdb) == 0 ? pdb : NULL;
}

/* `{profile="N",` + rest + `}` (or `{rest}`, or nothing) for profile id into buf. */
static void
metrics_labels(char *buf, size_t len, int64_t id, const char *rest)
{
	if (id == PTS_PROFILE_OWNER)
		snprintf(buf, len, "%s%s%s", rest[0] ? "{" : "", rest, rest[0] ? "}" : "");
	else
		snprintf(buf, len, "{profile=\"%lld\"%s%s}", (long long)id, rest[0] ? "," : "",
		    rest);
}

/* pts_runs_total{status} with every status present, zero or not, per profile. 0 or -1. */
static int
metrics_runs(const struct metrics_people *pp, FILE *f)
{
	static const char *const statuses[] = { "ok", "failed", "cancelled", "running", NULL };
	char rest[48], labels[96];
	int i, p;

	metrics_head(f, "pts_runs_total", "counter",
	    "Runs (syncs, webhook plays, undos) by status; queued counts as running.");
	for (p = 0; p < pp->n; p++)
		for (i = 0; statuses[i] != NULL; i++) {
			sqlite3 *pdb = metrics_db(pp, p);
			int64_t n = 0;

			if (pdb == NULL)
				break;
			if (pts_db_int(pdb, &n, 0, "SELECT COUNT(*) FROM runs WHERE status = ?"
			    " OR (? = 'running' AND status = 'queued')", "ss", statuses[i],
			    statuses[i]) != 0)
				return -1;
			snprintf(rest, sizeof(rest), "status=\"%s\"", statuses[i]);
			metrics_labels(labels, sizeof(labels), pp->ids[p], rest);
			fprintf(f, "pts_runs_total%s %lld\n", labels, (long long)n);
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

/* One gauge or counter from a single-value query on db. 0 or -1. */
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

/* A per-person series: its head when help is set, then one line per profile. 0 or -1. */
static int
metrics_person(const struct metrics_people *pp, FILE *f, const char *name, const char *type,
    const char *help, const char *rest, const char *sql)
{
	char labels[96];
	int p;

	for (p = 0; p < pp->n; p++) {
		sqlite3 *pdb = metrics_db(pp, p);

		if (pdb == NULL)
			continue;
		metrics_labels(labels, sizeof(labels), pp->ids[p], rest);
		if (metrics_one(pdb, f, name, type, p == 0 ? help : NULL, labels, sql) != 0)
			return -1;
	}
	return 0;
}

static int
metrics_write(sqlite3 *db, const struct metrics_people *pp, FILE *f)
{
	if (metrics_runs(pp, f) != 0 ||
	    metrics_person(pp, f, "pts_items_scanned_total", "counter",
	    "Plex items looked at by all runs (a webhook run looks at one).", "",
	    "SELECT COALESCE(SUM(items_scanned), 0) FROM runs") != 0 ||
	    metrics_person(pp, f, "pts_plays_added_total", "counter",
	    "Plays written by syncs and webhooks (dry runs excluded).", "target=\"trakt\"",
	    "SELECT COALESCE(SUM(added_to_trakt), 0) FROM runs WHERE dry_run = 0") != 0 ||
	    metrics_person(pp, f, "pts_plays_added_total", NULL, NULL, "target=\"plex\"",
	    "SELECT COALESCE(SUM(added_to_plex), 0) FROM runs WHERE dry_run = 0") != 0 ||
	    metrics_upstream(db, f) != 0 ||
	    metrics_person(pp, f, "pts_last_success_timestamp_seconds", "gauge",
	    "When the last successful sync finished (0: never).", "",
	    /* A sync, not a webhook's one play or an undo: an alert on a stale sync stays true. */
	    "SELECT COALESCE(MAX(finished_at), 0) FROM runs WHERE status = 'ok'"
	    " AND trigger IN ('manual','schedule')") != 0 ||
	    metrics_person(pp, f, "pts_trakt_token_expiry_timestamp_seconds", "gauge",
	    "When the Trakt access token expires (0: not signed in).", "",
	    "SELECT COALESCE(MAX(token_expires_at), 0) FROM auth WHERE service = 'trakt'"
	    " AND access_token IS NOT NULL") != 0 ||
	    metrics_one(db, f, "pts_worker_up", "gauge",
	    "1 while the worker's heartbeat is fresh.", NULL,
	    "SELECT COUNT(*) FROM heartbeat WHERE id = 1 AND last_seen >="
	    " CAST(strftime('%s', 'now') AS INTEGER) - " METRICS_STR(METRICS_WORKER_STALE_S)) != 0)
		return -1;
	return 0;
}

/* Every profile's id, the owner's first (always there). 0 or -1. */
static int
metrics_people(sqlite3 *db, struct metrics_people *pp)
{
	pp->n = pts_db_profile_ids(db, PTS_PROFILE_OWNER, pp->ids, PTS_PROFILES_MAX);
	return pp->n > 0 && pp->ids[0] == PTS_PROFILE_OWNER ? 0 : -1;
}

void
h_metrics_get(struct hctx *ctx)
{
	struct metrics_people pp;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (f == NULL) {
		pts_log(PTS_LOG_ERROR, "metrics: open_memstream failed");
		resp_internal(ctx->resp);
		return;
	}
	rc = metrics_people(ctx->db, &pp) != 0 ? -1 : metrics_write(ctx->db, &pp, f);
	if (fclose(f) != 0 || rc != 0) {
		free(buf);
		resp_internal(ctx->resp);
		return;
	}
	resp_text(ctx->resp, 200, METRICS_CTYPE, buf, len);
}

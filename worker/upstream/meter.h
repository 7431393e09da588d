/*
 * meter.h - call metering: calls, retries, rate limits and errors per service, calls per
 * endpoint.
 *
 * Services are named as in the api_counters table ("plex", "plextv", "trakt", "tmdb"; the
 * HTTP layer passes pts_http_svc_name()). Counts are kept in memory and added to api_counters
 * at most once per PTS_METER_FLUSH_MS by pts_meter_flush(db, 0) (called from within
 * requests) and at once by pts_meter_flush(db, 1), which job code calls when it ends.
 * Per-endpoint call counts ("GET /library/sections/1/all") stay in memory for benchmarks and
 * tests.
 *
 * Process-wide state, not thread-safe (the worker is single-threaded; a forked job child
 * counts its own calls and flushes them itself).
 */
#ifndef PTS_METER_H
#define PTS_METER_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

/* api_counters written at most this often from within requests. */
#define PTS_METER_FLUSH_MS 1000
/* Services counted (names beyond this many are not counted: a programming error, logged). */
#define PTS_METER_MAX_SVCS 8
/* Longest service name. */
#define PTS_METER_SVC_LEN 16
/* Endpoint keys counted in memory; the last slot holds the rest as "METHOD (other)". */
#define PTS_METER_MAX_ENDPOINTS 256
/* Longest endpoint key ("METHOD /path") kept; longer ones are cut. */
#define PTS_METER_KEY_LEN 192

struct pts_meter_counts {
	int64_t calls, retries, rate_limited, errors;
};

/* Add to a service's counts (totals and what is not yet in api_counters). */
void pts_meter_count(const char *svc, int calls, int retries, int limited, int errors);
/* One call to "METHOD path" (path without its query) of svc. */
void pts_meter_endpoint(const char *svc, const char *method, const char *path);

/*
 * Add the in-memory counts to api_counters (one UPSERT per service that changed) and zero
 * them. force=0 does nothing when the last flush was under PTS_METER_FLUSH_MS ago. db NULL:
 * nothing is written (counts are kept). 0, or -1 when a write failed (those counts are kept
 * for the next flush).
 */
int pts_meter_flush(sqlite3 *db, int force);

/* Totals of svc since the process started (not reset by flushing); zero when never counted. */
void pts_meter_counts(const char *svc, struct pts_meter_counts *out);

/*
 * Per-endpoint calls since the start or the last reset, printed one per line as
 * "<prefix><count> <svc> <METHOD> <path>", sorted by service and key (prefix "# " keeps them
 * comments in TAP output).
 */
void pts_meter_endpoints_print(FILE *f, const char *prefix);
/* Calls to "METHOD path" across services. */
int64_t pts_meter_endpoint_calls(const char *method, const char *path);
void pts_meter_endpoints_reset(void);

#endif

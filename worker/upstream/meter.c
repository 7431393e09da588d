/*
 * meter.c - call metering: counts per service and per endpoint, flushed to api_counters.
 */
#include "meter.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

struct meter_svc {
	char name[PTS_METER_SVC_LEN];
	struct pts_meter_counts total;    /* since start */
	struct pts_meter_counts pending;  /* not yet in api_counters */
};

struct meter_ep {
	char key[PTS_METER_KEY_LEN];
	char svc[PTS_METER_SVC_LEN];
	int64_t calls;
};

static struct meter_svc meter_svcs[PTS_METER_MAX_SVCS];
static int meter_nsvcs;
static struct meter_ep meter_eps[PTS_METER_MAX_ENDPOINTS];
static int meter_neps;
static int64_t meter_last_flush_ms;

/* The service's slot, added when new; NULL when the table is full or the name too long. */
static struct meter_svc *
meter_svc(const char *svc)
{
	int i;

	for (i = 0; i < meter_nsvcs; i++)
		if (strcmp(meter_svcs[i].name, svc) == 0)
			return &meter_svcs[i];
	if (meter_nsvcs == PTS_METER_MAX_SVCS || strlen(svc) >= PTS_METER_SVC_LEN) {
		PTS_ERROR("meter: service \"%s\" not counted (table full or name too long)", svc);
		return NULL;
	}
	snprintf(meter_svcs[meter_nsvcs].name, PTS_METER_SVC_LEN, "%s", svc);
	return &meter_svcs[meter_nsvcs++];
}

void
pts_meter_count(const char *svc, int calls, int retries, int limited, int errors)
{
	struct meter_svc *s = meter_svc(svc);

	if (s == NULL)
		return;
	s->total.calls += calls;
	s->pending.calls += calls;
	s->total.retries += retries;
	s->pending.retries += retries;
	s->total.rate_limited += limited;
	s->pending.rate_limited += limited;
	s->total.errors += errors;
	s->pending.errors += errors;
}

/* One more call to key of svc: 1 when the key was there. */
static int
meter_ep_add(const char *svc, const char *key)
{
	int i;

	for (i = 0; i < meter_neps; i++)
		if (strcmp(meter_eps[i].svc, svc) == 0 && strcmp(meter_eps[i].key, key) == 0) {
			meter_eps[i].calls++;
			return 1;
		}
	return 0;
}

void
pts_meter_endpoint(const char *svc, const char *method, const char *path)
{
	char key[PTS_METER_KEY_LEN];

	if (snprintf(key, sizeof(key), "%s %s", method, path) >= (int)sizeof(key))
		PTS_DEBUG("endpoint key cut: %s", key);
	if (meter_ep_add(svc, key))
		return;
	/*
	 * The last slot is kept for the rest: "METHOD (other)" rather than a table that grows
	 * without bound (once that slot is taken too, any other method's calls join it).
	 */
	if (meter_neps >= PTS_METER_MAX_ENDPOINTS - 1) {
		snprintf(key, sizeof(key), "%s (other)", method);
		if (meter_ep_add(svc, key))
			return;
		if (meter_neps == PTS_METER_MAX_ENDPOINTS) {
			meter_eps[PTS_METER_MAX_ENDPOINTS - 1].calls++;
			return;
		}
	}
	snprintf(meter_eps[meter_neps].key, PTS_METER_KEY_LEN, "%s", key);
	snprintf(meter_eps[meter_neps].svc, PTS_METER_SVC_LEN, "%s", svc);
	meter_eps[meter_neps].calls = 1;
	meter_neps++;
}

int
pts_meter_flush(sqlite3 *db, int force)
{
	int64_t now = pts_now_ms();
	int i, rc = 0;

	if (db == NULL || (!force && now - meter_last_flush_ms < PTS_METER_FLUSH_MS))
		return 0;
	meter_last_flush_ms = now;
	for (i = 0; i < meter_nsvcs; i++) {
		struct pts_meter_counts *p = &meter_svcs[i].pending;

		if (p->calls == 0 && p->retries == 0 && p->rate_limited == 0 && p->errors == 0)
			continue;
		if (pts_db_run(db, "INSERT INTO api_counters(service, calls, retries, rate_limited,"
		    " errors) VALUES(?, ?, ?, ?, ?) ON CONFLICT(service) DO UPDATE SET"
		    " calls = calls + excluded.calls, retries = retries + excluded.retries,"
		    " rate_limited = rate_limited + excluded.rate_limited,"
		    " errors = errors + excluded.errors", "siiii", meter_svcs[i].name, p->calls,
		    p->retries, p->rate_limited, p->errors) != 0) {
			rc = -1;   /* kept: added at the next flush */
			continue;
		}
		memset(p, 0, sizeof(*p));
	}
	return rc;
}

void
pts_meter_counts(const char *svc, struct pts_meter_counts *out)
{
	int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < meter_nsvcs; i++)
		if (strcmp(meter_svcs[i].name, svc) == 0)
			*out = meter_svcs[i].total;
}

static int
meter_ep_cmp(const void *a, const void *b)
{
	const struct meter_ep *x = a, *y = b;
	int c = strcmp(x->svc, y->svc);

	return c != 0 ? c : strcmp(x->key, y->key);
}

void
pts_meter_endpoints_print(FILE *f, const char *prefix)
{
	int i;

	qsort(meter_eps, (size_t)meter_neps, sizeof(meter_eps[0]), meter_ep_cmp);
	for (i = 0; i < meter_neps; i++)
		fprintf(f, "%s%6lld %-6s %s\n", prefix ? prefix : "", (long long)meter_eps[i].calls,
		    meter_eps[i].svc, meter_eps[i].key);
}

int64_t
pts_meter_endpoint_calls(const char *method, const char *path)
{
	char key[PTS_METER_KEY_LEN];
	int64_t n = 0;
	int i;

	if (snprintf(key, sizeof(key), "%s %s", method, path) >= (int)sizeof(key))
		return 0;
	for (i = 0; i < meter_neps; i++)
		if (strcmp(meter_eps[i].key, key) == 0)
			n += meter_eps[i].calls;
	return n;
}

void
pts_meter_endpoints_reset(void)
{
	memset(meter_eps, 0, sizeof(meter_eps));
	meter_neps = 0;
}

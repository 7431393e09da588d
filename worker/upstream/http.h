/*
 * http.h - the one HTTP layer every upstream client uses (libcurl + json-c).
 *
 * One curl handle per service is kept for the life of the process (keep-alive), and every
 * transfer is configured in one function: connect and total timeouts, TLS verification,
 * NOSIGNAL, an error buffer, our User-Agent, a cap on response bytes and a progress callback
 * that aborts when the job is cancelled.
 *
 * Redirects are never followed, for any service. Every request carries a credential (Plex's
 * and plex.tv's X-Plex-Token, Trakt's trakt-api-key and bearer token, the OAuth client_secret
 * and refresh_token in POST bodies, TMDb's api_key) and libcurl re-sends custom headers and a
 * 307/308's body to whatever host the Location names. None of the APIs we call redirects
 * (nor does TMDb's image host, where poster images are fetched), so a 3xx is a final
 * PTS_HTTP_HTTP_ERROR, not retried, with resp->error "<Service> answered 302: redirect to
 * <target> refused" (target without its query string).
 *
 * Retry policy, all here:
 *   - network errors, 5xx and Cloudflare 520-524: exponential backoff with jitter, at most
 *     PTS_HTTP_MAX_TRIES attempts;
 *   - 429: wait Retry-After as given, never less (a retry sooner only earns another 429),
 *     shown as the run's waiting state (reason "rate_limit") and stoppable, at most
 *     PTS_HTTP_MAX_429 times; one longer than PTS_HTTP_RETRY_AFTER_MAX_S is not waited for:
 *     the call fails (HTTP_ERROR) and is not sent again early;
 *   - PTS_HTTP_NON_IDEMPOTENT requests (Trakt history add/remove, token refresh) are never
 *     sent again once they may have reached the server: a timeout, a dropped connection or a
 *     5xx answers PTS_HTTP_UNKNOWN and the caller decides. A 429 (not applied) and a refused
 *     connection (never sent) are retried. Such a transfer is not aborted on cancel either:
 *     it finishes (bounded by its timeout) so its outcome is known;
 *   - PTS_HTTP_ONCE: a single attempt, every status handed back (OAuth polling);
 *   - 3xx, a body over the value cap of jsonx.h, or one that ran out of memory: never retried.
 * A 2xx body parsed as JSON is made UTF-8 first (pts_utf8_repair: bad bytes become '?'), as
 * its text ends up in the dashboard's JSON answers.
 * Trakt requests are paced by ratelimit.h before each attempt. A Trakt 401 is the Trakt
 * client's business (refresh once and retry), not this layer's.
 *
 * All waits use pts_wctx_sleep (cancel-aware). Log lines name the method and the URL path,
 * never the query string (it may hold an API key) nor any header value.
 *
 * Every attempt is counted by meter.h (calls, retries, rate limits, errors, per endpoint),
 * under the service's pts_http_svc_name(); job code flushes the counts with pts_meter_flush().
 *
 * Not thread-safe (the worker is single-threaded; each forked job child has its own handles).
 */
#ifndef PTS_HTTP_H
#define PTS_HTTP_H

#include <curl/curl.h>
#include <json-c/json.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "meter.h"   /* callers flush the counts of their calls */
#include "wctx.h"

/* ==== Limits ==== */

#define PTS_HTTP_CONNECT_TIMEOUT_S 10
#define PTS_HTTP_TIMEOUT_S 60           /* whole transfer, default */
#define PTS_HTTP_REDIRECT_SHOWN 200  /* bytes of a refused redirect's target in messages */
#define PTS_HTTP_MAX_BYTES (16L * 1024 * 1024)        /* response body cap, default */
#define PTS_HTTP_MAX_BYTES_LARGE (64L * 1024 * 1024)  /* Plex listing pages */
#define PTS_HTTP_MAX_TRIES 4            /* attempts for network errors and 5xx */
#define PTS_HTTP_MAX_429 6              /* Retry-After waits per request */
/* Longest Retry-After waited for (Trakt has asked for ~2,900 s); longer fails the call. */
#define PTS_HTTP_RETRY_AFTER_MAX_S 3600
/* Milliseconds one second of Retry-After lasts; env PTS_HTTP_RETRY_AFTER_MS (tests only). */
#define PTS_HTTP_RETRY_AFTER_MS 1000
#define PTS_HTTP_RETRY_AFTER_DEFAULT_S 10 /* a 429 without a usable Retry-After */
#define PTS_HTTP_BACKOFF_MS 1000        /* first backoff; doubles; env PTS_HTTP_BACKOFF_MS */
#define PTS_HTTP_BACKOFF_MAX_MS 30000
#define PTS_HTTP_URL_MAX 8192           /* longest URL we build */
#define PTS_HTTP_CTYPE_LEN 128

/* ==== Types ==== */

enum pts_http_svc {
	PTS_HTTP_PLEX,
	PTS_HTTP_PLEXTV,
	PTS_HTTP_TRAKT,
	PTS_HTTP_TMDB,
	PTS_HTTP_NSVC
};

enum pts_http_result {
	PTS_HTTP_OK,            /* 2xx (json parsed when the body is not empty) */
	PTS_HTTP_UNKNOWN,       /* non-idempotent request: may or may not have been applied */
	PTS_HTTP_CANCELLED,     /* the job was cancelled (or a callback asked to stop) */
	PTS_HTTP_HTTP_ERROR,    /* a final non-2xx status (4xx, or 5xx after the retries) */
	PTS_HTTP_NETWORK,       /* no answer after the retries */
	PTS_HTTP_BAD_RESPONSE   /* 2xx but malformed, oversized or of the wrong shape */
};

/* Request flags. */
#define PTS_HTTP_NON_IDEMPOTENT 0x01
#define PTS_HTTP_ONCE 0x02      /* one attempt; no retry, no 429 wait */
#define PTS_HTTP_RAW 0x04       /* do not parse the body as JSON */
#define PTS_HTTP_QUIET_4XX 0x08 /* a 4xx is expected (polling): DEBUG log, not an error */

struct pts_http_req {
	struct pts_wctx *w;         /* cancel checks, waits, counters' db; NULL: pts_wctx_global */
	enum pts_http_svc svc;
	const char *method;         /* "GET", "POST", "PUT", "DELETE" */
	const char *url;            /* full URL (see pts_http_url) */
	struct curl_slist *headers; /* borrowed; NULL for none */
	const char *body;           /* request body (JSON text) or NULL */
	long timeout_s;             /* 0: PTS_HTTP_TIMEOUT_S */
	long max_bytes;             /* 0: PTS_HTTP_MAX_BYTES */
	unsigned flags;
};

struct pts_http_resp {
	long status;                /* last HTTP status, 0 when none arrived */
	char *body;                 /* NUL-terminated body (owned), may be NULL */
	size_t len;
	size_t cap;
	json_object *json;          /* parsed body (owned) or NULL */
	int64_t retry_after;        /* seconds; -1 when absent */
	int64_t page_count;         /* X-Pagination-Page-Count; -1 when absent */
	int64_t item_count;         /* X-Pagination-Item-Count; -1 when absent */
	char content_type[PTS_HTTP_CTYPE_LEN];
	char error[CURL_ERROR_SIZE + 128]; /* why it failed, for log lines and auth.error */
	int oversized;              /* the body passed max_bytes */
	int redirect;               /* a 3xx was answered (and refused) */
};

/* ==== Functions ==== */

/* curl_global_init; call once in main before forking. 0 or -1. */
int pts_http_global_init(void);
/* Close the handles (flush the counts first with pts_meter_flush). */
void pts_http_global_cleanup(void);

/* "plex", "plextv", "trakt", "tmdb": the api_counters service names. */
const char *pts_http_svc_name(enum pts_http_svc svc);
const char *pts_http_result_name(enum pts_http_result r);

/*
 * The base URL of a service from the environment (PTS_PLEX_TV_URL, PTS_TRAKT_API_URL,
 * PTS_TMDB_API_URL; Plex has none: its URL is the plex_url setting). Never NULL.
 * pts_http_trakt_auth_base() gives PTS_TRAKT_AUTH_URL for the OAuth endpoints.
 */
const char *pts_http_base(enum pts_http_svc svc);
const char *pts_http_trakt_auth_base(void);

/*
 * Build base + path + "?" + query. query is a NULL-terminated list of name, value pairs;
 * names are written as given (they may carry Plex filter operators such as "viewCount>"),
 * values are percent-escaped; a NULL value skips the pair. A trailing "/" of base is dropped.
 * Returns a malloc'd string (caller frees) or NULL when it would pass PTS_HTTP_URL_MAX.
 */
char *pts_http_url(const char *base, const char *path, const char *const *query);

/* Percent-escape s (RFC 3986 unreserved kept). malloc'd; NULL when out of memory. */
char *pts_http_escape(const char *s);

/*
 * Run a request with the retry policy above. resp is zeroed first, then filled; release it
 * with pts_http_resp_free() whatever the result. Failures are logged here with the cause.
 */
enum pts_http_result pts_http_do(const struct pts_http_req *req, struct pts_http_resp *resp);

/*
 * Why the last request of this process that did not succeed failed (its resp->error), for a
 * run's or a sign-in's cause; "" after a success. Static storage, overwritten by the next
 * request.
 */
const char *pts_http_last_error(void);
/* 1 when that request failed because a redirect was refused (it will fail the same again). */
int pts_http_last_was_redirect(void);

/* Free what resp owns (NULL safe) and zero it. */
void pts_http_resp_free(struct pts_http_resp *resp);

/*
 * Take one response header line ("Name: value\r\n") into resp: Retry-After,
 * X-Pagination-Page-Count, X-Pagination-Item-Count, Content-Type. A status line resets them
 * (redirects). Exposed for tests.
 */
void pts_http_header_line(struct pts_http_resp *resp, const char *line, size_t len);

/*
 * Seconds to wait for a Retry-After value (a number or an HTTP date): as given, at least 1;
 * PTS_HTTP_RETRY_AFTER_DEFAULT_S when absent (-1); -1 when longer than
 * PTS_HTTP_RETRY_AFTER_MAX_S (not waited for: the call fails).
 */
int64_t pts_http_retry_wait_s(int64_t retry_after);

#endif

/*
 * http.c - the one HTTP layer: transfer setup, retries, waits (calls counted by meter.c).
 */
#include "http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "db.h"
#include "jsonx.h"
#include "log.h"
#include "meter.h"
#include "paths.h"
#include "ratelimit.h"
#include "utf8.h"

#ifndef PTS_VERSION
#define PTS_VERSION "0"
#endif

#define HTTP_USER_AGENT "plex-trakt-sync/" PTS_VERSION
/* Initial size of a response buffer; it doubles as the body grows. */
#define HTTP_BODY_INITIAL 16384
/* Backoff waits longer than this are shown on the progress row. */
#define HTTP_SHOW_WAIT_MS 1000
/* Bytes of an upstream error body's "error" / "error_description" quoted in messages. */
#define HTTP_DETAIL_MAX 100

struct http_svc_state {
	CURL *h;
};

/* What the curl callbacks of one transfer see. */
struct http_xfer {
	struct pts_http_resp *resp;
	size_t max_bytes;
	struct pts_wctx *w;
	int no_cancel;     /* non-idempotent: let it finish */
	int cancelled;
	int oom;           /* the body buffer could not grow */
};

static struct http_svc_state http_svc[PTS_HTTP_NSVC];
static unsigned http_rand_state;
static char http_last_error[sizeof(((struct pts_http_resp *)0)->error)];
static int http_last_redirect;

static const char *const http_svc_names[PTS_HTTP_NSVC] = { "plex", "plextv", "trakt", "tmdb" };
static const char *const http_svc_titles[PTS_HTTP_NSVC] = { "Plex", "plex.tv", "Trakt", "TMDb" };

/* ==== Names, bases, URLs ==== */

const char *
pts_http_svc_name(enum pts_http_svc svc)
{
	return svc < PTS_HTTP_NSVC ? http_svc_names[svc] : "?";
}

const char *
pts_http_result_name(enum pts_http_result r)
{
	switch (r) {
	case PTS_HTTP_OK: return "ok";
	case PTS_HTTP_UNKNOWN: return "outcome unknown";
	case PTS_HTTP_CANCELLED: return "cancelled";
	case PTS_HTTP_HTTP_ERROR: return "HTTP error";
	case PTS_HTTP_NETWORK: return "network error";
	case PTS_HTTP_BAD_RESPONSE: return "bad response";
	}
	return "?";
}

const char *
pts_http_base(enum pts_http_svc svc)
{
	switch (svc) {
	case PTS_HTTP_PLEXTV: return pts_env("PTS_PLEX_TV_URL", "https://plex.tv");
	case PTS_HTTP_TRAKT: return pts_env("PTS_TRAKT_API_URL", "https://api.trakt.tv");
	case PTS_HTTP_TMDB: return pts_env("PTS_TMDB_API_URL", "https://api.themoviedb.org");
	case PTS_HTTP_PLEX:
	case PTS_HTTP_NSVC:
		break;
	}
	return "";
}

const char *
pts_http_trakt_auth_base(void)
{
	return pts_env("PTS_TRAKT_AUTH_URL", "https://api.trakt.tv");
}

/* Append n bytes to buf[*len..cap). 0 or -1 when it does not fit (NUL included). */
static int
http_put(char *buf, size_t *len, size_t cap, const char *s, size_t n)
{
	if (*len + n + 1 > cap)
		return -1;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
	return 0;
}

/* Percent-escape everything but RFC 3986 unreserved characters. 0 or -1. */
static int
http_put_escaped(char *buf, size_t *len, size_t cap, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char e[3];

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			if (http_put(buf, len, cap, (const char *)&c, 1) != 0)
				return -1;
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		if (http_put(buf, len, cap, e, 3) != 0)
			return -1;
	}
	return 0;
}

char *
pts_http_escape(const char *s)
{
	size_t cap = strlen(s) * 3 + 1, len = 0;
	char *buf = malloc(cap);

	if (buf == NULL)
		return NULL;
	buf[0] = '\0';
	(void)http_put_escaped(buf, &len, cap, s);
	return buf;
}

char *
pts_http_url(const char *base, const char *path, const char *const *query)
{
	char *buf = malloc(PTS_HTTP_URL_MAX);
	size_t len = 0, blen = strlen(base);
	int first = 1;

	if (buf == NULL)
		return NULL;
	buf[0] = '\0';
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (http_put(buf, &len, PTS_HTTP_URL_MAX, base, blen) != 0 ||
	    http_put(buf, &len, PTS_HTTP_URL_MAX, path, strlen(path)) != 0)
		goto toolong;
	for (; query != NULL && query[0] != NULL; query += 2) {
		if (query[1] == NULL)
			continue;
		if (http_put(buf, &len, PTS_HTTP_URL_MAX, first && strchr(path, '?') == NULL ?
		    "?" : "&", 1) != 0 ||
		    http_put(buf, &len, PTS_HTTP_URL_MAX, query[0], strlen(query[0])) != 0 ||
		    http_put(buf, &len, PTS_HTTP_URL_MAX, "=", 1) != 0 ||
		    http_put_escaped(buf, &len, PTS_HTTP_URL_MAX, query[1]) != 0)
			goto toolong;
		first = 0;
	}
	return buf;
toolong:
	PTS_ERROR("URL for %s is longer than %d bytes", path, PTS_HTTP_URL_MAX);
	free(buf);
	return NULL;
}

/* The path of a URL without scheme, host and query, into out. */
static void
http_url_path(const char *url, char *out, size_t len)
{
	const char *p = strstr(url, "://"), *end;
	size_t n;

	p = p != NULL ? strchr(p + 3, '/') : url;
	if (p == NULL)
		p = "/";
	end = p + strcspn(p, "?#");
	n = (size_t)(end - p);
	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* ==== Setup and cleanup ==== */

int
pts_http_global_init(void)
{
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc != CURLE_OK) {
		PTS_ERROR("curl_global_init: %s", curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

void
pts_http_global_cleanup(void)
{
	int i;

	for (i = 0; i < PTS_HTTP_NSVC; i++) {
		if (http_svc[i].h != NULL)
			curl_easy_cleanup(http_svc[i].h);
		http_svc[i].h = NULL;
	}
	curl_global_cleanup();
}

const char *
pts_http_last_error(void)
{
	return http_last_error;
}

int
pts_http_last_was_redirect(void)
{
	return http_last_redirect;
}

void
pts_http_resp_free(struct pts_http_resp *resp)
{
	if (resp == NULL)
		return;
	free(resp->body);
	json_object_put(resp->json);
	memset(resp, 0, sizeof(*resp));
	resp->retry_after = resp->page_count = resp->item_count = -1;
}

/* Reset what one attempt fills (body, headers, status), keeping nothing of the last one. */
static void
http_resp_reset(struct pts_http_resp *resp)
{
	free(resp->body);
	json_object_put(resp->json);
	resp->body = NULL;
	resp->len = resp->cap = 0;
	resp->json = NULL;
	resp->status = 0;
	resp->retry_after = resp->page_count = resp->item_count = -1;
	resp->content_type[0] = '\0';
	resp->error[0] = '\0';
	resp->oversized = 0;
	resp->redirect = 0;
}

/* ==== Headers and bodies ==== */

/* Parse a non-negative decimal header value; -1 when malformed. */
static int64_t
http_header_int(const char *v)
{
	char *end;
	long long n;

	if (*v < '0' || *v > '9')
		return -1;
	n = strtoll(v, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end != '\0' || n < 0)
		return -1;
	return n;
}

void
pts_http_header_line(struct pts_http_resp *resp, const char *line, size_t len)
{
	char buf[256], *colon, *v;
	size_t n;

	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* A new response (after a redirect or a 100 Continue): forget the last one's. */
		resp->retry_after = resp->page_count = resp->item_count = -1;
		resp->content_type[0] = '\0';
		return;
	}
	if (len >= sizeof(buf))
		return;   /* none of ours is this long */
	memcpy(buf, line, len);
	buf[len] = '\0';
	n = len;
	while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == '\n' || buf[n - 1] == ' ' ||
	    buf[n - 1] == '\t'))
		buf[--n] = '\0';
	colon = strchr(buf, ':');
	if (colon == NULL)
		return;
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	if (strcasecmp(buf, "Retry-After") == 0) {
		int64_t s = http_header_int(v);

		if (s < 0) {
			/* An HTTP date: seconds from now. */
			time_t t = curl_getdate(v, NULL);

			s = t > 0 ? (int64_t)t - pts_now() : -1;
			if (t > 0 && s < 0)
				s = 0;
		}
		resp->retry_after = s;
	} else if (strcasecmp(buf, "X-Pagination-Page-Count") == 0) {
		resp->page_count = http_header_int(v);
	} else if (strcasecmp(buf, "X-Pagination-Item-Count") == 0) {
		resp->item_count = http_header_int(v);
	} else if (strcasecmp(buf, "Content-Type") == 0) {
		snprintf(resp->content_type, sizeof(resp->content_type), "%s", v);
	}
}

int64_t
pts_http_retry_wait_s(int64_t retry_after)
{
	if (retry_after < 0)
		return PTS_HTTP_RETRY_AFTER_DEFAULT_S;
	if (retry_after < 1)
		return 1;
	if (retry_after > PTS_HTTP_RETRY_AFTER_MAX_S)
		return -1;
	return retry_after;
}

/* How long s seconds of Retry-After last, in ms (PTS_HTTP_RETRY_AFTER_MS; tests shorten it). */
static int64_t
http_retry_after_ms(int64_t s)
{
	const char *env = pts_env("PTS_HTTP_RETRY_AFTER_MS", NULL);
	int64_t per = PTS_HTTP_RETRY_AFTER_MS;

	if (env != NULL) {
		char *end;
		long v = strtol(env, &end, 10);

		if (end != env && *end == '\0' && v >= 1 && v <= PTS_HTTP_RETRY_AFTER_MS)
			per = v;
	}
	return s * per;
}

static size_t
http_on_header(char *p, size_t size, size_t n, void *ud)
{
	struct http_xfer *x = ud;

	pts_http_header_line(x->resp, p, size * n);
	return size * n;
}

static size_t
http_on_body(char *p, size_t size, size_t n, void *ud)
{
	struct http_xfer *x = ud;
	struct pts_http_resp *r = x->resp;
	size_t add = size * n;

	if (add > x->max_bytes || r->len > x->max_bytes - add) {
		r->oversized = 1;
		return 0;   /* curl stops with CURLE_WRITE_ERROR */
	}
	if (r->len + add + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : HTTP_BODY_INITIAL;
		char *nb;

		while (cap < r->len + add + 1)
			cap *= 2;
		nb = realloc(r->body, cap);
		if (nb == NULL) {
			x->oom = 1;
			return 0;
		}
		r->body = nb;
		r->cap = cap;
	}
	memcpy(r->body + r->len, p, add);
	r->len += add;
	r->body[r->len] = '\0';
	return add;
}

static int
http_on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	struct http_xfer *x = ud;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (x->no_cancel || x->w == NULL)
		return 0;
	if (pts_wctx_cancelled(x->w)) {
		x->cancelled = 1;
		return 1;
	}
	return 0;
}

/* ==== One transfer ==== */

/* Every option of every transfer, set here and nowhere else. */
static int
http_setup(CURL *h, const struct pts_http_req *req, struct curl_slist *headers,
    struct http_xfer *x, char *errbuf)
{
	long timeout = req->timeout_s > 0 ? req->timeout_s : PTS_HTTP_TIMEOUT_S;
	CURLcode rc = CURLE_OK;

	curl_easy_reset(h);   /* keeps the connection cache: keep-alive survives */
	errbuf[0] = '\0';
#define SETOPT(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, val); } while (0)
	SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(CURLOPT_URL, req->url);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_CONNECTTIMEOUT, (long)PTS_HTTP_CONNECT_TIMEOUT_S);
	SETOPT(CURLOPT_TIMEOUT, timeout);
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);   /* never: see http.h, a 3xx is refused */
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_USERAGENT, HTTP_USER_AGENT);
	SETOPT(CURLOPT_ACCEPT_ENCODING, "");   /* gzip for big listings; the cap counts decoded bytes */
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_bytes);
	SETOPT(CURLOPT_HTTPHEADER, headers);
	SETOPT(CURLOPT_WRITEFUNCTION, http_on_body);
	SETOPT(CURLOPT_WRITEDATA, x);
	SETOPT(CURLOPT_HEADERFUNCTION, http_on_header);
	SETOPT(CURLOPT_HEADERDATA, x);
	SETOPT(CURLOPT_NOPROGRESS, 0L);
	SETOPT(CURLOPT_XFERINFOFUNCTION, http_on_progress);
	SETOPT(CURLOPT_XFERINFODATA, x);
	if (strcmp(req->method, "GET") == 0) {
		SETOPT(CURLOPT_HTTPGET, 1L);
	} else {
		if (strcmp(req->method, "POST") == 0)
			SETOPT(CURLOPT_POST, 1L);
		else
			SETOPT(CURLOPT_CUSTOMREQUEST, req->method);
		SETOPT(CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
		SETOPT(CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(req->body != NULL ? strlen(req->body) : 0));
	}
#undef SETOPT
	if (rc != CURLE_OK) {
		PTS_ERROR("curl setup for %s: %s", pts_http_svc_name(req->svc), curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

/* Errors after which the request certainly never reached the server. */
static int
http_not_sent(CURLcode rc)
{
	return rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY ||
	    rc == CURLE_COULDNT_CONNECT;
}

/* Errors that another attempt will not cure. */
static int
http_final_error(CURLcode rc)
{
	return rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL ||
	    rc == CURLE_TOO_MANY_REDIRECTS || rc == CURLE_PEER_FAILED_VERIFICATION ||
	    rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_FILESIZE_EXCEEDED ||
	    rc == CURLE_OUT_OF_MEMORY;
}

static unsigned
http_rand(void)
{
	if (http_rand_state == 0)
		http_rand_state = (unsigned)pts_now_ms() ^ ((unsigned)getpid() << 16) ^ 0x9e3779b9u;
	/* xorshift32: jitter only, not security */
	http_rand_state ^= http_rand_state << 13;
	http_rand_state ^= http_rand_state >> 17;
	http_rand_state ^= http_rand_state << 5;
	return http_rand_state;
}

/* Backoff before retry number `retry` (1-based): base * 2^(retry-1), jittered in [d/2, d]. */
static int64_t
http_backoff_ms(int retry)
{
	const char *env = pts_env("PTS_HTTP_BACKOFF_MS", NULL);
	int64_t base = PTS_HTTP_BACKOFF_MS, d;

	if (env != NULL) {
		char *end;
		long v = strtol(env, &end, 10);

		if (end != env && *end == '\0' && v >= 0 && v <= PTS_HTTP_BACKOFF_MAX_MS)
			base = v;
	}
	d = base;
	while (--retry > 0 && d < PTS_HTTP_BACKOFF_MAX_MS)
		d *= 2;
	if (d > PTS_HTTP_BACKOFF_MAX_MS)
		d = PTS_HTTP_BACKOFF_MAX_MS;
	if (d < 2)
		return d;
	return d / 2 + (int64_t)(http_rand() % (unsigned)(d / 2 + 1));
}

/* Sleep ms, shown as the run's waiting state when long. 0, or 1 when cancelled. */
static int
http_wait(struct pts_wctx *w, int64_t ms, const char *reason)
{
	int shown = 0, rc;

	if (ms > HTTP_SHOW_WAIT_MS) {
		pts_wctx_set_waiting(w, pts_now() + (ms + 999) / 1000, reason);
		shown = 1;
	}
	rc = pts_wctx_sleep(w, ms);
	if (shown)
		pts_wctx_set_waiting(w, 0, NULL);
	return rc;
}

/* A short cause from a JSON error body ({"error": ..., "error_description": ...}). */
static void
http_error_detail(const struct pts_http_resp *resp, char *out, size_t len)
{
	const char *e = NULL, *d = NULL;
	json_object *j = NULL, *v;

	out[0] = '\0';
	if (resp->body == NULL || resp->len == 0 || strstr(resp->content_type, "json") == NULL)
		return;
	j = pts_json_parse(resp->body, resp->len, resp->len + 1, NULL);
	if (j == NULL)
		return;
	if (json_object_is_type(j, json_type_object)) {
		e = pts_json_str(j, "error");
		if (e == NULL && json_object_object_get_ex(j, "error", &v) &&
		    json_object_is_type(v, json_type_object))
			e = pts_json_str(v, "message");
		d = pts_json_str(j, "error_description");
		if (d == NULL)
			d = pts_json_str(j, "status_message");   /* TMDb */
	}
	if (e != NULL || d != NULL) {
		char es[HTTP_DETAIL_MAX + 1], ds[HTTP_DETAIL_MAX + 1];

		pts_utf8_copy(es, sizeof(es), e);
		pts_utf8_copy(ds, sizeof(ds), d);
		snprintf(out, len, ": %s%s%s", es, e && d ? " - " : "", ds);
	}
	json_object_put(j);
}

/*
 * Where a refused redirect pointed, for messages: scheme, host, port and path of its Location
 * (resolved by curl) without user info, query or fragment (they may carry a token).
 */
static void
http_redirect_shown(CURL *h, char *out, size_t len)
{
	char *loc = NULL, buf[PTS_HTTP_REDIRECT_SHOWN + 1];
	const char *host, *at, *p;
	size_t n = 0, cut;

	if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || loc == NULL ||
	    loc[0] == '\0') {
		snprintf(out, len, "(no Location)");
		return;
	}
	host = strstr(loc, "://");
	host = host != NULL ? host + 3 : loc;
	cut = strcspn(host, "/?#");
	at = memchr(host, '@', cut);
	/* scheme:// */
	n = (size_t)(host - loc) < sizeof(buf) - 1 ? (size_t)(host - loc) : sizeof(buf) - 1;
	memcpy(buf, loc, n);
	p = at != NULL ? at + 1 : host;
	cut = strcspn(p, "?#");
	if (cut > sizeof(buf) - 1 - n)
		cut = sizeof(buf) - 1 - n;
	memcpy(buf + n, p, cut);
	buf[n + cut] = '\0';
	/* Bytes past ASCII are shown escaped (the Location may not be UTF-8); a control
	 * character ends what we show. */
	for (p = buf, n = 0; *p != '\0' && n + 4 <= len; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f)
			break;
		if (c >= 0x80)
			n += (size_t)snprintf(out + n, len - n, "%%%02X", c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
}

enum pts_http_result
pts_http_do(const struct pts_http_req *req, struct pts_http_resp *resp)
{
	struct http_svc_state *s = &http_svc[req->svc];
	struct pts_wctx *w = req->w != NULL ? req->w : &pts_wctx_global;
	const char *title = http_svc_titles[req->svc];
	int nonidem = (req->flags & PTS_HTTP_NON_IDEMPOTENT) != 0;
	int once = (req->flags & PTS_HTTP_ONCE) != 0;
	int is_write = strcmp(req->method, "GET") != 0;
	int tries = 0, waits429 = 0;
	char path[PTS_METER_KEY_LEN], errbuf[CURL_ERROR_SIZE], reason[64];
	struct curl_slist *headers = NULL, *it;
	enum pts_http_result res = PTS_HTTP_NETWORK;
	struct http_xfer x;

	memset(resp, 0, sizeof(*resp));
	http_resp_reset(resp);
	http_url_path(req->url, path, sizeof(path));
	if (s->h == NULL && (s->h = curl_easy_init()) == NULL) {
		snprintf(resp->error, sizeof(resp->error), "curl_easy_init failed");
		snprintf(http_last_error, sizeof(http_last_error), "%s", resp->error);
		http_last_redirect = 0;
		PTS_ERROR("%s %s: %s", req->method, path, resp->error);
		return PTS_HTTP_NETWORK;
	}
	/* The caller's headers plus "Expect:" (no 100-continue round trip for bodies). */
	for (it = req->headers; it != NULL; it = it->next) {
		struct curl_slist *n = curl_slist_append(headers, it->data);

		if (n == NULL)
			goto oom;
		headers = n;
	}
	if ((it = curl_slist_append(headers, "Expect:")) == NULL)
		goto oom;
	headers = it;

	for (;;) {
		CURLcode rc;
		long status = 0;
		int retry = 0, stop;

		/* Nothing is on the wire yet: stopping here is safe for every request. */
		if (pts_wctx_cancelled(w)) {
			res = PTS_HTTP_CANCELLED;
			break;
		}
		if (req->svc == PTS_HTTP_TRAKT && pts_rl_trakt_acquire(w, is_write) != 0) {
			res = PTS_HTTP_CANCELLED;
			break;
		}
		http_resp_reset(resp);
		memset(&x, 0, sizeof(x));
		x.resp = resp;
		x.max_bytes = (size_t)(req->max_bytes > 0 ? req->max_bytes : PTS_HTTP_MAX_BYTES);
		x.w = w;
		x.no_cancel = nonidem;
		if (http_setup(s->h, req, headers, &x, errbuf) != 0) {
			snprintf(resp->error, sizeof(resp->error), "curl setup failed");
			res = PTS_HTTP_NETWORK;
			break;
		}
		tries++;
		pts_meter_count(http_svc_names[req->svc], 1, tries > 1 || waits429 > 0, 0, 0);
		pts_meter_endpoint(http_svc_names[req->svc], req->method, path);
		rc = curl_easy_perform(s->h);
		if (req->svc == PTS_HTTP_TRAKT)
			pts_rl_trakt_done(is_write);
		curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
		resp->status = status;

		if (rc != CURLE_OK) {
			if (x.cancelled || (rc == CURLE_ABORTED_BY_CALLBACK && pts_wctx_cancelled(w))) {
				res = PTS_HTTP_CANCELLED;
				break;
			}
			if (x.oom) {
				snprintf(resp->error, sizeof(resp->error),
				    "out of memory reading %s answer to %s %s", title, req->method, path);
				PTS_ERROR("%s", resp->error);
				res = PTS_HTTP_BAD_RESPONSE;
				break;
			}
			if (resp->oversized || rc == CURLE_FILESIZE_EXCEEDED) {
				resp->oversized = 1;
				snprintf(resp->error, sizeof(resp->error),
				    "%s answer to %s %s is larger than %zu bytes", title, req->method,
				    path, x.max_bytes);
				PTS_ERROR("%s", resp->error);
				res = PTS_HTTP_BAD_RESPONSE;
				break;
			}
			snprintf(resp->error, sizeof(resp->error), "%s %s %s: %s", title, req->method,
			    path, errbuf[0] ? errbuf : curl_easy_strerror(rc));
			if (once || http_final_error(rc)) {
				PTS_ERROR("%s", resp->error);
				res = PTS_HTTP_NETWORK;
				break;
			}
			if (nonidem && !http_not_sent(rc)) {
				PTS_WARN("%s (outcome unknown: not sent again)", resp->error);
				res = PTS_HTTP_UNKNOWN;
				break;
			}
			res = PTS_HTTP_NETWORK;
			retry = 1;
		} else if (status >= 200 && status < 300) {
			const char *perr = NULL;
			size_t bad;

			res = PTS_HTTP_OK;
			if ((req->flags & PTS_HTTP_RAW) || resp->len == 0)
				break;
			/* Its text ends up in our JSON answers, which must be UTF-8. */
			bad = pts_utf8_repair(resp->body, resp->len);
			if (bad > 0)
				PTS_WARN("%s answer to %s %s: %zu bytes that are not UTF-8 replaced"
				    " with '?'", title, req->method, path, bad);
			resp->json = pts_json_parse(resp->body, resp->len, x.max_bytes, &perr);
			if (resp->json != NULL)
				break;
			res = PTS_HTTP_BAD_RESPONSE;
			if (perr != NULL && strcmp(perr, PTS_JSON_ERR_OOM) == 0) {
				/* The job's memory ceiling (runner.h): another try would end the same. */
				snprintf(resp->error, sizeof(resp->error), "out of memory parsing %s"
				    " answer to %s %s (%zu bytes)", title, req->method, path, resp->len);
				PTS_ERROR("%s", resp->error);
				break;
			}
			if (perr != NULL && strcmp(perr, PTS_JSON_ERR_TOO_MANY) == 0) {
				snprintf(resp->error, sizeof(resp->error), "%s answer to %s %s has more"
				    " than %zu JSON values (%zu bytes): refused", title, req->method, path,
				    pts_json_max_nodes(), resp->len);
				PTS_ERROR("%s", resp->error);
				break;
			}
			snprintf(resp->error, sizeof(resp->error), "%s %s %s: HTTP %ld with %s (%s,"
			    " %zu bytes)", title, req->method, path, status, perr ? perr : "bad JSON",
			    resp->content_type[0] ? resp->content_type : "no content type", resp->len);
			/* A cut-off body may be a network hiccup; a write was applied: do not resend. */
			if (once || nonidem || tries >= PTS_HTTP_MAX_TRIES) {
				PTS_ERROR("%s", resp->error);
				break;
			}
			retry = 1;
		} else if (status >= 300 && status < 400) {
			char target[PTS_HTTP_REDIRECT_SHOWN + 1];

			/* Following it would hand our credentials to the Location's host. */
			http_redirect_shown(s->h, target, sizeof(target));
			resp->redirect = 1;
			snprintf(resp->error, sizeof(resp->error), "%s answered %ld: redirect to %s"
			    " refused", title, status, target);
			PTS_ERROR("%s (%s %s)", resp->error, req->method, path);
			res = PTS_HTTP_HTTP_ERROR;
			break;
		} else if (status == 429) {
			int64_t wait_s = pts_http_retry_wait_s(resp->retry_after), wait_ms;

			pts_meter_count(http_svc_names[req->svc], 0, 0, 1, 0);
			snprintf(resp->error, sizeof(resp->error), "%s %s %s: HTTP 429 (rate limited)",
			    title, req->method, path);
			res = PTS_HTTP_HTTP_ERROR;
			if (once)
				break;
			if (++waits429 > PTS_HTTP_MAX_429) {
				PTS_ERROR("%s: still limited after %d waits", resp->error,
				    PTS_HTTP_MAX_429);
				break;
			}
			if (wait_s < 0) {
				PTS_ERROR("%s: Retry-After %lld s is longer than the %d s waited for;"
				    " not sent again early", resp->error, (long long)resp->retry_after,
				    PTS_HTTP_RETRY_AFTER_MAX_S);
				break;
			}
			wait_ms = http_retry_after_ms(wait_s);
			PTS_INFO("%s rate limit on %s %s: waiting %lld s (Retry-After %lld)", title,
			    req->method, path, (long long)(wait_ms + 999) / 1000,
			    (long long)resp->retry_after);
			pts_wctx_set_waiting(w, pts_now() + (wait_ms + 999) / 1000, "rate_limit");
			stop = pts_wctx_sleep(w, wait_ms);
			pts_wctx_set_waiting(w, 0, NULL);
			if (stop) {
				res = PTS_HTTP_CANCELLED;
				break;
			}
			tries--;    /* a 429 does not use up a try (it has its own bound) */
			continue;
		} else {
			char detail[256];

			http_error_detail(resp, detail, sizeof(detail));
			snprintf(resp->error, sizeof(resp->error), "%s %s %s: HTTP %ld%s", title,
			    req->method, path, status, detail);
			res = PTS_HTTP_HTTP_ERROR;
			if (status >= 500 && !once) {
				if (nonidem) {
					PTS_WARN("%s (outcome unknown: not sent again)", resp->error);
					res = PTS_HTTP_UNKNOWN;
					break;
				}
				retry = 1;
			} else {
				if ((req->flags & PTS_HTTP_QUIET_4XX) && status < 500)
					PTS_DEBUG("%s", resp->error);
				else
					PTS_WARN("%s", resp->error);
				break;
			}
		}
		/* Here only when another attempt may help. */
		if (!retry)
			break;
		if (tries >= PTS_HTTP_MAX_TRIES) {
			PTS_ERROR("%s (gave up after %d attempts)", resp->error, tries);
			break;
		}
		{
			int64_t ms = http_backoff_ms(tries);

			PTS_WARN("%s: retrying in %.1f s (attempt %d of %d)", resp->error,
			    (double)ms / 1000.0, tries + 1, PTS_HTTP_MAX_TRIES);
			snprintf(reason, sizeof(reason), "%s unavailable: retrying", title);
			if (http_wait(w, ms, reason) != 0) {
				res = PTS_HTTP_CANCELLED;
				break;
			}
		}
	}
	curl_slist_free_all(headers);
	/* An expected 4xx (a poll still pending, a title TMDb does not know) is not an error. */
	if (res != PTS_HTTP_OK && res != PTS_HTTP_CANCELLED &&
	    !(res == PTS_HTTP_HTTP_ERROR && (req->flags & PTS_HTTP_QUIET_4XX) &&
	    resp->status >= 400 && resp->status < 500))
		pts_meter_count(http_svc_names[req->svc], 0, 0, 0, 1);
	if (res == PTS_HTTP_CANCELLED && resp->error[0] == '\0')
		snprintf(resp->error, sizeof(resp->error), "cancelled");
	pts_utf8_trim(resp->error);   /* it may quote an upstream error body */
	snprintf(http_last_error, sizeof(http_last_error), "%s", res == PTS_HTTP_OK ? "" :
	    resp->error);
	http_last_redirect = res != PTS_HTTP_OK && resp->redirect;
	(void)pts_meter_flush(w->db, 0);
	return res;
oom:
	curl_slist_free_all(headers);
	snprintf(resp->error, sizeof(resp->error), "out of memory");
	snprintf(http_last_error, sizeof(http_last_error), "%s", resp->error);
	http_last_redirect = 0;
	PTS_ERROR("%s %s: out of memory", req->method, path);
	return PTS_HTTP_NETWORK;
}

/*
 * test_up_clients.c - the upstream clients and network jobs against the fake servers.
 *
 * Starts tests/fakes/fakeup.py itself (python3, stdlib only) on loopback, points every base
 * URL at it and drives: both sign-in flows end to end (approved, expired, denied), Plex
 * sections / counts / paged listings (short pages too) / Continue Watching / scrobble, Trakt
 * reads with pagination, faults (429 honoured, 5xx retried, malformed and oversized bodies,
 * 401 -> refresh -> retry, a reused refresh token -> 'expired', non-idempotent writes never
 * re-sent), pacing and cancel during a wait, TMDb posters and their cache, the cache jobs,
 * sign-out, and the api_counters flush. Then a generated 1,000-movie library is listed and
 * the calls per endpoint are printed ("# calls: ..." lines).
 *
 * When python3 or the fakes are missing it prints a skip note and passes with no checks.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "db.h"
#include "http.h"
#include "job_auth.h"
#include "job_cache.h"
#include "jobs.h"
#include "jsonx.h"
#include "log.h"
#include "paths.h"
#include "plex.h"
#include "plextv.h"
#include "posters.h"
#include "ratelimit.h"
#include "settings.h"
#include "tap.h"
#include "tmdb.h"
#include "trakt.h"
#include "wctx.h"

#ifndef UP_SRCDIR
#define UP_SRCDIR "."
#endif

/* How long the fakes may take to come up. */
#define FAKES_START_MS 30000
/* Largest control answer read. */
#define CTL_MAX (8 * 1024 * 1024)

struct fakes {
	pid_t pid;
	char ready[512];
	char plex[128], plextv[128], trakt[128], tmdb[128];
	char plex_token[128];
};

static char tmpdir[256];
static sqlite3 *db;
static struct pts_wctx *w = &pts_wctx_global;
static volatile sig_atomic_t term_flag;

/* ==== Helpers ==== */

static double
now_s(void)
{
	return (double)pts_rl_now_ms() / 1000.0;
}

struct ctl_buf {
	char *p;
	size_t n;
};

static size_t
ctl_write(char *p, size_t size, size_t n, void *ud)
{
	struct ctl_buf *b = ud;
	size_t add = size * n;
	char *np;

	if (b->n + add > CTL_MAX || (np = realloc(b->p, b->n + add + 1)) == NULL)
		return 0;
	b->p = np;
	memcpy(b->p + b->n, p, add);
	b->n += add;
	b->p[b->n] = '\0';
	return add;
}

/* A plain request to a fake (control endpoints, images). Body malloc'd; *status set. */
static char *
ctl(const char *base, const char *method, const char *path, const char *body, long *status)
{
	struct ctl_buf b = { NULL, 0 };
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	char url[1024];
	CURL *c = curl_easy_init();
	long st = 0;

	snprintf(url, sizeof(url), "%s%s", base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ctl_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	if (status != NULL)
		*status = st;
	if (b.p == NULL)
		b.p = strdup("");
	return b.p;
}

/* POST a control request; 1 when it answered 200. */
static int
ctl_post(const char *base, const char *path, const char *body)
{
	long st;
	char *r = ctl(base, "POST", path, body ? body : "{}", &st);

	if (st != 200)
		printf("# control %s -> %ld %s\n", path, st, r);
	free(r);
	return st == 200;
}

static json_object *
ctl_json(const char *base, const char *path)
{
	long st;
	char *r = ctl(base, "GET", path, NULL, &st);
	json_object *j = pts_json_parse(r, strlen(r), CTL_MAX, NULL);

	free(r);
	return j;
}

static void
on_alarm(int sig)
{
	(void)sig;
	term_flag = 1;
}

/* Text of a column of the auth row (malloc'd or NULL). */
static char *
auth_col(const char *service, const char *col)
{
	char sql[128], *v = NULL;

	snprintf(sql, sizeof(sql), "SELECT %s FROM auth WHERE service = ?", col);
	(void)pts_db_text(db, &v, sql, "s", service);
	return v;
}

static int
auth_state_is(const char *service, const char *state)
{
	char *v = auth_col(service, "state");
	int ok = v != NULL && strcmp(v, state) == 0;

	if (!ok)
		printf("# auth %s state is %s, want %s\n", service, v ? v : "(null)", state);
	free(v);
	return ok;
}

static int64_t
q_int(const char *sql)
{
	int64_t v = -1;

	(void)pts_db_int(db, &v, -1, sql, "");
	return v;
}

static void
set_setting(const char *key, const char *value)
{
	json_object *b = json_object_new_object(), *f = json_object_new_object();

	pts_json_add_str(b, key, value);
	if (pts_settings_apply(db, b, f) != 0)
		printf("# setting %s refused: %s\n", key, json_object_to_json_string(f));
	json_object_put(b);
	json_object_put(f);
}

/* ==== The fakes ==== */

static int
fakes_start(struct fakes *f, const char *generate)
{
	char script[1024];
	json_object *j = NULL;
	int64_t deadline;
	const char *s;

	snprintf(script, sizeof(script), "%s/tests/fakes/fakeup.py", UP_SRCDIR);
	if (access(script, R_OK) != 0)
		return -1;
	snprintf(f->ready, sizeof(f->ready), "%s/ready-%s.json", tmpdir, generate ? "gen" : "def");
	unlink(f->ready);
	f->pid = fork();
	if (f->pid < 0)
		return -1;
	if (f->pid == 0) {
		const char *argv[10];
		int k = 0;

		argv[k++] = "python3";
		argv[k++] = script;
		argv[k++] = "--ready-file";
		argv[k++] = f->ready;
		argv[k++] = "--max-seconds";
		argv[k++] = "900";
		argv[k++] = "--watch-parent";
		if (generate != NULL) {
			argv[k++] = "--generate";
			argv[k++] = generate;
		}
		argv[k] = NULL;
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	deadline = pts_now_ms() + FAKES_START_MS;
	while (pts_now_ms() < deadline) {
		struct timespec ts = { 0, 100 * 1000000L };
		FILE *fp = fopen(f->ready, "r");

		if (fp != NULL) {
			char buf[4096];
			size_t n = fread(buf, 1, sizeof(buf) - 1, fp);

			fclose(fp);
			buf[n] = '\0';
			j = pts_json_parse(buf, n, sizeof(buf), NULL);
			if (j != NULL)
				break;
		}
		if (waitpid(f->pid, NULL, WNOHANG) == f->pid) {
			f->pid = 0;
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	if (j == NULL)
		return -1;
#define TAKE(field, key) do { s = pts_json_str(j, key);                     \
	snprintf(f->field, sizeof(f->field), "%s", s ? s : ""); } while (0)
	TAKE(plex, "plex");
	TAKE(plextv, "plextv");
	TAKE(trakt, "trakt");
	TAKE(tmdb, "tmdb");
	TAKE(plex_token, "plex_token");
#undef TAKE
	json_object_put(j);
	return f->plex[0] ? 0 : -1;
}

static void
fakes_stop(struct fakes *f)
{
	int64_t deadline = pts_now_ms() + 5000;

	if (f->pid <= 0)
		return;
	(void)ctl_post(f->plex, "/_control/shutdown", NULL);
	while (pts_now_ms() < deadline) {
		struct timespec ts = { 0, 50 * 1000000L };

		if (waitpid(f->pid, NULL, WNOHANG) == f->pid) {
			f->pid = 0;
			return;
		}
		nanosleep(&ts, NULL);
	}
	kill(f->pid, SIGTERM);
	waitpid(f->pid, NULL, 0);
	f->pid = 0;
}

/* Point the environment and the settings at a set of fakes. */
static void
use_fakes(const struct fakes *f)
{
	setenv("PTS_PLEX_TV_URL", f->plextv, 1);
	setenv("PTS_TRAKT_API_URL", f->trakt, 1);
	setenv("PTS_TRAKT_AUTH_URL", f->trakt, 1);
	setenv("PTS_TMDB_API_URL", f->tmdb, 1);
	set_setting("plex_url", f->plex);
	set_setting("trakt_client_id", "trakt-client-id");
	set_setting("trakt_client_secret", "trakt-client-secret");
	set_setting("tmdb_api_key", "tmdb-key");
}

/* ==== plex.tv sign-in ==== */

static void
test_plex_signin(const struct fakes *f)
{
	double t0;
	char *v;

	TAP_OK(ctl_post(f->plextv, "/_control/state", "{\"pin_expires_in\": 2,"
	    " \"auto_link_after_polls\": 0}"), "plex.tv: short PIN lifetime");
	t0 = now_s();
	TAP_OK(pts_job_auth_plex(w, NULL) == 0, "Plex sign-in with an unused PIN ends normally");
	TAP_OK(auth_state_is("plex", "expired"), "an expired PIN leaves the row 'expired'");
	TAP_OK(now_s() - t0 < 6, "it ended at the PIN's expiry (%.1f s)", now_s() - t0);

	TAP_OK(ctl_post(f->plextv, "/_control/state", "{\"pin_expires_in\": 900,"
	    " \"auto_link_after_polls\": 2}"), "plex.tv: approve after 2 polls");
	TAP_OK(pts_job_auth_plex(w, NULL) == 0, "Plex sign-in job succeeds");
	TAP_OK(auth_state_is("plex", "authorized"), "plex row 'authorized'");
	v = auth_col("plex", "user");
	TAP_STREQ(v, "plexuser", "user name from /api/v2/user");
	free(v);
	v = auth_col("plex", "access_token");
	TAP_OK(v != NULL && strncmp(v, "plextv-", 7) == 0, "token stored");
	free(v);
	v = auth_col("plex", "code");
	TAP_OK(v == NULL, "flow fields cleared once signed in");
	free(v);
	v = pts_db_meta_get(db, "plex_client_id");
	TAP_OK(v != NULL && strlen(v) == 32, "a client identifier was made and kept");
	free(v);
}

/* ==== Plex Media Server ==== */

struct counter {
	int64_t n, watched, matched, max_items;
};

static int
count_item(void *ctx, const struct pts_plex_item *it)
{
	struct counter *c = ctx;

	c->n++;
	c->watched += it->view_count > 0;
	c->matched += it->matched;
	return c->max_items > 0 && c->n >= c->max_items;
}

static int
first_unwatched(void *ctx, const struct pts_plex_item *it)
{
	if (it->view_count == 0 && strlen(it->rating_key) < 32) {
		snprintf(ctx, 32, "%s", it->rating_key);
		return 1;
	}
	return 0;
}

static void
test_plex(const struct fakes *f)
{
	struct pts_plex_section *secs = NULL;
	struct pts_plex_filter flt = { 1, 0, 0, 0 };
	struct counter c1 = { 0 }, c2 = { 0 }, c3 = { 0 }, c4 = { 0 };
	struct pts_plex *c = pts_plex_open(w);
	int64_t total = -1, watched = -1, calls;
	const char *movies = NULL;
	char rk[32] = "", path[64];
	size_t n = 0, i;

	TAP_OK(c != NULL && c->has_token, "Plex client with the signed-in token");
	if (c == NULL)
		return;
	TAP_OK(pts_plex_sections(c, &secs, &n) == PTS_HTTP_OK && n >= 2, "sections (%zu)", n);
	for (i = 0; i < n; i++)
		if (strcmp(secs[i].type, "movie") == 0 && movies == NULL)
			movies = secs[i].key;
	TAP_OK(movies != NULL, "a movie section");
	if (movies == NULL)
		goto done;
	TAP_OK(pts_plex_count(c, movies, PTS_PLEX_TYPE_MOVIE, NULL, &total) == PTS_HTTP_OK &&
	    total > 0, "count with container size 0: %lld", (long long)total);
	TAP_OK(pts_plex_list(c, movies, PTS_PLEX_TYPE_MOVIE, NULL, count_item, &c1, NULL) ==
	    PTS_HTTP_OK && c1.n == total, "listing delivers every item (%lld)", (long long)c1.n);
	TAP_OK(pts_plex_count(c, movies, PTS_PLEX_TYPE_MOVIE, &flt, &watched) == PTS_HTTP_OK &&
	    watched == c1.watched, "viewCount>=1 count matches the watched items (%lld)",
	    (long long)watched);
	flt.watched_only = 0;
	flt.viewed_since = 1;
	TAP_OK(pts_plex_list(c, movies, PTS_PLEX_TYPE_MOVIE, &flt, count_item, &c4, NULL) ==
	    PTS_HTTP_OK && c4.n == c1.watched, "lastViewedAt>>= filter lists the viewed ones");

	/* Short pages: the server returns fewer than asked. */
	TAP_OK(ctl_post(f->plex, "/_control/state", "{\"max_page\": 7}"), "Plex: 7 items a page");
	snprintf(path, sizeof(path), "/library/sections/%s/all", movies);
	calls = pts_meter_endpoint_calls("GET", path);
	TAP_OK(pts_plex_list(c, movies, PTS_PLEX_TYPE_MOVIE, NULL, count_item, &c2, NULL) ==
	    PTS_HTTP_OK && c2.n == total, "short pages: still every item");
	TAP_OK(pts_meter_endpoint_calls("GET", path) - calls == (total + 6) / 7,
	    "short pages: paged by what came back (%lld calls)",
	    (long long)(pts_meter_endpoint_calls("GET", path) - calls));
	TAP_OK(ctl_post(f->plex, "/_control/state", "{\"max_page\": 0}"), "Plex: full pages");

	c3.max_items = 3;
	TAP_OK(pts_plex_list(c, movies, PTS_PLEX_TYPE_MOVIE, NULL, count_item, &c3, NULL) ==
	    PTS_HTTP_CANCELLED && c3.n == 3, "a callback can stop a listing");

	/* Faults: a cut-off page is retried; one that stays broken is a clean error. */
	TAP_OK(ctl_post(f->plex, "/_control/faults", "{\"fail_next\": [\"malformed\"]}"),
	    "Plex: one malformed answer");
	memset(&c2, 0, sizeof(c2));
	TAP_OK(pts_plex_list(c, movies, PTS_PLEX_TYPE_MOVIE, NULL, count_item, &c2, NULL) ==
	    PTS_HTTP_OK && c2.n == total, "a malformed page is fetched again");
	TAP_OK(ctl_post(f->plex, "/_control/faults", "{\"fail_next\": [\"malformed\","
	    " \"malformed\", \"malformed\", \"malformed\"]}"), "Plex: malformed answers");
	TAP_OK(pts_plex_count(c, movies, PTS_PLEX_TYPE_MOVIE, NULL, &total) ==
	    PTS_HTTP_BAD_RESPONSE, "malformed every time: BAD_RESPONSE, no crash");
	TAP_OK(ctl_post(f->plex, "/_control/faults", "{\"fail_next\": [503, 520]}"),
	    "Plex: two 5xx");
	TAP_OK(pts_plex_count(c, movies, PTS_PLEX_TYPE_MOVIE, NULL, &total) == PTS_HTTP_OK,
	    "5xx retried, then success");

	/* Scrobble an unwatched movie; the watched count goes up by one. */
	(void)pts_plex_list(c, movies, PTS_PLEX_TYPE_MOVIE, NULL, first_unwatched, rk, NULL);
	TAP_OK(rk[0] != '\0', "an unwatched movie to scrobble");
	TAP_OK(pts_plex_scrobble(c, rk, 1) == PTS_HTTP_OK, "scrobble");
	flt.watched_only = 1;
	flt.viewed_since = 0;
	TAP_OK(pts_plex_count(c, movies, PTS_PLEX_TYPE_MOVIE, &flt, &total) == PTS_HTTP_OK &&
	    total == watched + 1, "the scrobbled movie counts as watched");
	TAP_OK(pts_plex_scrobble(c, rk, 0) == PTS_HTTP_OK, "unscrobble");
	(void)ctl_post(f->plex, "/_control/faults/reset", NULL);
done:
	free(secs);
	pts_plex_close(c);
}

static void
test_plex_jobs(void)
{
	int64_t n;
	char *v;

	(void)pts_db_run(db, "INSERT INTO libraries(key, title, type, count, selected, present)"
	    " VALUES('1', 'Old title', 'movie', 0, 1, 1), ('zz', 'Gone', 'show', 5, 1, 1)", "");
	TAP_OK(pts_job_libraries_refresh(w, NULL) == 0, "libraries job");
	n = q_int("SELECT COUNT(*) FROM libraries WHERE present = 1");
	TAP_OK(n >= 2, "libraries stored (%lld)", (long long)n);
	TAP_OK(q_int("SELECT COUNT(*) FROM libraries WHERE type NOT IN ('movie','show')") == 0,
	    "only movie and show libraries");
	TAP_OK(q_int("SELECT present FROM libraries WHERE key = 'zz'") == 0,
	    "a library Plex no longer has is marked absent");
	TAP_OK(q_int("SELECT selected FROM libraries WHERE key = '1'") == 1,
	    "the selection is kept");
	TAP_OK(q_int("SELECT COUNT(*) FROM libraries WHERE key = '1' AND title <> 'Old title'"
	    " AND count > 0") == 1, "title and count updated");
	TAP_OK(q_int("SELECT COUNT(*) FROM libraries WHERE type = 'show' AND present = 1"
	    " AND count > 0") >= 1, "show libraries counted in episodes");
	v = pts_db_meta_get(db, "libraries_fetched_at");
	TAP_OK(v != NULL && strtoll(v, NULL, 10) > 1600000000, "libraries_fetched_at set");
	free(v);

	TAP_OK(pts_job_plex_in_progress_refresh(w, NULL) == 0, "Continue Watching job");
	n = q_int("SELECT COUNT(*) FROM plex_in_progress");
	TAP_OK(n > 0, "in-progress rows (%lld)", (long long)n);
	TAP_OK(q_int("SELECT COUNT(*) FROM plex_in_progress WHERE progress_percent > 0 AND"
	    " progress_percent < 100 AND type IN ('movie','episode')") == n,
	    "progress percent from viewOffset/duration");
	TAP_OK(q_int("SELECT COUNT(*) FROM plex_in_progress WHERE type = 'episode' AND"
	    " (show IS NULL OR season IS NULL OR episode IS NULL)") == 0, "episodes carry show/S/E");
	TAP_OK(q_int("SELECT COUNT(*) FROM plex_in_progress WHERE poster LIKE '/posters/%.png'")
	    > 0, "posters from TMDb, kept on the box (same-origin paths)");
	v = pts_db_meta_get(db, "plex_in_progress_fetched_at");
	TAP_OK(v != NULL, "plex_in_progress_fetched_at set");
	free(v);
}

/* ==== Trakt sign-in ==== */

static void
test_trakt_signin(const struct fakes *f)
{
	pid_t child;
	char *v;

	/* No secret: a clear error, no call. */
	(void)pts_db_run(db, "DELETE FROM settings WHERE key = 'trakt_client_secret'", "");
	TAP_OK(pts_job_auth_trakt(w, NULL) == -1, "Trakt sign-in without a client secret fails");
	TAP_OK(auth_state_is("trakt", "error"), "row 'error'");
	v = auth_col("trakt", "error");
	TAP_OK(v != NULL && strstr(v, "Settings") != NULL, "with a message: %s", v ? v : "");
	free(v);
	set_setting("trakt_client_secret", "trakt-client-secret");

	/* Expired code. */
	TAP_OK(ctl_post(f->trakt, "/_control/state", "{\"device_interval\": 1,"
	    " \"device_expires_in\": 2, \"device_auto_approve_after_polls\": 0}"),
	    "Trakt: 2 s device codes");
	TAP_OK(pts_job_auth_trakt(w, NULL) == 0 && auth_state_is("trakt", "expired"),
	    "an unused device code ends 'expired'");

	/* Denied: a helper process says no while the job polls. */
	TAP_OK(ctl_post(f->trakt, "/_control/state", "{\"device_expires_in\": 60}"),
	    "Trakt: 60 s device codes");
	child = fork();
	if (child == 0) {
		struct timespec ts = { 1, 500 * 1000000L };
		long st;
		char *r;

		nanosleep(&ts, NULL);
		r = ctl(f->trakt, "POST", "/_control/device/deny", "{}", &st);
		free(r);
		_exit(st == 200 ? 0 : 1);
	}
	TAP_OK(pts_job_auth_trakt(w, NULL) == 0, "denied sign-in ends normally");
	waitpid(child, NULL, 0);
	TAP_OK(auth_state_is("trakt", "error"), "denied: row 'error'");
	v = auth_col("trakt", "error");
	TAP_OK(v != NULL && strstr(v, "declined") != NULL, "error text says the sign-in was declined");
	free(v);

	/* Approved. */
	TAP_OK(ctl_post(f->trakt, "/_control/state", "{\"device_auto_approve_after_polls\": 2}"),
	    "Trakt: approve after 2 polls");
	TAP_OK(pts_job_auth_trakt(w, NULL) == 0, "Trakt sign-in job succeeds");
	TAP_OK(auth_state_is("trakt", "authorized"), "trakt row 'authorized'");
	v = auth_col("trakt", "user");
	TAP_STREQ(v, "traktuser", "user name from /users/settings");
	free(v);
	TAP_OK(q_int("SELECT token_expires_at - strftime('%s','now') FROM auth WHERE service ="
	    " 'trakt'") > 604800 - 30, "expiry = created_at + expires_in (7 days here)");
	TAP_OK(q_int("SELECT COUNT(*) FROM auth WHERE service = 'trakt' AND refresh_token IS NOT"
	    " NULL AND flow_id IS NULL AND code IS NULL") == 1, "refresh token kept, flow cleared");
}

/* ==== Trakt reads, faults, writes ==== */

static int64_t
history_count(const struct fakes *f)
{
	json_object *j = ctl_json(f->trakt, "/_control/history");
	int64_t n = pts_json_int(j, "count", -1);

	json_object_put(j);
	return n;
}

static void
test_trakt(const struct fakes *f)
{
	struct pts_trakt *t = pts_trakt_open(w);
	struct pts_trakt_activities a;
	struct pts_trakt_movies m = { 0 };
	struct pts_trakt_shows s = { 0 };
	struct pts_trakt_plays p = { 0 };
	struct pts_meter_counts c0, c1;
	struct pts_trakt_hist_item it[2];
	struct pts_trakt_hist_result res;
	char body[256], *old_refresh = NULL, *old_access = NULL;
	int64_t calls, hist;
	double t0;

	TAP_OK(t != NULL && t->access_token != NULL, "Trakt client with the stored token");
	if (t == NULL)
		return;
	TAP_OK(pts_trakt_last_activities(t, &a) == PTS_HTTP_OK && a.all > 0, "last activities");
	TAP_OK(pts_trakt_watched_movies(t, &m) == PTS_HTTP_OK && m.n > 0, "watched movies (%zu)",
	    m.n);
	TAP_OK(pts_trakt_watched_shows(t, &s) == PTS_HTTP_OK && s.n > 0 && s.neps > 0,
	    "watched shows with progress (%zu shows, %zu episodes)", s.n, s.neps);
	TAP_OK(pts_trakt_history(t, NULL, 0, 0, 0, &p) == PTS_HTTP_OK &&
	    (int64_t)p.n == history_count(f), "the whole history (%zu plays)", p.n);
	pts_trakt_plays_free(&p);
	TAP_OK(pts_trakt_history(t, "movies", 0, 0, 2, &p) == PTS_HTTP_OK && p.n == 2 &&
	    !p.v[0].is_episode && p.v[0].watched_at >= p.v[1].watched_at,
	    "history of movies, newest first, bounded");
	pts_trakt_plays_free(&p);

	/* 429 honoured: the Retry-After wait, then success. */
	pts_meter_counts("trakt", &c0);
	TAP_OK(ctl_post(f->trakt, "/_control/faults", "{\"fail_next\": [429]}"), "Trakt: one 429");
	t0 = now_s();
	TAP_OK(pts_trakt_last_activities(t, &a) == PTS_HTTP_OK, "429 then success");
	pts_meter_counts("trakt", &c1);
	TAP_OK(now_s() - t0 >= 0.9 && c1.rate_limited == c0.rate_limited + 1,
	    "waited Retry-After (%.1f s) and counted it", now_s() - t0);

	/* 5xx retried. */
	TAP_OK(ctl_post(f->trakt, "/_control/faults", "{\"fail_next\": [502, 500, 520]}"),
	    "Trakt: three 5xx");
	TAP_OK(pts_trakt_last_activities(t, &a) == PTS_HTTP_OK, "5xx retried, then success");
	pts_meter_counts("trakt", &c0);
	TAP_OK(c0.retries - c1.retries == 3, "3 retries counted");
	TAP_OK(ctl_post(f->trakt, "/_control/faults", "{\"fail_next\": [503, 503, 503, 503]}"),
	    "Trakt: 5xx four times");
	calls = pts_meter_endpoint_calls("GET", "/sync/last_activities");
	TAP_OK(pts_trakt_last_activities(t, &a) == PTS_HTTP_HTTP_ERROR &&
	    pts_meter_endpoint_calls("GET", "/sync/last_activities") - calls == PTS_HTTP_MAX_TRIES,
	    "gives up after %d attempts", PTS_HTTP_MAX_TRIES);

	/* Malformed and oversized bodies. */
	TAP_OK(ctl_post(f->trakt, "/_control/faults", "{\"fail_next\": [\"malformed\"]}"),
	    "Trakt: one malformed body");
	pts_trakt_movies_free(&m);
	TAP_OK(pts_trakt_watched_movies(t, &m) == PTS_HTTP_OK && m.n > 0,
	    "a truncated body is fetched again");
	TAP_OK(ctl_post(f->trakt, "/_control/faults", "{\"fail_next\": [\"malformed\","
	    " \"malformed\", \"malformed\", \"malformed\"]}"), "Trakt: malformed bodies");
	pts_trakt_movies_free(&m);
	TAP_OK(pts_trakt_watched_movies(t, &m) == PTS_HTTP_BAD_RESPONSE && m.n == 0,
	    "malformed every time: clean BAD_RESPONSE");
	TAP_OK(ctl_post(f->trakt, "/_control/faults", "{\"fail_next\": [\"oversized\"]}"),
	    "Trakt: an oversized body");
	calls = pts_meter_endpoint_calls("GET", "/sync/watched/movies");
	TAP_OK(pts_trakt_watched_movies(t, &m) == PTS_HTTP_BAD_RESPONSE &&
	    pts_meter_endpoint_calls("GET", "/sync/watched/movies") - calls == 1,
	    "over the byte cap: BAD_RESPONSE at once, not retried");
	(void)ctl_post(f->trakt, "/_control/faults/reset", NULL);
	TAP_OK(pts_trakt_watched_movies(t, &m) == PTS_HTTP_OK && m.n > 0, "movies again");

	/* 401 -> refresh once -> retry. */
	old_access = strdup(t->access_token);
	old_refresh = strdup(t->refresh_token);
	snprintf(body, sizeof(body), "{\"access_token\": \"%s\"}", t->access_token);
	TAP_OK(ctl_post(f->trakt, "/_control/expire_token", body), "Trakt: token expired");
	TAP_OK(pts_trakt_last_activities(t, &a) == PTS_HTTP_OK, "401, refresh, retry: success");
	TAP_OK(strcmp(t->access_token, old_access) != 0 &&
	    strcmp(t->refresh_token, old_refresh) != 0, "a new token pair in use");
	{
		char *stored = auth_col("trakt", "refresh_token");

		TAP_OK(stored != NULL && strcmp(stored, t->refresh_token) == 0,
		    "the new pair is stored");
		free(stored);
	}
	/* Proactive refresh when the expiry is near. */
	t->token_expires_at = pts_now() + 60;
	free(old_access);
	old_access = strdup(t->access_token);
	TAP_OK(pts_trakt_ensure_token(t) == PTS_HTTP_OK && strcmp(t->access_token, old_access) != 0,
	    "ensure_token refreshes a token about to expire");
	free(old_access);
	old_access = strdup(t->access_token);
	TAP_OK(pts_trakt_ensure_token(t) == PTS_HTTP_OK && strcmp(t->access_token, old_access) == 0,
	    "and leaves a fresh one alone");

	/* A reused (dead) refresh token: the row becomes 'expired'. */
	free(t->refresh_token);
	t->refresh_token = strdup(old_refresh);
	snprintf(body, sizeof(body), "{\"access_token\": \"%s\"}", t->access_token);
	TAP_OK(ctl_post(f->trakt, "/_control/expire_token", body), "Trakt: token expired again");
	{
		enum pts_http_result r = pts_trakt_last_activities(t, &a);

		TAP_OK(r == PTS_HTTP_HTTP_ERROR, "a refused refresh fails the call (%s)",
		    pts_http_result_name(r));
	}
	TAP_OK(auth_state_is("trakt", "expired"), "a reused refresh token: row 'expired'");
	TAP_OK(t->access_token == NULL, "the client forgot the dead tokens");
	free(old_access);
	free(old_refresh);

	/* Sign in again by installing a token pair on the fake. */
	{
		struct pts_trakt_token tok = { 0 };

		TAP_OK(ctl_post(f->trakt, "/_control/token", "{\"access_token\": \"tok-a\","
		    " \"refresh_token\": \"ref-a\"}"), "Trakt: token installed");
		tok.access_token = strdup("tok-a");
		tok.refresh_token = strdup("ref-a");
		tok.expires_at = pts_now() + 604800;
		tok.lifetime = 604800;
		TAP_OK(pts_trakt_store_tokens(t, &tok) == 0 && auth_state_is("trakt", "authorized"),
		    "tokens stored: authorized again");
		pts_trakt_token_clear(&tok);
	}

	/* Writes: pacing, results, never re-sent when the outcome is unknown. */
	memset(it, 0, sizeof(it));
	it[0].kind = PTS_TRAKT_MOVIE;
	it[0].ids = m.v[0].ids;
	it[0].watched_at = 1600000000;
	it[1].kind = PTS_TRAKT_MOVIE;
	snprintf(it[1].ids.imdb, sizeof(it[1].ids.imdb), "tt0000001");
	it[1].watched_at = 1600000000;
	hist = history_count(f);
	pts_meter_counts("trakt", &c0);
	TAP_OK(pts_trakt_history_add(t, it, 2, &res) == PTS_HTTP_OK && res.movies == 1 &&
	    res.not_found == 1 && !it[0].not_found && it[1].not_found,
	    "history add: one added, the unknown one flagged not found");
	TAP_OK(history_count(f) == hist + 1, "one play recorded");
	t0 = now_s();
	TAP_OK(pts_trakt_history_add(t, it, 1, &res) == PTS_HTTP_OK, "a second write");
	pts_meter_counts("trakt", &c1);
	TAP_OK(now_s() - t0 >= 0.9 && c1.rate_limited == c0.rate_limited,
	    "writes paced one per second, no 429 (%.2f s)", now_s() - t0);

	TAP_OK(ctl_post(f->trakt, "/_control/faults", "{\"fail_next\": [502]}"),
	    "Trakt: a 502 on the next write");
	hist = history_count(f);
	calls = pts_meter_endpoint_calls("POST", "/sync/history");
	TAP_OK(pts_trakt_history_add(t, it, 1, &res) == PTS_HTTP_UNKNOWN, "502: outcome unknown");
	TAP_OK(pts_meter_endpoint_calls("POST", "/sync/history") - calls == 1,
	    "a non-idempotent write is not sent again");
	TAP_OK(ctl_post(f->trakt, "/_control/faults", "{\"fail_next\": [\"lost\"]}"),
	    "Trakt: a lost answer (applied, then 502)");
	TAP_OK(pts_trakt_history_add(t, it, 1, &res) == PTS_HTTP_UNKNOWN &&
	    history_count(f) == hist + 1, "lost answer: unknown, applied once, not re-sent");
	TAP_OK(ctl_post(f->trakt, "/_control/faults", "{\"fail_next\": [429]}"),
	    "Trakt: a 429 on the next write");
	TAP_OK(pts_trakt_history_add(t, it, 1, &res) == PTS_HTTP_OK && history_count(f) == hist + 2,
	    "a 429 on a write is safe to retry (not applied)");
	it[0].watched_at = 0;
	TAP_OK(pts_trakt_history_remove(t, it, 1, &res) == PTS_HTTP_OK && res.movies >= 1,
	    "history remove (every play of the movie)");

	/* Network failure: nothing listens there. */
	setenv("PTS_TRAKT_API_URL", "http://127.0.0.1:9", 1);
	TAP_OK(pts_trakt_last_activities(t, &a) == PTS_HTTP_NETWORK, "no server: NETWORK");
	TAP_OK(pts_trakt_history_add(t, it, 1, &res) == PTS_HTTP_NETWORK,
	    "a refused connection is not 'unknown' (never sent)");
	setenv("PTS_TRAKT_API_URL", f->trakt, 1);

	/* Stop during a long pacing wait. */
	pts_rl_configure(1, 60, 1000);
	TAP_OK(pts_trakt_last_activities(t, &a) == PTS_HTTP_OK, "budget of 1 GET a minute: used");
	signal(SIGALRM, on_alarm);
	term_flag = 0;
	w->term = &term_flag;
	alarm(1);
	t0 = now_s();
	TAP_OK(pts_trakt_last_activities(t, &a) == PTS_HTTP_CANCELLED &&
	    now_s() - t0 < 3, "stop works during a rate-limit wait (%.1f s)", now_s() - t0);
	w->term = NULL;
	w->cancelled = 0;
	pts_rl_configure(PTS_RL_GET_COUNT_DEFAULT, PTS_RL_GET_PERIOD_S_DEFAULT,
	    PTS_RL_POST_INTERVAL_MS_DEFAULT);

	pts_trakt_movies_free(&m);
	pts_trakt_shows_free(&s);
	pts_trakt_close(t);
}

/* ==== TMDb ==== */

/* The stored TMDb poster path of a cache key ("/m1234abcd.jpg"), malloc'd or NULL. */
static char *
tmdb_cached_path(const char *key)
{
	char *v = NULL;

	(void)pts_db_text(db, &v, "SELECT value FROM meta_cache WHERE kind = 'tmdb_poster' AND"
	    " key = ?", "s", key);
	return v;
}

/* The calls made to the fake's image URL of a poster path. */
static int64_t
tmdb_image_calls(const char *poster_path)
{
	char path[300];

	snprintf(path, sizeof(path), "/t/p/w342%s", poster_path ? poster_path : "");
	return pts_meter_endpoint_calls("GET", path);
}

/* A kept poster file: 1 when a regular 0644 file starting with the PNG signature. */
static int
poster_file_ok(const char *url)
{
	char path[1024], head[8] = { 0 };
	struct stat st;
	FILE *fp;

	if (url == NULL || strncmp(url, PTS_POSTERS_URL_PREFIX, strlen(PTS_POSTERS_URL_PREFIX)))
		return 0;
	snprintf(path, sizeof(path), "%s/posters/%s", pts_paths_data_dir(),
	    url + strlen(PTS_POSTERS_URL_PREFIX));
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != 0644 ||
	    (fp = fopen(path, "rb")) == NULL)
		return 0;
	if (fread(head, 1, sizeof(head), fp) != sizeof(head))
		head[0] = 0;
	fclose(fp);
	return memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0;
}

static void
test_tmdb(const struct fakes *f)
{
	struct pts_tmdb *tm = pts_tmdb_open(w);
	struct pts_ids ids;
	int64_t calls, imgs;
	char *u1, *u2, *tpath, file[1024];

	(void)f;
	memset(&ids, 0, sizeof(ids));
	ids.tmdb = 155;   /* The Dark Knight: in the default corpus */
	calls = pts_meter_endpoint_calls("GET", "/3/movie/155");
	u1 = pts_tmdb_poster(tm, PTS_TMDB_MOVIE, &ids);
	tpath = tmdb_cached_path("movie:tmdb:155");
	TAP_OK(u1 != NULL && tpath != NULL && strncmp(u1, "/posters/", 9) == 0 &&
	    strstr(u1, ".png") != NULL && strlen(u1) > 13, "poster by tmdb id: a same-origin path"
	    " named after TMDb's path, typed by its bytes: %s", u1 ? u1 : "(null)");
	TAP_OK(tmdb_image_calls(tpath) == 1, "its image fetched from the image base (w342)");
	TAP_OK(poster_file_ok(u1), "kept under the data folder: 0644, a PNG");
	imgs = tmdb_image_calls(tpath);
	u2 = pts_tmdb_poster(tm, PTS_TMDB_MOVIE, &ids);
	TAP_OK(u2 != NULL && u1 != NULL && strcmp(u1, u2) == 0 &&
	    pts_meter_endpoint_calls("GET", "/3/movie/155") - calls == 1 &&
	    tmdb_image_calls(tpath) == imgs, "second lookup from the cache and the folder (no call)");
	free(u2);
	/* A file pruned (or lost) is fetched again on the next lookup. */
	if (u1 != NULL) {
		snprintf(file, sizeof(file), "%s/posters/%s", pts_paths_data_dir(), u1 + 9);
		(void)unlink(file);
	}
	u2 = pts_tmdb_poster(tm, PTS_TMDB_MOVIE, &ids);
	TAP_OK(u2 != NULL && u1 != NULL && strcmp(u1, u2) == 0 && poster_file_ok(u2) &&
	    tmdb_image_calls(tpath) == imgs + 1, "a missing file is fetched again");
	free(u1);
	free(u2);
	free(tpath);
	memset(&ids, 0, sizeof(ids));
	snprintf(ids.imdb, sizeof(ids.imdb), "tt0468569");
	u1 = pts_tmdb_poster(tm, PTS_TMDB_MOVIE, &ids);
	TAP_OK(u1 != NULL && pts_meter_endpoint_calls("GET", "/3/find/tt0468569") == 1 &&
	    poster_file_ok(u1), "poster by imdb id via /3/find");
	free(u1);
	memset(&ids, 0, sizeof(ids));
	ids.tmdb = 99999999;
	calls = pts_meter_endpoint_calls("GET", "/3/movie/99999999");
	u1 = pts_tmdb_poster(tm, PTS_TMDB_MOVIE, &ids);
	u2 = pts_tmdb_poster(tm, PTS_TMDB_MOVIE, &ids);
	TAP_OK(u1 == NULL && u2 == NULL && pts_meter_endpoint_calls("GET", "/3/movie/99999999") -
	    calls == 1, "unknown title: no poster, and the miss is cached");
	TAP_OK(q_int("SELECT COUNT(*) FROM meta_cache WHERE kind = 'tmdb_poster' AND"
	    " key = 'movie:tmdb:99999999' AND value IS NULL") == 1, "negative cache row");
	pts_tmdb_close(tm);

	/* An image host that does not answer: no poster, and the job stops asking. */
	(void)pts_db_run(db, "UPDATE meta_cache SET value = '/notkept.jpg' WHERE"
	    " kind = 'tmdb_poster' AND key = 'movie:tmdb:155'", "");
	setenv("PTS_TMDB_API_URL", "http://127.0.0.1:9", 1);   /* nothing listens: refused */
	tm = pts_tmdb_open(w);
	memset(&ids, 0, sizeof(ids));
	ids.tmdb = 155;
	TAP_OK(pts_tmdb_poster(tm, PTS_TMDB_MOVIE, &ids) == NULL && tm->failed,
	    "image host unreachable: no poster, no more tries in this job");
	pts_tmdb_close(tm);
	setenv("PTS_TMDB_API_URL", f->tmdb, 1);
	(void)pts_db_run(db, "DELETE FROM meta_cache WHERE kind = 'tmdb_poster' AND"
	    " key = 'movie:tmdb:155'", "");

	(void)pts_db_run(db, "DELETE FROM settings WHERE key = 'tmdb_api_key'", "");
	tm = pts_tmdb_open(w);
	memset(&ids, 0, sizeof(ids));
	ids.tmdb = 272;
	calls = pts_meter_endpoint_calls("GET", "/3/movie/272");
	TAP_OK(pts_tmdb_poster(tm, PTS_TMDB_MOVIE, &ids) == NULL &&
	    pts_meter_endpoint_calls("GET", "/3/movie/272") == calls, "no key: no poster, no call");
	pts_tmdb_close(tm);
	set_setting("tmdb_api_key", "tmdb-key");
}

/* ==== Trakt jobs ==== */

static void
test_trakt_jobs(const struct fakes *f)
{
	int64_t n, want = history_count(f), job = 0;
	json_object *st;
	char *args, *tok = auth_col("trakt", "access_token");

	if (want > 100)
		want = 100;
	TAP_OK(pts_job_trakt_history_refresh(w, NULL) == 0, "Trakt history job");
	n = q_int("SELECT COUNT(*) FROM trakt_history");
	TAP_OK(n == want, "%lld rows (want %lld)", (long long)n, (long long)want);
	TAP_OK(q_int("SELECT COUNT(*) FROM trakt_history WHERE ids LIKE '{\"trakt\":%' AND"
	    " type IN ('movie','episode') AND watched_at > 0") == n, "ids JSON, type, watched_at");
	TAP_OK(q_int("SELECT COUNT(*) FROM trakt_history WHERE type = 'episode' AND show IS NOT"
	    " NULL AND season IS NOT NULL") == q_int("SELECT COUNT(*) FROM trakt_history WHERE"
	    " type = 'episode'"), "episodes carry show and numbers");
	TAP_OK(q_int("SELECT COUNT(*) FROM trakt_history WHERE poster IS NOT NULL") > 0 &&
	    q_int("SELECT COUNT(*) FROM trakt_history WHERE poster NOT LIKE '/posters/%'") == 0,
	    "posters for the plays, as same-origin paths");
	TAP_OK(q_int("SELECT MIN(pos) FROM trakt_history") == 1 &&
	    q_int("SELECT COUNT(*) FROM trakt_history a JOIN trakt_history b ON b.pos = a.pos + 1"
	    " WHERE b.watched_at > a.watched_at") == 0, "newest first by pos");

	/* Sign-out: revoke, then scrub the job's args. */
	if (tok != NULL) {
		json_object *a = json_object_new_object();

		pts_json_add_str(a, "access_token", tok);
		(void)pts_jobs_enqueue(db, "signout_trakt", json_object_to_json_string(a), &job);
		w->job_id = job;
		TAP_OK(pts_job_signout_trakt(w, a) == 0, "sign-out job");
		w->job_id = 0;
		json_object_put(a);
		(void)pts_db_text(db, &args, "SELECT args FROM jobs WHERE id = ?", "i", job);
		TAP_STREQ(args, "{}", "the token is scrubbed from the job's args");
		free(args);
		st = ctl_json(f->trakt, "/_control/state?keys=tokens");
		{
			json_object *toks, *one;

			TAP_OK(json_object_object_get_ex(st, "tokens", &toks) &&
			    json_object_object_get_ex(toks, tok, &one) &&
			    pts_json_bool(one, "revoked", 0) == 1, "the token is revoked on Trakt");
		}
		json_object_put(st);
		free(tok);
	}
}

/* ==== Counters ==== */

static void
test_counters(void)
{
	TAP_OK(pts_meter_flush(db, 1) == 0, "counters flushed");
	TAP_OK(q_int("SELECT COUNT(*) FROM api_counters WHERE calls > 0") == 4,
	    "calls counted for plex, plextv, trakt, tmdb");
	TAP_OK(q_int("SELECT rate_limited FROM api_counters WHERE service = 'trakt'") >= 2 &&
	    q_int("SELECT retries FROM api_counters WHERE service = 'trakt'") >= 3 &&
	    q_int("SELECT errors FROM api_counters WHERE service = 'trakt'") >= 1,
	    "Trakt retries, 429s and errors counted");
	TAP_OK(pts_meter_flush(db, 1) == 0 &&
	    q_int("SELECT SUM(calls) FROM api_counters") > 0, "a second flush adds nothing twice");
}

/* ==== 1,000-item listing and Trakt pagination on a generated corpus ==== */

static void
test_generated(const struct fakes *g)
{
	struct pts_plex_section *secs = NULL;
	struct counter c1 = { 0 }, c2 = { 0 };
	struct pts_trakt_movies m = { 0 };
	struct pts_trakt_plays p = { 0 };
	struct pts_trakt_token tok = { 0 };
	struct pts_meter_counts pc0, pc1;
	struct pts_http_resp resp;
	struct pts_plex *c;
	struct pts_trakt *t;
	int64_t total = -1, pages, items_expected;
	char path[64];
	const char *key = NULL;
	size_t n = 0, i;

	use_fakes(g);
	(void)pts_db_run(db, "UPDATE auth SET state = 'authorized', access_token = ? WHERE"
	    " service = 'plex'", "s", g->plex_token);
	c = pts_plex_open(w);
	TAP_OK(c != NULL && pts_plex_sections(c, &secs, &n) == PTS_HTTP_OK, "generated: sections");
	for (i = 0; i < n; i++) {
		int64_t cnt = -1;

		if (strcmp(secs[i].type, "movie") == 0 &&
		    pts_plex_count(c, secs[i].key, PTS_PLEX_TYPE_MOVIE, NULL, &cnt) == PTS_HTTP_OK &&
		    cnt >= 1000) {
			key = secs[i].key;
			total = cnt;
			break;
		}
	}
	TAP_OK(key != NULL, "a library of at least 1,000 movies (%lld)", (long long)total);
	if (key == NULL)
		goto done;
	snprintf(path, sizeof(path), "/library/sections/%s/all", key);
	pts_meter_endpoints_reset();
	pts_meter_counts("plex", &pc0);
	TAP_OK(pts_plex_count(c, key, PTS_PLEX_TYPE_MOVIE, NULL, &total) == PTS_HTTP_OK &&
	    pts_plex_list(c, key, PTS_PLEX_TYPE_MOVIE, NULL, count_item, &c1, NULL) ==
	    PTS_HTTP_OK && c1.n == total, "count + listing of %lld items", (long long)total);
	pts_meter_counts("plex", &pc1);
	pages = (total + PTS_PLEX_PAGE_SIZE - 1) / PTS_PLEX_PAGE_SIZE;
	TAP_OK(pts_meter_endpoint_calls("GET", path) == 1 + pages,
	    "1 count call + %lld pages of %d", (long long)pages, PTS_PLEX_PAGE_SIZE);
	printf("# calls: %lld-item Plex library listing (count + pages of %d), %lld matched,"
	    " %lld watched:\n", (long long)total, PTS_PLEX_PAGE_SIZE, (long long)c1.matched,
	    (long long)c1.watched);
	fflush(stdout);
	pts_meter_endpoints_print(stdout, "#   ");
	printf("# calls: total %lld, retries %lld\n", (long long)(pc1.calls - pc0.calls),
	    (long long)(pc1.retries - pc0.retries));

	TAP_OK(ctl_post(g->plex, "/_control/state", "{\"max_page\": 100}"),
	    "generated Plex: pages of at most 100");
	pts_meter_endpoints_reset();
	TAP_OK(pts_plex_list(c, key, PTS_PLEX_TYPE_MOVIE, NULL, count_item, &c2, NULL) ==
	    PTS_HTTP_OK && c2.n == total && pts_meter_endpoint_calls("GET", path) ==
	    (total + 99) / 100, "short pages: %lld calls for %lld items",
	    (long long)pts_meter_endpoint_calls("GET", path), (long long)total);
	printf("# calls: the same listing when the server caps pages at 100:\n");
	fflush(stdout);
	pts_meter_endpoints_print(stdout, "#   ");
	(void)ctl_post(g->plex, "/_control/state", "{\"max_page\": 0}");

	/* Trakt: lists longer than one page of 250. */
	TAP_OK(ctl_post(g->trakt, "/_control/token", "{\"access_token\": \"gen-a\","
	    " \"refresh_token\": \"gen-r\"}"), "generated Trakt: token installed");
	if ((t = pts_trakt_open(w)) == NULL)
		goto done;
	tok.access_token = strdup("gen-a");
	tok.refresh_token = strdup("gen-r");
	tok.expires_at = pts_now() + 604800;
	(void)pts_trakt_store_tokens(t, &tok);
	pts_trakt_token_clear(&tok);
	{
		struct pts_http_req req = { .w = w, .svc = PTS_HTTP_TRAKT, .method = "GET" };
		struct curl_slist *h = NULL;
		char *url;

		h = curl_slist_append(h, "trakt-api-key: trakt-client-id");
		h = curl_slist_append(h, "trakt-api-version: 2");
		h = curl_slist_append(h, "Authorization: Bearer gen-a");
		url = pts_http_url(g->trakt, "/sync/history?limit=1", NULL);
		req.url = url;
		req.headers = h;
		(void)pts_http_do(&req, &resp);
		items_expected = resp.item_count;
		pts_http_resp_free(&resp);
		curl_slist_free_all(h);
		free(url);
	}
	pts_meter_endpoints_reset();
	TAP_OK(items_expected > PTS_TRAKT_PAGE_LIMIT && pts_trakt_history(t, NULL, 0, 0, 0, &p) ==
	    PTS_HTTP_OK && (int64_t)p.n == items_expected,
	    "history across pages: %zu of %lld plays", p.n, (long long)items_expected);
	TAP_OK(pts_meter_endpoint_calls("GET", "/sync/history") ==
	    (items_expected + PTS_TRAKT_PAGE_LIMIT - 1) / PTS_TRAKT_PAGE_LIMIT,
	    "one call per page of %d (%lld)", PTS_TRAKT_PAGE_LIMIT,
	    (long long)pts_meter_endpoint_calls("GET", "/sync/history"));
	TAP_OK(pts_trakt_watched_movies(t, &m) == PTS_HTTP_OK && m.n > 0 &&
	    pts_meter_endpoint_calls("GET", "/sync/watched/movies") ==
	    (int64_t)(m.n + PTS_TRAKT_PAGE_LIMIT - 1) / PTS_TRAKT_PAGE_LIMIT,
	    "watched movies read page by page (%zu movies, %lld calls)", m.n,
	    (long long)pts_meter_endpoint_calls("GET", "/sync/watched/movies"));
	printf("# calls: Trakt reads on the generated corpus:\n");
	fflush(stdout);
	pts_meter_endpoints_print(stdout, "#   ");
	pts_trakt_plays_free(&p);
	pts_trakt_movies_free(&m);
	pts_trakt_close(t);
done:
	free(secs);
	pts_plex_close(c);
}

int
main(void)
{
	struct fakes f, g;
	char dbpath[512];

	memset(&f, 0, sizeof(f));
	memset(&g, 0, sizeof(g));
	pts_log_init("test_up_clients", PTS_LOG_ERROR);
	snprintf(tmpdir, sizeof(tmpdir), "%s/pts-up-XXXXXX", pts_env("TMPDIR", "/tmp"));
	if (mkdtemp(tmpdir) == NULL) {
		printf("not ok 1 - temporary folder: %s\n", strerror(errno));
		return 1;
	}
	setenv("PTS_DATA_DIR", tmpdir, 1);
	setenv("PTS_HTTP_BACKOFF_MS", "20", 1);
	pts_http_global_init();
	if (fakes_start(&f, NULL) != 0) {
		printf("# SKIP: cannot start tests/fakes/fakeup.py (python3 missing?)\n");
		fakes_stop(&f);
		pts_http_global_cleanup();
		return tap_done();
	}
	snprintf(dbpath, sizeof(dbpath), "%s/pts.db", tmpdir);
	TAP_OK(pts_db_open(dbpath, &db) == 0, "database");
	w->db = db;
	use_fakes(&f);

	test_plex_signin(&f);
	test_plex(&f);
	test_plex_jobs();
	test_trakt_signin(&f);
	test_trakt(&f);
	test_tmdb(&f);
	test_trakt_jobs(&f);
	test_counters();
	fakes_stop(&f);

	if (fakes_start(&g, "movies=1000,shows=8,episodes=300,watched=0.6,on_trakt=0.9,seed=7")
	    == 0)
		test_generated(&g);
	else
		TAP_OK(0, "generated fakes started");
	fakes_stop(&g);

	pts_db_close(db);
	pts_http_global_cleanup();
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (strstr(tmpdir, "/pts-up-") != NULL && system(cmd) != 0)
			printf("# could not remove %s\n", tmpdir);
	}
	return tap_done();
}

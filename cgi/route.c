/*
 * route.c - the API's routes and their query parameters, in one table.
 */
#include "route.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Most digits an {id} may have: any run or job id fits, and no overflow is possible. */
#define ROUTE_ID_DIGITS 18
/* Longest poster name stem ({name}; PTS_POSTERS_STEM_MAX of the worker). */
#define ROUTE_NAME_STEM_MAX 64

static const char *const log_levels[] = { "debug", "info", "warn", "error", NULL };

/* GET /api/log: after an id, at most limit lines, optionally one run or a minimum level. */
static const struct query_spec log_params[] = {
	{ "after", QUERY_INT, 0, INT64_MAX, 0, NULL },
	{ "limit", QUERY_INT, 1, 1000, 200, NULL },
	{ "run_id", QUERY_INT, 1, INT64_MAX, 0, NULL },
	{ "level", QUERY_ENUM, 0, 0, 0, log_levels },
	{ NULL, 0, 0, 0, 0, NULL }
};

static const struct query_spec runs_params[] = {
	{ "limit", QUERY_INT, 1, 500, 50, NULL },
	{ NULL, 0, 0, 0, 0, NULL }
};

static const struct query_spec history_params[] = {
	{ "limit", QUERY_INT, 1, 100, 100, NULL },
	{ NULL, 0, 0, 0, 0, NULL }
};

const struct route route_table[] = {
	{ REQ_GET, "health", h_health_get, ROUTE_PUBLIC | ROUTE_NODB | ROUTE_SETUP, NULL },
	{ REQ_POST, "login", h_login_post, ROUTE_PUBLIC | ROUTE_BODY | ROUTE_SETUP, NULL },
	{ REQ_POST, "logout", h_logout_post, 0, NULL },
	{ REQ_GET, "status", h_status_get, ROUTE_SNAPSHOT | ROUTE_SETUP | ROUTE_PROFILE, NULL },
	{ REQ_GET, "settings", h_settings_get, ROUTE_PROFILE, NULL },
	{ REQ_PUT, "settings", h_settings_put,
	    ROUTE_BODY | ROUTE_SETUP_PW | ROUTE_PROFILE, NULL },
	{ REQ_POST, "sync", h_sync_post, ROUTE_PROFILE, NULL },
	{ REQ_POST, "sync/stop", h_sync_stop_post, ROUTE_PROFILE, NULL },
	{ REQ_GET, "progress", h_progress_get, ROUTE_SNAPSHOT | ROUTE_PROFILE, NULL },
	{ REQ_GET, "log", h_log_get, ROUTE_SNAPSHOT | ROUTE_PROFILE, log_params },
	{ REQ_GET, "runs", h_runs_get, ROUTE_SNAPSHOT | ROUTE_PROFILE, runs_params },
	{ REQ_GET, "runs/{id}/changes", h_runs_changes_get, ROUTE_PROFILE, NULL },
	{ REQ_POST, "runs/{id}/undo", h_runs_undo_post, ROUTE_PROFILE, NULL },
	{ REQ_GET, "libraries", h_libraries_get, ROUTE_PROFILE, NULL },
	{ REQ_PUT, "libraries", h_libraries_put, ROUTE_BODY | ROUTE_PROFILE, NULL },
	{ REQ_POST, "libraries/refresh", h_libraries_refresh_post, ROUTE_PROFILE, NULL },
	{ REQ_GET, "auth/plex", h_auth_plex_get, ROUTE_OWNER, NULL },
	{ REQ_POST, "auth/plex", h_auth_plex_post, ROUTE_OWNER, NULL },
	{ REQ_DELETE, "auth/plex", h_auth_plex_delete, ROUTE_OWNER, NULL },
	{ REQ_GET, "auth/trakt", h_auth_trakt_get, ROUTE_PROFILE, NULL },
	{ REQ_POST, "auth/trakt", h_auth_trakt_post, ROUTE_PROFILE, NULL },
	{ REQ_DELETE, "auth/trakt", h_auth_trakt_delete, ROUTE_PROFILE, NULL },
	{ REQ_GET, "trakt/history", h_trakt_history_get, ROUTE_PROFILE, history_params },
	{ REQ_POST, "trakt/history/refresh", h_trakt_history_refresh_post,
	    ROUTE_PROFILE, NULL },
	{ REQ_GET, "trakt/duplicates", h_trakt_dupes_get, ROUTE_PROFILE, NULL },
	{ REQ_POST, "trakt/duplicates/scan", h_trakt_dupes_scan_post, ROUTE_PROFILE, NULL },
	{ REQ_POST, "trakt/duplicates/remove", h_trakt_dupes_remove_post, ROUTE_PROFILE,
	    NULL },
	{ REQ_GET, "plex/in-progress", h_plex_in_progress_get, ROUTE_PROFILE, NULL },
	{ REQ_GET, "plex/users", h_plex_users_get, 0, NULL },
	{ REQ_POST, "plex/users/refresh", h_plex_users_refresh_post, 0, NULL },
	/* Households (h_profiles.c). */
	{ REQ_GET, "profiles", h_profiles_get, ROUTE_SNAPSHOT, NULL },
	{ REQ_POST, "profiles", h_profiles_post, ROUTE_BODY, NULL },
	{ REQ_DELETE, "profiles/{id}", h_profiles_delete, ROUTE_DELETE_BODY, NULL },
	{ REQ_GET, "now-playing", h_nowplaying_get, ROUTE_SNAPSHOT, NULL },
	{ REQ_GET, "metrics", h_metrics_get, ROUTE_SNAPSHOT | ROUTE_BEARER, NULL },
	/* Poster images for hosts whose web server cannot read the data folder (h_posters.c). */
	{ REQ_GET, "posters/{name}", h_posters_get, ROUTE_NODB, NULL },
	/* Plex posts here with neither cookie nor CSRF header: the URL's token stands for both. */
	{ REQ_POST, "webhooks/plex", h_webhook_plex_post,
	    ROUTE_PUBLIC | ROUTE_NOCSRF | ROUTE_TOKEN | ROUTE_MULTIPART | ROUTE_BODY, NULL },
	{ REQ_GET, "webhooks/plex", h_webhook_plex_get, 0, NULL },
	{ REQ_POST, "webhooks/plex/rotate", h_webhook_plex_rotate_post, 0, NULL },
	{ REQ_OTHER, NULL, NULL, 0, NULL }
};

const char *
route_method_name(enum req_method m)
{
	switch (m) {
	case REQ_GET: return "GET";
	case REQ_POST: return "POST";
	case REQ_PUT: return "PUT";
	case REQ_DELETE: return "DELETE";
	case REQ_OTHER: break;
	}
	return "OTHER";
}

/*
 * A {name} segment: a poster file name as pts-worker writes them (worker/core/posters.h):
 * [A-Za-z0-9_-]{1,ROUTE_NAME_STEM_MAX} "." jpg|png|webp. 1 or 0.
 */
static int
route_name(const char *s, size_t len)
{
	static const char *const exts[] = { "jpg", "png", "webp", NULL };
	size_t n = 0, i;

	while (n < len && (isalnum((unsigned char)s[n]) || s[n] == '_' || s[n] == '-'))
		n++;
	if (n == 0 || n > ROUTE_NAME_STEM_MAX || n == len || s[n] != '.')
		return 0;
	for (i = 0; exts[i] != NULL; i++)
		if (len - n - 1 == strlen(exts[i]) && memcmp(s + n + 1, exts[i], len - n - 1) == 0)
			return 1;
	return 0;
}

/* Parse an {id} segment of len bytes. 0 or -1. */
static int
route_id(const char *s, size_t len, int64_t *id)
{
	int64_t v = 0;
	size_t i;

	if (len == 0 || len > ROUTE_ID_DIGITS || s[0] == '0')
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*id = v;
	return 0;
}

int
route_match(const char *pattern, const char *path, int64_t *id)
{
	const char *p = pattern, *q = path;

	*id = 0;
	for (;;) {
		size_t plen = strcspn(p, "/"), qlen = strcspn(q, "/");

		if (plen == 4 && memcmp(p, "{id}", 4) == 0) {
			if (route_id(q, qlen, id) != 0)
				return 0;
		} else if (plen == 6 && memcmp(p, "{name}", 6) == 0) {
			if (!route_name(q, qlen))
				return 0;
		} else if (plen != qlen || memcmp(p, q, plen) != 0) {
			return 0;
		}
		p += plen;
		q += qlen;
		if (*p == '\0' || *q == '\0')
			break;
		p++;
		q++;
	}
	if (*p != '\0' || *q != '\0')
		*id = 0;
	return *p == '\0' && *q == '\0';
}

const struct route *
route_lookup(enum req_method method, const char *path, int64_t *id, char *allow,
    size_t allowlen)
{
	const struct route *r;
	size_t used = 0;

	if (allowlen > 0)
		allow[0] = '\0';
	for (r = route_table; r->pattern != NULL; r++) {
		int64_t rid;

		if (!route_match(r->pattern, path, &rid))
			continue;
		if (r->method == method) {
			*id = rid;
			return r;
		}
		if (used < allowlen) {
			int n = snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "",
			    route_method_name(r->method));

			if (n > 0)
				used += (size_t)n;
		}
	}
	*id = 0;
	return NULL;
}

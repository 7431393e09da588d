/*
 * settings.c - the settings validation table and its storage.
 */
#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "log.h"
#include "secret.h"

static const char *const direction_choices[] = { "plex_to_trakt", "trakt_to_plex", "both", NULL };
static const char *const conflict_choices[] = { "newest", "plex", "trakt", NULL };
/* watchlist_plex_side: the account's watchlist (plex.tv) or a server collection. */
static const char *const wl_side_choices[] = { "account", "collection", NULL };
/* Whose sessions the live scrobbler follows: the signed-in account's, or everyone's. */
static const char *const scrobble_users_choices[] = { "owner", "all", NULL };

/* plex_url: an http(s) URL with a host, no spaces or control characters. */
static const char *
check_url(const char *v)
{
	const char *host, *p;

	if (*v == '\0')
		return NULL; /* "" clears it */
	if (strncmp(v, "http://", 7) == 0)
		host = v + 7;
	else if (strncmp(v, "https://", 8) == 0)
		host = v + 8;
	else
		return "must start with http:// or https://";
	if (*host == '\0' || *host == '/' || *host == ':')
		return "must name a host";
	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || (unsigned char)*p >= 0x80)
			return "must not contain spaces, control or non-ASCII characters";
	return NULL;
}

/* A title shown in Plex (a collection name): no control characters, not only spaces. */
static const char *
check_title(const char *v)
{
	const char *p;
	int text = 0;

	for (p = v; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "must not contain control characters";
		text |= *p != ' ';
	}
	return text ? NULL : "must not be blank";
}

/* Printable ASCII only (client ids, keys, secrets). */
static const char *
check_printable(const char *v)
{
	for (; *v != '\0'; v++)
		if ((unsigned char)*v < 0x20 || (unsigned char)*v > 0x7e)
			return "must be printable ASCII";
	return NULL;
}

/* The dashboard password: at least PTS_PASSWORD_MIN characters (UTF-8 code points). */
static const char *
check_password(const char *v)
{
	size_t chars = 0;

	for (; *v != '\0'; v++)
		chars += ((unsigned char)*v & 0xc0) != 0x80;
	return chars < PTS_PASSWORD_MIN ? "must be at least " PTS_STR(PTS_PASSWORD_MIN)
	    " characters" : NULL;
}

const struct pts_setting pts_settings[PTS_KEY__MAX + 1] = {
	[PTS_KEY_PLEX_URL] = { "plex_url", PTS_SET_STRING,
	    "", 0, PTS_SETTING_URL_MAX, NULL, check_url, 1 },
	[PTS_KEY_TRAKT_CLIENT_ID] = { "trakt_client_id", PTS_SET_STRING,
	    "", 1, 128, NULL, check_printable, 1 },
	[PTS_KEY_TRAKT_CLIENT_SECRET] = { "trakt_client_secret", PTS_SET_SECRET,
	    NULL, 1, PTS_SETTING_SECRET_MAX, NULL, check_printable, 1 },
	[PTS_KEY_TMDB_API_KEY] = { "tmdb_api_key", PTS_SET_SECRET,
	    NULL, 1, PTS_SETTING_SECRET_MAX, NULL, check_printable, 1 },
	[PTS_KEY_SYNC_DIRECTION] = { "sync_direction", PTS_SET_ENUM,
	    "plex_to_trakt", 0, 0, direction_choices, NULL },
	[PTS_KEY_SYNC_INTERVAL_HOURS] = { "sync_interval_hours", PTS_SET_INT,
	    "6", 0, 168, NULL, NULL },
	[PTS_KEY_SYNC_WATCHED] = { "sync_watched", PTS_SET_BOOL, "1", 0, 0, NULL, NULL },
	[PTS_KEY_SYNC_RATINGS] = { "sync_ratings", PTS_SET_BOOL, "0", 0, 0, NULL, NULL },
	[PTS_KEY_SYNC_WATCHLIST] = { "sync_watchlist", PTS_SET_BOOL, "0", 0, 0, NULL, NULL },
	[PTS_KEY_SYNC_PLAYBACK] = { "sync_playback", PTS_SET_BOOL, "0", 0, 0, NULL, NULL },
	[PTS_KEY_RATINGS_CONFLICT] = { "ratings_conflict", PTS_SET_ENUM,
	    "newest", 0, 0, conflict_choices, NULL },
	[PTS_KEY_WATCHLIST_COLLECTION] = { "watchlist_collection", PTS_SET_STRING,
	    "Watchlist", 1, 128, NULL, check_title },
	[PTS_KEY_WATCHLIST_REMOVE_MAX_PERCENT] = { "watchlist_remove_max_percent", PTS_SET_INT,
	    "25", 0, 100, NULL, NULL },
	[PTS_KEY_WATCHLIST_PLEX_SIDE] = { "watchlist_plex_side", PTS_SET_ENUM,
	    "account", 0, 0, wl_side_choices, NULL },
	[PTS_KEY_DRY_RUN] = { "dry_run", PTS_SET_BOOL, "0", 0, 0, NULL, NULL },
	/* Retention: runs kept with their changes, log lines and jobs (worker/jobs/retention.c). */
	[PTS_KEY_HISTORY_KEEP_RUNS] = { "history_keep_runs", PTS_SET_INT,
	    "1000", 5, 100000, NULL, NULL },
	[PTS_KEY_DASHBOARD_PASSWORD] = { "dashboard_password", PTS_SET_PASSWORD,
	    NULL, 1, 256, NULL, check_password, 1 },
	/*
	 * Live scrobbling from Plex's sessions (no Plex Pass needed; docs/API.md): one scrobbler
	 * for the server, so both are the installation's.
	 */
	[PTS_KEY_SCROBBLE_LIVE] = { "scrobble_live", PTS_SET_BOOL, "1", 0, 0, NULL, NULL, 1 },
	[PTS_KEY_SCROBBLE_USERS] = { "scrobble_users", PTS_SET_ENUM,
	    "owner", 0, 0, scrobble_users_choices, NULL, 1 },
	[PTS_KEY__MAX] = { NULL, 0, NULL, 0, 0, NULL, NULL }
};

const struct pts_setting *
pts_setting_get(enum pts_setting_key key)
{
	if ((unsigned)key >= PTS_KEY__MAX)
		return NULL;
	return &pts_settings[key];
}

const struct pts_setting *
pts_setting_find(const char *key)
{
	const struct pts_setting *s;

	for (s = pts_settings; s->key != NULL; s++)
		if (strcmp(s->key, key) == 0)
			return s;
	return NULL;
}

/* Is v the masked form {"set": bool} a client echoes back? */
static int
setting_is_mask(json_object *v)
{
	json_object *set;

	return json_object_is_type(v, json_type_object) && json_object_object_length(v) == 1 &&
	    json_object_object_get_ex(v, "set", &set) && json_object_is_type(set, json_type_boolean);
}

static const char *
setting_check_string(const struct pts_setting *s, json_object *v)
{
	const char *str;
	size_t len;

	if (!json_object_is_type(v, json_type_string))
		return "must be a string";
	str = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (strlen(str) != len)
		return "must not contain NUL bytes";
	/* Secrets: "" removes the secret, so the minimum length does not apply. */
	if (len == 0 && (s->type == PTS_SET_SECRET || s->type == PTS_SET_PASSWORD))
		return NULL;
	if ((int64_t)len < s->min || (int64_t)len > s->max) {
		if (s->min > 0)
			return s->max >= 1024 ? "is too long" : "has the wrong length";
		return "is too long";
	}
	return s->check ? s->check(str) : NULL;
}

/* Reason the value is bad for this setting, or NULL. */
static const char *
setting_check(const struct pts_setting *s, json_object *v)
{
	const char *const *c;
	int64_t n;

	switch (s->type) {
	case PTS_SET_STRING:
		return setting_check_string(s, v);
	case PTS_SET_SECRET:
	case PTS_SET_PASSWORD:
		if (setting_is_mask(v))
			return NULL;
		return setting_check_string(s, v);
	case PTS_SET_ENUM:
		if (!json_object_is_type(v, json_type_string))
			return "must be a string";
		for (c = s->choices; *c != NULL; c++)
			if (strcmp(*c, json_object_get_string(v)) == 0)
				return NULL;
		return "is not one of the allowed values";
	case PTS_SET_INT:
		if (!json_object_is_type(v, json_type_int))
			return "must be an integer";
		n = json_object_get_int64(v);
		if (n < s->min || n > s->max)
			return "is out of range";
		return NULL;
	case PTS_SET_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return "must be true or false";
		return NULL;
	}
	return "is not supported";
}

int
pts_settings_validate(json_object *body, json_object *fields)
{
	int bad = 0;

	if (!json_object_is_type(body, json_type_object))
		return -1;
	json_object_object_foreach(body, key, val) {
		const struct pts_setting *s = pts_setting_find(key);
		const char *why;

		if (s == NULL)
			why = "unknown setting";
		else
			why = setting_check(s, val);
		if (why != NULL) {
			json_object_object_add(fields, key, json_object_new_string(why));
			bad++;
		}
	}
	return bad;
}

/* The stored text for one validated value; NULL means "delete the row"; *keep = leave as is. */
static int
setting_store_one(sqlite3 *db, const struct pts_setting *s, json_object *v)
{
	char num[32], *hash = NULL;
	const char *text = NULL;
	int rc;

	switch (s->type) {
	case PTS_SET_SECRET:
	case PTS_SET_PASSWORD:
		if (setting_is_mask(v)) {
			json_object *set;

			json_object_object_get_ex(v, "set", &set);
			if (json_object_get_boolean(set))
				return 0; /* echoed mask: unchanged */
			text = NULL;  /* {"set": false}: remove */
			break;
		}
		text = json_object_get_string(v);
		if (*text == '\0') {
			text = NULL;
		} else if (s->type == PTS_SET_PASSWORD) {
			hash = pts_secret_hash_password(text);
			if (hash == NULL)
				return -1;
			text = hash;
		}
		break;
	case PTS_SET_INT:
		snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(v));
		text = num;
		break;
	case PTS_SET_BOOL:
		text = json_object_get_boolean(v) ? "1" : "0";
		break;
	case PTS_SET_STRING:
	case PTS_SET_ENUM:
		text = json_object_get_string(v);
		break;
	}
	if (text == NULL)
		rc = pts_db_run(db, "DELETE FROM settings WHERE key = ?", "s", s->key);
	else
		rc = pts_db_run(db, "INSERT INTO settings(key, value) VALUES(?, ?)"
		    " ON CONFLICT(key) DO UPDATE SET value = excluded.value", "ss", s->key, text);
	if (hash != NULL) {
		explicit_bzero(hash, strlen(hash));
		free(hash);
	}
	return rc;
}

int
pts_settings_apply(sqlite3 *db, json_object *body, json_object *fields)
{
	int bad = pts_settings_validate(body, fields);
	char now[32];

	if (bad < 0) {
		json_object_object_add(fields, "body", json_object_new_string("must be a JSON object"));
		return 1;
	}
	if (bad > 0)
		return 1;
	if (pts_db_profile(db) != 1) {
		json_object_object_foreach(body, k, v) {
			const struct pts_setting *s = pts_setting_find(k);

			(void)v;
			if (s != NULL && s->installation) {
				json_object_object_add(fields, k, json_object_new_string("is a setting"
				    " of the installation: set it on profile 1"));
				bad++;
			}
		}
		if (bad > 0)
			return 1;
	}
	if (pts_db_begin(db) != 0)
		return -1;
	json_object_object_foreach(body, key, val) {
		const struct pts_setting *s = pts_setting_find(key);

		/* Validated above, so every key is known; the check keeps -O2's analysis happy. */
		if (s == NULL || setting_store_one(db, s, val) != 0) {
			pts_db_rollback(db);
			return -1;
		}
	}
	/* The worker re-reads settings when this moves (schedule, URLs). */
	snprintf(now, sizeof(now), "%lld", (long long)pts_now_ms());
	if (pts_db_meta_set(db, "settings_changed", now) != 0 || pts_db_commit(db) != 0) {
		pts_db_rollback(db);
		return -1;
	}
	return 0;
}

/*
 * The stored text of a setting, or NULL when unset (caller frees). -1 on db error. A setting
 * of the installation is pts.db's on a profile's connection (dbprofile.h).
 */
static int
setting_raw(sqlite3 *db, const struct pts_setting *s, char **out)
{
	if (s->installation && pts_db_profile(db) != 1)
		return pts_db_text(db, out, "SELECT value FROM inst.settings WHERE key = ?", "s",
		    s->key);
	return pts_db_text(db, out, "SELECT value FROM settings WHERE key = ?", "s", s->key);
}

json_object *
pts_settings_to_json(sqlite3 *db)
{
	json_object *o = json_object_new_object();
	const struct pts_setting *s;

	for (s = pts_settings; s->key != NULL; s++) {
		char *raw = NULL;
		const char *v;

		if (setting_raw(db, s, &raw) != 0) {
			json_object_put(o);
			return NULL;
		}
		v = raw ? raw : s->dflt;
		switch (s->type) {
		case PTS_SET_SECRET:
		case PTS_SET_PASSWORD: {
			json_object *m = json_object_new_object();

			json_object_object_add(m, "set", json_object_new_boolean(raw != NULL && *raw));
			json_object_object_add(o, s->key, m);
			break;
		}
		case PTS_SET_INT:
			json_object_object_add(o, s->key, json_object_new_int64(strtoll(v, NULL, 10)));
			break;
		case PTS_SET_BOOL:
			json_object_object_add(o, s->key, json_object_new_boolean(strcmp(v, "1") == 0));
			break;
		case PTS_SET_STRING:
		case PTS_SET_ENUM:
			json_object_object_add(o, s->key, json_object_new_string(v));
			break;
		}
		free(raw);
	}
	return o;
}

int
pts_settings_read(sqlite3 *db, enum pts_setting_key key, char **out)
{
	const struct pts_setting *s = pts_setting_get(key);

	*out = NULL;
	if (s == NULL) {
		pts_log(PTS_LOG_ERROR, "settings: no setting %d", (int)key);
		return -1;
	}
	return setting_raw(db, s, out);
}

char *
pts_settings_get_str(sqlite3 *db, enum pts_setting_key key)
{
	const struct pts_setting *s = pts_setting_get(key);
	char *raw = NULL;

	if (s == NULL) {
		pts_log(PTS_LOG_ERROR, "settings: no setting %d (read as the empty string)", (int)key);
		return strdup("");
	}
	if (setting_raw(db, s, &raw) != 0 || raw == NULL)
		return strdup(s->dflt ? s->dflt : "");
	return raw;
}

int64_t
pts_settings_get_int(sqlite3 *db, enum pts_setting_key key)
{
	char *v = pts_settings_get_str(db, key);
	int64_t n = v ? strtoll(v, NULL, 10) : 0;

	free(v);
	return n;
}

int
pts_settings_get_bool(sqlite3 *db, enum pts_setting_key key)
{
	char *v = pts_settings_get_str(db, key);
	int b = v && strcmp(v, "1") == 0;

	free(v);
	return b;
}

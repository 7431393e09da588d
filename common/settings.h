/*
 * settings.h - the settings table (key, type, default, rule) of docs/API.md, shared by
 * pts-cgi (validation of PUT /api/settings, masked GET) and pts-worker (typed reads).
 *
 * Stored in the `settings` table as text: strings as is, integers in decimal, booleans
 * "0"/"1", the dashboard password as a crypt(3) hash. A missing row means the default.
 */
#ifndef PTS_SETTINGS_H
#define PTS_SETTINGS_H

#include <json-c/json.h>
#include <sqlite3.h>
#include <stdint.h>

/*
 * The settings by key: code reads a setting by its constant (pts_settings_get_*), never by its
 * name; names are for the edge (PUT bodies, the JSON of GET). Each constant is the index of
 * its row in pts_settings[] (tests/unit/test_settings.c checks that they agree).
 */
enum pts_setting_key {
	PTS_KEY_PLEX_URL,
	PTS_KEY_TRAKT_CLIENT_ID,
	PTS_KEY_TRAKT_CLIENT_SECRET,
	PTS_KEY_TMDB_API_KEY,
	PTS_KEY_SYNC_DIRECTION,
	PTS_KEY_SYNC_INTERVAL_HOURS,
	PTS_KEY_SYNC_WATCHED,
	PTS_KEY_SYNC_RATINGS,
	PTS_KEY_SYNC_WATCHLIST,
	PTS_KEY_SYNC_PLAYBACK,
	PTS_KEY_RATINGS_CONFLICT,
	PTS_KEY_WATCHLIST_COLLECTION,
	PTS_KEY_WATCHLIST_REMOVE_MAX_PERCENT,
	PTS_KEY_WATCHLIST_PLEX_SIDE,
	PTS_KEY_DRY_RUN,
	PTS_KEY_HISTORY_KEEP_RUNS,
	PTS_KEY_DASHBOARD_PASSWORD,
	PTS_KEY_SCROBBLE_LIVE,
	PTS_KEY_SCROBBLE_USERS,
	PTS_KEY__MAX
};

enum pts_setting_type {
	PTS_SET_STRING,
	PTS_SET_SECRET,
	PTS_SET_PASSWORD, /* a secret stored as a salted hash */
	PTS_SET_ENUM,
	PTS_SET_INT,
	PTS_SET_BOOL
};

struct pts_setting {
	const char *key;
	enum pts_setting_type type;
	const char *dflt;              /* as stored text; NULL for secrets */
	int64_t min, max;              /* integers: value range; strings: length range */
	const char *const *choices;    /* enums: NULL-terminated list */
	/* extra rule for strings; returns NULL when fine, else a reason (static string) */
	const char *(*check)(const char *value);
	/*
	 * 1: a setting of the installation, not of a person (households): it lives on profile 1,
	 * every profile's connection reads it from pts.db, and a PUT of it on another profile
	 * is refused on that field.
	 */
	int installation;
};

/* Longest secret accepted (client secrets and API keys are far shorter). */
#define PTS_SETTING_SECRET_MAX 512
/* Fewest characters of a dashboard password ("" removes it). */
#define PTS_PASSWORD_MIN 8
#define PTS_STR_(x) #x
#define PTS_STR(x) PTS_STR_(x)
/* Longest URL accepted for plex_url. */
#define PTS_SETTING_URL_MAX 2048

/* The table, indexed by enum pts_setting_key and ended by a {NULL} entry at PTS_KEY__MAX. */
extern const struct pts_setting pts_settings[PTS_KEY__MAX + 1];

const struct pts_setting *pts_setting_find(const char *key);

/*
 * Validate a PUT body (must be a JSON object). Every bad field gets a reason in fields
 * (a JSON object the caller owns); returns the number of bad fields, or -1 when body is not
 * an object. Nothing is written.
 */
int pts_settings_validate(json_object *body, json_object *fields);

/*
 * Validate and store a PUT body atomically: all fields or none. Returns 0 on success,
 * 1 when validation failed (reasons in fields), -1 on a database error. On the connection
 * of a profile other than 1, a setting of the installation is a bad field.
 */
int pts_settings_apply(sqlite3 *db, json_object *body, json_object *fields);

/* Every setting as JSON, secrets masked as {"set": bool}. NULL on a database error. */
json_object *pts_settings_to_json(sqlite3 *db);

/* The row of a setting by key (NULL for a value out of the enum's range). */
const struct pts_setting *pts_setting_get(enum pts_setting_key key);

/*
 * The stored text of a setting by key, for a reader that must tell a database error from
 * "unset" (the dashboard password: an error must not read as "no password"). 0 with *out a
 * malloc'd string the caller frees, or NULL when unset; -1 on a database error (logged).
 */
int pts_settings_read(sqlite3 *db, enum pts_setting_key key, char **out);

/*
 * Typed reads by key; the default when unset or unreadable (a database error is logged in
 * db.c). get_str returns a malloc'd string the caller frees (NULL only out of memory).
 */
char *pts_settings_get_str(sqlite3 *db, enum pts_setting_key key);
int64_t pts_settings_get_int(sqlite3 *db, enum pts_setting_key key);
int pts_settings_get_bool(sqlite3 *db, enum pts_setting_key key);

#endif

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
};

/* Longest secret accepted (client secrets and API keys are far shorter). */
#define PTS_SETTING_SECRET_MAX 512
/* Fewest characters of a dashboard password ("" removes it). */
#define PTS_PASSWORD_MIN 8
#define PTS_STR_(x) #x
#define PTS_STR(x) PTS_STR_(x)
/* Longest URL accepted for plex_url. */
#define PTS_SETTING_URL_MAX 2048

/* The table, ended by a {NULL} entry. */
extern const struct pts_setting pts_settings[];

const struct pts_setting *pts_setting_find(const char *key);

/*
 * Validate a PUT body (must be a JSON object). Every bad field gets a reason in fields
 * (a JSON object the caller owns); returns the number of bad fields, or -1 when body is not
 * an object. Nothing is written.
 */
int pts_settings_validate(json_object *body, json_object *fields);

/*
 * Validate and store a PUT body atomically: all fields or none. Returns 0 on success,
 * 1 when validation failed (reasons in fields), -1 on a database error.
 */
int pts_settings_apply(sqlite3 *db, json_object *body, json_object *fields);

/* Every setting as JSON, secrets masked as {"set": bool}. NULL on a database error. */
json_object *pts_settings_to_json(sqlite3 *db);

/* Typed reads for the worker; the default when unset or unreadable. */
char *pts_settings_get_str(sqlite3 *db, const char *key);     /* malloc'd, never NULL on success */
int64_t pts_settings_get_int(sqlite3 *db, const char *key);
int pts_settings_get_bool(sqlite3 *db, const char *key);

#endif

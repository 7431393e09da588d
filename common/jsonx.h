/*
 * jsonx.h - bounded JSON parsing and small json-c helpers.
 *
 * Every JSON document from outside (request bodies, upstream answers) is parsed here with a
 * size cap and a depth cap, and must be one complete value with nothing but whitespace after it.
 * Ownership: a parsed object is the caller's (json_object_put); NULL on error, with a short
 * reason in err (static string) when err is not NULL.
 */
#ifndef PTS_JSONX_H
#define PTS_JSONX_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting deeper than this is refused (request bodies and upstream answers alike). */
#define PTS_JSON_MAX_DEPTH 32

json_object *pts_json_parse(const char *buf, size_t len, size_t max_len, const char **err);

/* Typed getters: NULL / dflt when the key is absent or of another type. */
const char *pts_json_str(json_object *obj, const char *key);
int64_t pts_json_int(json_object *obj, const char *key, int64_t dflt);
int pts_json_bool(json_object *obj, const char *key, int dflt);
/* The member key when it is an object / an array (borrowed from obj), else NULL. */
json_object *pts_json_obj(json_object *obj, const char *key);
json_object *pts_json_arr(json_object *obj, const char *key);

/* Add helpers that tolerate NULL strings (added as JSON null). */
void pts_json_add_str(json_object *obj, const char *key, const char *val);
void pts_json_add_int(json_object *obj, const char *key, int64_t val);
void pts_json_add_bool(json_object *obj, const char *key, int val);
void pts_json_add_time(json_object *obj, const char *key, int64_t epoch); /* 0 → null */
/* Add arr under key when it has elements, else release it: arr is consumed either way. */
void pts_json_add_nonempty(json_object *obj, const char *key, json_object *arr);

#endif

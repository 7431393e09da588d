/*
 * jsonx.h - bounded JSON parsing and small json-c helpers.
 *
 * Every JSON document from outside (request bodies, upstream answers) is parsed here with a
 * size cap and a depth cap, and must be one complete value with nothing but whitespace after it.
 * A document with more than pts_json_max_nodes() values is refused unparsed
 * (PTS_JSON_ERR_TOO_MANY); one that ran out of memory says PTS_JSON_ERR_OOM.
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
/*
 * Values (objects, arrays, scalars) one document may hold; more is refused before parsing.
 * json-c spends a few hundred bytes per value, so a 64 MiB page of tiny objects would take
 * gigabytes: this keeps a parse under about a gigabyte while the biggest real answers (a Plex
 * page of 1000 items with their media, a Trakt page of 250 shows with every episode) stay well
 * below it. The environment variable PTS_JSON_MAX_NODES lowers it (tests).
 */
#define PTS_JSON_MAX_NODES 1000000

/* The reasons pts_json_parse gives that callers act on (compare with strcmp). */
#define PTS_JSON_ERR_TOO_MANY "JSON has too many values"
#define PTS_JSON_ERR_OOM "out of memory"

json_object *pts_json_parse(const char *buf, size_t len, size_t max_len, const char **err);

/*
 * An upper bound of the values in the JSON text buf[0..len): commas, "[" and "{" outside
 * strings, plus one. Stops counting past limit (returns limit + 1). No allocation.
 */
size_t pts_json_count_values(const char *buf, size_t len, size_t limit);

/* The value cap in force: PTS_JSON_MAX_NODES, or a smaller PTS_JSON_MAX_NODES from the env. */
size_t pts_json_max_nodes(void);

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

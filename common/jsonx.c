/*
 * jsonx.c - bounded JSON parsing and helpers.
 */
#include "jsonx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "timefmt.h"

size_t
pts_json_count_values(const char *buf, size_t len, size_t limit)
{
	size_t i, n = 1;
	int in_str = 0;

	for (i = 0; i < len && n <= limit; i++) {
		char c = buf[i];

		if (in_str) {
			if (c == '\\')
				i++;   /* the escaped character cannot end the string */
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == ',' || c == '[' || c == '{') {
			n++;
		}
	}
	return n;
}

size_t
pts_json_max_nodes(void)
{
	const char *env = pts_env("PTS_JSON_MAX_NODES", NULL);
	char *end;
	unsigned long long v;

	if (env == NULL || *env < '0' || *env > '9')
		return PTS_JSON_MAX_NODES;
	errno = 0;
	v = strtoull(env, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > PTS_JSON_MAX_NODES)
		return PTS_JSON_MAX_NODES;
	return (size_t)v;
}

json_object *
pts_json_parse(const char *buf, size_t len, size_t max_len, const char **err)
{
	json_tokener *tok;
	json_object *obj;
	size_t used;

	if (err != NULL)
		*err = NULL;
	if (len > max_len) {
		if (err != NULL)
			*err = "JSON too large";
		return NULL;
	}
	if (memchr(buf, '\0', len) != NULL) {
		if (err != NULL)
			*err = "JSON contains a NUL byte";
		return NULL;
	}
	if (len > (size_t)INT32_MAX) {
		if (err != NULL)
			*err = "JSON too large";
		return NULL;
	}
	if (pts_json_count_values(buf, len, pts_json_max_nodes()) > pts_json_max_nodes()) {
		if (err != NULL)
			*err = PTS_JSON_ERR_TOO_MANY;
		return NULL;
	}
	errno = 0;
	tok = json_tokener_new_ex(PTS_JSON_MAX_DEPTH);
	if (tok == NULL) {
		if (err != NULL)
			*err = PTS_JSON_ERR_OOM;
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		if (err != NULL)
			*err = errno == ENOMEM ? PTS_JSON_ERR_OOM
			    : e == json_tokener_continue ? "JSON truncated"
			    : e == json_tokener_error_depth ? "JSON nested too deeply"
			    : "malformed JSON";
		/* A bare null parses as NULL with success: treat it as a value we cannot use. */
		if (obj == NULL && e == json_tokener_success && err != NULL && errno != ENOMEM)
			*err = "JSON null";
		json_object_put(obj);
		json_tokener_free(tok);
		return NULL;
	}
	used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	for (; used < len; used++) {
		if (strchr(" \t\r\n", buf[used]) == NULL) {
			if (err != NULL)
				*err = "trailing data after JSON";
			json_object_put(obj);
			return NULL;
		}
	}
	return obj;
}

const char *
pts_json_str(json_object *obj, const char *key)
{
	json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int64_t
pts_json_int(json_object *obj, const char *key, int64_t dflt)
{
	json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return dflt;
	return json_object_get_int64(v);
}

int
pts_json_bool(json_object *obj, const char *key, int dflt)
{
	json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return dflt;
	return json_object_get_boolean(v);
}

/* The member key when it has the given type, else NULL. */
static json_object *
json_member(json_object *obj, const char *key, enum json_type type)
{
	json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

json_object *
pts_json_obj(json_object *obj, const char *key)
{
	return json_member(obj, key, json_type_object);
}

json_object *
pts_json_arr(json_object *obj, const char *key)
{
	return json_member(obj, key, json_type_array);
}

void
pts_json_add_str(json_object *obj, const char *key, const char *val)
{
	json_object_object_add(obj, key, val ? json_object_new_string(val) : NULL);
}

void
pts_json_add_int(json_object *obj, const char *key, int64_t val)
{
	json_object_object_add(obj, key, json_object_new_int64(val));
}

void
pts_json_add_bool(json_object *obj, const char *key, int val)
{
	json_object_object_add(obj, key, json_object_new_boolean(val != 0));
}

void
pts_json_add_time(json_object *obj, const char *key, int64_t epoch)
{
	char buf[PTS_TIME_ISO_LEN];

	if (epoch <= 0) {
		json_object_object_add(obj, key, NULL);
		return;
	}
	pts_time_iso(epoch, buf, sizeof(buf));
	json_object_object_add(obj, key, json_object_new_string(buf));
}

void
pts_json_add_nonempty(json_object *obj, const char *key, json_object *arr)
{
	if (json_object_array_length(arr) > 0)
		json_object_object_add(obj, key, arr);
	else
		json_object_put(arr);
}

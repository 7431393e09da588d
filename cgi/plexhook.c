/*
 * plexhook.c - Plex webhook payloads to webhook_scrobble job args.
 */
#include "plexhook.h"

#include <stdio.h>
#include <string.h>

#include "jsonx.h"

/* The ratingKey as text: Plex sends a string of digits (some versions a number). */
static const char *
plexhook_key(json_object *m, const char *name, char *buf, size_t len)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(m, name, &v) || v == NULL)
		return NULL;
	if (json_object_is_type(v, json_type_int)) {
		int64_t n = json_object_get_int64(v);

		if (n <= 0)
			return NULL;
		(void)snprintf(buf, len, "%lld", (long long)n);
		return buf;
	}
	if (!json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	if (s[0] == '\0' || strlen(s) > PLEXHOOK_KEY_MAX || strspn(s, "0123456789") != strlen(s))
		return NULL;
	return s;
}

/* A string field of a sane length without embedded NULs, or NULL. */
static const char *
plexhook_string(json_object *from, const char *name)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(from, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	if (json_object_get_string_len(v) > PLEXHOOK_STR_MAX ||
	    strlen(s) != (size_t)json_object_get_string_len(v))
		return NULL;
	return s;
}

static void
plexhook_copy_str(json_object *from, json_object *to, const char *name)
{
	const char *s = plexhook_string(from, name);

	if (s != NULL)
		pts_json_add_str(to, name, s);
}

/* Copy an integer field (Plex sends numbers; an integral double is taken too). */
static void
plexhook_copy_int(json_object *from, json_object *to, const char *name, int64_t min,
    int64_t max)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(from, name, &v) || v == NULL)
		return;
	if (json_object_is_type(v, json_type_int)) {
		n = json_object_get_int64(v);
	} else if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);

		if (!(d >= (double)min && d <= (double)max) || d != (double)(int64_t)d)
			return;
		n = (int64_t)d;
	} else {
		return;
	}
	if (n >= min && n <= max)
		pts_json_add_int(to, name, n);
}

/* Guid: [{"id": "imdb://..."}, ...] → the same shape, strings only, at most PLEXHOOK_MAX_GUIDS. */
static void
plexhook_copy_guids(json_object *from, json_object *to)
{
	json_object *arr, *out;
	size_t i, n;

	if (!json_object_object_get_ex(from, "Guid", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	out = json_object_new_array();
	n = json_object_array_length(arr);
	for (i = 0; i < n && json_object_array_length(out) < PLEXHOOK_MAX_GUIDS; i++) {
		json_object *g = json_object_array_get_idx(arr, i), *e;

		if (!json_object_is_type(g, json_type_object))
			continue;
		e = json_object_new_object();
		plexhook_copy_str(g, e, "id");
		if (json_object_object_length(e) == 0) {
			json_object_put(e);
			continue;
		}
		json_object_array_add(out, e);
	}
	json_object_object_add(to, "Guid", out);
}

int
plexhook_account_id(json_object *payload, char *buf, size_t len)
{
	json_object *account;
	const char *id;

	if (!json_object_is_type(payload, json_type_object) ||
	    !json_object_object_get_ex(payload, "Account", &account) ||
	    !json_object_is_type(account, json_type_object) ||
	    (id = plexhook_key(account, "id", buf, len)) == NULL || strlen(id) >= len)
		return -1;
	if (id != buf)
		snprintf(buf, len, "%s", id);
	return 0;
}

enum plexhook_verdict
plexhook_read(json_object *payload, int64_t now, json_object **args, const char **why)
{
	return plexhook_read_as(payload, now, 0, args, why);
}

enum plexhook_verdict
plexhook_read_as(json_object *payload, int64_t now, int paired, json_object **args,
    const char **why)
{
	char kbuf[24], gbuf[24];
	json_object *meta, *user, *account, *server, *m, *a;
	const char *event, *type, *key, *gkey, *who, *uuid;

	*args = NULL;
	*why = NULL;
	if (!json_object_is_type(payload, json_type_object)) {
		*why = "the payload is not a JSON object";
		return PLEXHOOK_BAD;
	}
	event = pts_json_str(payload, "event");
	if (event == NULL) {
		*why = "the payload has no event";
		return PLEXHOOK_BAD;
	}
	if (strcmp(event, PLEXHOOK_EVENT_SCROBBLE) != 0) {
		*why = "only media.scrobble events are used";
		return PLEXHOOK_IGNORE;
	}
	/* "user": false: sent to the server owner for a shared user's play (unless paired). */
	if (!paired && json_object_object_get_ex(payload, "user", &user) &&
	    json_object_is_type(user, json_type_boolean) && !json_object_get_boolean(user)) {
		*why = "a play of another Plex account";
		return PLEXHOOK_IGNORE;
	}
	if (!json_object_object_get_ex(payload, "Metadata", &meta) ||
	    !json_object_is_type(meta, json_type_object)) {
		*why = "the scrobble has no Metadata object";
		return PLEXHOOK_BAD;
	}
	type = pts_json_str(meta, "type");
	if (type == NULL || (strcmp(type, "movie") != 0 && strcmp(type, "episode") != 0)) {
		*why = "only movies and episodes are synced";
		return PLEXHOOK_IGNORE;
	}
	key = plexhook_key(meta, "ratingKey", kbuf, sizeof(kbuf));
	if (key == NULL) {
		*why = "the scrobble has no valid ratingKey";
		return PLEXHOOK_BAD;
	}
	m = json_object_new_object();
	pts_json_add_str(m, "ratingKey", key);
	pts_json_add_str(m, "type", type);
	plexhook_copy_str(meta, m, "title");
	plexhook_copy_str(meta, m, "guid");
	plexhook_copy_int(meta, m, "year", 1, 9999);
	plexhook_copy_guids(meta, m);
	if (strcmp(type, "episode") == 0) {
		plexhook_copy_str(meta, m, "grandparentTitle");
		plexhook_copy_str(meta, m, "grandparentGuid");
		gkey = plexhook_key(meta, "grandparentRatingKey", gbuf, sizeof(gbuf));
		if (gkey != NULL)
			pts_json_add_str(m, "grandparentRatingKey", gkey);
		plexhook_copy_int(meta, m, "parentIndex", 0, 99999);
		plexhook_copy_int(meta, m, "index", 0, 999999);
	}
	plexhook_copy_int(meta, m, "lastViewedAt", 1, INT64_C(253402300799));
	plexhook_copy_int(meta, m, "viewedAt", 1, INT64_C(253402300799));
	/* The running time (ms) sizes the "same viewing" window (worker/sync/ledger.h). */
	plexhook_copy_int(meta, m, "duration", 1, PLEXHOOK_DURATION_MAX_MS);
	a = json_object_new_object();
	pts_json_add_int(a, "received_at", now);
	/* Whose server played it: the worker compares it with ours (machineIdentifier). */
	if (json_object_object_get_ex(payload, "Server", &server) &&
	    (uuid = plexhook_string(server, "uuid")) != NULL && uuid[0] != '\0' &&
	    strlen(uuid) <= PLEXHOOK_UUID_MAX && strspn(uuid, PLEXHOOK_UUID_CHARS) == strlen(uuid))
		pts_json_add_str(a, "server_uuid", uuid);
	/* The account's name, for the log line only. */
	if (json_object_object_get_ex(payload, "Account", &account) &&
	    (who = plexhook_string(account, "title")) != NULL)
		pts_json_add_str(a, "account", who);
	json_object_object_add(a, "metadata", m);
	*args = a;
	return PLEXHOOK_QUEUE;
}

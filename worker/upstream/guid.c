/*
 * guid.c - external ids from Plex guids.
 */
#include "guid.h"

#include <stdio.h>
#include <string.h>

#include "jsonx.h"

/* Digits of an imdb id after "tt": 7 today, 8 for newer titles; room for growth. */
#define GUID_IMDB_MIN_DIGITS 7
#define GUID_IMDB_MAX_DIGITS 10
/* Digits of a numeric id; more would overflow PTS_ID_MAX anyway. */
#define GUID_NUM_MAX_DIGITS 10

struct guid_scheme {
	const char *prefix;
	enum pts_guid_kind kind;
	int legacy;
};

/* Longest prefixes first is not needed: every prefix ends in "://". */
static const struct guid_scheme guid_schemes[] = {
	{ "imdb://", PTS_GUID_IMDB, 0 },
	{ "tmdb://", PTS_GUID_TMDB, 0 },
	{ "tvdb://", PTS_GUID_TVDB, 0 },
	{ "plex://", PTS_GUID_PLEX, 0 },
	{ "local://", PTS_GUID_NONE, 0 },
	{ "com.plexapp.agents.none://", PTS_GUID_NONE, 1 },
	{ "com.plexapp.agents.imdb://", PTS_GUID_IMDB, 1 },
	{ "com.plexapp.agents.themoviedb://", PTS_GUID_TMDB, 1 },
	{ "com.plexapp.agents.thetvdb://", PTS_GUID_TVDB, 1 },
	{ NULL, PTS_GUID_UNKNOWN, 0 }
};

/*
 * Read 1..maxd decimal digits from s[*pos..end) into *out, at most max. 0 or -1.
 */
static int
guid_digits(const char *s, size_t *pos, size_t end, int maxd, int64_t max, int64_t *out)
{
	int64_t v = 0;
	int n = 0;

	while (*pos < end && s[*pos] >= '0' && s[*pos] <= '9') {
		if (++n > maxd)
			return -1;
		v = v * 10 + (s[*pos] - '0');
		(*pos)++;
	}
	if (n == 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

int
pts_guid_imdb_valid(const char *s)
{
	size_t n;

	if (s == NULL || s[0] != 't' || s[1] != 't')
		return 0;
	for (n = 0; s[2 + n] != '\0'; n++)
		if (s[2 + n] < '0' || s[2 + n] > '9' || n >= GUID_IMDB_MAX_DIGITS)
			return 0;
	return n >= GUID_IMDB_MIN_DIGITS;
}

/* Parse "ID[/SEASON[/EPISODE]]" in s[pos..end) for numeric agents. 0 or -1. */
static int
guid_numeric(const char *s, size_t pos, size_t end, int allow_path, struct pts_guid *out)
{
	int64_t v;

	if (guid_digits(s, &pos, end, GUID_NUM_MAX_DIGITS, PTS_ID_MAX, &out->id) != 0 ||
	    out->id < 1)
		return -1;
	if (pos == end)
		return 0;
	if (!allow_path || s[pos] != '/')
		return -1;
	pos++;
	if (guid_digits(s, &pos, end, 4, PTS_GUID_SEASON_MAX, &v) != 0)
		return -1;
	out->season = (int)v;
	if (pos == end)
		return 0;
	if (s[pos] != '/')
		return -1;
	pos++;
	if (guid_digits(s, &pos, end, 5, PTS_GUID_EPISODE_MAX, &v) != 0 || pos != end)
		return -1;
	out->episode = (int)v;
	return 0;
}

enum pts_guid_kind
pts_guid_parse(const char *s, struct pts_guid *out)
{
	const struct guid_scheme *sc;
	size_t len, plen, end;
	const char *q;

	memset(out, 0, sizeof(*out));
	out->season = out->episode = -1;
	out->kind = PTS_GUID_UNKNOWN;
	if (s == NULL)
		return out->kind;
	len = strnlen(s, PTS_GUID_MAX_LEN + 1);
	if (len == 0 || len > PTS_GUID_MAX_LEN)
		return out->kind;
	for (sc = guid_schemes; sc->prefix != NULL; sc++) {
		plen = strlen(sc->prefix);
		if (len >= plen && strncmp(s, sc->prefix, plen) == 0)
			break;
	}
	if (sc->prefix == NULL)
		return out->kind;
	/* Legacy guids end in "?lang=xx": the id is what comes before. */
	q = memchr(s + plen, '?', len - plen);
	end = q != NULL ? (size_t)(q - s) : len;
	if (end == plen)
		return out->kind;   /* "imdb://" with nothing after it */
	switch (sc->kind) {
	case PTS_GUID_NONE:
	case PTS_GUID_PLEX:
		out->kind = sc->kind;
		break;
	case PTS_GUID_IMDB: {
		char buf[PTS_IMDB_LEN];

		if (end - plen >= sizeof(buf))
			return out->kind;
		memcpy(buf, s + plen, end - plen);
		buf[end - plen] = '\0';
		if (!pts_guid_imdb_valid(buf))
			return out->kind;
		memcpy(out->imdb, buf, sizeof(buf));
		out->kind = sc->kind;
		break;
	}
	case PTS_GUID_TMDB:
	case PTS_GUID_TVDB:
		/* Only legacy agents put season/episode in the guid. */
		if (guid_numeric(s, plen, end, sc->legacy, out) != 0) {
			out->id = 0;
			out->season = out->episode = -1;
			return out->kind;
		}
		out->kind = sc->kind;
		break;
	case PTS_GUID_UNKNOWN:
		break;
	}
	out->legacy = sc->legacy;
	return out->kind;
}

int
pts_guid_merge(const char *s, struct pts_ids *ids)
{
	struct pts_guid g;

	switch (pts_guid_parse(s, &g)) {
	case PTS_GUID_IMDB:
		if (ids->imdb[0] != '\0')
			return 0;
		memcpy(ids->imdb, g.imdb, sizeof(ids->imdb));
		return 1;
	case PTS_GUID_TMDB:
		if (ids->tmdb != 0)
			return 0;
		ids->tmdb = g.id;
		return 1;
	case PTS_GUID_TVDB:
		if (ids->tvdb != 0)
			return 0;
		ids->tvdb = g.id;
		return 1;
	case PTS_GUID_UNKNOWN:
	case PTS_GUID_NONE:
	case PTS_GUID_PLEX:
		break;
	}
	return 0;
}

json_object *
pts_ids_json(const struct pts_ids *ids)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	if (ids->trakt > 0)
		pts_json_add_int(o, "trakt", ids->trakt);
	if (ids->imdb[0] != '\0')
		pts_json_add_str(o, "imdb", ids->imdb);
	if (ids->tmdb > 0)
		pts_json_add_int(o, "tmdb", ids->tmdb);
	if (ids->tvdb > 0)
		pts_json_add_int(o, "tvdb", ids->tvdb);
	return o;
}

void
pts_ids_json_text(const struct pts_ids *ids, char *buf, size_t len)
{
	json_object *o = pts_ids_json(ids);
	const char *s = o != NULL ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : NULL;

	if (len == 0)
		return;
	if (s == NULL || strlen(s) >= len)
		snprintf(buf, len, "{}");
	else
		snprintf(buf, len, "%s", s);
	json_object_put(o);
}

int
pts_ids_empty(const struct pts_ids *ids)
{
	return ids->trakt == 0 && ids->tmdb == 0 && ids->tvdb == 0 && ids->imdb[0] == '\0';
}

int
pts_ids_match(const struct pts_ids *a, const struct pts_ids *b)
{
	return (a->trakt != 0 && a->trakt == b->trakt) ||
	    (a->imdb[0] != '\0' && strcmp(a->imdb, b->imdb) == 0) ||
	    (a->tmdb != 0 && a->tmdb == b->tmdb) ||
	    (a->tvdb != 0 && a->tvdb == b->tvdb);
}

void
pts_ids_str(const struct pts_ids *ids, char *buf, size_t len)
{
	size_t n = 0;
	int r;

	if (len == 0)
		return;
	buf[0] = '\0';
#define IDS_PUT(...) do {                                               \
	r = snprintf(buf + n, len - n, __VA_ARGS__);                    \
	if (r < 0 || (size_t)r >= len - n)                              \
		return;                                                 \
	n += (size_t)r;                                                 \
} while (0)
	if (ids->trakt != 0)
		IDS_PUT("%strakt %lld", n ? " " : "", (long long)ids->trakt);
	if (ids->imdb[0] != '\0')
		IDS_PUT("%simdb %s", n ? " " : "", ids->imdb);
	if (ids->tmdb != 0)
		IDS_PUT("%stmdb %lld", n ? " " : "", (long long)ids->tmdb);
	if (ids->tvdb != 0)
		IDS_PUT("%stvdb %lld", n ? " " : "", (long long)ids->tvdb);
	if (n == 0)
		IDS_PUT("no ids");
#undef IDS_PUT
}

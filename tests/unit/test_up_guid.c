/*
 * test_up_guid.c - Plex guid parsing (worker/upstream/guid.c): every agent form, junk, bounds;
 * ids as JSON.
 */
#include <stdio.h>
#include <string.h>

#include "guid.h"
#include "tap.h"

static enum pts_guid_kind
kind_of(const char *s)
{
	struct pts_guid g;

	return pts_guid_parse(s, &g);
}

static void
test_new_agents(void)
{
	struct pts_guid g;

	TAP_OK(pts_guid_parse("imdb://tt0111161", &g) == PTS_GUID_IMDB && !g.legacy,
	    "imdb://tt0111161 is an imdb id");
	TAP_STREQ(g.imdb, "tt0111161", "imdb id text kept");
	TAP_OK(pts_guid_parse("tmdb://278", &g) == PTS_GUID_TMDB && g.id == 278 &&
	    g.season == -1 && g.episode == -1, "tmdb://278");
	TAP_OK(pts_guid_parse("tvdb://81189", &g) == PTS_GUID_TVDB && g.id == 81189, "tvdb://81189");
	TAP_OK(pts_guid_parse("plex://movie/5d7768ba96b655001fdc0408", &g) == PTS_GUID_PLEX &&
	    g.id == 0 && g.imdb[0] == '\0', "plex:// has no external id");
	TAP_OK(kind_of("imdb://tt12345678") == PTS_GUID_IMDB, "8-digit imdb id");
	TAP_OK(kind_of("tvdb://81189/1/1") == PTS_GUID_UNKNOWN,
	    "season/episode only in legacy guids");
}

static void
test_legacy_agents(void)
{
	struct pts_guid g;

	TAP_OK(pts_guid_parse("com.plexapp.agents.imdb://tt0165832?lang=en", &g) == PTS_GUID_IMDB &&
	    g.legacy, "legacy imdb agent");
	TAP_STREQ(g.imdb, "tt0165832", "legacy imdb id without ?lang");
	TAP_OK(pts_guid_parse("com.plexapp.agents.themoviedb://119243?lang=en", &g) ==
	    PTS_GUID_TMDB && g.id == 119243 && g.legacy, "legacy themoviedb agent");
	TAP_OK(pts_guid_parse("com.plexapp.agents.thetvdb://268592/1/1?lang=en", &g) ==
	    PTS_GUID_TVDB && g.id == 268592 && g.season == 1 && g.episode == 1,
	    "legacy thetvdb episode: show id + season + episode");
	TAP_OK(pts_guid_parse("com.plexapp.agents.thetvdb://268592/0/12?lang=en", &g) ==
	    PTS_GUID_TVDB && g.season == 0 && g.episode == 12, "specials are season 0");
	TAP_OK(pts_guid_parse("com.plexapp.agents.thetvdb://268592/2?lang=en", &g) ==
	    PTS_GUID_TVDB && g.season == 2 && g.episode == -1, "legacy thetvdb season");
	TAP_OK(pts_guid_parse("com.plexapp.agents.thetvdb://268592?lang=en", &g) ==
	    PTS_GUID_TVDB && g.season == -1, "legacy thetvdb show");
	TAP_OK(pts_guid_parse("com.plexapp.agents.thetvdb://268592", &g) == PTS_GUID_TVDB,
	    "legacy guid without ?lang");
	TAP_OK(kind_of("com.plexapp.agents.hama://anidb-1234?lang=en") == PTS_GUID_UNKNOWN,
	    "unknown agent (hama) gives no id");
	TAP_OK(kind_of("com.plexapp.agents.none://8a730d03-e7a5-4067-b3df-495aba75c5ce") ==
	    PTS_GUID_NONE, "agents.none is unmatched");
	TAP_OK(kind_of("local://5003") == PTS_GUID_NONE, "local:// is unmatched");
}

static void
test_junk(void)
{
	char longg[PTS_GUID_MAX_LEN + 32];

	TAP_OK(kind_of(NULL) == PTS_GUID_UNKNOWN, "NULL");
	TAP_OK(kind_of("") == PTS_GUID_UNKNOWN, "empty");
	TAP_OK(kind_of("imdb://") == PTS_GUID_UNKNOWN, "scheme only");
	TAP_OK(kind_of("imdb://0111161") == PTS_GUID_UNKNOWN, "imdb without tt");
	TAP_OK(kind_of("imdb://tt011") == PTS_GUID_UNKNOWN, "imdb too short");
	TAP_OK(kind_of("imdb://tt01111611111") == PTS_GUID_UNKNOWN, "imdb too long");
	TAP_OK(kind_of("imdb://tt0111161x") == PTS_GUID_UNKNOWN, "imdb with a letter after");
	TAP_OK(kind_of("tmdb://0") == PTS_GUID_UNKNOWN, "id 0 refused");
	TAP_OK(kind_of("tmdb://-5") == PTS_GUID_UNKNOWN, "negative id refused");
	TAP_OK(kind_of("tmdb://2147483648") == PTS_GUID_UNKNOWN, "id past 2^31-1 refused");
	TAP_OK(kind_of("tmdb://2147483647") == PTS_GUID_TMDB, "id 2^31-1 accepted");
	TAP_OK(kind_of("tmdb://99999999999999999999999") == PTS_GUID_UNKNOWN,
	    "overflowing id refused");
	TAP_OK(kind_of("tmdb://12abc") == PTS_GUID_UNKNOWN, "trailing junk refused");
	TAP_OK(kind_of("tmdb:// 12") == PTS_GUID_UNKNOWN, "space refused");
	TAP_OK(kind_of("com.plexapp.agents.thetvdb://1/99999/1") == PTS_GUID_UNKNOWN,
	    "season out of range");
	TAP_OK(kind_of("com.plexapp.agents.thetvdb://1/1/1/1") == PTS_GUID_UNKNOWN,
	    "extra path part refused");
	TAP_OK(kind_of("com.plexapp.agents.thetvdb://1//1") == PTS_GUID_UNKNOWN,
	    "empty season refused");
	TAP_OK(kind_of("IMDB://tt0111161") == PTS_GUID_UNKNOWN, "schemes are case-sensitive");
	TAP_OK(kind_of("http://example.com/tt0111161") == PTS_GUID_UNKNOWN, "a URL");
	memset(longg, '1', sizeof(longg) - 1);
	longg[sizeof(longg) - 1] = '\0';
	memcpy(longg, "tmdb://", 7);
	TAP_OK(kind_of(longg) == PTS_GUID_UNKNOWN, "overlong guid refused");
	TAP_OK(pts_guid_imdb_valid("tt0111161") && !pts_guid_imdb_valid("") &&
	    !pts_guid_imdb_valid(NULL) && !pts_guid_imdb_valid("nm0000151"),
	    "imdb validity helper");
}

static void
test_merge(void)
{
	struct pts_ids ids, other;
	char buf[128];

	memset(&ids, 0, sizeof(ids));
	TAP_OK(pts_ids_empty(&ids), "zeroed ids are empty");
	TAP_OK(pts_guid_merge("imdb://tt0111161", &ids) == 1, "merge imdb");
	TAP_OK(pts_guid_merge("tmdb://278", &ids) == 1, "merge tmdb");
	TAP_OK(pts_guid_merge("tmdb://999", &ids) == 0 && ids.tmdb == 278,
	    "a set id is kept on a second merge");
	TAP_OK(pts_guid_merge("plex://movie/x", &ids) == 0, "plex:// merges nothing");
	TAP_OK(pts_guid_merge("junk", &ids) == 0, "junk merges nothing");
	pts_ids_str(&ids, buf, sizeof(buf));
	TAP_STREQ(buf, "imdb tt0111161 tmdb 278", "ids as text");
	memset(&other, 0, sizeof(other));
	other.tmdb = 278;
	TAP_OK(pts_ids_match(&ids, &other), "match on a shared tmdb id");
	other.tmdb = 1;
	TAP_OK(!pts_ids_match(&ids, &other), "no match without a shared id");
	memset(&other, 0, sizeof(other));
	TAP_OK(!pts_ids_match(&other, &other), "empty ids never match");
	pts_ids_str(&other, buf, sizeof(buf));
	TAP_STREQ(buf, "no ids", "empty ids as text");
	pts_ids_str(&ids, buf, 6);
	TAP_OK(strlen(buf) < 6, "ids text is bounded");
}

/* The one rule for ids in bodies and rows: numbers > 0, imdb not empty. */
static void
test_ids_json(void)
{
	struct pts_ids ids;
	char buf[256];
	json_object *o;

	memset(&ids, 0, sizeof(ids));
	ids.trakt = 16;
	snprintf(ids.imdb, sizeof(ids.imdb), "tt0084827");
	ids.tmdb = 97;
	ids.tvdb = 0;
	pts_ids_json_text(&ids, buf, sizeof(buf));
	TAP_STREQ(buf, "{\"trakt\":16,\"imdb\":\"tt0084827\",\"tmdb\":97}",
	    "set ids, in order; a zero id is left out");
	/* A negative id (a bug upstream or here) is not an id: once sent as "trakt": -1. */
	ids.trakt = -1;
	ids.tvdb = -5;
	o = pts_ids_json(&ids);
	TAP_OK(o != NULL && !json_object_object_get_ex(o, "trakt", NULL) &&
	    !json_object_object_get_ex(o, "tvdb", NULL) &&
	    json_object_object_length(o) == 2, "negative ids are left out");
	json_object_put(o);
	memset(&ids, 0, sizeof(ids));
	pts_ids_json_text(&ids, buf, sizeof(buf));
	TAP_STREQ(buf, "{}", "no ids: an empty object");
	ids.trakt = 1234567890;
	snprintf(ids.imdb, sizeof(ids.imdb), "tt1234567890");
	pts_ids_json_text(&ids, buf, 20);
	TAP_STREQ(buf, "{}", "text that does not fit is an empty object, never a cut one");
}

int
main(void)
{
	test_ids_json();
	test_new_agents();
	test_legacy_agents();
	test_junk();
	test_merge();
	return tap_done();
}

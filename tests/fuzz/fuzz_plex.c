/*
 * fuzz_plex.c - a Plex Media Server answer: the bounded JSON parse, then one listing page
 * (pts_plex_parse_page) with every delivered item's fields read, as the engine does.
 */
#include <stdio.h>

#include "fuzz.h"
#include "http.h"
#include "jsonx.h"
#include "ledger.h"
#include "plex.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static int
fuzz_item(void *ctx, const struct pts_plex_item *it)
{
	char buf[256], key[PTS_LEDGER_KEY_LEN];
	size_t *n = ctx;

	snprintf(buf, sizeof(buf), "%s|%s|%s|%s|%s|%s|%s|%s", it->rating_key,
	    it->title ? it->title : "", it->type ? it->type : "", it->guid ? it->guid : "",
	    it->grandparent_title ? it->grandparent_title : "",
	    it->grandparent_guid ? it->grandparent_guid : "",
	    it->grandparent_rating_key ? it->grandparent_rating_key : "",
	    it->thumb ? it->thumb : "");
	pts_ids_str(&it->ids, buf, sizeof(buf));
	pts_ids_str(&it->show_ids, buf, sizeof(buf));
	(void)pts_ledger_key_movie(&it->ids, key, sizeof(key));
	(void)pts_ledger_key_episode(&it->show_ids, it->season, it->episode, key, sizeof(key));
	/* The times the engine does minute arithmetic on. */
	(void)pts_ledger_minute(it->last_viewed_at);
	(void)pts_ledger_minute(it->added_at);
	(*n)++;
	/* Stop now and then, as a cancelled listing does. */
	return it->year == 1999;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *j = pts_json_parse((const char *)data, size, PTS_HTTP_MAX_BYTES_LARGE, NULL);
	int64_t count, total;
	size_t n = 0;

	if (j == NULL)
		return 0;
	(void)pts_plex_parse_page(j, fuzz_item, &n, &count, &total);
	(void)pts_plex_parse_page(j, NULL, NULL, &count, &total);
	json_object_put(j);
	return 0;
}

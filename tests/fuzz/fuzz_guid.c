/*
 * fuzz_guid.c - Plex guids (worker/upstream/guid.c): parse, merge into ids (twice, as a Guid array
 * does), the imdb check, and the ledger keys and log text made from the ids.
 */
#include <stdio.h>

#include "fuzz.h"
#include "guid.h"
#include "ledger.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), key[PTS_LEDGER_KEY_LEN], buf[128], *nl;
	struct pts_guid g;
	struct pts_ids ids, other;

	memset(&ids, 0, sizeof(ids));
	memset(&other, 0, sizeof(other));
	(void)pts_guid_parse(s, &g);
	(void)pts_guid_imdb_valid(s);
	(void)pts_guid_merge(s, &ids);
	/* Several guids, one per line, merged like an item's Guid array. */
	for (nl = s; nl != NULL;) {
		char *next = strchr(nl, '\n');

		if (next != NULL)
			*next++ = '\0';
		(void)pts_guid_parse(nl, &g);
		(void)pts_guid_merge(nl, &other);
		nl = next;
	}
	(void)pts_ids_empty(&ids);
	(void)pts_ids_match(&ids, &other);
	pts_ids_str(&other, buf, sizeof(buf));
	(void)pts_ledger_key_movie(&other, key, sizeof(key));
	(void)pts_ledger_key_episode(&other, g.season, g.episode, key, sizeof(key));
	free(s);
	return 0;
}

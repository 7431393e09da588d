/*
 * fuzz_plexxml.c - a plex.tv XML answer: the bounded reader (plexxml.h) under each of the
 * people's parsers (plexusers.h), as the plex_users job reads them.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "plexusers.h"
#include "plexxml.h"

#define FUZZ_MACHINE "fa4e00000000000000000000000000000000beef"

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
	const char *xml = (const char *)data;
	struct pts_pusers u = { 0 };
	char *tok = NULL;
	size_t i;

	(void)pts_pusers_parse_home(xml, size, &u);
	(void)pts_pusers_parse_friends(xml, size, FUZZ_MACHINE, &u);
	(void)pts_pusers_parse_shared(xml, size, &u);
	for (i = 0; i < u.n; i++)
		if (strlen(u.v[i].title) == 0 || strlen(pts_pusers_kind_name(u.v[i].kind)) == 0)
			abort();   /* a kept user always has a title and a kind */
	pts_pusers_free(&u);
	if (pts_pusers_parse_switch(xml, size, &tok) == 0 && (tok == NULL || tok[0] == '\0'))
		abort();
	free(tok);
	tok = NULL;
	if (pts_pusers_parse_resources(xml, size, FUZZ_MACHINE, &tok) == 0 && tok == NULL)
		abort();
	free(tok);
	return 0;
}

/*
 * fuzz.h - what every libFuzzer driver here shares: a NUL-terminated copy of the input
 * (parsers take C strings) and silent logging (the parsers log what they refuse).
 */
#ifndef PTS_FUZZ_H
#define PTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A malloc'd NUL-terminated copy of data (NULs inside stay: C-string parsers stop there). */
static inline char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Nothing below this level reaches stderr: PTS_LOG_ERROR + 1 silences every line. */
static inline void
fuzz_quiet(void)
{
	pts_log_init("fuzz", (enum pts_log_level)(PTS_LOG_ERROR + 1));
}

#endif

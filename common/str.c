/*
 * str.c - a NULL-safe string copy.
 */
#include "str.h"

#include <stdlib.h>
#include <string.h>

char *
pts_str_dup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

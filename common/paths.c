/*
 * paths.c - data folder and environment.
 */
#include "paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

const char *
pts_env(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : dflt;
}

const char *
pts_paths_data_dir(void)
{
	return pts_env("PTS_DATA_DIR", "./var");
}

int
pts_paths_ensure_data_dir(void)
{
	const char *dir = pts_paths_data_dir();

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		pts_log_raw(PTS_LOG_ERROR, "cannot create data folder %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int
pts_paths_join(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", pts_paths_data_dir(), name);

	if (n < 0 || (size_t)n >= len) {
		pts_log_raw(PTS_LOG_ERROR, "path too long under %s", pts_paths_data_dir());
		return -1;
	}
	return 0;
}

int
pts_paths_db(char *buf, size_t len)
{
	return pts_paths_join(buf, len, "pts.db");
}

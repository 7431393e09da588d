/*
 * paths.h - where things live, from the environment (docs/API.md, "Environment").
 */
#ifndef PTS_PATHS_H
#define PTS_PATHS_H

#include <stddef.h>

/* Longest path we build under the data folder. */
#define PTS_PATH_MAX 4096

/* PTS_DATA_DIR or "./var". Never NULL; points into the environment or a literal. */
const char *pts_paths_data_dir(void);
/* Create the data folder (0700) if missing. 0 or -1 (logged). */
int pts_paths_ensure_data_dir(void);
/* "<data dir>/<name>" into buf. 0, or -1 when it does not fit. */
int pts_paths_join(char *buf, size_t len, const char *name);
/* The database file: "<data dir>/pts.db". */
int pts_paths_db(char *buf, size_t len);
/* An environment variable or dflt when unset or empty. */
const char *pts_env(const char *name, const char *dflt);

#endif

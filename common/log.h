/*
 * log.h - levelled logging to stderr and to the log table the dashboard reads.
 *
 * pts_log() writes one line to stderr and, once pts_log_attach() gave it a database, a row
 * in `log` tagged with the current run (pts_log_set_run). pts_log_raw() writes to stderr only:
 * the database layer uses it so a failing database never recurses into itself.
 * Messages are truncated at PTS_LOG_MAX_MSG bytes, at a UTF-8 character boundary. Not thread-safe; both programs are
 * single-threaded.
 */
#ifndef PTS_LOG_H
#define PTS_LOG_H

#include <sqlite3.h>
#include <stdint.h>

/* Longest message stored; longer ones are cut (titles from upstream can be long). */
#define PTS_LOG_MAX_MSG 1024

enum pts_log_level {
	PTS_LOG_DEBUG,
	PTS_LOG_INFO,
	PTS_LOG_WARN,
	PTS_LOG_ERROR
};

/* Program name printed on stderr lines, and the least level printed there. */
void pts_log_init(const char *prog, enum pts_log_level stderr_min);
/* Also store lines in this database (NULL detaches). The caller keeps ownership of db. */
void pts_log_attach(sqlite3 *db);
/* Tag following lines with this run id (0 = none). */
void pts_log_set_run(int64_t run_id);

void pts_log(enum pts_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pts_log_raw(enum pts_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

const char *pts_log_level_name(enum pts_log_level level);

#define PTS_DEBUG(...) pts_log(PTS_LOG_DEBUG, __VA_ARGS__)
#define PTS_INFO(...) pts_log(PTS_LOG_INFO, __VA_ARGS__)
#define PTS_WARN(...) pts_log(PTS_LOG_WARN, __VA_ARGS__)
#define PTS_ERROR(...) pts_log(PTS_LOG_ERROR, __VA_ARGS__)

#endif

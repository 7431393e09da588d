/*
 * log.h - levelled logging to stderr and to one sink (the log table the dashboard reads).
 *
 * pts_log() writes one line to stderr and hands it to the sink, if one is set
 * (pts_log_set_sink; logdb.c's stores it as a row of `log`), with the current run
 * (pts_log_set_run). pts_log_raw() writes to stderr only: the database layer uses it so a
 * failing database never recurses into itself. This module depends on nothing of the project
 * but utf8.
 * Messages are truncated at PTS_LOG_MAX_MSG bytes, at a UTF-8 character boundary. Not
 * thread-safe; both programs are single-threaded.
 */
#ifndef PTS_LOG_H
#define PTS_LOG_H

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
/*
 * Where pts_log() lines go besides stderr: fn gets the level, the run id of pts_log_set_run
 * (0 = none) and the cleaned message (valid during the call only). fn NULL removes the sink.
 * ctx stays the caller's. A line logged while the sink runs goes to stderr only.
 */
typedef void (*pts_log_sink_fn)(void *ctx, enum pts_log_level level, int64_t run_id,
    const char *msg);
void pts_log_set_sink(pts_log_sink_fn fn, void *ctx);
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

/*
 * log.c - levelled logging to stderr and to one sink.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "utf8.h"

static const char *log_prog = "pts";
static enum pts_log_level log_min = PTS_LOG_INFO;
static pts_log_sink_fn log_sink;
static void *log_sink_ctx;
static int64_t log_run;
static int log_busy; /* set while the sink runs, so its own errors do not recurse */

static const char *const log_names[] = { "debug", "info", "warn", "error" };

const char *
pts_log_level_name(enum pts_log_level level)
{
	if ((unsigned)level > PTS_LOG_ERROR)
		return "info";
	return log_names[level];
}

void
pts_log_init(const char *prog, enum pts_log_level stderr_min)
{
	log_prog = prog;
	log_min = stderr_min;
}

void
pts_log_set_sink(pts_log_sink_fn fn, void *ctx)
{
	log_sink = fn;
	log_sink_ctx = ctx;
}

void
pts_log_set_run(int64_t run_id)
{
	log_run = run_id;
}

/* Replace control characters so a hostile title cannot forge log lines. */
static void
log_sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static void
log_stderr(enum pts_log_level level, const char *msg)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;

	if (level < log_min)
		return;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s %s[%s] %s\n", ts, log_prog, pts_log_level_name(level), msg);
}

static void
log_vwrite(enum pts_log_level level, int to_sink, const char *fmt, va_list ap)
{
	char msg[PTS_LOG_MAX_MSG];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	pts_utf8_trim(msg);   /* a long title may have been cut mid-character */
	log_sanitize(msg);
	log_stderr(level, msg);
	if (!to_sink || log_sink == NULL || log_busy)
		return;
	log_busy = 1;
	log_sink(log_sink_ctx, level, log_run, msg);
	log_busy = 0;
}

void
pts_log(enum pts_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, 1, fmt, ap);
	va_end(ap);
}

void
pts_log_raw(enum pts_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, 0, fmt, ap);
	va_end(ap);
}

/*
 * log.c - levelled logging to stderr and the log table.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "utf8.h"

static const char *log_prog = "pts";
static enum pts_log_level log_min = PTS_LOG_INFO;
static sqlite3 *log_db;
static int64_t log_run;
static int log_busy; /* set while writing to the db, so db errors do not recurse */

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
pts_log_attach(sqlite3 *db)
{
	log_db = db;
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
log_vwrite(enum pts_log_level level, int to_db, const char *fmt, va_list ap)
{
	char msg[PTS_LOG_MAX_MSG];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	pts_utf8_trim(msg);   /* a long title may have been cut mid-character */
	log_sanitize(msg);
	log_stderr(level, msg);
	if (!to_db || log_db == NULL || log_busy)
		return;
	log_busy = 1;
	/* run_id 0 means "no run": stored as NULL (NULLIF) so the column stays a clean key. */
	(void)pts_db_run(log_db, "INSERT INTO log(ts_ms, level, run_id, message)"
	    " VALUES(?, ?, NULLIF(?, 0), ?)", "isis", pts_now_ms(), pts_log_level_name(level),
	    log_run, msg);
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

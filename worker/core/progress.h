/*
 * progress.h - the one progress row of a running sync (the UI's single source of truth).
 *
 * The engine updates the in-memory struct as often as it likes; pts_progress_flush() writes
 * it at most PTS_PROGRESS_MAX_HZ times a second (force = 1 writes at once: phase changes,
 * the end). A rate sample for the speed graph is stored every PTS_PROGRESS_SAMPLE_MS.
 */
#ifndef PTS_PROGRESS_H
#define PTS_PROGRESS_H

#include <sqlite3.h>
#include <stdint.h>

#define PTS_PROGRESS_MAX_HZ 4
#define PTS_PROGRESS_SAMPLE_MS 1000
/* Samples kept per run (the graph shows the recent ones). */
#define PTS_PROGRESS_MAX_SAMPLES 600
/* Longest title stored as the current item / library. */
#define PTS_PROGRESS_TITLE_MAX 300

struct pts_progress {
	sqlite3 *db;
	int64_t run_id;
	char phase[32];
	char lib_title[PTS_PROGRESS_TITLE_MAX];
	int64_t lib_done, lib_total;
	int64_t overall_done, overall_total;
	char current_item[PTS_PROGRESS_TITLE_MAX];
	int64_t started_ms, written_ms, sampled_ms;
	int64_t sample_done;    /* overall_done at the last sample */
	double rate;            /* items per second, smoothed */
};

/* When set (pts-worker --once), every flush also redraws a progress line on stderr. */
extern int pts_progress_console;

/* Create the progress row for run_id (replacing an old one). 0 or -1. */
int pts_progress_begin(struct pts_progress *p, sqlite3 *db, int64_t run_id);
void pts_progress_phase(struct pts_progress *p, const char *phase);
void pts_progress_library(struct pts_progress *p, const char *title, int64_t total);
void pts_progress_item(struct pts_progress *p, const char *title);
/* Count n more items done, in the current library and overall. */
void pts_progress_advance(struct pts_progress *p, int64_t n);
/* Write the row if due (or now when force). 0 or -1. */
int pts_progress_flush(struct pts_progress *p, int force);

#endif

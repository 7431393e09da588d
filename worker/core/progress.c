/*
 * progress.c - throttled writes of the progress row and rate samples.
 */
#include "progress.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "utf8.h"

/* Bytes of the current item shown on the console line. */
#define PROGRESS_CONSOLE_ITEM 40

int pts_progress_console;

static void
progress_console(const struct pts_progress *p)
{
	double pct = p->overall_total > 0 ? 100.0 * (double)p->overall_done /
	    (double)p->overall_total : 0;

	int cut = (int)pts_utf8_cut_len(p->current_item, strlen(p->current_item),
	    PROGRESS_CONSOLE_ITEM);

	fprintf(stderr, "\r%-10s %6.1f%% %lld/%lld  %.1f items/s  %-*.*s", p->phase, pct,
	    (long long)p->overall_done, (long long)p->overall_total, p->rate,
	    PROGRESS_CONSOLE_ITEM, cut, p->current_item);
}

static void
progress_copy(char *dst, size_t len, const char *src)
{
	(void)pts_utf8_copy(dst, len, src);   /* titles are cut at a character boundary */
}

int
pts_progress_begin(struct pts_progress *p, sqlite3 *db, int64_t run_id)
{
	memset(p, 0, sizeof(*p));
	p->db = db;
	p->run_id = run_id;
	p->started_ms = p->sampled_ms = pts_now_ms();
	progress_copy(p->phase, sizeof(p->phase), "starting");
	if (pts_db_run(db, "DELETE FROM rate_samples WHERE run_id = ?", "i", run_id) != 0)
		return -1;
	return pts_db_run(db, "INSERT INTO progress(run_id, phase, started_ms, updated_ms)"
	    " VALUES(?, 'starting', ?, ?) ON CONFLICT(run_id) DO UPDATE SET phase = 'starting',"
	    " lib_title = NULL, lib_done = 0, lib_total = 0, overall_done = 0, overall_total = 0,"
	    " current_item = NULL, rate_per_s = 0, started_ms = excluded.started_ms,"
	    " updated_ms = excluded.updated_ms, wait_until = NULL, wait_reason = NULL",
	    "iii", run_id, p->started_ms, p->started_ms);
}

void
pts_progress_phase(struct pts_progress *p, const char *phase)
{
	progress_copy(p->phase, sizeof(p->phase), phase);
	(void)pts_progress_flush(p, 1);
}

void
pts_progress_library(struct pts_progress *p, const char *title, int64_t total)
{
	progress_copy(p->lib_title, sizeof(p->lib_title), title);
	p->lib_done = 0;
	p->lib_total = total;
	(void)pts_progress_flush(p, 1);
}

void
pts_progress_item(struct pts_progress *p, const char *title)
{
	progress_copy(p->current_item, sizeof(p->current_item), title);
}

void
pts_progress_advance(struct pts_progress *p, int64_t n)
{
	p->lib_done += n;
	p->overall_done += n;
}

/* Update the smoothed rate and store a sample when one is due. */
static int
progress_sample(struct pts_progress *p, int64_t now)
{
	double inst, dt = (double)(now - p->sampled_ms) / 1000.0;

	if (now - p->sampled_ms < PTS_PROGRESS_SAMPLE_MS)
		return 0;
	inst = (double)(p->overall_done - p->sample_done) / dt;
	/* Exponential smoothing: steady enough for an ETA, quick enough to follow bursts. */
	p->rate = p->rate == 0 ? inst : 0.6 * p->rate + 0.4 * inst;
	p->sampled_ms = now;
	p->sample_done = p->overall_done;
	if (pts_db_run(p->db, "INSERT INTO rate_samples(run_id, t, rate) VALUES(?, ?, ?)", "idd",
	    p->run_id, (double)(now - p->started_ms) / 1000.0, inst) != 0)
		return -1;
	return pts_db_run(p->db, "DELETE FROM rate_samples WHERE run_id = ? AND id <= (SELECT id"
	    " FROM rate_samples WHERE run_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)", "iii",
	    p->run_id, p->run_id, (int64_t)PTS_PROGRESS_MAX_SAMPLES);
}

int
pts_progress_flush(struct pts_progress *p, int force)
{
	int64_t now = pts_now_ms();
	int rc;

	if (!force && now - p->written_ms < 1000 / PTS_PROGRESS_MAX_HZ)
		return 0;
	p->written_ms = now;
	if (pts_progress_console)
		progress_console(p);
	if (pts_db_begin(p->db) != 0)
		return -1;
	rc = progress_sample(p, now);
	if (rc == 0)
		rc = pts_db_run(p->db, "UPDATE progress SET phase = ?, lib_title = ?, lib_done = ?,"
		    " lib_total = ?, overall_done = ?, overall_total = ?, current_item = ?,"
		    " rate_per_s = ?, updated_ms = ? WHERE run_id = ?", "ssiiiisdii", p->phase,
		    p->lib_title[0] ? p->lib_title : NULL, p->lib_done, p->lib_total, p->overall_done,
		    p->overall_total, p->current_item[0] ? p->current_item : NULL, p->rate, now,
		    p->run_id);
	if (rc == 0)
		rc = pts_db_run(p->db, "UPDATE runs SET items_scanned = ?, items_total = ? WHERE id = ?",
		    "iii", p->overall_done, p->overall_total, p->run_id);
	if (rc != 0 || pts_db_commit(p->db) != 0) {
		pts_db_rollback(p->db);
		return -1;
	}
	return 0;
}

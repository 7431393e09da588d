/*
 * ratelimit.c - Trakt request pacing (sliding window for GETs, spacing for writes).
 */
#include "ratelimit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "paths.h"

struct rl_state {
	int count;                 /* GETs allowed per period */
	int64_t period_ms;
	int64_t post_interval_ms;
	int64_t last_write_ms;     /* when the previous write finished (0: none) */
	int head, used;            /* ring of the last `count` GET send times */
	int64_t ring[];            /* count slots */
};

static struct rl_state *rl;
static size_t rl_size;
static int rl_mapped;

/* (Re)make the state for a budget. 0 or -1. */
static int
rl_setup(int count, int64_t period_s, int64_t post_ms)
{
	size_t size = sizeof(*rl) + (size_t)count * sizeof(rl->ring[0]);
	void *mem;

	if (rl != NULL) {
		if (rl_mapped)
			munmap(rl, rl_size);
		else
			free(rl);
		rl = NULL;
	}
	/* Shared with the children forked after this; private memory if mmap is refused. */
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	rl_mapped = mem != MAP_FAILED;
	if (!rl_mapped && (mem = calloc(1, size)) == NULL) {
		PTS_ERROR("rate limiter: out of memory");
		return -1;
	}
	rl = mem;
	rl_size = size;
	memset(rl, 0, size);
	rl->count = count;
	rl->period_ms = period_s * 1000;
	rl->post_interval_ms = post_ms;
	return 0;
}

int64_t
pts_rl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parse "COUNT/SECONDS" strictly. 0 or -1. */
static int
rl_parse_budget(const char *s, int *count, int64_t *period_s)
{
	char *end;
	long c, p;

	c = strtol(s, &end, 10);
	if (end == s || *end != '/' || c < 1 || c > PTS_RL_GET_COUNT_MAX)
		return -1;
	s = end + 1;
	p = strtol(s, &end, 10);
	if (end == s || *end != '\0' || p < 1 || p > PTS_RL_GET_PERIOD_S_MAX)
		return -1;
	*count = (int)c;
	*period_s = p;
	return 0;
}

int
pts_rl_init(void)
{
	const char *budget = pts_env("PTS_TRAKT_GET_BUDGET", NULL);
	const char *interval = pts_env("PTS_TRAKT_POST_INTERVAL_MS", NULL);
	int count = PTS_RL_GET_COUNT_DEFAULT, rc = 0;
	int64_t period_s = PTS_RL_GET_PERIOD_S_DEFAULT, post_ms = PTS_RL_POST_INTERVAL_MS_DEFAULT;

	if (rl != NULL)
		return 0;
	if (budget != NULL && rl_parse_budget(budget, &count, &period_s) != 0) {
		PTS_ERROR("PTS_TRAKT_GET_BUDGET must be COUNT/SECONDS (1..%d / 1..%d), not '%s':"
		    " using %d/%d", PTS_RL_GET_COUNT_MAX, PTS_RL_GET_PERIOD_S_MAX, budget,
		    PTS_RL_GET_COUNT_DEFAULT, PTS_RL_GET_PERIOD_S_DEFAULT);
		count = PTS_RL_GET_COUNT_DEFAULT;
		period_s = PTS_RL_GET_PERIOD_S_DEFAULT;
		rc = -1;
	}
	if (interval != NULL) {
		char *end;
		long v = strtol(interval, &end, 10);

		if (end == interval || *end != '\0' || v < 0 || v > PTS_RL_POST_INTERVAL_MS_MAX) {
			PTS_ERROR("PTS_TRAKT_POST_INTERVAL_MS must be 0..%d, not '%s': using %d",
			    PTS_RL_POST_INTERVAL_MS_MAX, interval, PTS_RL_POST_INTERVAL_MS_DEFAULT);
			rc = -1;
		} else {
			post_ms = v;
		}
	}
	if (rl_setup(count, period_s, post_ms) != 0)
		return -1;
	return rc;
}

int
pts_rl_configure(int get_count, int get_period_s, int post_interval_ms)
{
	if (get_count < 1 || get_count > PTS_RL_GET_COUNT_MAX || get_period_s < 1 ||
	    get_period_s > PTS_RL_GET_PERIOD_S_MAX || post_interval_ms < 0 ||
	    post_interval_ms > PTS_RL_POST_INTERVAL_MS_MAX)
		return -1;
	return rl_setup(get_count, get_period_s, post_interval_ms);
}

void
pts_rl_reset(void)
{
	if (rl == NULL)
		return;
	rl->last_write_ms = 0;
	rl->head = rl->used = 0;
}

/* Sleep until `until` (monotonic ms), shown as waiting when long. 0, or 1 when cancelled. */
static int
rl_wait_until(struct pts_wctx *w, int64_t until, const char *why)
{
	int64_t ms = until - pts_rl_now_ms();
	int shown = 0, rc;

	if (ms <= 0)
		return 0;
	if (ms > PTS_RL_SHOW_WAIT_MS) {
		PTS_INFO("Trakt pacing: waiting %.1f s (%s)", (double)ms / 1000.0, why);
		pts_wctx_set_waiting(w, pts_now() + (ms + 999) / 1000, "Trakt rate limit");
		shown = 1;
	}
	rc = pts_wctx_sleep(w, ms);
	if (shown)
		pts_wctx_set_waiting(w, 0, NULL);
	return rc;
}

int
pts_rl_trakt_acquire(struct pts_wctx *w, int is_write)
{
	if (rl == NULL)
		(void)pts_rl_init();
	if (rl == NULL)
		return pts_wctx_cancelled(w);
	if (is_write) {
		if (rl->last_write_ms != 0 &&
		    rl_wait_until(w, rl->last_write_ms + rl->post_interval_ms, "one write per second"))
			return 1;
		/* Until it finishes, count the start: a crash mid-write still spaces the next. */
		rl->last_write_ms = pts_rl_now_ms();
		return 0;
	}
	if (rl->used == rl->count) {
		/* The oldest of the last `count` GETs must leave the window before another goes. */
		int64_t oldest = rl->ring[rl->head];

		if (rl_wait_until(w, oldest + rl->period_ms, "GET budget"))
			return 1;
		rl->used--;
		rl->head = (rl->head + 1) % rl->count;
	}
	rl->ring[(rl->head + rl->used) % rl->count] = pts_rl_now_ms();
	rl->used++;
	return 0;
}

void
pts_rl_trakt_done(int is_write)
{
	if (rl != NULL && is_write)
		rl->last_write_ms = pts_rl_now_ms();
}

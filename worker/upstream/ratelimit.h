/*
 * ratelimit.h - Trakt request pacing, shared by the whole worker.
 *
 * Trakt allows one POST/PUT/DELETE per second and a budget of GETs per five minutes
 * (docs/UPSTREAM.md). We pace BEFORE sending, so a 429 should never happen in normal use:
 *   writes: the next write starts no sooner than PTS_TRAKT_POST_INTERVAL_MS (default 1000)
 *           after the previous one finished;
 *   GETs:   a sliding window of PTS_TRAKT_GET_BUDGET="COUNT/SECONDS" (default 450/300).
 *
 * Jobs run in forked children, one Trakt job at a time (the "trakt" lane). So that the
 * budget holds across jobs, pts_rl_init() (called by main before the first fork) puts the
 * state in a MAP_SHARED anonymous mapping every child inherits. Without it the first use
 * sets up process-private state (tests, tools). Times come from CLOCK_MONOTONIC, which all
 * processes share.
 *
 * Waits go through pts_wctx_sleep (sliced, cancel-aware) and show as the run's waiting
 * state when longer than PTS_RL_SHOW_WAIT_MS.
 */
#ifndef PTS_RATELIMIT_H
#define PTS_RATELIMIT_H

#include <stdint.h>

#include "wctx.h"

/* Defaults (docs/UPSTREAM.md: about 500 GETs per 5 min in 2026; stay under it). */
#define PTS_RL_GET_COUNT_DEFAULT 450
#define PTS_RL_GET_PERIOD_S_DEFAULT 300
#define PTS_RL_POST_INTERVAL_MS_DEFAULT 1000
/* Largest GET budget accepted from the environment (the window keeps one slot per call). */
#define PTS_RL_GET_COUNT_MAX 10000
#define PTS_RL_GET_PERIOD_S_MAX 3600
/* Longest write interval accepted from the environment. */
#define PTS_RL_POST_INTERVAL_MS_MAX 60000
/* Waits longer than this are shown on the progress row. */
#define PTS_RL_SHOW_WAIT_MS 1000

/*
 * Read the environment and set up the shared state. Call once in the parent before forking;
 * calling again is a no-op. 0, or -1 when the environment is malformed (defaults are used,
 * logged).
 */
int pts_rl_init(void);

/*
 * Wait until a Trakt request may be sent, then count it. is_write: POST/PUT/DELETE.
 * Returns 0 when it may go, 1 when the job was cancelled while waiting.
 */
int pts_rl_trakt_acquire(struct pts_wctx *w, int is_write);

/* A write finished (successfully or not): the next write waits from now. */
void pts_rl_trakt_done(int is_write);

/*
 * Replace the budget and forget all history (tests, benchmarks): GETs per period, write
 * spacing. 0, or -1 when out of range (nothing changed).
 */
int pts_rl_configure(int get_count, int get_period_s, int post_interval_ms);

/* Forget all history (tests). */
void pts_rl_reset(void);

/* Monotonic milliseconds (the limiter's clock). */
int64_t pts_rl_now_ms(void);

#endif

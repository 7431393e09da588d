/*
 * runner.h - the job runner: picks queued jobs, runs each in a child process, reaps them.
 *
 * Jobs run in lanes: at most one job per lane at a time. Every job that talks to Trakt
 * shares the "trakt" lane (so Trakt's per-account rate limit is honoured from one process at
 * a time); other kinds have a lane of their own. A child opens its own database handle, runs
 * the handler and records the outcome; the parent never blocks on the network, so it keeps
 * the heartbeat, the scheduler and new jobs moving.
 *
 * Households: the runner works on pts.db's connection, where the jobs of every profile are;
 * the lanes are shared by all profiles (syncs of two people run one after the other, which
 * keeps one Trakt pacer per client id). A child opens the connection of its job's profile,
 * and what the parent does to a job's run (interrupted, failed) is done on that profile's
 * connection (profiles.h). Recovery at start covers every profile.
 */
#ifndef PTS_RUNNER_H
#define PTS_RUNNER_H

#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>

/* A job interrupted this many times (crashes, restarts) is failed instead of retried. */
#define PTS_RUNNER_MAX_ATTEMPTS 5
/*
 * Address space a job child may use (RLIMIT_AS), in MiB: a hostile or broken upstream answer
 * then fails that job ("out of memory parsing Plex answer") instead of taking the machine
 * down. PTS_JOB_MEM_MAX_MB overrides it (0: no limit). Not applied in AddressSanitizer builds,
 * which reserve terabytes of address space; the JSON value cap (jsonx.h) works in every build.
 */
#define PTS_RUNNER_MEM_MAX_MB 1536

/* At start: jobs left 'running' by a dead worker go back to the queue (or fail). 0 or -1. */
int pts_runner_recover(sqlite3 *db);

/* Start every queued job whose lane is free (forking). Returns how many were started. */
int pts_runner_start_ready(sqlite3 *db, const char *dbpath, volatile sig_atomic_t *term);

/* Reap finished children; a child that died without recording an outcome fails its job. */
void pts_runner_reap(sqlite3 *db);

/* Children still running. */
int pts_runner_active(void);

/* Forward SIGTERM to every child and wait for them (bounded), then reap. */
void pts_runner_shutdown(sqlite3 *db);

/*
 * Run one job in this process (used by children, --once and --cron): marks it running, runs
 * the handler, records done/failed/cancelled or re-queues it after a SIGTERM or a yield.
 * Returns the handler's enum pts_job_result (wctx.h); a job of an unknown kind fails.
 */
int pts_runner_run_job(sqlite3 *db, int64_t job_id, volatile sig_atomic_t *term);

/*
 * Claim a queued job for this process (state 'running', one more attempt), as the daemon
 * does before it forks. 0 claimed, 1 when it is no longer queued, -1 on error.
 */
int pts_runner_claim(sqlite3 *db, int64_t job_id);

/*
 * --cron: jobs that can pause (sign-in flows) hand back after budget_ms of a run_job call
 * (0, the default, never). Set once before running jobs.
 */
void pts_runner_set_yield_budget(int64_t budget_ms);

#endif

/*
 * main.c - pts-worker: the long-running daemon (scheduler, jobs, sync engine, network I/O).
 *
 *   pts-worker                 run as a daemon in the foreground (one per data folder)
 *   pts-worker --once [--dry-run] [--full]
 *                              run one sync now in the foreground and exit (tests, by hand)
 *   pts-worker --cron          do whatever is due (queued jobs, sign-in polling, the
 *                              scheduled sync) and exit: cron every minute, no daemon
 *   --user NAME (or PTS_USER)  started as root: become NAME (default plex-trakt-sync; root
 *                              is refused) once the data folder and its files are NAME's;
 *                              the lock and the database are opened after the drop
 *
 * Exit status: 0 ok, 1 failure, 2 usage, 3 another worker holds the data folder (--cron
 * then exits 0 without a word: the daemon or the previous run is doing the work).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cron.h"
#include "db.h"
#include "heartbeat.h"
#include "http.h"
#include "jobs.h"
#include "log.h"
#include "logdb.h"
#include "paths.h"
#include "profiles.h"
#include "privdrop.h"
#include "progress.h"
#include "ratelimit.h"
#include "runner.h"
#include "scheduler.h"
#include "settings.h"

/* How often the main loop looks for new jobs (a new job starts within a second). */
#define WORKER_TICK_MS 200
/* How often the schedule is checked. */
#define WORKER_SCHEDULE_EVERY_MS 1000

static volatile sig_atomic_t worker_term, worker_hup;

static void
worker_on_term(int sig)
{
	(void)sig;
	worker_term = 1;
}

static void
worker_on_hup(int sig)
{
	(void)sig;
	worker_hup = 1;
}

static void
worker_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = worker_on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = worker_on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/*
 * One worker per data folder: an flock on <data>/worker.lock held for the process life.
 * quiet: say nothing when it is taken (--cron). fd, -2 when taken, -1 on error.
 */
static int
worker_lock(int quiet)
{
	char path[PTS_PATH_MAX];
	int fd;

	if (pts_paths_join(path, sizeof(path), "worker.lock") != 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		pts_log_raw(PTS_LOG_ERROR, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (!quiet)
			pts_log_raw(PTS_LOG_ERROR, "another pts-worker is already running for %s",
			    pts_paths_data_dir());
		close(fd);
		return -2;
	}
	return fd; /* kept open (and locked) until exit */
}

/*
 * Started as root with a user to become: the data folder and the files in it (lock,
 * database and its WAL companions, perhaps root's from an earlier run) must be that user's,
 * since the lock and the database are opened after the drop. 0 or -1 (logged).
 */
static int
worker_prepare_files(const struct pts_privdrop *pd)
{
	char path[PTS_PATH_MAX];

	if (pts_privdrop_prepare_data(pd) != 0 ||
	    pts_paths_join(path, sizeof(path), "worker.lock") != 0 ||
	    pts_privdrop_give_file(pd, path, 1) != 0)
		return -1;
	return 0;
}

static void
worker_usage(FILE *f)
{
	fprintf(f, "usage: pts-worker [--user NAME] [--once [--dry-run] [--full] | --cron]\n"
	    "  (no mode)   the daemon, in the foreground\n"
	    "  --once      run one sync now and exit\n"
	    "  --cron      do what is due (jobs, sign-in polling, the schedule) and exit\n"
	    "  --user NAME started as root: run as NAME (also PTS_USER; default "
	    PTS_PRIVDROP_DEFAULT_USER ",\n"
	    "              root is refused)\n"
	    "  Environment: PTS_DATA_DIR (default ./var) and the upstream URLs in docs/API.md.\n");
}

static void
worker_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The daemon loop: heartbeat, schedule, start jobs, reap children. */
static int
worker_daemon(sqlite3 *db, const char *dbpath)
{
	int64_t sched_ms = 0;
	char *seen = pts_db_meta_get(db, "settings_changed");

	if (pts_runner_recover(db) != 0)
		PTS_WARN("could not recover jobs left running");
	PTS_INFO("worker started (pid %ld, data folder %s)", (long)getpid(), pts_paths_data_dir());
	while (!worker_term) {
		char *now_seen;

		pts_heartbeat_tick(db);
		pts_runner_reap(db);
		now_seen = pts_db_meta_get(db, "settings_changed");
		if (worker_hup || (now_seen && (!seen || strcmp(now_seen, seen) != 0))) {
			if (worker_hup)
				PTS_INFO("SIGHUP: settings re-read");
			worker_hup = 0;
			sched_ms = 0; /* re-check the schedule against the new settings now */
		}
		free(seen);
		seen = now_seen;
		if (pts_now_ms() - sched_ms >= WORKER_SCHEDULE_EVERY_MS) {
			sched_ms = pts_now_ms();
			(void)pts_scheduler_tick(db);
		}
		(void)pts_runner_start_ready(db, dbpath, &worker_term);
		worker_sleep_ms(WORKER_TICK_MS);
	}
	free(seen);
	PTS_INFO("stopping: waiting for running jobs to finish their step");
	pts_runner_shutdown(db);
	PTS_INFO("worker stopped");
	return 0;
}

/* --once: queue (or join) a sync and run it here, with a progress line on stderr. */
static int
worker_once(sqlite3 *db, int dry_run, int full)
{
	int64_t run_id = 0, job_id = 0;
	char *status = NULL;
	int rc;

	if (pts_runner_recover(db) != 0)
		PTS_WARN("could not recover jobs left running");
	if (!dry_run)
		dry_run = pts_settings_get_bool(db, PTS_KEY_DRY_RUN);
	rc = pts_jobs_request_sync(db, "manual", dry_run, full, &run_id);
	if (rc < 0)
		return 1;
	if (rc == 1)
		PTS_INFO("joining the sync already queued (run %lld)", (long long)run_id);
	if (pts_db_int(db, &job_id, 0, "SELECT job_id FROM runs WHERE id = ?", "i", run_id) != 0 ||
	    job_id == 0)
		return 1;
	pts_progress_console = 1;
	rc = pts_runner_run_job(db, job_id, &worker_term);
	(void)pts_db_text(db, &status, "SELECT status FROM runs WHERE id = ?", "i", run_id);
	fprintf(stderr, "\nrun %lld: %s\n", (long long)run_id, status ? status : "unknown");
	rc = status && strcmp(status, "ok") == 0 ? 0 : 1;
	free(status);
	return rc;
}

int
main(int argc, char **argv)
{
	char dbpath[PTS_PATH_MAX];
	struct pts_privdrop pd;
	sqlite3 *db = NULL;
	const char *user = NULL;
	int once = 0, cron = 0, dry_run = 0, full = 0, lockfd, rc, i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--once") == 0)
			once = 1;
		else if (strcmp(argv[i], "--cron") == 0)
			cron = 1;
		else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc && argv[i + 1][0] != '\0')
			user = argv[++i];
		else if (strncmp(argv[i], "--user=", 7) == 0 && argv[i][7] != '\0')
			user = argv[i] + 7;
		else if (strcmp(argv[i], "--dry-run") == 0)
			dry_run = 1;
		else if (strcmp(argv[i], "--full") == 0)
			full = 1;
		else if (strcmp(argv[i], "--version") == 0) {
			printf("pts-worker %s\n", PTS_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			worker_usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "pts-worker: unknown option %s\n", argv[i]);
			worker_usage(stderr);
			return 2;
		}
	}
	if ((dry_run || full) && !once) {
		fprintf(stderr, "pts-worker: --dry-run and --full go with --once\n");
		return 2;
	}
	if (once && cron) {
		fprintf(stderr, "pts-worker: --once and --cron are two different modes: pick one\n");
		return 2;
	}
	/* Cron mails whatever is printed: a pass with nothing wrong prints nothing. */
	pts_log_init("pts-worker", getenv("PTS_DEBUG") ? PTS_LOG_DEBUG :
	    cron ? PTS_LOG_WARN : PTS_LOG_INFO);
	if (pts_privdrop_lookup(user, &pd) != 0)
		return 1;
	worker_signals();
	if (worker_prepare_files(&pd) != 0 || pts_paths_db(dbpath, sizeof(dbpath)) != 0)
		return 1;
	/* Nothing else needs root: the lock and the database are opened as the user. */
	if (pts_privdrop_drop(&pd) != 0 || pts_privdrop_check_data(&pd) != 0)
		return 1;
	lockfd = worker_lock(cron);
	if (lockfd == -2)
		return cron ? 0 : 3;
	if (lockfd < 0)
		return 1;
	/* Before any fork: curl's global state, and the Trakt rate limiter in shared memory
	 * that every job child inherits (one budget for the whole worker). */
	if (pts_http_global_init() != 0 || pts_rl_init() != 0) {
		pts_log_raw(PTS_LOG_ERROR, "cannot set up the HTTP layer");
		return 1;
	}
	if (pts_db_open(dbpath, &db) != 0)
		return 1;
	pts_logdb_attach(db);
	if (pts_heartbeat_start(db) != 0) {
		pts_db_close(db);
		return 1;
	}
	if (cron)
		rc = pts_cron_run(db, &worker_term);
	else
		rc = once ? worker_once(db, dry_run, full) : worker_daemon(db, dbpath);
	/* After a --cron pass the heartbeat stays: health shows when the last pass ran. */
	if (!cron)
		pts_heartbeat_stop(db);
	pts_logdb_attach(NULL);
	pts_wprof_close_all();
	pts_db_close(db);
	pts_http_global_cleanup();
	close(lockfd);
	return rc;
}

/*
 * server.c - FastCGI accept loop and the preforking --socket listener.
 */
#include "server.h"

#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "clock.h"
#include "db.h"
#include "io.h"
#include "log.h"

static volatile sig_atomic_t srv_stop;
static volatile sig_atomic_t srv_child_died;

/* ==== signals: handlers only set flags ==== */

static void
srv_on_term(int sig)
{
	(void)sig;
	srv_stop = 1;
	FCGX_ShutdownPending(); /* sets libfcgi's own flag: accept() stops retrying on EINTR */
}

static void
srv_on_chld(int sig)
{
	(void)sig;
	srv_child_died = 1;
}

static void
srv_handle(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a blocking accept() returns to look at the flag */
	(void)sigaction(sig, &sa, NULL);
}

/* ==== the accept loop (children, or a socket on stdin) ==== */

int
srv_accept_loop(int fd)
{
	FCGX_Request r;
	sigset_t none;

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	srv_handle(SIGTERM, srv_on_term);
	srv_handle(SIGINT, srv_on_term);
	srv_handle(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN); /* a client that hangs up must not kill us mid-answer */
	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, fd, 0) != 0) {
		pts_log(PTS_LOG_ERROR, "FastCGI: cannot initialise libfcgi");
		return -1;
	}
	while (!srv_stop) {
		if (FCGX_Accept_r(&r) < 0) {
			if (srv_stop)
				break;
			/* A failed accept is not fatal: log it and try again shortly. */
			pts_log(PTS_LOG_WARN, "FastCGI: accept failed: %s", strerror(errno));
			sleep(1);
			continue;
		}
		io_serve_fcgx(&r);
		FCGX_Finish_r(&r);
	}
	FCGX_Free(&r, 0);
	app_shutdown();
	return 0;
}

/* ==== the --socket listener ==== */

/* Remove a stale socket file at path; refuse when something else lives there. 0 or -1. */
static int
srv_clear_path(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, live;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		pts_log(PTS_LOG_ERROR, "cannot look at %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		pts_log(PTS_LOG_ERROR, "%s exists and is not a socket; not touching it", path);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		pts_log(PTS_LOG_ERROR, "socket path too long: %s", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	if (live) {
		pts_log(PTS_LOG_ERROR, "%s: another responder is listening there", path);
		return -1;
	}
	if (unlink(path) != 0) {
		pts_log(PTS_LOG_ERROR, "cannot remove stale socket %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct srv_child {
	pid_t pid;
	int64_t started_ms;
};

/* Fork one child serving fd. The child never returns. */
static pid_t
srv_spawn(int fd)
{
	pid_t pid = fork();

	if (pid < 0) {
		pts_log(PTS_LOG_ERROR, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		_exit(srv_accept_loop(fd) == 0 ? 0 : 1);
	return pid;
}

/* Sleep ms unless a signal comes first (the caller looks at the flags). */
static void
srv_nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	(void)nanosleep(&ts, NULL);
}

/* Reap dead children and start replacements. */
static void
srv_reap(struct srv_child *kids, int n, int fd)
{
	pid_t pid;
	int status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < n; i++) {
			if (kids[i].pid != pid)
				continue;
			if (WIFSIGNALED(status))
				pts_log(PTS_LOG_WARN, "child %d killed by signal %d", (int)pid,
				    WTERMSIG(status));
			else if (!srv_stop)
				pts_log(PTS_LOG_WARN, "child %d exited with %d", (int)pid,
				    WEXITSTATUS(status));
			kids[i].pid = 0;
			if (srv_stop)
				break;
			/* A child that dies at once would otherwise be re-spawned in a tight loop. */
			if (pts_now_ms() - kids[i].started_ms < SRV_RESPAWN_MIN_MS)
				srv_nap(1000);
			kids[i].pid = srv_spawn(fd);
			kids[i].started_ms = pts_now_ms();
		}
	}
}

/* SIGTERM every child, wait up to SRV_STOP_WAIT_MS, then SIGKILL the rest. */
static void
srv_stop_children(struct srv_child *kids, int n)
{
	int64_t deadline = pts_now_ms() + SRV_STOP_WAIT_MS;
	int i, left;

	for (i = 0; i < n; i++)
		if (kids[i].pid > 0)
			(void)kill(kids[i].pid, SIGTERM);
	for (;;) {
		for (i = 0, left = 0; i < n; i++) {
			if (kids[i].pid <= 0)
				continue;
			if (waitpid(kids[i].pid, NULL, WNOHANG) == kids[i].pid)
				kids[i].pid = 0;
			else
				left++;
		}
		if (left == 0)
			return;
		if (pts_now_ms() > deadline)
			break;
		srv_nap(50);
	}
	for (i = 0; i < n; i++) {
		if (kids[i].pid > 0) {
			pts_log(PTS_LOG_WARN, "child %d did not stop; killing it", (int)kids[i].pid);
			(void)kill(kids[i].pid, SIGKILL);
			(void)waitpid(kids[i].pid, NULL, 0);
		}
	}
}

/*
 * The listening socket at path, fd or -1 (logged). Created with pd's user's ids and the
 * group (privdrop.h: no chown or chmod by path as root afterwards), its mode set by the
 * umask before bind. Not root, the group is set on our own fresh file (our own right).
 */
static int
srv_listen(const char *path, mode_t mode, gid_t group, const struct pts_privdrop *pd)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd = -1, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		pts_log(PTS_LOG_ERROR, "socket path too long: %s", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (pts_privdrop_fs_enter(pd, group) != 0)
		return -1;
	if (srv_clear_path(path) != 0)
		goto out;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		pts_log(PTS_LOG_ERROR, "socket: %s", strerror(errno));
		goto out;
	}
	old = umask(~mode & 0777);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	(void)umask(old);
	if (rc != 0 || listen(fd, SRV_BACKLOG) != 0) {
		pts_log(PTS_LOG_ERROR, "cannot listen on %s%s%s: %s", path, pd->due ? " as " : "",
		    pd->due ? pd->name : "", strerror(errno));
		if (rc == 0)
			(void)unlink(path);
		close(fd);
		fd = -1;
		goto out;
	}
	if (!pd->due && group != (gid_t)-1 && lchown(path, (uid_t)-1, group) != 0) {
		pts_log(PTS_LOG_ERROR, "cannot give %s to group %ld: %s", path, (long)group,
		    strerror(errno));
		close(fd);
		(void)unlink(path);
		fd = -1;
	}
out:
	if (pts_privdrop_fs_leave(pd) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int
srv_prefork(const char *path, int children, mode_t mode, gid_t group,
    const struct pts_privdrop *pd)
{
	struct srv_child kids[SRV_MAX_CHILDREN];
	sigset_t block, old;
	int fd, i, holes;

	if (children < 1 || children > SRV_MAX_CHILDREN)
		return -1;
	if (FCGX_Init() != 0) {
		pts_log(PTS_LOG_ERROR, "FastCGI: cannot initialise libfcgi");
		return -1;
	}
	if ((fd = srv_listen(path, mode, group, pd)) < 0)
		return -1;
	/* The socket is open: nothing left that needs root. Children are born unprivileged. */
	if (pts_privdrop_drop(pd) != 0 || pts_privdrop_check_data(pd) != 0) {
		close(fd);
		(void)unlink(path);
		return -1;
	}
	/* Block the signals we wait for, so none slips in between a check and sigsuspend(). */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGCHLD);
	(void)sigprocmask(SIG_BLOCK, &block, &old);
	srv_handle(SIGTERM, srv_on_term);
	srv_handle(SIGINT, srv_on_term);
	srv_handle(SIGCHLD, srv_on_chld);
	signal(SIGPIPE, SIG_IGN);
	memset(kids, 0, sizeof(kids));
	for (i = 0; i < children; i++) {
		kids[i].pid = srv_spawn(fd);
		kids[i].started_ms = pts_now_ms();
	}
	pts_log(PTS_LOG_INFO, "listening on %s with %d children", path, children);
	while (!srv_stop) {
		sigset_t wait_mask = old;

		sigdelset(&wait_mask, SIGTERM);
		sigdelset(&wait_mask, SIGINT);
		sigdelset(&wait_mask, SIGCHLD);
		srv_child_died = 0;
		srv_reap(kids, children, fd);
		/* A fork that failed leaves a hole: try again every second. */
		for (i = 0, holes = 0; i < children && !srv_stop; i++) {
			if (kids[i].pid <= 0) {
				kids[i].pid = srv_spawn(fd);
				kids[i].started_ms = pts_now_ms();
			}
			holes += kids[i].pid <= 0;
		}
		if (srv_stop || srv_child_died)
			continue;
		if (holes > 0) {
			(void)sigprocmask(SIG_SETMASK, &wait_mask, NULL);
			srv_nap(1000);
			(void)sigprocmask(SIG_BLOCK, &block, NULL);
		} else {
			sigsuspend(&wait_mask);
		}
	}
	pts_log(PTS_LOG_INFO, "stopping: %d children", children);
	srv_stop_children(kids, children);
	close(fd);
	(void)unlink(path);
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;
}

/*
 * noop_fcgi.c - the yardstick of the load benchmark (tests/bench/bench_load.py): a FastCGI
 * responder that answers every request with "{}" and does nothing else, in the same shape
 * as pts-cgi --socket (N preforked children accepting on one unix socket), so the difference
 * between the two behind one nginx is what pts-cgi's own work costs.
 *
 *   noop_fcgi --socket PATH [--children N]      SIGTERM/SIGINT stop it and remove the socket
 */
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Children at most (pts-cgi's bound). */
#define NOOP_MAX_CHILDREN 64
#define NOOP_BACKLOG 128

static volatile sig_atomic_t noop_stop;

static void
noop_on_term(int sig)
{
	(void)sig;
	noop_stop = 1;
}

static void
noop_child(int fd)
{
	static const char answer[] = "Status: 200 OK\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n\r\n{}";
	FCGX_Request r;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	if (FCGX_InitRequest(&r, fd, 0) != 0)
		_exit(1);
	while (FCGX_Accept_r(&r) >= 0) {
		FCGX_PutStr(answer, (int)sizeof(answer) - 1, r.out);
		FCGX_Finish_r(&r);
	}
	_exit(0);
}

int
main(int argc, char *argv[])
{
	pid_t kids[NOOP_MAX_CHILDREN];
	const char *path = NULL;
	int n = 3, i, fd;
	struct sigaction sa;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--children") == 0 && i + 1 < argc)
			n = atoi(argv[++i]);
		else
			path = NULL, i = argc;
	}
	if (path == NULL || n < 1 || n > NOOP_MAX_CHILDREN) {
		fprintf(stderr, "usage: noop_fcgi --socket PATH [--children 1-%d]\n",
		    NOOP_MAX_CHILDREN);
		return 2;
	}
	(void)unlink(path);
	if (FCGX_Init() != 0 || (fd = FCGX_OpenSocket(path, NOOP_BACKLOG)) < 0) {
		fprintf(stderr, "noop_fcgi: cannot listen on %s: %s\n", path, strerror(errno));
		return 1;
	}
	(void)chmod(path, 0666);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = noop_on_term;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	for (i = 0; i < n; i++) {
		kids[i] = fork();
		if (kids[i] == 0)
			noop_child(fd);
	}
	while (!noop_stop)
		pause();
	for (i = 0; i < n; i++)
		if (kids[i] > 0)
			(void)kill(kids[i], SIGTERM);
	for (i = 0; i < n; i++)
		if (kids[i] > 0)
			(void)waitpid(kids[i], NULL, 0);
	(void)unlink(path);
	return 0;
}

/*
 * main.c - pts-cgi: the dashboard's API as a FastCGI responder or a plain CGI program.
 *
 *   pts-cgi --socket PATH [--children N] [--mode 0660] [--group NAME]
 *                            own listener, preforked children
 *   pts-cgi                  (socket on stdin: spawn-fcgi, a web server) FastCGI loop
 *   pts-cgi                  (REQUEST_METHOD set: Apache, shared hosting) one CGI request
 *   --user NAME (or PTS_USER)  started as root: become NAME (default plex-trakt-sync; root is
 *                            refused) once the data folder and socket are ready. A CGI
 *                            program runs as the web server's user; run as root, it becomes
 *                            PTS_USER or plex-trakt-sync before reading the request.
 */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "app.h"
#include "io.h"
#include "log.h"
#include "privdrop.h"
#include "query.h"
#include "server.h"

#define MAIN_DEFAULT_CHILDREN 3
#define MAIN_DEFAULT_MODE 0660
/* Free heap a responder keeps between requests (see main()). */
#define MAIN_HEAP_KEEP (4 * 1024 * 1024)

#ifndef PTS_VERSION
#define PTS_VERSION "unknown"
#endif

static void
main_usage(FILE *f)
{
	fprintf(f, "usage: pts-cgi [--user NAME] [--socket PATH [--children N] [--mode OCTAL]"
	    " [--group NAME]]\n"
	    "  --socket PATH   listen on this unix socket (a stale one is replaced)\n"
	    "  --children N    preforked responders, 1-%d (default %d)\n"
	    "  --mode OCTAL    socket file mode (default %04o)\n"
	    "  --group NAME    the socket's group (the web server's; default: the user's)\n"
	    "  --user NAME     started as root: run as NAME (also PTS_USER; default %s,\n"
	    "                  root is refused); the socket is created as NAME\n"
	    "Without --socket: a FastCGI loop when stdin is a FastCGI socket, else one CGI\n"
	    "request from the environment. PTS_DATA_DIR names the data folder (./var).\n",
	    SRV_MAX_CHILDREN, MAIN_DEFAULT_CHILDREN, MAIN_DEFAULT_MODE,
	    PTS_PRIVDROP_DEFAULT_USER);
}

/* Strict octal mode 0-0777. 0 or -1. */
static int
main_mode(const char *s, mode_t *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '7')
		return -1;
	v = strtol(s, &end, 8);
	if (*end != '\0' || v < 0 || v > 0777)
		return -1;
	*out = (mode_t)v;
	return 0;
}

/*
 * Before a drop: the data folder and the database file exist and belong to the user. The
 * database itself is opened only after the drop, by each child (never by root). 0 or -1.
 */
static int
main_prepare(const struct pts_privdrop *pd)
{
	if (!pd->due)
		return 0;
	return pts_privdrop_prepare_data(pd);
}

static int
main_cgi(void)
{
	struct pts_privdrop pd;
	int rc;

	/*
	 * A web server runs CGI programs as its own user. One that runs us as root (never
	 * right) gets the service user all the same: nothing of ours keeps root. A data folder
	 * that is not ready for the user (logged) is answered as an unavailable database, as
	 * the user, like any other.
	 */
	if (geteuid() == 0) {
		if (pts_privdrop_lookup(NULL, &pd) != 0)
			return 1;
		(void)main_prepare(&pd);
		if (pts_privdrop_drop(&pd) != 0)
			return 1;
	}
	rc = io_serve_cgi();
	app_shutdown();
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "children", required_argument, NULL, 'c' },
		{ "mode", required_argument, NULL, 'm' },
		{ "user", required_argument, NULL, 'u' },
		{ "group", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *socket_path = NULL, *user = NULL, *group_name = NULL;
	struct pts_privdrop pd;
	gid_t group = (gid_t)-1;
	mode_t mode = MAIN_DEFAULT_MODE;
	int64_t children = MAIN_DEFAULT_CHILDREN;
	int c;

	pts_log_init("pts-cgi", PTS_LOG_INFO);
	/*
	 * Keep freed heap instead of handing it back after each request: glibc's default trims
	 * the top of the heap whenever 128 KiB are free, and the next request faults the same
	 * pages in again (a tenth of a status poll's time went to brk and page faults).
	 */
	(void)mallopt(M_TRIM_THRESHOLD, MAIN_HEAP_KEEP);
	(void)mallopt(M_TOP_PAD, MAIN_HEAP_KEEP / 4);
	/*
	 * A CGI server may pass words of the query string as arguments (RFC 3875 4.4):
	 * under CGI the command line is not ours to parse.
	 */
	if (getenv("GATEWAY_INTERFACE") != NULL || getenv("REQUEST_METHOD") != NULL)
		return main_cgi();
	while ((c = getopt_long(argc, argv, "s:c:m:u:g:hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			socket_path = optarg;
			break;
		case 'c':
			if (query_int(optarg, 1, SRV_MAX_CHILDREN, &children) != 0) {
				fprintf(stderr, "pts-cgi: --children must be 1-%d\n", SRV_MAX_CHILDREN);
				return 2;
			}
			break;
		case 'm':
			if (main_mode(optarg, &mode) != 0) {
				fprintf(stderr, "pts-cgi: --mode must be an octal mode such as 0660\n");
				return 2;
			}
			break;
		case 'u':
			user = optarg;
			break;
		case 'g':
			group_name = optarg;
			break;
		case 'h':
			main_usage(stdout);
			return 0;
		case 'V':
			printf("pts-cgi %s\n", PTS_VERSION);
			return 0;
		default:
			main_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		main_usage(stderr);
		return 2;
	}
	if (group_name != NULL && socket_path == NULL) {
		fprintf(stderr, "pts-cgi: --group goes with --socket\n");
		return 2;
	}
	if (group_name != NULL && pts_privdrop_group(group_name, &group) != 0)
		return 1;
	if (pts_privdrop_lookup(user, &pd) != 0 || main_prepare(&pd) != 0)
		return 1;
	if (socket_path != NULL)
		return srv_prefork(socket_path, (int)children, mode, group, &pd) == 0 ? 0 : 1;
	if (!FCGX_IsCGI()) {
		/* The socket on stdin is already open: drop before the first request. */
		if (pts_privdrop_drop(&pd) != 0 || pts_privdrop_check_data(&pd) != 0)
			return 1;
		return srv_accept_loop(0) == 0 ? 0 : 1;
	}
	main_usage(stderr);
	return 2;
}

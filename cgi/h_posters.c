/*
 * h_posters.c - GET /api/posters/NAME: a poster image pts-worker keeps in the data folder's
 * posters/, for web servers that cannot read that folder themselves (systemd's DynamicUser
 * keeps it private; CGI-only hosts). The standalone nginx serves /posters/NAME directly.
 *
 * The route table admits only names of the worker's shape (no dots but the extension's, no
 * slash), the file is opened without following a link and must be a regular file within
 * H_POSTERS_FILE_MAX; anything else is 404 with no detail.
 */
#include "handler.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "paths.h"

/* Largest image served (the worker keeps none larger: PTS_POSTERS_FILE_MAX). */
#define H_POSTERS_FILE_MAX (1024L * 1024)
#define H_POSTERS_PREFIX "posters/"

/* The Content-Type of a name's extension (the route admitted only these). */
static const char *
posters_ctype(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot != NULL && strcmp(dot, ".png") == 0)
		return "image/png";
	if (dot != NULL && strcmp(dot, ".webp") == 0)
		return "image/webp";
	return "image/jpeg";
}

static void
posters_not_found(struct hctx *ctx)
{
	resp_error(ctx->resp, 404, "not_found", "no such poster", NULL);
}

void
h_posters_get(struct hctx *ctx)
{
	const char *name = ctx->req->path + strlen(H_POSTERS_PREFIX);
	char rel[PTS_PATH_MAX], path[PTS_PATH_MAX];
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd;

	if (strncmp(ctx->req->path, H_POSTERS_PREFIX, strlen(H_POSTERS_PREFIX)) != 0 ||
	    (size_t)snprintf(rel, sizeof(rel), "posters/%s", name) >= sizeof(rel) ||
	    pts_paths_join(path, sizeof(path), rel) != 0) {
		posters_not_found(ctx);
		return;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno != ENOENT)
			pts_log(PTS_LOG_WARN, "poster %s: %s", name, strerror(errno));
		posters_not_found(ctx);
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > H_POSTERS_FILE_MAX || (buf = malloc((size_t)st.st_size)) == NULL) {
		close(fd);
		posters_not_found(ctx);
		return;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		pts_log(PTS_LOG_WARN, "poster %s: short read", name);
		free(buf);
		resp_internal(ctx->resp);
		return;
	}
	resp_text(ctx->resp, 200, posters_ctype(name), buf, got);
}

/*
 * io.c - FastCGI and plain CGI adapters around app_handle().
 */
#include "io.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "app.h"
#include "log.h"
#include "req.h"
#include "resp.h"

/* ==== FastCGI ==== */

static const char *
io_fcgx_getenv(void *arg, const char *name)
{
	FCGX_Request *r = arg;

	return FCGX_GetParam(name, r->envp);
}

static ssize_t
io_fcgx_read(void *arg, char *buf, size_t len)
{
	FCGX_Request *r = arg;
	int n;

	if (len > INT_MAX)
		len = INT_MAX;
	n = FCGX_GetStr(buf, (int)len, r->in);
	if (n < 0 || FCGX_GetError(r->in) != 0)
		return -1;
	return n;
}

static int
io_fcgx_write(void *arg, const char *buf, size_t len)
{
	FCGX_Request *r = arg;

	while (len > 0) {
		int chunk = len > INT_MAX ? INT_MAX : (int)len;

		if (FCGX_PutStr(buf, chunk, r->out) != chunk)
			return -1;
		buf += chunk;
		len -= (size_t)chunk;
	}
	return 0;
}

void
io_serve_fcgx(FCGX_Request *r)
{
	struct req rq;
	struct resp rs;

	req_init(&rq, io_fcgx_getenv, r, io_fcgx_read, r);
	resp_init(&rs);
	app_handle(&rq, &rs);
	if (resp_flush(&rs, io_fcgx_write, r) != 0)
		pts_log(PTS_LOG_WARN, "%s /api/%s: the client went away before the answer",
		    rq.method_name, rq.path);
	resp_free(&rs);
	req_free(&rq);
}

/* ==== plain CGI ==== */

static const char *
io_cgi_getenv(void *arg, const char *name)
{
	(void)arg;
	return getenv(name);
}

static ssize_t
io_cgi_read(void *arg, char *buf, size_t len)
{
	ssize_t n;

	(void)arg;
	do
		n = read(STDIN_FILENO, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

static int
io_cgi_write(void *arg, const char *buf, size_t len)
{
	(void)arg;
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
io_serve_cgi(void)
{
	struct req rq;
	struct resp rs;
	int rc = 0;

	req_init(&rq, io_cgi_getenv, NULL, io_cgi_read, NULL);
	resp_init(&rs);
	app_handle(&rq, &rs);
	if (resp_flush(&rs, io_cgi_write, NULL) != 0) {
		pts_log(PTS_LOG_WARN, "CGI: cannot write the answer to stdout");
		rc = -1;
	}
	resp_free(&rs);
	req_free(&rq);
	return rc;
}

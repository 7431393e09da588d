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

/*
 * Most request body a CGI run reads and drops when it answered without reading it all (403,
 * 413, ...). Apache's mod_cgid cuts the answer short when the program exits with input left
 * unread (the socket is reset); a body larger than this should have been stopped by the web
 * server's own limit (LimitRequestBody in contrib/apache/pts-apache.conf.in).
 */
#define IO_CGI_DRAIN_MAX (1024 * 1024)

/* Bytes of stdin consumed so far (by the request and by the drain). */
static size_t io_cgi_consumed;

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
	if (n > 0)
		io_cgi_consumed += (size_t)n;
	return n;
}

/*
 * Read and drop what is left of the announced body (CONTENT_LENGTH), at most
 * IO_CGI_DRAIN_MAX bytes in all. Without a valid CONTENT_LENGTH nothing is read: waiting
 * for an end of input the server may never send would hang the request.
 */
static void
io_cgi_drain(void)
{
	const char *cl = getenv("CONTENT_LENGTH");
	char buf[4096];
	char *end;
	unsigned long long want;

	if (cl == NULL || *cl < '0' || *cl > '9')
		return;
	errno = 0;
	want = strtoull(cl, &end, 10);
	if (*end != '\0' || errno != 0 || want > IO_CGI_DRAIN_MAX)
		want = IO_CGI_DRAIN_MAX;
	while (io_cgi_consumed < want) {
		size_t left = (size_t)want - io_cgi_consumed;

		if (io_cgi_read(NULL, buf, left < sizeof(buf) ? left : sizeof(buf)) <= 0)
			break;
	}
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
	/* Before answering: the server writes the whole body before it reads the answer. */
	io_cgi_drain();
	if (resp_flush(&rs, io_cgi_write, NULL) != 0) {
		pts_log(PTS_LOG_WARN, "CGI: cannot write the answer to stdout");
		rc = -1;
	}
	resp_free(&rs);
	req_free(&rq);
	return rc;
}

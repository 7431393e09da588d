/*
 * req.c - fill a request from the transport's environment.
 */
#include "req.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

#define REQ_API_PREFIX "/api/"

enum req_method
req_method_parse(const char *name)
{
	if (name == NULL)
		return REQ_OTHER;
	if (strcmp(name, "GET") == 0)
		return REQ_GET;
	if (strcmp(name, "POST") == 0)
		return REQ_POST;
	if (strcmp(name, "PUT") == 0)
		return REQ_PUT;
	if (strcmp(name, "DELETE") == 0)
		return REQ_DELETE;
	return REQ_OTHER;
}

/* Copy what follows the first "/api/" in path[0..len) into out. 0 or -1. */
static int
req_after_api(const char *path, size_t len, char *out, size_t outlen)
{
	const size_t plen = sizeof(REQ_API_PREFIX) - 1;
	size_t i;

	if (len > REQ_URI_MAX)
		return -1;
	for (i = 0; i + plen <= len; i++) {
		if (memcmp(path + i, REQ_API_PREFIX, plen) != 0)
			continue;
		if (len - i - plen >= outlen)
			return -1;
		memcpy(out, path + i + plen, len - i - plen);
		out[len - i - plen] = '\0';
		return 0;
	}
	return -1;
}

int
req_route_path(const char *request_uri, const char *script_name, const char *path_info,
    char *out, size_t outlen)
{
	char joined[REQ_URI_MAX + 1];
	int n;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (request_uri != NULL && *request_uri != '\0') {
		size_t len = strcspn(request_uri, "?#");

		if (req_after_api(request_uri, len, out, outlen) == 0)
			return 0;
	}
	n = snprintf(joined, sizeof(joined), "%s%s", script_name ? script_name : "",
	    path_info ? path_info : "");
	if (n < 0 || (size_t)n >= sizeof(joined))
		return -1;
	if (req_after_api(joined, (size_t)n, out, outlen) == 0)
		return 0;
	if (path_info != NULL && path_info[0] == '/' && path_info[1] != '\0') {
		if (strlen(path_info + 1) >= outlen)
			return -1;
		snprintf(out, outlen, "%s", path_info + 1);
		return 0;
	}
	return -1;
}

void
req_init(struct req *r, req_getenv_fn get, void *get_arg, req_read_fn rd, void *rd_arg)
{
	const char *https;

	memset(r, 0, sizeof(*r));
	r->method_name = get(get_arg, "REQUEST_METHOD");
	r->method = req_method_parse(r->method_name);
	if (r->method_name == NULL)
		r->method_name = "";
	r->has_path = req_route_path(get(get_arg, "REQUEST_URI"), get(get_arg, "SCRIPT_NAME"),
	    get(get_arg, "PATH_INFO"), r->path, sizeof(r->path)) == 0;
	r->query = get(get_arg, "QUERY_STRING");
	if (r->query == NULL)
		r->query = "";
	r->content_type = get(get_arg, "CONTENT_TYPE");
	r->content_length = get(get_arg, "CONTENT_LENGTH");
	r->xrw = get(get_arg, "HTTP_X_REQUESTED_WITH");
	r->origin = get(get_arg, "HTTP_ORIGIN");
	r->host = get(get_arg, "HTTP_HOST");
	r->cookie = get(get_arg, "HTTP_COOKIE");
	r->authorization = get(get_arg, "HTTP_AUTHORIZATION");
	https = get(get_arg, "HTTPS");
	r->https = https != NULL && (strcasecmp(https, "on") == 0 || strcmp(https, "1") == 0);
	r->read = rd;
	r->read_arg = rd_arg;
}

int
req_read_body(struct req *r, size_t len)
{
	size_t got = 0;

	free(r->body);
	r->body_len = 0;
	r->body = malloc(len + 1);
	if (r->body == NULL) {
		pts_log(PTS_LOG_ERROR, "request body: out of memory (%zu bytes)", len);
		return -1;
	}
	while (got < len) {
		ssize_t n = r->read(r->read_arg, r->body + got, len - got);

		if (n < 0) {
			pts_log(PTS_LOG_ERROR, "request body: read failed after %zu of %zu bytes",
			    got, len);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	r->body[got] = '\0';
	r->body_len = got;
	return 0;
}

int
req_skip_body(struct req *r, size_t len)
{
	char buf[4096];

	while (len > 0) {
		ssize_t n = r->read(r->read_arg, buf, len < sizeof(buf) ? len : sizeof(buf));

		if (n < 0) {
			pts_log(PTS_LOG_ERROR, "request body: read failed with %zu bytes left to skip",
			    len);
			return -1;
		}
		if (n == 0)
			break;
		len -= (size_t)n;
	}
	return 0;
}

void
req_free(struct req *r)
{
	if (r == NULL)
		return;
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
}

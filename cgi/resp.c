/*
 * resp.c - the response buffer.
 */
#include "resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void
resp_init(struct resp *rs)
{
	memset(rs, 0, sizeof(*rs));
}

void
resp_free(struct resp *rs)
{
	free(rs->body);
	rs->body = NULL;
	rs->len = 0;
}

int
resp_header(struct resp *rs, const char *name, const char *value)
{
	int n;

	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return -1;
	n = snprintf(rs->headers + rs->hlen, sizeof(rs->headers) - rs->hlen, "%s: %s\r\n",
	    name, value);
	if (n < 0 || (size_t)n >= sizeof(rs->headers) - rs->hlen) {
		rs->headers[rs->hlen] = '\0';
		pts_log(PTS_LOG_ERROR, "response header %s does not fit", name);
		return -1;
	}
	rs->hlen += (size_t)n;
	return 0;
}

/* Replace the body with a copy of s. */
static void
resp_set_body(struct resp *rs, int status, const char *ctype, const char *s, size_t len)
{
	free(rs->body);
	rs->body = malloc(len + 1);
	if (rs->body == NULL) {
		/* Out of memory: answer a fixed error rather than nothing. */
		static const char oom[] = "{\"error\":{\"code\":\"internal_error\","
		    "\"message\":\"out of memory\"}}";

		pts_log(PTS_LOG_ERROR, "response: out of memory (%zu bytes)", len);
		rs->status = 500;
		rs->content_type = RESP_CTYPE_JSON;
		rs->body = strdup(oom);
		rs->len = rs->body ? strlen(oom) : 0;
		return;
	}
	memcpy(rs->body, s, len);
	rs->body[len] = '\0';
	rs->len = len;
	rs->status = status;
	rs->content_type = ctype;
}

void
resp_json(struct resp *rs, int status, json_object *obj)
{
	const char *s;
	size_t len;

	if (obj == NULL) {
		resp_internal(rs);
		return;
	}
	s = json_object_to_json_string_length(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s == NULL) {
		json_object_put(obj);
		resp_internal(rs);
		return;
	}
	resp_set_body(rs, status, RESP_CTYPE_JSON, s, len);
	json_object_put(obj);
}

json_object *
resp_error_doc(const char *code, const char *message, json_object *fields)
{
	json_object *doc = json_object_new_object(), *err = json_object_new_object();

	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(message));
	if (fields != NULL)
		json_object_object_add(err, "fields", fields);
	json_object_object_add(doc, "error", err);
	return doc;
}

void
resp_error(struct resp *rs, int status, const char *code, const char *message,
    json_object *fields)
{
	resp_json(rs, status, resp_error_doc(code, message, fields));
}

void
resp_job(struct resp *rs, int64_t job_id)
{
	json_object *o = json_object_new_object();

	if (o != NULL)
		json_object_object_add(o, "job_id", json_object_new_int64(job_id));
	resp_json(rs, 202, o);
}

void
resp_internal(struct resp *rs)
{
	static const char body[] = "{\"error\":{\"code\":\"internal_error\","
	    "\"message\":\"internal error; see the server log\"}}";

	/* Built by hand: this path must work when json-c itself failed to allocate. */
	resp_set_body(rs, 500, RESP_CTYPE_JSON, body, sizeof(body) - 1);
}

void
resp_conflict(struct resp *rs, const char *reason, const char *message, const char *key,
    int64_t id)
{
	json_object *doc = resp_error_doc("conflict", message, NULL), *err;

	json_object_object_get_ex(doc, "error", &err);
	if (reason != NULL)
		json_object_object_add(err, "reason", json_object_new_string(reason));
	if (key != NULL) {
		json_object_object_add(err, key, json_object_new_int64(id));
		json_object_object_add(doc, key, json_object_new_int64(id));
	}
	resp_json(rs, 409, doc);
}

void
resp_bad_field(struct resp *rs, const char *code, const char *field, const char *why)
{
	json_object *fields = json_object_new_object();

	json_object_object_add(fields, field, json_object_new_string(why));
	resp_error(rs, 400, code, "invalid request", fields);
}

void
resp_text(struct resp *rs, int status, const char *ctype, char *body, size_t len)
{
	free(rs->body);
	rs->body = body;
	rs->len = len;
	rs->status = status;
	rs->content_type = ctype;
}

const char *
resp_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 421: return "Misdirected Request";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
	}
}

int
resp_flush(const struct resp *rs, resp_write_fn wr, void *arg)
{
	char head[256 + RESP_HEADERS_MAX];
	int status = rs->status ? rs->status : 500;
	int n;

	n = snprintf(head, sizeof(head), "Status: %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "%s\r\n", status, resp_reason(status),
	    rs->content_type ? rs->content_type : RESP_CTYPE_JSON, rs->len, rs->headers);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	if (wr(arg, head, (size_t)n) != 0)
		return -1;
	if (rs->len > 0 && wr(arg, rs->body, rs->len) != 0)
		return -1;
	return 0;
}

/*
 * resp.h - the response buffer every handler fills and one transport flushes.
 *
 * A handler sets the status, the body (JSON through json-c, or the one text answer) and at
 * most a few extra headers; resp_flush() writes "Status:" + headers + body through a write
 * callback (the FastCGI stream or stdout). Every answer carries Cache-Control: no-store;
 * JSON answers are application/json; charset=utf-8.
 *
 * Ownership: the body is the response's (resp_free); json objects handed to resp_json() and
 * resp_error() are consumed (json_object_put) whatever happens.
 */
#ifndef PTS_CGI_RESP_H
#define PTS_CGI_RESP_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* Room for the extra headers of one answer (Allow, Set-Cookie): a fixed, small set. */
#define RESP_HEADERS_MAX 1024

#define RESP_CTYPE_JSON "application/json; charset=utf-8"

struct resp {
	int status;                      /* 0 until something was set */
	const char *content_type;        /* static string */
	char headers[RESP_HEADERS_MAX];  /* "Name: value\r\n" lines */
	size_t hlen;
	char *body;                      /* malloc'd */
	size_t len;
};

typedef int (*resp_write_fn)(void *arg, const char *buf, size_t len);

void resp_init(struct resp *rs);
/* Free the body; the struct can be reused after resp_init(). */
void resp_free(struct resp *rs);

/* Add "name: value". -1 when it does not fit or contains CR/LF (nothing added). */
int resp_header(struct resp *rs, const char *name, const char *value);

/* Answer obj as JSON with status. obj is consumed. */
void resp_json(struct resp *rs, int status, json_object *obj);

/*
 * {"error": {"code", "message", "fields"}}: the error document with fields (consumed, may be
 * NULL); the caller may add members to it and hand it to resp_json().
 */
json_object *resp_error_doc(const char *code, const char *message, json_object *fields);
/* Answer an error document at once. fields is consumed (may be NULL). */
void resp_error(struct resp *rs, int status, const char *code, const char *message,
    json_object *fields);
/* 202 {"job_id": n}: the job that does the work was queued (or one already was). */
void resp_job(struct resp *rs, int64_t job_id);
/* 500 internal_error: a database or memory failure (the cause was logged where it happened). */
void resp_internal(struct resp *rs);
/*
 * 409 conflict: the error document with message, plus error.reason when reason is not NULL,
 * plus the id named key (run_id, ...) both in "error" and at the top level when key is not
 * NULL (clients read the top-level one to follow the run in the way).
 */
void resp_conflict(struct resp *rs, const char *reason, const char *message, const char *key,
    int64_t id);
/* 400 with one field and its reason. */
void resp_bad_field(struct resp *rs, const char *code, const char *field, const char *why);

/* A non-JSON answer (metrics). body is consumed (malloc'd); ctype is a static string. */
void resp_text(struct resp *rs, int status, const char *ctype, char *body, size_t len);

/* The reason phrase for a status ("Not Found"). */
const char *resp_reason(int status);

/* Write the whole answer. 0, or -1 when the writer failed. */
int resp_flush(const struct resp *rs, resp_write_fn wr, void *arg);

#endif

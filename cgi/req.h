/*
 * req.h - one HTTP request, as either transport (FastCGI or plain CGI) delivers it.
 *
 * The transport calls req_init() with a getenv-like lookup (FCGX_GetParam or getenv) and a
 * body reader (FCGX_GetStr or read(0)); nothing else in pts-cgi sees the transport. The
 * string fields point into the transport's environment: valid until the request is
 * finished, NULL when the variable is absent. The body is read later, only after the
 * edge checks allowed it (app.c), and is owned by the request (req_free).
 */
#ifndef PTS_CGI_REQ_H
#define PTS_CGI_REQ_H

#include <stddef.h>
#include <sys/types.h>

/* Largest request body accepted (413 beyond it); never more than this is read. */
#define REQ_BODY_MAX (64 * 1024)
/*
 * Largest multipart body (a Plex webhook with its thumbnail JPEG) accepted: only its first
 * REQ_BODY_MAX bytes are read and kept, the rest is read and dropped. nginx's own cap
 * (client_max_body_size in nginx/pts-snippet.conf) is the same 1 MiB.
 */
#define REQ_MULTIPART_MAX (1024 * 1024)
/* Longest route path (after "/api/"); no route is near it, so longer ones are 404. */
#define REQ_PATH_MAX 256
/* Longest URI or SCRIPT_NAME+PATH_INFO we look at for the path. */
#define REQ_URI_MAX 4096

enum req_method {
	REQ_GET,
	REQ_POST,
	REQ_PUT,
	REQ_DELETE,
	REQ_OTHER
};

typedef const char *(*req_getenv_fn)(void *arg, const char *name);
/* Read up to len bytes: the count read (0 at end of input), or -1 on error. */
typedef ssize_t (*req_read_fn)(void *arg, char *buf, size_t len);

struct req {
	enum req_method method;
	const char *method_name;     /* as sent, "" when absent */
	char path[REQ_PATH_MAX + 1]; /* the route path after "/api/", e.g. "runs/5/changes" */
	int has_path;                /* 0: not under /api/ (or too long): no route can match */
	const char *query;           /* QUERY_STRING, "" when absent */
	const char *content_type;
	const char *content_length;
	const char *xrw;             /* X-Requested-With */
	const char *origin;
	const char *host;
	const char *cookie;
	const char *authorization;  /* HTTP_AUTHORIZATION: never logged */
	int https;                   /* HTTPS=on: the cookie gets Secure */
	char *body;                  /* NUL-terminated copy; NULL until req_read_body() */
	size_t body_len;
	req_read_fn read;
	void *read_arg;
};

/* Fill r from the transport. Never fails: absent variables stay NULL. */
void req_init(struct req *r, req_getenv_fn get, void *get_arg, req_read_fn rd, void *rd_arg);

/*
 * Find the route path: REQUEST_URI's path (query stripped) when it holds "/api/", else
 * SCRIPT_NAME + PATH_INFO when that does, else PATH_INFO without its leading "/" (a CGI
 * program mounted on some other prefix). Writes the part after "/api/" into out.
 * 0, or -1 when there is none or it does not fit in outlen.
 */
int req_route_path(const char *request_uri, const char *script_name, const char *path_info,
    char *out, size_t outlen);

/* Parse a method name. */
enum req_method req_method_parse(const char *name);

/*
 * Read exactly len bytes of body (len <= REQ_BODY_MAX, checked by the caller). A short
 * body (the client sent less than it announced) is not an error: body_len tells.
 * 0, or -1 on a read error or out of memory (logged).
 */
int req_read_body(struct req *r, size_t len);

/*
 * Read and drop len more bytes of body (what follows the part of a webhook we keep), so the
 * web server is not left writing into a closed request. 0, or -1 on a read error.
 */
int req_skip_body(struct req *r, size_t len);

/* Free the body. NULL safe. */
void req_free(struct req *r);

#endif

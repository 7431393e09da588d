/*
 * plexusers.c - the server's people from plex.tv and their server tokens.
 */
#include "plexusers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "plextv.h"
#include "plexxml.h"
#include "str.h"
#include "utf8.h"

/* Longest plex.tv path we build (an id or a machineIdentifier in it). */
#define PUSERS_PATH_MAX 192
/* The one status of an optional list that leaves it out rather than failing the fetch. */
#define PUSERS_NOT_FOUND 404L

static void
pusers_token_free(char *t)
{
	if (t != NULL)
		explicit_bzero(t, strlen(t));
	free(t);
}

void
pts_pusers_free(struct pts_pusers *u)
{
	size_t i;

	if (u == NULL)
		return;
	for (i = 0; i < u->n; i++) {
		pusers_token_free(u->v[i].token);
		pusers_token_free(u->v[i].account_token);
	}
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

const char *
pts_pusers_kind_name(enum pts_puser_kind k)
{
	switch (k) {
	case PTS_PUSER_OWNER:
		return "owner";
	case PTS_PUSER_HOME:
		return "home";
	case PTS_PUSER_MANAGED:
		return "managed";
	case PTS_PUSER_SHARED:
		break;
	}
	return "shared";
}

struct pts_puser *
pts_pusers_find(struct pts_pusers *u, const char *id)
{
	size_t i;

	for (i = 0; id != NULL && i < u->n; i++)
		if (strcmp(u->v[i].id, id) == 0)
			return &u->v[i];
	return NULL;
}

/* A token we may send in a header and store: printable ASCII, bounded. */
static int
pusers_token_ok(const char *t)
{
	size_t i, n = t != NULL ? strlen(t) : 0;

	if (n == 0 || n > PTS_PLEXTV_TOKEN_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (t[i] <= ' ' || t[i] > '~')
			return 0;
	return 1;
}

static int
pusers_id_ok(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;

	return n > 0 && n < PTS_PUSERS_ID_LEN && strspn(id, "0123456789") == n;
}

/* A User element into u. 0, or -1 when it has no usable id or name. */
static int
pusers_fill(const struct pts_pxml_el *el, int in_home, struct pts_puser *u)
{
	const char *id = pts_pxml_attr(el, "id"), *uuid = pts_pxml_attr(el, "uuid");
	const char *title = pts_pxml_attr(el, "title"), *name = pts_pxml_attr(el, "username");

	memset(u, 0, sizeof(*u));
	if (!pusers_id_ok(id))
		return -1;
	snprintf(u->id, sizeof(u->id), "%s", id);
	if (uuid != NULL && strlen(uuid) < sizeof(u->uuid) &&
	    strspn(uuid, PTS_STR_ID_CHARS) == strlen(uuid))
		snprintf(u->uuid, sizeof(u->uuid), "%s", uuid);
	if (name != NULL)
		pts_utf8_copy(u->username, sizeof(u->username), name);
	if (title != NULL)
		pts_utf8_copy(u->title, sizeof(u->title), title);
	pts_utf8_trim(u->title);
	if (u->title[0] == '\0')
		snprintf(u->title, sizeof(u->title), "%s", u->username);
	if (u->title[0] == '\0')
		return -1;
	if (pts_pxml_flag(el, "admin"))
		u->kind = PTS_PUSER_OWNER;
	else if (pts_pxml_flag(el, "restricted"))
		u->kind = PTS_PUSER_MANAGED;
	else if (in_home || pts_pxml_flag(el, "home"))
		u->kind = PTS_PUSER_HOME;
	else
		u->kind = PTS_PUSER_SHARED;
	u->is_protected = pts_pxml_flag(el, "protected");
	return 0;
}

/* Add u to out unless its id is there. 0, or -1 past PTS_PUSERS_MAX (logged once). */
static int
pusers_add(struct pts_pusers *out, const struct pts_puser *u)
{
	if (pts_pusers_find(out, u->id) != NULL)
		return 0;
	if (out->v == NULL && (out->v = calloc(PTS_PUSERS_MAX, sizeof(*out->v))) == NULL) {
		PTS_ERROR("plex.tv users: out of memory");
		return -1;
	}
	if (out->n >= PTS_PUSERS_MAX) {
		PTS_ERROR("plex.tv lists more than %d people for this server", PTS_PUSERS_MAX);
		return -1;
	}
	out->v[out->n++] = *u;
	return 0;
}

/* ==== Listings ==== */

struct pusers_list {
	struct pts_pusers *out;
	int in_home;
	const char *machine;        /* friends: keep users with a Server child of it */
	struct pts_puser cur;       /* friends: the User being read */
	int cur_depth;              /* its depth; -1 when none */
	int cur_ours;
	int failed;
};

static int
pusers_flush(struct pusers_list *l)
{
	int r = 0;

	if (l->cur_depth >= 0 && l->cur_ours)
		r = pusers_add(l->out, &l->cur);
	l->cur_depth = -1;
	l->cur_ours = 0;
	return r;
}

static int
pusers_list_el(void *ctx, const struct pts_pxml_el *el)
{
	struct pusers_list *l = ctx;
	struct pts_puser u;

	if (l->machine == NULL) {
		if (strcmp(el->name, "User") != 0)
			return 0;
		if (pusers_fill(el, l->in_home, &u) != 0) {
			PTS_WARN("plex.tv: a Home user without a usable id or name is skipped");
			return 0;
		}
		if (pusers_add(l->out, &u) != 0)
			l->failed = 1;
		return l->failed;
	}
	if (strcmp(el->name, "User") == 0) {
		if (pusers_flush(l) != 0) {
			l->failed = 1;
			return 1;
		}
		if (pusers_fill(el, 0, &l->cur) == 0)
			l->cur_depth = el->depth;
		else
			PTS_WARN("plex.tv: a friend without a usable id or name is skipped");
	} else if (strcmp(el->name, "Server") == 0 && l->cur_depth >= 0 &&
	    el->depth > l->cur_depth) {
		const char *m = pts_pxml_attr(el, "machineIdentifier");

		if (m != NULL && strcmp(m, l->machine) == 0)
			l->cur_ours = 1;
	}
	return 0;
}

static int
pusers_list(const char *xml, size_t len, int in_home, const char *machine,
    struct pts_pusers *out)
{
	struct pusers_list l = { .out = out, .in_home = in_home, .machine = machine,
	    .cur_depth = -1 };
	int r = pts_pxml_scan(xml, len, pusers_list_el, &l);

	if (r == 0 && machine != NULL && pusers_flush(&l) != 0)
		return -1;
	return r == 0 && !l.failed ? 0 : -1;
}

int
pts_pusers_parse_home(const char *xml, size_t len, struct pts_pusers *out)
{
	return pusers_list(xml, len, 1, NULL, out);
}

int
pts_pusers_parse_friends(const char *xml, size_t len, const char *machine,
    struct pts_pusers *out)
{
	return machine != NULL ? pusers_list(xml, len, 0, machine, out) : -1;
}

/* ==== Tokens ==== */

struct pusers_tok {
	struct pts_pusers *u;
	const char *machine;        /* resources: our server */
	char *token;                /* switch, resources: the one found */
	int set;
	int failed;
};

static int
pusers_shared_el(void *ctx, const struct pts_pxml_el *el)
{
	struct pusers_tok *t = ctx;
	const char *uid, *tok;
	struct pts_puser *u;

	if (strcmp(el->name, "SharedServer") != 0)
		return 0;
	uid = pts_pxml_attr(el, "userID");
	tok = pts_pxml_attr(el, "accessToken");
	if ((u = pts_pusers_find(t->u, uid)) == NULL || u->token != NULL)
		return 0;
	if (!pusers_token_ok(tok)) {
		PTS_WARN("plex.tv: the shared server entry of user %s has no usable token", u->id);
		return 0;
	}
	if ((u->token = strdup(tok)) == NULL) {
		t->failed = 1;
		return 1;
	}
	t->set++;
	return 0;
}

int
pts_pusers_parse_shared(const char *xml, size_t len, struct pts_pusers *u)
{
	struct pusers_tok t = { .u = u };

	if (pts_pxml_scan(xml, len, pusers_shared_el, &t) != 0 || t.failed)
		return -1;
	return t.set;
}

static int
pusers_switch_el(void *ctx, const struct pts_pxml_el *el)
{
	struct pusers_tok *t = ctx;
	const char *tok;

	if (el->depth != 0)
		return 0;
	tok = pts_pxml_attr(el, "authenticationToken");
	if (tok == NULL)
		tok = pts_pxml_attr(el, "authToken");
	if (!pusers_token_ok(tok))
		return 1;
	if ((t->token = strdup(tok)) == NULL)
		t->failed = 1;
	return 1;
}

int
pts_pusers_parse_switch(const char *xml, size_t len, char **token)
{
	struct pusers_tok t = { 0 };
	int r = pts_pxml_scan(xml, len, pusers_switch_el, &t);

	if (r < 0 || t.failed || t.token == NULL) {
		pusers_token_free(t.token);
		*token = NULL;
		return -1;
	}
	*token = t.token;
	return 0;
}

static int
pusers_res_el(void *ctx, const struct pts_pxml_el *el)
{
	struct pusers_tok *t = ctx;
	const char *id, *tok;

	if (strcmp(el->name, "resource") != 0 && strcmp(el->name, "Device") != 0)
		return 0;
	id = pts_pxml_attr(el, "clientIdentifier");
	if (id == NULL || strcmp(id, t->machine) != 0)
		return 0;
	tok = pts_pxml_attr(el, "accessToken");
	if (!pusers_token_ok(tok))
		return 0;
	if ((t->token = strdup(tok)) == NULL)
		t->failed = 1;
	return 1;
}

int
pts_pusers_parse_resources(const char *xml, size_t len, const char *machine, char **token)
{
	struct pusers_tok t = { .machine = machine };
	int r = pts_pxml_scan(xml, len, pusers_res_el, &t);

	*token = t.token;
	if (r < 0 || t.failed) {
		free(t.token);
		*token = NULL;
		return -1;
	}
	return t.token != NULL ? 0 : 1;
}

/* ==== Calls ==== */

/* One plex.tv call answering XML into resp (release it whatever the result). */
static enum pts_http_result
pusers_call(struct pts_wctx *w, const char *client_id, const char *token, const char *method,
    const char *path, const char *const *query, struct pts_http_resp *resp)
{
	struct pts_http_req req = { .w = w, .svc = PTS_HTTP_PLEXTV, .method = method,
	    .max_bytes = PTS_PUSERS_MAX_BYTES, .flags = PTS_HTTP_RAW };
	enum pts_http_result r;
	char *url = pts_http_url(pts_http_base(PTS_HTTP_PLEXTV), path, query);

	memset(resp, 0, sizeof(*resp));
	req.url = url;
	req.headers = pts_plextv_headers_xml(client_id, token);
	if (url == NULL || req.headers == NULL) {
		PTS_ERROR("plex.tv %s: cannot build the request", path);
		free(url);
		curl_slist_free_all(req.headers);
		return PTS_HTTP_NETWORK;
	}
	r = pts_http_do(&req, resp);
	if (r == PTS_HTTP_OK && resp->body == NULL) {
		PTS_ERROR("plex.tv %s answered an empty body", path);
		r = PTS_HTTP_BAD_RESPONSE;
	}
	curl_slist_free_all(req.headers);
	free(url);
	return r;
}

/*
 * A Home or managed user's plex.tv account token by switching to the user, into
 * u->account_token. 0, or -1 (logged).
 */
static int
pusers_switch(struct pts_wctx *w, const char *client_id, const char *owner_token,
    struct pts_puser *u)
{
	struct pts_http_resp resp;
	char path[PUSERS_PATH_MAX];
	int rc = 0;

	snprintf(path, sizeof(path), "/api/home/users/%s/switch", u->id);
	if (pusers_call(w, client_id, owner_token, "POST", path, NULL, &resp) != PTS_HTTP_OK ||
	    pts_pusers_parse_switch(resp.body, resp.len, &u->account_token) != 0) {
		PTS_WARN("plex.tv: could not switch to Home user %s (%s)", u->id,
		    resp.status != 0 ? "refused" : "no answer");
		rc = -1;
	}
	pts_http_resp_free(&resp);
	return rc;
}

/*
 * The friends list and shared_servers complete the Home users list; a plex.tv that has no
 * such route for this account (404) leaves that part out, said in the log, instead of failing
 * the whole fetch. Any other failure stays one.
 */
static enum pts_http_result
pusers_optional(enum pts_http_result r, const struct pts_http_resp *resp, const char *what,
    const char *then)
{
	if (r != PTS_HTTP_HTTP_ERROR || resp->status != PUSERS_NOT_FOUND)
		return r;
	PTS_WARN("plex.tv has no %s for this account (HTTP 404): %s", what, then);
	return PTS_HTTP_OK;
}

/* A switched user's server token from their resources, into u->token. 0, or -1 (logged). */
static int
pusers_resources(struct pts_wctx *w, const char *client_id, const char *machine,
    struct pts_puser *u)
{
	static const char *const q[] = { "includeHttps", "1", NULL };
	struct pts_http_resp resp;
	int rc = -1;

	if (pusers_call(w, client_id, u->account_token, "GET", "/api/v2/resources", q,
	    &resp) == PTS_HTTP_OK) {
		rc = pts_pusers_parse_resources(resp.body, resp.len, machine, &u->token);
		if (rc != 0) {
			PTS_WARN("plex.tv: Home user %s %s", u->id, rc > 0 ?
			    "has no access to this server" : "got an unreadable resources answer");
			rc = -1;
		}
	}
	pts_http_resp_free(&resp);
	return rc;
}

enum pts_http_result
pts_pusers_fetch(struct pts_wctx *w, const char *client_id, const char *owner_token,
    const char *machine, struct pts_pusers *out)
{
	struct pts_http_resp resp;
	enum pts_http_result r;
	char path[PUSERS_PATH_MAX];
	int switches = 0;
	size_t i;

	pts_pusers_free(out);
	r = pusers_call(w, client_id, owner_token, "GET", "/api/home/users", NULL, &resp);
	if (r == PTS_HTTP_OK && pts_pusers_parse_home(resp.body, resp.len, out) != 0) {
		PTS_ERROR("plex.tv: the Home users answer is not readable");
		r = PTS_HTTP_BAD_RESPONSE;
	}
	pts_http_resp_free(&resp);
	if (r != PTS_HTTP_OK)
		goto fail;
	r = pusers_call(w, client_id, owner_token, "GET", "/api/users/", NULL, &resp);
	if (r == PTS_HTTP_OK && pts_pusers_parse_friends(resp.body, resp.len, machine, out) != 0) {
		PTS_ERROR("plex.tv: the friends answer is not readable");
		r = PTS_HTTP_BAD_RESPONSE;
	}
	r = pusers_optional(r, &resp, "/api/users/", "no friend of this server is listed");
	pts_http_resp_free(&resp);
	if (r != PTS_HTTP_OK)
		goto fail;
	snprintf(path, sizeof(path), "/api/servers/%s/shared_servers", machine);
	r = pusers_call(w, client_id, owner_token, "GET", path, NULL, &resp);
	if (r == PTS_HTTP_OK && pts_pusers_parse_shared(resp.body, resp.len, out) < 0) {
		PTS_ERROR("plex.tv: the shared servers answer is not readable");
		r = PTS_HTTP_BAD_RESPONSE;
	}
	r = pusers_optional(r, &resp, "shared_servers", "Home and managed users' server tokens"
	    " come from switching to them");
	pts_http_resp_free(&resp);
	if (r != PTS_HTTP_OK)
		goto fail;
	for (i = 0; i < out->n; i++) {
		struct pts_puser *u = &out->v[i];

		if (u->kind == PTS_PUSER_OWNER) {
			free(u->token);
			if ((u->token = strdup(owner_token)) == NULL) {
				r = PTS_HTTP_NETWORK;
				goto fail;
			}
		} else if (u->kind == PTS_PUSER_HOME || u->kind == PTS_PUSER_MANAGED) {
			if (u->is_protected) {
				if (u->token == NULL)
					PTS_WARN("plex.tv: Home user %s has a PIN and no shared server entry:"
					    " no token for it", u->id);
				else
					PTS_INFO("plex.tv: Home user %s has a PIN: no account token (their"
					    " account watchlist cannot be read)", u->id);
				continue;
			}
			if (switches++ >= PTS_PUSERS_MAX_SWITCHES) {
				PTS_WARN("plex.tv: more than %d Home users to switch to: user %s skipped",
				    PTS_PUSERS_MAX_SWITCHES, u->id);
				continue;
			}
			if (pts_wctx_cancelled(w)) {
				r = PTS_HTTP_CANCELLED;
				goto fail;
			}
			/* One switch per person: its token also reads the resources when needed. */
			if (pusers_switch(w, client_id, owner_token, u) == 0 && u->token == NULL)
				(void)pusers_resources(w, client_id, machine, u);
		}
	}
	return PTS_HTTP_OK;
fail:
	pts_pusers_free(out);
	return r;
}

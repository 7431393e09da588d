/*
 * plexsess.c - Plex's /status/sessions: the streams playing now, parsed for the scrobbler.
 */
#include "plexsess.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char *
plexsess_str(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	if (!json_object_is_type(v, json_type_string) && !json_object_is_type(v, json_type_int))
		return NULL;
	/* json-c keeps the text of a number it printed, so ids sent as numbers work too. */
	return json_object_get_string(v);
}

static json_object *
plexsess_obj(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

static int
plexsess_state_known(const char *s)
{
	return s != NULL && (strcmp(s, "playing") == 0 || strcmp(s, "paused") == 0 ||
	    strcmp(s, "buffering") == 0);
}

int
pts_plexsess_parse(json_object *root, pts_plexsess_fn fn, void *ctx, int *count)
{
	json_object *mc, *arr, *m, *player;
	struct pts_plexsess s;
	size_t i, n;

	*count = 0;
	if ((mc = plexsess_obj(root, "MediaContainer")) == NULL)
		return -1;
	if (!json_object_object_get_ex(mc, "Metadata", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return 0;               /* nothing playing: Plex leaves Metadata out */
	n = json_object_array_length(arr);
	for (i = 0; i < n && *count < PTS_PLEXSESS_MAX; i++) {
		m = json_object_array_get_idx(arr, i);
		memset(&s, 0, sizeof(s));
		if (!json_object_is_type(m, json_type_object) || pts_plex_parse_item(m, &s.it) != 0 ||
		    s.it.type == NULL || (strcmp(s.it.type, "movie") != 0 &&
		    strcmp(s.it.type, "episode") != 0))
			continue;
		s.session_key = plexsess_str(m, "sessionKey");
		if (s.session_key == NULL)
			s.session_key = plexsess_str(plexsess_obj(m, "Session"), "id");
		player = plexsess_obj(m, "Player");
		s.state = plexsess_str(player, "state");
		s.player_title = plexsess_str(player, "title");
		s.user_id = plexsess_str(plexsess_obj(m, "User"), "id");
		s.user_title = plexsess_str(plexsess_obj(m, "User"), "title");
		if (s.session_key == NULL || s.session_key[0] == '\0' || !plexsess_state_known(s.state))
			continue;
		(*count)++;
		if (fn(ctx, &s) != 0)
			return 1;
	}
	return 0;
}

enum pts_http_result
pts_plexsess_list(struct pts_plex *c, pts_plexsess_fn fn, void *ctx)
{
	static const char *const q[] = { "includeGuids", "1", NULL };
	struct pts_http_req req = { .w = c->w, .svc = PTS_HTTP_PLEX, .method = "GET",
	    .max_bytes = PTS_PLEXSESS_MAX_BYTES };
	struct pts_http_resp resp;
	struct curl_slist *h = NULL, *it, *n;
	enum pts_http_result r;
	char *url;
	int count, pr;

	memset(&resp, 0, sizeof(resp));
	if (!pts_plex_still_signed_in(c))
		return PTS_HTTP_CANCELLED;
	for (it = c->headers; it != NULL; it = it->next) {
		if ((n = curl_slist_append(h, it->data)) == NULL) {
			curl_slist_free_all(h);
			return PTS_HTTP_NETWORK;
		}
		h = n;
	}
	if ((url = pts_http_url(c->base, "/status/sessions", q)) == NULL) {
		curl_slist_free_all(h);
		return PTS_HTTP_NETWORK;
	}
	req.url = url;
	req.headers = h;
	r = pts_http_do(&req, &resp);
	free(url);
	curl_slist_free_all(h);
	if (r == PTS_HTTP_OK) {
		pr = pts_plexsess_parse(resp.json, fn, ctx, &count);
		if (pr < 0) {
			PTS_ERROR("Plex: the /status/sessions answer is not a MediaContainer");
			r = PTS_HTTP_BAD_RESPONSE;
		} else if (pr > 0) {
			r = PTS_HTTP_CANCELLED;
		}
	} else {
		PTS_WARN("Plex: cannot read who is playing (%s)", resp.error[0] ? resp.error :
		    pts_http_result_name(r));
	}
	pts_http_resp_free(&resp);
	return r;
}

/*
 * trakt_scrobble.c - POST /scrobble/{start,pause,stop} for the live scrobbler.
 */
#include "trakt_scrobble.h"

#include <stdio.h>
#include <string.h>

#include "jsonx.h"
#include "log.h"
#include "timefmt.h"

const char *
pts_tscrob_action_name(enum pts_tscrob_action a)
{
	switch (a) {
	case PTS_TSCROB_START:
		return "start";
	case PTS_TSCROB_PAUSE:
		return "pause";
	default:
		return "stop";
	}
}

static json_object *
tscrob_body(const struct pts_tscrob_item *it, double progress)
{
	json_object *body = json_object_new_object(), *o;

	o = json_object_new_object();
	json_object_object_add(o, "ids", pts_ids_json(&it->ids));
	if (!it->is_episode) {
		json_object_object_add(body, "movie", o);
	} else if (it->by_episode_ids) {
		json_object_object_add(body, "episode", o);
	} else {
		json_object_object_add(body, "show", o);
		o = json_object_new_object();
		pts_json_add_int(o, "season", it->season);
		pts_json_add_int(o, "number", it->episode);
		json_object_object_add(body, "episode", o);
	}
	/* Two decimals, as Trakt keeps it. */
	json_object_object_add(body, "progress",
	    json_object_new_double((double)(int64_t)(progress * 100 + 0.5) / 100));
	return body;
}

static int64_t
tscrob_time(json_object *j, const char *key)
{
	const char *s = pts_json_str(j, key);
	int64_t t;

	return s != NULL && pts_time_parse(s, &t) == 0 ? t : 0;
}

enum pts_http_result
pts_tscrob_send(struct pts_trakt *t, enum pts_tscrob_action a,
    const struct pts_tscrob_item *it, double progress, struct pts_tscrob_answer *ans)
{
	char path[32];
	struct pts_http_resp resp;
	enum pts_http_result r;
	json_object *body;
	const char *act;

	memset(ans, 0, sizeof(*ans));
	if (pts_ids_empty(&it->ids) || progress < 0 || progress > 100)
		return PTS_HTTP_BAD_RESPONSE;
	snprintf(path, sizeof(path), "/scrobble/%s", pts_tscrob_action_name(a));
	body = tscrob_body(it, progress);
	r = pts_trakt_call(t, "POST", path, NULL, body, PTS_HTTP_QUIET_4XX |
	    (a == PTS_TSCROB_STOP ? PTS_HTTP_NON_IDEMPOTENT : 0), &resp);
	json_object_put(body);
	ans->status = resp.status;
	if (resp.json != NULL && json_object_is_type(resp.json, json_type_object)) {
		act = pts_json_str(resp.json, "action");
		if (act != NULL)
			snprintf(ans->action, sizeof(ans->action), "%s", act);
		ans->history_id = pts_json_int(resp.json, "id", 0);
		ans->watched_at = tscrob_time(resp.json, "watched_at");
	}
	if (r == PTS_HTTP_OK && a == PTS_TSCROB_STOP && ans->action[0] == '\0') {
		/* Applied (2xx) but we cannot tell whether a play was added. */
		PTS_ERROR("Trakt: the /scrobble/stop answer has no action: outcome unknown");
		r = PTS_HTTP_UNKNOWN;
	} else if (r == PTS_HTTP_BAD_RESPONSE && a == PTS_TSCROB_STOP && resp.status >= 200 &&
	    resp.status < 300) {
		r = PTS_HTTP_UNKNOWN;
	}
	pts_http_resp_free(&resp);
	return r;
}

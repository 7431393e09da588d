/*
 * checkpoint.c - the incremental-sync checkpoint in meta.
 */
#include "checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "jsonx.h"

#define CKPT_KEY "sync_checkpoint"

int
pts_ckpt_load(sqlite3 *db, struct pts_ckpt *c)
{
	char *text = NULL;
	json_object *j;
	const char *s;

	memset(c, 0, sizeof(*c));
	if (pts_db_text(db, &text, "SELECT value FROM meta WHERE key = ?", "s", CKPT_KEY) != 0)
		return -1;
	if (text == NULL)
		return 0;
	j = pts_json_parse(text, strlen(text), 65536, NULL);
	free(text);
	if (j == NULL)
		return 0;
	c->kinds = (unsigned)pts_json_int(j, "kinds", PTS_CKPT_WATCHED);
	c->ratings_at = pts_json_int(j, "ratings_at", 0);
	c->watchlist_at = pts_json_int(j, "watchlist_at", 0);
	c->playback_at = pts_json_int(j, "playback_at", 0);
	c->pwl_total = pts_json_int(j, "pwl_total", -1);
	c->pwl_newest = pts_json_int(j, "pwl_newest", 0);
	if ((s = pts_json_str(j, "feat_cfg")) != NULL)
		snprintf(c->feat_cfg, sizeof(c->feat_cfg), "%s", s);
	c->movies_watched_at = pts_json_int(j, "movies_watched_at", 0);
	c->episodes_watched_at = pts_json_int(j, "episodes_watched_at", 0);
	c->plex_since = pts_json_int(j, "plex_since", 0);
	c->full_at = pts_json_int(j, "full_at", 0);
	if ((s = pts_json_str(j, "libs")) != NULL)
		snprintf(c->libs, sizeof(c->libs), "%s", s);
	if ((s = pts_json_str(j, "direction")) != NULL)
		snprintf(c->direction, sizeof(c->direction), "%s", s);
	json_object_put(j);
	return c->plex_since > 0 ? 1 : 0;
}

int
pts_ckpt_store(sqlite3 *db, const struct pts_ckpt *c)
{
	json_object *j = json_object_new_object();
	int rc;

	pts_json_add_int(j, "kinds", (int64_t)c->kinds);
	pts_json_add_int(j, "ratings_at", c->ratings_at);
	pts_json_add_int(j, "watchlist_at", c->watchlist_at);
	pts_json_add_int(j, "playback_at", c->playback_at);
	pts_json_add_int(j, "pwl_total", c->pwl_total);
	pts_json_add_int(j, "pwl_newest", c->pwl_newest);
	pts_json_add_str(j, "feat_cfg", c->feat_cfg);
	pts_json_add_int(j, "movies_watched_at", c->movies_watched_at);
	pts_json_add_int(j, "episodes_watched_at", c->episodes_watched_at);
	pts_json_add_int(j, "plex_since", c->plex_since);
	pts_json_add_int(j, "full_at", c->full_at);
	pts_json_add_str(j, "libs", c->libs);
	pts_json_add_str(j, "direction", c->direction);
	rc = pts_db_meta_set(db, CKPT_KEY, json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
	return rc;
}

int
pts_ckpt_clear(sqlite3 *db)
{
	return pts_db_meta_set(db, CKPT_KEY, NULL);
}

/*
 * scrobble_route.c - households: whose profile a live stream goes to, and its connection.
 */
#include "scrobble_route.h"

#include <string.h>

#include "db.h"
#include "dbprofile.h"
#include "log.h"
#include "paths.h"

void
pts_sroute_init(struct pts_sroute *rt, struct pts_wctx *home)
{
	memset(rt, 0, sizeof(*rt));
	rt->home = home;
}

int64_t
pts_sroute_profile(sqlite3 *db, const char *user_id, int is_owner, int all_users)
{
	int64_t id = 0;

	if (user_id != NULL && user_id[0] != '\0' && pts_db_int(db, &id, 0, "SELECT id FROM"
	    " profiles WHERE id > 1 AND plex_user_id = ?", "s", user_id) != 0)
		id = 0;
	if (id > 1)
		return id;
	return is_owner || all_users ? PTS_PROFILE_OWNER : 0;
}

struct pts_wctx *
pts_sroute_wctx(struct pts_sroute *rt, int64_t id)
{
	struct pts_sroute_slot *s;
	sqlite3 *db = NULL;
	int i;

	if (id == PTS_PROFILE_OWNER)
		return rt->home;
	for (i = 0; i < rt->n; i++)
		if (rt->v[i].id == id)
			return &rt->v[i].w;
	if (rt->n == PTS_SROUTE_MAX) {
		PTS_WARN("scrobble: more than %d profiles playing at once: profile %lld waits",
		    PTS_SROUTE_MAX, (long long)id);
		return NULL;
	}
	if (pts_db_open_profile(pts_paths_data_dir(), id, &db) != 0) {
		PTS_ERROR("scrobble: profile %lld cannot be opened: its play is not sent",
		    (long long)id);
		return NULL;
	}
	s = &rt->v[rt->n++];
	s->id = id;
	s->db = db;
	s->w = *rt->home;
	s->w.db = db;
	s->w.cancelled = 0;
	s->w.run_id = 0;
	return &s->w;
}

void
pts_sroute_release(struct pts_sroute *rt)
{
	int i;

	for (i = 0; i < rt->n; i++)
		pts_db_close(rt->v[i].db);
	rt->n = 0;
}

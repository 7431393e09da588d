/*
 * profiles.c - the daemon's connections of every profile, cached and walked.
 */
#include "profiles.h"

#include "db.h"
#include "dbprofile.h"
#include "log.h"
#include "paths.h"

struct wprof_slot {
	int64_t id;        /* 0: free */
	sqlite3 *db;
	uint64_t used;     /* for least-recently-used eviction */
};

static struct wprof_slot wprof_cache[PTS_WPROF_CACHE];
static uint64_t wprof_tick;

static void
wprof_drop(struct wprof_slot *s)
{
	pts_db_close(s->db);
	s->db = NULL;
	s->id = 0;
	s->used = 0;
}

int
pts_wprof_get(sqlite3 *db, int64_t id, sqlite3 **out)
{
	struct wprof_slot *slot = NULL;
	int64_t n = 0;
	size_t i;
	int rc;

	*out = NULL;
	if (id == PTS_PROFILE_OWNER) {
		*out = db;
		return 0;
	}
	if (pts_db_int(db, &n, 0, "SELECT COUNT(*) FROM profiles WHERE id = ?", "i", id) != 0)
		return -1;
	for (i = 0; i < PTS_WPROF_CACHE; i++) {
		if (wprof_cache[i].id != id)
			continue;
		if (n == 0) {
			wprof_drop(&wprof_cache[i]);
			return 1;
		}
		wprof_cache[i].used = ++wprof_tick;
		*out = wprof_cache[i].db;
		return 0;
	}
	if (n == 0)
		return 1;
	for (i = 0; i < PTS_WPROF_CACHE; i++) {
		if (wprof_cache[i].id == 0) {
			slot = &wprof_cache[i];
			break;
		}
		if (slot == NULL || wprof_cache[i].used < slot->used)
			slot = &wprof_cache[i];
	}
	if (slot->id != 0)
		wprof_drop(slot);
	rc = pts_db_open_profile(pts_paths_data_dir(), id, &slot->db);
	if (rc != 0) {
		if (rc < 0)
			PTS_ERROR("profile %lld: its database cannot be opened", (long long)id);
		slot->db = NULL;
		return rc;
	}
	slot->id = id;
	slot->used = ++wprof_tick;
	*out = slot->db;
	return 0;
}

int
pts_wprof_each(sqlite3 *db, int (*fn)(sqlite3 *pdb, int64_t id, void *arg), void *arg)
{
	int64_t ids[PTS_PROFILES_MAX];
	int n = pts_db_profile_ids(db, PTS_PROFILE_OWNER, ids, PTS_PROFILES_MAX), i, bad = 0;

	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		sqlite3 *pdb = NULL;

		if (pts_wprof_get(db, ids[i], &pdb) != 0)
			continue;
		if (fn(pdb, ids[i], arg) != 0)
			bad = 1;
	}
	return bad ? -1 : 0;
}

void
pts_wprof_close_all(void)
{
	size_t i;

	for (i = 0; i < PTS_WPROF_CACHE; i++)
		if (wprof_cache[i].id != 0)
			wprof_drop(&wprof_cache[i]);
}

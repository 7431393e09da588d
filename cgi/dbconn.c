/*
 * dbconn.c - the lazily opened per-process database handle, and the profiles' handles.
 */
#include "dbconn.h"

#include "db.h"
#include "dbprofile.h"
#include "log.h"
#include "paths.h"

static sqlite3 *dbc_db;

/* A cached connection of a profile other than 1 (id 0: free slot). */
struct dbc_profile {
	int64_t id;
	sqlite3 *db;
	uint64_t used;     /* for least-recently-used eviction */
};

static struct dbc_profile dbc_profiles[DBC_PROFILES_MAX];
static uint64_t dbc_tick;

sqlite3 *
dbc_get(void)
{
	char path[PTS_PATH_MAX];

	if (dbc_db != NULL)
		return dbc_db;
	if (pts_paths_ensure_data_dir() != 0 || pts_paths_db(path, sizeof(path)) != 0)
		return NULL;
	if (pts_db_open(path, &dbc_db) != 0) {
		pts_log(PTS_LOG_ERROR, "database %s unavailable; will retry on the next request",
		    path);
		dbc_db = NULL;
	}
	return dbc_db;
}

sqlite3 *
dbc_peek(void)
{
	return dbc_db;
}

static void
dbc_profile_drop(struct dbc_profile *p)
{
	pts_db_close(p->db);
	p->db = NULL;
	p->id = 0;
	p->used = 0;
}

int
dbc_profile(int64_t id, sqlite3 **out)
{
	struct dbc_profile *slot = NULL;
	sqlite3 *inst;
	int64_t n = 0;
	size_t i;
	int rc;

	*out = NULL;
	if ((inst = dbc_get()) == NULL)
		return -1;
	if (id == PTS_PROFILE_OWNER) {
		*out = inst;
		return 0;
	}
	/* The row decides: a profile deleted since its handle was cached is gone. */
	if (pts_db_int(inst, &n, 0, "SELECT COUNT(*) FROM profiles WHERE id = ?", "i", id) != 0)
		return -1;
	for (i = 0; i < DBC_PROFILES_MAX; i++) {
		if (dbc_profiles[i].id != id)
			continue;
		if (n == 0) {
			dbc_profile_drop(&dbc_profiles[i]);
			return 1;
		}
		dbc_profiles[i].used = ++dbc_tick;
		*out = dbc_profiles[i].db;
		return 0;
	}
	if (n == 0)
		return 1;
	for (i = 0; i < DBC_PROFILES_MAX; i++) {
		if (dbc_profiles[i].id == 0) {
			slot = &dbc_profiles[i];
			break;
		}
		if (slot == NULL || dbc_profiles[i].used < slot->used)
			slot = &dbc_profiles[i];
	}
	if (slot->id != 0)
		dbc_profile_drop(slot);
	rc = pts_db_open_profile(pts_paths_data_dir(), id, &slot->db);
	if (rc != 0) {
		if (rc < 0)
			pts_log(PTS_LOG_ERROR, "profile %lld's database unavailable; will retry on"
			    " the next request", (long long)id);
		slot->db = NULL;
		return rc;
	}
	slot->id = id;
	slot->used = ++dbc_tick;
	*out = slot->db;
	return 0;
}

void
dbc_profile_forget(int64_t id)
{
	size_t i;

	for (i = 0; i < DBC_PROFILES_MAX; i++)
		if (dbc_profiles[i].id == id)
			dbc_profile_drop(&dbc_profiles[i]);
}

void
dbc_close(void)
{
	size_t i;

	for (i = 0; i < DBC_PROFILES_MAX; i++)
		if (dbc_profiles[i].id != 0)
			dbc_profile_drop(&dbc_profiles[i]);
	pts_db_close(dbc_db);
	dbc_db = NULL;
}

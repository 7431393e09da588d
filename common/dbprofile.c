/*
 * dbprofile.c - households: open, create and remove the file of one profile.
 */
#include "dbprofile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "paths.h"
#include "schema.sql.h"

/* The installation's file under the data folder (paths.h names it too). */
#define DBP_INSTALLATION_FILE "pts.db"

int
pts_db_profile_path(const char *data_dir, int64_t id, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/" PTS_PROFILES_DIR "/p%lld.db", data_dir, (long long)id);

	if (n < 0 || (size_t)n >= len) {
		pts_log_raw(PTS_LOG_ERROR, "db: the path of profile %lld under %s is too long",
		    (long long)id, data_dir);
		return -1;
	}
	return 0;
}

/* The profiles folder: created 0700; anything but a real folder there is refused. */
static int
dbp_ensure_dir(const char *data_dir)
{
	char dir[PTS_PATH_MAX];
	struct stat st;
	int n = snprintf(dir, sizeof(dir), "%s/" PTS_PROFILES_DIR, data_dir);

	if (n < 0 || (size_t)n >= sizeof(dir)) {
		pts_log_raw(PTS_LOG_ERROR, "db: the profiles folder under %s: path too long", data_dir);
		return -1;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		pts_log_raw(PTS_LOG_ERROR, "db: cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		pts_log_raw(PTS_LOG_ERROR, "db: %s is not a folder (a symbolic link is refused)", dir);
		return -1;
	}
	return 0;
}

/* A fresh profile file: every step, then the installation's tables dropped. */
static int
dbp_create_schema(sqlite3 *db)
{
	static const char *const inst_tables[] = { PTS_SCHEMA_INSTALLATION_TABLES, NULL };
	char sql[128];
	size_t i;

	for (i = 0; i < PTS_SCHEMA_STEPS; i++)
		if (pts_db_exec(db, pts_schema_steps[i]) != 0)
			return -1;
	for (i = 0; inst_tables[i] != NULL; i++) {
		snprintf(sql, sizeof(sql), "DROP TABLE %s", inst_tables[i]);
		if (pts_db_exec(db, sql) != 0)
			return -1;
	}
	return 0;
}

/*
 * Bring a profile file to this build's version (before pts.db is attached, so every step
 * reaches the profile's own tables): born here when new, else the per-person steps it lacks.
 */
static int
dbp_migrate(sqlite3 *db, const char *path)
{
	int64_t version = 0;
	char pragma[64];
	size_t step;

	/* The usual case, without a write transaction. */
	if (pts_db_int(db, &version, 0, "PRAGMA user_version", "") != 0)
		return -1;
	if (version == (int64_t)PTS_SCHEMA_STEPS)
		return 0;
	if (pts_db_begin(db) != 0)
		return -1;
	if (pts_db_int(db, &version, 0, "PRAGMA user_version", "") != 0)
		goto fail;
	if (version > (int64_t)PTS_SCHEMA_STEPS ||
	    (version != 0 && version < PTS_SCHEMA_PROFILE_BASE)) {
		pts_log_raw(PTS_LOG_ERROR, "db: %s has schema version %lld: not a profile file of"
		    " this build (%zu)", path, (long long)version, PTS_SCHEMA_STEPS);
		goto fail;
	}
	if (version == 0) {
		if (dbp_create_schema(db) != 0)
			goto fail;
	} else {
		for (step = (size_t)version + 1; step <= PTS_SCHEMA_STEPS; step++) {
			size_t scope = step - PTS_SCHEMA_PROFILE_BASE;

			if (scope >= PTS_SCHEMA_SCOPES) {
				pts_log_raw(PTS_LOG_ERROR, "db: schema step %zu has no scope", step);
				goto fail;
			}
			if (pts_schema_scope[scope] == PTS_SCOPE_PERSON &&
			    pts_db_exec(db, pts_schema_steps[step - 1]) != 0)
				goto fail;
		}
	}
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %zu", PTS_SCHEMA_STEPS);
	if (pts_db_exec(db, pragma) != 0 || pts_db_commit(db) != 0)
		goto fail;
	return 0;
fail:
	pts_db_rollback(db);
	return -1;
}

/*
 * Make this connection's picture of its own file current, and check it, before pts.db is
 * attached. SQLite resolves a table name when a statement is prepared, from the schema it
 * last read, and checks that schema only for the files the statement uses: a connection that
 * read the file while another process was still creating it (the worker and pts-cgi open a
 * new profile at the same moment) would otherwise resolve "auth" to inst.auth, the owner's,
 * and write there. Reading main's own table of tables reloads main's schema when it moved.
 */
static int
dbp_fresh_schema(sqlite3 *db, const char *path)
{
	int64_t n = 0;

	if (pts_db_int(db, &n, 0, "SELECT COUNT(*) FROM main.sqlite_schema WHERE type = 'table'"
	    " AND name IN ('auth', 'settings', 'runs')", "") != 0)
		return -1;
	if (n != 3) {
		pts_log_raw(PTS_LOG_ERROR, "db: %s lacks the per-person tables after its migration",
		    path);
		return -1;
	}
	return 0;
}

/* ATTACH (attach = 1) or DETACH pts.db as "inst" on db. 0 or -1 (logged). */
static int
dbp_attach(sqlite3 *db, const char *inst_path, int attach)
{
	sqlite3_stmt *st = pts_db_prepare(db, attach ? "ATTACH DATABASE ? AS inst" :
	    "DETACH DATABASE inst");
	int rc;

	if (st == NULL)
		return -1;
	if (attach)
		sqlite3_bind_text(st, 1, inst_path, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		pts_log_raw(PTS_LOG_ERROR, "db: %s %s: %s", attach ? "attach" : "detach", inst_path,
		    sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int
pts_db_open_profile(const char *data_dir, int64_t id, sqlite3 **out)
{
	char inst_path[PTS_PATH_MAX], path[PTS_PATH_MAX];
	sqlite3 *db = NULL;
	struct stat st;
	int64_t n = 0;
	int n_path, existed;

	*out = NULL;
	n_path = snprintf(inst_path, sizeof(inst_path), "%s/" DBP_INSTALLATION_FILE, data_dir);
	if (n_path < 0 || (size_t)n_path >= sizeof(inst_path)) {
		pts_log_raw(PTS_LOG_ERROR, "db: path too long under %s", data_dir);
		return -1;
	}
	if (id == PTS_PROFILE_OWNER)
		return pts_db_open(inst_path, out);
	if (id < 1)
		return 1;
	if (dbp_ensure_dir(data_dir) != 0 || pts_db_profile_path(data_dir, id, path,
	    sizeof(path)) != 0)
		return -1;
	/*
	 * The row in pts.db decides whether the profile exists. It is read through this
	 * connection (one more connection to pts.db opened and closed in a forked job child
	 * would disturb SQLite's per-process lock records), then pts.db is detached while the
	 * profile's own file is migrated, so every step reaches the profile's own tables.
	 */
	existed = lstat(path, &st) == 0;
	if (pts_db_connect(path, id, &db) != 0)
		return -1;
	if (dbp_attach(db, inst_path, 1) != 0 ||
	    pts_db_int(db, &n, 0, "SELECT COUNT(*) FROM inst.profiles WHERE id = ?", "i", id) != 0)
		goto fail;
	if (n == 0) {
		pts_db_close(db);
		if (!existed)
			(void)pts_db_profile_remove(data_dir, id);
		return 1;
	}
	if (dbp_attach(db, inst_path, 0) != 0 || dbp_migrate(db, path) != 0 ||
	    dbp_fresh_schema(db, path) != 0 || dbp_attach(db, inst_path, 1) != 0)
		goto fail;
	*out = db;
	return 0;
fail:
	pts_db_close(db);
	return -1;
}

int
pts_db_profile_ids(sqlite3 *db, int64_t from, int64_t *ids, int max)
{
	sqlite3_stmt *st = pts_db_prepare(db, "SELECT id FROM profiles WHERE id >= ? ORDER BY id"
	    " LIMIT ?");
	int n = 0, step = SQLITE_DONE;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int(st, 2, max);
	while (n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(st, 0);
	if (n < max && step != SQLITE_DONE) {
		pts_log_raw(PTS_LOG_ERROR, "db: the list of profiles: %s", sqlite3_errmsg(db));
		n = -1;
	}
	sqlite3_finalize(st);
	return n;
}

int
pts_db_profile_remove(const char *data_dir, int64_t id)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal", NULL };
	char path[PTS_PATH_MAX], file[PTS_PATH_MAX + 16];
	size_t i;
	int rc = 0;

	if (id <= PTS_PROFILE_OWNER) {
		pts_log_raw(PTS_LOG_ERROR, "db: profile %lld's file is the installation's: not"
		    " removed", (long long)id);
		return -1;
	}
	if (pts_db_profile_path(data_dir, id, path, sizeof(path)) != 0)
		return -1;
	for (i = 0; suffixes[i] != NULL; i++) {
		snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
		if (unlink(file) != 0 && errno != ENOENT) {
			pts_log_raw(PTS_LOG_ERROR, "db: cannot remove %s: %s", file, strerror(errno));
			rc = -1;
		}
	}
	return rc;
}

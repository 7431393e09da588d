/*
 * db.c - open, migrate and use the shared SQLite database.
 */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "schema.sql.h"

static void db_cache_drop(sqlite3 *db);

/*
 * Touch the file with mode 0600 before SQLite opens it, so it is never world-readable. A
 * symbolic link (or anything but a plain file) where the database goes is refused, never
 * followed: the folder may be another user's.
 */
static int
db_create_private(const char *path)
{
	struct stat st;
	int fd;

	/*
	 * An existing file is not opened here: closing a descriptor of it would drop every POSIX
	 * lock this process holds on it through its other SQLite connections (a profile's
	 * connection attaches pts.db in processes that have it open already), and another
	 * process could then write under them: a corrupt database.
	 */
	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode)) {
			pts_log_raw(PTS_LOG_ERROR, "db: cannot create %s: it is a symbolic link"
			    " (refused)", path);
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			pts_log_raw(PTS_LOG_ERROR, "db: %s is not a plain file (refused)", path);
			return -1;
		}
		/* An existing file keeps its owner but loses any group/other bits. */
		if ((st.st_mode & 077) != 0)
			(void)chmod(path, 0600);
		return 0;
	}
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0) {
		pts_log_raw(PTS_LOG_ERROR, "db: cannot create %s: %s", path,
		    errno == ELOOP ? "it is a symbolic link (refused)" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		pts_log_raw(PTS_LOG_ERROR, "db: %s is not a plain file (refused)", path);
		close(fd);
		return -1;
	}
	/* An existing file keeps its owner but loses any group/other bits. */
	(void)fchmod(fd, 0600);
	close(fd);
	return 0;
}

static int
db_migrate(sqlite3 *db)
{
	int64_t version = 0;
	size_t i;

	if (pts_db_int(db, &version, 0, "PRAGMA user_version", "") != 0)
		return -1;
	if (version > (int64_t)PTS_SCHEMA_STEPS) {
		pts_log_raw(PTS_LOG_ERROR, "db: schema version %lld is newer than this build (%zu)",
		    (long long)version, PTS_SCHEMA_STEPS);
		return -1;
	}
	for (i = (size_t)version; i < PTS_SCHEMA_STEPS; i++) {
		char pragma[64];

		if (pts_db_begin(db) != 0)
			return -1;
		/* Another process may have migrated while we waited for the write lock. */
		if (pts_db_int(db, &version, 0, "PRAGMA user_version", "") != 0)
			goto fail;
		if (version > (int64_t)i) {
			pts_db_rollback(db);
			i = (size_t)version - 1;
			continue;
		}
		if (pts_db_exec(db, pts_schema_steps[i]) != 0)
			goto fail;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %zu", i + 1);
		if (pts_db_exec(db, pragma) != 0 || pts_db_commit(db) != 0)
			goto fail;
	}
	return 0;
fail:
	pts_db_rollback(db);
	return -1;
}

/* pts_profile(): the connection's profile id, kept as the function's user data. */
static void
db_fn_profile(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)argv;
	sqlite3_result_int64(c, (sqlite3_int64)(intptr_t)sqlite3_user_data(c));
}

int
pts_db_connect(const char *path, int64_t profile, sqlite3 **out)
{
	sqlite3 *db = NULL;
	int rc;

	*out = NULL;
	if (db_create_private(path) != 0)
		return -1;
	/* NOFOLLOW: SQLite refuses a path with a symbolic link in it rather than follow it. */
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX |
	    SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		pts_log_raw(PTS_LOG_ERROR, "db: open %s: %s%s", path,
		    db ? sqlite3_errmsg(db) : sqlite3_errstr(rc),
		    (db ? sqlite3_extended_errcode(db) : rc) == SQLITE_CANTOPEN_SYMLINK ?
		    " (a symbolic link in the path is refused: set PTS_DATA_DIR to the real"
		    " folder)" : "");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, PTS_DB_BUSY_TIMEOUT_MS);
	rc = sqlite3_create_function(db, "pts_profile", 0, SQLITE_UTF8 | SQLITE_DETERMINISTIC |
	    SQLITE_INNOCUOUS, (void *)(intptr_t)profile, db_fn_profile, NULL, NULL);
	if (rc != SQLITE_OK) {
		pts_log_raw(PTS_LOG_ERROR, "db: %s: pts_profile(): %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	if (pts_db_exec(db, "PRAGMA journal_mode = WAL") != 0 ||
	    pts_db_exec(db, "PRAGMA synchronous = NORMAL") != 0 ||
	    pts_db_exec(db, "PRAGMA foreign_keys = ON") != 0) {
		db_cache_drop(db);
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

int
pts_db_open(const char *path, sqlite3 **out)
{
	if (pts_db_connect(path, 1, out) != 0)
		return -1;
	if (db_migrate(*out) != 0) {
		pts_db_close(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int64_t
pts_db_profile(sqlite3 *db)
{
	int64_t id = 1;

	(void)pts_db_int(db, &id, 1, "SELECT pts_profile()", "");
	return id;
}

void
pts_db_close(sqlite3 *db)
{
	if (db != NULL) {
		db_cache_drop(db);
		sqlite3_close(db);
	}
}

int
pts_db_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		pts_log_raw(PTS_LOG_ERROR, "db: %s (in: %.60s)", err ? err : sqlite3_errmsg(db), sql);
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

int
pts_db_begin(sqlite3 *db)
{
	return pts_db_exec(db, "BEGIN IMMEDIATE");
}

int
pts_db_commit(sqlite3 *db)
{
	return pts_db_exec(db, "COMMIT");
}

void
pts_db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

sqlite3_stmt *
pts_db_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		pts_log_raw(PTS_LOG_ERROR, "db: prepare: %s (in: %.80s)", sqlite3_errmsg(db), sql);
		return NULL;
	}
	return st;
}

/* ==== Prepared-statement cache ==== */

/* Statements kept per process: each program asks a few dozen distinct queries. */
#define DB_STMT_CACHE 64

struct db_cached {
	sqlite3 *db;           /* NULL: free slot */
	char *sql;
	sqlite3_stmt *st;
	int busy;              /* handed out, not given back yet */
	uint64_t used;         /* for least-recently-used eviction */
};

static struct db_cached db_cache[DB_STMT_CACHE];
static uint64_t db_cache_tick;
static int db_cache_atfork;

/*
 * In a child after fork(): the entries are the parent's connections' statements, which the
 * child must never touch (SQLite handles do not cross a fork). Forget them unfinalized; only
 * our copies of their SQL text are freed. (Both programs are single-threaded, so free() is
 * safe here.)
 */
static void
db_cache_forget(void)
{
	size_t i;

	for (i = 0; i < DB_STMT_CACHE; i++)
		free(db_cache[i].sql);
	memset(db_cache, 0, sizeof(db_cache));
}

static void
db_cache_free(struct db_cached *c)
{
	sqlite3_finalize(c->st);
	free(c->sql);
	memset(c, 0, sizeof(*c));
}

/* Finalize every cached statement of db (before it is closed). */
static void
db_cache_drop(sqlite3 *db)
{
	size_t i;

	for (i = 0; i < DB_STMT_CACHE; i++)
		if (db_cache[i].db == db)
			db_cache_free(&db_cache[i]);
}

sqlite3_stmt *
pts_db_cached(sqlite3 *db, const char *sql)
{
	struct db_cached *slot = NULL;
	sqlite3_stmt *st = NULL;
	size_t i;

	for (i = 0; i < DB_STMT_CACHE; i++) {
		struct db_cached *c = &db_cache[i];

		if (c->db == db && !c->busy && strcmp(c->sql, sql) == 0) {
			c->busy = 1;
			c->used = ++db_cache_tick;
			return c->st;
		}
	}
	if (!db_cache_atfork) {
		db_cache_atfork = pthread_atfork(NULL, NULL, db_cache_forget) == 0 ? 1 : -1;
		if (db_cache_atfork < 0)
			pts_log_raw(PTS_LOG_WARN, "db: pthread_atfork failed: statements not cached");
	}
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		pts_log_raw(PTS_LOG_ERROR, "db: prepare: %s (in: %.80s)", sqlite3_errmsg(db), sql);
		sqlite3_finalize(st);
		return NULL;
	}
	/* A free slot, else the least recently used one not handed out. */
	for (i = 0; i < DB_STMT_CACHE; i++) {
		struct db_cached *c = &db_cache[i];

		if (c->db == NULL) {
			slot = c;
			break;
		}
		if (!c->busy && (slot == NULL || c->used < slot->used))
			slot = c;
	}
	if (slot == NULL || db_cache_atfork < 0)
		return st;  /* uncached: pts_db_done() finalizes it */
	if (slot->db != NULL)
		db_cache_free(slot);
	if ((slot->sql = strdup(sql)) == NULL)
		return st;
	slot->db = db;
	slot->st = st;
	slot->busy = 1;
	slot->used = ++db_cache_tick;
	return st;
}

void
pts_db_done(sqlite3_stmt *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < DB_STMT_CACHE; i++) {
		if (db_cache[i].st == st) {
			/* reset ends the statement's read (or write) at once; the result was seen. */
			(void)sqlite3_reset(st);
			(void)sqlite3_clear_bindings(st);
			db_cache[i].busy = 0;
			return;
		}
	}
	sqlite3_finalize(st);
}

int
pts_db_bindv(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	int idx = 1, rc = SQLITE_OK;

	for (; *fmt != '\0' && rc == SQLITE_OK; fmt++, idx++) {
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			rc = s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT)
			       : sqlite3_bind_null(st, idx);
			break;
		}
		case 'i':
			rc = sqlite3_bind_int64(st, idx, va_arg(ap, int64_t));
			break;
		case 'd':
			rc = sqlite3_bind_double(st, idx, va_arg(ap, double));
			break;
		case 'n':
			rc = sqlite3_bind_null(st, idx);
			break;
		default:
			pts_log_raw(PTS_LOG_ERROR, "db: bad bind format '%c'", *fmt);
			return -1;
		}
	}
	if (rc != SQLITE_OK) {
		pts_log_raw(PTS_LOG_ERROR, "db: bind %d: %s", idx - 1, sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}

/* Prepare and bind; NULL on error. */
static sqlite3_stmt *
db_prepare_bound(sqlite3 *db, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *st = pts_db_cached(db, sql);

	if (st != NULL && pts_db_bindv(st, fmt, ap) != 0) {
		pts_db_done(st);
		return NULL;
	}
	return st;
}

/*
 * Step st (made by db_prepare_bound) to its first row, or to its end when all_rows. 1 when a
 * row came whose first column is not NULL (st is left on it), 0 when none, -1 on an error
 * (logged with sql; st is done).
 */
static int
db_step(sqlite3 *db, sqlite3_stmt *st, const char *sql, int all_rows)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW && all_rows)
		;
	if (rc == SQLITE_ROW)
		return sqlite3_column_type(st, 0) != SQLITE_NULL;
	if (rc == SQLITE_DONE)
		return 0;
	pts_log_raw(PTS_LOG_ERROR, "db: %s (in: %.80s)", sqlite3_errmsg(db), sql);
	pts_db_done(st);
	return -1;
}

int
pts_db_run(sqlite3 *db, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, fmt);
	st = db_prepare_bound(db, sql, fmt, ap);
	va_end(ap);
	if (st == NULL || db_step(db, st, sql, 1) < 0)
		return -1;
	pts_db_done(st);
	return 0;
}

int
pts_db_int(sqlite3 *db, int64_t *out, int64_t dflt, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	st = db_prepare_bound(db, sql, fmt, ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	*out = dflt;
	if ((rc = db_step(db, st, sql, 0)) < 0)
		return -1;
	if (rc > 0)
		*out = sqlite3_column_int64(st, 0);
	pts_db_done(st);
	return 0;
}

int
pts_db_text(sqlite3 *db, char **out, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	*out = NULL;
	va_start(ap, fmt);
	st = db_prepare_bound(db, sql, fmt, ap);
	va_end(ap);
	if (st == NULL || (rc = db_step(db, st, sql, 0)) < 0)
		return -1;
	if (rc > 0 && (*out = strdup((const char *)sqlite3_column_text(st, 0))) == NULL) {
		pts_db_done(st);
		return -1;
	}
	pts_db_done(st);
	return 0;
}

/*
 * meta keys of the installation, not of a person: on a profile connection they are read and
 * written in pts.db's meta (schema "inst"). Every other key (schedule clock, cache times,
 * checkpoints, token lifetime) is the profile's own.
 */
static const char *const db_meta_installation[] = {
	"plex_client_id",      /* the X-Plex-Client-Identifier of this installation */
	"settings_changed",    /* the worker's wake-up when settings change */
	"webhook_token",       /* the Plex webhook URL's token (cgi/hooktoken.h) */
	"now_playing_at",      /* the live scrobbler's last poll (worker/jobs/scrobble.c) */
	"now_playing_poll",
	"plex_machine_id",     /* the server's identity (worker/jobs/job_webhook.c) */
	"plex_machine_url",
	NULL
};

int
pts_db_meta_installation(const char *key)
{
	size_t i;

	for (i = 0; db_meta_installation[i] != NULL; i++)
		if (strcmp(db_meta_installation[i], key) == 0)
			return 1;
	return 0;
}

/* Does key live in inst.meta on this connection? */
static int
db_meta_inst(sqlite3 *db, const char *key)
{
	return pts_db_meta_installation(key) && pts_db_profile(db) != 1;
}

char *
pts_db_meta_get(sqlite3 *db, const char *key)
{
	char *v = NULL;

	(void)pts_db_text(db, &v, db_meta_inst(db, key) ?
	    "SELECT value FROM inst.meta WHERE key = ?" :
	    "SELECT value FROM meta WHERE key = ?", "s", key);
	return v;
}

int
pts_db_meta_set(sqlite3 *db, const char *key, const char *value)
{
	int inst = db_meta_inst(db, key);

	if (value == NULL)
		return pts_db_run(db, inst ? "DELETE FROM inst.meta WHERE key = ?" :
		    "DELETE FROM meta WHERE key = ?", "s", key);
	return pts_db_run(db, inst ? "INSERT INTO inst.meta(key, value) VALUES(?, ?)"
	    " ON CONFLICT(key) DO UPDATE SET value = excluded.value" :
	    "INSERT INTO meta(key, value) VALUES(?, ?)"
	    " ON CONFLICT(key) DO UPDATE SET value = excluded.value", "ss", key, value);
}

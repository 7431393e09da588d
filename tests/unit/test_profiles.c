/*
 * test_profiles.c - households: a profile's file holds the per-person tables only, its
 * connection reads those from its file and the installation's tables (jobs, settings of the
 * installation, meta of the installation) from pts.db, and pts_profile() names it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "dbprofile.h"
#include "jobs.h"
#include "jsonx.h"
#include "profauth.h"
#include "schema.sql.h"
#include "settings.h"
#include "tap.h"

/* Tables a profile file must not hold (they are pts.db's). */
static const char *const inst_tables[] = { PTS_SCHEMA_INSTALLATION_TABLES, NULL };
/* Some of the per-person tables a profile file must hold. */
static const char *const person_tables[] = { "settings", "meta", "libraries", "runs",
	"progress", "log", "batches", "changes", "auth", "trakt_history", "plex_seen",
	"watchlist_state", "plex_disc_ids", NULL };

/* Does schema (main or inst) of db have table name? */
static int
has_table(sqlite3 *db, const char *schema, const char *name)
{
	char sql[128];
	int64_t n = 0;

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s.sqlite_master WHERE type = 'table'"
	    " AND name = ?", schema);
	if (pts_db_int(db, &n, 0, sql, "s", name) != 0)
		return -1;
	return n > 0;
}

static void
test_scope_table(void)
{
	TAP_OK(PTS_SCHEMA_STEPS - PTS_SCHEMA_PROFILE_BASE + 1 == PTS_SCHEMA_SCOPES,
	    "every schema step from %d on says what it touches", PTS_SCHEMA_PROFILE_BASE);
}

static void
test_profiles(const char *dir)
{
	char inst_path[512], p2[512];
	sqlite3 *inst = NULL, *pro = NULL, *again = NULL;
	int64_t n = 0, v = 0;
	struct stat st;
	char *s = NULL;
	size_t i;
	int ok;

	snprintf(inst_path, sizeof(inst_path), "%s/pts.db", dir);
	TAP_OK(pts_db_open(inst_path, &inst) == 0, "the installation's file opens");
	TAP_OK(pts_db_profile(inst) == 1, "a plain connection is profile 1");
	TAP_OK(pts_db_int(inst, &n, 0, "SELECT COUNT(*) FROM profiles WHERE id = 1 AND"
	    " plex_user_id IS NULL AND name = 'Owner'", "") == 0 && n == 1,
	    "profile 1 (the owner) exists from step 9 on");
	TAP_OK(pts_db_open_profile(dir, 2, &pro) == 1 && pro == NULL,
	    "a profile without its row is not found (and no file is made)");
	pts_db_profile_path(dir, 2, p2, sizeof(p2));
	TAP_OK(access(p2, F_OK) != 0, "no file for a profile that does not exist");

	pts_db_run(inst, "INSERT INTO profiles(id, name, plex_user_id, created_at)"
	    " VALUES(2, 'Kid', '22', 0)", "");
	pts_db_run(inst, "INSERT INTO settings(key, value) VALUES('plex_url', 'http://p:1'),"
	    " ('sync_ratings', '1')", "");
	pts_db_run(inst, "INSERT INTO runs(trigger, status, created_at) VALUES('manual', 'ok', 1)",
	    "");
	pts_db_meta_set(inst, "plex_client_id", "inst-client");
	pts_db_meta_set(inst, "next_run_at", "111");

	TAP_OK(pts_db_open_profile(dir, 2, &pro) == 0 && pro != NULL, "profile 2 opens");
	if (pro == NULL)
		goto out;
	TAP_OK(stat(p2, &st) == 0 && (st.st_mode & 0777) == 0600, "its file is made 0600");
	TAP_OK(stat(dir, &st) == 0, "data folder there");
	{
		char pdir[512];

		snprintf(pdir, sizeof(pdir), "%s/profiles", dir);
		TAP_OK(stat(pdir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
		    "the profiles folder is made 0700");
	}
	TAP_OK(pts_db_profile(pro) == 2, "pts_db_profile() of profile 2's connection is 2");
	TAP_OK(pts_db_int(pro, &v, 0, "SELECT pts_profile()", "") == 0 && v == 2,
	    "pts_profile() in SQL is 2");
	ok = 1;
	for (i = 0; inst_tables[i] != NULL; i++)
		ok &= has_table(pro, "main", inst_tables[i]) == 0;
	TAP_OK(ok, "the profile file holds none of the installation's tables");
	ok = 1;
	for (i = 0; person_tables[i] != NULL; i++)
		ok &= has_table(pro, "main", person_tables[i]) == 1;
	TAP_OK(ok, "the profile file holds the per-person tables");
	TAP_OK(pts_db_int(pro, &v, 0, "PRAGMA main.user_version", "") == 0 &&
	    v == (int64_t)PTS_SCHEMA_STEPS, "the profile file is born at this build's version");
	TAP_OK(pts_db_int(pro, &n, -1, "SELECT COUNT(*) FROM auth WHERE state = 'none'", "") == 0 &&
	    n == 2, "a new profile starts signed out of both services");

	/* Per-person tables from the profile's file, installation tables from pts.db. */
	TAP_OK(pts_db_int(pro, &n, -1, "SELECT COUNT(*) FROM runs", "") == 0 && n == 0,
	    "runs are the profile's own (none yet)");
	TAP_OK(pts_settings_get_bool(pro, PTS_KEY_SYNC_RATINGS) == 0,
	    "a per-person setting starts at its default");
	s = pts_settings_get_str(pro, PTS_KEY_PLEX_URL);
	TAP_STREQ(s, "http://p:1", "an installation setting is read from pts.db");
	free(s);
	s = pts_db_meta_get(pro, "plex_client_id");
	TAP_STREQ(s, "inst-client", "an installation meta key is read from pts.db");
	free(s);
	s = pts_db_meta_get(pro, "next_run_at");
	TAP_OK(s == NULL, "the schedule clock is the profile's own");
	free(s);
	pts_db_meta_set(pro, "next_run_at", "222");
	s = pts_db_meta_get(inst, "next_run_at");
	TAP_STREQ(s, "111", "writing a profile's meta leaves profile 1's");
	free(s);

	/* Jobs: in pts.db, stamped and filtered by profile. */
	{
		enum pts_sync_state state;
		int64_t run = 0, rid = 0, job_profile = 0, r1 = 0;

		TAP_OK(pts_jobs_request_sync(pro, "manual", 0, 0, &run) == 0 && run == 1,
		    "a sync of profile 2 is queued with run 1 of its own file");
		TAP_OK(pts_db_int(inst, &job_profile, 0, "SELECT profile FROM jobs WHERE kind = 'sync'",
		    "") == 0 && job_profile == 2, "the job lands in pts.db with profile 2");
		TAP_OK(pts_db_int(inst, &n, -1, "SELECT COUNT(*) FROM runs", "") == 0 && n == 1,
		    "profile 1's runs are untouched");
		TAP_OK(pts_jobs_sync_state(inst, &state, &rid) == 0 && state == PTS_SYNC_IDLE,
		    "profile 1 does not see profile 2's sync");
		TAP_OK(pts_jobs_sync_state(pro, &state, &rid) == 0 && state == PTS_SYNC_QUEUED &&
		    rid == 1, "profile 2 sees its own");
		TAP_OK(pts_jobs_request_sync(inst, "manual", 0, 0, &r1) == 0 && r1 == 2,
		    "profile 1 can queue its sync beside it");
		TAP_OK(pts_jobs_stop_sync(pro) == 0 && pts_db_int(inst, &n, -1, "SELECT COUNT(*) FROM"
		    " jobs WHERE cancel = 1 AND profile = 1", "") == 0 && n == 0,
		    "stopping profile 2's sync leaves profile 1's");
	}

	/* Settings of the installation cannot be put on profile 2. */
	{
		const char *both = "{\"plex_url\": \"http://x:1\", \"sync_ratings\": true}";
		const char *one = "{\"sync_ratings\": true}";
		json_object *body = pts_json_parse(both, strlen(both), 4096, NULL),
		    *fields = json_object_new_object(), *why;

		TAP_OK(pts_settings_apply(pro, body, fields) == 1 &&
		    json_object_object_get_ex(fields, "plex_url", &why) &&
		    !json_object_object_get_ex(fields, "sync_ratings", &why),
		    "PUT of an installation setting on profile 2 is refused on that field");
		json_object_put(body);
		json_object_put(fields);
		body = pts_json_parse(one, strlen(one), 4096, NULL);
		fields = json_object_new_object();
		TAP_OK(pts_settings_apply(pro, body, fields) == 0 &&
		    pts_settings_get_bool(pro, PTS_KEY_SYNC_RATINGS) == 1 &&
		    pts_settings_get_bool(inst, PTS_KEY_SYNC_RATINGS) == 1, "a per-person setting"
		    " is stored in the profile's file");
		s = pts_db_meta_get(inst, "settings_changed");
		TAP_OK(s != NULL, "it wakes the worker through pts.db's meta");
		free(s);
		json_object_put(body);
		json_object_put(fields);
	}

	/* Reopening keeps the file; removal deletes it. */
	pts_db_close(pro);
	pro = NULL;
	TAP_OK(pts_db_open_profile(dir, 2, &again) == 0 &&
	    pts_db_int(again, &n, -1, "SELECT COUNT(*) FROM runs", "") == 0 && n == 1,
	    "reopening profile 2 finds its run");
	pts_db_close(again);
	TAP_OK(pts_db_profile_remove(dir, 2) == 0 && access(p2, F_OK) != 0,
	    "removing profile 2 deletes its file");
	TAP_OK(pts_db_profile_remove(dir, 1) == -1, "profile 1's file is never removed");
	{
		sqlite3 *one = NULL;

		TAP_OK(pts_db_open_profile(dir, 1, &one) == 0 && pts_db_profile(one) == 1,
		    "profile 1 opens as the plain connection");
		pts_db_close(one);
	}
out:
	pts_db_close(pro);
	pts_db_close(inst);
}

/* How long the other process holds its write lock on the new file before it commits. */
#define RACE_HOLD_US 400000

/*
 * The other process of the race: creates profile id's file, holds its write lock (so the
 * caller's open reads it empty first), then fills it as a profile file and commits. Never
 * returns.
 */
static void
race_creator(const char *path, int ready_fd)
{
	static const char *const drop[] = { PTS_SCHEMA_INSTALLATION_TABLES, NULL };
	char sql[128];
	sqlite3 *db = NULL;
	size_t i;
	int bad = 0;

	if (pts_db_connect(path, 3, &db) != 0 || pts_db_exec(db, "BEGIN IMMEDIATE") != 0)
		_exit(2);
	if (write(ready_fd, "x", 1) != 1)
		_exit(2);
	usleep(RACE_HOLD_US);
	for (i = 0; i < PTS_SCHEMA_STEPS; i++)
		bad |= pts_db_exec(db, pts_schema_steps[i]);
	for (i = 0; drop[i] != NULL; i++) {
		snprintf(sql, sizeof(sql), "DROP TABLE %s", drop[i]);
		bad |= pts_db_exec(db, sql);
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", PTS_SCHEMA_STEPS);
	bad |= pts_db_exec(db, sql);
	bad |= pts_db_exec(db, "COMMIT");
	pts_db_close(db);
	_exit(bad ? 1 : 0);
}

/*
 * Two processes open a new profile at once (pts-cgi on POST /api/profiles, the worker's
 * plex_users job): the one that read the file while the other was still creating it must
 * still write its own tables, never the owner's through the attached pts.db.
 */
static void
test_open_race(const char *dir)
{
	char inst_path[512], p3[512], *tok = NULL, ready;
	sqlite3 *inst = NULL, *pro = NULL;
	int pipefd[2], status = 0;
	pid_t pid;

	snprintf(inst_path, sizeof(inst_path), "%s/pts.db", dir);
	if (pts_db_open(inst_path, &inst) != 0 ||
	    pts_db_run(inst, "UPDATE auth SET state = 'authorized', access_token = 'OWNER'"
	    " WHERE service = 'plex'", "") != 0 ||
	    pts_db_run(inst, "INSERT INTO profiles(id, name, plex_user_id, created_at)"
	    " VALUES(3, 'Race', '33', 0)", "") != 0) {
		TAP_OK(0, "the race's installation is set up");
		pts_db_close(inst);
		return;
	}
	/* No connection to the profile's file is open in this process while it forks. */
	pts_db_profile_path(dir, 3, p3, sizeof(p3));
	if (pipe(pipefd) != 0 || (pid = fork()) < 0) {
		TAP_OK(0, "fork");
		pts_db_close(inst);
		return;
	}
	if (pid == 0) {
		close(pipefd[0]);
		race_creator(p3, pipefd[1]);
	}
	close(pipefd[1]);
	TAP_OK(read(pipefd[0], &ready, 1) == 1, "the other process holds the new file");
	close(pipefd[0]);
	TAP_OK(pts_db_open_profile(dir, 3, &pro) == 0 && pro != NULL,
	    "profile 3 opens while another process creates its file");
	TAP_OK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "the other process made the file");
	if (pro != NULL) {
		TAP_OK(pts_profauth_set_plex(pro, "HANNAH", "HANNAH-ACCT", "Hannah", NULL) == 0,
		    "the profile's Plex token is stored");
		TAP_OK(pts_db_text(pro, &tok, "SELECT access_token FROM main.auth WHERE"
		    " service = 'plex'", "") == 0 && tok != NULL && strcmp(tok, "HANNAH") == 0,
		    "in the profile's own file");
		free(tok);
		tok = NULL;
		TAP_OK(pts_db_text(pro, &tok, "SELECT account_token FROM main.auth WHERE"
		    " service = 'plex'", "") == 0 && tok != NULL &&
		    strcmp(tok, "HANNAH-ACCT") == 0, "with the person's plex.tv account token");
		free(tok);
		tok = NULL;
		TAP_OK(pts_profauth_set_plex(pro, NULL, NULL, "Hannah", "no access") == 0 &&
		    pts_db_text(pro, &tok, "SELECT coalesce(access_token, account_token) FROM"
		    " main.auth WHERE service = 'plex'", "") == 0 && tok == NULL,
		    "a profile without access keeps no token of either kind");
		free(tok);
		tok = NULL;
	}
	TAP_OK(pts_db_text(inst, &tok, "SELECT access_token FROM auth WHERE service = 'plex'",
	    "") == 0 && tok != NULL && strcmp(tok, "OWNER") == 0,
	    "the owner's Plex token is untouched (got %s)", tok != NULL ? tok : "(null)");
	free(tok);
	pts_db_close(pro);
	pts_db_close(inst);
}

int
main(void)
{
	char dir[] = "/tmp/pts-profiles-XXXXXX";
	char cmd[128];

	if (mkdtemp(dir) == NULL)
		return 1;
	test_scope_table();
	test_profiles(dir);
	test_open_race(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}

/*
 * h_profiles.c - households: GET/POST /api/profiles and DELETE /api/profiles/{id}.
 *
 * A profile pairs one Plex user of the server (a row of plex_users, which the worker fills
 * from plex.tv) with one Trakt account; its per-person state is its own file
 * (common/dbprofile.h). Profile 1 is the owner's and cannot be deleted.
 */
#include "handler.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "dbconn.h"
#include "dbprofile.h"
#include "jobs.h"
#include "jsonx.h"
#include "log.h"
#include "paths.h"
#include "rows.h"

/* Longest profile name, in characters (UTF-8 code points). */
#define PROFILES_NAME_MAX 64
/* Longest plex_user_id accepted (plex.tv's ids are short decimal numbers). */
#define PROFILES_USER_ID_MAX 64
/* meta key: the highest profile id ever given, so a deleted profile's id is never reused. */
#define PROFILES_META_LAST "profiles_last_id"
/* Longest warning line about a person's Plex access ("Plex: " + the stored reason). */
#define PROFILES_WARN_MAX 448
/* PTS_PROFILES_MAX in words of the 409 that refuses one more. */
#define PROFILES_MAX_TEXT "64"
_Static_assert(PTS_PROFILES_MAX == 64, "PROFILES_MAX_TEXT says PTS_PROFILES_MAX");

/* ==== GET ==== */

/* {"id", "title", "kind"} of the profile's Plex user. NULL on a database error. */
static json_object *
profiles_plex_user(sqlite3 *inst, sqlite3 *pdb, int64_t id, const char *plex_user_id)
{
	sqlite3_stmt *st = pts_db_prepare(inst, id == PTS_PROFILE_OWNER ?
	    "SELECT id, title, kind FROM plex_users WHERE kind = 'owner' LIMIT 1" :
	    "SELECT id, title, kind FROM plex_users WHERE id = ?");
	json_object *o = json_object_new_object();
	int rc;

	if (st == NULL || (id != PTS_PROFILE_OWNER &&
	    sqlite3_bind_text(st, 1, plex_user_id, -1, SQLITE_STATIC) != SQLITE_OK) ||
	    (rc = rows_step(inst, st)) < 0)
		goto fail;
	if (rc == SQLITE_ROW) {
		rows_add_text(o, "id", st, 0);
		rows_add_text(o, "title", st, 1);
		rows_add_text(o, "kind", st, 2);
		sqlite3_finalize(st);
		return o;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (id == PTS_PROFILE_OWNER) {
		/* Not fetched from plex.tv yet: the account signed in with /api/auth/plex. */
		char *user = NULL;

		if (pts_db_text(pdb, &user, "SELECT user FROM auth WHERE service = 'plex'", "") != 0)
			goto fail;
		json_object_object_add(o, "id", NULL);
		pts_json_add_str(o, "title", user);
		pts_json_add_str(o, "kind", "owner");
		free(user);
	} else {
		pts_json_add_str(o, "id", plex_user_id);
		json_object_object_add(o, "title", NULL);
		json_object_object_add(o, "kind", NULL);
	}
	return o;
fail:
	sqlite3_finalize(st);
	json_object_put(o);
	return NULL;
}

/*
 * A person without Plex access (their Plex user left the server, a PIN user not shared the
 * server, ...): the reason the worker stored goes first in the profile's warnings, since no
 * run of theirs can say it. 0 or -1.
 */
static int
profiles_plex_warning(sqlite3 *pdb, json_object *o)
{
	json_object *warnings = NULL, *a;
	char *why = NULL, line[PROFILES_WARN_MAX];
	size_t i, n;

	if (pts_db_profile(pdb) == PTS_PROFILE_OWNER)
		return 0;
	if (pts_db_text(pdb, &why, "SELECT error FROM auth WHERE service = 'plex' AND state ="
	    " 'error'", "") != 0)
		return -1;
	if (why == NULL)
		return 0;
	snprintf(line, sizeof(line), "Plex: %s", why);
	free(why);
	a = json_object_new_array();
	json_object_array_add(a, json_object_new_string(line));
	if (json_object_object_get_ex(o, "warnings", &warnings) &&
	    json_object_is_type(warnings, json_type_array))
		for (i = 0, n = json_object_array_length(warnings); i < n; i++)
			json_object_array_add(a, json_object_get(json_object_array_get_idx(warnings,
			    i)));
	json_object_object_add(o, "warnings", a);
	return 0;
}

/* "trakt", "last_run", "next_run_at", "warnings" of one profile, from its file. 0 or -1. */
static int
profiles_state(sqlite3 *pdb, json_object *o)
{
	sqlite3_stmt *st;
	json_object *t, *run;
	int64_t interval = 0, next = 0;
	int rc;

	st = pts_db_prepare(pdb, "SELECT state = 'authorized', user FROM auth WHERE service ="
	    " 'trakt'");
	if (st == NULL || (rc = rows_step(pdb, st)) < 0) {
		sqlite3_finalize(st);
		return -1;
	}
	t = json_object_new_object();
	pts_json_add_bool(t, "authorized", rc == SQLITE_ROW && sqlite3_column_int(st, 0));
	if (rc == SQLITE_ROW)
		rows_add_text(t, "user", st, 1);
	else
		json_object_object_add(t, "user", NULL);
	sqlite3_finalize(st);
	json_object_object_add(o, "trakt", t);

	st = pts_db_prepare(pdb, "SELECT id, CASE status WHEN 'queued' THEN 'running' ELSE status"
	    " END, finished_at, warnings FROM runs ORDER BY id DESC LIMIT 1");
	if (st == NULL || (rc = rows_step(pdb, st)) < 0) {
		sqlite3_finalize(st);
		return -1;
	}
	if (rc == SQLITE_ROW) {
		run = json_object_new_object();
		rows_add_int(run, "id", st, 0);
		rows_add_text(run, "status", st, 1);
		rows_add_time(run, "finished_at", st, 2);
		json_object_object_add(o, "last_run", run);
		rows_add_warnings(o, st, 3);
	} else {
		json_object_object_add(o, "last_run", NULL);
		json_object_object_add(o, "warnings", json_object_new_array());
	}
	sqlite3_finalize(st);
	if (profiles_plex_warning(pdb, o) != 0 || rows_next_run(pdb, &interval, &next) != 0)
		return -1;
	pts_json_add_time(o, "next_run_at", next);
	return 0;
}

void
h_profiles_get(struct hctx *ctx)
{
	sqlite3_stmt *st = pts_db_prepare(ctx->db, "SELECT id, name, plex_user_id FROM profiles"
	    " ORDER BY id");
	json_object *list = json_object_new_array(), *o;
	int rc;

	if (st == NULL)
		goto fail;
	while ((rc = rows_step(ctx->db, st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const char *uid = (const char *)sqlite3_column_text(st, 2);
		json_object *p, *user;
		sqlite3 *pdb = NULL;

		rc = dbc_profile(id, &pdb);
		if (rc == 1)
			continue;   /* deleted since the list was read */
		if (rc != 0)
			goto fail;
		p = json_object_new_object();
		pts_json_add_int(p, "id", id);
		rows_add_text(p, "name", st, 1);
		json_object_array_add(list, p);
		if ((user = profiles_plex_user(ctx->db, pdb, id, uid)) == NULL)
			goto fail;
		json_object_object_add(p, "plex_user", user);
		if (profiles_state(pdb, p) != 0)
			goto fail;
	}
	if (rc < 0)
		goto fail;
	sqlite3_finalize(st);
	o = json_object_new_object();
	json_object_object_add(o, "profiles", list);
	resp_json(ctx->resp, 200, o);
	return;
fail:
	sqlite3_finalize(st);
	json_object_put(list);
	resp_internal(ctx->resp);
}

/* ==== POST ==== */

/* A profile name: 1-PROFILES_NAME_MAX characters, no control characters, not blank. */
static const char *
profiles_check_name(json_object *v)
{
	const char *s, *p;
	size_t chars = 0;
	int text = 0;

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return "must be the id of a user of this Plex server (a string or a number)";
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return "must not contain NUL bytes";
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "must not contain control characters";
		chars += ((unsigned char)*p & 0xc0) != 0x80;
		text |= *p != ' ';
	}
	if (chars == 0 || chars > PROFILES_NAME_MAX)
		return "must be 1 to 64 characters";
	return text ? NULL : "must not be blank";
}

/*
 * plex_user_id: a user of the server as GET /api/plex/users lists them, not the owner.
 * NULL when fine, else the reason; *dberr set on a database error.
 */
static const char *
profiles_check_user(sqlite3 *db, json_object *v, int *dberr)
{
	char *kind = NULL;
	const char *why;

	*dberr = 0;
	if (v == NULL || !json_object_is_type(v, json_type_string))
		return "must be the id of a user of this Plex server (a string or a number)";
	if (json_object_get_string_len(v) < 1 ||
	    json_object_get_string_len(v) > PROFILES_USER_ID_MAX)
		return "must be the id of a user of this Plex server";
	if (pts_db_text(db, &kind, "SELECT kind FROM plex_users WHERE id = ?", "s",
	    json_object_get_string(v)) != 0) {
		*dberr = 1;
		return NULL;
	}
	if (kind == NULL)
		why = "is not a user of this Plex server (see GET /api/plex/users)";
	else if (strcmp(kind, "owner") == 0)
		why = "is the server's owner, whose profile is 1";
	else
		why = NULL;
	free(kind);
	return why;
}

void
h_profiles_post(struct hctx *ctx)
{
	json_object *fields = json_object_new_object(), *name = NULL, *user = NULL, *o;
	const char *why;
	int64_t id = 0, taken = 0, count = 0;
	sqlite3 *pdb = NULL;
	int dberr = 0;

	if (!json_object_is_type(ctx->body, json_type_object)) {
		json_object_put(fields);
		resp_bad_field(ctx->resp, "bad_request", "body", "must be a JSON object");
		return;
	}
	json_object_object_foreach(ctx->body, key, val) {
		(void)val;
		if (strcmp(key, "name") != 0 && strcmp(key, "plex_user_id") != 0)
			json_object_object_add(fields, key, json_object_new_string("unknown field"));
	}
	json_object_object_get_ex(ctx->body, "name", &name);
	json_object_object_get_ex(ctx->body, "plex_user_id", &user);
	/* plex.tv's ids are decimal numbers: a script may send one as a JSON number. */
	if (user != NULL && json_object_is_type(user, json_type_int) &&
	    json_object_get_int64(user) > 0) {
		char num[24];

		snprintf(num, sizeof(num), "%" PRId64, json_object_get_int64(user));
		json_object_object_add(ctx->body, "plex_user_id", json_object_new_string(num));
		json_object_object_get_ex(ctx->body, "plex_user_id", &user);
	}
	if ((why = profiles_check_name(name)) != NULL)
		json_object_object_add(fields, "name", json_object_new_string(why));
	why = profiles_check_user(ctx->db, user, &dberr);
	if (dberr)
		goto fail;
	if (why != NULL)
		json_object_object_add(fields, "plex_user_id", json_object_new_string(why));
	if (json_object_object_length(fields) > 0) {
		resp_error(ctx->resp, 400, "bad_request", "invalid profile", fields);
		return;
	}
	if (pts_db_begin(ctx->db) != 0 ||
	    pts_db_int(ctx->db, &taken, 0, "SELECT id FROM profiles WHERE plex_user_id = ?", "s",
	    json_object_get_string(user)) != 0)
		goto fail;
	if (taken != 0) {
		pts_db_rollback(ctx->db);
		json_object_put(fields);
		resp_conflict(ctx->resp, "exists", "that Plex user has a profile already",
		    "profile_id", taken);
		return;
	}
	if (pts_db_int(ctx->db, &count, 0, "SELECT COUNT(*) FROM profiles", "") != 0)
		goto fail;
	if (count >= PTS_PROFILES_MAX) {
		pts_db_rollback(ctx->db);
		json_object_put(fields);
		resp_conflict(ctx->resp, "limit", "a household holds at most " PROFILES_MAX_TEXT
		    " profiles: delete one first", NULL, 0);
		return;
	}
	/* A new id above every one ever given: a deleted profile's id never comes back. */
	if (pts_db_int(ctx->db, &id, 1, "SELECT MAX(COALESCE((SELECT MAX(id) FROM profiles), 1),"
	    " COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '"
	    PROFILES_META_LAST "'), 1)) + 1", "") != 0 ||
	    pts_db_run(ctx->db, "INSERT INTO profiles(id, name, plex_user_id, created_at)"
	    " VALUES(?, ?, ?, ?)", "issi", id, json_object_get_string(name),
	    json_object_get_string(user), pts_now()) != 0 ||
	    pts_db_run(ctx->db, "INSERT INTO meta(key, value) VALUES('" PROFILES_META_LAST "', ?)"
	    " ON CONFLICT(key) DO UPDATE SET value = excluded.value", "i", id) != 0 ||
	    pts_db_commit(ctx->db) != 0)
		goto fail;
	/* Its file now, so a failure shows here and not on its first sync. */
	if (dbc_profile(id, &pdb) != 0) {
		(void)pts_db_run(ctx->db, "DELETE FROM profiles WHERE id = ?", "i", id);
		goto fail;
	}
	pts_log(PTS_LOG_INFO, "profile %lld created for Plex user %s", (long long)id,
	    json_object_get_string(user));
	/* Its Plex token comes from the owner's account (worker/jobs/job_plexusers.h). */
	if (pts_jobs_enqueue_once(ctx->db, PTS_JOB_PLEX_USERS, NULL, NULL) != 0)
		pts_log(PTS_LOG_WARN, "profile %lld: its Plex token could not be queued", (long long)id);
	json_object_put(fields);
	o = json_object_new_object();
	pts_json_add_int(o, "id", id);
	resp_json(ctx->resp, 201, o);
	return;
fail:
	pts_db_rollback(ctx->db);
	json_object_put(fields);
	resp_internal(ctx->resp);
}

/* ==== DELETE ==== */

/*
 * DELETE /api/profiles/{id} {"confirm": name}: in one transaction of pts.db its queued jobs
 * and now-playing rows go, a running job of it (its sync) is told to stop, the revocation of
 * its Trakt token is queued (a sign-out job on the Trakt lane: it runs once that sync has
 * stopped) and its row goes; then its file is removed. Nothing of another profile changes.
 */
void
h_profiles_delete(struct hctx *ctx)
{
	char *name = NULL, *token = NULL, path[PTS_PATH_MAX];
	const char *confirm = pts_json_str(ctx->body, "confirm");
	sqlite3 *pdb = NULL;
	json_object *o;
	int rc;

	if (pts_db_text(ctx->db, &name, "SELECT name FROM profiles WHERE id = ?", "i",
	    ctx->id) != 0)
		goto fail;
	if (name == NULL) {
		resp_error(ctx->resp, 404, "not_found", "no such profile", NULL);
		return;
	}
	if (ctx->id == PTS_PROFILE_OWNER) {
		free(name);
		resp_conflict(ctx->resp, "owner", "profile 1 is the owner's and cannot be deleted",
		    NULL, 0);
		return;
	}
	if (confirm == NULL || strcmp(confirm, name) != 0) {
		free(name);
		resp_bad_field(ctx->resp, "bad_request", "confirm", "must be the profile's name");
		return;
	}
	if ((rc = dbc_profile(ctx->id, &pdb)) != 0 || pts_db_text(pdb, &token,
	    "SELECT access_token FROM auth WHERE service = 'trakt'", "") != 0)
		goto fail;
	if (pts_db_begin(ctx->db) != 0 ||
	    pts_db_run(ctx->db, "UPDATE jobs SET cancel = 1 WHERE profile = ? AND state ="
	    " 'running'", "i", ctx->id) != 0 ||
	    pts_db_run(ctx->db, "DELETE FROM jobs WHERE profile = ? AND state != 'running'", "i",
	    ctx->id) != 0 ||
	    pts_db_run(ctx->db, "DELETE FROM now_playing WHERE profile = ?", "i", ctx->id) != 0 ||
	    pts_db_run(ctx->db, "DELETE FROM profiles WHERE id = ?", "i", ctx->id) != 0)
		goto fail;
	if (token != NULL && *token != '\0') {
		json_object *args = json_object_new_object();

		pts_json_add_str(args, "access_token", token);
		/* On pts.db's connection: a job of profile 1, with the installation's client. */
		rc = pts_jobs_enqueue(ctx->db, PTS_JOB_SIGNOUT_TRAKT, json_object_to_json_string_ext(
		    args, JSON_C_TO_STRING_PLAIN), NULL);
		json_object_put(args);
		if (rc != 0)
			goto fail;
	}
	if (pts_db_commit(ctx->db) != 0)
		goto fail;
	dbc_profile_forget(ctx->id);
	if (pts_db_profile_remove(pts_paths_data_dir(), ctx->id) != 0)
		goto fail;
	pts_db_profile_path(pts_paths_data_dir(), ctx->id, path, sizeof(path));
	pts_log(PTS_LOG_INFO, "profile %lld (%s) deleted with its file %s", (long long)ctx->id,
	    name, path);
	o = json_object_new_object();
	pts_json_add_int(o, "id", ctx->id);
	resp_json(ctx->resp, 200, o);
	goto out;
fail:
	pts_db_rollback(ctx->db);
	resp_internal(ctx->resp);
out:
	free(name);
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
}

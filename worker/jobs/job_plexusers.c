/*
 * job_plexusers.c - the plex_users job: who is on the server, and each profile's Plex token.
 */
#include "job_plexusers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "dbprofile.h"
#include "job_end.h"
#include "log.h"
#include "paths.h"
#include "plex.h"
#include "plex_lists.h"
#include "plexusers.h"
#include "profauth.h"

/* Longest reason stored for a profile without a Plex token (shown by /api/auth/plex). */
#define PLEXUSERS_WHY_MAX 384

/* Replace the plex_users rows with u in one transaction. 0 or -1. */
static int
plexusers_store(sqlite3 *db, const struct pts_pusers *u)
{
	int64_t now = pts_now();
	size_t i;

	if (pts_db_begin(db) != 0)
		return -1;
	if (pts_db_run(db, "DELETE FROM plex_users", "") != 0)
		goto fail;
	for (i = 0; i < u->n; i++) {
		const struct pts_puser *p = &u->v[i];

		if (pts_db_run(db, "INSERT INTO plex_users(id, uuid, title, username, kind,"
		    " server_token, account_token, fetched_at) VALUES(?, NULLIF(?, ''), ?,"
		    " NULLIF(?, ''), ?, ?, ?, ?)", "sssssssi", p->id, p->uuid, p->title, p->username,
		    pts_pusers_kind_name(p->kind), p->token, p->account_token, now) != 0)
			goto fail;
	}
	if (pts_db_commit(db) != 0)
		goto fail;
	return 0;
fail:
	pts_db_rollback(db);
	return -1;
}

/* Give profile id (whose Plex user is uid) its person's token, or say why it has none. */
static int
plexusers_profile(int64_t id, const char *uid, struct pts_pusers *u)
{
	struct pts_puser *p = pts_pusers_find(u, uid);
	char why[PLEXUSERS_WHY_MAX];
	sqlite3 *pdb = NULL;
	int rc;

	if (pts_db_open_profile(pts_paths_data_dir(), id, &pdb) != 0) {
		PTS_ERROR("profile %lld: cannot open its file to store its Plex token", (long long)id);
		return -1;
	}
	if (p != NULL && p->token != NULL) {
		/* The owner's server token is their plex.tv account token too. */
		rc = pts_profauth_set_plex(pdb, p->token, p->kind == PTS_PUSER_OWNER ? p->token :
		    p->account_token, p->title, NULL);
		if (rc == 0)
			PTS_INFO("profile %lld: Plex token of %s stored (%s)", (long long)id, p->title,
			    p->account_token != NULL || p->kind == PTS_PUSER_OWNER ? "with their plex.tv"
			    " account token" : "no plex.tv account token: their account watchlist cannot"
			    " be read");
	} else {
		if (p == NULL)
			snprintf(why, sizeof(why), "Plex user %s is no longer on this server's list at"
			    " plex.tv", uid);
		else if (p->is_protected)
			snprintf(why, sizeof(why), "%s has no access to this Plex server (a Home user"
			    " with a PIN must be shared the server)", p->title);
		else
			snprintf(why, sizeof(why), "%s has no access to this Plex server", p->title);
		rc = pts_profauth_set_plex(pdb, NULL, NULL, p != NULL ? p->title : NULL, why);
		if (rc == 0)
			PTS_WARN("profile %lld: no Plex token: %s", (long long)id, why);
	}
	pts_db_close(pdb);
	return rc;
}

/*
 * Every profile N > 1 from u. Their list is read whole first: no read of pts.db stays open
 * while a profile's file is written and the outcome logged. 0, or -1 when one could not be
 * written (logged).
 */
static int
plexusers_profiles(sqlite3 *db, struct pts_pusers *u)
{
	int64_t ids[PTS_PROFILES_MAX];
	int n = pts_db_profile_ids(db, PTS_PROFILE_OWNER + 1, ids, PTS_PROFILES_MAX), i, rc = 0;

	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		char *uid = NULL;

		if (pts_db_text(db, &uid, "SELECT plex_user_id FROM profiles WHERE id = ?", "i",
		    ids[i]) != 0) {
			rc = -1;
			continue;
		}
		/* Gone since the list was read, or not paired with a Plex user. */
		if (uid != NULL && plexusers_profile(ids[i], uid, u) != 0)
			rc = -1;
		free(uid);
	}
	return rc;
}

int
pts_job_plex_users(struct pts_wctx *w, json_object *args)
{
	char client_id[PTS_PLEXTV_CLIENT_ID_LEN], machine[PTS_PLEXL_MACHINE_LEN];
	struct pts_pusers u = { 0 };
	struct pts_plex *c = NULL;
	enum pts_http_result r;
	char *token = NULL;
	int rc = PTS_JOB_FAILED;

	(void)args;
	if (pts_db_profile(w->db) != PTS_PROFILE_OWNER) {
		PTS_ERROR("plex users: the job runs for the owner's profile only");
		return PTS_JOB_FAILED;
	}
	if (pts_db_text(w->db, &token, "SELECT access_token FROM auth WHERE service = 'plex'"
	    " AND state = 'authorized'", "") != 0)
		return PTS_JOB_FAILED;
	if (token == NULL || token[0] == '\0') {
		PTS_ERROR("plex users: the owner is not signed in to plex.tv");
		goto done;
	}
	if (pts_plextv_client_id(w->db, client_id, sizeof(client_id)) != 0 ||
	    (c = pts_plex_open(w)) == NULL)
		goto done;
	r = pts_plexl_machine_id(c, machine, sizeof(machine));
	if (r != PTS_HTTP_OK) {
		PTS_ERROR("plex users: the server's identity is unknown (%s)", pts_http_result_name(r));
		rc = pts_job_result(w, r);
		goto done;
	}
	PTS_INFO("reading the server's people from plex.tv");
	r = pts_pusers_fetch(w, client_id, token, machine, &u);
	if (r != PTS_HTTP_OK) {
		PTS_ERROR("plex users not refreshed: %s", pts_http_result_name(r));
		rc = pts_job_result(w, r);
		goto done;
	}
	if (plexusers_store(w->db, &u) != 0)
		goto done;
	PTS_INFO("plex users refreshed: %zu people on this server", u.n);
	rc = plexusers_profiles(w->db, &u) == 0 ? PTS_JOB_DONE : PTS_JOB_FAILED;
done:
	pts_pusers_free(&u);
	pts_plex_close(c);
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	return pts_job_end(w, rc);
}

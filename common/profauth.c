/*
 * profauth.c - the Plex sign-in rows of profiles N > 1.
 */
#include "profauth.h"

#include <stdlib.h>

#include "clock.h"
#include "db.h"
#include "dbprofile.h"
#include "log.h"
#include "paths.h"

int
pts_profauth_set_plex(sqlite3 *pdb, const char *token, const char *acct, const char *user,
    const char *why)
{
	if (token != NULL)
		return pts_db_run(pdb, "UPDATE main.auth SET state = 'authorized', access_token = ?,"
		    " account_token = ?, user = ?, error = NULL, code = NULL, url = NULL,"
		    " flow_id = NULL, poll_interval = NULL, flow_expires_at = NULL,"
		    " refresh_token = NULL, token_expires_at = NULL,"
		    " gen = gen + (access_token IS NOT ? OR account_token IS NOT ?), updated_at = ?"
		    " WHERE service = 'plex'", "sssssi", token, acct, user, token, acct, pts_now());
	return pts_db_run(pdb, "UPDATE main.auth SET state = 'error', access_token = NULL,"
	    " account_token = NULL, user = ?, error = ?, code = NULL, url = NULL, flow_id = NULL,"
	    " poll_interval = NULL, flow_expires_at = NULL, refresh_token = NULL,"
	    " token_expires_at = NULL, gen = gen + (access_token IS NOT NULL), updated_at = ?"
	    " WHERE service = 'plex'", "ssi", user, why, pts_now());
}

int
pts_profauth_forget_plex(sqlite3 *db, const char *why)
{
	int64_t ids[PTS_PROFILES_MAX];
	int n, i, rc = 0;

	if (pts_db_run(db, "UPDATE plex_users SET server_token = NULL,"
	    " account_token = NULL", "") != 0)
		return -1;
	/* Read whole first: no read of pts.db stays open while the profiles' files are written. */
	if ((n = pts_db_profile_ids(db, PTS_PROFILE_OWNER + 1, ids, PTS_PROFILES_MAX)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		sqlite3 *pdb = NULL;

		if (pts_db_open_profile(pts_paths_data_dir(), ids[i], &pdb) != 0) {
			pts_log(PTS_LOG_ERROR, "profile %lld: cannot open its file to forget its Plex"
			    " token", (long long)ids[i]);
			rc = -1;
			continue;
		}
		if (pts_db_run(pdb, "UPDATE main.auth SET state = 'none', access_token = NULL,"
		    " account_token = NULL, user = NULL, error = ?, gen = gen + 1, updated_at = ?"
		    " WHERE service = 'plex' AND (access_token IS NOT NULL OR account_token IS NOT"
		    " NULL)", "si", why, pts_now()) != 0)
			rc = -1;
		else if (sqlite3_changes(pdb) > 0)
			pts_log(PTS_LOG_INFO, "profile %lld: its Plex token was forgotten with the"
			    " owner's", (long long)ids[i]);
		pts_db_close(pdb);
	}
	return rc;
}

/*
 * scrobble_route.h - households: the profile a live stream or a webhook play goes to.
 *
 * A Plex user who has a profile (profiles.plex_user_id) plays for that profile: its Trakt
 * account, its ledger, its settings. Anyone else follows scrobble_users as before: the
 * owner's plays (and with "all" everybody's) go to profile 1, the rest nowhere.
 *
 * The live scrobbler runs on the owner's connection; for a stream of profile N it works
 * through a context like its own whose database is profile N's connection (the installation
 * tables, now_playing and jobs, stay reachable through it: dbprofile.h). Those connections
 * are opened on first use and closed by pts_sroute_release() at the end of each poll, so a
 * profile deleted or re-paired in between is never used stale.
 *
 * Ownership: the route owns the connections and contexts it hands out; the home context is
 * borrowed.
 */
#ifndef PTS_SCROBBLE_ROUTE_H
#define PTS_SCROBBLE_ROUTE_H

#include <sqlite3.h>
#include <stdint.h>

#include "wctx.h"

/* Profiles' connections open at once during one poll (a household is a handful). */
#define PTS_SROUTE_MAX 16

struct pts_sroute_slot {
	int64_t id;
	sqlite3 *db;
	struct pts_wctx w;           /* the home context with db = this profile's connection */
};

struct pts_sroute {
	struct pts_wctx *home;       /* the job's own (profile 1) */
	struct pts_sroute_slot v[PTS_SROUTE_MAX];
	int n;
};

void pts_sroute_init(struct pts_sroute *rt, struct pts_wctx *home);

/*
 * The profile a play of Plex user user_id (may be NULL) goes to: the profile paired with that
 * user, else 1 when the play is the owner's (is_owner) or all_users, else 0 (ignored). A
 * database error counts as no pairing (logged).
 */
int64_t pts_sroute_profile(sqlite3 *db, const char *user_id, int is_owner, int all_users);

/* The context to work for profile id (1: the home one); NULL when it cannot be opened. */
struct pts_wctx *pts_sroute_wctx(struct pts_sroute *rt, int64_t id);

/* Close the profiles' connections (end of a poll, end of the job). */
void pts_sroute_release(struct pts_sroute *rt);

#endif

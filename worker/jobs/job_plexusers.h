/*
 * job_plexusers.h - the plex_users job: the server's people from plex.tv, and each profile's
 * Plex token.
 *
 * With the owner's plex.tv token (profile 1's 'plex' auth row) and our server's
 * machineIdentifier (GET /identity), plexusers.h fetches the people of the server with their
 * server tokens. The plex_users table is replaced in one transaction; then every profile
 * N > 1 gets its person's token in the 'plex' auth row of its own file (profauth.h), or an
 * error saying why it has none. Queued by POST /api/plex/users/refresh, a new profile and
 * the owner's Plex sign-in. Runs on the owner's connection only. No token is logged.
 *
 * Handler as in wctx.h: an enum pts_job_result.
 */
#ifndef PTS_JOB_PLEXUSERS_H
#define PTS_JOB_PLEXUSERS_H

#include "wctx.h"

int pts_job_plex_users(struct pts_wctx *w, json_object *args);

#endif

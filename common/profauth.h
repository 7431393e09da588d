/*
 * profauth.h - households: the Plex sign-in of profiles N > 1, which comes from the owner's.
 *
 * Only the owner signs in to plex.tv; every other person's token for the server is read from
 * plex.tv with the owner's token (the worker's plex_users job, worker/upstream/plexusers.h)
 * and kept in the 'plex' auth row of that person's profile file, where the Plex client finds
 * it as it finds the owner's. These functions write those rows: one profile at a time, or
 * every profile N > 1 at once when the owner's sign-in ends (sign-out, another server), since
 * the tokens came from it. Each write bumps the row's generation when the token changes, so
 * a running job of that profile stops using the old one (authgen.h).
 *
 * Tokens are never logged. Failures are logged here with the cause.
 */
#ifndef PTS_PROFAUTH_H
#define PTS_PROFAUTH_H

#include <sqlite3.h>
#include <stdint.h>

/*
 * On a profile's connection: its Plex sign-in is token (state authorized, user = the person's
 * title) with acct, the person's plex.tv account token for plex.tv's own services (the
 * account watchlist), or NULL when they have none (a friend, a Home user with a PIN); or,
 * with token NULL, an error with the reason why (shown by /api/auth/plex) and no token of
 * either kind. 0 or -1.
 */
int pts_profauth_set_plex(sqlite3 *pdb, const char *token, const char *acct, const char *user,
    const char *why);

/*
 * On the installation's connection: forget the Plex token of every profile N > 1 (their
 * auth rows go to 'none' with why as the error, their account tokens too) and the server and
 * account tokens kept in plex_users.
 * Profiles whose file cannot be opened are logged and skipped. 0, or -1 when one failed.
 */
int pts_profauth_forget_plex(sqlite3 *db, const char *why);

#endif

/*
 * plexusers.h - the other people on the Plex server, as plex.tv lists them for its owner, and
 * each one's token for this server (docs/UPSTREAM.md, "The other people on a server").
 *
 * With the owner's plex.tv token (XML answers, read with plexxml.h):
 *   GET  /api/home/users                          the Plex Home, owner included
 *   GET  /api/users/                              friends and Home users with their Server
 *                                                 children: kept when one is our server
 *   GET  /api/servers/{machine}/shared_servers    SharedServer {userID, accessToken}: each
 *                                                 user's token for this server
 * Every Home or managed user is switched to, once per fetch, for their plex.tv account token
 * (what plex.tv's discover service takes for their account watchlist; a server token is
 * refused there):
 *   POST /api/home/users/{id}/switch              user {authenticationToken} (plex.tv only)
 * and, when missing from shared_servers, their server token is read with it:
 *   GET  /api/v2/resources?includeHttps=1         with that token: our server (clientIdentifier
 *                                                 = machine) and its accessToken
 * (a PIN-protected Home user cannot be switched to without the PIN: no account token, and no
 * server token unless shared_servers has one). A friend has no account token we can get.
 * The owner's server token is the owner's own (it is their account token too). kind: admin="1" owner, restricted="1" managed,
 * home="1" (or listed in the Home) home, else shared.
 *
 * Ownership: a struct pts_pusers owns its array and each token; pts_pusers_free() releases
 * them (NULL safe). Tokens are never logged.
 */
#ifndef PTS_PLEXUSERS_H
#define PTS_PLEXUSERS_H

#include <stddef.h>

#include "http.h"
#include "wctx.h"

/* People of one server accepted from plex.tv (a Home holds 15; friends are few). */
#define PTS_PUSERS_MAX 100
/* Longest plex.tv answer read (a user entry is under 1 kB). */
#define PTS_PUSERS_MAX_BYTES (2L * 1024 * 1024)
/* Longest user id (decimal digits) and uuid, plus NUL. */
#define PTS_PUSERS_ID_LEN 32
#define PTS_PUSERS_UUID_LEN 64
/* Longest title or user name kept (cut at a character boundary). */
#define PTS_PUSERS_TEXT_LEN 256
/* Switches (one per Home or managed user) per refresh. */
#define PTS_PUSERS_MAX_SWITCHES 20

enum pts_puser_kind {
	PTS_PUSER_OWNER,
	PTS_PUSER_HOME,
	PTS_PUSER_MANAGED,
	PTS_PUSER_SHARED
};

struct pts_puser {
	char id[PTS_PUSERS_ID_LEN];
	char uuid[PTS_PUSERS_UUID_LEN];
	char title[PTS_PUSERS_TEXT_LEN];       /* never empty (the user name when untitled) */
	char username[PTS_PUSERS_TEXT_LEN];    /* may be empty (managed users have none) */
	enum pts_puser_kind kind;
	int is_protected;                      /* a Home PIN is set */
	char *token;                           /* the user's token for this server, or NULL */
	char *account_token;                   /* Home/managed: their plex.tv token, or NULL */
};

struct pts_pusers {
	struct pts_puser *v;
	size_t n;
};

void pts_pusers_free(struct pts_pusers *u);

/* "owner", "home", "managed", "shared" (the plex_users.kind values). */
const char *pts_pusers_kind_name(enum pts_puser_kind k);

/* The user with id, or NULL. */
struct pts_puser *pts_pusers_find(struct pts_pusers *u, const char *id);

/*
 * Fetch the server's people with the owner's plex.tv token into *out (emptied first), each
 * with its server token and (Home and managed users) its account token where one could be
 * had. machine is our server's machineIdentifier. A failed switch leaves that one user
 * without an account token, and without a server token unless shared_servers gave one
 * (logged); a failed listing fails the whole call.
 */
enum pts_http_result pts_pusers_fetch(struct pts_wctx *w, const char *client_id,
    const char *owner_token, const char *machine, struct pts_pusers *out);

/* ==== Pure parsing (tests) ==== */

/* Add the User elements of /api/home/users. 0, or -1 when malformed or over the limit. */
int pts_pusers_parse_home(const char *xml, size_t len, struct pts_pusers *out);
/* Add the User elements of /api/users/ with a Server child of machine, not already in out. */
int pts_pusers_parse_friends(const char *xml, size_t len, const char *machine,
    struct pts_pusers *out);
/* Give each user of u its SharedServer accessToken (by userID). Tokens set, or -1. */
int pts_pusers_parse_shared(const char *xml, size_t len, struct pts_pusers *u);
/* The authenticationToken of a switch answer into *token (malloc'd). 0 or -1. */
int pts_pusers_parse_switch(const char *xml, size_t len, char **token);
/*
 * The accessToken of the resource (element resource or Device) whose clientIdentifier is
 * machine, into *token (malloc'd). 0, 1 when the server is not listed, -1 when malformed.
 */
int pts_pusers_parse_resources(const char *xml, size_t len, const char *machine, char **token);

#endif

/*
 * plexhook.h - what a Plex webhook payload means to us (pure: no I/O, no database).
 *
 * Plex posts every event of the account (play, pause, rate, scrobble, ...); only
 * media.scrobble of a movie or an episode (the play passed 90 %) becomes work: a
 * webhook_scrobble job whose args keep the few Metadata fields the worker needs, in Plex's
 * own shape, so the worker reads them with the same parser as a library listing:
 *
 *   {"received_at": epoch, "account": s|null, "server_uuid": s (Server.uuid, when usable),
 *    "metadata": {"ratingKey", "type", "title", "year", "guid", "Guid": [{"id"}],
 *                 "grandparentTitle", "grandparentGuid", "grandparentRatingKey",
 *                 "parentIndex", "index", "lastViewedAt", "viewedAt", "duration"}}
 *
 * A play of another account (a shared user on the owner's server: "user": false) is ignored,
 * so nobody's plays land on the owner's Trakt. Strings over PLEXHOOK_STR_MAX and Guid
 * entries past PLEXHOOK_MAX_GUIDS are dropped, never cut.
 */
#ifndef PTS_CGI_PLEXHOOK_H
#define PTS_CGI_PLEXHOOK_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "str.h"

/* The one event that is acted on. */
#define PLEXHOOK_EVENT_SCROBBLE "media.scrobble"
/* Longest string field copied into the job (titles, guids). */
#define PLEXHOOK_STR_MAX 512
/* Longest ratingKey (Plex's are decimal numbers). */
#define PLEXHOOK_KEY_MAX 32
/* Server.uuid: a machineIdentifier (40 hex digits on real servers). */
#define PLEXHOOK_UUID_MAX 64
#define PLEXHOOK_UUID_CHARS PTS_STR_ID_CHARS
/* Longest running time copied (ms): a day. */
#define PLEXHOOK_DURATION_MAX_MS INT64_C(86400000)
/* Guid entries copied (an item has three or four). */
#define PLEXHOOK_MAX_GUIDS 16

enum plexhook_verdict {
	PLEXHOOK_QUEUE,   /* *args is the job's arguments */
	PLEXHOOK_IGNORE,  /* an event we do not act on; *why says which */
	PLEXHOOK_BAD      /* a scrobble we cannot use, or not a Plex payload; *why says why */
};

/*
 * Decide what a parsed payload asks for. On PLEXHOOK_QUEUE *args is a new object the caller
 * puts; otherwise *args is NULL. *why is a short static reason (NULL for QUEUE).
 */
enum plexhook_verdict plexhook_read(json_object *payload, int64_t now, json_object **args,
    const char **why);

/*
 * The same, taking another account's play ("user": false) when paired = 1: the account has a
 * profile of its own (households), or scrobble_users is "all". Else it is ignored.
 */
enum plexhook_verdict plexhook_read_as(json_object *payload, int64_t now, int paired,
    json_object **args, const char **why);

/* Account.id (decimal digits: 1 is the server's owner) into buf. 0, or -1 when absent. */
int plexhook_account_id(json_object *payload, char *buf, size_t len);

#endif

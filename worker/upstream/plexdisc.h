/*
 * plexdisc.h - the Plex account's watchlist on plex.tv's discover and metadata services.
 *
 * The watchlist every Plex app shows belongs to the account, not to a server
 * (docs/UPSTREAM.md, "Plex account watchlist"). Requests carry the plex.h client's
 * acct_headers (the person's plex.tv account token, client identifier, product; a person's
 * server token is refused there) and go to:
 *
 *   PTS_PLEX_DISCOVER_URL (https://discover.provider.plex.tv)
 *     GET /library/sections/watchlist/all?includeCollections=0&includeExternalMedia=0
 *         &sort=watchlistedAt:desc&X-Plex-Container-Start=&X-Plex-Container-Size=
 *     PUT /actions/addToWatchlist?ratingKey=, PUT /actions/removeFromWatchlist?ratingKey=
 *     GET /library/search?query=&searchTypes=movies|tv&searchProviders=discover
 *         &includeMetadata=1
 *   PTS_PLEX_METADATA_URL (https://metadata.provider.plex.tv)
 *     GET /library/metadata/<id>?includeGuids=1     the entry's Guid[] (imdb, tmdb, tvdb)
 *
 * Ownership: a pts_pdisc_list is the caller's, freed with pts_pdisc_list_free().
 */
#ifndef PTS_PLEXDISC_H
#define PTS_PLEXDISC_H

#include <stddef.h>
#include <stdint.h>

#include "guid.h"
#include "http.h"
#include "plex.h"

/* Entries asked for per watchlist page. */
#define PTS_PDISC_PAGE_SIZE 100
/* Pages before we call it a loop (PAGE_SIZE * this entries). */
#define PTS_PDISC_MAX_PAGES 200
/* Longest plex:// id (24 hex digits today) accepted. */
#define PTS_PDISC_ID_LEN 64
/* Search results looked through for a match by ids. */
#define PTS_PDISC_SEARCH_MAX 30

struct pts_pdisc_entry {
	char id[PTS_PDISC_ID_LEN];           /* the ratingKey: the plex:// id's last part */
	char guid[PTS_PDISC_ID_LEN + 32];    /* "plex://movie/<id>" */
	int is_show;
	int year;                            /* 0 when absent */
	char *title;                         /* malloc'd, may be NULL */
	int64_t watchlisted_at;              /* epoch; 0 when absent */
};

struct pts_pdisc_list {
	struct pts_pdisc_entry *v;
	size_t n, cap;
	int64_t total;                       /* totalSize of the last page read */
	int64_t newest;                      /* newest watchlistedAt seen (0: none) */
};

/* Longest reason pts_pdisc_usable() gives. */
#define PTS_PDISC_WHY_LEN 512

/*
 * 1 when the client has the person's plex.tv account token, which every call below needs;
 * 0 with the reason in why (naming the person; never a token) when it does not: a friend
 * and a Home user with a PIN have none, so their account watchlist cannot be read.
 */
int pts_pdisc_usable(const struct pts_plex *c, char *why, size_t len);

/*
 * Every movie and show on the account's watchlist, page by page into out (zeroed first).
 * max_pages 0: all (up to PTS_PDISC_MAX_PAGES); 1 with size: one page of that size.
 */
enum pts_http_result pts_pdisc_watchlist(struct pts_plex *c, size_t size, size_t max_pages,
    struct pts_pdisc_list *out);
void pts_pdisc_list_free(struct pts_pdisc_list *l);

/* The external ids of a discover entry (metadata service Guid[]) merged into ids. */
enum pts_http_result pts_pdisc_ids(struct pts_plex *c, const char *id, struct pts_ids *ids);

/*
 * Find an item on the discover service by title, confirmed by ids (never by title alone):
 * the id of the first result whose Guid[] matches want into id; id[0] = '\0' when none did.
 */
enum pts_http_result pts_pdisc_search(struct pts_plex *c, const char *title, int is_show,
    const struct pts_ids *want, char *id, size_t len);

/* Add to (remove 0) or take off (remove 1) the watchlist. "Already there" / "not there"
 * answers (400, 404, 409) count as done. */
enum pts_http_result pts_pdisc_set(struct pts_plex *c, const char *id, int remove);

#endif

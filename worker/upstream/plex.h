/*
 * plex.h - the Plex Media Server client (JSON only).
 *
 * Every call sends Accept: application/json, X-Plex-Token (the 'plex' auth row),
 * X-Plex-Client-Identifier and X-Plex-Product (plex.tv's own services get the person's
 * account token instead: acct_headers). Listings are paged with
 * X-Plex-Container-Start/Size (sent as headers and query) by offset + items received against
 * totalSize; a page with no items ends the listing, so a server that miscounts cannot loop
 * us. Items go to a callback one at a time and the page's JSON is freed before the next one
 * is fetched: a 50k-episode library never sits in memory as JSON.
 *
 * Ownership: pts_plex_open() returns a client the caller frees with pts_plex_close() (NULL
 * safe). Strings inside a struct pts_plex_item are borrowed from the page being delivered
 * and valid only during the callback: copy what you keep.
 */
#ifndef PTS_PLEX_H
#define PTS_PLEX_H

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdint.h>

#include "guid.h"
#include "http.h"
#include "plextv.h"
#include "wctx.h"

/*
 * Items asked for per listing page: calls against memory. A page is parsed whole, so its JSON
 * tree (several MB for 1,000 items) is the largest thing a sync holds; 1,000 keeps the first
 * sync of a 50k-item library within its read budget (tests/bench: 100 reads) with room to spare.
 */
#define PTS_PLEX_PAGE_SIZE 1000
/* Longest wait for one listing page (a big page of a slow NAS takes a while). */
#define PTS_PLEX_PAGE_TIMEOUT_S 180
/* Pages per listing before we call it a loop (PAGE_SIZE * this = 20M items). */
#define PTS_PLEX_MAX_PAGES 20000
/* Largest totalSize believed (all we would ever page through): counts are summed and divided. */
#define PTS_PLEX_TOTAL_MAX ((int64_t)PTS_PLEX_PAGE_SIZE * PTS_PLEX_MAX_PAGES)
/* Continue Watching entries asked for. */
#define PTS_PLEX_CONTINUE_MAX 50
/* Sections accepted from /library/sections. */
#define PTS_PLEX_MAX_SECTIONS 256
#define PTS_PLEX_KEY_LEN 32
#define PTS_PLEX_TITLE_LEN 256

/* Plex metadata types for listings. */
#define PTS_PLEX_TYPE_MOVIE 1
#define PTS_PLEX_TYPE_SHOW 2
#define PTS_PLEX_TYPE_SEASON 3
#define PTS_PLEX_TYPE_EPISODE 4

struct pts_plex {
	struct pts_wctx *w;
	char *base;                          /* plex_url without a trailing "/" */
	char client_id[PTS_PLEXTV_CLIENT_ID_LEN];
	struct curl_slist *headers;          /* X-Plex-* (token included when signed in) */
	/*
	 * The same for plex.tv's discover and metadata services (plexdisc.h), with the person's
	 * plex.tv account token: the owner's is their sign-in token, a profile N > 1 has its
	 * auth.account_token (a server token does not do there). NULL when there is none.
	 */
	struct curl_slist *acct_headers;
	/* Without an account token: whose sign-in it is (auth.user), for the reason; may be "". */
	char person[PTS_PLEX_TITLE_LEN];
	int has_token;
	int64_t auth_gen;                    /* auth.gen when the token was read (authgen.h) */
};

/*
 * 1 while the Plex sign-in the client was opened with still holds (always without a token);
 * 0 after a sign-out: the job is marked cancelled and no request may be sent.
 */
int pts_plex_still_signed_in(struct pts_plex *c);

struct pts_plex_section {
	char key[PTS_PLEX_KEY_LEN];
	char title[PTS_PLEX_TITLE_LEN];
	char type[16];                       /* "movie", "show", "artist", "photo", ... */
	char agent[128];
};

/* Listing filters (UPSTREAM.md "Filters"); zero fields are not sent. */
struct pts_plex_filter {
	int watched_only;                    /* viewCount>=1 */
	int64_t viewed_since;                /* lastViewedAt>>=EPOCH */
	int64_t updated_since;               /* updatedAt>>=EPOCH */
	int64_t rated_since;                 /* lastRatedAt>>=EPOCH */
};

struct pts_plex_item {
	const char *rating_key;              /* opaque; never NULL for a delivered item */
	const char *title;
	const char *type;                    /* "movie", "show", "season", "episode" */
	const char *guid;
	const char *grandparent_title;       /* episodes: the show */
	const char *grandparent_guid;
	const char *grandparent_rating_key;
	const char *parent_rating_key;       /* seasons: their show; episodes: their season */
	const char *parent_title;            /* seasons: the show's title */
	const char *thumb;                   /* a path on the server */
	int year;                            /* 0 when absent */
	int season;                          /* parentIndex (or from a legacy guid); seasons:
	                                        their index; -1 */
	int episode;                         /* index (or from a legacy guid); -1 (seasons too) */
	int64_t view_count;                  /* 0 when absent (unwatched) */
	int64_t last_viewed_at;              /* epoch seconds; 0 when absent */
	int64_t view_offset;                 /* ms; 0 when absent */
	int64_t duration;                    /* ms; 0 when absent */
	int64_t added_at, updated_at;
	double user_rating;                  /* 0..10; -1 when absent */
	int64_t last_rated_at;               /* lastRatedAt (epoch): when it was rated; 0 absent */
	struct pts_ids ids;                  /* the item's own ids (Guid array or legacy guid) */
	struct pts_ids show_ids;             /* episodes: the show's, from legacy guids */
	enum pts_guid_kind guid_kind;        /* of `guid` */
	int matched;                         /* 1 when some id lets us find it on Trakt */
};

/* Return 0 to go on, anything else to stop the listing (it then answers CANCELLED). */
typedef int (*pts_plex_item_fn)(void *ctx, const struct pts_plex_item *item);

/*
 * A client for the configured server: the plex_url setting, the 'plex' auth token (missing:
 * requests go without one, a warning is logged), the person's plex.tv account token
 * (acct_headers) and the client identifier. NULL with the cause logged when plex_url is not
 * set or not http(s).
 */
struct pts_plex *pts_plex_open(struct pts_wctx *w);
void pts_plex_close(struct pts_plex *c);

/* The library sections into a malloc'd array (*out, *n); the caller frees *out. */
enum pts_http_result pts_plex_sections(struct pts_plex *c, struct pts_plex_section **out,
    size_t *n);

/*
 * Count items of a type in a section, or in every library when section is NULL (container
 * size 0 → totalSize). filter may be NULL.
 */
enum pts_http_result pts_plex_count(struct pts_plex *c, const char *section, int type,
    const struct pts_plex_filter *filter, int64_t *total);

/* The same over every library of the server (GET /library/all?type=, as python-plexapi's
 * Library.search): one call tells whether anything of a type moved anywhere. */
enum pts_http_result pts_plex_count_all(struct pts_plex *c, int type,
    const struct pts_plex_filter *filter, int64_t *total);

/*
 * List a section's items of a type with includeGuids=1, page by page, calling fn for each.
 * *total (may be NULL) gets totalSize from the first page (-1 when the server gave none).
 */
enum pts_http_result pts_plex_list(struct pts_plex *c, const char *section, int type,
    const struct pts_plex_filter *filter, pts_plex_item_fn fn, void *ctx, int64_t *total);

/* Continue Watching (/hubs/continueWatching/items, /library/onDeck when that is 404). */
enum pts_http_result pts_plex_continue_watching(struct pts_plex *c, pts_plex_item_fn fn,
    void *ctx);

/* The ids of one item (GET /library/metadata/{rating_key}), e.g. a show's for a poster. */
enum pts_http_result pts_plex_item_ids(struct pts_plex *c, const char *rating_key,
    struct pts_ids *ids);
/*
 * The same, but only when the item's guid is expect_guid: a ratingKey from elsewhere (a
 * webhook) is never taken for whatever item has that key here. *match is 1 when it was;
 * ids stay empty otherwise.
 */
enum pts_http_result pts_plex_item_ids_if(struct pts_plex *c, const char *rating_key,
    const char *expect_guid, struct pts_ids *ids, int *match);

/* Mark an item watched (1) or unwatched (0). Plex stamps "now" as the view time. */
enum pts_http_result pts_plex_scrobble(struct pts_plex *c, const char *rating_key, int watched);

/* ==== Pure parsing (tests) ==== */

/* Fill it from one Metadata entry (strings borrowed from m). 0, or -1 when unusable. */
int pts_plex_parse_item(json_object *m, struct pts_plex_item *it);

/*
 * Deliver every usable item of a MediaContainer page to fn. *count gets the number of
 * Metadata entries (usable or not), *total the container's totalSize (-1 when absent).
 * Returns 0, 1 when fn asked to stop, -1 when the page is not a MediaContainer.
 */
int pts_plex_parse_page(json_object *root, pts_plex_item_fn fn, void *ctx, int64_t *count,
    int64_t *total);

#endif

/*
 * plex_lists.h - Plex writes beyond watched marks: ratings, resume points, and the
 * collection that stands for the Plex watchlist (on the plex.h client).
 *
 *   PUT  /:/rate?key=&identifier=&rating=          a rating 0..10 (-1 clears)
 *   PUT  /:/progress?key=&identifier=&time=&state=stopped   a resume point in ms
 *   GET  /identity                                 the machineIdentifier item URIs need
 *   GET  /library/sections/{key}/collections       a section's collections (by title here)
 *   GET  /library/collections/{rk}/children        a collection's items, paged
 *   POST /library/collections?type=&title=&smart=0&sectionId=&uri=   a new collection
 *   PUT  /library/collections/{rk}/items?uri=      add items
 *   DELETE /library/collections/{rk}/items/{item}  take one item out
 *
 * Item URIs are "server://<machineIdentifier>/com.plexapp.plugins.library/library/metadata/
 * <rk>[,<rk>...]". Creating a collection is the one write that is not idempotent: it is sent
 * once (PTS_HTTP_NON_IDEMPOTENT); a lost answer is found by title on the next sync.
 */
#ifndef PTS_PLEX_LISTS_H
#define PTS_PLEX_LISTS_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "plex.h"

/* Longest machineIdentifier accepted (real ones are 40 hex digits). */
#define PTS_PLEXL_MACHINE_LEN 128
/* Items per collection add (one URI lists them all). */
#define PTS_PLEXL_ADD_BATCH 100
/* Collections of one section looked through for the title. */
#define PTS_PLEXL_MAX_COLLECTIONS 2000

/* PUT /:/rate. rating 0..10, or -1 to clear it. */
enum pts_http_result pts_plexl_rate(struct pts_plex *c, const char *rating_key, double rating);

/* PUT /:/progress with state=stopped: the resume point (ms; 0 clears it). */
enum pts_http_result pts_plexl_progress(struct pts_plex *c, const char *rating_key, int64_t ms);

/* GET /identity: the server's machineIdentifier into buf. */
enum pts_http_result pts_plexl_machine_id(struct pts_plex *c, char *buf, size_t len);

/* The rating key of the section's collection named title (compared without ASCII case)
 * into rk; rk[0] = '\0' when the section has none. */
enum pts_http_result pts_plexl_collection_find(struct pts_plex *c, const char *section,
    const char *title, char *rk, size_t len);

/* Every item of a collection, page by page, to fn (as pts_plex_list delivers them). */
enum pts_http_result pts_plexl_collection_items(struct pts_plex *c, const char *collection,
    pts_plex_item_fn fn, void *ctx);

/* Create a collection of type (1 movies, 2 shows) in section holding rks[0..n) (n ≥ 1,
 * ≤ PTS_PLEXL_ADD_BATCH); its rating key into rk. */
enum pts_http_result pts_plexl_collection_create(struct pts_plex *c, const char *section,
    int type, const char *title, const char *machine, const char *const *rks, size_t n,
    char *rk, size_t len);

/* Add rks[0..n) (≤ PTS_PLEXL_ADD_BATCH) to a collection. */
enum pts_http_result pts_plexl_collection_add(struct pts_plex *c, const char *collection,
    const char *machine, const char *const *rks, size_t n);

/* Take one item out of a collection. */
enum pts_http_result pts_plexl_collection_remove(struct pts_plex *c, const char *collection,
    const char *rating_key);

#endif

/*
 * sync_watchlist.h - the Trakt watchlist both ways, with the Plex account's watchlist (or a
 * server collection) as Plex's side.
 *
 * watchlist_plex_side = account (the default): Plex's side is the account's watchlist on
 * plex.tv (plexdisc.h), read whole at open. An entry maps to Trakt ids through the server item
 * with the same plex:// guid, else the metadata service's Guid[] (kept in table plex_disc_ids,
 * read once per id). A Trakt movie or show the account lacks goes on it by its plex:// id:
 * a server item's guid with the same ids, else a discover search confirmed by ids; one not
 * found is a watchlist_add_plex change 'not_found' (run->not_found). Every account entry
 * counts, whether the server has it or not. Detail {"watchlist": "account"}.
 *
 * watchlist_plex_side = collection: Plex's side is a collection in each synced library named by
 * the setting
 * watchlist_collection ("Watchlist"): movies in movie libraries, shows in show libraries
 * (Trakt watchlist episodes and seasons have no place in Plex and are left alone). An item
 * is on the Plex watchlist when any copy of it is in its library's collection; an item added
 * from Trakt goes into the collection of the first library holding it (the collection is
 * created when missing).
 *
 * Additions and removals are told apart by what the last sync left on both sides (table
 * watchlist_state, one row per item that was on both watchlists):
 *
 *   on Trakt, on Plex                        nothing (remembered)
 *   on Trakt only, remembered                removed in Plex → watchlist_remove_trakt
 *   on Trakt only, new                       → watchlist_add_plex
 *   on Plex only, remembered                 removed on Trakt → watchlist_remove_plex
 *   on Plex only, new                        → watchlist_add_trakt
 *   on neither, remembered                   forgotten
 *
 * Only items found in the synced libraries count: an item Plex does not have is never
 * removed from Trakt. The first sync therefore only adds. The removal guard: when one run
 * would remove more than watchlist_remove_max_percent of a side's list (at least one item
 * always may go; 0 = never remove), none of that side's removals are made, a warning says
 * so, and the memory is kept, so every following run refuses the same until the setting or
 * the lists change (a renamed or deleted collection must not empty the Trakt watchlist).
 * A side only changes what sync_direction lets the sync write to.
 *
 * Changes: watchlist_add_trakt, watchlist_remove_trakt (POST /sync/watchlist[/remove] in
 * batches), watchlist_add_plex, watchlist_remove_plex (collection calls, plex_lists.h),
 * detail {"collection": "..."}; runs.watchlist_changed.
 */
#ifndef PTS_SYNC_WATCHLIST_H
#define PTS_SYNC_WATCHLIST_H

#include "feature.h"

#define PTS_ACT_WATCHLIST_ADD_TRAKT "watchlist_add_trakt"
#define PTS_ACT_WATCHLIST_REMOVE_TRAKT "watchlist_remove_trakt"
#define PTS_ACT_WATCHLIST_ADD_PLEX "watchlist_add_plex"
#define PTS_ACT_WATCHLIST_REMOVE_PLEX "watchlist_remove_plex"

/* Libraries whose collections one run looks at. */
#define PTS_WATCHLIST_MAX_SECTIONS 64

/*
 * The removal guard (pure): may `removals` items leave a list of `size` items, with at most
 * `percent` % per run? At least one item always may (percent > 0); percent 0: none.
 */
int pts_watchlist_removals_allowed(size_t removals, size_t size, int percent);

#endif

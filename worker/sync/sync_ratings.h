/*
 * sync_ratings.h - ratings both ways: Plex userRating (0..10) and Trakt ratings (1..10).
 *
 * Plex → Trakt rounds to an integer 1..10; Trakt → Plex sends the integer as is. Unrated is
 * not a rating: Plex 0 or no userRating, or no Trakt rating, is never copied as a removal.
 * When both sides rate an item differently the setting ratings_conflict decides:
 *   newest (default)  the later of Trakt's rated_at and the time we first saw Plex's value
 *                     (plex_seen.h; a Plex value of unknown age loses to a dated Trakt one)
 *   plex, trakt       that side always wins
 * Copies of one movie in several libraries are one item: the newest Plex value stands for
 * them, and every copy gets the winning value.
 *
 * Changes: rate_trakt (POST /sync/ratings in batches of PTS_TLIST_BATCH, with rated_at) and
 * rate_plex (PUT /:/rate), detail {"rating": n, "was": n|null}; runs.ratings_changed.
 */
#ifndef PTS_SYNC_RATINGS_H
#define PTS_SYNC_RATINGS_H

#include "feature.h"

#define PTS_ACT_RATE_TRAKT "rate_trakt"
#define PTS_ACT_RATE_PLEX "rate_plex"

/* Plex's 0..10 as Trakt's 1..10 (rounded); 0 when unrated (absent, 0 or below). */
int pts_ratings_to_trakt(double plex);

#endif

/*
 * idindex.h - a compact hash index from external ids to array positions.
 *
 * The engine loads Trakt's watched state (tens of thousands of entries) into arrays and
 * finds entries by any of their ids here, without per-item allocations: a key is a kind
 * (imdb, tmdb, tvdb, trakt, or an episode slot) and a 56-bit value, packed into one 64-bit
 * word; the value is a 32-bit position. Open addressing, linear probing, load ≤ 1/2.
 *
 * Ownership: pts_idx_init() allocates; pts_idx_free() releases (safe on a zeroed index).
 * The first position stored for a key wins (later puts of the same key are ignored).
 */
#ifndef PTS_IDINDEX_H
#define PTS_IDINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "guid.h"

enum pts_idx_kind {
	PTS_IDX_IMDB = 1,
	PTS_IDX_TMDB,
	PTS_IDX_TVDB,
	PTS_IDX_TRAKT,
	PTS_IDX_EPISODE   /* value: pts_idx_episode(show position, season, episode) */
};

/* Most entries an index takes (positions are 32-bit). */
#define PTS_IDX_MAX_ENTRIES (1u << 28)

struct pts_idx_slot {
	uint64_t key;     /* 0 = empty */
	int32_t pos;
};

struct pts_idx {
	struct pts_idx_slot *slots;
	size_t cap;       /* power of two */
	size_t used;
};

/* Room for about expected keys (grows when needed). 0 or -1. */
int pts_idx_init(struct pts_idx *x, size_t expected);
void pts_idx_free(struct pts_idx *x);

/* Store pos under (kind, value). value must be positive and < 2^56. 0 or -1 (no memory). */
int pts_idx_put(struct pts_idx *x, enum pts_idx_kind kind, uint64_t value, int32_t pos);
/* The position under (kind, value), or -1. */
int32_t pts_idx_get(const struct pts_idx *x, enum pts_idx_kind kind, uint64_t value);

/* "tt0111161" → 111161 (0 when not an imdb id). */
uint64_t pts_idx_imdb_value(const char *imdb);

/* Store pos under every id in ids. 0 or -1. */
int pts_idx_put_ids(struct pts_idx *x, const struct pts_ids *ids, int32_t pos);
/* The first position found for any id in ids (imdb, tmdb, tvdb, trakt order), or -1. */
int32_t pts_idx_get_ids(const struct pts_idx *x, const struct pts_ids *ids);

/* The parts of an episode slot stay below these (show position + 1 takes 25 bits, season
 * 14, episode 17: 56 in all, a key's value). */
#define PTS_IDX_EP_SHOWS ((1 << 25) - 1)
#define PTS_IDX_EP_SEASONS (1 << 14)
#define PTS_IDX_EP_EPISODES (1 << 17)

/* Pack an episode slot, or 0 (stored nowhere, found nowhere) when a part is negative or not
 * below its limit: a part cut to fit would name another episode. */
uint64_t pts_idx_episode(int32_t show_pos, int season, int episode);

#endif

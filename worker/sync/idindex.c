/*
 * idindex.c - compact id → position hash index.
 */
#include "idindex.h"

#include <stdlib.h>
#include <string.h>

static uint64_t
idx_key(enum pts_idx_kind kind, uint64_t value)
{
	return ((uint64_t)kind << 56) | (value & ((UINT64_C(1) << 56) - 1));
}

/* splitmix64 finalizer: good spread for sequential ids. */
static uint64_t
idx_hash(uint64_t k)
{
	k ^= k >> 30;
	k *= UINT64_C(0xbf58476d1ce4e5b9);
	k ^= k >> 27;
	k *= UINT64_C(0x94d049bb133111eb);
	k ^= k >> 31;
	return k;
}

int
pts_idx_init(struct pts_idx *x, size_t expected)
{
	size_t cap = 64;

	while (cap < expected * 2 && cap < (size_t)PTS_IDX_MAX_ENTRIES * 2)
		cap <<= 1;
	x->slots = calloc(cap, sizeof(*x->slots));
	x->cap = x->slots ? cap : 0;
	x->used = 0;
	return x->slots ? 0 : -1;
}

void
pts_idx_free(struct pts_idx *x)
{
	free(x->slots);
	x->slots = NULL;
	x->cap = x->used = 0;
}

static void
idx_insert(struct pts_idx_slot *slots, size_t cap, uint64_t key, int32_t pos, size_t *used)
{
	size_t i = (size_t)idx_hash(key) & (cap - 1);

	while (slots[i].key != 0) {
		if (slots[i].key == key)
			return; /* first one wins */
		i = (i + 1) & (cap - 1);
	}
	slots[i].key = key;
	slots[i].pos = pos;
	(*used)++;
}

static int
idx_grow(struct pts_idx *x)
{
	size_t cap = x->cap ? x->cap * 2 : 64, i, used = 0;
	struct pts_idx_slot *s;

	if (x->used >= PTS_IDX_MAX_ENTRIES)
		return -1;
	s = calloc(cap, sizeof(*s));
	if (s == NULL)
		return -1;
	for (i = 0; i < x->cap; i++)
		if (x->slots[i].key != 0)
			idx_insert(s, cap, x->slots[i].key, x->slots[i].pos, &used);
	free(x->slots);
	x->slots = s;
	x->cap = cap;
	x->used = used;
	return 0;
}

int
pts_idx_put(struct pts_idx *x, enum pts_idx_kind kind, uint64_t value, int32_t pos)
{
	if (value == 0)
		return 0;
	if ((x->used + 1) * 2 > x->cap && idx_grow(x) != 0)
		return -1;
	idx_insert(x->slots, x->cap, idx_key(kind, value), pos, &x->used);
	return 0;
}

int32_t
pts_idx_get(const struct pts_idx *x, enum pts_idx_kind kind, uint64_t value)
{
	uint64_t key = idx_key(kind, value);
	size_t i;

	if (value == 0 || x->cap == 0)
		return -1;
	for (i = (size_t)idx_hash(key) & (x->cap - 1); x->slots[i].key != 0;
	    i = (i + 1) & (x->cap - 1))
		if (x->slots[i].key == key)
			return x->slots[i].pos;
	return -1;
}

uint64_t
pts_idx_imdb_value(const char *imdb)
{
	uint64_t v = 0;
	const char *p;

	if (imdb == NULL || imdb[0] != 't' || imdb[1] != 't' || imdb[2] == '\0')
		return 0;
	for (p = imdb + 2; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_C(1) << 50))
			return 0;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	/* Keep the digit count: tt0111161 and tt111161 are different ids. */
	return v | ((uint64_t)(p - imdb - 2) << 50);
}

int
pts_idx_put_ids(struct pts_idx *x, const struct pts_ids *ids, int32_t pos)
{
	if (pts_idx_put(x, PTS_IDX_IMDB, pts_idx_imdb_value(ids->imdb), pos) != 0 ||
	    (ids->tmdb > 0 && pts_idx_put(x, PTS_IDX_TMDB, (uint64_t)ids->tmdb, pos) != 0) ||
	    (ids->tvdb > 0 && pts_idx_put(x, PTS_IDX_TVDB, (uint64_t)ids->tvdb, pos) != 0) ||
	    (ids->trakt > 0 && pts_idx_put(x, PTS_IDX_TRAKT, (uint64_t)ids->trakt, pos) != 0))
		return -1;
	return 0;
}

int32_t
pts_idx_get_ids(const struct pts_idx *x, const struct pts_ids *ids)
{
	int32_t pos = pts_idx_get(x, PTS_IDX_IMDB, pts_idx_imdb_value(ids->imdb));

	if (pos < 0 && ids->tmdb > 0)
		pos = pts_idx_get(x, PTS_IDX_TMDB, (uint64_t)ids->tmdb);
	if (pos < 0 && ids->tvdb > 0)
		pos = pts_idx_get(x, PTS_IDX_TVDB, (uint64_t)ids->tvdb);
	if (pos < 0 && ids->trakt > 0)
		pos = pts_idx_get(x, PTS_IDX_TRAKT, (uint64_t)ids->trakt);
	return pos;
}

uint64_t
pts_idx_episode(int32_t show_pos, int season, int episode)
{
	if (show_pos < 0 || season < 0 || episode < 0 || show_pos >= PTS_IDX_EP_SHOWS ||
	    season >= PTS_IDX_EP_SEASONS || episode >= PTS_IDX_EP_EPISODES)
		return 0;
	/* +1 on the show keeps the value non-zero for show 0, season 0 (specials), episode 0. */
	return ((uint64_t)(show_pos + 1) << 31) | ((uint64_t)season << 17) | (uint64_t)episode;
}

/*
 * plan.c - the list of changes a run means to make.
 */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
plan_dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

int
pts_plan_add(struct pts_plan *p, const struct pts_plan_entry *e)
{
	struct pts_plan_entry *d;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		struct pts_plan_entry *v = realloc(p->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		p->v = v;
		p->cap = cap;
	}
	d = &p->v[p->n];
	*d = *e;
	d->title = plan_dup(e->title);
	d->show = plan_dup(e->show);
	d->rating_key = plan_dup(e->rating_key);
	if ((e->title && !d->title) || (e->show && !d->show) || (e->rating_key && !d->rating_key)) {
		free(d->title);
		free(d->show);
		free(d->rating_key);
		return -1;
	}
	p->n++;
	return 0;
}

static int
plan_cmp(const void *a, const void *b)
{
	const struct pts_plan_entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->watched_at < y->watched_at ? 1 : x->watched_at > y->watched_at ? -1 : 0;
}

static void
plan_entry_free(struct pts_plan_entry *e)
{
	free(e->title);
	free(e->show);
	free(e->rating_key);
}

void
pts_plan_dedupe(struct pts_plan *p)
{
	size_t i, out = 0;

	if (p->n < 2)
		return;
	/* Sorted by key, newest view first: the first of each key is the one kept. */
	qsort(p->v, p->n, sizeof(*p->v), plan_cmp);
	for (i = 0; i < p->n; i++) {
		if (out > 0 && strcmp(p->v[out - 1].key, p->v[i].key) == 0) {
			plan_entry_free(&p->v[i]);
			continue;
		}
		p->v[out++] = p->v[i];
	}
	p->n = out;
}

void
pts_plan_free(struct pts_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		plan_entry_free(&p->v[i]);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

void
pts_plan_ids_json(const struct pts_ids *ids, char *buf, size_t len)
{
	size_t off = 0;
	int n;

#define PLAN_PUT(...) do {                                              \
	n = snprintf(buf + off, off < len ? len - off : 0, __VA_ARGS__);   \
	if (n > 0)                                                          \
		off += (size_t)n;                                           \
} while (0)
	PLAN_PUT("{");
	if (ids->trakt > 0)
		PLAN_PUT("%s\"trakt\": %lld", off > 1 ? ", " : "", (long long)ids->trakt);
	if (ids->imdb[0] != '\0')
		PLAN_PUT("%s\"imdb\": \"%s\"", off > 1 ? ", " : "", ids->imdb);
	if (ids->tmdb > 0)
		PLAN_PUT("%s\"tmdb\": %lld", off > 1 ? ", " : "", (long long)ids->tmdb);
	if (ids->tvdb > 0)
		PLAN_PUT("%s\"tvdb\": %lld", off > 1 ? ", " : "", (long long)ids->tvdb);
	PLAN_PUT("}");
#undef PLAN_PUT
	if (off >= len && len > 0)
		snprintf(buf, len, "{}");
}

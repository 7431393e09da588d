/*
 * plan.c - the list of changes a run means to make.
 */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "str.h"

int
pts_plan_add(struct pts_plan *p, const struct pts_plan_entry *e)
{
	struct pts_plan_entry *d;

	if (pts_array_grow(&p->v, &p->cap, p->n, sizeof(*p->v), PTS_PLAN_MAX_ENTRIES,
	    "sync plan") != 0)
		return -1;
	d = &p->v[p->n];
	*d = *e;
	d->title = pts_str_dup(e->title);
	d->show = pts_str_dup(e->show);
	d->rating_key = pts_str_dup(e->rating_key);
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

/*
 * plex_seen.c - the plex_seen table: Plex values with the time we first saw them.
 */
#include "plex_seen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "db.h"
#include "log.h"

static int
seen_row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pts_seen_row *)a)->rating_key,
	    ((const struct pts_seen_row *)b)->rating_key);
}

int
pts_seen_open(struct pts_seen *s, sqlite3 *db, const char *kind, double tolerance)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->tolerance = tolerance;
	st = pts_db_prepare(db, "SELECT rating_key, value, seen_at FROM plex_seen WHERE kind = ?");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *rk = (const char *)sqlite3_column_text(st, 0);
		struct pts_seen_row *r;

		if (rk == NULL)
			continue;
		if (pts_array_grow(&s->rows, &cap, s->nrows, sizeof(*s->rows), PTS_SEEN_MAX_ROWS,
		    "Plex seen rows") != 0)
			goto fail;
		r = &s->rows[s->nrows];
		if ((r->rating_key = strdup(rk)) == NULL)
			goto fail;
		r->value = sqlite3_column_double(st, 1);
		r->seen_at = sqlite3_column_int64(st, 2);
		s->nrows++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		PTS_ERROR("db: reading plex_seen: %s", sqlite3_errmsg(db));
		pts_seen_free(s);
		return -1;
	}
	if (s->nrows > 1)
		qsort(s->rows, s->nrows, sizeof(*s->rows), seen_row_cmp);
	return 0;
fail:
	sqlite3_finalize(st);
	pts_seen_free(s);
	return -1;
}

void
pts_seen_free(struct pts_seen *s)
{
	size_t i;

	for (i = 0; i < s->nrows; i++)
		free(s->rows[i].rating_key);
	for (i = 0; i < s->nops; i++)
		free(s->ops[i].rating_key);
	free(s->rows);
	free(s->ops);
	memset(s, 0, sizeof(*s));
}

static void
seen_meta_key(const struct pts_seen *s, const char *section, char *buf, size_t len)
{
	snprintf(buf, len, "seen_look:%s:%s", s->kind, section);
}

int
pts_seen_section(struct pts_seen *s, sqlite3 *db, const char *section, int64_t now)
{
	char key[96], *v;
	size_t i;

	seen_meta_key(s, section, key, sizeof(key));
	v = pts_db_meta_get(db, key);
	s->prev_look = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	for (i = 0; i < s->nsections; i++)
		if (strcmp(s->sections[i], section) == 0)
			return 0;
	if (s->nsections < PTS_SEEN_MAX_SECTIONS && strlen(section) < PTS_SEEN_SECTION_LEN) {
		snprintf(s->sections[s->nsections], PTS_SEEN_SECTION_LEN, "%s", section);
		s->section_at[s->nsections++] = now;
	}
	return 0;
}

static int
seen_stage(struct pts_seen *s, const char *rating_key, double value, int64_t seen_at, int del)
{
	struct pts_seen_op *o;

	if (pts_array_grow(&s->ops, &s->capops, s->nops, sizeof(*s->ops), PTS_SEEN_MAX_ROWS,
	    "Plex seen changes") != 0)
		return -1;
	o = &s->ops[s->nops];
	if ((o->rating_key = strdup(rating_key)) == NULL)
		return -1;
	o->value = value;
	o->seen_at = seen_at;
	o->del = del;
	s->nops++;
	return 0;
}

int64_t
pts_seen_observe(struct pts_seen *s, const char *rating_key, double value, int64_t added_at,
    int64_t now)
{
	return pts_seen_observe_dated(s, rating_key, value, added_at, 0, now);
}

int64_t
pts_seen_observe_dated(struct pts_seen *s, const char *rating_key, double value,
    int64_t added_at, int64_t set_at, int64_t now)
{
	struct pts_seen_row key = { (char *)rating_key, 0, 0 };
	struct pts_seen_row *row = s->nrows ? bsearch(&key, s->rows, s->nrows, sizeof(*s->rows),
	    seen_row_cmp) : NULL;
	int64_t at;

	if (value < 0) {
		if (row != NULL && seen_stage(s, rating_key, 0, 0, 1) != 0)
			return -1;
		return 0;
	}
	if (row != NULL && fabs(row->value - value) < s->tolerance)
		return row->seen_at;
	/* Changed since we looked, or set since this library's earlier look. */
	at = set_at > 0 ? set_at :
	    row != NULL || (s->prev_look > 0 && added_at < s->prev_look) ? now : 0;
	if (seen_stage(s, rating_key, value, at, 0) != 0)
		return -1;
	return at;
}

int
pts_seen_set(struct pts_seen *s, const char *rating_key, double value, int64_t seen_at)
{
	return seen_stage(s, rating_key, value, seen_at, 0);
}

int
pts_seen_commit(struct pts_seen *s, sqlite3 *db)
{
	sqlite3_stmt *up = NULL;
	char key[96], val[32];
	size_t i;

	if (pts_db_begin(db) != 0)
		return -1;
	up = pts_db_prepare(db, "INSERT INTO plex_seen(rating_key, kind, value, seen_at)"
	    " VALUES(?, ?, ?, ?) ON CONFLICT(rating_key, kind) DO UPDATE SET"
	    " value = excluded.value, seen_at = excluded.seen_at");
	if (up == NULL)
		goto fail;
	/* In staging order: a later op on the same item wins. */
	for (i = 0; i < s->nops; i++) {
		const struct pts_seen_op *o = &s->ops[i];

		if (o->del) {
			if (pts_db_run(db, "DELETE FROM plex_seen WHERE rating_key = ? AND kind = ?",
			    "ss", o->rating_key, s->kind) != 0)
				goto fail;
			continue;
		}
		sqlite3_reset(up);
		sqlite3_bind_text(up, 1, o->rating_key, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 2, s->kind, -1, SQLITE_STATIC);
		sqlite3_bind_double(up, 3, o->value);
		sqlite3_bind_int64(up, 4, o->seen_at);
		if (sqlite3_step(up) != SQLITE_DONE) {
			PTS_ERROR("db: writing plex_seen: %s", sqlite3_errmsg(db));
			goto fail;
		}
	}
	sqlite3_finalize(up);
	up = NULL;
	for (i = 0; i < s->nsections; i++) {
		seen_meta_key(s, s->sections[i], key, sizeof(key));
		snprintf(val, sizeof(val), "%lld", (long long)s->section_at[i]);
		if (pts_db_meta_set(db, key, val) != 0)
			goto fail;
	}
	if (pts_db_commit(db) != 0)
		goto fail;
	return 0;
fail:
	sqlite3_finalize(up);
	pts_db_rollback(db);
	return -1;
}

/*
 * throttle.h - login throttling for the whole service (docs/API.md, password rules): after
 * THROTTLE_MAX_FAILURES wrong passwords within THROTTLE_WINDOW_MS, password checks stop until
 * the oldest of them is a window old. Counted in the database (table login_attempts), so
 * every responder and every client share one count; nothing sleeps.
 *
 * An attempt is counted before its password is checked (throttle_begin) and forgiven when it
 * was right (throttle_forgive): parallel guesses cannot all slip past the count while their
 * checks run. Every function logs its own database failures.
 */
#ifndef PTS_CGI_THROTTLE_H
#define PTS_CGI_THROTTLE_H

#include <sqlite3.h>
#include <stdint.h>

/* Wrong passwords allowed within one window before logins are refused. */
#define THROTTLE_MAX_FAILURES 5
/* The window, in milliseconds. */
#define THROTTLE_WINDOW_MS 60000

/*
 * Ask to check one password at now_ms. 1: go on, the attempt is counted and *attempt names it
 * (for throttle_forgive); 0: refused, *retry_after_s says in how many seconds (at least 1)
 * the window frees a place; -1 on a database error.
 */
int throttle_begin(sqlite3 *db, int64_t now_ms, int64_t *attempt, int64_t *retry_after_s);

/* The attempt's password was right: it no longer counts. 0 or -1. */
int throttle_forgive(sqlite3 *db, int64_t attempt);

#endif

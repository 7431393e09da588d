/*
 * authgen.h - the sign-in generation of a service's auth row (schema step 4: auth.gen).
 *
 * pts-cgi bumps auth.gen on every sign-in start and every sign-out. A client (Plex, Trakt)
 * reads the generation when it loads the token and, before each request and each write of
 * the auth row, checks it is unchanged: once the person signed out, nothing the job still
 * holds (a token, a fresh refresh) is used or stored again, and the job stops as cancelled.
 */
#ifndef PTS_AUTHGEN_H
#define PTS_AUTHGEN_H

#include <stdint.h>

#include "wctx.h"

/* The service's generation ("plex" or "trakt"); -1 when it cannot be read (logged). */
int64_t pts_authgen_read(struct pts_wctx *w, const char *service);

/*
 * 1 while the generation is still gen; 0 when the service was signed out (or signed in
 * anew) since: the job is then marked cancelled (pts_wctx_cancelled() answers 1) and the
 * cause is logged once. A database error counts as still current (the write guards hold).
 */
int pts_authgen_current(struct pts_wctx *w, const char *service, int64_t gen);

#endif
